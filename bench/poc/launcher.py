"""Start/stop the PoC service on a host and talk to it through another host's executor.

The runner process may sit in a different network namespace (or machine) than the hosts,
so health checks and /metrics scrapes run as tiny Python snippets on the load-generator
host, which is where the traffic comes from anyway.
"""

from __future__ import annotations

import time
from typing import Any

from core.environment import DatabaseEndpoint, Host
from core.errors import BakeoffError
from core.executor import BackgroundProcess
from stacks.host_calls import Passfile, free_port, host_python, http_get, run_checked, url_for

# The host calls live in stacks/host_calls.py (stacks/local_function.py needs them too);
# the workloads keep importing them from here.
__all__ = ["Passfile", "PocService", "free_port", "host_python", "http_get", "run_checked",
           "url_for"]


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
