"""Tool versions and interpreters are resolved on the host that runs the tool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.runner import tool_version
from bench.workloads import REGISTRY
from core.environment import Environment, Host
from stacks.executors.local import LocalExecutor

OTHER_PYTHON = Path("/usr/bin/python3")


def _other_python_lacks_locust() -> bool:
    if not OTHER_PYTHON.exists():
        return False
    res = subprocess.run([str(OTHER_PYTHON), "-c", "import locust"], capture_output=True)
    return res.returncode != 0


@pytest.mark.skipif(not _other_python_lacks_locust(),
                    reason="needs a system python3 without Locust")
def test_locust_version_is_asked_on_the_load_host():
    """The load host's interpreter has no Locust: its version must not be ours."""
    loadgen = Host("loadgen", "z", "127.0.0.1", LocalExecutor(),
                   {"python": str(OTHER_PYTHON)})
    client = Host("client", "z", "127.0.0.1", LocalExecutor(), {})
    env = Environment("s", "local", "local", "t", {"client": client, "server": client,
                                                   "loadgen": loadgen})
    version = tool_version(REGISTRY["http-load"], env)
    assert "No module named locust" in version, version
    # the same call against a host whose interpreter has Locust reports it
    assert tool_version(REGISTRY["http-load"], client).startswith("locust ")
