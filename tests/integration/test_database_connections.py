"""The web process holds no database connection per request: under ASGI each request runs in a
thread of its own, so a connection kept past the request is never reused."""

import pytest

from django.db import connection

from tests.processes import log_in

pytestmark = pytest.mark.integration


def open_connections_to_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_many_api_requests_leave_no_database_connection_open_behind_them(daphne_server, live_user):
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL's connections")
    http = log_in(daphne_server.base_url, live_user)
    before = open_connections_to_this_database()

    for _ in range(40):
        assert http.get(f"{daphne_server.base_url}/api/tasks/", timeout=10).status_code == 200
    after = open_connections_to_this_database()

    assert after <= before + 1, f"{after - before} connections were left open by 40 requests"
