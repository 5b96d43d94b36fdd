"""Requirements as a CI gate: a pass/fail summary and a documented exit code.

`bakeoff run` and `bakeoff score` end with this summary (as k6 does for its thresholds) and
exit with

- 9  (REQUIREMENT_FAILED) when a requirement failed at any site, else
- 10 (REQUIREMENT_NOT_MEASURED) when one could not be measured at some site,

unless `--no-fail-on-requirements` is given. These codes sit beside the campaign outcome
codes in core.exit_codes (docs/reliability.md); a run that is both partial and failing a
requirement exits with the requirement code, because that is the verdict a CI job acts on.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from core.exit_codes import ExitCode
from scoring.requirements import RequirementResult

REQUIREMENT_FAILED = int(ExitCode.REQUIREMENT_FAILED)
REQUIREMENT_NOT_MEASURED = int(ExitCode.REQUIREMENT_NOT_MEASURED)


def gate_code(results: Sequence[RequirementResult]) -> int:
    """0, REQUIREMENT_FAILED or REQUIREMENT_NOT_MEASURED for these results."""
    statuses = {r.status for r in results}
    if "fail" in statuses:
        return REQUIREMENT_FAILED
    if "not measured" in statuses:
        return REQUIREMENT_NOT_MEASURED
    return 0


def summary_lines(results: Sequence[RequirementResult]) -> list[str]:
    """'requirements: N passed, M failed, K not measured' and one line per non-pass."""
    if not results:
        return ["requirements: none in the scenario"]
    counts = {s: sum(1 for r in results if r.status == s)
              for s in ("pass", "fail", "not measured")}
    lines = [f"requirements: {counts['pass']} passed, {counts['fail']} failed, "
             f"{counts['not measured']} not measured (requirement x site)"]
    for r in results:
        if r.status == "pass":
            continue
        value = "" if r.value is None else f" (got {r.value:.4g}{' ' + r.unit if r.unit else ''})"
        note = f": {r.note}" if r.note and (r.status != "fail" or r.value is None) else ""
        hard = " (hard: the site is disqualified)" if r.hard and r.status == "fail" else ""
        lines.append(f"  {r.status.upper()}{hard} {r.site}: {r.requirement}{value}{note}")
    return lines


def report(results: Sequence[RequirementResult], console: Console, fail: bool = True) -> int:
    """Print the summary; the exit code to use (0 when `fail` is False)."""
    for line in summary_lines(results):
        console.print(line, highlight=False, markup=False)
    code = gate_code(results)
    if code and fail:
        why = ("a requirement failed" if code == REQUIREMENT_FAILED
               else "a requirement could not be measured")
        console.print(f"exit code {code}: {why} (--no-fail-on-requirements to exit 0)",
                      highlight=False, markup=False)
        return code
    return 0
