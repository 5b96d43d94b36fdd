"""The decision matrix: the seed's worked example, utilities, site independence, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from decide_fixture import make_campaign
from typer.testing import CliRunner

from bench.scenarios import load_campaign_file, parse_campaign
from core.errors import ScenarioError
from scoring.criteria import BUILTINS, resolve_criteria
from scoring.decide import score_campaign_dir, score_scenario
from scoring.matrix import weighted_totals
from scoring.summary import decision
from scoring.utilities import utility

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "scenarios" / "examples" / "seed-matrix.yaml"


def test_seed_totals_via_api():
    result = score_scenario(load_campaign_file(SEED))
    m = result.matrix
    assert [c.label for c in m.criteria] == ["TCO", "CPU", "inter-AZ latency", "SLA",
                                             "compliance"]
    assert [c.weight for c in m.criteria] == [5, 4, 3, 4, 5]
    assert [m.cell(c.name, "provider-a").score for c in m.criteria] == [8, 7, 9, 8, 9]
    assert [m.cell(c.name, "provider-b").score for c in m.criteria] == [6, 9, 8, 8, 7]
    assert m.totals == {"provider-a": 172, "provider-b": 157}
    assert m.ranking == ["provider-a", "provider-b"]
    assert not decision(result)["tie"]


def test_seed_cli_prints_weights_scores_and_totals():
    from bakeoff.cli import app

    res = CliRunner().invoke(app, ["score", "--scenario", str(SEED)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "weights: TCO 5, CPU 4, inter-AZ latency 3, SLA 4, compliance 5" in lines
    assert "provider-a: 8, 7, 9, 8, 9 -> 172" in lines
    assert "provider-b: 6, 9, 8, 8, 7 -> 157" in lines
    assert any(line.startswith("provider-a wins with 172 against 157") for line in lines)


def test_weights_file_rescores_and_is_validated(tmp_path):
    w = tmp_path / "w.yaml"
    w.write_text("tco: 1\ncompliance: 1\n")
    m = score_scenario(load_campaign_file(SEED), w).matrix
    # a: 8+28+27+32+9 = 104; b: 6+36+24+32+7 = 105 -> the order flips
    assert m.totals == {"provider-a": 104, "provider-b": 105}
    w.write_text("tco: 9\n")
    expected = r"(?s)w\.yaml: 1 problem\(s\) in the weights file.*tco: expected an integer weight"
    with pytest.raises(ScenarioError, match=expected):
        score_scenario(load_campaign_file(SEED), w)
    w.write_text("latency: 2\n")
    with pytest.raises(ScenarioError, match="latency: not a criterion of this campaign"):
        score_scenario(load_campaign_file(SEED), w)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("network_latency", 5.0, 1.0), ("network_latency", 0.05, 10.0),
    ("network_latency", 0.5, 5.5),  # log midpoint
    ("network_latency", 50.0, 1.0), ("network_latency", 0.001, 10.0),  # clipped
    ("cpu", 200.0, 1.0), ("cpu", 50_000.0, 10.0), ("cpu", 0.0, 1.0),
    ("sla", 99.0, 1.0), ("sla", 99.99, 10.0), ("sla", 99.9, 5.5),
    ("compliance", 5.0, 5.5), ("tco", 100.0, 7.0),
])
def test_fixed_bounds_utilities(name, value, expected):
    b = BUILTINS[name]
    assert float(utility(value, b.bounds, b.scale)) == pytest.approx(expected)


def test_weighted_total_rescales_not_applicable_cells():
    scores = np.array([[8.0, 6.0], [np.nan, 4.0]])
    totals = weighted_totals(scores, np.array([3.0, 1.0]))
    assert totals[1] == 3 * 6 + 1 * 4
    assert totals[0] == pytest.approx(3 * 8 * 4 / 3)  # rescaled to the full weight 4


def test_removing_a_site_keeps_the_others_scores_and_order(tmp_path):
    three = score_campaign_dir(make_campaign(tmp_path / "a", ["small", "large", "medium"]),
                               write=False)
    two = score_campaign_dir(make_campaign(tmp_path / "b", ["small", "large"]), write=False)
    for spec in two.matrix.criteria:
        for site in ("small", "large"):
            assert two.matrix.cell(spec.name, site).score == \
                three.matrix.cell(spec.name, site).score, (spec.name, site)
    assert [s for s in three.matrix.ranking if s != "medium"] == two.matrix.ranking
    for site in ("small", "large"):
        assert two.matrix.totals[site] == pytest.approx(three.matrix.totals[site])


def test_minmax_option_scores_relative_to_the_sites(tmp_path):
    crit = [{"name": "cpu", "weight": 3, "normalise": "minmax"},
            {"name": "network_latency", "weight": 2, "normalise": "minmax"}]
    m = score_campaign_dir(make_campaign(tmp_path, ["small", "large", "medium"],
                                         criteria=crit), write=False).matrix
    assert m.cell("cpu", "large").score == 10 and m.cell("cpu", "small").score == 1
    assert 1 < m.cell("cpu", "medium").score < 10
    # lower latency is better: large has the lowest RTT in the fixture
    assert m.cell("network_latency", "large").score == 10
    assert any("min-max" in n for n in m.notes)


def test_unknown_criterion_names_the_field_and_lists_builtins():
    data = {"name": "x", "sites": [{"name": "a", "provider": "local", "cpus": 1,
                                    "hourly_usd": 0.1}],
            "criteria": [{"name": "tco", "weight": 3}, {"name": "latencyy", "weight": 2}]}
    with pytest.raises(ScenarioError) as e:
        resolve_criteria(parse_campaign(data), "s.yaml")
    msg = str(e.value)
    assert "s.yaml" in msg and "criteria[1].name" in msg and "'latencyy'" in msg
    assert all(b in msg for b in BUILTINS)


def test_manual_criterion_must_score_every_site():
    data = {"name": "x", "sites": [{"name": "a", "provider": "local", "cpus": 1,
                                    "hourly_usd": 0.1},
                                   {"name": "b", "provider": "local", "cpus": 1,
                                    "hourly_usd": 0.1}],
            "criteria": [{"name": "ops", "weight": 3, "scores": {"a": 5}}]}
    with pytest.raises(ScenarioError, match=r"criteria\[0\]\.scores: .*missing b"):
        resolve_criteria(parse_campaign(data))


def test_bounds_override_and_bad_bounds():
    base = {"name": "x", "sites": [{"name": "a", "provider": "local", "cpus": 1,
                                    "hourly_usd": 0.1}]}
    spec = resolve_criteria(parse_campaign(dict(base, criteria=[
        {"name": "network_latency", "weight": 2, "bounds": [10, 1]}])))[0]
    assert spec.bounds == (10.0, 1.0)
    with pytest.raises(ScenarioError, match=r"criteria\[0\]\.bounds: .*log scale"):
        resolve_criteria(parse_campaign(dict(base, criteria=[
            {"name": "cpu", "weight": 2, "bounds": [0, 100]}])))


def test_missing_measurement_scores_worst_and_not_applicable_is_visible(tmp_path):
    crit = [{"name": "cpu", "weight": 3}, {"name": "sla", "weight": 2}]
    d = make_campaign(tmp_path, ["small", "large"], criteria=crit)
    import pandas as pd

    frame = pd.read_parquet(d / "samples.parquet")
    frame = frame[~((frame["site"] == "large") & (frame["workload"] == "sysbench-cpu"))]
    frame.to_parquet(d / "samples.parquet", index=False)
    m = score_campaign_dir(d, write=False).matrix
    cell = m.cell("cpu", "large")
    assert cell.status == "missing" and cell.score == 1
    assert m.cell("sla", "small").status == "na" and m.cell("sla", "small").score is None
    assert any("SLA: n/a for small, large" in n for n in m.notes)
    assert any("no valid samples for large" in n for n in m.notes)


def test_cost_sla_and_compliance_criteria_use_the_real_catalog():
    import yaml

    from scoring.compliance import check
    from scoring.sla import sla_risk
    from scoring.tco import estimate_campaign

    data = yaml.safe_load(SEED.read_text())
    data["criteria"] = [{"name": "tco", "weight": 5}, {"name": "sla", "weight": 4},
                        {"name": "compliance", "weight": 3}, {"name": "cpu", "weight": 2}]
    campaign = parse_campaign(data)
    m = score_scenario(campaign).matrix
    costs = estimate_campaign(campaign)
    for site in ("provider-a", "provider-b"):
        assert m.cell("tco", site).value == pytest.approx(costs[site].monthly_usd)
        avail = sla_risk(campaign, site).availability_pct
        assert m.cell("sla", site).value == avail
        assert m.cell("sla", site).score == float(utility(avail, (99.0, 99.99), "nines"))
        s = campaign.site(site)
        assert m.cell("compliance", site).value == check(s.provider, s.region, []).value
        # measured criteria cannot be scored from a scenario alone: n/a, not a number
        assert m.cell("cpu", site).status == "na" and m.cell("cpu", site).score is None


def test_part_without_sla_scores_worst_not_best():
    """A zonal Cloud SQL has no SLA; the site must not look perfect because of it."""
    import yaml

    from bench.scenarios import parse_campaign
    from scoring.decide import score_scenario
    from tests.conftest import REPO

    data = yaml.safe_load((REPO / "scenarios" / "poc-web-db.yaml").read_text())
    gcp = next(s for s in data["sites"] if s["provider"] == "gcp")
    gcp["database"]["ha"] = False
    result = score_scenario(parse_campaign(data))
    cell = result.matrix.cells[("sla", gcp["name"])]
    assert cell.score == 1
    assert "no published SLA covers" in cell.note or "no published SLA covers" in (
        cell.quantity.note if cell.quantity else "")
