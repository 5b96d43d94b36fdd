"""`bakeoff plan` and `bakeoff show` as a user sees them."""

from __future__ import annotations

import json
import shutil

import pandas as pd
from typer.testing import CliRunner

from bakeoff.cli import app
from tests.conftest import REPO

runner = CliRunner()


def test_plan_resolves_sizes_and_prices_offline():
    res = runner.invoke(app, ["plan", str(REPO / "scenarios" / "poc-web-db.yaml")],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "c3-highcpu-4 (4 vCPU, 8 GiB) from size compute/4 vCPU" in res.output
    assert "c7i.xlarge" in res.output and "$" in res.output
    assert "54 unit(s) of work" in res.output


def test_show_medians_and_invalid_runs(tiny_campaign, tmp_path):
    folder = tmp_path / tiny_campaign.name
    shutil.copytree(tiny_campaign, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["units"]["small/sysbench-cpu/1"]["invalid_reason"] = "load generator saturated"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    samples = pd.read_parquet(folder / "samples.parquet")
    res = runner.invoke(app, ["show", str(folder)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    median = samples.query("site == 'large' and metric == 'events_per_second'")["value"].median()
    # show prints 3 significant figures below 1,000 and whole numbers above: which one
    # applies depends on this machine's speed, the value must appear either way.
    shown = f"{median:,.0f}" if median >= 1000 else f"{median:.1f}" if median >= 10 else (
        f"{median:.3g}")
    assert shown in res.output
    assert "INVALID small/sysbench-cpu/1: load generator saturated" in res.output
