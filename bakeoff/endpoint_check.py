"""`where: {endpoint: ...}` checked before the run against what the locustfile declares.

A requirement filtered on an endpoint that the load never requests could only end, after
the whole run, as "no valid samples" (issue 23: `POST /api/checkout` for the shipped
`POST /api/v1/checkout`). The shipped locustfile names every request with a literal
(`self.client.post(..., name="/api/v1/checkout")`), so its endpoints ("METHOD name", as
the http-load parser labels them) are read from its syntax tree without running it. A
user's locustfile may build names at run time; it is not checked here.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path
from typing import Any

from core.scenario import raw_entries

_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def declared_endpoints(locustfile: Path) -> set[str] | None:
    """"METHOD name" of every `self.client.<method>(...)` call, or None when one of them
    has a name that is not a literal (then the set would be incomplete)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(locustfile.read_text(), str(locustfile))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _METHODS and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "client"):
            continue
        named = next((k.value for k in node.keywords if k.arg == "name"), None)
        if named is None and node.args:
            named = node.args[0]
        if not (isinstance(named, ast.Constant) and isinstance(named.value, str)):
            return None
        found.add(f"{node.func.attr.upper()} {named.value}")
    return found


def where_problems(data: dict[str, Any]) -> list[str]:
    """One problem per requirement whose `where.endpoint` the shipped load never produces."""
    from bench.workloads.http_load import LOCUSTFILE

    params = next((w.get("params") or {} for _, w in raw_entries(data, "workloads")
                   if w.get("name") == "http-load"), None)
    if not isinstance(params, dict) or params.get("locustfile"):
        return []  # no http-load here, or a user's locustfile: names known only at run time
    declared = declared_endpoints(Path(LOCUSTFILE))
    if declared is None:
        return []
    rename = params.get("endpoints") if isinstance(params.get("endpoints"), dict) else {}
    names = [*sorted({str(rename.get(n, n)) for n in declared}), "all"]
    problems = []
    for i, r in raw_entries(data, "requirements"):
        where = r.get("where")
        endpoint = where.get("endpoint") if isinstance(where, dict) else None
        if not (isinstance(r.get("metric"), str) and r["metric"].startswith("http-load.")
                and isinstance(endpoint, str)) or endpoint in names:
            continue
        close = difflib.get_close_matches(endpoint, names, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"requirements[{i}].where.endpoint: {endpoint!r} is not an endpoint of "
                        f"the shipped checkout locustfile{hint}; its endpoints: "
                        f"{', '.join(repr(n) for n in names)}")
    return problems
