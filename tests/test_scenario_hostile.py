"""Hostile scenario and weights files: always a clear ScenarioError naming the file (and a
path or line inside it), never a traceback, never a silent last-wins or a hang.

Property-tested with hypothesis: random YAML trees, a valid scenario with random leaves
replaced by values of the wrong type, random and non-UTF-8 bytes; plus the named attacks
(deep nesting, alias bombs, duplicate keys, huge and non-finite numbers, path-like and
unicode names, duplicate workload entries).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bakeoff.checks import preflight
from bench.scenarios import load_campaign_file
from core.errors import ScenarioError
from scoring.weights import WeightsError, load_weights

VALID: dict[str, Any] = {
    "name": "demo",
    "repetitions": 3,
    "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.05},
              {"name": "b", "provider": "aws", "region": "us-east-1",
               "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.large",
               "price_override": {"usd_per_hour": 0.1, "reason": "quoted"}}],
    "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 2}},
                  {"name": "ping", "params": {"count": 10, "interval_s": 0.05}}],
    "requirements": [{"metric": "ping.rtt_avg", "operator": "<", "threshold": 2,
                      "unit": "ms"}],
    "usage": {"hours_per_month": 730, "instances": 2},
    "criteria": [{"name": "cpu", "weight": 3},
                 {"name": "ux", "weight": 2, "scores": {"a": 5, "b": 7}}],
}
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20), st.just("../../etc/passwd"), st.just("∞ ünï"),
                    st.integers(min_value=10**20, max_value=10**400))
trees = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=10), kids, max_size=4)),
    max_leaves=30)


def _check(path: Path) -> Any:
    """Load through both entry points; only ScenarioError naming the file may escape."""
    result = None
    for fn in (load_campaign_file, preflight):
        try:
            result = fn(path)
        except ScenarioError as e:
            assert str(path) in str(e)
            assert e.problems and all(isinstance(p, str) and p for p in e.problems)
            result = e
    return result


def _write(tmp_path: Path, data: bytes | str) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


@SETTINGS
@given(tree=trees)
def test_random_yaml_trees(tmp_path, tree):
    _check(_write(tmp_path, yaml.safe_dump(tree, allow_unicode=True)))


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _replace(node: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(copy[path[0]], path[1:], value)
    return copy


@SETTINGS
@given(data=st.data())
def test_valid_scenario_with_a_wrong_leaf(tmp_path, data):
    path_in = data.draw(st.sampled_from(_paths(VALID)[1:]))
    value = data.draw(trees)
    mutated = _replace(VALID, path_in, value)
    result = _check(_write(tmp_path, yaml.safe_dump(mutated, allow_unicode=True)))
    if isinstance(result, ScenarioError):
        where = ".".join(str(p) for p in path_in if isinstance(p, str))
        # the problem points into the file, not at "(top level)" for a nested mistake
        assert any(p.split(":")[0] != "(top level)" for p in result.problems) or not where


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_random_bytes(tmp_path, raw):
    _check(_write(tmp_path, raw))


@SETTINGS
@given(pos=st.integers(min_value=0, max_value=400), junk=st.sampled_from(
    [b"\xff", b"\xc3\x28", b"\xa0\xa1", b"\xed\xa0\x80", b"\x00"]))
def test_non_utf8_bytes_inside_a_valid_file(tmp_path, pos, junk):
    text = yaml.safe_dump(VALID).encode()
    pos = min(pos, len(text))
    result = _check(_write(tmp_path, text[:pos] + junk + text[pos:]))
    assert isinstance(result, ScenarioError)
    assert ("UTF-8" in result.problems[0] or "NUL" in result.problems[0]
            or "YAML" in result.problems[0])


@SETTINGS
@given(tree=trees)
def test_random_weights_files(tmp_path, tree):
    path = _write(tmp_path, yaml.safe_dump(tree, allow_unicode=True))
    try:
        weights = load_weights(path)
    except WeightsError as e:
        assert str(path) in str(e) and e.problems
    else:
        assert all(isinstance(v, int) and 0 <= v <= 5 for v in weights.values())


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        preflight(_write(tmp_path, text))
    return info.value.problems


def test_deep_nesting(tmp_path):
    for text in ("[" * 5000 + "]" * 5000, "a: " + "{b: " * 3000 + "1" + "}" * 3000,
                 "- " * 200 + "1"):
        (problem,) = _problems(tmp_path, text)
        assert "nested" in problem


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    started = time.monotonic()
    (problem,) = _problems(tmp_path, "\n".join(lines) + "\nname: *a9\n")
    assert "alias" in problem
    assert time.monotonic() - started < 5


def test_duplicate_keys_are_an_error_not_last_wins(tmp_path):
    text = yaml.safe_dump(VALID, sort_keys=False) + "name: other\n"
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith("duplicate key 'name' at line")
    nested = ("name: demo\nsites:\n  - name: a\n    provider: local\n    cpus: 1\n"
              "    hourly_usd: 0.05\n    cpus: 2\n")
    (problem,) = _problems(tmp_path, nested)
    assert problem == ("duplicate key 'cpus' at line 7, column 5 (first at line 5, column 5); "
                       "YAML would keep only the last one")


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("sites", 0, "hourly_usd"), float("inf"), "sites[0].hourly_usd: Input should be a finite"),
    (("sites", 1, "price_override", "usd_per_hour"), float("nan"),
     "sites[1].price_override.usd_per_hour: Input should be a finite"),
    (("requirements", 0, "threshold"), float("-inf"), "requirements[0].threshold: Input should"),
    (("sites", 0, "cpus"), 10**400, "sites[0].cpus: Input should be less than or equal to 1024"),
    (("usage", "instances"), 10**30, "usage.instances"),
    (("sites", 0, "hourly_usd"), 10**400, "sites[0].hourly_usd"),
    (("name",), "../../etc", "name: expected lowercase letters a-z"),
    (("sites", 0, "name"), "../../etc/passwd", "sites[0].name: expected lowercase letters a-z"),
    (("sites", 0, "name"), "ünïcödé", "sites[0].name: expected lowercase letters a-z"),
    (("workloads", 0, "name"), "../../bin/sh", "workloads[0].name: unknown workload"),
    (("workloads", 1, "name"), "sysbench-cpu", "workloads[1].name: 'sysbench-cpu' is already "
                                               "listed at workloads[0]"),
])
def test_named_attacks(tmp_path, path, value, expected):
    text = yaml.safe_dump(_replace(VALID, path, value), allow_unicode=True)
    problems = _problems(tmp_path, text)
    assert any(p.startswith(expected) for p in problems), problems
    assert all(len(p) < 400 for p in problems)  # a huge input is not echoed whole


def test_cli_never_prints_a_traceback(tmp_path):
    bakeoff = Path(sys.executable).parent / "bakeoff"
    bad = _write(tmp_path, b"name: x\nname: y\n\xff\n")
    weights = tmp_path / "w.yaml"
    weights.write_text("a: &a [*a]\n")
    for argv in (["validate", str(bad), "--weights", str(weights)], ["run", str(bad)]):
        res = subprocess.run([str(bakeoff), *argv], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "COLUMNS": "200"})
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr + res.stdout
        assert str(argv[1]) in res.stderr and "not UTF-8 text: byte 0xff at line 3" in res.stderr
        if "--weights" in argv:
            assert f"{weights}: 1 problem(s)" in res.stderr and "alias" in res.stderr
