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


def emit_records(rows: Sequence[dict], fmt: str, fields: Sequence[str] = ()) -> None:
    """Rows as a JSON array or CSV with a header (the table's columns, unformatted; `fields`
    names them when there may be no row to read them from)."""
    import csv
    import json
    import sys

    if fmt == "json":
        sys.stdout.write(json.dumps(list(rows), indent=2, default=str) + "\n")
        return
    fields = list(dict.fromkeys([*fields, *(k for r in rows for k in r)]))
    writer = csv.DictWriter(sys.stdout, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)


# Words that start a command a user types: from one of them up to the next `,` `;` or `)`
# the words stay on one line, so a copied fix runs whole (issue 23: hints broke mid-command).
COMMANDS = frozenset({"aws", "az", "gcloud", "pip", "pulumi", "curl", "export", "bakeoff",
                      "kubectl", "make"})
_GLUE = "\x00"


def _glued(text: str) -> str:
    """`text` with the spaces inside commands and `backticked` spans made unbreakable."""
    out, in_ticks, in_command = "", False, False
    for word in text.split(" "):
        joined = bool(out) and (in_ticks or (in_command and not word.startswith("(")))
        in_command = (joined and in_command) or (
            not in_ticks and word.lstrip("(").split("=")[0] in COMMANDS)
        out += (_GLUE if joined else " " if out else "") + word
        if word.count("`") % 2 == 1:
            in_ticks = not in_ticks
        if word.endswith((",", ";", ")")) or in_ticks:
            in_command = False
    return out


def wrap_words(text: str, width: int, indent: str = "", subsequent: str | None = None
               ) -> list[str]:
    """Lines of at most `width` columns, broken between words only: an id (one word) or a
    command is never broken, so a line longer than `width` is one of those, whole."""
    import textwrap

    lines = textwrap.wrap(_glued(" ".join(text.split())), width=width, initial_indent=indent,
                          subsequent_indent=indent if subsequent is None else subsequent,
                          break_long_words=False, break_on_hyphens=False)
    return [line.replace(_GLUE, " ") for line in lines] or [indent.rstrip()]


def print_wrapped(console: Console, text: str, indent: str = "", subsequent: str | None = None,
                  style: str | None = None) -> None:
    """Plain text wrapped by wrap_words and printed as is (Rich does not re-wrap it)."""
    from rich.text import Text

    for line in wrap_words(text, console.width, indent, subsequent):
        console.print(Text(line, style=style or ""), soft_wrap=True)


def _word_widths(headers: Sequence[str], rows: Sequence[Sequence[str]]
                 ) -> tuple[list[int], list[int]]:
    """Per column: the longest word (the narrowest it can be without breaking one) and
    the longest line (the widest it would be)."""
    from rich.cells import cell_len

    low, high = [], []
    for i, h in enumerate(headers):
        cells = [h, *(r[i] for r in rows)]
        low.append(max(cell_len(w) for c in cells for w in (c.split() or [""])))
        high.append(max(cell_len(c) for c in cells))
    return low, high


def word_safe_widths(width: int, headers: Sequence[str], rows: Sequence[Sequence[str]]
                     ) -> list[int] | None:
    """Column widths for a boxed table `width` columns wide in which no word is broken
    (each column at least its longest word; the space left shared out by how much each
    column would still use), or None when the longest words alone do not fit."""
    low, high = _word_widths(headers, rows)
    room = width - (3 * len(headers) + 1)  # "│ " + " " per column and the last "│"
    if sum(low) > room:
        return None
    widths = list(low)
    spare = room - sum(widths)
    # short columns first get the room to print on one line; the longest takes the rest
    for i in sorted(range(len(widths)), key=lambda i: high[i] - low[i]):
        grant = min(high[i] - widths[i], spare)
        if grant < high[i] - widths[i]:
            longest = max(range(len(widths)), key=lambda j: high[j] - widths[j])
            widths[longest] += spare
            break
        widths[i] += grant
        spare -= grant
    return widths


def print_table_or_blocks(console: Console, title: str, headers: Sequence[str],
                          rows: Sequence[Sequence[str]]) -> None:
    """The rows as a table when it fits breaking cells between words only; otherwise one
    block per row (its first cell, then `header: value` lines wrapped by wrap_words), so
    no value is cut, or folded inside a word, to fit."""
    from rich.text import Text

    widths = word_safe_widths(console.width, headers, rows)
    if widths is not None:
        table = Table(title=title)
        for h, w in zip(headers, widths, strict=True):
            table.add_column(h, width=w, overflow="fold")
        for row in rows:
            table.add_row(*(Text(v) for v in row))  # values, never Rich markup
        console.print(table)
        return
    console.print(Text(title, style="italic"), soft_wrap=True)
    for row in rows:
        console.print(Text(row[0], style="bold"), soft_wrap=True)
        for h, value in zip(headers[1:], row[1:], strict=True):
            if value:
                print_wrapped(console, f"{h}: {value}", "  ", "    ")


def reflow_help(doc: str) -> str:
    """A command's docstring for the help screen: paragraphs joined into one line each, so
    the terminal wraps them at its width (Typer's rich help keeps the source's line breaks:
    at 80 columns a 79-column source line became a line and a stray word); an example
    command on a line of its own after "Example:", so it is not run together with prose.
    Lines that start a list item (`- `) or are indented stay as they are."""
    import inspect

    out = []
    for para in inspect.cleandoc(doc).split("\n\n"):
        lines = para.splitlines()
        if any(line.startswith(("- ", "* ", " ")) for line in lines[1:]):
            out.append(para)
            continue
        text = " ".join(line.strip() for line in lines)
        prose, _, example = text.partition("Example: ")
        out += [p for p in (prose.strip(),) if p]
        if example:
            out.append("Example:\n" + example.strip())
    return "\n\n".join(out)
