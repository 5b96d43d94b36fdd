"""LocalPostgres: a real temporary PostgreSQL, always gone after stop (also after failures)."""

from __future__ import annotations

import psycopg
import pytest

from core.errors import BakeoffError, PrerequisiteError
from stacks import local_postgres
from stacks.executors.local import LocalExecutor
from stacks.local_postgres import LocalPostgres
from tests.load_support import assert_nothing_left, processes_matching

pytestmark = pytest.mark.integration


def test_start_connect_stop(tmp_path):
    pg = LocalPostgres(LocalExecutor(), "127.0.0.1", tmp_path / "pg")
    try:
        db = pg.start()
        root = pg.root
        assert db.kind == "local-postgres" and db.host == "127.0.0.1" and db.port > 0
        with psycopg.connect(db.dsn, connect_timeout=10) as conn:
            row = conn.execute("SELECT current_user, current_database(), "
                               "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
                               ).fetchone()
        assert row == ("bakeoff", "bakeoff", False)  # the app role is not a superuser
        with pytest.raises(psycopg.OperationalError):  # password auth is enforced over TCP
            psycopg.connect(db.dsn.replace(db.password, "wrong"), connect_timeout=10)
    finally:
        pg.stop()
    assert not root.exists()
    assert_nothing_left(root)
    pg.stop()  # idempotent


def test_failed_start_leaves_nothing(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is not an address of this machine: binding fails
    pg = LocalPostgres(LocalExecutor(), "192.0.2.1", tmp_path / "pg")
    with pytest.raises(BakeoffError, match="local PostgreSQL"):
        pg.start()
    assert pg.root is None
    assert not list((tmp_path / "pg").iterdir())
    assert processes_matching(str(tmp_path)) == []  # ours only: others may run meanwhile
    assert_nothing_left()


def test_missing_postgres_is_a_prerequisite_error(monkeypatch):
    monkeypatch.setattr(local_postgres.shutil, "which", lambda _name: None)
    monkeypatch.setattr(local_postgres.glob, "glob", lambda _pattern: [])
    with pytest.raises(PrerequisiteError, match="make setup"):
        local_postgres.find_bindir()
