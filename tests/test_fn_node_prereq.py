"""A local function site with `runtime: node` on a machine without Node.js is refused
naming the runtime and the fix, before the front starts. Planted: the local executor's
own "'node' is not installed ...; `make setup` installs the benchmark tools" went out
instead, which names neither the scenario field nor runtime: python."""

from __future__ import annotations

import pytest

from core.environment import DatabaseEndpoint, Host
from core.errors import PrerequisiteError
from stacks.executors.local import LocalExecutor
from stacks.local_function import LocalFunctionSite


def test_no_node_on_path_is_named_with_the_scenario_field(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node
    host = Host("server", "z1", "127.0.0.1", LocalExecutor(),
                {"scratch_dir": str(tmp_path)})
    db = DatabaseEndpoint("127.0.0.1", 5432, "u", "p", "d", "local-postgres")  # not reached
    site = LocalFunctionSite(host, db, 1.0, 2, 2, runtime="node")
    with pytest.raises(PrerequisiteError) as e:
        site._node_modules()
    msg = str(e.value)
    assert msg.startswith("serverless.runtime: node needs Node.js on this machine")
    assert "'node' is not installed on this machine" in msg and "runtime: python" in msg
    assert not (tmp_path / "fn-node").exists()
