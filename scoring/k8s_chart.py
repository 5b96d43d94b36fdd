"""The time-to-scale timeline of cluster sites: the report draws it when k8s-time-to-scale ran.

Per site, one valid repetition's recording (the first; the timeline_points sample's
metadata, which holds the per-second cluster samples and the per-second p99 of the
load, both as seconds from the spike): desired and Ready replicas, Pending pods and
Ready nodes against the spike (shaded), and p99 with the requirement it is measured
against. The caption gives the derived times, the same samples the table shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from scoring.charts import PALETTE, Chart, _png, plt
from scoring.quantities import _meta, metric_rows

KEY = "k8s-timeline"
WHY = ("Time to scale is measured from the spike's start to the first second from which "
       "p99 stays within the requirement with no errors for the stable window; the HPA, "
       "replica and node times come from the cluster sampled once a second (the resolution "
       "of every figure here). A simulated site replays a script: its figures describe the "
       "script, not a cloud.")
_DERIVED = ("time_to_scale_s", "hpa_scale_up_s", "replicas_ready_s", "nodes_ready_s",
            "spike_errors")


def recordings(samples: pd.DataFrame | None, sites: Sequence[str]) -> dict[str, dict[str, Any]]:
    """{site: {"meta": timeline metadata, "derived": {metric: value}, "repetition": n}}."""
    out: dict[str, dict[str, Any]] = {}
    if samples is None or samples.empty:
        return out
    for site in sites:
        rows = metric_rows(samples, site, "k8s-time-to-scale.timeline_points")
        if rows.empty:
            continue
        row = rows.sort_values("repetition").iloc[0]
        rep = row["repetition"]
        derived = {}
        for name in _DERIVED:
            found = metric_rows(samples, site, f"k8s-time-to-scale.{name}")
            found = found[found["repetition"] == rep]
            if not found.empty:
                derived[name] = float(found["value"].iloc[0])
        out[site] = {"meta": _meta(row["metadata"]), "derived": derived, "repetition": int(rep)}
    return out


def _draw(ax: Any, site: str, rec: dict[str, Any]) -> None:
    meta = rec["meta"]
    tl = meta.get("timeline") or []
    secs = meta.get("seconds") or []
    ax.axvspan(0, float(meta.get("hold_s", 0)), color="#f2dede", alpha=0.6, label="spike")
    xs = [r[0] for r in tl]
    for k, (label, col) in enumerate((("desired replicas", 1), ("ready replicas", 2),
                                      ("pending pods", 3), ("ready nodes", 4))):
        ax.step(xs, [r[col] for r in tl], where="post", label=label,
                color=PALETTE[k], linewidth=1.4)
    ax.set_ylabel("count")
    ax.set_title(f"{site} (repetition {rec['repetition']}; {meta.get('cluster_label', '')})",
                 fontsize=8)
    right = ax.twinx()
    pts = [(s[0] + 0.5, s[1]) for s in secs if s[1] is not None]
    right.plot([p[0] for p in pts], [p[1] for p in pts], color=PALETTE[5], marker=".",
               linewidth=1, label="p99 ms")
    req = meta.get("p99_requirement_ms")
    if req:
        right.axhline(float(req), color=PALETTE[3], linestyle="--", linewidth=1,
                      label=f"requirement {float(req):g} ms")
    if pts and min(p[1] for p in pts) > 0:
        right.set_yscale("log")
    right.set_ylabel("p99 ms")
    tts = rec["derived"].get("time_to_scale_s")
    if tts is not None:
        ax.axvline(tts, color="black", linewidth=1, linestyle=":", label="back under")
    handles = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=6, loc="upper right")


def timeline(samples: pd.DataFrame | None, sites: Sequence[str]) -> Chart | None:
    data = recordings(samples, sites)
    if not data:
        return None
    fig, axes = plt.subplots(len(data), 1, figsize=(7.0, 2.8 * len(data)), squeeze=False)
    for ax, (site, rec) in zip(axes[:, 0], data.items(), strict=True):
        _draw(ax, site, rec)
    axes[-1, 0].set_xlabel("seconds from the spike")
    words = []
    for site, rec in data.items():
        d = rec["derived"]
        parts = [f"{name} {d[name]:.1f}" for name in _DERIVED if name in d]
        words.append(f"{site}: " + ", ".join(parts))
    return Chart(KEY, "Time to scale under a spike",
                 "Replicas, pending pods, nodes and p99 against the spike per site: "
                 + "; ".join(words), _png(fig))
