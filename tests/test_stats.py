"""Bootstrap intervals over repetitions and ties inside the noise."""

from __future__ import annotations

import numpy as np

from scoring.criteria import CriterionSpec
from scoring.decide import build_matrix
from scoring.quantities import Quantity
from scoring.stats import bootstrap_median_ci, overlaps, tied_groups


def test_bootstrap_ci_contains_the_median_and_is_reproducible():
    values = [3120.5, 3201.2, 3188.9, 3150.0, 3240.7]
    med, lo, hi = bootstrap_median_ci(values)
    assert med == float(np.median(values))
    assert lo <= med <= hi and lo >= min(values) and hi <= max(values) and lo < hi
    assert bootstrap_median_ci(values) == (med, lo, hi)
    # one or two repetitions: the noise is unknown, not zero (this was (5, 5, 5) before)
    one = bootstrap_median_ci([5.0])
    assert one[0] == 5.0 and np.isnan(one[1]) and np.isnan(one[2])
    assert np.isnan(bootstrap_median_ci([5.0, 6.0])[1])


def test_overlap_and_groups():
    assert overlaps((1, 2), (2, 3)) and not overlaps((1, 2), (2.1, 3))
    groups = tied_groups({"a": (1, 2), "b": (1.5, 2.5), "c": (3, 4)})
    assert groups == {"a": ["b"], "b": ["a"], "c": []}


CPU = CriterionSpec("cpu", "CPU", 3, "builtin", "events/s", (200.0, 50_000.0), "log")


def q(values: list[float]) -> Quantity:
    return Quantity(float(np.median(values)), "events/s", values)


def test_overlapping_measurements_are_a_tie_not_a_win():
    quantities = {"cpu": {"a": q([2600, 3000, 3700]), "b": q([2900, 3600, 3800])}}
    m = build_matrix([CPU], ["a", "b"], quantities)
    assert m.cell("cpu", "a").tied_with == ["b"]
    assert m.totals["b"] > m.totals["a"]  # b leads on the point values...
    assert m.verdict is not None and m.verdict.is_tie  # ...but not beyond the noise
    assert set(m.tied_leaders) == {"a", "b"}


def test_clear_difference_is_a_win():
    quantities = {"cpu": {"a": q([1500, 1520, 1490]), "b": q([6000, 6100, 5950])}}
    m = build_matrix([CPU], ["a", "b"], quantities)
    assert m.cell("cpu", "a").tied_with == []
    assert m.verdict is not None and not m.verdict.is_tie
    assert m.tied_leaders == ["b"]
    lo, hi = m.verdict.lead_ci["a"]
    assert 0 < lo <= hi
