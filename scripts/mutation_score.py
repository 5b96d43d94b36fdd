"""The mutation score of `make mutants`, per module and in total, from mutmut's results.

Reads mutants/<module>.py.meta (mutmut 3 keeps each mutant's pytest exit code there) and
prints killed / checked per module, where "checked" is every mutant that was run: killed,
survived, timed out, or with no test covering its function (counted as not killed).
Mutants not reached (the run was cut short by its time limit) are reported apart, so a
partial run gives an honest partial figure. `--survivors` lists the surviving mutants'
names (`mutmut show NAME` prints one's diff).

    python scripts/mutation_score.py [--survivors] [--min 85]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

KILLED = {1, 3, 37}  # a failing test, an internal pytest error, a type-check failure
NO_TESTS = {5, 33}
TIMEOUT = {36, -24, 24, 152, 255}


def status(code: int | None) -> str:
    if code is None:
        return "not reached"
    if code in KILLED:
        return "killed"
    if code == 0:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in TIMEOUT:
        return "timeout"
    return "other"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="mutants")
    parser.add_argument("--survivors", action="store_true")
    parser.add_argument("--min", type=float, default=None, help="fail below this score (%%)")
    args = parser.parse_args(argv)
    metas = sorted(Path(args.root).rglob("*.py.meta"))
    if not metas:
        print(f"no mutmut results under {args.root}/: run `make mutants` first")
        return 1
    total: Counter[str] = Counter()
    survivors: list[str] = []
    print(f"{'module':34} {'killed':>7} {'checked':>8} {'score':>7}  survived no-tests "
          "timeout not-reached")
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts = Counter(status(c) for c in codes.values())
        total.update(counts)
        checked = sum(v for k, v in counts.items() if k != "not reached")
        score = 100 * counts["killed"] / checked if checked else 0.0
        module = str(meta.relative_to(args.root)).removesuffix(".meta")
        print(f"{module:34} {counts['killed']:7} {checked:8} {score:6.1f}%  "
              f"{counts['survived']:8} {counts['no tests']:8} {counts['timeout']:7} "
              f"{counts['not reached']:11}")
        survivors += [k for k, c in codes.items() if status(c) == "survived"]
    checked = sum(v for k, v in total.items() if k != "not reached")
    score = 100 * total["killed"] / checked if checked else 0.0
    print(f"{'total':34} {total['killed']:7} {checked:8} {score:6.1f}%  "
          f"{total['survived']:8} {total['no tests']:8} {total['timeout']:7} "
          f"{total['not reached']:11}")
    if total["not reached"]:
        print(f"partial run: {total['not reached']} mutants were not reached")
    if args.survivors:
        print("\n".join(["", "survivors:", *sorted(survivors)]))
    return 1 if args.min is not None and score < args.min else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
