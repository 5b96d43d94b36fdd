"""The process-wide setup of a running campaign: who owns it, where its temp files go,
how its children are tagged. Kept apart from the orchestrator's measuring loop.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.errors import BakeoffError
from stacks import tracking


def check_results_root(root: Path) -> None:
    """A clear error, before anything starts, when results cannot be written there."""
    if root.exists() and not root.is_dir():
        raise BakeoffError(f"results root {root} is a file, not a folder; pass "
                           "--results with a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-"):
            pass
    except OSError as e:
        raise BakeoffError(f"results root {root} is not writable ({e.strerror or e}); pass "
                           "--results with a folder you can write to") from None


@contextlib.contextmanager
def campaign_process_env(tracker: tracking.Tracker) -> Iterator[Path]:
    """Tag every child with the campaign id and keep every temp file under one root.

    The temp root is recorded before it exists; it is left for teardown's sweep to remove.
    """
    campaign_id = tracker.campaign_id
    temp_root = tracking.temp_root_for(campaign_id)
    tracker.record("tempdir", path=str(temp_root))
    temp_root.mkdir(mode=0o711, exist_ok=True)
    os.chmod(temp_root, 0o711)  # PostgreSQL runs as another user and must reach its dir
    saved_env = {k: os.environ.get(k) for k in (tracking.CAMPAIGN_ENV, "TMPDIR")}
    saved_tempdir = tempfile.tempdir
    os.environ[tracking.CAMPAIGN_ENV] = campaign_id
    os.environ["TMPDIR"] = str(temp_root)
    tempfile.tempdir = str(temp_root)
    tracking.activate(tracker)
    try:
        yield temp_root
    finally:
        tracking.activate(None)
        tempfile.tempdir = saved_tempdir
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
