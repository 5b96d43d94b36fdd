"""Sensitivity: one-at-a-time, Monte-Carlo shares, flip distance, TOPSIS cross-check."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.sensitivity import analyse, flip_distance, monte_carlo, one_at_a_time, topsis

SITES = ["A", "B"]
NAMES = ["c1", "c2"]
# A = 7*2 + 5*3 = 29, B = 5*2 + 6*3 = 28: close on purpose.
CLOSE = np.array([[7.0, 5.0], [5.0, 6.0]])
W = [2, 3]


def test_one_at_a_time():
    rows = one_at_a_time(CLOSE, W, NAMES, SITES)
    c1, c2 = rows
    assert c1.minus == (1, ["B"])  # A 22, B 23
    assert c1.plus == (3, ["A"])
    assert c2.minus == (2, ["A"])
    assert c2.plus == (4, ["A", "B"])  # 34 = 34: a tie
    edge = one_at_a_time(CLOSE, [1, 5], NAMES, SITES)
    assert edge[0].minus is None and edge[1].plus is None


def test_monte_carlo_shares_sum_to_one_and_are_deterministic():
    a = monte_carlo(CLOSE, W, SITES, draws=2000, seed=3)
    b = monte_carlo(CLOSE, W, SITES, draws=2000, seed=3)
    assert a == b
    assert sum(a.values()) == pytest.approx(1.0)
    assert 0 < a["B"] < a["A"] < 1  # close, so both win some draws
    far = monte_carlo(np.array([[9.0, 1.0], [9.0, 1.0]]), W, SITES, draws=500)
    assert far == {"A": 1.0, "B": 0.0}


def test_flip_distance_on_a_close_case():
    f = flip_distance(CLOSE, W, NAMES, SITES)
    # c1 from 2 down to 1.5 makes 7x+15 = 5x+18: the first change of winners (a tie)
    assert f is not None and f.criterion == "c1"
    assert f.to_weight == pytest.approx(1.5) and f.delta == pytest.approx(-0.5)
    assert f.new_winners == ["A", "B"]
    fi = flip_distance(CLOSE, W, NAMES, SITES, integer=True)
    assert fi is not None and abs(fi.delta) == 1


def test_no_flip_when_one_site_dominates():
    dominant = np.array([[9.0, 2.0], [8.0, 3.0]])
    assert flip_distance(dominant, W, NAMES, SITES) is None
    s = analyse(dominant, W, NAMES, SITES, draws=200)
    assert s.flip is None and s.flip_integer is None and s.mc_shares["A"] == 1.0


def test_topsis_agrees_on_a_dominant_site_and_skips_na_rows():
    scores = np.array([[9.0, 2.0, 5.0], [8.0, 3.0, 5.0], [np.nan, 4.0, 4.0]])
    t = topsis(scores, [3, 2, 5], ["A", "B", "C"])
    assert max(t, key=t.get) == "A"
    assert all(0 <= v <= 1 for v in t.values())


def test_topsis_by_hand_where_no_site_dominates():
    """Closeness worked by hand (vector normalisation per criterion, weights summed to 1,
    benefit criteria): A leads c1, C leads c2, B sits between, so the result depends on
    the weights and TOPSIS can disagree with the additive total."""
    scores = np.array([[9.0, 5.0, 3.0], [2.0, 6.0, 8.0]])
    # weights 1:1 -> 0.5 each. c1 norm sqrt(81+25+9) = 10.72381: weighted 0.419627,
    # 0.233126, 0.139876; c2 norm sqrt(4+36+64) = 10.19804: 0.098058, 0.294174, 0.392232.
    # ideal (0.419627, 0.392232), anti-ideal (0.139876, 0.098058).
    # A: d+ 0.294174, d- 0.279751 -> 0.279751 / 0.573925 = 0.48743
    # B: d+ sqrt(0.186501² + 0.098058²) = 0.210709, d- sqrt(0.093250² + 0.196116²)
    #    = 0.217156 -> 0.50754
    # C: d+ 0.279751, d- 0.294174 -> 0.51257
    t = topsis(scores, [1, 1], ["A", "B", "C"])
    assert t == pytest.approx({"A": 0.48743, "B": 0.50754, "C": 0.51257}, abs=2e-5)
    # the additive total (A 11, B 11, C 11) ties; TOPSIS orders C > B > A
    assert sorted(t, key=t.get, reverse=True) == ["C", "B", "A"]
    # weights 3:1 -> 0.75, 0.25: ideal (0.629438, 0.196116), anti (0.209813, 0.049029);
    # A: d+ 0.147087, d- 0.419625 -> 0.74046 (now A leads)
    t = topsis(scores, [3, 1], ["A", "B", "C"])
    assert t["A"] == pytest.approx(0.74046, abs=2e-5)
    assert sorted(t, key=t.get, reverse=True) == ["A", "B", "C"]
