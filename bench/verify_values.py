"""`verify` recomputes: every journal from its raw output, every table row from its journal.

A checksum only proves a file is unchanged since it was written; a table rewritten with every
value ten times larger (or NaN, or text) has no checksum to break. So `verify` re-parses each
ok unit's raw output with the workload's parser and compares the journal with it, then compares
samples.parquet and histograms.parquet with the journals row by row: metric, unit, value
(floats within a relative tolerance of 1e-9), value types and counts. Each mismatch names the
unit, the metric and both values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from bench.hdr import HdrDecodeError, decode
from bench.workloads import REGISTRY
from core.errors import ParseError

REL_TOL = 1e-9  # parquet stores float64: a round trip is exact; JSON keeps repr digits
SAMPLE_KEYS = ("metric", "unit", "value")


def same_value(a: Any, b: Any) -> bool:
    """Equal numbers (floats within REL_TOL); NaN, text and booleans never match."""
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (a, b)):
        return False
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)


def _show(v: Any) -> str:
    return repr(v) if not isinstance(v, float) else f"{v:.10g}"


def compare_rows(where: str, stored: list[dict[str, Any]], expected: list[dict[str, Any]],
                 stored_name: str, expected_name: str) -> list[str]:
    """Differences between two lists of samples of one unit, in their order."""
    out: list[str] = []
    if len(stored) != len(expected):
        out.append(f"{where}: {len(stored)} sample(s) in {stored_name}, {len(expected)} in "
                   f"{expected_name}")
    for s, e in zip(stored, expected, strict=False):
        metric = e.get("metric")
        if s.get("metric") != metric or s.get("unit") != e.get("unit"):
            out.append(f"{where}: {stored_name} has {s.get('metric')!r} in {s.get('unit')!r} "
                       f"where {expected_name} has {metric!r} in {e.get('unit')!r}")
        elif not same_value(s.get("value"), e.get("value")):
            out.append(f"{where} {metric}: {stored_name} says {_show(s.get('value'))}, "
                       f"{expected_name} says {_show(e.get('value'))}")
        if len(out) >= 20:
            break
    return out


def reparse(workload: str, raw_text: str, params: dict[str, Any] | None
            ) -> tuple[list[dict[str, Any]], list[str]] | str:
    """(samples, encoded histograms) the parser makes of the raw output now, or why not."""
    wl = REGISTRY.get(workload)
    if wl is None:
        return f"no parser for workload {workload!r}"
    try:
        model = wl.Params.model_validate(params or {})
    except Exception as e:  # stored params of an older version
        return f"its params no longer validate ({str(e).splitlines()[0]})"
    try:
        parsed = wl.parse(raw_text, model)
    except ParseError as e:
        return f"the raw output no longer parses: {e}"
    samples = [{"metric": s.metric, "unit": s.unit, "value": float(s.value)}
               for s in parsed.samples]
    return samples, [h.encoded for h in parsed.histograms]


def journal_problems(where: str, payload: dict[str, Any]) -> list[str]:
    """Types inside a journal: numbers are numbers, histograms decode."""
    out = []
    for s in payload["samples"]:
        if not isinstance(s, dict):
            out.append(f"{where}: a sample is not a mapping ({type(s).__name__})")
            continue
        v = s.get("value")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            out.append(f"{where} {s.get('metric')}: value {v!r} is not a finite number")
    for h in payload["histograms"]:
        out += hdr_problems(where, [h.get("encoded") if isinstance(h, dict) else h])
    return out


def hdr_problems(where: str, blobs: Iterable[Any]) -> list[str]:
    out = []
    for blob in blobs:
        try:
            decode(blob)
        except (HdrDecodeError, TypeError, ValueError) as e:
            out.append(f"{where}: histogram does not decode ({str(e)[:120]})")
    return out


def table_rows(frame: pd.DataFrame, key: tuple[str, str, int]) -> list[dict[str, Any]]:
    """One unit's rows of samples.parquet, in stored order, values as Python objects."""
    mask = ((frame["site"].astype(str) == key[0]) & (frame["workload"].astype(str) == key[1])
            & (frame["repetition"].astype("int64") == key[2]))
    return [{k: _py(r[k]) for k in SAMPLE_KEYS} for r in frame[mask].to_dict("records")]


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def value_column_problem(frame: pd.DataFrame) -> str | None:
    """The value column must hold floats: text or objects are a tampered table."""
    if not pd.api.types.is_float_dtype(frame["value"]) and not (
            pd.api.types.is_integer_dtype(frame["value"])):
        return f"column 'value' holds {frame['value'].dtype} values, expected numbers"
    return None


def params_of(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The params the unit ran with, as its journal rows recorded them."""
    for s in payload["samples"]:
        raw = s.get("params") if isinstance(s, dict) else None
        if isinstance(raw, str):
            try:
                value = json.loads(raw)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None
