"""SQL over every campaign under a results root, through DuckDB.

Views: `samples` and `histograms` read the campaigns' Parquet files directly (one scan,
no copy); `campaigns`, `latency`, `scores`, `costs` and `intervals` (http-load's latency
over time) come from the tidy history frames.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from bench.history import load_history
from bench.storage import materialize
from core.errors import BakeoffError


class QueryError(BakeoffError):
    """The SQL statement itself is wrong (invalid input, exit 2)."""

    exit_code = 2


VIEWS = ("samples", "histograms", "campaigns", "latency", "scores", "costs", "intervals")


def _quoted(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def readable(files: list[Path], warn: Callable[[str], None]) -> list[Path]:
    """The parquet files whose footer and schema read; each other one is skipped with a
    warning naming it, so one damaged campaign does not fail the query over the root."""
    ok = []
    for path in files:
        try:
            pq.ParquetFile(path).schema_arrow  # noqa: B018 - reading it is the check
        except Exception as e:  # pyarrow raises several unrelated types for a bad file
            warn(f"warning: skipped {path}: not a readable parquet file "
                 f"({e.__class__.__name__}); `bakeoff verify {path.parent}` says more")
            continue
        ok.append(path)
    return ok


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def connect(root: str | Path = "results",
            warn: Callable[[str], None] = _stderr) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table across all campaigns."""
    local = materialize(root)
    con = duckdb.connect()
    for table in ("samples", "histograms"):
        files = readable(sorted(local.glob(f"*/{table}.parquet")), warn)
        if files:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM "
                        f"read_parquet({_quoted(files)}, union_by_name = true)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = load_history(local)
    for name in ("campaigns", "latency", "scores", "costs", "intervals"):
        frame = getattr(history, name)
        if not frame.empty:
            if name == "campaigns":
                frame = frame.assign(sites=frame["sites"].map(", ".join),
                                     workloads=frame["workloads"].map(", ".join))
            con.register(name, frame)
    return con


def query(sql: str, root: str | Path = "results") -> pd.DataFrame:
    """Run one SQL statement over the campaigns under `root`; a clear error if it fails."""
    con = connect(root)
    try:
        return con.execute(sql).df()
    except duckdb.Error as e:
        present = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        raise QueryError(f"SQL failed: {str(e).splitlines()[0]}\n  tables here: "
                           f"{', '.join(present) or 'none (no campaigns under this root)'}"
                           ) from None
    finally:
        con.close()
