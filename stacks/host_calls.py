"""Small calls on a Host through its executor: its Python, a libpq passfile, a free port,
an HTTP GET from that host, and a command that must succeed.

Shared by the measuring side (bench/poc/launcher.py re-exports them for the PoC service and
the workloads) and the provisioning side (stacks/local_function.py), so stacks need not
import bench. Everything runs through `host.executor`, because the runner may sit in
another network namespace (or machine) than the host.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from core.environment import DatabaseEndpoint, Host
from core.errors import BakeoffError
from core.executor import Executor
from stacks.executors import ports

REPO_ROOT = Path(__file__).resolve().parents[1]
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


def run_checked(executor: Executor, argv: list[str], what: str, timeout: float,
                env: dict[str, str] | None = None) -> str:
    res = executor.run(argv, timeout=timeout, env=env)
    if not res.ok:
        raise BakeoffError(f"{what} failed (rc={res.rc}{', timed out' if res.timed_out else ''})"
                           f": {(res.stderr or res.stdout).strip()[-800:]}")
    return res.stdout
