"""db-query: pgbench with a SQL script against the site's PostgreSQL; tps and latency HDR.

The default script is the PoC checkout service's hottest queries (bench/poc/
hot_queries.sql), which needs the PoC schema: it is loaded (idempotently) first. pgbench
runs on the load-generator host with a per-transaction log (-l); the log is folded into
an HDR histogram on that host (bench.poc.pgbench_log). The raw output is one JSON
document holding pgbench's summary, the SQL script itself and the encoded histogram.

Server-side DB-query timings seen by the service (its /metrics histogram deltas) are
part of http-load's raw output, because that is where the service runs under load.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from bench.hdr import HdrDecodeError, decode, latency_histogram_name, summary_ms
from bench.poc import HOT_QUERIES_SQL
from bench.poc.launcher import Passfile, host_python, run_checked
from bench.samples import Histogram, ParsedOutput, Sample
from bench.workloads import _json as J
from bench.workloads._checks import checked_parse
from bench.workloads._cross_checks import check_pgbench
from bench.workloads._locust_parse import LATENCY_METRICS
from bench.workloads._pgbench_checks import check_context, check_counts, check_rates
from bench.workloads._text import NUM, number
from bench.workloads.base import RunContext, WorkloadParams
from bench.workloads.http_load import host_cores, loadgen_host
from core.environment import DatabaseEndpoint, Environment, Host
from core.errors import BakeoffError, ParseError
from core.executor import stage_file

TOOL = "pgbench"
# pgbench 14+: "tps = X (without initial connection time)"; pgbench 13 and older print
# "(including connections establishing)" and "(excluding connections establishing)":
# the excluding figure is the same quantity as the newer line.
TPS = re.compile(rf"^tps = ({NUM}) \((?:without initial connection time|excluding "
                 r"connections establishing)\)", re.MULTILINE)


def _small_int(doc: dict[str, Any], key: str) -> int | None:
    """A context number (clients, threads) for metadata; None when absent or odd."""
    value = doc.get(key)
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1_000_000
    return value if ok else None


class Params(WorkloadParams):
    sql_file: str | None = Field(None, description="pgbench script; default: PoC hot queries")
    clients: int = Field(4, gt=0, le=1000, description="concurrent database sessions")
    threads: int | None = Field(None, gt=0, le=256,
                                description="pgbench threads; default min(clients, cores)")
    duration_s: int = Field(10, gt=0, le=3600, description="pgbench run time (-T), seconds")
    load_schema: bool | None = Field(None, description="load the PoC schema first; default: "
                                     "only with the built-in script")

    @field_validator("sql_file")
    @classmethod
    def _sql_usable(cls, v: str | None) -> str | None:
        """Checked when the scenario is validated: exists, readable, not empty."""
        if v is not None:
            try:
                _check_sql(Path(v).expanduser())
            except BakeoffError as exc:
                raise ValueError(str(exc).removeprefix("db-query: ")
                                 .removesuffix(" (params.sql_file)")) from None
        return v


def _check_sql(path: Path) -> str:
    if not path.is_file():
        raise BakeoffError(f"db-query: SQL file {path} does not exist (params.sql_file)")
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise BakeoffError(f"db-query: SQL file {path} cannot be read: {exc.strerror} "
                           "(params.sql_file)") from None
    if not text.strip():
        raise BakeoffError(f"db-query: SQL file {path} is empty (params.sql_file)")
    return text


class DbQuery:
    name = "db-query"
    tool = TOOL
    tool_host = "loadgen"  # pgbench runs on the load generator
    metrics: ClassVar[dict[str, str]] = {
        "tps": "tx/s", "transactions": "count", "failed_transactions": "count",
        **{k: "ms" for k in LATENCY_METRICS}}
    Params = Params

    def plan(self, params: Params, env: Any):
        raise NotImplementedError("db-query drives its own processes: use run()")

    @staticmethod
    def host_modules(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """Loading the schema and folding pgbench's logs run Python on the load host."""
        return {"loadgen": ("psycopg", "hdrh")}

    def run(self, params: Params, env: Environment, ctx: RunContext | None = None) -> str:
        db = env.database
        if db is None:
            raise BakeoffError(f"db-query on site {env.site!r} needs a database: add "
                               "`database: {}` to the site")
        sql_path = Path(params.sql_file).expanduser() if params.sql_file else HOT_QUERIES_SQL
        sql = _check_sql(sql_path)
        host = loadgen_host(env)
        python, py_env = host_python(host)
        with Passfile(host, db) as passfile:
            return self._run(params, env, db, host, python, py_env | passfile.env,
                             sql_path, sql)

    def _run(self, params: Params, env: Environment, db: DatabaseEndpoint, host: Host,
             python: str, py_env: dict[str, str], sql_path: Path, sql: str) -> str:
        if params.load_schema or (params.load_schema is None and params.sql_file is None):
            run_checked(host.executor, [python, "-m", "bench.poc.db", "--dsn", db.conninfo],
                        "db-query: loading the PoC schema", timeout=120, env=py_env)
        threads = params.threads or max(1, min(params.clients, host_cores(host)))
        threads = min(threads, params.clients)
        base = host.facts.get("scratch_dir") or tempfile.gettempdir()
        log_dir = str(Path(base) / f"bakeoff-pgbench-{uuid.uuid4().hex}")
        run_checked(host.executor, ["mkdir", "-p", log_dir], "db-query: mkdir", timeout=30)
        # a remote host does not share this machine's files (no scratch: this machine)
        sql_on_host = (stage_file(host.executor, sql_path, f"{log_dir}.sql")
                       if host.facts.get("scratch_dir") else str(sql_path))
        # "pgbench" is resolved on the load host's PATH, not on this machine
        argv = ["pgbench", "-h", db.host, "-p", str(db.port),
                "-U", db.user, "-d", db.dbname, "-n", "-c", str(params.clients),
                "-j", str(threads), "-T", str(params.duration_s), "-f", sql_on_host,
                "-l", f"--log-prefix={log_dir}/pgbench"]
        try:
            res = host.executor.run(argv, timeout=params.duration_s + 120,
                                    env={**py_env, "PGCONNECT_TIMEOUT": "30"})
            if not res.ok:
                raise BakeoffError(
                    f"db-query: pgbench with {sql_path} failed (rc={res.rc}"
                    f"{', timed out' if res.timed_out else ''}): "
                    f"{(res.stderr or res.stdout).strip()[-1200:]}")
            folded = run_checked(host.executor, [python, "-m", "bench.poc.pgbench_log",
                                                 log_dir], "db-query: folding pgbench logs",
                                 timeout=300, env=py_env)
        finally:
            host.executor.run(["rm", "-rf", log_dir, f"{log_dir}.sql"], timeout=60)
        return json.dumps({
            "workload": self.name, "format": 1, "sql_file": str(sql_path),
            # the script's checksum, never its text: results must not carry a file's content
            "sql_sha256": hashlib.sha256(sql.encode()).hexdigest(),
            "clients": params.clients, "threads": threads, "duration_s": params.duration_s,
            "database": {"host": db.host, "port": db.port, "dbname": db.dbname, "kind": db.kind},
            "pgbench_stdout": res.stdout, "pgbench_stderr_tail": res.stderr[-2000:],
            "log": json.loads(folded),
        }, indent=1)

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        doc = J.loads(TOOL, output, "db-query raw output")
        if not isinstance(doc, dict):
            raise ParseError(TOOL, "raw output is not a db-query JSON document")
        stdout = J.text(TOOL, doc, "pgbench_stdout")
        log = J.obj(TOOL, doc, "log")
        m = TPS.search(stdout)
        if not m:
            raise ParseError(TOOL, "no 'tps = ... (without initial connection time)' line (nor "
                                   "pgbench 13's '(excluding connections establishing)')")
        tps = number(TOOL, m.group(1), "tps")
        encoded = J.text(TOOL, log, "hdr")
        try:
            hist = decode(encoded)
        except HdrDecodeError as exc:
            raise ParseError(TOOL, f"log.hdr: {exc}") from None
        n = J.count(TOOL, log, "transactions")
        failed = J.count(TOOL, log, "failed", 0)
        check_pgbench(n, failed, tps, _small_int(doc, "duration_s"), _small_int(doc, "clients"))
        check_counts(stdout, n, failed)
        check_context(stdout, doc)
        check_rates(stdout, doc, n, failed, tps)
        if hist.get_total_count() > n:
            raise ParseError(TOOL, f"log.hdr holds {hist.get_total_count()} latencies but "
                                   f"log.transactions says {n}")
        valid, reason = (True, "") if n else (False, "no transaction completed")
        meta: dict[str, Any] = {"clients": _small_int(doc, "clients"),
                                "threads": _small_int(doc, "threads")}
        samples = [Sample("tps", tps, "tx/s", meta),
                   Sample("transactions", n, "count", meta),
                   Sample("failed_transactions", failed, "count", meta)]
        samples += [Sample(k, v, "ms", meta) for k, v in summary_ms(hist).items()
                    if k in ("latency_p50", "latency_p95", "latency_p99", "latency_p999",
                             "latency_mean")]
        histograms = [Histogram(latency_histogram_name(), encoded, "us",
                                {"valid": valid, "source": "pgbench -l"})] if n else []
        return ParsedOutput(samples, histograms, valid, reason)

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("pgbench", "--version")


WORKLOAD = DbQuery()
