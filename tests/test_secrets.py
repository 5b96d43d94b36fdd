"""Database passwords reach the right server and nothing else.

A password with `@ / : #` must connect to the right host and port (the DSN was not
URL-encoded), and no password may appear in a command line, a log, a raw output or a
report: a real local campaign with http-load and db-query runs with a planted,
secret-shaped password while a watcher reads the argv of every process on the machine
and every file under the campaign's temporary directories; afterwards every file the
campaign wrote is scanned too.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

import psutil
import psycopg
import pytest

import stacks.local_postgres as local_postgres
from core.environment import DatabaseEndpoint
from tests.conftest import requires_tools

pytestmark = requires_tools("pgbench", "psql", "pg_ctlcluster")

# Files allowed to hold the password: 0600 files made to carry it to libpq/psql.
ALLOWED_SECRET_FILES = (".bakeoff-pgpass-", "create-role.sql")


def _secret() -> tuple[str, str]:
    """A password with reserved characters, and its random core that any encoding of it
    (URL, conninfo quoting, JSON escaping) still contains."""
    core = uuid.uuid4().hex[:16]
    return f"Zq9@x/y:z#{core}'\\S3CR3T", core


def test_dsn_encodes_reserved_characters():
    db = DatabaseEndpoint("db.internal", 6543, "app user", "p@ss/w:rd#1", "shop/db", "x")
    parts = psycopg.conninfo.conninfo_to_dict(db.dsn)
    assert parts == {"host": "db.internal", "port": "6543", "user": "app user",
                     "password": "p@ss/w:rd#1", "dbname": "shop/db"}
    assert psycopg.conninfo.conninfo_to_dict(db.conninfo) == {
        "host": "db.internal", "port": "6543", "user": "app user", "dbname": "shop/db"}
    assert "p@ss" not in repr(db) and "p@ss" not in db.conninfo


def test_reserved_characters_connect_to_the_right_server(tmp_path, monkeypatch):
    """Real PostgreSQL with a planted password: the URL DSN and conninfo+passfile work."""
    from stacks.executors.local import LocalExecutor
    from tests.load_support import assert_nothing_left

    secret, _ = _secret()
    monkeypatch.setattr(local_postgres, "new_password", lambda: secret)
    pg = local_postgres.LocalPostgres(LocalExecutor(), "127.0.0.1", tmp_path / "pg")
    db = pg.start()
    try:
        with psycopg.connect(db.dsn, connect_timeout=10) as conn:
            assert conn.execute("SELECT inet_server_port()").fetchone()[0] == db.port
            assert conn.info.user == "bakeoff"
        passfile = tmp_path / "pgpass"
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(db.passfile_line)
        res = subprocess.run(["psql", db.conninfo, "-Atc", "SELECT current_user"],
                             capture_output=True, text=True, timeout=30,
                             env={**os.environ, "PGPASSFILE": str(passfile)})
        assert res.returncode == 0 and res.stdout.strip() == "bakeoff", res.stderr
    finally:
        root = pg.root
        pg.stop()
        assert_nothing_left(root)


class _Watcher:
    """Reads every process's argv and every file under `root` until stopped."""

    def __init__(self, core: str, root: Path) -> None:
        self.secret = core
        self.needle = core.encode()
        self.root = root
        self.leaks: list[str] = []
        self.argv_checks = 0
        self.files_seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._scan_processes()
            self._scan_files()
            self._stop.wait(0.1)

    def _scan_processes(self) -> None:
        for p in psutil.process_iter(["pid", "cmdline"]):
            cmd = " ".join(p.info.get("cmdline") or [])
            self.argv_checks += 1
            if self.secret in cmd:
                self.leaks.append(f"argv of pid {p.info['pid']}: {cmd[:200]}")

    def _scan_files(self) -> None:
        for dirpath, _, files in os.walk(self.root):
            for name in files:
                path = Path(dirpath) / name
                try:
                    if path.stat().st_size > 20_000_000:
                        continue
                    data = path.read_bytes()
                    mode = stat.S_IMODE(path.stat().st_mode)
                except OSError:
                    continue  # gone or not ours to read: postgres internals
                self.files_seen.add(str(path))
                if self.needle in data and not (
                        name.startswith(ALLOWED_SECRET_FILES) and mode == 0o600):
                    self.leaks.append(f"file {path} (mode {mode:o})")


@pytest.mark.integration
def test_planted_password_never_leaks_from_a_campaign(tmp_path, monkeypatch):
    from bench.orchestrator import Orchestrator
    from bench.results import load_results
    from bench.scenarios import parse_campaign
    from scoring.decide import score_campaign_dir

    secret, core = _secret()
    monkeypatch.setattr(local_postgres, "new_password", lambda: secret)
    # every temporary directory of the campaign (scratch dirs, PostgreSQL, background
    # process logs, passfiles) lands here; PostgreSQL's user must be able to traverse it
    scratch_root = Path(tempfile.mkdtemp(prefix="bakeoff-secret-test-", dir="/tmp"))
    scratch_root.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))
    campaign = parse_campaign({
        "name": "secrets", "repetitions": 1,
        "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.01,
                   "database": {}}],
        "workloads": [{"name": "http-load", "params": {"users": 2, "spawn_rate": 20,
                                                        "duration_s": 2, "processes": 1}},
                      {"name": "db-query", "params": {"clients": 2, "duration_s": 2}}],
        "criteria": [{"name": "http_p99", "weight": 4}, {"name": "tco", "weight": 3}]})
    results = tmp_path / "results"
    try:
        with _Watcher(core, scratch_root) as watcher:
            folder = Orchestrator(campaign, results, quiet=True).run()
        r = load_results(folder)
        assert {k: u["status"] for k, u in r.manifest["units"].items()} == {
            "a/http-load/0": "ok", "a/db-query/0": "ok"}, r.manifest["units"]
        # scoring must run: its files (scores, report) are scanned below, and a scoring
        # error swallowed here would let the leak scan pass over files never written
        scored = score_campaign_dir(folder)
        for path in scored.written.values():
            assert Path(path).is_file() and Path(path).stat().st_size > 0, path
        assert (folder / "scores").is_dir() and (folder / "report").is_dir()
        assert any(p.suffix == ".html" for p in (folder / "report").rglob("*"))
        assert any(p.suffix == ".json" for p in (folder / "scores").rglob("*"))
        assert watcher.argv_checks > 100
        assert any("postgres" in f for f in watcher.files_seen)  # the watcher saw the run
        written = [p for p in results.rglob("*") if p.is_file()]
        assert any(p.suffix == ".json" and "raw" in p.parts for p in written)
        assert {str(Path(p)) for p in scored.written.values()} <= {str(p) for p in written}
        leaks = list(watcher.leaks)
        leaks += [str(p) for p in written if core.encode() in p.read_bytes()]
        assert leaks == []
        doc = (folder / "raw" / "a" / "http-load" / "0.json").read_text()
        assert '"locust_version": "locust 2.' in doc
        assert not list(scratch_root.rglob(".bakeoff-pgpass-*"))  # passfiles removed
    finally:
        import shutil

        shutil.rmtree(scratch_root, ignore_errors=True)
