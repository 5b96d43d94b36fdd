"""Load shapes: ramp and spike (closed model), rate steps (constant-rate), their
validation, the constant-rate schedule, and intended vs achieved per interval in real runs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.perf.targets import delay_target
from bench.scenarios import parse_campaign
from bench.workloads import REGISTRY
from bench.workloads._load_shapes import intended_users, locust_steps
from bench.workloads._rate_schedule import RateSchedule
from bench.workloads.http_load import Params
from core.errors import ScenarioError
from tests.load_support import PLAIN_LOCUSTFILE, assert_nothing_left, local_env

WL = REGISTRY["http-load"]
SPIKE = {"kind": "spike", "base_users": 2, "spike_users": 8, "base_s": 3, "hold_s": 3,
         "recovery_s": 3}


def _problems(params: dict) -> str:
    with pytest.raises(ScenarioError) as err:
        parse_campaign({"name": "s", "sites": [{"name": "lo", "provider": "local",
                                                "cpus": 2, "hourly_usd": 0}],
                        "workloads": [{"name": "http-load", "params": params}]}, "scen.yaml")
    return str(err.value)


@pytest.mark.parametrize(("params", "says"), [
    ({"shape": SPIKE | {"spike_users": 2}}, "spike_users (2) must exceed base_users (2)"),
    ({"shape": SPIKE | {"spike_users": 500, "spike_rate": 10}},
     "takes 49.8 s, longer than hold_s (3 s)"),
    ({"shape": SPIKE | {"base_users": 1000, "spike_users": 2000, "spawn_rate": 10}},
     "longer than base_s"),
    ({"shape": {"kind": "ramp", "start_users": 5, "end_users": 5, "ramp_s": 10}},
     "end_users equals start_users"),
    ({"shape": {"kind": "rate-steps", "steps": [{"rate_rps": 10, "duration_s": 5}]}},
     "needs mode 'constant-rate'"),
    ({"mode": "constant-rate", "rate_rps": 10, "shape": SPIKE}, "for constant-rate use kind"),
    ({"mode": "constant-rate", "shape": {"kind": "rate-steps", "steps": [
        {"rate_rps": -1, "duration_s": 5}]}}, "rate_rps"),
    ({"shape": SPIKE | {"hold_s": 0}}, "hold_s"),
    ({"shape": {"kind": "wave"}}, "shape"),
    ({"duration_s": 10, "warmup_s": 10}, "warmup_s (10) must be shorter than the run (10 s)"),
])
def test_shape_params_are_checked_with_clear_errors(params, says):
    text = _problems(params)
    assert "scen.yaml" in text and "workloads[0]" in text and says in text, text


def test_shapes_compile_to_locust_steps():
    # worked by hand: base 2 for 3 s, rise of 6 users within 1 s held 3 s, back to 2
    spike = locust_steps(Params(shape=SPIKE).shape)
    assert spike == [{"users": 2, "spawn_rate": 100.0, "duration_s": 3},
                     {"users": 8, "spawn_rate": 6.0, "duration_s": 3},
                     {"users": 2, "spawn_rate": 6.0, "duration_s": 3}]
    assert intended_users(spike, 2.9) == 2 and intended_users(spike, 3.5) == 5.0
    assert intended_users(spike, 5.9) == 8 and intended_users(spike, 8.9) == 2
    ramp = locust_steps(Params(shape={"kind": "ramp", "end_users": 100, "ramp_s": 50,
                                      "hold_s": 10}).shape)
    assert ramp[0] == {"users": 100, "spawn_rate": 2.0, "duration_s": 50}
    assert intended_users(ramp, 25) == 50 and intended_users(ramp, 55) == 100
    steps = Params(mode="constant-rate", shape={"kind": "rate-steps", "steps": [
        {"rate_rps": 40, "duration_s": 2}, {"rate_rps": 100, "duration_s": 3}]})
    assert steps.rate_rps == 40 and steps.run_seconds() == 5


@given(st.lists(st.tuples(st.floats(0.5, 500), st.integers(1, 20)), min_size=1, max_size=5),
       st.integers(0, 5000))
def test_rate_schedule_slot_times_and_due_counts_agree(steps, n):
    sched = RateSchedule(steps[0][0], steps)
    total = sched.due_before(sched.length_s + 1)
    offset = sched.offset(n)
    if n >= total:
        assert offset is None
        return
    # slot n is due at its own time: n slots before it, n + 1 just after
    assert sched.due_before(offset) == n
    assert sched.due_before(offset + 1e-6) == n + 1
    # within a step the spacing is 1 / rate (worked: slot 0 at 0, slot 1 at 1/r)
    assert sched.offset(0) == 0.0


def test_constant_rate_schedule_counts_by_hand():
    sched = RateSchedule(10.0, [(10.0, 2), (50.0, 1)])
    assert sched.due_before(1.0) == 10 and sched.due_before(2.0) == 20
    assert sched.due_before(2.5) == 45 and sched.due_before(10) == 70
    assert sched.offset(20) == 2.0 and sched.offset(21) == pytest.approx(2.02)
    assert sched.offset(70) is None and sched.rate_at(2.5) == 50.0


@pytest.fixture
def plain_locustfile(tmp_path) -> str:
    path = tmp_path / "plain_locustfile.py"
    path.write_text(PLAIN_LOCUSTFILE)
    return str(path)


def _all_rows(out):
    return sorted((h.metadata for h in out.histograms
                   if h.interval is not None and h.metadata["endpoint"] == "all"),
                  key=lambda m: m["offset_s"])


@pytest.mark.integration
def test_spike_users_per_interval_follow_the_shape(plain_locustfile):
    with delay_target(20.0) as url:
        params = Params(locustfile=plain_locustfile, target_url=url, processes=1,
                        shape=SPIKE)
        raw = WL.run(params, local_env(None), None)
    assert_nothing_left()
    rows = _all_rows(WL.parse(raw, params))
    during = [m for m in rows if 4.0 <= m["offset_s"] + 1 <= 6.0]  # interval ends in hold
    after = [m for m in rows if m["offset_s"] >= 7.0 and m["covered_s"] >= 0.9]
    before = [m for m in rows if 1.0 <= m["offset_s"] + 1 <= 3.0]
    assert before and during and after
    assert all(m["intended_users"] == 2 for m in before)
    assert all(m["intended_users"] == 8 for m in during if m["offset_s"] + 1 >= 4.5)
    assert max(m["users"] for m in during) == 8
    assert max(m["users"] for m in before) == 2 and min(m["users"] for m in after) == 2
    # achieved rate rises with the users (20 ms target: about 50 req/s per user)
    assert max(m["rps"] for m in during) > 2 * max(m["rps"] for m in before)


@pytest.mark.integration
def test_rate_steps_intended_and_achieved_per_interval(plain_locustfile):
    shape = {"kind": "rate-steps", "steps": [{"rate_rps": 40, "duration_s": 3},
                                             {"rate_rps": 120, "duration_s": 4}]}
    with delay_target(10.0) as url:
        params = Params(locustfile=plain_locustfile, target_url=url, users=10,
                        spawn_rate=100, processes=1, mode="constant-rate", shape=shape)
        raw = WL.run(params, local_env(None), None)
    assert_nothing_left()
    rows = [m for m in _all_rows(WL.parse(raw, params)) if m["covered_s"] >= 0.9]
    # intended per full interval: 40/s in the first 3 s of the schedule, 120/s after
    intended = sorted({round(m["intended_rps"]) for m in rows})
    assert 40 in intended and 120 in intended, intended
    high = [m for m in rows if round(m["intended_rps"]) == 120]
    low = [m for m in rows if round(m["intended_rps"]) == 40]
    # achieved follows intended (loose: a busy machine delays a few sends)
    assert all(m["rps"] > 0.6 * 120 for m in high) and all(m["rps"] < 60 for m in low)
