"""Every help screen at 80 columns (issue 23: help prose written for ~90 columns broke
into a line and a stray word; example commands ran on into prose or over two lines).

Checked on the rendered help of every command: no line over 80 columns; prose wrapped
greedily (a line ends early only where its paragraph ends), and each `Example:` command
whole on one line, so a paste runs all of it."""

from __future__ import annotations

import inspect
import itertools
import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from bakeoff.cli import app

USABLE = 78  # 80 columns less the help screen's one-column margins


def _commands():
    root = get_command(app)

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in sorted(cmd.commands.items()):
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd
    return list(walk(root, []))


COMMANDS = _commands()


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_fits_80_columns(path, cmd):
    res = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert not [line for line in lines if len(line) > 80]
    prose = []  # the lines between "Usage:" and the first panel, margins stripped
    for line in lines[next(i for i, x in enumerate(lines) if "Usage:" in x) + 1:]:
        if line.startswith("╭"):
            break
        prose.append(line.strip())
    for here, after in itertools.pairwise(prose):
        if here and after and here != "Example:":
            # greedy wrapping: the next word would not have fitted on this line
            assert len(here) + 1 + len(after.split()[0]) > USABLE - 2, (here, after)
    for example in re.findall(r"Example: (.+?)(?:\n\n|$)", inspect.cleandoc(cmd.help or ""),
                              re.S):
        command = " ".join(example.split())
        assert len(command) <= USABLE, f"shorten the example: {command}"
        assert command in prose, (command, prose)
