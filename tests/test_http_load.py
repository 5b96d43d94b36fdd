"""http-load for real: PoC + PostgreSQL + Locust, saturation guard, constant-rate mode,
locustfile errors, and golden parsing of captured raw outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bench.hdr import decode, requirement_value
from bench.perf.targets import delay_target, nginx_static
from bench.workloads import REGISTRY
from bench.workloads.http_load import Params
from core.errors import BakeoffError
from stacks.executors.local import LocalExecutor
from stacks.local_postgres import LocalPostgres
from tests.load_support import PLAIN_LOCUSTFILE, assert_nothing_left, local_env

GOLDEN = Path(__file__).parent / "golden" / "http-load"
WL = REGISTRY["http-load"]
CHECKOUT = "POST /api/v1/checkout"


@pytest.fixture
def plain_locustfile(tmp_path) -> str:
    path = tmp_path / "plain_locustfile.py"
    path.write_text(PLAIN_LOCUSTFILE)
    return str(path)


def _by(samples, metric, endpoint="all"):
    return next(s.value for s in samples
                if s.metric == metric and s.metadata.get("endpoint") == endpoint)


# -- golden: parse real captured raw outputs ------------------------------------------------

def test_golden_checkout_run():
    raw = (GOLDEN / "checkout.json").read_text()
    out = WL.parse(raw, Params())
    doc = json.loads(raw)["locust"]
    assert out.valid and out.invalid_reason == ""
    eps = doc["endpoints"]
    assert set(eps) == {CHECKOUT, "GET /api/v1/products/{id}"}
    assert _by(out.samples, "requests") == sum(e["requests"] for e in eps.values())
    assert _by(out.samples, "requests", CHECKOUT) == eps[CHECKOUT]["requests"]
    assert _by(out.samples, "rps") == pytest.approx(
        sum(e["requests"] for e in eps.values()) / doc["window_s"])
    p99 = decode(eps[CHECKOUT]["hdr"]).get_value_at_percentile(99) / 1000
    assert _by(out.samples, "latency_p99", CHECKOUT) == p99
    rows = [{"name": h.name, "encoded": h.encoded, "metadata": h.metadata}
            for h in out.histograms]
    assert requirement_value(rows, "latency_p99", {"endpoint": CHECKOUT}) == p99
    server = [s for s in out.samples if s.metric == "server_db_query_count"]
    assert {s.metadata["query"] for s in server} >= {"select_product", "insert_order", "all"}


def test_golden_saturated_run_is_invalid_but_kept():
    out = WL.parse((GOLDEN / "saturated.json").read_text(), Params())
    assert not out.valid and "saturated" in out.invalid_reason
    assert _by(out.samples, "requests") > 0  # kept, just flagged
    assert all(h.metadata["valid"] is False for h in out.histograms)
    rows = [{"name": h.name, "encoded": h.encoded, "metadata": h.metadata}
            for h in out.histograms]
    with pytest.raises(ValueError):  # excluded from requirement evaluation
        requirement_value(rows, "latency_p99")


def test_golden_constant_rate_behind_counts_late_sends():
    raw = (GOLDEN / "constant_rate_behind.json").read_text()
    rate = json.loads(raw)["locust"]["rate"]
    out = WL.parse(raw, Params(mode="constant-rate", rate_rps=200))
    assert not out.valid and "fell behind its target rate" in out.invalid_reason
    assert _by(out.samples, "late_sends") == rate["late"] > 0
    assert _by(out.samples, "target_rps") == 200


def test_endpoint_renaming():
    out = WL.parse((GOLDEN / "checkout.json").read_text(),
                   Params(endpoints={CHECKOUT: "checkout"}))
    assert _by(out.samples, "requests", "checkout") > 0
    assert any(h.name == "latency:checkout" for h in out.histograms)


# -- locustfile and params errors -----------------------------------------------------------

def test_missing_locustfile_names_the_file(tmp_path):
    missing = tmp_path / "nope.py"
    # refused when the params are validated (`bakeoff validate`) ...
    with pytest.raises(ValidationError, match=f"locustfile {missing} does not exist"):
        Params(locustfile=str(missing), target_url="http://127.0.0.1:9")
    # ... and again at run time, if it went away in between
    missing.write_text("")
    params = Params(locustfile=str(missing), target_url="http://127.0.0.1:9")
    missing.unlink()
    with pytest.raises(BakeoffError, match=f"locustfile {missing} does not exist"):
        WL.run(params, local_env(None), None)


def test_locustfile_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("from locust import task\n\ndef oops(:\n    pass\n")
    with pytest.raises(ValidationError, match=r"broken\.py has a syntax error at line 3"):
        Params(locustfile=str(bad), target_url="http://127.0.0.1:9")


def test_params_need_rate_for_constant_rate():
    with pytest.raises(ValueError, match="rate_rps"):
        Params(mode="constant-rate")


def test_poc_without_database_is_a_clear_error():
    with pytest.raises(BakeoffError, match="needs a database"):
        WL.run(Params(), local_env(None), None)


# -- real runs ------------------------------------------------------------------------------

@pytest.mark.integration
def test_real_checkout_run_with_postgres(tmp_path):
    pg = LocalPostgres(LocalExecutor(), "127.0.0.1", tmp_path / "pg")
    try:
        db = pg.start()
        params = Params(users=8, spawn_rate=8, duration_s=3, processes=2)
        raw = WL.run(params, local_env(db), None)
    finally:
        root = pg.root
        pg.stop()
    assert_nothing_left(root)
    out = WL.parse(raw, params)
    assert out.valid, out.invalid_reason
    assert _by(out.samples, "requests", CHECKOUT) > 0
    assert _by(out.samples, "error_rate") == 0.0
    assert 0 < _by(out.samples, "latency_p50") <= _by(out.samples, "latency_p99")
    doc = json.loads(raw)
    assert doc["locust"]["workers_reported"] == 2 and doc["service"] == "poc"
    assert any(s.metric == "server_db_query_p99" for s in out.samples)


@pytest.mark.integration
def test_saturation_is_flagged_when_forced(plain_locustfile):
    # one pinned CPU for Locust, nginx on the other, many users, no think time
    with nginx_static(cpus={1}) as url:
        params = Params(locustfile=plain_locustfile, target_url=url, users=60,
                        spawn_rate=600, duration_s=4, processes=1)
        raw = WL.run(params, local_env(None, loadgen_cpus=frozenset({0})), None)
    assert_nothing_left()
    out = WL.parse(raw, params)
    assert not out.valid
    assert "saturated" in out.invalid_reason


@pytest.mark.integration
def test_constant_rate_mode_late_send_accounting(plain_locustfile):
    with delay_target(20.0) as url:
        ok = Params(locustfile=plain_locustfile, target_url=url, users=8, spawn_rate=100,
                    duration_s=3, processes=1, mode="constant-rate", rate_rps=50)
        raw_ok = WL.run(ok, local_env(None), None)
        # 2 users x 20 ms can send at most ~100/s: 300/s must fall behind
        behind = ok.model_copy(update={"users": 2, "rate_rps": 300})
        raw_behind = WL.run(behind, local_env(None), None)
    assert_nothing_left()
    good = WL.parse(raw_ok, ok)
    rate = json.loads(raw_ok)["locust"]["rate"]
    bad = WL.parse(raw_behind, behind)
    brate = json.loads(raw_behind)["locust"]["rate"]
    # The accounting, not this machine's idleness: on a busy host the scheduler delays a
    # few sends of the run that can keep up (and the parser rightly calls such a run
    # invalid), but it stays far ahead of the run that cannot.
    assert rate["slots_due"] >= 50 and rate["sent"] >= 0.85 * rate["slots_due"]
    assert rate["late"] / rate["sent"] < 0.5 < brate["late"] / brate["sent"]
    assert good.valid or "fell behind" in good.invalid_reason
    assert 19.0 <= _by(good.samples, "latency_p50") < 40.0  # the 20 ms delay, corrected
    assert not bad.valid and "fell behind" in bad.invalid_reason
    # corrected latency includes the time spent waiting to be sent
    assert _by(bad.samples, "latency_p99") > 200.0


@pytest.mark.integration
def test_step_shape_runs_each_step(plain_locustfile):
    steps = [{"users": 2, "spawn_rate": 10, "duration_s": 2},
             {"users": 6, "spawn_rate": 10, "duration_s": 2}]
    with delay_target(20.0) as url:
        params = Params(locustfile=plain_locustfile, target_url=url, processes=1, shape=steps)
        raw = WL.run(params, local_env(None), None)
    out = WL.parse(raw, params)
    # a 20 ms target: at most 2/0.02*2 + 6/0.02*2 = 800 requests; 2 users alone cannot
    # exceed 200, so well over 200 means the second step ran
    assert 300 < _by(out.samples, "requests") <= 800
    assert 3.0 < json.loads(raw)["locust"]["window_s"] < 5.5


def test_worker_processes_are_shared_across_load_hosts_and_capped_by_users():
    from bench.workloads.http_load import _share

    assert _share([2, 2], 100) == [2, 2]  # every core of every host
    assert _share([2, 2], 3) == [2, 1]  # never more processes than users, spread evenly
    assert _share([4, 1], 2) == [1, 1]
    assert _share([1, 1, 1], 1) == [1, 0, 0]
