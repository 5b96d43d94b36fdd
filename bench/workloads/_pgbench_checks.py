"""pgbench's printed summary checked against its per-transaction log and its own context.

db-query's raw document holds pgbench's stdout beside the counts folded from its `-l`
log and the run's context (clients, threads, duration). One run yields all of them, so:

- the processed and failed counts pgbench prints are the log's counts (pgbench writes a
  log line for each transaction it counts); the failed percentage is
  100 x failed / (processed + failed) (pgbench 15, printResults);
- the clients, threads and duration it prints are the ones the workload asked for;
- without --rate/--progress pgbench prints no measured latency but
  `latency average = duration x clients / (processed + failed)`, and tps = processed /
  duration, so latency x tps = 1000 x clients x processed / (processed + failed) ms/s
  (the captured pgbench 15 output: 2.331 x 857.885 / 1000 = 2.000 for 2 clients);
- processed / tps is the time the clients ran: a -T run keeps them running for its whole
  duration, so that time is not under half the duration.

Each disagreement is an output no pgbench run prints; the parser refuses it, naming it.
"""

from __future__ import annotations

import re
from typing import Any

from bench.workloads._text import INT, NUM, integer, number
from core.errors import ParseError

TOOL = "pgbench"
LATENCY_TOL = 0.05  # pgbench 13 computes the latency over the time with connections

_PROCESSED = re.compile(rf"^number of transactions actually processed: ({INT})", re.MULTILINE)
_FAILED = re.compile(rf"^number of failed transactions: ({INT}) \(({NUM})%\)", re.MULTILINE)
_CLIENTS = re.compile(rf"^number of clients: ({INT})", re.MULTILINE)
_THREADS = re.compile(rf"^number of threads: ({INT})", re.MULTILINE)
_DURATION = re.compile(rf"^duration: ({INT}) s", re.MULTILINE)
_LATENCY = re.compile(rf"^latency average = ({NUM}) ms", re.MULTILINE)
_STDDEV = re.compile(r"^latency stddev = ", re.MULTILINE)


def _printed(pattern: re.Pattern[str], stdout: str, what: str) -> int | None:
    m = pattern.search(stdout)
    return integer(TOOL, m.group(1), what) if m else None


def _context(doc: dict[str, Any], key: str) -> int | None:
    v = doc.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def check_counts(stdout: str, transactions: int, failed: int) -> None:
    """Printed processed/failed counts against the log's, and the failed percentage."""
    printed = _printed(_PROCESSED, stdout, "transactions processed")
    if printed is not None and printed != transactions:
        raise ParseError(TOOL, f"pgbench printed {printed} transactions processed, but its "
                               f"log holds {transactions}")
    m = _FAILED.search(stdout)
    if not m:
        return
    printed_failed = integer(TOOL, m.group(1), "failed transactions")
    if printed_failed != failed:
        raise ParseError(TOOL, f"pgbench printed {printed_failed} failed transactions, but "
                               f"its log holds {failed}")
    pct = number(TOOL, m.group(2), "failed percentage")
    done = (printed if printed is not None else transactions) + printed_failed
    expected = 100.0 * printed_failed / done if done else 0.0
    if abs(pct - expected) > 0.0005 + 1e-9:
        raise ParseError(TOOL, f"{pct:g}% failed printed, but {printed_failed} failed of "
                               f"{done} is {expected:.3f}%")


def check_context(stdout: str, doc: dict[str, Any]) -> None:
    """The clients, threads and duration pgbench printed against the run's own."""
    for label, pattern, key, unit in (("clients", _CLIENTS, "clients", ""),
                                      ("threads", _THREADS, "threads", ""),
                                      ("duration", _DURATION, "duration_s", " s")):
        printed, asked = _printed(pattern, stdout, label), _context(doc, key)
        if printed is not None and asked is not None and printed != asked:
            raise ParseError(TOOL, f"pgbench printed {label} {printed}{unit}, but the run "
                                   f"asked for {asked}{unit} ({key})")


def check_rates(stdout: str, doc: dict[str, Any], transactions: int, failed: int,
                tps: float) -> None:
    """tps against the run's duration, and the computed latency average against tps."""
    duration, clients = _context(doc, "duration_s"), _context(doc, "clients")
    if tps > 0 and transactions > 0 and duration:
        ran = transactions / tps
        if ran < duration / 2:
            raise ParseError(TOOL, f"tps {tps:g} over {transactions} transactions means the "
                                   f"clients ran {ran:.3g} s, under half the {duration} s run")
    m = _LATENCY.search(stdout)
    if not m or _STDDEV.search(stdout) or not clients or tps <= 0 or not transactions:
        return  # a measured latency (with --rate or --progress) obeys no such identity
    latency = number(TOOL, m.group(1), "latency average")
    expected = 1000.0 * clients * transactions / ((transactions + failed) * tps)
    if abs(latency - expected) > LATENCY_TOL * expected + 0.001:
        raise ParseError(TOOL, f"latency average {latency:g} ms, but {clients} client(s) at "
                               f"tps {tps:g} make {expected:.4g} ms")
