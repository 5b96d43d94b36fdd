"""Typed access to tool JSON documents: a missing or wrong-typed field is a ParseError.

Every JSON parser (fio, iperf3, http-load, db-query) reads through these helpers, so a
document cut short, with a field renamed or holding the wrong type (a string where a
number belongs, `null`, a list) is refused with the tool's name and the field's path
rather than ending in KeyError, TypeError or AttributeError. `NaN` and `Infinity`, which
Python's json module accepts but no tool here prints, are refused too.
"""

from __future__ import annotations

import json
import math
from typing import Any

from core.errors import ParseError

_MISSING = object()
MAX_INT = 2**63  # no counter of these tools is wider than 64 bits


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite constant {name}")


def loads(tool: str, text: str, what: str = "raw output") -> Any:
    """json.loads that refuses NaN/Infinity and turns every failure into ParseError."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ParseError(tool, f"{what} is not valid JSON ({str(exc)[:200]})") from None


def first_document(tool: str, text: str, start: int) -> Any:
    """The JSON value starting at `start` (text after it is ignored); ParseError if invalid."""
    try:
        doc, _ = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(text, start)
    except (ValueError, RecursionError) as exc:
        raise ParseError(tool, f"the JSON document is truncated or invalid "
                               f"({str(exc)[:200]})") from None
    return doc


Path = str | tuple[str, ...]  # "end.sum_received" or ("percentile", "99.000000")


def _name(where: Path) -> str:
    return where if isinstance(where, str) else ".".join(where)


def _walk(tool: str, doc: Any, where: Path, default: Any) -> Any:
    keys = where.split(".") if isinstance(where, str) else where
    path = ".".join(keys)
    node = doc
    for key in keys:
        if not isinstance(node, dict):
            raise ParseError(tool, f"'{path}': the parent of {key!r} is not an object")
        if key not in node:
            if default is not _MISSING:
                return default
            raise ParseError(tool, f"no '{path}' in the JSON document (truncated or another "
                                   "format?)")
        node = node[key]
    return node


def _typed(tool: str, doc: Any, path: Path, default: Any, kind: type, what: str) -> Any:
    """The `kind` value at dotted `path`; `default` when absent (if given), else ParseError."""
    node = _walk(tool, doc, path, default)
    if node is default and default is not _MISSING:
        return node
    if not isinstance(node, kind):
        raise ParseError(tool, f"'{_name(path)}' is not {what} (got {type(node).__name__})")
    return node


def obj(tool: str, doc: Any, path: Path, default: Any = _MISSING) -> dict[str, Any]:
    """The object at dotted `path`; `default` when absent (if given), ParseError otherwise."""
    return _typed(tool, doc, path, default, dict, "an object")


def array(tool: str, doc: Any, path: Path) -> list[Any]:
    return _typed(tool, doc, path, _MISSING, list, "a list")


def num(tool: str, doc: Any, path: Path, default: Any = _MISSING) -> float:
    """The finite number at dotted `path` (bools and numeric strings are refused)."""
    node = _walk(tool, doc, path, default)
    if node is default and default is not _MISSING:
        return node
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ParseError(tool, f"'{_name(path)}' is not a number (got {str(node)[:60]!r})")
    if isinstance(node, int) and abs(node) > MAX_INT:
        raise ParseError(tool, f"'{_name(path)}' is out of range ({str(node)[:30]}...)")
    if isinstance(node, float) and not math.isfinite(node):
        raise ParseError(tool, f"'{_name(path)}' is not finite")
    return float(node) if isinstance(node, float) else node


def count(tool: str, doc: Any, path: Path, default: Any = _MISSING) -> int:
    """A non-negative whole number at dotted `path`."""
    value = num(tool, doc, path, default)
    if value is default and default is not _MISSING:
        return value
    if value != int(value) or value < 0:
        raise ParseError(tool, f"'{_name(path)}' must be a non-negative whole number, "
                               f"got {value!r}")
    return int(value)


def text(tool: str, doc: Any, path: Path, default: Any = _MISSING) -> str:
    return _typed(tool, doc, path, default, str, "a string")
