"""In CI (CI=true) every skip is a failure naming what is missing; elsewhere a skip.

A throwaway test folder uses this suite's hooks (tests/conftest.py) and holds one of each
kind of skip the suite has: a missing tool (mark and run time), a privilege or CPU-count
skipif, a pytest.skip inside a fixture (the tmpfs case), a module skipped at collection
by importorskip (moto, pulumi_aws), and a plain pytest.skip. An xfail stays an xfail.
"""

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

@pytest.mark.skipif(True, reason="network namespaces need root")
def test_privilege():
    pass

@pytest.mark.skipif(True, reason="needs CPUs 0 and 1")
def test_cpus():
    pass

@pytest.fixture
def tmpfs():
    pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")

def test_in_fixture(tmpfs):
    pass

def test_plain():
    pytest.skip("bakeoff console script not installed in this venv")

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False
'''

_LIBRARY = '''
import pytest
pytest.importorskip("bakeoff_no_such_library")

def test_never_collected():
    pass
'''


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import (pytest_make_collect_report,  # noqa: F401\n"
        "    pytest_runtest_makereport, pytest_terminal_summary)\n")
    (tmp_path / "test_tools.py").write_text(_TESTS)
    (tmp_path / "test_library.py").write_text(_LIBRARY)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(REPO)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_skip_fails_in_ci_and_names_what_is_missing(tmp_path):
    res = _run(tmp_path, "true")
    out = res.stdout
    assert res.returncode == 1, out
    assert "skipped" not in out.splitlines()[-1], out  # not one skip is left
    assert "1 xfailed" in out, out
    # skipif marks and fixture skips happen during setup: pytest counts those as errors
    for line in ("ERROR test_tools.py::test_marked - skipped: missing system tool: "
                 "bakeoff-no-such-tool",
                 "FAILED test_tools.py::test_at_run_time - skipped: missing system tool: "
                 "bakeoff-no-such-tool-either",
                 "ERROR test_tools.py::test_privilege - skipped: network namespaces need root",
                 "ERROR test_tools.py::test_cpus - skipped: needs CPUs 0 and 1",
                 "ERROR test_tools.py::test_in_fixture - skipped: cannot mount a tmpfs",
                 "FAILED test_tools.py::test_plain - skipped: bakeoff console script",
                 "ERROR test_library.py - skipped: could not import "
                 "'bakeoff_no_such_library'"):
        assert line in out, (line, out)
    assert "with CI=true every skip is a failure" in out
    # the end-of-session list of what was missing, one line per reason
    summary = out.split("skipped with CI=true (failures)", 1)[1]
    assert "missing system tool: bakeoff-no-such-tool: 1" in summary
    assert "could not import 'bakeoff_no_such_library'" in summary


def test_skips_are_skips_outside_ci(tmp_path):
    res = _run(tmp_path, None)
    assert res.returncode == 0, res.stdout
    assert "7 skipped" in res.stdout and "1 xfailed" in res.stdout, res.stdout
    res = _run(tmp_path, "false")
    assert res.returncode == 0 and "7 skipped" in res.stdout, res.stdout
