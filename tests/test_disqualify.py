"""Hard requirements: a site failing compliance `requires:` or a `hard: true` requirement
cannot win; it stays in the matrix, marked, and the decision text says why (issue 18)."""

from __future__ import annotations

import json

import pandas as pd
import typer
import yaml
from typer.testing import CliRunner

from bakeoff.cli_decide import register
from bench.samples import SAMPLE_COLUMNS
from bench.scenarios import parse_campaign
from scoring.decide import score, score_scenario, write_outputs
from scoring.summary import contributions, decision, lead_breakdown

SITES = [
    {"name": "aws", "provider": "aws", "region": "us-east-1",
     "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.xlarge"},
    {"name": "azure", "provider": "azure", "region": "eastus", "zones": ["1", "2"],
     "instance_type": "Standard_F4s_v2"},
    {"name": "gcp", "provider": "gcp", "region": "us-central1",
     "zones": ["us-central1-a", "us-central1-b"], "instance_type": "c2d-highcpu-4"},
]
# AWS leads on a stated criterion by a wide margin: without the gate it would win.
CRITERIA = [{"name": "operability", "weight": 5, "scores": {"aws": 10, "azure": 6, "gcp": 5}},
            {"name": "support", "weight": 2, "scores": {"aws": 8, "azure": 7, "gcp": 9}}]


def scenario(requires: list[str], **extra) -> dict:
    return {"name": "gate", "sites": SITES, "criteria": CRITERIA, "requires": requires,
            **extra}


def test_the_issues_case_aws_fails_fedramp_high_and_cannot_win(tmp_path):
    # totals by hand: aws 5x10 + 2x8 = 66; azure 5x6 + 2x7 = 44; gcp 5x5 + 2x9 = 43
    result = score_scenario(parse_campaign(scenario(["fedramp-high", "hipaa-baa"])))
    m = result.matrix
    assert m.totals == {"aws": 66, "azure": 44, "gcp": 43}
    assert m.disqualified == {"aws": ["fedramp-high (none (not in us-east-1))"]}
    d = decision(result)
    assert d["leader"] == "azure"
    assert d["headline"].startswith("azure wins with 44 against 43 for gcp")
    assert "aws scored higher (66) but is DISQUALIFIED: it fails fedramp-high" in d["headline"]
    assert any("aws is DISQUALIFIED" in r for r in d["reasons"])
    assert result.sensitivity.mc_shares["aws"] == 0.0  # no weight can make it win
    assert m.ranking == ["azure", "gcp", "aws"]
    written = write_outputs(result, tmp_path)
    md = written["report_md"].read_text()
    assert "aws (DISQUALIFIED)" in md and "fails fedramp-high" in md
    assert "DISQUALIFIED" in written["report_html"].read_text()
    stored = json.loads(written["scores_json"].read_text())
    assert stored["decision"]["disqualified"]["aws"][0].startswith("fedramp-high")


def test_without_the_requirement_aws_wins():
    # the control: the same matrix, no requires -> the highest total (aws, 66) wins
    d = decision(score_scenario(parse_campaign(scenario([]))))
    assert d["leader"] == "aws" and "DISQUALIFIED" not in d["headline"]


def test_cli_exits_9_and_marks_the_site(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(scenario(["fedramp-high", "hipaa-baa"])))
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    out = CliRunner().invoke(app, ["score", "--scenario", str(f)], env={"COLUMNS": "200"})
    assert out.exit_code == 9, out.output
    assert "DISQUALIFIED" in out.output and "azure wins" in out.output
    assert "FAIL (hard: the site is disqualified) aws: compliance: fedramp-high" in out.output
    ok = tmp_path / "ok.yaml"
    ok.write_text(yaml.safe_dump(scenario(["hipaa-baa"])))
    assert CliRunner().invoke(app, ["score", "--scenario", str(ok)]).exit_code == 0
    no_fail = CliRunner().invoke(app, ["score", "--scenario", str(f),
                                       "--no-fail-on-requirements"])
    assert no_fail.exit_code == 0


def test_every_site_failing_means_no_winner():
    sites = [dict(s, region="eu-west-1" if s["provider"] == "aws" else s["region"])
             for s in SITES[:1]]
    c = parse_campaign({"name": "none", "sites": sites, "requires": ["fedramp-high"],
                        "criteria": [{"name": "operability", "weight": 3,
                                      "scores": {"aws": 9}}]})
    d = decision(score_scenario(c))
    assert d["leader"] is None and d["headline"].startswith("No site qualifies")


def _rtt(site: str, values: list[float]) -> list[dict]:
    rows = []
    for i, v in enumerate(values):
        row = dict.fromkeys(SAMPLE_COLUMNS)
        row.update(site=site, workload="ping", metric="rtt_avg", value=v, repetition=i,
                   valid=True, unit="ms", metadata="{}")
        rows.append(row)
    return rows


def test_a_hard_measured_requirement_disqualifies_a_soft_one_does_not():
    samples = pd.DataFrame(_rtt("aws", [3.0, 3.1, 3.2]) + _rtt("azure", [1.0, 1.1, 1.2])
                           + _rtt("gcp", [1.0, 1.0, 1.1]), columns=list(SAMPLE_COLUMNS))
    req = {"metric": "ping.rtt_avg", "operator": "<", "threshold": 2, "unit": "ms"}
    soft = score(parse_campaign(scenario([], requirements=[req])), samples)
    assert soft.matrix.disqualified == {} and decision(soft)["leader"] == "aws"
    hard = score(parse_campaign(scenario([], requirements=[dict(req, hard=True)])), samples)
    assert hard.matrix.disqualified == {"aws": ["ping.rtt_avg < 2 ms (got 3.1 ms)"]}
    assert decision(hard)["leader"] == "azure"


def test_lead_by_criterion_adds_up_to_the_lead():
    # by hand: aws leads azure 66 - 44 = 22 = operability 5x(10-6) = +20, support 2x(8-7) = +2
    result = score_scenario(parse_campaign(scenario([])))
    parts = lead_breakdown(result.matrix, "aws")
    assert parts["azure"] == {"operability": 20.0, "support": 2.0}
    assert parts["gcp"] == {"operability": 25.0, "support": -2.0}  # 5x5, 2x(8-9)
    assert sum(contributions(result.matrix, "gcp").values()) == 43


def test_show_lists_the_disqualified_sites_of_the_last_scoring(tmp_path):
    from io import StringIO

    from rich.console import Console

    from bakeoff.show import render_disqualified

    write_outputs(score_scenario(parse_campaign(scenario(["fedramp-high"]))), tmp_path)
    buf = StringIO()
    render_disqualified(tmp_path, Console(file=buf, width=200))
    assert buf.getvalue().strip() == ("aws is DISQUALIFIED (cannot win): fails fedramp-high "
                                      "(none (not in us-east-1))")
    empty = StringIO()
    render_disqualified(tmp_path / "nowhere", Console(file=empty))  # no scores: nothing
    assert empty.getvalue() == ""
