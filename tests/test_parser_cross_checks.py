"""Issue 19, Build 4: parsers check their summary against their details and refuse what no
single run can print (tests/golden/impossible/, each refusal naming the inconsistency);
real outputs, PerfKit Benchmarker's included, still parse."""

from __future__ import annotations

import difflib
import importlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

from bench.workloads import REGISTRY
from core.errors import ParseError

GOLDEN = Path(__file__).parent / "golden"

INDEX = GOLDEN / "impossible" / "cases.json"
CASES = json.loads(INDEX.read_text())
IDS = [c["file"] for c in CASES]
FOUR = ("ping", "db-query", "iperf3", "fio")


def _apply(text: str, edit: dict) -> str:
    """Replace the edit's `at`-th occurrence (0 = first) of `old` by `new`."""
    pos = -1
    for _ in range(edit.get("at", 0) + 1):
        pos = text.index(edit["old"], pos + 1)
    return text[:pos] + edit["new"] + text[pos + len(edit["old"]):]


def _leaves(a, b, path=()):
    """Paths of the JSON leaves where a and b differ (an independent small differ)."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return [p for k in a for p in _leaves(a[k], b[k], (*path, k))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b, strict=True))
                for p in _leaves(x, y, (*path, i))]
    return [] if a == b and type(a) is type(b) else [list(path)]


def _workload(case: dict) -> str:
    return case["file"].split("/")[0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_impossible_output_is_refused_naming_the_inconsistency(case):
    """Refused with a ParseError (never another exception) whose reason names the pair of
    values that disagree, as written in the index before the check existed."""
    text = (GOLDEN / "impossible" / case["file"]).read_text()
    with pytest.raises(ParseError, match=case["refusal"]) as info:
        REGISTRY[_workload(case)].parse(text, None)
    assert str(info.value).startswith(f"{info.value.tool}: cannot parse output: ")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_each_case_is_one_edit_of_a_real_capture_that_parses(case):
    """The file is its source golden with the index's edits and nothing else; the source
    (a captured output, tests/golden/<tool>/README.md) still parses."""
    source = (GOLDEN / case["from"]).read_text()
    assert REGISTRY[_workload(case)].parse(source, None).samples
    expected = source
    for edit in case["edits"]:
        assert edit["old"] in expected
        expected = _apply(expected, edit)
    got = (GOLDEN / "impossible" / case["file"]).read_text()
    if os.environ.get("BAKEOFF_REGEN_GOLDEN") and got != expected:
        (GOLDEN / "impossible" / case["file"]).write_text(expected)
        pytest.fail(f"rewrote {case['file']} from the index; review the diff")
    assert got == expected
    if "paths" in case:  # JSON: exactly the leaves the index names changed, one per edit
        before, after = (json.JSONDecoder().raw_decode(t[t.find("{"):])[0]
                         for t in (source, expected))
        assert sorted(map(str, _leaves(before, after))) == sorted(map(str, case["paths"]))
        assert len(case["paths"]) == len(case["edits"])
    else:  # text: one line changed (or one inserted) per edit
        changed = [d for d in difflib.ndiff(source.splitlines(), expected.splitlines())
                   if d.startswith("+ ")]
        assert len(changed) == len(case["edits"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_each_case_is_refused_by_the_check_it_names(case, monkeypatch):
    """With the named check made a no-op (wherever a parser imported it), the case is no
    longer refused for that reason: the index names the check that does the refusing."""
    module_name, func_name = case["check"].split(":")
    real = getattr(importlib.import_module(module_name), func_name)
    for mod in [m for n, m in list(sys.modules.items()) if n.startswith("bench.workloads")]:
        if getattr(mod, func_name, None) is real:
            monkeypatch.setattr(mod, func_name, lambda *a, **k: None)
    text = (GOLDEN / "impossible" / case["file"]).read_text()
    try:
        REGISTRY[_workload(case)].parse(text, None)
    except ParseError as exc:
        assert not re.search(case["refusal"], str(exc)), exc


def test_the_index_lists_every_file_and_spreads_over_tools_and_versions():
    """Issue 19 found 73 impossible outputs; here are at least that many, each tool's share
    drawn from every one of its parseable captured goldens (all versions we have)."""
    on_disk = {f"{p.parent.name}/{p.name}" for p in (GOLDEN / "impossible").glob("*/*")}
    assert on_disk == set(IDS) and len(IDS) == len(set(IDS))
    assert len(CASES) >= 73
    readme = (GOLDEN / "impossible" / "README.md").read_text()
    assert all(f in readme for f in IDS)
    for workload in FOUR:
        assert sum(_workload(c) == workload for c in CASES) >= 15, workload
        sources = {c["from"] for c in CASES if _workload(c) == workload}
        for path in sorted((GOLDEN / workload).iterdir()):
            if path.name == "README.md":
                continue
            try:
                REGISTRY[workload].parse(path.read_text(), None)
            except ParseError:
                continue  # an error fixture: nothing to make inconsistent
            assert f"{workload}/{path.name}" in sources, f"no impossible case from {path}"
    assert all(c["note"] and "\n" not in c["note"] for c in CASES)


def test_ping_transmitted_beyond_the_count_asked():
    text = (GOLDEN / "ping" / "c20_i005_verbose.txt").read_text()
    params = REGISTRY["ping"].Params(count=10)
    with pytest.raises(ParseError, match=r"20 packets transmitted, but the run sent at most 10"):
        REGISTRY["ping"].parse(text, params)


def test_perfkit_ping_output_parses_and_agrees_with_its_replies():
    """PerfKit Benchmarker's tests/data/ping.out: 100 replies, summary 0.280/0.352/0.602/0.056.
    Independent check: the replies' own min, max and mean (computed here with re)."""
    import re
    import statistics

    text = (GOLDEN / "ping" / "pkb-ping.out").read_text()
    replies = [float(t) for t in re.findall(r"time=([\d.]+) ms", text)]
    got = {s.metric: s.value for s in REGISTRY["ping"].parse(text, None).samples}
    assert got["rtt_min"] == 0.280 == min(replies)
    assert got["rtt_max"] == 0.602 == max(replies)
    assert abs(statistics.fmean(replies) - got["rtt_avg"]) < 0.001
    assert got["packet_loss"] == 0.0


