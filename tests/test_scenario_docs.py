"""docs/scenario.md's parameter reference is generated from the params models: it cannot drift."""

from __future__ import annotations

from bakeoff import scenario_docs
from bench.workloads import REGISTRY


def test_committed_reference_equals_regenerated():
    committed = scenario_docs.DOC.read_text()
    assert scenario_docs.updated_document(committed) == committed, (
        "docs/scenario.md is out of date: run `python scripts/gen_scenario_docs.py`")


def test_every_parameter_is_documented_and_listed():
    text = scenario_docs.render()
    for name, workload in REGISTRY.items():
        assert f"### {name}" in text
        for pname, field in workload.Params.model_fields.items():
            assert field.description, f"{name}.params.{pname} needs a description"
            assert f"| `{pname}` |" in text
    # budget_usd is enforced by `run` (campaign_cost.check_budget): not "accepted, unused"
    assert "`budget_usd`" not in text.split("## Accepted, not used yet", 1)[1]


def test_regeneration_replaces_only_its_section():
    doc = ("# Title\n\nhand text\n\n" + scenario_docs.BEGIN + "\nSTALE-TEXT\n"
           + scenario_docs.END + "\n")
    out = scenario_docs.updated_document(doc)
    assert out.startswith("# Title\n\nhand text\n\n" + scenario_docs.BEGIN)
    assert "STALE-TEXT" not in out and out.endswith(scenario_docs.END + "\n")
    assert scenario_docs.updated_document(out) == out
