"""Tool versions and interpreters are resolved on the host that runs the tool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.runner import tool_version
from bench.workloads import REGISTRY
from core.environment import Environment, Host
from stacks.executors.local import LocalExecutor
from tests.conftest import requires_tools

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


@requires_tools("pgbench")
def test_missing_python_libraries_are_named_per_host_before_any_unit(tmp_path):
    """A load host whose interpreter sees no site-packages (`python -S`) lacks Locust and
    psycopg: the check names that host and those modules, and nothing for the server."""
    import sys

    from bench.preflight import check_remote_tools
    from bench.scenarios import parse_campaign
    from core.errors import PrerequisiteError
    bare = tmp_path / "python-bare"
    bare.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    bare.chmod(0o755)
    full = {"python": sys.executable}
    server = Host("server", "z1", "127.0.0.1", LocalExecutor(), full)
    client = Host("client", "z2", "127.0.0.1", LocalExecutor(), full)
    loadgen = Host("loadgen", "z2", "127.0.0.1", LocalExecutor(), {"python": str(bare)})
    env = Environment("s", "static", "r", "t", {"server": server, "client": client,
                                                "loadgen": loadgen})
    campaign = parse_campaign({"name": "c", "sites": [{"name": "s", "provider": "local", "cpus": 1,
                                          "hourly_usd": 0.1}],
                               "workloads": [{"name": "http-load"}, {"name": "db-query"}]},
                              "test")
    with pytest.raises(PrerequisiteError) as err:
        check_remote_tools(campaign, env)
    msg = str(err.value)
    assert "host loadgen" in msg and "host server" not in msg
    for module in ("locust", "hdrh", "psutil", "psycopg"):
        assert module in msg
    env.hosts["loadgen"] = Host("loadgen", "z2", "127.0.0.1", LocalExecutor(), full)
    check_remote_tools(campaign, env)  # every library importable: no complaint
