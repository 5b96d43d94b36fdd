"""Issue 19, Build 2: every reader diagnoses a damaged folder (naming the file), never exits
70 (internal error); `sql` skips a damaged campaign with a warning; `list` reports a folder
whose manifest is gone instead of saying "no campaigns". Real campaign folders, damaged the
ways the audit found crashing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.results import ResultsDamaged, load_results
from core.exit_codes import ExitCode
from tests.test_reliability import cli  # the in-process CLI runner

pytestmark = pytest.mark.integration




def _manifest(folder: Path, change) -> None:
    path = folder / "manifest.json"
    m = json.loads(path.read_text())
    change(m)
    path.write_text(json.dumps(m))


def _null_unit(folder: Path) -> str:
    _manifest(folder, lambda m: m["units"].__setitem__(next(iter(m["units"])), None))
    return "manifest.json"


def _units_text(folder: Path) -> str:
    _manifest(folder, lambda m: m.__setitem__("units", "every unit"))
    return "manifest.json"


def _non_utf8_scenario(folder: Path) -> str:
    with open(folder / "scenario.yaml", "ab") as f:
        f.write(b"\xff\xfe\x00 not utf-8")
    return "scenario.yaml"


def _damaged_parquet(folder: Path) -> str:
    (folder / "samples.parquet").write_bytes(b"PAR1" + b"\x00" * 40)
    return "samples.parquet"


DAMAGES = {"null-unit": _null_unit, "units-text": _units_text,
           "non-utf8-scenario": _non_utf8_scenario, "damaged-parquet": _damaged_parquet}


@pytest.fixture
def damaged(request, tiny_campaign, tmp_path) -> tuple[Path, str]:
    root = tmp_path / "root"
    folder = root / tiny_campaign.name
    shutil.copytree(tiny_campaign, folder)
    return folder, DAMAGES[request.param](folder)


@pytest.mark.parametrize("damaged", list(DAMAGES), indirect=True)
def test_readers_diagnose_never_crash(damaged, tiny_campaign, capsys):
    folder, named = damaged
    for command in ("show", "score", "report", "verify"):
        code, text = cli(capsys, command, str(folder))
        assert code == ExitCode.DAMAGED, (command, text)
        assert named in text and "internal error" not in text, (command, text)
    code, text = cli(capsys, "compare", str(tiny_campaign), str(folder))
    assert code == ExitCode.DAMAGED and named in text, text
    with pytest.raises(ResultsDamaged, match=named.replace(".", r"\.")):
        load_results(folder)
    code, text = cli(capsys, "list", "--results", str(folder.parent), "--format", "json")
    assert code == 0 and folder.name in text, text
    assert "internal error" not in text


def test_sql_skips_a_damaged_campaign_with_a_warning(tiny_campaign, tmp_path, capsys):
    root = tmp_path / "root"
    good, bad = root / tiny_campaign.name, root / "tiny-damaged"
    shutil.copytree(tiny_campaign, good)
    shutil.copytree(tiny_campaign, bad)
    _damaged_parquet(bad)
    _null_unit(bad)
    code, text = cli(capsys, "sql", "SELECT count(*) AS n FROM samples", "--results", str(root),
                     "--format", "csv")
    assert code == 0, text
    assert f"warning: skipped {bad / 'samples.parquet'}" in text
    import pandas as pd

    # the good campaign's rows, counted by a second reader (pandas)
    n = len(pd.read_parquet(good / "samples.parquet"))
    assert f"n{n}" in text.replace(" ", "")


def test_list_reports_a_folder_whose_manifest_is_gone(tiny_campaign, tmp_path, capsys):
    root = tmp_path / "root"
    folder = root / tiny_campaign.name
    shutil.copytree(tiny_campaign, folder)
    (folder / "manifest.json").unlink()
    code, text = cli(capsys, "list", "--results", str(root), "--format", "json")
    assert code == 0, text
    assert "no campaigns" not in text
    assert folder.name in text and "no manifest.json" in text
