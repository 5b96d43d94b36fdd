"""The application: composes the measuring, provisioning and deciding packages.

It binds core.scenario's `loadgen: auto` hook to the load-generator sizing
(bakeoff/sizing.py), which needs the price catalog's vCPUs: the scenario model stays a
leaf and bench does not import scoring. Every entry point (the `bakeoff` CLI) imports
this package first.
"""

from __future__ import annotations

from typing import Any

from core import scenario as _scenario


def _auto_loadgen(site: Any, campaign: Any) -> int:
    from bakeoff.sizing import auto_loadgen

    return auto_loadgen(site, campaign)


_scenario.LOADGEN_AUTO = _auto_loadgen
