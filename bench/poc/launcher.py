"""Start/stop the PoC service on a host and talk to it through another host's executor.

The runner process may sit in a different network namespace (or machine) than the hosts,
so health checks and /metrics scrapes run as tiny Python snippets on the load-generator
host, which is where the traffic comes from anyway.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from core.environment import DatabaseEndpoint, Host
from core.errors import BakeoffError
from core.executor import BackgroundProcess, Executor
from stacks.executors import ports

REPO_ROOT = Path(__file__).resolve().parents[2]
_GET = ("import sys,urllib.request\n"
        "deadline=float(sys.argv[2])\n"
        "import time\n"
        "end=time.monotonic()+deadline\n"
        "while True:\n"
        "    try:\n"
        "        with urllib.request.urlopen(sys.argv[1], timeout=5) as r:\n"
        "            sys.stdout.write(r.read().decode()); break\n"
        "    except Exception as e:\n"
        "        if time.monotonic()>end: sys.stderr.write(repr(e)); sys.exit(1)\n"
        "        time.sleep(0.1)\n")


def host_python(host: Host) -> tuple[str, dict[str, str]]:
    """The interpreter with bakeoff importable on `host` and the env that makes it so."""
    python = str(host.facts.get("python", sys.executable))
    root = str(host.facts.get("bakeoff_root", REPO_ROOT))
    return python, {"PYTHONPATH": root}


class Passfile:
    """A 0600 libpq passfile for one endpoint on `host`, so no password rides in argv.

    Created empty under umask 077 first, then filled (a copy keeps the file's mode), and
    removed by `remove()`. `env` is what a libpq client (psql, pgbench, psycopg) needs.
    """

    def __init__(self, host: Host, database: DatabaseEndpoint) -> None:
        self.host = host
        base = host.facts.get("scratch_dir") or tempfile.gettempdir()
        self.path = f"{str(base).rstrip('/')}/.bakeoff-pgpass-{uuid.uuid4().hex}"
        run_checked(host.executor, ["sh", "-c", 'umask 077 && : > "$1"', "sh", self.path],
                    f"{host.name}: creating a passfile", timeout=30)
        fd, local = tempfile.mkstemp(prefix=".bakeoff-pgpass-")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(database.passfile_line)
            host.executor.put(Path(local), self.path)
        finally:
            os.unlink(local)

    @property
    def env(self) -> dict[str, str]:
        return {"PGPASSFILE": self.path}

    def remove(self) -> None:
        # a failure here is harmless: the scratch directory goes at teardown anyway
        with contextlib.suppress(Exception):
            self.host.executor.run(["rm", "-f", self.path], timeout=30)

    def __enter__(self) -> Passfile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def free_port(host: Host) -> int:
    python, env = host_python(host)
    return ports.free_port(host.executor, host.address, python, env, what=f"{host.name}: ")


def http_get(via: Host, url: str, wait_s: float = 0.0) -> str:
    """GET `url` from host `via`, retrying for up to `wait_s` seconds."""
    python, env = host_python(via)
    res = via.executor.run([python, "-c", _GET, url, str(wait_s)], timeout=wait_s + 30, env=env)
    if not res.ok:
        raise BakeoffError(f"GET {url} from {via.name} failed: {res.stderr.strip()[-300:]}")
    return res.stdout


def url_for(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}"


class PocService:
    """The checkout service on `host`, against `database`; use as a context manager."""

    def __init__(self, host: Host, database: DatabaseEndpoint, workers: int | None = None,
                 pool_size: int = 10) -> None:
        self.host = host
        self.database = database
        self.workers = workers or int(host.facts.get("vcpus", 1))
        self.pool_size = pool_size
        self.proc: BackgroundProcess | None = None
        self.passfile: Passfile | None = None
        self.url = ""
        self.log = ""

    def start(self, via: Host, ready_timeout_s: float = 60.0) -> str:
        port = free_port(self.host)
        python, env = host_python(self.host)
        self.passfile = Passfile(self.host, self.database)
        env = env | self.passfile.env
        argv = [python, "-m", "bench.poc.serve", "--host", self.host.address, "--port",
                str(port), "--dsn", self.database.conninfo, "--workers", str(self.workers),
                "--pool-size", str(self.pool_size)]
        scratch = self.host.facts.get("scratch_dir")
        if scratch:
            argv += ["--scratch", str(scratch)]
        self.url = url_for(self.host.address, port)
        self.proc = self.host.executor.start(argv, env=env)
        deadline = time.monotonic() + ready_timeout_s
        while True:
            try:
                http_get(via, self.url + "/healthz", wait_s=2.0)
                return self.url
            except BakeoffError as exc:
                if not self.proc.alive() or time.monotonic() > deadline:
                    result = self.stop()
                    raise BakeoffError(f"the PoC service on {self.host.name} did not become "
                                       f"healthy at {self.url}/healthz: {exc}\n"
                                       f"{result[-800:]}") from None

    def stop(self) -> str:
        """Stop the service (whole process group); returns its stderr tail."""
        if self.passfile is not None and self.proc is None:
            self.passfile.remove()
            self.passfile = None
        if self.proc is None:
            return ""
        try:
            result = self.proc.stop()
        finally:
            self.proc = None
            if self.passfile is not None:
                self.passfile.remove()
                self.passfile = None
        self.log = (result.stderr or "")[-4000:]
        return self.log

    def __enter__(self) -> PocService:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def run_checked(executor: Executor, argv: list[str], what: str, timeout: float,
                env: dict[str, str] | None = None) -> str:
    res = executor.run(argv, timeout=timeout, env=env)
    if not res.ok:
        raise BakeoffError(f"{what} failed (rc={res.rc}{', timed out' if res.timed_out else ''})"
                           f": {(res.stderr or res.stdout).strip()[-800:]}")
    return res.stdout
