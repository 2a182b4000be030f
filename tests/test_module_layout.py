"""The shape of tasks_app: no module-level import cycle, and each package importing only what its
__init__ says it may."""

from pathlib import Path

import tasks_app
from tests.import_graph import cycles, module_imports

ROOT = Path(tasks_app.__file__).parent


def graph() -> dict[str, set[str]]:
    return module_imports(ROOT, "tasks_app")


def test_no_module_of_tasks_app_imports_itself_through_others_at_module_level():
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle_through_a_from_import(tmp_path):
    package = tmp_path / "pkg"
    (package / "work").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "work" / "__init__.py").write_text("")
    (package / "progress.py").write_text("from pkg import services\n")
    (package / "services.py").write_text("from pkg.work import registry\n")
    (package / "work" / "registry.py").write_text(
        "def f():\n    from pkg import services\nfrom pkg import progress\n"
    )

    assert cycles(module_imports(package, "pkg")) == [["pkg.progress", "pkg.services", "pkg.work.registry"]]


def test_imports_inside_functions_and_for_type_checking_do_not_count(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
        "def later():\n    from pkg import a\n"
    )

    assert cycles(module_imports(package, "pkg")) == []


def imported_by(package: str) -> set[str]:
    return {
        target
        for module, targets in graph().items()
        if module == package or module.startswith(package + ".")
        for target in targets
        if not (target == package or target.startswith(package + "."))
    }


def test_the_database_package_imports_only_the_models():
    assert imported_by("tasks_app.db") <= {"tasks_app.models"}


def test_the_work_modules_are_handed_their_reporter_and_never_import_progress_or_services():
    assert not imported_by("tasks_app.work") & {"tasks_app.progress", "tasks_app.services"}


def test_real_time_delivery_never_writes_through_services():
    assert "tasks_app.services" not in imported_by("tasks_app.realtime")
    assert "tasks_app.services" not in imported_by("tasks_app.access")


def test_server_tuning_imports_only_realtime_from_tasks_app():
    assert all(target.startswith("tasks_app.realtime.") for target in imported_by("tasks_app.server"))
