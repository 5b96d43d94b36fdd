"""Issue 19, Build 3 (no silent fallbacks), on the surfaces `show` and `report` did not cover:
`compare` and the notebooks (and bench/frames.py, the library they call) say which statistic
a latency percentile is when it is not the exact HDR merge.

A real campaign (sysbench-cpu and db-query against a real local PostgreSQL, so there are HDR
histograms; tests/test_verify_recompute.py builds it) is copied, with and without its
histograms.parquet.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import frames
from bench.results import load_results
from scoring import hdr_stats
from scoring.compare import metric_change
from scoring.compare_report import statistic, statistic_notes
from tests.conftest import requires_tools
from tests.test_notebooks import _execute
from tests.test_reliability import cli  # the in-process CLI runner
from tests.test_verify_recompute import _measure

UNAVAILABLE = "the exact HDR merge is unavailable"
COMPARED = ("db-query.latency_p50, db-query.latency_p95, db-query.latency_p99, "
            "db-query.latency_p999: compared as the median of the repetitions' own percentiles, "
            "not the exact HDR merge")


def squash(text: str) -> str:
    """Without whitespace: rich wraps a long note at any width."""
    return "".join(text.split())


def test_frames_and_scoring_agree_on_the_hdr_workloads():
    assert frames.HDR_WORKLOADS == hdr_stats.HDR_WORKLOADS
    for metric in ("latency_p50", "latency_p99", "latency_p999", "latency_p9999", "rps"):
        assert frames.hdr_percentile("db-query", metric) == hdr_stats.percentile_of(metric)
    assert frames.hdr_percentile("sysbench-cpu", "latency_p99") is None


def test_compare_rows_say_their_statistic():
    """Worked by hand: compare takes the median of the per-repetition values (12.0 here)."""
    p99 = metric_change(("s", "http-load", "latency_p99", "", "ms"), [10.0, 12.0, 11.0],
                        [12.0, 13.0, 14.0], 0.05)
    cpu = metric_change(("s", "sysbench-cpu", "events_per_second", "", "events/s"),
                        [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 0.05)
    assert p99.base == 11.0 and p99.new == 13.0
    assert statistic(p99) == "median of repetitions' p99 (no exact HDR merge)"
    assert statistic(cpu) == "median of the repetitions"


@pytest.mark.integration
@requires_tools("sysbench", "initdb", "pgbench")
class TestRealCampaign:
    @pytest.fixture(scope="class")
    @classmethod
    def measured(cls, tmp_path_factory) -> Path:
        own = tmp_path_factory.mktemp("lock")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("BAKEOFF_MACHINE_LOCK", str(own / "machine.lock"))
            mp.setenv("BAKEOFF_STATE_DIR", str(own / "state"))
            return _measure(tmp_path_factory)

    @pytest.fixture
    def pair(self, measured, tmp_path) -> tuple[Path, Path]:
        """The campaign and a copy of it without histograms.parquet."""
        base = tmp_path / "base" / measured.name
        new = tmp_path / "new" / measured.name
        shutil.copytree(measured, base)
        shutil.copytree(measured, new)
        (new / "histograms.parquet").unlink()
        return base, new

    def test_compare_says_which_statistic_on_every_output(self, pair, tmp_path, capsys):
        base, new = pair
        code, text = cli(capsys, "compare", str(base), str(new), "--all")
        assert code == 0, text
        assert squash(COMPARED) in squash(text)
        code, text = cli(capsys, "compare", str(base), str(new), "--format", "json")
        assert code == 0 and any(COMPARED in w for w in json.loads(text)["warnings"]), text
        code, text = cli(capsys, "compare", str(base), str(new), "--format", "csv")
        assert code == 0 and "median of repetitions' p99 (no exact HDR merge)" in text
        out = tmp_path / "drift"
        code, text = cli(capsys, "compare", str(base), str(new), "--out", str(out))
        assert code == 0, text
        for name in ("drift.md", "drift.json"):
            assert COMPARED in (out / name).read_text(), name
        page = (out / "drift.html").read_text().replace("&#39;", "'")
        assert COMPARED in page, page[page.find("Note"):][:2000]

    def test_frames_name_the_missing_merge(self, pair):
        base, new = pair
        intact = load_results(base)
        assert frames.hdr_fallbacks(intact.samples, intact.histograms) == []
        gone = load_results(new)
        lines = frames.hdr_fallbacks(gone.samples, gone.histograms)
        assert len(lines) == 1 and lines[0].startswith(f"db-query at a: {UNAVAILABLE}")
        assert "latency_p99" in lines[0] and "sysbench" not in lines[0]
        # junk blobs (decodable by nothing): named too, and the latency table does not crash
        junk = intact.histograms.assign(encoded="HISTFAAAAjunk")
        assert frames.hdr_fallbacks(intact.samples, junk) == lines
        assert frames.latency_table(junk).empty
        # one site's rows gone from an otherwise intact table: that site is named
        other = intact.histograms.assign(site="b")
        assert frames.hdr_fallbacks(intact.samples, other) == lines

    def test_notebooks_say_which_statistic(self, pair, monkeypatch):
        base, new = pair
        text = _execute("explore-campaign.ipynb", {"BAKEOFF_CAMPAIGN": str(new)}, monkeypatch)
        assert f"note: db-query at a: {UNAVAILABLE}" in text, text[-3000:]
        assert "median of repetitions' p99 (no exact HDR merge)" in text
        text = _execute("analysis.ipynb", {"BAKEOFF_CAMPAIGN": str(new)}, monkeypatch)
        assert f"note: db-query at a: {UNAVAILABLE}" in text, text[-3000:]
        text = _execute("analysis.ipynb", {"BAKEOFF_CAMPAIGN": str(base)}, monkeypatch)
        assert UNAVAILABLE not in text
        text = _execute("trends.ipynb", {"BAKEOFF_RESULTS": str(new.parent),
                                         "BAKEOFF_METRIC": "latency_p99"}, monkeypatch)
        assert "db-query.latency_p99: median of repetitions' p99 (no exact HDR " \
               "merge)" in text, text[-3000:]


def test_statistic_notes_name_only_hdr_percentiles():
    p99 = metric_change(("s", "db-query", "latency_p99", "", "ms"), [1.0], [1.0], 0.05)
    tps = metric_change(("s", "db-query", "tps", "", "tx/s"), [1.0], [1.0], 0.05)

    class C:
        def __init__(self, metrics):
            self.metrics = metrics

    (note,) = statistic_notes(C([p99, tps]))  # type: ignore[arg-type]
    assert note.startswith("db-query.latency_p99: compared as the median")
    assert statistic_notes(C([tps])) == []  # type: ignore[arg-type]
