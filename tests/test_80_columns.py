"""Every table fits 80 columns (issue 23: `list` wrapped ids over three lines, `prices show`,
`score`, `compare`, `tco` printed 120-180 columns), ids stay whole, and what was left out
to fit is named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from decide_fixture import make_campaign

REPO = Path(__file__).resolve().parent.parent
BAKEOFF = Path(sys.executable).parent / "bakeoff"
IDS = ("quickstart-20261206T035358Z-51fa85", "quickstart-20261207T035358Z-77aa00")
TABLE_CHARS = "┏┃┡│└╭╰"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("eighty") / "results"
    for seed, cid in enumerate(IDS, start=1):
        make_campaign(base, campaign_id=cid, seed=seed)
    return base


def run(root: Path, *args: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "BAKEOFF_RESULTS": str(root), "NO_COLOR": "1"}
    res = subprocess.run([str(BAKEOFF), *args], capture_output=True, text=True, timeout=120,
                         env=env, cwd=REPO)
    assert res.returncode in (0, 1), res.stderr
    return res.stdout


@pytest.mark.parametrize("args", [
    ("list",), ("show", "latest"), ("compare", IDS[0][:-3], "latest", "--all"),
    ("score", "latest"), ("sql", "SELECT campaign_id, site, metric, avg(value) AS v "
                                 "FROM samples GROUP BY ALL"),
    ("prices", "show", "--provider", "gcp", "--vcpus", "4"),
    ("tco", str(REPO / "scenarios" / "poc-web-db.yaml")),
])
def test_tables_fit_80_columns(root, args):
    out = run(root, *args)
    table_lines = [line for line in out.splitlines() if line[:1] in TABLE_CHARS]
    assert table_lines, out
    too_wide = [line for line in table_lines if len(line) > 80]
    assert not too_wide, "\n".join(too_wide)


def test_list_keeps_ids_whole_and_says_what_it_left_out(root):
    out = run(root, "list")
    for cid in IDS:
        assert any(cid in line for line in out.splitlines()), out
    assert "left out to fit 80 columns: started" in " ".join(out.split())
    full = json.loads(run(root, "list", "--format", "json"))
    assert {r["id"] for r in full} == set(IDS) and all("started" in r for r in full)


@pytest.mark.parametrize("args,kind", [
    (("score", "latest"), "json"), (("score", "latest"), "csv"),
    (("compare", IDS[0], IDS[1]), "json"), (("compare", IDS[0], IDS[1]), "csv"),
    (("list",), "json"), (("show", "latest"), "csv"),
    (("prices", "show", "--provider", "gcp", "--vcpus", "4"), "csv"),
    (("plan", str(REPO / "scenarios" / "quickstart.yaml")), "json"),
    (("plan", str(REPO / "scenarios" / "quickstart.yaml")), "csv"),
    (("prices", "regions"), "json"), (("prices", "regions"), "csv"),
    (("sql", "SELECT site, count(*) AS n FROM samples GROUP BY ALL"), "csv"),
])
def test_one_format_option_for_machine_output(root, args, kind):
    """`--format table|json|csv` on every command that prints data."""
    out = run(root, *args, "--format", kind)
    if kind == "json":
        json.loads(out)
    else:
        import csv
        import io

        rows = list(csv.reader(io.StringIO(out)))
        assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), out[:500]


def test_an_empty_price_diff_is_still_a_csv_with_its_header(root):
    out = run(root, "prices", "diff", "shipped", "shipped", "--format", "csv")
    assert out.splitlines() == ["kind,key,change,field,old,new,pct"]


def test_an_unknown_format_is_invalid_input(root):
    env = {**os.environ, "BAKEOFF_RESULTS": str(root)}
    for args in (("plan", str(REPO / "scenarios" / "quickstart.yaml"), "--format", "xml"),
                 ("score", "latest", "--format", "xml"),
                 ("prices", "diff", "shipped", "shipped", "--format", "yaml")):
        res = subprocess.run([str(BAKEOFF), *args], capture_output=True, text=True,
                             timeout=120, env=env, cwd=REPO)
        assert res.returncode == 2 and "--format" in res.stderr, res.stderr
