"""Sizing load generators from a measured ceiling: `bakeoff calibrate` for real (bounded),
`plan` sizing the poc-web-db cloud sites from a stored calibration, `loadgen: auto`, and a
fleet too small refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bakeoff.cli import app
from bench.calibrate import Calibration, calibration_path, locustfile_sha
from bench.scenarios import parse_campaign
from bench.workloads._calibrate_shape import AdaptiveLevels
from core.errors import ScenarioError
from tests.conftest import requires_tools

runner = CliRunner()
POC = Path(__file__).parents[1] / "scenarios" / "poc-web-db.yaml"


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("BAKEOFF_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _store(state: Path, users_per_core: int, rps_per_core: float) -> None:
    cal = Calibration(locustfile="built-in", locustfile_sha256=locustfile_sha(None),
                      users_per_core=users_per_core, rps_per_core=rps_per_core,
                      cpu_demand_at_ceiling=85.0, cpu_limit=90.0, reached_limit=True,
                      duration_s=30, measured_at="2026-12-06T00:00:00+00:00",
                      machine={"cpu_model": "test", "vcpus": 2})
    path = calibration_path(cal.locustfile_sha256, state)
    path.parent.mkdir(parents=True)
    path.write_text(cal.to_json())


def _scenario(tmp_path: Path, loadgen, users: int = 5000) -> Path:
    data = yaml.safe_load(POC.read_text())
    for site in data["sites"]:
        site["loadgen"] = loadgen
    for w in data["workloads"]:
        if w["name"] == "http-load":
            w["params"] = {"users": users, "spawn_rate": 500, "duration_s": 60}
    path = tmp_path / "poc-5000.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _flat(res) -> str:
    return " ".join(res.output.split())  # rich wraps long lines


def test_calibration_levels_grow_toward_the_limit_and_stop_at_it():
    lv = AdaptiveLevels(limit=90.0, duration_s=60, hold_s=3, start_users=10)
    assert lv.tick(0.0, []) == (10, 10.0)
    assert lv.tick(3.0, [20.0, 20.0]) == (20, 10.0)  # 20% of 90: double
    assert lv.tick(6.0, [60.0, 60.0]) == (27, 7.0)  # 0.9*90/60 = 1.35x of 20 -> 27
    assert lv.tick(9.0, [95.0, 80.0]) is None  # over the limit: stop
    assert AdaptiveLevels(90.0, 5, 3).tick(5.0, []) is None  # time is up


def test_plan_sizes_poc_web_db_from_a_stored_calibration_and_refuses_too_small(tmp_path,
                                                                               state):
    # 400 users per core measured. Worked by hand: 5000 users / 400 = 12.5 cores at the
    # ceiling; with 30% headroom 12.5 / 0.7 = 17.9 -> 18 cores; 4-vCPU VMs -> 5 VMs.
    _store(state, users_per_core=400, rps_per_core=300.0)
    res = runner.invoke(app, ["plan", str(_scenario(tmp_path, 1))])
    assert res.exit_code != 0
    msg = str(res.exception)
    assert "fleet too small" in msg and "aws has 4 core(s), needs 18 (12.50" in msg
    assert "12.50 cores at the ceiling, 18 with 30% headroom, 5 VM(s) of 4 vCPU" in _flat(res)
    # 4 VMs = 16 cores: enough at the ceiling (13), not with headroom (18): a warning only
    res = runner.invoke(app, ["plan", str(_scenario(tmp_path, 4))])
    assert res.exit_code == 0, res.output
    assert "no headroom" in res.output
    # auto: resolved to 5 VMs when the scenario is loaded, and stored as such
    auto = parse_campaign(yaml.safe_load(_scenario(tmp_path, "auto").read_text()), "s.yaml")
    assert [s.loadgen for s in auto.sites] == [5, 5, 5]
    res = runner.invoke(app, ["plan", str(_scenario(tmp_path, "auto"))])
    assert res.exit_code == 0 and "ok" in res.output, res.output
    # the seed-sized scenario as shipped (50 users) fits one VM
    res = runner.invoke(app, ["plan", str(POC)])
    assert res.exit_code == 0 and "50 users" in res.output


def test_auto_without_a_calibration_is_a_clear_scenario_error(tmp_path, state):
    with pytest.raises(ScenarioError) as err:
        parse_campaign(yaml.safe_load(_scenario(tmp_path, "auto").read_text()), "s.yaml")
    text = str(err.value)
    assert "sites[0].loadgen" in text and "bakeoff calibrate" in text


@requires_tools("nginx")
@pytest.mark.integration
def test_calibrate_measures_and_stores_a_bounded_ceiling(tmp_path, state):
    path = _scenario(tmp_path, 1, users=50)
    res = runner.invoke(app, ["calibrate", str(path), "--duration", "10"])
    assert res.exit_code == 0, res.output
    stored = json.loads(calibration_path(locustfile_sha(None), state).read_text())
    assert stored["users_per_core"] >= 10 and stored["rps_per_core"] > 0
    assert stored["cpu_demand_at_ceiling"] < stored["cpu_limit"] == 90.0
    assert stored["machine"]["vcpus"] >= 1 and stored["machine"]["locust"]
    # the ceiling is the largest level whose settled intervals all stayed under the limit
    ok = [lv for lv in stored["levels"] if lv["under_limit"]]
    assert stored["users_per_core"] == max(lv["users"] for lv in ok)
    assert "per core" in res.output and "stored in" in res.output
    res = runner.invoke(app, ["calibrate", str(path), "--duration", "3"])
    assert res.exit_code != 0 and "--duration must be 8..1800" in str(res.exception)
