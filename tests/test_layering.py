"""The packages import one way (docs/architecture.md): `bakeoff` → anything; `bench` →
`core`, `stacks`; `scoring` → `core`, `bench`; `stacks` → `core`; `core` → none of them.

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy
import is still a dependency (bench is shipped to remote hosts without scoring, for one;
stacks/payload.py). Within scoring, tests/test_scoring_pipeline.py checks the stages.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "stacks", "bench", "scoring", "bakeoff")
# What each package may NOT import.
FORBIDDEN = {
    "core": {"stacks", "bench", "scoring", "bakeoff"},
    "stacks": {"bench", "scoring", "bakeoff"},
    "bench": {"scoring", "bakeoff"},
    "scoring": {"stacks", "bakeoff"},
    "bakeoff": set(),
}


def imported_packages(source: str) -> set[str]:
    """Top-level package names imported anywhere in `source` (absolute imports)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
    return out


def violations() -> list[str]:
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            bad = imported_packages(path.read_text()) & FORBIDDEN[pkg]
            found += [f"{path.relative_to(ROOT)} imports {b}" for b in sorted(bad)]
    return found


def test_the_scanner_sees_lazy_and_type_checking_imports():
    # the forms a violation hides in; a scanner that missed one would pass vacuously
    src = textwrap.dedent("""
        from typing import TYPE_CHECKING
        import core.errors
        if TYPE_CHECKING:
            from bench.samples import Sample
        def f():
            import scoring.tco as t
            from bakeoff import sizing
        from .sibling import x
    """)
    assert imported_packages(src) == {"typing", "core", "bench", "scoring", "bakeoff"}


def test_packages_import_only_lower_layers():
    assert violations() == []


def test_every_package_file_is_scanned():
    # the scan covers subpackages (stacks/cloud, bench/workloads), not just the top level
    scanned = {p.relative_to(ROOT).as_posix() for pkg in PACKAGES
               for p in (ROOT / pkg).rglob("*.py")}
    assert {"stacks/cloud/gc_common.py", "bench/workloads/ping.py",
            "stacks/local_function.py", "bakeoff/sizing.py"} <= scanned


def test_function_names_are_the_deployed_functions():
    # stacks/local_function.py lists core.functions.FUNCTION_NAMES in env.notes["function"]
    # without importing bench; the implementations must be exactly those.
    from bench.serverless.functions import FUNCTIONS
    from core.functions import FUNCTION_NAMES

    assert sorted(FUNCTIONS) == sorted(FUNCTION_NAMES)


def test_loadgen_auto_is_bound_by_the_application_package():
    # core.scenario's `loadgen: auto` hook is bound when the bakeoff package is imported
    # (bakeoff/__init__.py); a process that loads a scenario through bench alone is told
    # so, instead of getting a misleading "'auto' is for cloud sites".
    code = textwrap.dedent("""
        import yaml
        from core import scenario
        from core.errors import ScenarioError
        import bench.scenarios as s
        assert scenario.LOADGEN_AUTO is None
        data = yaml.safe_load(open("scenarios/poc-web-db.yaml"))
        for site in data["sites"]:
            site["loadgen"] = "auto"
        try:
            s.parse_campaign(data, "x.yaml")
        except ScenarioError as e:
            print(str(e))
        import bakeoff
        assert scenario.LOADGEN_AUTO is not None
        print("bound")
    """)
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert res.returncode == 0, res.stderr
    assert "sites[0].loadgen: 'auto' is resolved by the bakeoff application" in res.stdout
    assert "'auto' is for cloud sites" not in res.stdout
    assert res.stdout.rstrip().endswith("bound")
