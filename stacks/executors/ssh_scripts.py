"""The remote half of the SSH executor: POSIX sh snippets that run a command in its own
process group and end the whole group, and the markers the executor reads back.

They run under whatever login shell the host has (always through `sh -c`), and read
/proc to skip zombies because the host's PID 1 may not reap orphans.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PGID_LINE = re.compile(rb"^bakeoff-pgid:(\d+)\n", re.MULTILINE)
MISSING = "bakeoff-missing-command"
# `setsid -w` exits with the raw wait status when its child dies of a signal, and says so.
SETSID_SIGNALLED = re.compile(rb"setsid: child \d+ did not exit normally[^\n]*\n?\Z")

# Foreground wrapper, run as `sh -c WRAPPER bakeoff ARGV...` inside `setsid -w`: announce
# the process group on stderr (stripped from the output), check the tool exists, exec it.
RUN_WRAPPER = ('echo "bakeoff-pgid:$$" >&2; '
               f'command -v "$1" >/dev/null 2>&1 || {{ echo "{MISSING}: $1" >&2; exit 127; }}; '
               'exec "$@"')
# Background wrapper, `sh -c WRAPPER DIR ARGV...`: record the group and, if the tool ends
# by itself, its exit code, next to the captured stdout/stderr in DIR.
BG_WRAPPER = ('echo $$ > "$0/pgid"; '
              'if command -v "$1" >/dev/null 2>&1; then "$@"; echo $? > "$0/rc"; '
              f'else echo "{MISSING}: $1" >&2; echo 127 > "$0/rc"; fi')
# `alive` is true while a non-zombie process is in group $PG (fields after "comm) ").
ALIVE_FN = ('alive() { for f in /proc/[0-9]*/stat; do '
            'read -r l 2>/dev/null < "$f" || continue; set -- ${l##*") "}; '
            '[ "$3" = "$PG" ] && [ "$1" != Z ] && return 0; done; return 1; }; ')
# TERM the group, wait up to GRACE tenths of a second, then KILL; print what it took.
KILL = (ALIVE_FN + 'if ! alive; then echo gone; exit 0; fi; kill -TERM -"$PG" 2>/dev/null; '
        'i=0; while alive && [ "$i" -lt "$GRACE" ]; do sleep 0.1; i=$((i+1)); done; '
        'if alive; then kill -KILL -"$PG" 2>/dev/null; echo KILL; else echo TERM; fi')
WAIT_PGID = ('i=0; while [ ! -s "$D/pgid" ] && [ ! -e "$D/rc" ] && [ "$i" -lt 50 ]; '
             'do sleep 0.1; i=$((i+1)); done; PG=$(cat "$D/pgid" 2>/dev/null); ')


def sh(script: str, **variables: str | int) -> str:
    """A POSIX sh command line (whatever the login shell is) with variables set first."""
    assigns = "".join(f"{k}={shlex.quote(str(v))}; " for k, v in variables.items())
    return shlex.join(["sh", "-c", assigns + script])


def env_words(env: Mapping[str, str] | None) -> list[str]:
    """`env VAR=value ...` words; sshd normally refuses to pass a client's environment."""
    if not env:
        return []
    for name in env:
        if not ENV_NAME.match(name):
            raise ValueError(f"environment variable name {name!r} is not a valid identifier")
    return ["env", *(f"{k}={v}" for k, v in env.items())]
