"""Issue 19, Build 2: `verify` recomputes what the tables say. A real campaign (sysbench-cpu
and db-query against a real local PostgreSQL, so there are HDR histograms) is tampered with
in the ways the audit found passing; each must fail verify, naming unit, metric and values."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bench.orchestrator import Orchestrator
from bench.scenarios import parse_campaign
from core.exit_codes import ExitCode
from tests.conftest import requires_tools
from tests.test_reliability import cli  # the in-process CLI runner

pytestmark = [pytest.mark.integration, requires_tools("sysbench", "initdb", "pgbench")]




@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> Path:
    """Its own machine lock and state root: it waits for nobody else's campaign."""
    own = tmp_path_factory.mktemp("lock")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAKEOFF_MACHINE_LOCK", str(own / "machine.lock"))
        mp.setenv("BAKEOFF_STATE_DIR", str(own / "state"))
        return _measure(tmp_path_factory)


def _measure(tmp_path_factory) -> Path:
    campaign = parse_campaign({
        "name": "tamper", "repetitions": 1,
        "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.04,
                   "network": "loopback", "database": {}}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}},
                      {"name": "db-query", "params": {"duration_s": 1, "clients": 1}}],
        "criteria": [{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}],
        "requirements": [{"metric": "db-query.latency_p99", "operator": "<",
                          "threshold": 60000}],
    })
    folder = Orchestrator(campaign, tmp_path_factory.mktemp("results"), quiet=True).run()
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    return folder


@pytest.fixture
def copy(measured, tmp_path) -> Path:
    folder = tmp_path / measured.name
    shutil.copytree(measured, folder)
    return folder


def test_intact_campaign_verifies(measured, capsys):
    code, text = cli(capsys, "verify", str(measured))
    assert code == 0, text
    assert len(pd.read_parquet(measured / "histograms.parquet")) >= 1  # the test needs some


def _rewrite(folder: Path, name: str, change) -> None:
    frame = pd.read_parquet(folder / name)
    change(frame)
    frame.to_parquet(folder / name, index=False)


def test_every_value_times_ten_fails(copy, capsys):
    before = pd.read_parquet(copy / "samples.parquet")
    row = before[(before["workload"] == "sysbench-cpu")
                 & (before["metric"] == "events_per_second")].iloc[0]
    _rewrite(copy, "samples.parquet", lambda f: f.__setitem__("value", f["value"] * 10))
    code, text = cli(capsys, "verify", str(copy))
    assert code == ExitCode.DAMAGED, text
    # the unit, the metric and both values (the stored one is 10x the journal's)
    assert "a/sysbench-cpu/0 events_per_second: samples.parquet says" in text
    assert f"{row['value'] * 10:.10g}" in text and f"{row['value']:.10g}" in text


def test_every_value_nan_fails(copy, capsys):
    _rewrite(copy, "samples.parquet", lambda f: f.__setitem__("value", float("nan")))
    code, text = cli(capsys, "verify", str(copy))
    assert code == ExitCode.DAMAGED and "value(s) are NaN" in text, text


def test_value_stored_as_text_fails(copy, capsys):
    _rewrite(copy, "samples.parquet", lambda f: f.__setitem__("value", f["value"].astype(str)))
    code, text = cli(capsys, "verify", str(copy))
    assert code == ExitCode.DAMAGED, text
    assert "column 'value' holds " in text and "expected numbers" in text, text


def test_junk_hdr_blobs_fail(copy, capsys):
    _rewrite(copy, "histograms.parquet", lambda f: f.__setitem__("encoded", "HISTFAAAAjunk"))
    code, text = cli(capsys, "verify", str(copy))
    assert code == ExitCode.DAMAGED, text
    assert "histograms.parquet: histograms.parquet: histogram does not decode" in text
    assert "a/db-query/0: histograms differ from the journal's" in text


def test_manifest_status_exploded_fails(copy, capsys):
    path = copy / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["status"] = "exploded"
    path.write_text(json.dumps(manifest))
    code, text = cli(capsys, "verify", str(copy))
    assert code == ExitCode.DAMAGED and "manifest.json: status: Input should be" in text, text
    assert "'exploded'" in text


def test_journal_rewritten_with_its_checksum_is_caught_from_the_raw_output(copy, capsys):
    """A tamperer who also fixes the manifest's checksum: the raw output still disagrees."""
    journal = copy / "units/a/sysbench-cpu/0.json"
    payload = json.loads(journal.read_text())
    first = payload["samples"][0]
    original = first["value"]
    first["value"] = original * 10
    data = json.dumps(payload).encode()
    journal.write_bytes(data)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["units"]["a/sysbench-cpu/0"]["journal_sha256"] = hashlib.sha256(data).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, text = cli(capsys, "verify", str(copy))
    assert code == ExitCode.DAMAGED, text
    assert (f"a/sysbench-cpu/0 {first['metric']}: the journal says {original * 10:.10g}, "
            f"the raw output says {original:.10g}") in text


# -- Build 3: no silent fallbacks ------------------------------------------------------------

def test_without_histograms_every_surface_says_which_statistic(measured, copy, capsys):
    """histograms.parquet gone: db-query's latency percentiles fall back to the median of the
    repetitions' own percentiles, and show, the report and the matrix say so."""
    (copy / "histograms.parquet").unlink()
    code, text = cli(capsys, "show", str(copy))
    assert code == 0, text
    assert "†" in text and "the exact HDR merge is unavailable" in text
    code, text = cli(capsys, "show", str(copy), "--format", "json")
    assert '"statistic": "median (no HDR)"' in text
    assert cli(capsys, "report", str(copy))[0] == 0
    html = (copy / "report" / "index.html").read_text()
    assert "median of the repetitions&#39; p99: the exact HDR merge is unavailable" in html \
        or "median of the repetitions' p99: the exact HDR merge is unavailable" in html
    # with the histograms back, no surface claims a fallback
    shutil.copy(measured / "histograms.parquet", copy / "histograms.parquet")
    code, text = cli(capsys, "show", str(copy))
    assert code == 0 and "†" not in text and "HDR merge is unavailable" not in text, text


def test_a_site_whose_rows_are_gone_is_reported(tiny_campaign, tmp_path, capsys):
    folder = tmp_path / tiny_campaign.name
    shutil.copytree(tiny_campaign, folder)
    frame = pd.read_parquet(folder / "samples.parquet")
    frame[frame["site"] != "large"].to_parquet(folder / "samples.parquet", index=False)
    code, text = cli(capsys, "show", str(folder))
    assert code == 0, text
    assert "no valid samples for site(s) large in samples.parquet" in text
