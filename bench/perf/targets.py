"""Local HTTP targets for benchmarks and tests: nginx (static) and a fixed-delay server.

Both listen on 127.0.0.1 on a free port, run in their own process group, and are always
stopped (context managers), so nothing outlives a benchmark or a failing test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import BakeoffError
from stacks.executors.local import PrerequisiteError, kill_group

REPO_ROOT = Path(__file__).resolve().parents[2]

NGINX_CONF = """\
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ default_type text/plain; return 200 "ok\\n"; }}
    }}
}}
"""


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout_s: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BakeoffError(f"target exited early (rc={proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BakeoffError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def _pin(cpus: set[int] | None):
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


@contextmanager
def nginx_static(workers: int = 1, cpus: set[int] | None = None) -> Iterator[str]:
    """nginx answering 200 "ok" to everything; yields its base URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(binary):
        raise PrerequisiteError("nginx is not installed; `make setup` installs nginx-light")
    prefix = Path(tempfile.mkdtemp(prefix="bakeoff-nginx-"))
    port = free_port()
    (prefix / "nginx.conf").write_text(NGINX_CONF.format(workers=workers, prefix=prefix,
                                                         port=port))
    proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=_pin(cpus))
    try:
        wait_port(port, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        kill_group(proc, grace_s=5.0)
        shutil.rmtree(prefix, ignore_errors=True)


@contextmanager
def delay_target(delay_ms: float = 20.0, cpus: set[int] | None = None,
                 slow: tuple[float, float, float] | None = None) -> Iterator[str]:
    """The fixed-delay server (bench.perf.delay_server); yields its base URL. `slow` =
    (from, until, ms): requests received in that epoch window wait `ms` instead."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    extra = (["--slow-from", str(slow[0]), "--slow-until", str(slow[1]), "--slow-ms",
              str(slow[2])] if slow else [])
    proc = subprocess.Popen([sys.executable, "-m", "bench.perf.delay_server", "--port",
                             str(port), "--delay-ms", str(delay_ms), *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, preexec_fn=_pin(cpus))
    try:
        wait_port(port, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        kill_group(proc, grace_s=5.0)
