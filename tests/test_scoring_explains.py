"""Scoring that explains itself: exact ties, weight 0, several weightings side by side,
relative normalisation, and the sentence that relates noise to weight uncertainty."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from decide_fixture import make_campaign
from typer.testing import CliRunner

from bench.scenarios import parse_campaign
from core.errors import BakeoffError
from scoring.criteria import resolve_criteria
from scoring.decide import score_scenario
from scoring.sensitivity import analyse, flip_distance
from scoring.summary import decision


def manual(criteria: list[dict]) -> dict:
    return {"name": "x", "criteria": criteria,
            "sites": [{"name": n, "provider": "local", "cpus": 1, "hourly_usd": 0.1}
                      for n in ("a", "b")]}


TIE = [{"name": "speed", "weight": 3, "scores": {"a": 8, "b": 6}},
       {"name": "ease", "weight": 3, "scores": {"a": 6, "b": 8}}]


def test_an_exact_tie_has_no_weight_change_that_flips_the_winner():
    """Before: "smallest weight change that changes the winner: speed 3 → 2.99" for a tie."""
    scores, weights = np.array([[8.0, 6.0], [6.0, 8.0]]), [3, 3]
    assert flip_distance(scores, weights, ["speed", "ease"], ["A", "B"]) is None
    sens = analyse(scores, weights, ["speed", "ease"], ["A", "B"], draws=200)
    assert sens.exact_tie and sens.flip is None and sens.flip_integer is None
    result = score_scenario(parse_campaign(manual(TIE)))
    d = decision(result)
    assert d["verdict"] == "exact tie" and d["headline"].startswith("Tie: a and b")
    assert not any("weight change that changes the winner" in r for r in d["reasons"])
    assert any("tie exactly" in r for r in d["reasons"])
    assert "measurement noise" in d["uncertainty"] and "weight uncertainty" in d["uncertainty"]


def test_weight_zero_drops_a_criterion(tmp_path):
    """Before: weight 0 was refused by the scenario model and by weights files."""
    crit = [*TIE, {"name": "support", "weight": 0, "scores": {"a": 10, "b": 1}}]
    result = score_scenario(parse_campaign(manual(crit)))
    m = result.matrix
    assert [c.name for c in m.criteria] == ["speed", "ease"]
    assert [c.name for c in result.dropped] == ["support"]
    assert m.totals == {"a": 42, "b": 42}
    assert any("weight 0" in r and "support" in r for r in decision(result)["reasons"])
    w = tmp_path / "w.yaml"
    w.write_text("ease: 0\n")
    m = score_scenario(parse_campaign(manual(TIE)), w).matrix
    assert [c.name for c in m.criteria] == ["speed"] and m.totals == {"a": 24, "b": 18}
    w.write_text("ease: 0\nspeed: 0\n")
    with pytest.raises(BakeoffError, match="every criterion has weight 0"):
        score_scenario(parse_campaign(manual(TIE)), w)


def test_relative_mode_and_its_old_name():
    base = manual([{"name": "cpu", "weight": 3, "normalise": "relative"},
                   {"name": "network_latency", "weight": 2, "normalise": "minmax"},
                   {"name": "tco", "weight": 2}])
    specs = resolve_criteria(parse_campaign(base))
    assert [s.normalise for s in specs] == ["relative", "relative", "fixed"]


def test_score_out_keeps_several_weightings_side_by_side(tmp_path):
    """Before: every `score --weights` overwrote the campaign's scores/ and report/."""
    from bakeoff.cli import app

    results = tmp_path / "results"
    d = make_campaign(results, ["small", "large"],
                      criteria=[{"name": "tco", "weight": 5}, {"name": "cpu", "weight": 3}])
    runner = CliRunner()
    outs = {}
    for name, text in (("cost", "tco: 5\ncpu: 1\n"), ("speed", "tco: 1\ncpu: 5\n")):
        w = tmp_path / f"{name}.yaml"
        w.write_text(text)
        outs[name] = tmp_path / "weightings" / name
        res = runner.invoke(app, ["score", "fixture-1", "--results", str(results),
                                  "--weights", str(w), "--out", str(outs[name])])
        assert res.exit_code == 0, res.output
    stored = {k: json.loads((o / "scores" / "scores.json").read_text()) for k, o in outs.items()}
    assert stored["cost"]["weights_source"].endswith("cost.yaml")
    assert stored["speed"]["weights_source"].endswith("speed.yaml")
    assert stored["cost"]["ranking"][0] == "small" and stored["speed"]["ranking"][0] == "large"
    for o in outs.values():
        html = (o / "report" / "index.html").read_text()
        assert 'id="uncertainty"' in html and "weight uncertainty" in html
        assert "Two different doubts" in (o / "report" / "report.md").read_text()
    assert not (d / "scores").exists() and not (d / "report").exists()
    # a scenario scored alone (manual criteria, no prices) can be written out too
    seed = Path(__file__).resolve().parent.parent / "scenarios" / "examples" / "seed-matrix.yaml"
    res = runner.invoke(app, ["score", "--scenario", str(seed), "--out", str(tmp_path / "seed")])
    assert res.exit_code == 0, res.output
    assert "provider-a: 8, 7, 9, 8, 9 -> 172" in res.output
    assert (tmp_path / "seed" / "report" / "index.html").is_file()