def test_perfkit_fio_five_different_jobs_yield_per_job_samples():
    """PerfKit Benchmarker's fio 2.1.4 output runs five different jobs one after another;
    the old parser summed their read IOPS (253 + 317 + 323 = 893), a number of no job. The
    expected per-job values are the `iops` fields of each job entry, read here with json."""
    import json

    text = (GOLDEN / "fio" / "pkb-fio-2.1.4_five_jobs.json").read_text()
    doc = json.loads(text)
    expected = {(j["jobname"], f"{d}_iops"): float(j[d]["iops"])
                for j in doc["jobs"] for d in ("read", "write") if j[d]["io_bytes"] > 0}
    got = {(s.metadata["job"], s.metric): s.value
           for s in REGISTRY["fio"].parse(text, None).samples if s.metric.endswith("_iops")}
    assert got == expected
    assert got[("sequential_read", "read_iops")] == 253.0
    assert 893.0 not in got.values()


def test_identical_fio_jobs_are_still_aggregated():
    """numjobs clones without group reporting (same name, same options) are one job."""
    import json

    doc = json.loads((GOLDEN / "fio" / "pkb-fio-2.1.4_five_jobs.json").read_text())
    clone = doc["jobs"][1]
    doc["jobs"] = [clone, json.loads(json.dumps(clone))]
    samples = REGISTRY["fio"].parse(json.dumps(doc), None).samples
    iops = [s for s in samples if s.metric == "read_iops"]
    assert [s.value for s in iops] == [2 * float(clone["read"]["iops"])]
    assert "job" not in iops[0].metadata and iops[0].metadata["job_entries"] == 2


def test_sync_engine_lat_above_clat_without_slat_parses():
    """psync measures no slat (0) and its lat includes the submission: a fio 3.33 psync
    run on this machine printed lat 730.724 ns against clat 715.384 ns (2 % and 15 ns
    apart), real output the lat = slat + clat check once refused. lat below clat stays
    impossible."""
    import json

    doc = json.loads((GOLDEN / "fio" / "fio-3.1_randrw_psync_2jobs.json").read_text())
    for job in doc["jobs"]:
        for side in ("read", "write"):
            clat = job[side]["clat_ns"]["mean"]
            if clat:
                job[side]["lat_ns"]["mean"] = clat * 1.02 + 15
    assert REGISTRY["fio"].parse(json.dumps(doc), None).samples
    doc["jobs"][0]["read"]["lat_ns"]["mean"] = doc["jobs"][0]["read"]["clat_ns"]["mean"] * 0.9
    with pytest.raises(ParseError, match=r"lat mean .* but slat 0 \+ clat"):
        REGISTRY["fio"].parse(json.dumps(doc), None)
