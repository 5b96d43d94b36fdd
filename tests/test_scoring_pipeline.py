"""scoring/ reads as a pipeline: no import circles, and each stage imports only earlier ones.

Every import counts, including those inside functions and under TYPE_CHECKING: a circle
hidden in a function is still a circle for a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

SCORING = Path(__file__).resolve().parent.parent / "scoring"

# Pipeline order: a module may import only modules of a lower rank.
RANK = {
    "criteria": 0, "stats": 0, "hdr_stats": 1, "display": 0,  # configuration and helpers
    "quantities": 2, "requirements": 3,  # stage 1 (requirements are judged beside it)
    "utilities": 4,  # stage 2
    "matrix": 5,  # stage 3
    "sensitivity": 6,  # stage 4
    "result": 7,
    "summary": 8, "charts": 8, "report": 9,  # stage 5
    "decide": 10,
}
# The stages proper, in order: each reads what the previous one produced, nothing later.
STAGES = ["quantities", "utilities", "matrix", "sensitivity", "report"]


def scoring_imports(path: Path) -> set[str]:
    """Names of scoring modules imported anywhere in a file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "scoring":
                out.update(a.name for a in node.names)
            elif node.module.startswith("scoring."):
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names
                       if a.name.startswith("scoring."))
    return out - {path.stem}


def graph() -> dict[str, set[str]]:
    return {p.stem: scoring_imports(p) for p in SCORING.glob("*.py") if p.stem != "__init__"}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(g.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for n in sorted(g):
        if n not in state:
            visit(n, [n])
    return found


def test_no_import_circles_in_scoring():
    assert cycles(graph()) == []


def test_the_checker_finds_a_circle():
    assert cycles({"decide": {"report"}, "report": {"summary"}, "summary": {"decide"}}) == [
        ["decide", "report", "summary", "decide"]]


def test_stages_import_only_earlier_stages():
    g = graph()
    wrong = [f"{a} -> {b}" for a, deps in g.items() if a in RANK
             for b in deps if b in RANK and RANK[b] >= RANK[a]]
    assert wrong == []
    for i, stage in enumerate(STAGES[:-1]):
        later = set(STAGES[i + 1:])
        assert not g[stage] & later, (stage, g[stage] & later)
    # the matrix and sensitivity stages read only their predecessor's output
    assert not g["matrix"] & {"quantities", "requirements", "sensitivity"}
    assert not g["sensitivity"] & {"quantities", "utilities", "stats"}


def test_scoring_holds_no_command():
    """The CLI commands live in bakeoff/ (issue 19, Build 7): no scoring module imports
    typer, the CLI framework, so deciding stays a library any surface can call."""
    commands = sorted(p.stem for p in SCORING.glob("*.py")
                      if any(isinstance(n, (ast.Import, ast.ImportFrom))
                             and "typer" in ([a.name for a in n.names]
                                             if isinstance(n, ast.Import) else [n.module])
                             for n in ast.walk(ast.parse(p.read_text()))))
    assert commands == []
