"""Goldens of bakeoff's own output: compared with a readable diff, regenerated only on
purpose, and accepted only once the new file's checksum is recorded as reviewed.

`BAKEOFF_REGEN_GOLDEN=1` rewrites a golden that differs, and the test still fails with
the unified diff: the change must be read, then recorded in the folder's REVIEWED file
(`sha256  file  note`, see tests/golden/plan/README.md). tests/test_golden_provenance.py
fails while a golden's checksum is not recorded there, so a regenerated golden cannot be
committed unreviewed by accident.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

REGEN_ENV = "BAKEOFF_REGEN_GOLDEN"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reviewed(folder: Path) -> dict[str, str]:
    """file name -> sha256 recorded as reviewed in `folder`/REVIEWED."""
    out: dict[str, str] = {}
    path = folder / "REVIEWED"
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()[:2]
            out[name] = digest
    return out


def assert_json_golden(path: Path, got: Any) -> None:
    """`got` equals the JSON golden at `path`; otherwise fail with a unified diff (and,
    with BAKEOFF_REGEN_GOLDEN set, rewrite the golden for review)."""
    new = json.dumps(got, indent=2) + "\n"
    old = path.read_text() if path.exists() else ""
    if old and json.loads(old) == got:
        return
    diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"{path.name} (golden)", f"{path.name} (now)"))
    if os.environ.get(REGEN_ENV):
        path.write_text(new)
        pytest.fail(f"{path} rewritten ({REGEN_ENV} is set). Review this diff, then record "
                    f"the new checksum in {path.parent / 'REVIEWED'}:\n"
                    f"{sha256(path)}  {path.name}  <what you checked>\n\n{diff}")
    pytest.fail(f"output differs from the golden {path}:\n{diff}\nIf the change is right: "
                f"{REGEN_ENV}=1 to rewrite it, review the diff, record it in REVIEWED.")
