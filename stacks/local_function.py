"""The local function site: the front of bench.serverless.front on the site's server host.

Started by the local provisioner when a local site has `serverless:`, after its
PostgreSQL: the PoC schema is loaded, a passfile is written (no password in argv), and
the front runs in the server's namespace and CPU envelope, so every instance it starts
(a cold start) is a real process start plus the function's real init against the
site's database. `stop` ends the front's process group, instances included. These are
local reference figures, not a cloud's: env.notes["function"] says so.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from core.environment import DatabaseEndpoint, Host
from core.errors import BakeoffError, PrerequisiteError
from core.executor import BackgroundProcess
from core.functions import FUNCTION_NAMES
from stacks.host_calls import Passfile, free_port, host_python, http_get, run_checked, url_for

LABEL = "local reference (a process start plus real init on this machine), not a cloud figure"


class LocalFunctionSite:
    """The front and its passfile; `start` returns what goes into env.notes["function"]."""

    def __init__(self, host: Host, database: DatabaseEndpoint, idle_s: float,
                 max_instances: int, pool_size: int, runtime: str = "python") -> None:
        self.host = host
        self.database = database
        self.idle_s = idle_s
        self.max_instances = max_instances
        self.pool_size = pool_size
        self.runtime = runtime
        self.proc: BackgroundProcess | None = None
        self.passfile: Passfile | None = None

    def start(self, ready_timeout_s: float = 60.0) -> dict[str, Any]:
        python, env = host_python(self.host)
        self.passfile = Passfile(self.host, self.database)
        env = env | self.passfile.env
        run_checked(self.host.executor, [python, "-m", "bench.poc.db", "--dsn",
                                         self.database.conninfo],
                    "function site: loading the PoC schema", timeout=120, env=env)
        port = free_port(self.host)
        url = url_for(self.host.address, port)
        argv = [python, "-m", "bench.serverless.front", "--address", self.host.address,
                "--port", str(port), "--idle-s", f"{self.idle_s:g}", "--max-instances",
                str(self.max_instances), "--conninfo", self.database.conninfo,
                "--pool-size", str(self.pool_size)]
        if self.host.facts.get("scratch_dir"):
            argv += ["--scratch", str(self.host.facts["scratch_dir"])]
        if self.runtime == "node":
            argv += ["--runtime", "node", "--node-modules", self._node_modules()]
        self.proc = self.host.executor.start(argv, env=env)
        deadline = time.monotonic() + ready_timeout_s
        while True:
            try:
                http_get(self.host, url + "/healthz", wait_s=2.0)
                break
            except BakeoffError as exc:
                if not self.proc.alive() or time.monotonic() > deadline:
                    log = self.stop()
                    raise BakeoffError(f"the function site's front on {self.host.name} did "
                                       f"not answer {url}/healthz: {exc}\n{log[-800:]}") from None
        return {"kind": "local-function", "url": url, "functions": sorted(FUNCTION_NAMES),
                "runtime": self.runtime,
                "idle_s": self.idle_s, "max_instances": self.max_instances,
                "pool_size": self.pool_size, "label": LABEL}

    def _node_modules(self) -> str:
        """The node handler's `pg`, unpacked from integrity-checked npm tarballs into the
        site's scratch directory (a local site's hosts share this machine's files); a
        missing `node` is named before anything starts."""
        from stacks.cloud.fn_node import NodeDepsError, install, tarballs

        try:  # a local executor refuses a program not on PATH before running it
            res = self.host.executor.run(["node", "--version"], timeout=30)
            why = "" if res.ok else (res.stderr or res.stdout).strip()[-200:] or f"exit {res.rc}"
        except PrerequisiteError as e:
            why = str(e).split(";")[0]
        if why:
            raise PrerequisiteError(
                f"serverless.runtime: node needs Node.js on this machine (`node --version`: "
                f"{why}); install it (apt-get install nodejs npm, or "
                "scripts/install-system-tools.sh test) or use runtime: python")
        scratch = self.host.facts.get("scratch_dir")
        if not scratch:
            raise BakeoffError(f"{self.host.name}: no scratch directory for node_modules")
        try:
            source = tarballs(["pg"])
            assert source is not None
            return str(install(["pg"], source, Path(str(scratch)) / "fn-node"))
        except NodeDepsError as e:
            raise PrerequisiteError(f"serverless.runtime: node: {e}") from None

    def stats(self, via: Host, url: str) -> dict[str, Any]:
        return json.loads(http_get(via, url + "/_admin/stats"))

    def stop(self) -> str:
        """Stop the front and every instance (one process group); its stderr tail."""
        log = ""
        if self.proc is not None:
            try:
                log = (self.proc.stop().stderr or "")[-4000:]
            finally:
                self.proc = None
        if self.passfile is not None:
            self.passfile.remove()
            self.passfile = None
        return log
