"""Reading the catalog's CSV files: the reader, its error, and the cell parsers the row
models' validators call (confidence text, 'a:b;c:d' pairs, regular expressions).

Facts live in CSV files under scoring/data so they can be reviewed and refreshed apart from code.
A bad row stops loading with an error naming the file, the line and the field, because a price
that silently parses as nothing would turn into a wrong decision. The row models are in
scoring/catalog_rows.py.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import BakeoffError
from core.exit_codes import ExitCode

Confidence = Literal["provider_api", "api_derived", "primary_page", "secondary"]
CONFIDENCE_LABEL = {
    "provider_api": "provider API",
    "api_derived": "provider API via a third-party copy",
    "primary_page": "provider's own page",
    "secondary": "SECONDARY source",
}


def confidence_level(text: str | None) -> Confidence | None:
    """Map a row's free-text confidence to one of the four levels (None when unstated).

    'secondary...' wins over anything else so a secondary row is never shown as primary.
    """
    if not text:
        return None
    t = text.lower()
    if "secondary" in t:
        return "secondary"
    if t.startswith("provider_api"):
        return "provider_api"
    if "primary_page" in t:
        return "primary_page"
    if "api" in t or "sku" in t:
        return "api_derived"
    return None


class CatalogError(BakeoffError):
    """A catalog data file is malformed; the message names file, line and field."""

    exit_code = int(ExitCode.CATALOG_INVALID)


def compiles(v: str) -> str:
    try:
        re.compile(v)
    except re.error as e:
        raise ValueError(f"not a valid regular expression: {e}") from None
    return v


def parse_pairs(v: object, shape: str) -> object:
    """A CSV cell of 'a:b;c:d' pairs -> ((a, b), (c, d)); empty -> (); non-text untouched.
    `shape` names the pair in the error ('floor:percent', 'from_usd:percent')."""
    if v is None or v == "":
        return ()
    if not isinstance(v, str):
        return v
    out = []
    for part in v.split(";"):
        first, sep, second = part.partition(":")
        if not sep:
            raise ValueError(f"expected '{shape}' pairs separated by ';', got {part!r}")
        out.append((float(first), float(second)))
    return tuple(out)


R = TypeVar("R", bound=BaseModel)


def read_rows(path: Path, model: type[R], key: tuple[str, ...] = ()) -> list[R]:
    """Read a CSV into validated rows; every problem names file, line and field."""
    if not path.is_file():
        raise CatalogError(f"{path}: catalog file not found")
    rows: list[R] = []
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = set(reader.fieldnames or [])
        wanted = {n for n, fld in model.model_fields.items() if fld.is_required()}
        columns_in_order = model.csv_columns()  # type: ignore[attr-defined]  # a Row's
        order = {(n,): i for i, n in enumerate(columns_in_order)}  # problems in column order
        if missing := sorted(wanted - columns):
            raise CatalogError(f"{path}:1: missing column(s) {', '.join(missing)}")
        line = 2
        for raw in reader:
            start, line = line, reader.line_num + 1
            if None in raw:
                problems.append(f"{path}:{start}: more values than columns")
                continue
            data = {k: (None if v == "" else v) for k, v in raw.items()}
            try:
                row = model.model_validate(data)
            except ValidationError as e:
                for err in sorted(e.errors(), key=lambda r: order.get(r["loc"][:1], len(order))):
                    field = ".".join(str(p) for p in err["loc"]) or "(row)"
                    msg = err["msg"].removeprefix("Value error, ")
                    problems.append(f"{path}:{start}: field '{field}': {msg}; "
                                    f"got {err.get('input')!r}"[:300])
                continue
            if key:
                k = tuple(getattr(row, name) for name in key)
                if k in seen:
                    problems.append(f"{path}:{start}: duplicate key {k} (first on line {seen[k]})")
                seen[k] = start
            rows.append(row)
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CatalogError(f"{len(problems)} bad row(s) in the price catalog:\n{shown}{more}")
    return rows
