"""`where: {endpoint: ...}` is checked by validate against the shipped locustfile (issue 23:
a wrong endpoint passed validate, then the run ended with exit 10 "no valid samples")."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bakeoff.cli import app
from bakeoff.endpoint_check import declared_endpoints
from tests.conftest import bakeoff

REPO = Path(__file__).resolve().parent.parent


def test_shipped_locustfile_endpoints_read_from_its_source():
    # bench/poc/locustfile.py, by hand: GET .../products/{id} (browse), POST .../checkout
    assert declared_endpoints(REPO / "bench" / "poc" / "locustfile.py") == {
        "GET /api/v1/products/{id}", "POST /api/v1/checkout"}


def test_dynamic_names_are_not_guessed(tmp_path):
    f = tmp_path / "locustfile.py"
    f.write_text("class U:\n    def t(self):\n        self.client.get(f'/x/{1}')\n")
    assert declared_endpoints(f) is None


def test_validate_refuses_an_endpoint_the_load_never_requests(tmp_path):
    text = (REPO / "scenarios" / "quickstart.yaml").read_text()
    assert 'where: {endpoint: "POST /api/v1/checkout"}' in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('"POST /api/v1/checkout"', '"POST /api/checkout"'))
    res = bakeoff("validate", str(bad))  # the installed command: exit code and message
    assert res.returncode == 2, res.stdout + res.stderr
    message = " ".join((res.stderr + res.stdout).split())
    assert "requirements[2].where.endpoint: 'POST /api/checkout'" in message
    assert "did you mean 'POST /api/v1/checkout'" in message
    good = CliRunner().invoke(app, ["validate", str(REPO / "scenarios" / "quickstart.yaml")])
    assert good.exit_code == 0, good.output
