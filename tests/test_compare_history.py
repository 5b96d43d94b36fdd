"""Campaigns over time, against real local campaign_history: history, SQL, URLs, compare, drift.

Three short real campaign_history of one site: `base` and `same` identical (1 CPU), `bigger` the
same site with a 2-CPU envelope, a lighter sysbench event (max_prime 2,000 instead of
20,000, so the change is several-fold and survives a busy host) and a higher stated price.
Comparing base with bigger must find the change beyond the noise and the price rise; base
with same must not flag the CPU throughput.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import fsspec
import pytest

from bench.history import load_history
from bench.results import load_results
from bench.sql import query
from bench.storage import materialize, upload
from scoring.compare import compare, metric_change
from scoring.drift_rules import RuleError, parse_rules, violations
from tests.conftest import bakeoff, scenario_text

pytestmark = pytest.mark.integration

def test_forced_change_is_significant_and_price_rise_seen(campaign_history):
    c = compare(campaign_history["base"], campaign_history["bigger"], campaign_history["root"])
    eps = [m for m in c.metrics if m.metric == "events_per_second"]
    assert len(eps) == 1 and eps[0].verdict == "better"
    assert eps[0].ci is not None and eps[0].ci[0] > 0
    assert eps[0].relative > 1.0  # lighter events on two CPUs: several times the rate
    base_cost, new_cost = c.site_costs["box"]
    assert new_cost == pytest.approx(2 * base_cost, rel=0.01)
    assert any("site box is defined differently" in w for w in c.warnings)
    assert any("sysbench-cpu ran with different params" in w for w in c.warnings)
    rules = parse_rules(["events_per_second:+50%", "cost:+5%", "winner-changed"])
    found = violations(c, rules)
    assert any(v.startswith("events_per_second:+50%: box sysbench-cpu") for v in found)
    assert any(v.startswith("cost:+5%: box") for v in found)
    assert not any(v.startswith("winner-changed") for v in found)


def test_same_site_twice_is_not_flagged(campaign_history):
    c = compare(campaign_history["base"], campaign_history["same"], campaign_history["root"])
    eps = next(m for m in c.metrics if m.metric == "events_per_second")
    # On a quiet host the same site measures the same; a host busy with other work may
    # move it, and then the comparison must say so rather than claim a change silently.
    if not eps.busy:
        assert eps.verdict == "no change", eps
    else:  # the warning names this very unit, and the verdict is still worked out
        assert any("busy" in w and "box/sysbench-cpu" in w for w in c.warnings), c.warnings
        assert eps.ci is not None and eps.verdict in ("no change", "better", "worse")
    assert not c.prices and not c.winner_changed
    assert violations(c, parse_rules(["cost:+1%", "winner-changed"])) == []


def test_few_repetitions_claim_nothing():
    m = metric_change(("s", "w", "events_per_second", "", "ev/s"), [100.0, 101.0],
                      [300.0, 310.0, 305.0], min_change=0.05)
    assert m.verdict == "noise unknown" and m.ci is None
    m = metric_change(("s", "http-load", "latency_p99", "", "ms"), [10.0, 10.5, 9.8],
                      [20.0, 21.0, 19.5], min_change=0.05)
    assert m.verdict == "worse"  # latency went up: lower is better
    m = metric_change(("s", "w", "events_per_second", "", "ev/s"), [100.0, 101.0, 102.0],
                      [102.5, 103.0, 103.5], min_change=0.05)
    assert m.verdict == "no change"  # outside the noise but under the practical threshold


def test_fail_on_rules_are_validated():
    with pytest.raises(RuleError, match="expected winner-changed"):
        parse_rules(["p99:10"])
    assert [r.threshold for r in parse_rules(["p99:+10%,throughput:-5%"])] == [0.10, -0.05]


def test_cli_compare_exit_codes_and_drift_report(campaign_history):
    base, bigger = campaign_history["base"].name, campaign_history["bigger"].name
    root = str(campaign_history["root"])
    crossed = bakeoff("compare", base, bigger, "--results", root, "--fail-on",
                      "events_per_second:+50%", "--out", str(campaign_history["tmp"] / "drift"))
    assert crossed.returncode == 1, crossed.stderr
    assert "fail-on" in crossed.stdout and "better" in crossed.stdout
    report = json.loads((campaign_history["tmp"] / "drift" / "drift.json").read_text())
    assert report["violations"] and report["new_id"] == bigger
    html = (campaign_history["tmp"] / "drift" / "drift.html").read_text()
    assert "data:image/png;base64," in html and "events_per_second" in html
    quiet = bakeoff("compare", base, bigger, "--results", root, "--fail-on", "winner-changed")
    assert quiet.returncode == 0, quiet.stderr
    bad = bakeoff("compare", base, bigger, "--results", root, "--fail-on", "p99")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    # a typo is an error with a suggestion, never a gate that silently never fires
    typo = bakeoff("compare", base, bigger, "--results", root, "--fail-on",
                   "events_per_secnd:-5%")
    assert typo.returncode == 2 and "did you mean events_per_second" in typo.stderr, typo.stderr
    # a unique prefix of an id is accepted; JSON says what the comparison found
    js = bakeoff("compare", base[:-3], bigger, "--results", root, "--format", "json")
    assert js.returncode == 0, js.stderr
    assert json.loads(js.stdout)["base_id"] == base


def test_two_ties_never_fail_a_gate(campaign_history, tmp_path):
    """Issue 23's false alarm: each campaign too close to call, the leaders swapped inside the
    noise; `winner-changed` must report tie -> tie and exit 0."""
    root = tmp_path / "results"
    for key, leader in (("base", "one-cpu"), ("same", "two-cpu")):
        folder = root / campaign_history[key].name
        shutil.copytree(campaign_history[key], folder)
        scores = json.loads((folder / "scores" / "scores.json").read_text())
        scores["decision"].update(leader=leader, verdict="too close to call", tie=True)
        (folder / "scores" / "scores.json").write_text(json.dumps(scores))
    res = bakeoff("compare", campaign_history["base"].name, campaign_history["same"].name,
                  "--results", str(root), "--fail-on", "winner-changed")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "winner: tie (one-cpu ahead" in res.stdout and "→ tie (two-cpu ahead" in res.stdout


def test_history_over_three_campaign_history(campaign_history):
    h = load_history(campaign_history["root"])
    assert list(h.campaigns["campaign_id"]) == [campaign_history[k].name
                                                for k in ("base", "same", "bigger")]
    assert h.campaigns["started_at"].is_monotonic_increasing
    eps = h.samples.query("metric == 'events_per_second'")
    assert eps.groupby("campaign_id").size().to_dict() == {
        campaign_history[k].name: 3 for k in ("base", "same", "bigger")}
    assert set(eps["threads"]) == {1, 2}  # metadata parsed into columns
    assert str(eps["started_at"].dtype).startswith("datetime64")
    assert set(h.scores["criterion"]) >= {"cpu", "tco"}
    assert (h.costs.groupby("campaign_id")["monthly_usd"].sum() > 0).all()
    assert h.costs["price_snapshot"].notna().all() and h.costs["price_snapshot_date"].notna().all()
    assert load_history(campaign_history["root"], scenario="other").campaigns.empty


def test_sql_across_campaign_history(campaign_history):
    frame = query("SELECT campaign_id, count(*) AS n FROM samples "
                  "WHERE metric = 'events_per_second' GROUP BY 1 ORDER BY 1",
                  campaign_history["root"])
    assert list(frame["n"]) == [3, 3, 3]
    joined = query("SELECT c.started_at, s.total FROM scores s JOIN campaigns c "
                   "USING (campaign_id) WHERE s.criterion = 'cpu' ORDER BY 1",
                   campaign_history["root"])
    assert len(joined) == 3
    res = bakeoff("sql", "SELECT count(DISTINCT campaign_id) AS n FROM samples", "--results",
                  str(campaign_history["root"]), "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout) == [{"n": 3}]
    bad = bakeoff("sql", "SELECT * FROM nowhere", "--results", str(campaign_history["root"]))
    assert bad.returncode == 2 and "tables here" in bad.stderr and "Traceback" not in bad.stderr


def test_memory_url_reads_like_a_path(campaign_history, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fs = fsspec.filesystem("memory")
    url = f"memory://bakeoff-test-{os.getpid()}/results"
    try:
        for key in ("base", "bigger"):
            assert upload(campaign_history[key], url) == f"{url}/{campaign_history[key].name}"
        assert fs.exists(f"{url}/{campaign_history['base'].name}/raw")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            h = load_history(url)
        assert len(h.campaigns) == 2
        r = load_results(f"{url}/{campaign_history['bigger'].name}")
        assert r.campaign_id == campaign_history["bigger"].name and len(r.samples) > 0
        assert len(query("SELECT * FROM samples", url)) == len(
            load_results(campaign_history["base"]).samples) + len(r.samples)
        assert materialize(url).is_relative_to(tmp_path / "cache")
    finally:
        fs.rm(url.split("/results")[0], recursive=True)


def test_run_writes_to_a_url_after_staging(campaign_history, tmp_path):
    target = tmp_path / "bucket"
    scenario = campaign_history["tmp"] / "base.yaml"
    res = bakeoff("run", str(scenario), "--results", f"file://{target}", "--quiet",
                  "--no-score")
    assert res.returncode == 0, res.stderr[-2000:]
    (folder,) = list(target.iterdir())
    assert (folder / "manifest.json").is_file() and (folder / "samples.parquet").is_file()
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    assert f"file://{target}/{folder.name}" in res.stdout


def _copy_of(campaign_history, tmp_path, key: str = "base") -> Path:
    """A results root holding a copy of one campaign, so new campaigns stay out of the
    shared history other tests count."""
    root = tmp_path / "results"
    shutil.copytree(campaign_history[key], root / campaign_history[key].name)
    return root


def test_reevaluate_rescore_only_finds_a_price_rise(campaign_history, tmp_path):
    root = _copy_of(campaign_history, tmp_path)
    base = campaign_history["base"].name
    pricier = tmp_path / "pricier.yaml"
    pricier.write_text(scenario_text(1, 0.08, 20000))
    res = bakeoff("reevaluate", str(pricier), "--baseline", base, "--results", str(root),
                  "--rescore-only", "--fail-on", "cost:+5%,winner-changed")
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    # No credentials here: the refresh fails, says why, and the shipped snapshot is used.
    assert "the refresh failed and changed nothing" in res.stdout, res.stdout
    assert "cost:+5%: box" in res.stdout
    (folder,) = [p for p in root.iterdir() if p.name != base]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rescore_of"] == base and manifest["campaign_id"] == folder.name
    drift = json.loads((folder / "drift" / "drift.json").read_text())
    assert {m["verdict"] for m in drift["metrics"]} == {"no change"}  # same measurements
    assert (folder / "drift" / "drift.html").is_file()
    # History stays true: the measurements are stored once, under the campaign that took
    # them (issue 23: the copy doubled them under the baseline's id), and the re-score
    # has its own scores entry.
    assert not (folder / "samples.parquet").exists()
    n_base = len(load_results(campaign_history["base"]).samples)
    counts = query("SELECT campaign_id, count(*) AS n FROM samples GROUP BY 1", root)
    assert counts.to_dict("records") == [{"campaign_id": base, "n": n_base}]
    scored = query("SELECT DISTINCT campaign_id FROM scores ORDER BY 1", root)
    assert set(scored["campaign_id"]) == {base, folder.name}
    assert len(load_results(folder.name, root).samples) == n_base  # read through rescore_of
    # `latest` is the newest campaign that measured: the re-score is named by its id
    assert load_results("latest", root).campaign_id == base


def test_reevaluate_runs_again_and_exits_zero_without_drift(campaign_history, tmp_path):
    root = _copy_of(campaign_history, tmp_path)
    scenario = campaign_history["tmp"] / "base.yaml"
    res = bakeoff("reevaluate", str(scenario), "--baseline", campaign_history["base"].name,
                  "--results", str(root), "--fail-on", "winner-changed", "--no-refresh")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    new = [p for p in root.iterdir() if p.name != campaign_history["base"].name]
    assert len(new) == 1 and (new[0] / "samples.parquet").is_file()
    assert (new[0] / "drift" / "drift.md").read_text().startswith("# Drift: ")


def test_a_campaign_compared_with_its_own_copy_changes_nothing(campaign_history, tmp_path):
    """Deterministic whatever the host did: identical samples, so every metric is exactly
    "no change" (change 0), no price moved, the winner is the same."""
    root = tmp_path / "results"
    root.mkdir()
    base = campaign_history["base"]
    shutil.copytree(base, root / base.name)
    shutil.copytree(base, root / "copy-of-base")
    c = compare(base.name, "copy-of-base", root)
    assert c.metrics and {m.verdict for m in c.metrics} == {"no change"}
    assert all(m.change == 0 for m in c.metrics)
    assert not c.prices and not c.winner_changed and not c.requirement_flips
