"""Rounding for display only: scores and totals are computed unrounded and shown rounded here.

`distinct_digits` picks the fewest decimals that keep different numbers looking different, so a
lead of 0.03 is never printed as "151.3 against 151.3".
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MAX_DIGITS = 6


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt(x: float | None, digits: int = 1) -> str:
    """Whole numbers without decimals (the seed's 172), others with `digits` decimals."""
    if _missing(x):
        return "n/a"
    assert x is not None
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.{digits}f}"


def fmt_value(x: float | None) -> str:
    """Raw quantities: 4 significant digits."""
    if _missing(x):
        return "—"
    assert x is not None
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def distinct_digits(values: Iterable[float | None], minimum: int = 1) -> int:
    """Fewest decimals (≥ minimum, ≤ MAX_DIGITS) at which unequal values print unequally."""
    vals = sorted({float(v) for v in values if not _missing(v)})
    for d in range(minimum, MAX_DIGITS + 1):
        shown = [f"{v:.{d}f}" for v in vals]
        if len(set(shown)) == len(shown):
            return d
    return MAX_DIGITS


def fmt_diff(x: float) -> str:
    """A difference with enough decimals that a non-zero one never prints as zero."""
    if x == 0:
        return "0"
    if float(x).is_integer():
        return str(int(x))
    d = 1
    while d < MAX_DIGITS and float(f"{abs(x):.{d}f}") == 0:
        d += 1
    return f"{x:.{d}f}"
