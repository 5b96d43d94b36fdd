"""Scenario limits that protect the host: fio's size and directory, minimum durations, and
files referenced by params checked by `bakeoff validate`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bakeoff.cli import app
from bench.runner import UnitFailed, execute_plan, run_unit
from bench.workloads import REGISTRY
from bench.workloads.base import RunContext
from core.environment import Environment, Host
from core.errors import BakeoffError
from stacks.executors.local import LocalExecutor
from tests.conftest import requires_tools

cli = CliRunner()

SCENARIO = """
name: limits
sites: [{{name: a, provider: local, cpus: 1, hourly_usd: 0, network: loopback}}]
workloads:
  - name: {name}
    params: {params}
"""


class _Outcome:
    """What `bakeoff validate` would show: exit code and text (as main() prints errors)."""

    def __init__(self, res) -> None:
        exc = res.exception
        if isinstance(exc, BakeoffError):
            self.exit_code, self.output = exc.exit_code, str(exc)
        else:
            self.exit_code, self.output = res.exit_code, res.output


def _validate(write_scenario, name: str, params: str) -> _Outcome:
    path = write_scenario(SCENARIO.format(name=name, params=params))
    return _Outcome(cli.invoke(app, ["validate", str(path)], env={"COLUMNS": "200"}))


def _env(scratch) -> Environment:
    host = Host("client", "z", "127.0.0.1", LocalExecutor(), {"scratch_dir": str(scratch),
                                                               "vcpus": 1})
    return Environment("a", "local", "local", "t", {"client": host, "server": host})


def test_validate_checks_the_locustfile(write_scenario, tmp_path):
    missing = _validate(write_scenario, "http-load", f"{{locustfile: {tmp_path}/nope.py}}")
    assert missing.exit_code == 2
    assert "workloads[0].params.locustfile" in missing.output
    assert "nope.py does not exist" in missing.output
    broken = tmp_path / "broken.py"
    broken.write_text("from locust import HttpUser\nclass U(HttpUser)\n    pass\n")
    bad = _validate(write_scenario, "http-load", f"{{locustfile: {broken}}}")
    assert bad.exit_code == 2 and "syntax error at line 2" in bad.output
    good = tmp_path / "good.py"
    good.write_text("from locust import HttpUser\nclass U(HttpUser):\n    pass\n")
    ok = _validate(write_scenario, "http-load", f"{{locustfile: {good}}}")
    assert ok.exit_code == 0, ok.output


def test_validate_checks_the_sql_file(write_scenario, tmp_path):
    missing = _validate(write_scenario, "db-query", f"{{sql_file: {tmp_path}/q.sql}}")
    assert missing.exit_code == 2
    assert "workloads[0].params.sql_file" in missing.output and "does not exist" in missing.output
    empty = tmp_path / "empty.sql"
    empty.write_text("  \n")
    res = _validate(write_scenario, "db-query", f"{{sql_file: {empty}}}")
    assert res.exit_code == 2 and "is empty" in res.output
    good = tmp_path / "q.sql"
    good.write_text("SELECT 1;\n")
    assert _validate(write_scenario, "db-query", f"{{sql_file: {good}}}").exit_code == 0


def test_validate_refuses_a_stream_run_too_short(write_scenario):
    res = _validate(write_scenario, "stream", "{time_s: 5}")
    assert res.exit_code == 2
    assert "workloads[0].params.time_s" in res.output and "too short" in res.output


def test_validate_confines_fio_to_the_scratch_area(write_scenario):
    res = _validate(write_scenario, "fio", "{directory: /etc}")
    assert res.exit_code == 2
    assert "workloads[0].params.directory" in res.output and "scratch area" in res.output


@requires_tools("fio")
def test_fio_larger_than_free_space_fails_before_writing(tmp_path):
    wl = REGISTRY["fio"]
    params = wl.Params(size="60T", numjobs=2, runtime_s=1, directory="d")
    plan = wl.plan(params, _env(tmp_path))
    with pytest.raises(UnitFailed, match=r"needs 120\.00 TiB|needs 122880\.00 GiB"):
        execute_plan(plan, _env(tmp_path))
    assert list((tmp_path / "d").iterdir()) == []  # nothing laid out


@requires_tools("fio")
def test_fio_files_are_removed_after_the_run(tmp_path):
    wl = REGISTRY["fio"]
    params = wl.Params(size="4M", numjobs=1, runtime_s=1, ioengine="psync", direct=False,
                       directory="disk")
    out = run_unit(wl, params, _env(tmp_path), RunContext(tmp_path, 60, "t", 0))
    assert {s.metric for s in out.parsed.samples} >= {"read_iops"}
    assert list((tmp_path / "disk").iterdir()) == []  # --unlink=1 removed the data file
