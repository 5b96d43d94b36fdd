"""Pydantic's validation errors as lines a user can act on: 'path: what was expected; got ...'.

Paths read like the YAML (`sites[1].cpus`, `workloads[0].params.threads`), the provider
union's internal tag is left out, and the few terse pydantic messages get a plain one.
"""

from __future__ import annotations

from typing import Any

from core.strict_numbers import BoolGiven

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"  # campaign and site names; explained in describe()

PROVIDER_TAGS = ("local", "static", "aws", "azure", "gcp")


def format_loc(loc: tuple[Any, ...]) -> str:
    """('sites', 1, 'local', 'cpus') -> 'sites[1].cpus' (the union tag is dropped)."""
    out = ""
    prev: Any = None
    for part in loc:
        union_tag = isinstance(prev, int) and part in PROVIDER_TAGS
        internal = isinstance(part, str) and part.startswith("function-")
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (union_tag or internal):
            out += f".{part}" if out else str(part)
        prev = part
    return out or "(top level)"


def short(value: Any) -> str:
    """A value as the user wrote it, cut to one line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe(err: dict[str, Any]) -> str:
    """One pydantic error (a dict of `ValidationError.errors()`) as 'path: expectation'."""
    loc = format_loc(tuple(err["loc"]))
    kind = err["type"]
    msg = err["msg"]
    if kind == "extra_forbidden":
        return f"{loc}: unknown key (check the spelling; unknown keys are not ignored)"
    if kind == "missing":
        return f"{loc}: required field is missing"
    if kind == "union_tag_invalid":
        return (f"{loc}.provider: expected one of local, static, aws, azure, gcp; "
                f"got {short(err.get('input', {}).get('provider'))}"
                if isinstance(err.get("input"), dict) else f"{loc}: {msg}")
    if kind == "union_tag_not_found":
        return f"{loc}.provider: required field is missing (local, static, aws, azure, gcp)"
    got = err.get("input")
    if isinstance(got, BoolGiven):
        return f"{loc}: expected a number, got the boolean {got} (true/false are not numbers)"
    got_s = "" if isinstance(got, (dict, list)) or got is None else f"; got {short(got)}"
    if kind == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == NAME_PATTERN:
        msg = ("expected lowercase letters a-z, digits and '-', at most 40, starting with a "
               "letter or digit (the name becomes part of folder and resource names)")
    msg = msg.removeprefix("Value error, ")
    return f"{loc}: {msg}{got_s}"
