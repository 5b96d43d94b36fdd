"""ping's summary checked against its own replies: counts, loss, min/avg/max and mdev.

A summary line is printed from exact times, the replies rounded (iputils prints 3 decimals
under 1 ms and none from 100 ms on), so each comparison allows that rounding and no more.
Anything outside is an output that cannot come from one ping run, refused with the
inconsistency named: a reply above the summary's max, 7 % loss with 5/5 received, a max or
mdev the replies cannot give.
"""

from __future__ import annotations

import math

from core.errors import ParseError

TOOL = "ping"
RTT_SLACK_MS = 0.002  # min/avg/max are printed rounded to 3 decimals


def rounding(ms: float) -> float:
    """The last printed digit of a reply of that size plus the summary's (iputils prints
    microseconds truncated, "%ld.%03ld", so a printed value may be a whole digit low)."""
    if ms >= 100:
        return 1.001 + 1e-9
    if ms >= 10:
        return 0.101 + 1e-9
    if ms >= 1:
        return 0.011 + 1e-9
    return 0.002 + 1e-9


def check_loss(transmitted: int, received: int, loss_pct: float, count: int | None) -> None:
    """Loss printed = (sent - received) / sent; busybox truncates to an integer percent."""
    if received > transmitted:
        raise ParseError(TOOL, f"{received} replies to {transmitted} packets sent "
                               "(duplicates are counted apart; corrupted output?)")
    if count is not None and transmitted > count:
        raise ParseError(TOOL, f"{transmitted} packets transmitted, but the run sent at most "
                               f"{count} (-c {count})")
    expected = 100.0 * (transmitted - received) / transmitted
    if not expected - 1.0 < loss_pct <= expected + 0.01:
        raise ParseError(TOOL, f"{loss_pct:g}% packet loss printed, but {received} of "
                               f"{transmitted} received is {expected:.4g}% loss")


def check_order(rtts: dict[str, float]) -> None:
    """min <= avg <= max, each printed rounded to 3 decimals."""
    low, mid, high = rtts["rtt_min"], rtts["rtt_avg"], rtts["rtt_max"]
    if low > mid + RTT_SLACK_MS or mid > high + RTT_SLACK_MS:
        raise ParseError(TOOL, f"rtt min/avg/max {low:g}/{mid:g}/{high:g} ms are out of order")


def check_replies(replies: list[float], received: int, rtts: dict[str, float]) -> None:
    """The per-reply times against the summary (only when replies were printed)."""
    if not replies:
        return
    if len(replies) > received:
        raise ParseError(TOOL, f"{len(replies)} reply lines, but the summary counts {received} "
                               "received")
    low, avg, high = rtts["rtt_min"], rtts["rtt_avg"], rtts["rtt_max"]
    slack = rounding(max(max(replies), high))
    if max(replies) > high + slack:
        raise ParseError(TOOL, f"a reply of {max(replies):g} ms is above the summary's max "
                               f"{high:g} ms")
    if min(replies) < low - slack:
        raise ParseError(TOOL, f"a reply of {min(replies):g} ms is below the summary's min "
                               f"{low:g} ms")
    if len(replies) < received:
        return  # some reply lines were not kept: the summary's own values cannot be re-derived
    if high - max(replies) > slack or min(replies) - low > slack:
        raise ParseError(TOOL, f"the summary's min/max {low:g}/{high:g} ms is no reply's time "
                               f"(replies span {min(replies):g}-{max(replies):g} ms)")
    mean = sum(replies) / len(replies)
    if abs(mean - avg) > slack:
        raise ParseError(TOOL, f"the summary's avg {avg:g} ms differs from the replies' mean "
                               f"{mean:.4g} ms")
    if "rtt_mdev" in rtts:
        std = math.sqrt(max(sum((r - mean) ** 2 for r in replies) / len(replies), 0.0))
        if abs(std - rtts["rtt_mdev"]) > 2 * slack + 0.05 * std:
            raise ParseError(TOOL, f"the summary's mdev {rtts['rtt_mdev']:g} ms differs from "
                                   f"the replies' standard deviation {std:.4g} ms")


def check_spread(rtts: dict[str, float]) -> None:
    """Without replies: a standard deviation is at most half the range."""
    mdev = rtts.get("rtt_mdev")
    if mdev is not None and mdev > (rtts["rtt_max"] - rtts["rtt_min"]) / 2 + 0.002:
        raise ParseError(TOOL, f"mdev {mdev:g} ms exceeds half the min-max range "
                               f"{rtts['rtt_min']:g}-{rtts['rtt_max']:g} ms")
