"""The cold-vs-warm chart of serverless sites: the report draws it when cold-start ran.

Per site, the median over valid repetitions of each repetition's cold-start and warm
p50/p99 (cold-start.cold_start_p50/p99, warm_p50/p99; the function measured, not the
baseline), the same numbers as the measurement table's rows for those metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scoring.charts import PALETTE, Chart, _png, plt
from scoring.quantities import per_repetition

WHY = ("Why the realistic function starts slower than hello: its init imports the "
       "PostgreSQL driver and opens a connection pool to the site's database (measured as "
       "its init parts import_ms and db_connect_ms in the raw output), and each request runs "
       "the checkout transaction and calls the site's downstream API; hello does none of "
       "this (cold-start.init_* vs baseline_init_*).")
SERIES = (("cold p50", "cold_start_p50"), ("cold p99", "cold_start_p99"),
          ("warm p50", "warm_p50"), ("warm p99", "warm_p99"))


def values(samples: pd.DataFrame | None, sites: Sequence[str]) -> dict[str, dict[str, float]]:
    """{site: {series label: median over repetitions}} for sites with cold-start samples."""
    out: dict[str, dict[str, float]] = {}
    if samples is None or samples.empty:
        return out
    for site in sites:
        row = {}
        for label, metric in SERIES:
            reps = per_repetition(samples, site, f"cold-start.{metric}")
            if not reps.empty:
                row[label] = float(np.median(reps.to_numpy(dtype=float)))
        if row:
            out[site] = row
    return out


def cold_vs_warm(samples: pd.DataFrame | None, sites: Sequence[str]) -> Chart | None:
    """Grouped bars (log scale) of cold and warm latency per site; None without data."""
    data = values(samples, sites)
    if not data:
        return None
    names = list(data)
    fig, ax = plt.subplots(figsize=(6.4, 0.9 * len(names) + 1.6))
    height = 0.8 / len(SERIES)
    for k, (label, _metric) in enumerate(SERIES):
        ys = np.arange(len(names)) + (k - (len(SERIES) - 1) / 2) * height
        xs = [data[s].get(label, np.nan) for s in names]
        ax.barh(ys, xs, height=height, label=label, color=PALETTE[k % len(PALETTE)])
    ax.set_yticks(range(len(names)), names)
    ax.set_xscale("log")
    ax.set_xlabel("ms (median over repetitions; log scale)")
    ax.set_title("Cold start vs warm latency", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    text = "; ".join(f"{s}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in data[s].items())
                     for s in names)
    return Chart("cold-vs-warm", "Cold start vs warm latency",
                 "Cold-start and warm request latency per site (the function measured; "
                 f"local sites are the local reference, not a cloud figure): {text}", _png(fig))
