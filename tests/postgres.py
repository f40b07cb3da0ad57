"""The PostgreSQL server the tests run the SQL target on, and a fresh database per test.

Where the server comes from, in order: $CRMCONF_TEST_POSTGRES_URL (`make test` sets it,
see scripts/postgres.sh), a server `scripts/postgres.sh start` left running, and — as
root — a private one started for this session. Without any, tests on PostgreSQL are
skipped with the reason, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from crmconf.targets.sandbox.admin import init_sandbox

VARIABLE = "CRMCONF_TEST_POSTGRES_URL"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"
CONNECT_TIMEOUT = 5


def unavailable(reason: str) -> None:
    """Skip (or in CI fail) a test that needs PostgreSQL, saying why there is none."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def conninfo(url: str) -> str:
    """A SQLAlchemy URL as libpq understands it (no `+driver`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def find_server(stack: ExitStack) -> str:
    """The server's URL (its role may create databases); skips or fails when there is none."""
    given = os.environ.get(VARIABLE)
    if given:
        _check(given, f"{VARIABLE} names {make_url(given).render_as_string()}")
        return given
    running = subprocess.run(["bash", SCRIPT, "url"], capture_output=True, text=True, check=False)
    if running.returncode == 0:
        return running.stdout.strip()
    if os.geteuid() != 0:
        unavailable(
            f"no server ({VARIABLE} unset, none running, not root to start one); "
            "see README, PostgreSQL"
        )
    folder = tempfile.mkdtemp(prefix="crmconf-postgres-pytest.")
    env = {**os.environ, "CRMCONF_PG_DIR": folder}
    started = subprocess.run(["bash", SCRIPT, "start"], capture_output=True, text=True, env=env)
    stack.callback(subprocess.run, ["bash", SCRIPT, "stop"], env=env, check=False)
    if started.returncode != 0:
        unavailable(f"scripts/postgres.sh start failed: {started.stderr.strip()}")
    return started.stdout.strip()


def _check(url: str, where: str) -> None:
    try:
        psycopg.connect(conninfo(url), connect_timeout=CONNECT_TIMEOUT).close()
    except psycopg.Error as error:
        unavailable(f"{where}, which is not reachable: {str(error).strip()}")


class Databases:
    """Creates and drops the per-test databases on one server."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.admin = psycopg.connect(conninfo(server), autocommit=True)
        self.demo: str | None = None
        self.empty: str | None = None

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """A new empty database for one test, dropped afterwards (even with connections)."""
        name = f"crmconf_test_{uuid.uuid4().hex[:16]}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self._url(name)
        finally:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def empty_copy(self, url: str) -> None:
        """Make the (still unused) database at `url` an empty sandbox: a copy of one laid
        out once, as `demo_copy` does for the demo company."""
        if self.empty is None:
            name = f"crmconf_test_empty_{uuid.uuid4().hex[:16]}"
            self.admin.execute(f'CREATE DATABASE "{name}"')
            self.empty = name
            init_sandbox(self._url(name))
        self._copy(self.empty, url)

    def demo_copy(self, url: str) -> None:
        """Make the (still unused) database at `url` a copy of the demo company: copying a
        database loaded once is ten times faster than loading each anew."""
        if self.demo is None:
            name = f"crmconf_test_demo_{uuid.uuid4().hex[:16]}"
            self.admin.execute(f'CREATE DATABASE "{name}"')
            self.demo = name
            init_sandbox(self._url(name), demo=True)
        self._copy(self.demo, url)

    def _copy(self, template: str, url: str) -> None:
        name = make_url(url).database
        self.admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def _url(self, name: str) -> str:
        return make_url(self.server).set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        for template in (self.demo, self.empty):
            if template is not None:
                self.admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        self.admin.close()


def rows(url: str, query: str, *parameters: Any) -> list[tuple[Any, ...]]:
    """Run one statement on a PostgreSQL sandbox with psycopg alone (never crmconf's code),
    committed; `?` placeholders as in sqlite3. Returns its rows, if it has any."""
    with psycopg.connect(conninfo(url)) as connection:
        cursor = connection.execute(query.replace("?", "%s"), parameters or None)
        return cursor.fetchall() if cursor.description is not None else []


def tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a PostgreSQL sandbox, row by row in key order, read with psycopg."""
    with psycopg.connect(conninfo(url)) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            name: sorted(connection.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
        }
