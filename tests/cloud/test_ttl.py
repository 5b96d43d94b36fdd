"""A campaign that would outlive its TTL: `plan` says so, `run` refuses before anything
is created (each VM powers itself off at the TTL, so the campaign would be cut short)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bakeoff.cli import app
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden" / "plan" / "aws-site.yaml"
ENV = {"BAKEOFF_OWNER": "o", "AWS_ACCESS_KEY_ID": "", "AWS_PROFILE": "",
       "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
# By hand: creation + deletion 0.25 h, a database 0.5 h (bakeoff/campaign_cost.py) = 45 min;
# units: 2 x (10 s + 30 s) sysbench-cpu, 2 x (100 x 0.05 s + 30 s) ping = 150 s = 2.5 min.
# 47.5 min: fits the golden's 60, not 40; suggested 47.5 x 1.25 + 1 -> 60.


def test_plan_reports_a_ttl_too_short_and_run_refuses(write_scenario, tmp_path):
    text = GOLDEN.read_text().replace("ttl_minutes: 60", "ttl_minutes: 40")
    path = write_scenario(text)
    res = CliRunner().invoke(app, ["plan", str(path), "--json"], env=ENV)
    assert res.exit_code == 0, res.output
    (problem,) = json.loads(res.output)["ttl_problems"]
    assert problem.startswith("site aws: about 48 min") and "at least 60" in problem
    res = CliRunner().invoke(app, ["plan", str(path)], env=ENV)
    assert "TTL too short" in res.output
    res = CliRunner().invoke(app, ["run", str(path), "--results", str(tmp_path / "r")],
                             env=ENV)
    # the CLI entry point prints a BakeoffError as a message (CliRunner keeps the exception)
    assert res.exit_code != 0 and "would outlive its TTL" in str(res.exception)
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_a_campaign_that_fits_has_no_ttl_problem(write_scenario):
    res = CliRunner().invoke(app, ["plan", str(write_scenario(GOLDEN.read_text())), "--json"],
                             env=ENV)
    assert "ttl_problems" not in json.loads(res.output)
