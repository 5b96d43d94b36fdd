"""Shared helpers for the load-stage tests: a real PostgreSQL, local environments, and
checks that nothing we started (postgres, uvicorn, locust, nginx) outlives a test."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from core.environment import DatabaseEndpoint, Environment, Host
from stacks.executors.local import LocalExecutor

PLAIN_LOCUSTFILE = """\
from locust import FastHttpUser, task


class Plain(FastHttpUser):
    @task
    def get(self):
        self.client.get("/")
"""


def local_env(db: DatabaseEndpoint | None, loadgen_cpus: frozenset[int] | None = None,
              server_cpus: frozenset[int] | None = None,
              scratch: Path | None = None) -> Environment:
    """Loopback environment: client, server and loadgen on 127.0.0.1.

    `scratch` (a test's own tmp_path) appears in the service's command line, so a test can
    look for *its* processes only."""
    def host(name: str, cpus: frozenset[int] | None) -> Host:
        facts: dict = {"vcpus": len(cpus) if cpus else 2}
        if scratch is not None:
            facts["scratch_dir"] = str(scratch)
        return Host(name, "local-a", "127.0.0.1", LocalExecutor(cpus=cpus), facts)
    return Environment("test", "local", "local", "local-2cpu",
                       {"client": host("client", None), "server": host("server", server_cpus),
                        "loadgen": host("loadgen", loadgen_cpus)}, db)


def live_descendants() -> list[psutil.Process]:
    """Children of this test process that are still running (zombies do not count)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def processes_matching(text: str) -> list[str]:
    """Command lines of live processes containing `text` (e.g. a temp data dir)."""
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and text in " ".join(
                    p.info["cmdline"] or []):
                found.append(" ".join(p.info["cmdline"]))
        except psutil.NoSuchProcess:
            pass
    return found


def assert_nothing_left(marker: str | Path | None = None, wait_s: float = 5.0) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        kids = live_descendants()
        stray = processes_matching(str(marker)) if marker else []
        if not kids and not stray:
            return
        if time.monotonic() > deadline:
            names = [" ".join(k.cmdline()[:4]) for k in kids] + stray
            raise AssertionError(f"processes left running: {names}")
        time.sleep(0.1)
