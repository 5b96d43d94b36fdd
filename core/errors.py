"""Errors users see. Each one carries a message meant to be printed as-is, never a traceback."""

from __future__ import annotations


class BakeoffError(Exception):
    """Base for every error that the CLI turns into a clear message and exit code."""

    exit_code = 1


class ScenarioError(BakeoffError):
    """The scenario file is wrong: names the file, the path inside it and what was expected."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s) in the scenario\n{lines}")


class ParseError(BakeoffError):
    """A tool printed something its parser does not understand (or cannot be a measurement).

    Exit code 65 is sysexits' EX_DATAERR ("the input data was incorrect"): `bakeoff parse`
    refusing a file is told apart from a bakeoff bug, which exits 70 (EX_SOFTWARE).
    """

    exit_code = 65

    def __init__(self, tool: str, reason: str):
        self.tool = tool
        self.reason = reason
        super().__init__(f"{tool}: cannot parse output: {reason}")


class PrerequisiteError(BakeoffError):
    """Something the run needs is missing on this machine (a tool, root, credentials)."""

    exit_code = 3


class PriceNotFoundError(BakeoffError):
    """A price the cost model needs is not in the catalog and no override was given."""

    exit_code = 4
