"""Booleans are not numbers: `repetitions: true` must not run one repetition.

pydantic's lax mode turns YAML `true` into 1 for an `int` (or `float`) field. Every scenario
model and every workload's params model inherits `NoBoolNumbers`: a boolean given for a field
typed as a number is swapped for a `BoolGiven` marker before validation, so the field's own
number check fails at its own path (with every other problem still reported), and
`describe` words it as a boolean given for a number. `bool` fields still take booleans.
(A field validator on "*" cannot be used: it would also wrap the sites' discriminator.)
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, model_validator

_NUMBERS = (int, float)


class BoolGiven(str):
    """The text of a boolean given where a number was expected (fails number parsing)."""


def _members(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return tuple(m for a in typing.get_args(annotation) for m in _members(a))
    return (annotation,)


def wants_number_not_bool(annotation: Any) -> bool:
    """A number field that does not take booleans on purpose (bool, Any)."""
    members = _members(annotation)
    return any(m in _NUMBERS for m in members) and not any(m in (bool, Any) for m in members)


class NoBoolNumbers(BaseModel):
    """Refuses `true`/`false` for a field typed as a number (int or float)."""

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        swapped = {k: BoolGiven(str(v).lower()) for k, v in data.items()
                   if isinstance(v, bool) and k in cls.model_fields
                   and wants_number_not_bool(cls.model_fields[k].annotation)}
        return {**data, **swapped} if swapped else data
