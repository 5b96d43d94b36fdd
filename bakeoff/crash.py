"""An unexpected error is a bug: the user gets one line and a file, never a traceback.

The traceback goes to `crash-<time>.txt` beside the campaign's results when a campaign is
known, else into the state directory ($XDG_STATE_HOME/bakeoff, by default
~/.local/state/bakeoff). `--debug` or BAKEOFF_DEBUG=1 prints it instead.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from pathlib import Path

_state: dict[str, object] = {"debug": False, "campaign_dir": None}


def set_debug(on: bool) -> None:
    _state["debug"] = bool(on)


def debug_enabled() -> bool:
    env = os.environ.get("BAKEOFF_DEBUG", "").strip().lower()
    return bool(_state["debug"]) or env in ("1", "true", "yes", "on")


def note_campaign_dir(path: Path | None) -> None:
    """Where the running command's results go: a crash report is written there."""
    _state["campaign_dir"] = path


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "bakeoff"


def save_traceback(exc: BaseException) -> Path | None:
    """Write the traceback with the command line; the file's path, or None if unwritable."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    text = (f"bakeoff {' '.join(sys.argv[1:])}\n{stamp}\n\n"
            + "".join(traceback.format_exception(exc)))
    folder = _state["campaign_dir"]
    candidates = [Path(folder)] if isinstance(folder, Path) and folder.is_dir() else []
    candidates.append(state_dir())
    for where in candidates:
        try:
            where.mkdir(parents=True, exist_ok=True)
            path = where / f"crash-{stamp}.txt"
            path.write_text(text)
            return path
        except OSError:
            continue
    return None
