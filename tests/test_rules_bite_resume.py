"""Rules that a plausible one-line bug used to slip past (issue 24, Build 1): resume.
Which scenario changes touch measured units, and what the refusal says.

How each test was checked against its planted mutation, and where its expected values
come from: tests/rules_bite_support.py.
"""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign

# -- resume: which scenario changes touch measured units ------------------------------------

def _scenario(**changes):
    data = {"name": "r", "repetitions": 3,
            "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.04},
                      {"name": "b", "provider": "local", "cpus": 2, "hourly_usd": 0.08}],
            "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}],
            "criteria": [{"name": "cpu", "weight": 4}]}
    data.update(changes)
    return parse_campaign(data)


MEASURED = {"a/sysbench-cpu/0", "a/sysbench-cpu/1"}  # site a, two repetitions done


def _changes(new):
    from bench.resume import scenario_changes

    return [(c.what.split(" (")[0], c.touches_measured)
            for c in scenario_changes(_scenario(), new, MEASURED)]


def test_resume_changes_that_touch_measured_units():
    from bench.resume import ScenarioChanged, check_resume

    base = _scenario()
    assert _changes(base) == []
    sites = base.model_dump(mode="json")["sites"]
    # site a was measured: changing it would mix two experiments; site b was not
    changed_a = [dict(sites[0], cpus=2), sites[1]]
    assert _changes(_scenario(sites=changed_a)) == [("site 'a' changed", True)]
    changed_b = [sites[0], dict(sites[1], cpus=1)]
    assert _changes(_scenario(sites=changed_b)) == [("site 'b' changed", False)]
    assert _changes(_scenario(sites=sites[:1])) == [("site 'b' removed", False)]
    assert _changes(_scenario(sites=sites[1:])) == [("site 'a' removed", True)]
    # params of the measured workload
    wl = [{"name": "sysbench-cpu", "params": {"time_s": 2}}]
    assert _changes(_scenario(workloads=wl)) == [
        ("workload 'sysbench-cpu' params changed", True)]
    # repetitions: 2 were measured; 5 adds, 2 keeps them, 1 would drop one measured
    assert _changes(_scenario(repetitions=5)) == [
        ("workload 'sysbench-cpu' repetitions 3 -> 5", False)]
    assert _changes(_scenario(repetitions=2)) == [
        ("workload 'sysbench-cpu' repetitions 3 -> 2", False)]
    assert _changes(_scenario(repetitions=1)) == [
        ("workload 'sysbench-cpu' repetitions 3 -> 1", True)]
    assert _changes(_scenario(criteria=[{"name": "cpu", "weight": 5}])) == [
        ("'criteria' changed", False)]
    # check_resume: untouched changes need --allow-changes; touching ones are refused
    with pytest.raises(ScenarioChanged, match="pass --allow-changes"):
        check_resume(base, _scenario(repetitions=5), MEASURED, False, "s.yaml")
    assert len(check_resume(base, _scenario(repetitions=5), MEASURED, True, "s.yaml")) == 1
    with pytest.raises(ScenarioChanged, match="touch units already measured"):
        check_resume(base, _scenario(repetitions=1), MEASURED, True, "s.yaml")
    assert check_resume(base, _scenario(), MEASURED, False, "s.yaml") == []


def test_resume_change_texts_name_what_changed():
    from bench.resume import ScenarioChanged, check_resume, scenario_changes

    base = _scenario()
    sites = base.model_dump(mode="json")["sites"]
    new = _scenario(sites=[dict(sites[0], cpus=2, hourly_usd=0.05), sites[1]],
                    workloads=[{"name": "sysbench-cpu", "params": {"time_s": 2}}],
                    repetitions=1)
    texts = [str(c) for c in scenario_changes(base, new, MEASURED)]
    assert texts[0] == ("site 'a' changed (cpus: 1 -> 2, hourly_usd: 0.04 -> 0.05) "
                        "[touches measured units]")
    assert texts[1].startswith("workload 'sysbench-cpu' params changed (")
    assert "time_s: 1 -> 2" in texts[1] and texts[1].endswith("[touches measured units]")
    assert texts[2] == "workload 'sysbench-cpu' repetitions 3 -> 1 [touches measured units]"
    with pytest.raises(ScenarioChanged) as err:
        check_resume(base, new, MEASURED, True, "s.yaml")
    msg = str(err.value)
    assert msg.startswith("s.yaml: the scenario differs from the one this campaign was "
                          "measured with, in ways that touch units already measured:\n")
    assert "\n  - site 'a' changed (cpus: 1 -> 2" in msg
    assert "Undo these changes to resume, or start a new campaign." in msg
    assert err.value.exit_code == 2  # invalid input
    added = _scenario(sites=[*sites, dict(sites[1], name="c")])
    assert [str(c) for c in scenario_changes(base, added, MEASURED)] == ["site 'c' added"]
    with pytest.raises(ScenarioChanged) as err:
        check_resume(base, added, MEASURED, False, "s.yaml")
    assert str(err.value) == (
        "s.yaml: the scenario differs from the one this campaign was measured with:\n"
        "  - site 'c' added\nNone of these touches a measured unit; pass --allow-changes to "
        "resume with them (they are recorded in the manifest).")
