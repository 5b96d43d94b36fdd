"""Small helpers shared by the text-output parsers."""

from __future__ import annotations

import re

from core.errors import ParseError

FATAL_PATTERN = re.compile(r"^\s*(FATAL|fatal error|error:)", re.IGNORECASE | re.MULTILINE)


def require_text(tool: str, output: str) -> str:
    """Reject empty output and outputs with a FATAL/error line, naming the tool."""
    if not output or not output.strip():
        raise ParseError(tool, "the output is empty (did the tool run at all?)")
    m = FATAL_PATTERN.search(output)
    if m:
        line = output[m.start(1):].splitlines()[0].strip()
        raise ParseError(tool, f"the tool reported an error: {line!r}")
    return output


def find_float(tool: str, pattern: str, output: str, what: str) -> float:
    """The first number captured by `pattern`; a ParseError naming `what` if absent."""
    m = re.search(pattern, output, re.MULTILINE)
    if not m:
        raise ParseError(tool, f"no {what} found (output truncated or of an unknown format)")
    return float(m.group(1))
