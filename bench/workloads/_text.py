"""Small helpers shared by the text-output parsers: errors, strict numbers, named lines.

Tools print numbers in more than one way: sysbench pads rates to a fixed width
(`( 9330.67 per second)`), a locale or a newer release may group thousands (`1,234.5`),
and some values come out in exponent notation (`1.2e+06`). The patterns here capture a
whole number-like token and convert it strictly, so `1.2.3` or `1,23` is refused with a
ParseError naming the tool instead of being half-read (`[\\d.]+` then `float()` raising
ValueError) or silently truncated to its first digits.
"""

from __future__ import annotations

import math
import re

from core.errors import ParseError

FATAL_PATTERN = re.compile(r"^[ \t]*(FATAL|fatal error|error:)", re.IGNORECASE | re.MULTILINE)

# A number-like token: optional sign, digits with dots/commas inside, optional exponent.
# It is deliberately wider than a valid number so that a malformed one is seen whole.
NUM = r"[-+]?(?:\d[\d.,]*|\.\d[\d.,]*)(?:[eE][-+]?\d+)?"
# An unsigned integer token (commas allowed, checked by `integer`).
INT = r"\d[\d,]*"
# Optional padding between a label and its number (spaces or tabs, never a newline).
PAD = r"[ \t]*"

_PLAIN = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z")
_GROUPED = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][-+]?\d+)?\Z")


def require_text(tool: str, output: str) -> str:
    """Reject empty output and outputs with a FATAL/error line, naming the tool."""
    if not isinstance(output, str):
        raise ParseError(tool, f"the output is not text (got {type(output).__name__})")
    if not output or not output.strip():
        raise ParseError(tool, "the output is empty (did the tool run at all?)")
    low = output.lower()  # a cheap pre-check: the regex search is the costly part
    m = FATAL_PATTERN.search(output) if "fatal" in low or "error:" in low else None
    if m:
        line = output[m.start(1):].splitlines()[0].strip()
        raise ParseError(tool, f"the tool reported an error: {line[:300]!r}")
    return output


def number(tool: str, token: str, what: str) -> float:
    """A finite float from one token: plain, exponent or comma-grouped; else ParseError."""
    t = token.strip().rstrip(",")
    if _GROUPED.match(t):
        t = t.replace(",", "")
    elif not _PLAIN.match(t):
        raise ParseError(tool, f"{what}: {token[:80]!r} is not a number")
    value = float(t)
    if not math.isfinite(value):
        raise ParseError(tool, f"{what}: {token[:80]!r} is out of range")
    return value


def integer(tool: str, token: str, what: str) -> int:
    """A whole number from one token (`1,024` allowed); a fraction is a ParseError."""
    value = number(tool, token, what)
    if value != int(value):
        raise ParseError(tool, f"{what}: {token[:80]!r} is not a whole number")
    return int(value)


def find_float(tool: str, pattern: str, output: str, what: str) -> float:
    """The number captured by `pattern` (group 1, built with NUM); ParseError if absent."""
    m = re.search(pattern, output, re.MULTILINE)
    if not m:
        raise ParseError(tool, f"no {what} found (output truncated or of an unknown format)")
    return number(tool, m.group(1), what)


def find_int(tool: str, pattern: str, output: str, what: str) -> int:
    """The whole number captured by `pattern` (group 1); ParseError if absent or fractional."""
    m = re.search(pattern, output, re.MULTILINE)
    if not m:
        raise ParseError(tool, f"no {what} found (output truncated or of an unknown format)")
    return integer(tool, m.group(1), what)
