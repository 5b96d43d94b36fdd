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
