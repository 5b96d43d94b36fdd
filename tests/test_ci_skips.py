"""In CI (CI=true) a skip for a missing system tool is a failure; elsewhere a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

_TESTS = '''
import pytest
from tests.conftest import requires_tools, skip_missing_tool

@requires_tools("bakeoff-no-such-tool")
def test_marked():
    pass

def test_at_run_time():
    skip_missing_tool("bakeoff-no-such-tool-either")

@pytest.mark.skipif(True, reason="not about a tool")
def test_other_skip():
    pass
'''


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_runtest_makereport  # noqa: F401\n")
    (tmp_path / "test_tools.py").write_text(_TESTS)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(REPO)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_missing_tool_skips_fail_in_ci(tmp_path):
    res = _run(tmp_path, "true")
    assert res.returncode == 1, res.stdout
    # a skipif mark skips during setup, so pytest counts that one as an error
    assert "1 failed" in res.stdout and "1 error" in res.stdout, res.stdout
    assert "1 skipped" in res.stdout, res.stdout  # a skip for another reason stays a skip
    assert "ERROR test_tools.py::test_marked - missing system tool" in res.stdout
    assert "FAILED test_tools.py::test_at_run_time - missing system tool" in res.stdout


def test_missing_tool_skips_are_skips_outside_ci(tmp_path):
    res = _run(tmp_path, None)
    assert res.returncode == 0, res.stdout
    assert "3 skipped" in res.stdout, res.stdout
