"""Exit codes of `bakeoff` (documented in docs/reliability.md); scripts may rely on them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """One meaning per code. `compare` and `reevaluate` use 1 for "a --fail-on rule was
    crossed" (what scheduled jobs alert on); their invalid input is 2 as everywhere."""

    OK = 0  # complete: every unit measured (or the command did what it was asked)
    ERROR = 1  # an error not covered below (message printed)
    INVALID_INPUT = 2  # scenario, weights or arguments are wrong; a changed scenario on resume
    PREREQUISITE = 3  # a tool, provider, root or credential is missing
    PRICE_NOT_FOUND = 4  # the cost model needs a price the catalog lacks
    PARTIAL = 5  # the campaign ended, some units failed (scored on what was measured)
    NOTHING_MEASURED = 6  # the campaign ended without one successful unit (not scored)
    BUSY = 7  # a live campaign holds what this run needs (the machine, the campaign id)
    DAMAGED = 8  # a results folder is damaged (`bakeoff verify` says what and how to recover)
    REQUIREMENT_FAILED = 9  # run/score: a requirement failed (scoring.requirements_gate)
    REQUIREMENT_NOT_MEASURED = 10  # run/score: a requirement could not be measured
    CATALOG_INVALID = 11  # a price catalog data file is malformed (file, line and field named)
    PRICE_REFRESH_FAILED = 12  # `prices refresh` could not complete; the old snapshot is kept
    LEFT_BEHIND = 13  # teardown incomplete: what the campaign created is still there (paid
    # cloud stacks first); the message names it and the command that removes it
    PARSE_REFUSED = 65  # `parse`: the tool output is not understood (EX_DATAERR)
    INTERNAL = 70  # a bug in bakeoff (EX_SOFTWARE): one line on screen, the traceback saved
    INTERRUPTED = 130  # SIGINT or SIGTERM: everything started was stopped; resume later
