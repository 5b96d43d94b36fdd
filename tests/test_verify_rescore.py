"""`bakeoff verify` on a re-score (issue 23): the entry holds no measurements, so verify
checks what it is (a readable scenario, no tables of its own) and verifies the measured
campaign it points to, saying so; before, every unit's journal was "missing"."""

from __future__ import annotations

import shutil

import pytest

from bakeoff.reevaluate import rescore_copy
from bench.results import read_scenario
from core.exit_codes import ExitCode
from tests.conftest import bakeoff

pytestmark = pytest.mark.integration


@pytest.fixture
def rescored(campaign_history, tmp_path):
    root = tmp_path / "results"
    base = shutil.copytree(campaign_history["base"], root / campaign_history["base"].name)
    folder = rescore_copy(base, read_scenario(base), root)
    return root, base, folder


def verify(root, folder):
    res = bakeoff("verify", folder.name, "--results", str(root))
    return res.returncode, " ".join((res.stdout + res.stderr).split())


def test_a_rescore_verifies_through_the_campaign_it_rescored(rescored):
    root, base, folder = rescored
    code, text = verify(root, folder)
    assert code == 0, text
    assert f"a re-score of {base.name}; it holds no measurements" in text
    assert "journal missing" not in text


def test_a_copy_of_the_samples_in_a_rescore_is_damage(rescored):
    root, base, folder = rescored
    shutil.copy(base / "samples.parquet", folder / "samples.parquet")  # history doubled
    code, text = verify(root, folder)
    assert code == int(ExitCode.DAMAGED), text
    assert "samples.parquet: a re-score holds no measurements" in text


def test_damage_in_the_measured_campaign_shows_through_the_rescore(rescored):
    root, base, folder = rescored
    raw = next((base / "raw").rglob("*.*"))
    raw.write_text(raw.read_text() + " ")  # one byte more: its checksum no longer matches
    code, text = verify(root, folder)
    assert code == int(ExitCode.DAMAGED), text
    assert f"rescore_of {base.name}/{raw.relative_to(base).as_posix()}: raw output changed" \
        in text
    shutil.rmtree(base)
    code, text = verify(root, folder)
    assert code == int(ExitCode.DAMAGED) and "keep the measured campaign beside" in text, text
