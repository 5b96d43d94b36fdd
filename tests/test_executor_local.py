"""The local executor: output capture, timeouts that kill the whole tree, CPU pinning."""

from __future__ import annotations

import time

import pytest

from core.errors import PrerequisiteError
from stacks.executors.local import LocalExecutor


def test_captures_output_and_exit_code():
    res = LocalExecutor().run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (res.rc, res.stdout, res.stderr.strip()) == (3, "out\n", "err")
    assert not res.ok and not res.timed_out and res.duration_s >= 0


def test_env_is_passed():
    res = LocalExecutor(base_env={"A": "1"}).run(["sh", "-c", "echo $A$B"], 10, {"B": "2"})
    assert res.stdout.strip() == "12"


def test_timeout_kills_process_group(tmp_path):
    marker = tmp_path / "child.pid"
    started = time.monotonic()
    res = LocalExecutor().run(
        ["sh", "-c", f"sleep 30 & echo $! > {marker}; wait"], timeout=0.5)
    assert res.timed_out and time.monotonic() - started < 10
    child = int(marker.read_text())
    time.sleep(0.2)
    assert not _running(child)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may linger if PID 1 does not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_cpu_pinning_is_inherited():
    res = LocalExecutor(cpus=frozenset({0})).run(
        ["python3", "-c", "import os; print(sorted(os.sched_getaffinity(0)))"], timeout=10)
    assert res.stdout.strip() == "[0]"


def test_missing_tool_is_a_clear_error():
    with pytest.raises(PrerequisiteError, match="'no-such-tool-xyz' is not installed"):
        LocalExecutor().run(["no-such-tool-xyz"], timeout=5)


def test_background_process_stop_returns_output():
    bg = LocalExecutor().start(["sh", "-c", "echo ready; sleep 30"])
    time.sleep(0.3)
    assert bg.alive()
    res = bg.stop()
    assert not bg.alive()
    assert "ready" in res.stdout


def test_put_and_get(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("x")
    ex = LocalExecutor()
    ex.put(src, str(tmp_path / "remote" / "b.txt"))
    ex.get(str(tmp_path / "remote" / "b.txt"), tmp_path / "back" / "c.txt")
    assert (tmp_path / "back" / "c.txt").read_text() == "x"
