"""Issue 19, Build 6: a campaign stopped before its first unit says so plainly (not
"damaged", not exit 8); a YAML merge key is refused with a plain message."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from bakeoff.cli import app
from core.errors import BakeoffError
from core.exit_codes import ExitCode
from tests.test_reliability import cli  # the in-process CLI runner


@pytest.mark.integration
def test_interrupted_before_the_first_unit(tiny_campaign, tmp_path, capsys):
    """What an interrupt right after provisioning leaves: a manifest with every unit
    pending, status interrupted, no journal, no raw output, no tables."""
    folder = tmp_path / tiny_campaign.name
    shutil.copytree(tiny_campaign, folder)
    for name in ("units", "raw", "samples.parquet", "histograms.parquet", "scores", "report"):
        path = folder / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    manifest["units"] = {k: {"status": "pending"} for k in manifest["units"]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for command in ("show", "score", "report"):
        code, text = cli(capsys, command, str(folder))
        assert code == ExitCode.NOTHING_MEASURED, (command, text)
        assert "interrupted before its first unit" in text and "DAMAGED" not in text
        assert "--resume" in text
    code, text = cli(capsys, "verify", str(folder))
    assert code == 0, text


def test_yaml_merge_key_is_refused_plainly(write_scenario):
    path = write_scenario("""
name: demo
defaults: &site {provider: local, cpus: 1, hourly_usd: 0.05}
sites:
  - <<: *site
    name: a
""")
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert isinstance(res.exception, BakeoffError), res.output
    text = str(res.exception)
    assert res.exception.exit_code == 2
    assert "a YAML merge key '<<:' at line 5, column 5 is not supported" in text
    assert "constructor" not in text
