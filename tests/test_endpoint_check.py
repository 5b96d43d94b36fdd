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


def test_service_queries_read_from_its_source():
    # bench/poc/app.py, by hand: the four `with timed_query(...)` blocks of its handlers
    from bakeoff.endpoint_check import declared_queries

    assert declared_queries(REPO / "bench" / "poc" / "app.py") == {
        "select_product", "select_prices", "insert_order", "insert_lines"}


def test_validate_refuses_a_query_no_sample_carries(tmp_path):
    text = (REPO / "scenarios" / "quickstart.yaml").read_text()
    anchor = "requirements:\n"
    assert text.count(anchor) == 1
    planted = (anchor + "  - {metric: http-load.server_db_query_p99, operator: \"<\", "
               "threshold: 50, where: {query: insert_order}}\n"
               "  - {metric: http-load.server_db_query_p99, operator: \"<\", threshold: 50, "
               "where: {query: insert_ordr}}\n"
               "  - {metric: db-query.latency_p99, operator: \"<\", threshold: 50, "
               "where: {query: select_product}}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(anchor, planted))
    res = bakeoff("validate", str(bad))
    assert res.returncode == 2, res.stdout + res.stderr
    message = " ".join((res.stderr + res.stdout).split())
    assert "requirements[0]" not in message  # a query the service labels: accepted
    assert ("requirements[1].where.query: 'insert_ordr' is not a query of the PoC service "
            "(did you mean 'insert_order'?)") in message
    assert "requirements[2].where.query: db-query's samples have no query label" in message


def test_a_users_locustfile_is_checked_after_the_first_repetition(tmp_path):
    """A user's locustfile may name requests at run time, so validate cannot read its
    endpoints; the campaign stops after the first repetition, naming what it requested
    (issue 23: it ran to the end, then exit 10 "no valid samples")."""
    import json

    from bench.perf.targets import delay_target
    from tests.load_support import PLAIN_LOCUSTFILE

    locustfile = tmp_path / "mine.py"  # requests "GET /" only
    locustfile.write_text(PLAIN_LOCUSTFILE)
    root = tmp_path / "results"
    with delay_target(5.0) as url:
        scenario = tmp_path / "mine.yaml"
        scenario.write_text(json.dumps({
            "name": "mine", "repetitions": 3,
            "sites": [{"name": "box", "provider": "local", "cpus": 1, "network": "loopback",
                       "hourly_usd": 0.05}],
            "workloads": [{"name": "http-load", "params": {
                "locustfile": str(locustfile), "target_url": url, "users": 2,
                "spawn_rate": 20, "duration_s": 2}}],
            "requirements": [{"metric": "http-load.latency_p99", "operator": "<",
                              "threshold": 1000, "where": {"endpoint": "GET /"}},
                             {"metric": "http-load.latency_p99", "operator": "<",
                              "threshold": 1000, "where": {"endpoint": "GET /cart"}}],
            "criteria": [{"name": "tco", "weight": 3}]}))
        assert bakeoff("validate", str(scenario)).returncode == 0  # cannot know before
        res = bakeoff("run", str(scenario), "--results", str(root), "--quiet", timeout=1200)
    message = " ".join((res.stderr + res.stdout).split())
    assert res.returncode == 2, message[-3000:]
    assert ("requirements[1].where.endpoint: 'GET /cart' was not requested by "
            f"{locustfile}") in message, message[-3000:]
    assert "the endpoints it requested: 'GET /', 'all'" in message, message[-3000:]
    assert "requirements[0]" not in message  # an endpoint it did request
    (folder,) = root.iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {k: u["status"] for k, u in manifest["units"].items()} == {
        "box/http-load/0": "ok", "box/http-load/1": "pending",
        "box/http-load/2": "pending"}  # stopped after the first repetition
    assert manifest["status"] == "failed" and "GET /cart" in manifest["error"]
