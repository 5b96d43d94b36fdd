"""`where: {endpoint: ...}` checked before the run against what the locustfile declares.

A requirement filtered on an endpoint that the load never requests could only end, after
the whole run, as "no valid samples" (issue 23: `POST /api/checkout` for the shipped
`POST /api/v1/checkout`). The shipped locustfile names every request with a literal
(`self.client.post(..., name="/api/v1/checkout")`), so its endpoints ("METHOD name", as
the http-load parser labels them) are read from its syntax tree without running it. A
user's locustfile may build names at run time: its endpoints are checked after the first
repetition instead (`first_repetition_problems`), and the campaign stops there.

`where: {query: ...}` is checked the same way: the per-query samples (`http-load.
server_db_query_*`) are labelled by the PoC service's `timed_query("name")` calls
(bench/poc/app.py); db-query's own samples are one pgbench script, with no query label.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path
from typing import Any

from core.errors import BakeoffError
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


def declared_queries(app: Path) -> set[str]:
    """The names of the service's `timed_query("name")` blocks: its per-query labels."""
    return {node.args[0].value for node in ast.walk(ast.parse(app.read_text(), str(app)))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "timed_query" and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


def _suggest(value: str, names: list[str]) -> str:
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def query_problems(data: dict[str, Any]) -> list[str]:
    """One problem per requirement whose `where.query` no sample can carry."""
    from bench.poc import POC_DIR

    queries = sorted(declared_queries(POC_DIR / "app.py"))
    problems = []
    for i, r in raw_entries(data, "requirements"):
        where, metric = r.get("where"), r.get("metric")
        query = where.get("query") if isinstance(where, dict) else None
        if not (isinstance(query, str) and isinstance(metric, str)):
            continue
        if metric.startswith("db-query."):
            problems.append(f"requirements[{i}].where.query: db-query's samples have no "
                            "query label (pgbench runs its script as one transaction); the "
                            "per-query samples are http-load.server_db_query_* (the PoC "
                            f"service's queries: {', '.join(map(repr, queries))})")
        elif metric.startswith("http-load.server_db_query_") and query not in queries:
            problems.append(f"requirements[{i}].where.query: {query!r} is not a query of the "
                            f"PoC service{_suggest(query, queries)}; its queries: "
                            f"{', '.join(map(repr, queries))}")
    return problems


def where_problems(data: dict[str, Any]) -> list[str]:
    """One problem per requirement whose `where.endpoint` the shipped load never produces,
    or whose `where.query` no sample carries."""
    from bench.workloads.http_load import LOCUSTFILE

    problems = query_problems(data)
    params = next((w.get("params") or {} for _, w in raw_entries(data, "workloads")
                   if w.get("name") == "http-load"), None)
    if not isinstance(params, dict) or params.get("locustfile"):
        return problems  # no http-load here, or a user's locustfile: checked at run time
    declared = declared_endpoints(Path(LOCUSTFILE))
    if declared is None:
        return problems
    rename = params.get("endpoints") if isinstance(params.get("endpoints"), dict) else {}
    names = [*sorted({str(rename.get(n, n)) for n in declared}), "all"]
    for i, r in raw_entries(data, "requirements"):
        where = r.get("where")
        endpoint = where.get("endpoint") if isinstance(where, dict) else None
        if not (isinstance(r.get("metric"), str) and r["metric"].startswith("http-load.")
                and isinstance(endpoint, str)) or endpoint in names:
            continue
        problems.append(f"requirements[{i}].where.endpoint: {endpoint!r} is not an endpoint of "
                        f"the shipped checkout locustfile{_suggest(endpoint, names)}; its "
                        "endpoints: "
                        f"{', '.join(repr(n) for n in names)}")
    return problems


class EndpointNotRequested(BakeoffError):
    """A requirement's `where.endpoint` that a user's locustfile did not request: invalid
    input, like a scenario error (exit 2)."""

    exit_code = 2


def first_repetition_check(campaign: Any, unit: Any, campaign_dir: Path) -> None:
    """After the first repetition of http-load with a user's locustfile: every http-load
    requirement's `where.endpoint` must be among the endpoints it produced, else the
    campaign stops here (not after every repetition) naming the endpoints seen."""
    import json

    specs = [w for w in campaign.workloads if w.name == "http-load"]
    if (unit.workload.name != "http-load" or unit.repetition != 0 or len(specs) != 1
            or not (specs[0].params or {}).get("locustfile")):
        return  # the shipped locustfile is checked by validate (where_problems)
    wanted = [(i, r.where["endpoint"]) for i, r in enumerate(campaign.requirements)
              if r.metric.startswith("http-load.") and "endpoint" in r.where]
    if not wanted:
        return
    journal = campaign_dir / "units" / unit.site / "http-load" / "0.json"
    samples = json.loads(journal.read_text()).get("samples", [])
    seen = sorted({str(json.loads(s["metadata"]).get("endpoint")) for s in samples
                   if "endpoint" in json.loads(s["metadata"])})
    missing = [(i, e) for i, e in wanted if e not in seen]
    if missing:
        raise EndpointNotRequested(
            "; ".join(f"requirements[{i}].where.endpoint: {e!r} was not requested by "
                      f"{specs[0].params['locustfile']}{_suggest(e, seen)}" for i, e in missing)
            + f" in the first repetition on site {unit.site!r}; the endpoints it requested: "
            + (", ".join(map(repr, seen)) or "none")
            + ". The campaign stopped there; fix the requirement (or the locustfile's "
              "`name=`), then run it again")
