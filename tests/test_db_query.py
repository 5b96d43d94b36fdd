"""db-query for real: pgbench against a temporary PostgreSQL, HDR from the per-transaction
log, clear errors for a bad SQL file; golden parsing of a captured raw output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bench.hdr import decode
from bench.poc.pgbench_log import fold
from bench.workloads import REGISTRY
from bench.workloads.db_query import Params
from core.errors import BakeoffError, ParseError
from tests.load_support import assert_nothing_left, local_env

GOLDEN = Path(__file__).parent / "golden" / "db-query"
WL = REGISTRY["db-query"]


def _metric(out, name):
    return next(s.value for s in out.samples if s.metric == name)


def test_golden_pgbench_run():
    raw = (GOLDEN / "pgbench.json").read_text()
    doc = json.loads(raw)
    out = WL.parse(raw, Params())
    assert out.valid
    assert _metric(out, "tps") > 0
    assert _metric(out, "transactions") == doc["log"]["transactions"] == \
        decode(doc["log"]["hdr"]).get_total_count()
    # pgbench's own processed count matches the per-transaction log
    assert f"actually processed: {doc['log']['transactions']}" in doc["pgbench_stdout"]
    assert _metric(out, "latency_p50") <= _metric(out, "latency_p99")
    assert [h.name for h in out.histograms] == ["latency:all"]


def test_parse_rejects_foreign_output():
    with pytest.raises(ParseError, match="pgbench"):
        WL.parse("tps = 12", Params())


def test_fold_counts_failed_and_skipped():
    lines = ["0 1 1500 0 1700000000 1", "0 2 failed 0 1700000000 2",
             "1 1 skipped 0 1700000000 3", "1 2 2500 0 1700000000 4", ""]
    res = fold(lines)
    assert (res["transactions"], res["failed"], res["skipped"]) == (2, 1, 1)
    assert decode(res["hdr"]).get_mean_value() == pytest.approx(2000, rel=1e-3)


def test_db_query_without_database_is_a_clear_error():
    env = local_env(None)
    with pytest.raises(BakeoffError, match="needs a database"):
        WL.run(Params(), env, None)


@pytest.mark.integration
def test_real_pgbench_with_default_hot_queries(database):
    params = Params(clients=2, duration_s=2)
    raw = WL.run(params, local_env(database), None)
    out = WL.parse(raw, params)
    assert out.valid and _metric(out, "tps") > 10
    assert _metric(out, "failed_transactions") == 0
    assert 0 < _metric(out, "latency_p50") <= _metric(out, "latency_p99")
    assert_nothing_left()


@pytest.mark.integration
def test_bad_sql_is_a_clear_error(database, tmp_path):
    env = local_env(database)
    with pytest.raises(ValidationError, match=r"SQL file .*missing\.sql does not exist"):
        Params(sql_file=str(tmp_path / "missing.sql"))
    broken = tmp_path / "broken.sql"
    broken.write_text("SELECT * FROM no_such_table;\n")
    with pytest.raises(BakeoffError, match=r"pgbench with .*broken\.sql failed"):
        WL.run(Params(sql_file=str(broken), duration_s=1), env, None)
    assert_nothing_left()


@pytest.mark.integration
def test_real_run_agrees_with_pgbench_own_report(database):
    """The parsed numbers against what pgbench itself printed in the same run (a second
    source, not the parser's reading of it): its processed count, its tps, and its
    "latency average", which pgbench 15 computes from run time x clients / transactions
    (no per-transaction log), so it only bounds the log's mean loosely."""
    import re

    params = Params(clients=2, duration_s=2)
    raw = WL.run(params, local_env(database), None)
    out = WL.parse(raw, params)
    stdout = json.loads(raw)["pgbench_stdout"]
    processed = int(re.search(r"actually processed: (\d+)", stdout).group(1))
    tps = float(re.search(r"^tps = ([\d.]+)", stdout, re.MULTILINE).group(1))
    average = float(re.search(r"^latency average = ([\d.]+) ms", stdout, re.MULTILINE)
                    .group(1))
    assert _metric(out, "transactions") == processed
    assert _metric(out, "tps") == pytest.approx(tps, rel=1e-6)
    hist = decode(json.loads(raw)["log"]["hdr"])
    # each client's latencies add up to at most its run time, so the log's mean is at most
    # pgbench's run-time average (printed to 3 decimals); the gap is the client's own time
    # between transactions, never most of it
    assert 0.25 * average <= hist.get_mean_value() / 1000 <= average * 1.02
    assert_nothing_left()


@pytest.mark.integration
def test_pgbench_log_fold_matches_numpy_on_the_raw_log(database, tmp_path):
    """The HDR folded from a real pgbench per-transaction log gives the same count and
    percentiles as numpy over the log's latency column (hdrhistogram's rank rule, 3
    significant figures): the fold is checked against the raw lines, not against itself."""
    import os
    import subprocess
    import sys

    import numpy as np

    script = tmp_path / "q.sql"
    script.write_text("SELECT pg_sleep(random() * 0.002);\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    res = subprocess.run(["pgbench", "-n", "-c", "2", "-j", "2", "-T", "2", "-f",
                          str(script), "-l", f"--log-prefix={logs}/pgbench", database.dsn],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [ln.split() for f in sorted(logs.iterdir()) for ln in f.read_text().splitlines()]
    latencies = np.array([float(p[2]) for p in lines if p and p[2] not in ("failed",
                                                                           "skipped")])
    assert latencies.size > 50
    folded = subprocess.run([sys.executable, "-m", "bench.poc.pgbench_log", str(logs)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ}, check=True)
    doc = json.loads(folded.stdout)
    hist = decode(doc["hdr"])
    assert doc["transactions"] == hist.get_total_count() == latencies.size
    ordered = np.sort(latencies)
    for pct in (50, 95, 99):
        # hdrhistogram's rank: int(p x n / 100 + 0.5), at least 1 (rounded, where the
        # textbook nearest rank takes the ceiling), reported as the highest value
        # equivalent to that sample's bucket (3 significant figures: within 0.1 %)
        rank = max(1, int(pct * ordered.size / 100 + 0.5))
        assert hist.get_value_at_percentile(pct) == pytest.approx(ordered[rank - 1],
                                                                  rel=1e-3), pct
    assert hist.get_mean_value() == pytest.approx(latencies.mean(), rel=1e-3)
