"""The reads of a WebSocket's connect (its session, its user, the task, the missed events) as SQL
made once, with rows turned into values as the ORM turns them.

A connect storm (a crowd of clients resuming after a restart) runs these four small SELECTs once
per client, and the ORM's building of them cost more than running them (docs/performance.md).
Here each statement is made once per database from the models' own metadata, parameters are
prepared by their fields, and each column goes through the converters the ORM would apply (JSON,
UUIDs and dates on SQLite), so a caller gets what the ORM would have returned (tested on both
databases). `Model.objects.raw()`, which task_statements.py uses for its UPDATE … RETURNING,
converts rows too, but its set-up for each call cost about as much as the statement did here.
"""

from typing import Generic, TypeVar

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.options import Options

_OPERATORS = {"exact": "=", "gt": ">"}


M = TypeVar("M", bound=Model)


def concrete_field(meta: Options, name: str) -> Field:
    """The model's field of that name; a reverse relation has no column to read."""
    field = meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{meta.label}.{name} is a reverse relation, not a column")
    return field


def column(field: Field) -> str:
    """The field's column (every concrete field has one)."""
    if field.column is None:
        raise TypeError(f"{field} has no column")
    return field.column


class ModelReader(Generic[M]):
    """SELECT some of `model`'s fields (all its concrete ones by default) WHERE each condition
    holds, in `order_by` order. A condition is a field's name, for equality, or `name__gt`."""

    def __init__(
        self,
        model: type[M],
        *,
        where: tuple[str, ...],
        fields: tuple[str, ...] | None = None,
        order_by: str | None = None,
    ) -> None:
        meta = model._meta
        self.model = model
        self.fields = (
            [concrete_field(meta, name) for name in fields] if fields else list(meta.concrete_fields)
        )
        self.attnames = [field.attname for field in self.fields]
        self.conditions: list[tuple[Field, str]] = []
        for condition in where:
            name, _, lookup = condition.partition("__")
            self.conditions.append((concrete_field(meta, name), _OPERATORS[lookup or "exact"]))
        self.order_by = concrete_field(meta, order_by) if order_by else None
        self._prepared: dict[str, tuple[str, list]] = {}

    def rows(self, *values) -> list[list]:
        """The rows where the conditions hold for `values` (one per condition, in order), as
        lists of Python values in `fields` order."""
        return self._read(router.db_for_read(self.model), values)

    def instances(self, *values) -> list[M]:
        """As rows(), made into model instances (all fields must have been read)."""
        alias = router.db_for_read(self.model)
        return [self.model.from_db(alias, self.attnames, row) for row in self._read(alias, values)]

    def _read(self, alias: str, values: tuple) -> list[list]:
        connection = connections[alias]
        sql, converters = self._statement(alias)
        params = [
            field.get_db_prep_value(value, connection)
            for (field, _), value in zip(self.conditions, values, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [_converted(row, converters, connection) for row in cursor.fetchall()]

    def _statement(self, alias: str) -> tuple[str, list]:
        prepared = self._prepared.get(alias)
        if prepared is None:
            prepared = self._prepared[alias] = self._prepare(connections[alias])
        return prepared

    def _prepare(self, connection) -> tuple[str, list]:
        quote = connection.ops.quote_name
        table = self.model._meta.db_table
        conditions = " AND ".join(f"{quote(column(field))} {op} %s" for field, op in self.conditions)
        sql = (
            f"SELECT {', '.join(quote(column(field)) for field in self.fields)} FROM {quote(table)} "
            f"WHERE {conditions}"
        )
        if self.order_by is not None:
            sql += f" ORDER BY {quote(column(self.order_by))}"
        converters = []
        for field in self.fields:
            expression = field.get_col(table)
            functions = [
                *connection.ops.get_db_converters(expression),
                *expression.get_db_converters(connection),
            ]
            converters.append((expression, functions) if functions else None)
        return sql, converters


def _converted(row, converters: list, connection) -> list:
    values = list(row)
    for index, entry in enumerate(converters):
        if entry is not None:
            expression, functions = entry
            for function in functions:
                values[index] = function(values[index], expression, connection)
    return values
