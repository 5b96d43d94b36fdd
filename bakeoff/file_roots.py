"""Files a workload reads must live beside the scenario (or under a root the user allows).

A scenario names files its workloads read on this machine and stage onto a host: db-query's
`sql_file`, http-load's `locustfile`. Without a rule, `sql_file: /etc/shadow` validates and
runs (pgbench then quotes the lines it cannot parse into the campaign's results). A file is
accepted when its real path (symlinks resolved) lies under the scenario file's directory or
under one of the directories listed in BAKEOFF_FILE_ROOTS (separated by ':').
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.scenario import raw_entries

ROOTS_ENV = "BAKEOFF_FILE_ROOTS"
# workload -> the params naming a file on this machine that the workload reads
READ_FILES: dict[str, tuple[str, ...]] = {"db-query": ("sql_file",), "http-load": ("locustfile",)}


def allowed_roots(scenario: Path) -> list[Path]:
    """The scenario's own directory, then the roots the environment allows."""
    extra = [Path(r).expanduser() for r in os.environ.get(ROOTS_ENV, "").split(":") if r]
    return [Path(os.path.realpath(r)) for r in [scenario.parent, *extra]]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def file_problems(data: dict[str, Any], scenario: Path) -> list[str]:
    """One problem per workload file outside the allowed roots, naming the field and roots."""
    roots = allowed_roots(scenario)
    problems = []
    for i, w in raw_entries(data, "workloads"):
        params = w.get("params")
        if not isinstance(params, dict):
            continue
        for key in READ_FILES.get(str(w.get("name")), ()):
            value = params.get(key)
            if not isinstance(value, str) or not value:
                continue
            real = Path(os.path.realpath(Path(value).expanduser()))
            if not _inside(real, roots):
                problems.append(
                    f"workloads[{i}].params.{key}: {value!r} resolves to {real}, outside the "
                    f"scenario's directory {roots[0]}; expected a file under it (or under a "
                    f"directory listed in {ROOTS_ENV})")
    return problems
