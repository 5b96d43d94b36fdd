"""Rules that a plausible one-line bug used to slip past (issue 24, Build 1): gc.
One verdict rule for every cloud, at its boundaries.

How each test was checked against its planted mutation, and where its expected values
come from: tests/rules_bite_support.py.
"""

from __future__ import annotations

# -- gc: one verdict rule for every cloud, at its boundaries --------------------------------

def test_gc_judge_at_every_boundary():
    from datetime import UTC, datetime, timedelta

    from stacks.cloud.gc_common import UNKNOWN_MIN_AGE, Leftover, judge

    now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    hour = timedelta(hours=1)

    def item(expires: str | None = "2026-11-27T16:00:00+00:00", campaign: str | None = "c1",
             age: timedelta | None = 2 * hour) -> Leftover:
        tags = {k: v for k, v in (("bakeoff-campaign", campaign),
                                  ("bakeoff-expires-at", expires)) if v is not None}
        return Leftover("aws", "instance", "i-1", "i-1", tags,
                        created_at=None if age is None else now - age)

    def verdict(it, known=None, older=timedelta(0)):
        v = judge(it, now, known, older)
        assert v.item is it
        return v.action, v.reason

    # bakeoff tags missing: never touched, however old or expired
    assert verdict(item(campaign=None)) == (
        "keep", "not a bakeoff resource (bakeoff tags missing)")
    assert verdict(item(expires=None), known=set()) == (
        "keep", "not a bakeoff resource (bakeoff tags missing)")
    # expiry: reached at the very minute (<=), not a minute before
    assert verdict(item("2026-11-27T15:00:00+00:00")) == ("delete",
                                                          "expired at 2026-11-27 15:00 UTC")
    assert verdict(item("2026-11-27t15-01-00-00-00")) == ("keep",
                                                          "live until 2026-11-27 15:01 UTC")
    # younger than --older-than: kept even when expired; exactly that old: judged
    assert verdict(item("2026-11-27T14:00:00+00:00", age=hour), older=2 * hour) == (
        "keep", "younger than 2:00:00")
    assert verdict(item("2026-11-27T14:00:00+00:00", age=2 * hour), older=2 * hour)[0] == \
        "delete"
    # no journal entry: deleted once at least UNKNOWN_MIN_AGE (1 h) old, exactly included
    assert verdict(item(age=UNKNOWN_MIN_AGE), known={"other"}) == (
        "delete", "campaign c1 has no journal entry")
    young = verdict(item(age=UNKNOWN_MIN_AGE - timedelta(seconds=1)), known={"other"})
    assert young == ("keep", "campaign c1 has no journal entry, but it is recent or of "
                             "unknown age: kept until its expiry")
    assert verdict(item(age=None), known={"other"}) == young  # unknown age waits
    # ... and older_than raises that bar
    assert verdict(item(age=2 * hour), known={"other"}, older=3 * hour)[0] == "keep"
    # journalled campaign, expiry unreadable: kept, saying so
    assert verdict(item("someday"), known={"c1"}) == ("keep", "expiry 'someday' unreadable")
    assert verdict(item(), known={"c1"}) == ("keep", "live until 2026-11-27 16:00 UTC")
    # unknown age and no --older-than: judged on its expiry alone
    assert verdict(item("2026-11-27T14:00:00+00:00", age=None))[0] == "delete"
