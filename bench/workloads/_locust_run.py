"""Run Locust headless with the HDR plugin on load-generator hosts; return the plugin's JSON.

One host: `--processes N` (Locust forks a local master and N workers). Several hosts
(cloud sites with `loadgen: N`): distributed mode, the master on the first host and
`--worker --processes n` on every host, so every load-generator core sends load; the
plugin merges the workers' histograms exactly either way. The locustfile and the plugin
are copied to each host's scratch directory first: a cloud VM does not share this
machine's files.

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
from core.executor import BackgroundProcess, CommandResult, stage_file
from stacks.executors import ports

PLUGIN = Path(__file__).resolve().parent / "_locust_hdr.py"
WORKERS_MAX_WAIT_S = 120  # remote workers connect within this, or the run fails


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
    interval_s: int = 1  # per-interval histograms (bench.workloads._locust_intervals)
    rate_steps: list[tuple[float, float]] | None = None  # constant-rate: (req/s, seconds)
    shaped: bool = False  # a shape class of the plugin drives the users (calibration)
    extra_env: dict[str, str] = field(default_factory=dict)
    # distributed mode: (host, worker processes) for every load-generator host
    workers: list[tuple[Host, int]] = field(default_factory=list)

    @property
    def worker_processes(self) -> int:
        return sum(n for _, n in self.workers) if self.workers else self.processes

    def total_seconds(self) -> float:
        if self.shape:
            return float(sum(s["duration_s"] for s in self.shape))
        return float(self.duration_s)

    @property
    def files(self) -> list[Path]:
        """What Locust loads: the locustfile, then bakeoff's plugin (unless turned off)."""
        return [self.locustfile, *([PLUGIN] if self.with_plugin else [])]

    def argv(self, python: str, out_path: str, master_port: int | None = None,
             files: str | None = None) -> tuple[list[str], dict[str, str]]:
        """One host's Locust (master and local workers); `files` as staged on that host."""
        files = files or ",".join(map(str, self.files))
        argv = [python, "-m", "locust", "-f", files, "--headless", "-H", self.target_url,
                "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
                "--stop-timeout", "0"]
        if not (self.shape or self.shaped):
            argv += ["-u", str(self.users), "-r", str(self.spawn_rate),
                     "-t", f"{self.duration_s}s"]
        if self.processes > 1 and not self.workers:
            argv += ["--processes", str(self.processes)]
            if master_port:  # not Locust's fixed 5557: concurrent runs would collide
                argv += ["--master-bind-host", "127.0.0.1", "--master-bind-port",
                         str(master_port), "--master-host", "127.0.0.1", "--master-port",
                         str(master_port)]
        return argv, self.plugin_env(out_path)

    def plugin_env(self, out_path: str = "") -> dict[str, str]:
        """The plugin's configuration; forked and remote workers read it too."""
        env = {"BAKEOFF_LOCUST_OUT": out_path, "BAKEOFF_MODE": self.mode,
               "BAKEOFF_LATE_MS": str(self.late_threshold_ms), **self.extra_env}
        env["BAKEOFF_INTERVAL_S"] = str(self.interval_s)
        if self.mode == "constant-rate":
            env["BAKEOFF_RATE_PER_PROCESS"] = str((self.rate_rps or 0) / self.worker_processes)
            if self.rate_steps:
                env["BAKEOFF_RATE_STEPS"] = json.dumps(
                    [[r / self.worker_processes, d] for r, d in self.rate_steps])
        if self.shape:
            env["BAKEOFF_SHAPE"] = json.dumps(self.shape)
        return env

    def stage(self, host: Host) -> str:
        """Copy the locustfile (and the plugin) to `host`; Locust's `-f` value there."""
        scratch = host.facts.get("scratch_dir")
        if not scratch:  # this machine's own processes: the files are here already
            return ",".join(map(str, self.files))
        run_dir = f"{str(scratch).rstrip('/')}/locust-{uuid.uuid4().hex[:12]}"
        try:
            return ",".join(stage_file(host.executor, p, f"{run_dir}/{p.name}")
                            for p in self.files)
        except BakeoffError as e:
            raise BakeoffError(f"http-load on {host.name}: {e}") from None

    def timeout_s(self) -> float:
        return self.total_seconds() + 60 + math.ceil(self.users / max(self.spawn_rate, 0.1))

    def run(self, host: Host) -> tuple[dict[str, Any] | None, str]:
        """Run with `host` as the master (or only) host; returns (plugin document or None
        without the plugin, stderr tail)."""
        python, env = host_python(host)
        scratch = host.facts.get("scratch_dir")
        out_remote = str(Path(scratch or tempfile.gettempdir())
                         / f"bakeoff-locust-{uuid.uuid4().hex}.json")
        files = self.stage(host)
        if self.workers:
            res, tail = self._run_distributed(host, python, env, files, out_remote)
        else:
            master_port = (ports.free_port(host.executor, "127.0.0.1", python, env,
                                           what="http-load (Locust master): ")
                           if self.processes > 1 else None)
            argv, extra = self.argv(python, out_remote, master_port, files)
            res = host.executor.run(argv, timeout=self.timeout_s(), env=env | extra)
            tail = (res.stderr or "")[-3000:]
        if res.timed_out:
            raise BakeoffError(f"http-load: Locust did not finish within {self.timeout_s():.0f}"
                               f" s on {host.name}: {tail[-800:]}")
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

    def _run_distributed(self, master: Host, python: str, env: dict[str, str], files: str,
                         out_remote: str) -> tuple[CommandResult, str]:
        """Master on `master` (its private address), `--worker` on every load host."""
        port = ports.free_port(master.executor, master.address, python, env,
                               what=f"http-load (Locust master on {master.name}): ")
        argv, extra = self.argv(python, out_remote, files=files)
        argv += ["--master", "--master-bind-host", master.address, "--master-bind-port",
                 str(port), "--expect-workers", str(self.worker_processes),
                 "--expect-workers-max-wait", str(WORKERS_MAX_WAIT_S)]
        started: list[tuple[Host, BackgroundProcess]] = []
        tails: list[str] = []
        try:
            for host, n in self.workers:
                wpython, wenv = host_python(host)
                wfiles = files if host is master else self.stage(host)  # staged there already
                wargv = [wpython, "-m", "locust", "-f", wfiles, "--worker",
                         "--master-host", master.address, "--master-port", str(port),
                         "-H", self.target_url, "--loglevel", "WARNING"]
                if n > 1:
                    wargv += ["--processes", str(n)]
                started.append((host, host.executor.start(wargv, env=wenv | self.plugin_env())))
            res = master.executor.run(argv, timeout=self.timeout_s() + WORKERS_MAX_WAIT_S,
                                      env=env | extra)
        finally:
            for host, proc in started:
                try:
                    done = proc.stop()
                    tails.append(f"[worker {host.name}] {(done.stderr or '')[-600:]}")
                except Exception as e:  # a gone host must not hide the master's result
                    tails.append(f"[worker {host.name}] could not be stopped: {e}")
        return res, ((res.stderr or "")[-2000:] + "\n" + "\n".join(tails))[-3000:]
