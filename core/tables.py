"""Tables that fit the terminal: columns dropped by priority, ids never wrapped.

A table wider than the terminal first loses its least important columns (each command says
which, in order); what is left folds inside cells, except identifiers, which a user copies
and which therefore stay whole. The dropped columns are named under the table, with the
machine-readable output (--format json|csv) that keeps every column.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table


def fitted(console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]], *,
           drop: Sequence[str] = (), whole: Sequence[str] = ("id",),
           right: Sequence[str] = (), **table_options: object) -> tuple[Table, list[str]]:
    """(table, dropped column names): the table at most `console.width` wide when dropping
    `drop` (least important first) gets it there."""
    keep, dropped = list(headers), []
    pending = [d for d in drop if d in headers]
    while True:
        table = Table(**table_options)  # type: ignore[arg-type]
        for h in keep:
            table.add_column(h, no_wrap=h in whole, justify="right" if h in right else "left",
                             overflow="ellipsis" if h in whole else "fold")
        for row in rows:
            table.add_row(*[row[headers.index(h)] for h in keep])
        natural = console.measure(table, options=console.options.update(max_width=10_000))
        if natural.maximum <= console.width or not pending:
            return table, dropped
        dropped.append(pending.pop(0))
        keep.remove(dropped[-1])


def print_fitted(console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]],
                 **options: object) -> None:
    table, dropped = fitted(console, headers, rows, **options)  # type: ignore[arg-type]
    console.print(table)
    if dropped:
        console.print(f"(left out to fit {console.width} columns: {', '.join(dropped)}; "
                      "--format json or csv has every column)", highlight=False, markup=False)


# One machine-output convention for every command that prints data: --format table|json|csv.
FORMATS = ("table", "json", "csv")


def format_option(default: str = "table", offered: Sequence[str] = FORMATS) -> object:
    import typer

    return typer.Option(default, "--format", help=" | ".join(offered))


def check_format(fmt: str, offered: Sequence[str] = FORMATS, command: str = "") -> None:
    """An unknown --format is invalid input (exit 2), like any other bad option value."""
    from core.errors import BakeoffError

    class FormatError(BakeoffError):
        exit_code = 2

    if fmt not in offered:
        raise FormatError(f"{command + ' ' if command else ''}--format {fmt!r}: expected "
                          f"{', '.join(offered)}")


def emit_records(rows: Sequence[dict], fmt: str) -> None:
    """Rows as a JSON array or CSV with a header (the table's columns, unformatted)."""
    import csv
    import json
    import sys

    if fmt == "json":
        sys.stdout.write(json.dumps(list(rows), indent=2, default=str) + "\n")
        return
    fields = list(dict.fromkeys(k for r in rows for k in r))
    writer = csv.DictWriter(sys.stdout, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
