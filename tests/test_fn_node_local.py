"""The node runtime on the local function site: a real `node` process start, a real `pg`
pool to the site's PostgreSQL, the cold-start workload end to end; and the JavaScript
handler's conninfo parser against libpq's own reading of the same strings."""

from __future__ import annotations

import json
import subprocess
import threading

import psutil
import pytest

from bench.orchestrator import Orchestrator
from bench.scenarios import parse_campaign
from stacks.cloud.fn_node import NODE_DIR
from tests.conftest import requires_tools

pytestmark = requires_tools("node", "npm")  # scripts/install-system-tools.sh test


def _node_eval(script: str) -> str:
    res = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60,
                         cwd=NODE_DIR, check=True)
    return res.stdout


@pytest.mark.parametrize("conninfo", [
    "host='10.0.0.5' port='5432' user='bakeoff' dbname='poc'",
    "host=db.example port=6543 user=u password=p4ss dbname=shop sslmode=require",
    r"host='/tmp/sock dir' port='5' user='o\'brien' dbname='a\\b'",
])
def test_conninfo_is_read_as_libpq_reads_it(conninfo):
    from psycopg.conninfo import conninfo_to_dict  # libpq's parser: the independent reading

    want = conninfo_to_dict(conninfo)
    got = json.loads(_node_eval(
        f"console.log(JSON.stringify(require('./functions').parseConninfo({json.dumps(conninfo)})))"))
    assert got["host"] == want["host"] and got["user"] == want["user"]
    assert got["port"] == int(want["port"]) and got["database"] == want["dbname"]
    assert got.get("password") == want.get("password")
    # libpq's sslmode=require encrypts without verifying; absent: pg's default (none)
    assert got.get("ssl") == ({"rejectUnauthorized": False}
                              if want.get("sslmode") == "require" else None)


def test_a_conninfo_it_cannot_read_is_an_error_not_a_guess():
    out = _node_eval("try { require('./functions').parseConninfo(\"host='unterminated\") }"
                     " catch (e) { console.log('ERR ' + e.message) }")
    assert out.startswith("ERR conninfo: cannot parse"), out


def test_cold_start_runs_end_to_end_with_the_node_runtime(tmp_path):
    campaign = parse_campaign({
        "name": "fn-node", "repetitions": 1,
        "sites": [{"name": "fn", "provider": "local", "cpus": 1, "hourly_usd": 0.01,
                   "database": {}, "serverless": {"idle_s": 0.3, "max_instances": 2,
                                                  "runtime": "node"}}],
        "workloads": [{"name": "cold-start", "params": {
            "samples": 3, "warm": 2, "burst": 3, "force": "idle"}}],
        "criteria": [{"name": "cold_start_p99", "weight": 1}]})
    folder = Orchestrator(campaign, tmp_path, quiet=True).run()
    leftover = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
                if any("bench.serverless.front" in a or "serverless/node/runtime.js" in a
                       for a in (p.info["cmdline"] or []))]
    assert not leftover, leftover  # the front and every node instance stopped with the site

    raw = json.loads((folder / "raw" / "fn" / "cold-start" / "0.json").read_text())
    checkout, hello = raw["functions"]
    assert checkout["function"] == "checkout" and hello["function"] == "hello"
    # every forced cold start was a new node process whose init opened the pg pool
    assert [r["cold"] for r in checkout["cold"]] == [True] * 3
    assert all(r["status"] == 201 for r in checkout["cold"] + checkout["warm"])
    parts = [r["init_parts"] for r in checkout["cold"]]
    assert all(p["runtime"].startswith("node v") for p in parts), parts  # node, not python
    assert all(p["db_connect_ms"] > 0 and p["import_ms"] > 0 for p in parts), parts
    assert all(p["total_ms"] >= p["db_connect_ms"] + p["import_ms"] for p in parts)
    assert all("db_connect_ms" not in r["init_parts"] for r in hello["cold"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sites"]["fn"]["notes"]["function"]["runtime"] == "node"


@pytest.fixture(scope="module")
def shop(database, tmp_path_factory):
    """The PoC schema in a temporary PostgreSQL, the downstream API on loopback, and the
    node handler's pg unpacked from the npm tarballs: what both handlers' config names."""
    from bench.poc.db import main as load_schema
    from bench.serverless.downstream import serve
    from core.environment import _conninfo_value
    from stacks.cloud.fn_node import install, tarballs

    assert load_schema(["--dsn", database.dsn]) == 0
    server = serve("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    modules = install(["pg"], tarballs(["pg"]), tmp_path_factory.mktemp("node"))
    config = {"conninfo": f"{database.conninfo} password={_conninfo_value(database.password)}",
              "downstream_url": f"http://127.0.0.1:{server.server_address[1]}",
              "pool_size": 2}
    try:
        yield database, config, str(modules)
    finally:
        server.shutdown()
        server.server_close()


def _node_checkout(config, modules, bodies):
    script = ("const {FUNCTIONS} = require('./functions');"
              "(async () => { const fn = await new FUNCTIONS.checkout(JSON.parse("
              "process.argv[1])).init(); const out = [];"
              "for (const b of JSON.parse(process.argv[2])) out.push(await fn.handle(b));"
              "await fn.pool.end(); console.log(JSON.stringify(out)); })()"
              ".catch(e => { console.error(e); process.exit(1); });")
    res = subprocess.run(["node", "-e", script, json.dumps(config), json.dumps(bodies)],
                         capture_output=True, text=True, timeout=120, cwd=NODE_DIR,
                         env={"PATH": "/usr/bin:/bin", "NODE_PATH": modules}, check=True)
    return [tuple(r) for r in json.loads(res.stdout)]


def test_node_and_python_handlers_answer_alike(shop):
    """Same requests to both handlers against the same database: the same statuses,
    reply shapes, totals and quotes; totals checked against the price read with psql's
    driver directly, the rows each order wrote read back."""
    import psycopg

    from bench.serverless.functions import Checkout

    database, config, modules = shop
    bodies = [{"customer_id": 7, "product_id": 3, "quantity": 2},
              {"customer_id": 7, "product_id": 999_999, "quantity": 1},
              {"customer_id": 7, "product_id": 3, "quantity": 0}]
    python_fn = Checkout(config)
    try:
        py = [python_fn.handle(b) for b in bodies]
    finally:
        python_fn.pool.close()
    js = _node_checkout(config, modules, bodies)
    with psycopg.connect(database.dsn) as conn:
        price = conn.execute("SELECT price_cents FROM products WHERE id = 3").fetchone()[0]
        lines = dict(conn.execute(
            "SELECT order_id, quantity FROM order_lines WHERE order_id = ANY(%s)",
            ([py[0][1]["order_id"], js[0][1]["order_id"]],)).fetchall())
    assert [s for s, _ in py] == [s for s, _ in js] == [201, 404, 400]
    for (_, a), (_, b) in zip(py, js, strict=True):
        assert set(a) == set(b)
    assert py[0][1]["total_cents"] == js[0][1]["total_cents"] == 2 * price
    assert py[0][1]["shipping"] == js[0][1]["shipping"] == {
        "carrier": "bakeoff", "shipping_cents": 499, "total_cents": 2 * price}
    assert js[0][1]["order_id"] > py[0][1]["order_id"]  # node's order came second
    assert lines == {py[0][1]["order_id"]: 2, js[0][1]["order_id"]: 2}
    assert py[1][1] == js[1][1] == {"error": "no product 999999"}
    assert py[2][1] == js[2][1]
