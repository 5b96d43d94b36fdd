"""Where internet egress goes: the usage block's `egress_destinations` shares.

GCP prices Premium-tier internet egress per destination group (one Cloud Billing SKU each:
"... to China", "... to Australia", and the rest of the world); a TCO that prices every GB at
the worldwide rate understates a workload serving China or Australia. The shares say how the
month's egress GB split; they must add up to 1 so no GB is lost or counted twice.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator

# "default": every destination the provider does not price apart (GCP: worldwide excluding
# China and Australia, including Hong Kong).
EgressDestination = Literal["default", "china", "australia"]


def _shares_add_up(v: dict[str, float]) -> dict[str, float]:
    if not v:
        raise ValueError("give at least one destination share, e.g. {default: 1.0}")
    bad = {k: s for k, s in v.items() if not 0 <= s <= 1}
    if bad:
        raise ValueError(f"each share must be between 0 and 1, got {bad}")
    total = sum(v.values())
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ValueError(f"destination shares must add up to 1, they add up to {total:g} "
                         f"({', '.join(f'{k}: {s:g}' for k, s in v.items())})")
    return v


EgressMix = Annotated[dict[EgressDestination, float], AfterValidator(_shares_add_up)]


def default_mix() -> dict[str, float]:
    return {"default": 1.0}
