"""Shared fixtures: a scenario writer and a guard that nothing we start is left running."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write YAML text to a file and return its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


def have(*tools: str) -> bool:
    return all(shutil.which(t) for t in tools)


is_root = os.geteuid() == 0
