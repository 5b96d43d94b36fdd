"""The report: files, self-contained HTML, every table and chart, and a real browser."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from decide_fixture import make_campaign
from typer.testing import CliRunner

from scoring.decide import score_campaign_dir
from tests.conftest import skip_missing_tool

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TABLE_IDS = ["matrix", "requirements", "cost-summary", "cost-breakdown", "measurements",
             "sensitivity-oat", "sensitivity-mc", "sensitivity-flip", "topsis", "excluded-runs",
             "provenance"]
CHART_IDS = ["chart-weighted", "chart-cost", "chart-mc"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    d = make_campaign(tmp_path_factory.mktemp("results"), ["small", "large", "medium"])
    score_campaign_dir(d)
    return d


def check_html(html: str, min_distributions: int) -> None:
    for tid in TABLE_IDS:
        assert f'<table id="{tid}"' in html, tid
    assert 'id="decision-summary"' in html
    for cid in CHART_IDS:
        assert f'id="{cid}"' in html, cid
    imgs = re.findall(r'<img class="chart" id="([^"]+)" alt="([^"]+)" '
                      r'src="data:image/png;base64,([^"]+)"', html)
    assert len([i for i in imgs if i[0].startswith("chart-dist-")]) >= min_distributions
    for _, alt, b64 in imgs:
        assert len(alt) > 20
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(https?:)?//', html), "the page must be self-contained"


def test_report_files_and_contents(rendered):
    report = rendered / "report"
    html = (report / "index.html").read_text()
    check_html(html, min_distributions=6)
    assert "fio reported errors in the job" in html  # the invalid run is listed
    assert "ping: timed out after 60 s" in html  # so is the failed unit
    assert "SLA: n/a for small, large, medium" in html
    md = (report / "report.md").read_text()
    assert "&gt;" not in md and "&lt;" not in md and "&amp;" not in md  # Markdown, not HTML
    scores = json.loads((rendered / "scores" / "scores.json").read_text())
    for _site, total in scores["totals"].items():
        assert f"**{total:.1f}**" in md or f"**{int(total)}**" in md
    rows = list(csv.reader((report / "matrix.csv").open()))
    assert rows[0][:3] == ["criterion", "label", "weight"] and rows[-1][0] == "TOTAL"
    assert (report / "matrix.csv").read_text() == (rendered / "scores" / "matrix.csv").read_text()
    assert sorted(p.name for p in (report / "charts").glob("*.png"))


def test_scores_json_traces_every_cell(rendered):
    scores = json.loads((rendered / "scores" / "scores.json").read_text())
    cells = {(c["criterion"], c["site"]): c for c in scores["cells"]}
    cpu = cells[("cpu", "small")]
    assert cpu["unit"] == "events/s" and cpu["utility_bounds"] == [200.0, 50000.0]
    assert cpu["repetitions"] == 3 and len(cpu["repetition_values"]) == 3
    assert cpu["sources"] == ["sysbench-cpu.events_per_second (3 valid repetition(s))"]
    assert cells[("disk_iops", "small")]["repetitions"] == 2  # the invalid rep is excluded
    tco = cells[("tco", "large")]
    assert tco["value"] == pytest.approx(0.0832 * 730)
    assert any("sites[large].hourly_usd" in s and "[stated]" in s for s in tco["sources"])
    assert cells[("sla", "small")]["status"] == "na"


def test_cli_score_with_weights_and_report(tmp_path):
    from bakeoff.cli import app

    d = make_campaign(tmp_path / "results", ["small", "large"])
    w = tmp_path / "w.yaml"
    w.write_text("tco: 1\n")
    runner = CliRunner()
    res = runner.invoke(app, ["score", "fixture-1", "--results", str(tmp_path / "results"),
                              "--weights", str(w)])
    assert res.exit_code == 0, res.output
    assert "weights: TCO per month 1," in res.output
    assert json.loads((d / "scores" / "scores.json").read_text())["weights_source"] == str(w)
    (d / "report" / "index.html").unlink()
    res = runner.invoke(app, ["report", str(d)])
    assert res.exit_code == 0, res.output
    assert (d / "report" / "index.html").is_file()
    # the re-render keeps the weights the campaign was last scored with
    assert json.loads((d / "scores" / "scores.json").read_text())["weights_source"] == str(w)


def chromium_dom(html: Path, tmp: Path) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp / 'chromium-profile'}",
           "--virtual-time-budget=5000", "--dump-dom", html.as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def check_in_browser(html: Path, tmp: Path) -> None:
    if not Path(CHROMIUM).exists():
        skip_missing_tool("chromium")
    dom = chromium_dom(html, tmp)
    body = re.search(r'<body data-images="(\d+)" data-images-decoded="(\d+)"', dom)
    assert body, "the page's load handler did not run"
    total, decoded = int(body.group(1)), int(body.group(2))
    assert total >= 3 and decoded == total
    assert dom.count('data-decoded="yes"') == total
    for tid in TABLE_IDS:
        assert f'<table id="{tid}"' in dom, tid


def test_fixture_report_in_headless_chromium(rendered, tmp_path):
    check_in_browser(rendered / "report" / "index.html", tmp_path)


@pytest.mark.integration
def test_real_quickstart_campaign_report_in_headless_chromium(quickstart_run, tmp_path):
    """`bakeoff run` on the quickstart ends by scoring and writing the report."""
    folder, _ = quickstart_run
    html = folder / "report" / "index.html"
    assert html.is_file()
    text = html.read_text()
    check_html(text, min_distributions=1)
    check_in_browser(html, tmp_path)
