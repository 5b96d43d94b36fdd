"""Run Locust headless with the HDR plugin on a load-generator host; return the plugin's JSON.

Kept apart from the workload so the performance benchmark (bench.perf.loadgen) drives
exactly the same code path as `bakeoff run`.
"""

from __future__ import annotations

import json
import math
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.poc.launcher import host_python
from core.environment import Host
from core.errors import BakeoffError
from stacks.executors import ports

PLUGIN = Path(__file__).resolve().parent / "_locust_hdr.py"


def check_locustfile(path: str | Path) -> Path:
    """A clear error naming the file when it is missing or not valid Python."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise BakeoffError(f"http-load: locustfile {p} does not exist (params.locustfile)")
    try:
        compile(p.read_text(), str(p), "exec")
    except OSError as exc:
        raise BakeoffError(f"http-load: locustfile {p} cannot be read: {exc.strerror}") from None
    except SyntaxError as exc:
        raise BakeoffError(f"http-load: locustfile {p} has a syntax error at line "
                           f"{exc.lineno}: {exc.msg}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BakeoffError(f"http-load: locustfile {p} is not readable Python: {exc}") from None
    return p


@dataclass
class LocustRun:
    """One headless Locust invocation (closed or constant-rate, optional step shape)."""

    locustfile: Path
    target_url: str
    users: int
    spawn_rate: float
    duration_s: int
    processes: int = 1
    mode: str = "closed"
    rate_rps: float | None = None
    late_threshold_ms: float = 5.0
    shape: list[dict[str, Any]] | None = None
    with_plugin: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    def total_seconds(self) -> float:
        if self.shape:
            return float(sum(s["duration_s"] for s in self.shape))
        return float(self.duration_s)

    def argv(self, python: str, out_path: str,
             master_port: int | None = None) -> tuple[list[str], dict[str, str]]:
        files = str(self.locustfile) + (f",{PLUGIN}" if self.with_plugin else "")
        argv = [python, "-m", "locust", "-f", files, "--headless", "-H", self.target_url,
                "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
                "--stop-timeout", "0"]
        if not self.shape:
            argv += ["-u", str(self.users), "-r", str(self.spawn_rate),
                     "-t", f"{self.duration_s}s"]
        if self.processes > 1:
            argv += ["--processes", str(self.processes)]
            if master_port:  # not Locust's fixed 5557: concurrent runs would collide
                argv += ["--master-bind-host", "127.0.0.1", "--master-bind-port",
                         str(master_port), "--master-host", "127.0.0.1", "--master-port",
                         str(master_port)]
        env = {"BAKEOFF_LOCUST_OUT": out_path, "BAKEOFF_MODE": self.mode,
               "BAKEOFF_LATE_MS": str(self.late_threshold_ms), **self.extra_env}
        if self.mode == "constant-rate":
            env["BAKEOFF_RATE_PER_PROCESS"] = str((self.rate_rps or 0) / self.processes)
        if self.shape:
            env["BAKEOFF_SHAPE"] = json.dumps(self.shape)
        return argv, env

    def run(self, host: Host) -> tuple[dict[str, Any] | None, str]:
        """Run on `host`; returns (plugin document or None without the plugin, stderr tail)."""
        python, env = host_python(host)
        scratch = host.facts.get("scratch_dir")
        out_remote = str(Path(scratch or tempfile.gettempdir())
                         / f"bakeoff-locust-{uuid.uuid4().hex}.json")
        master_port = (ports.free_port(host.executor, "127.0.0.1", python, env,
                                       what="http-load (Locust master): ")
                       if self.processes > 1 else None)
        argv, extra = self.argv(python, out_remote, master_port)
        timeout = self.total_seconds() + 60 + math.ceil(self.users / max(self.spawn_rate, 0.1))
        res = host.executor.run(argv, timeout=timeout, env=env | extra)
        tail = (res.stderr or "")[-3000:]
        if res.timed_out:
            raise BakeoffError(f"http-load: Locust did not finish within {timeout:.0f} s on "
                               f"{host.name}: {tail[-800:]}")
        if not self.with_plugin:
            if res.rc != 0:
                raise BakeoffError(f"http-load: Locust failed (rc={res.rc}): {tail[-800:]}")
            return None, res.stdout + res.stderr
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "locust.json"
            try:
                host.executor.get(out_remote, local)
                doc = json.loads(local.read_text())
            except (OSError, ValueError):
                raise BakeoffError(
                    f"http-load: Locust (rc={res.rc}) on {host.name} wrote no results; "
                    f"its last output:\n{tail[-1500:]}") from None
            finally:
                host.executor.run(["rm", "-f", out_remote], timeout=30)
        return doc, tail
