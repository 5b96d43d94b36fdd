"""Every command shown in README.md and docs/*.md runs (issue 23: every scheduling example
passed `--quiet` to a command that had no such option, exit 2 every quarter).

The commands are read from the documents' code blocks at test time, so a command added
tomorrow is checked too. Each `bakeoff` command is first parsed by the CLI itself (an
unknown option or a wrong argument count fails here, without running anything); then it
runs for real in a prepared folder (the quickstart campaign, twice, as its results root),
unless NOT_RUNNABLE says why it cannot run here. Exit codes a command documents as a
verdict (1 drift, 9/10 requirements) are accepted; 2 (invalid input) and 70 (a bakeoff
bug) are not, nor is a traceback.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

try:  # Typer >= 0.29 carries its own copy of Click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older Typer on upstream Click
    from click.exceptions import UsageError  # type: ignore[assignment]

from bakeoff.cli import app

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

# (pattern, reason): commands parsed by the CLI but not run here. Each says why, and where
# the same thing does run.
NOT_RUNNABLE: list[tuple[str, str]] = [
    (r"^make run\b", "runs the quickstart beside nothing else for minutes; the suite's "
                     "quickstart_run fixture runs the same command (beside a CPU hog) and "
                     "tests/test_busy_quickstart.py checks its exit code"),
    (r"^make test\b", "the whole suite (this test is part of it)"),
    (r"^make mutants\b", "mutation testing: the suite many times over, hours of CPU "
                         "(docs/testing.md, Mutation score)"),
    (r"^bakeoff run\b", "a whole campaign (minutes); the quickstart fixture runs it; "
                        "tests/test_reliability.py resumes one"),
    (r"\s-p (aws|azure|gcp)\b|--provider (aws|azure|gcp)\b.*refresh|prices refresh",
     "needs cloud credentials and a network this machine does not have (no connection to a "
     "cloud, nor to its instance-metadata address, is made from tests)"),
    (r"^bakeoff reevaluate\b(?!.*--rescore-only)",
     "measures a new campaign of the scenario (cloud sites in the scheduling examples); "
     "tests/test_compare_history.py runs reevaluate for real; the --rescore-only examples "
     "run here (see RUN_AS)"),
    (r"^bakeoff prices diff shipped ~/prices", "needs the folder `prices refresh` writes; "
                                              "`prices diff shipped shipped` runs in "
                                              "tests/test_80_columns.py"),
    (r"^bakeoff gc \[", "a synopsis with optional parts in brackets, not a command"),
    (r"^bakeoff score (CAMPAIGN|--scenario FILE) \[",
     "a synopsis with optional parts in brackets, not a command"),
    (r"^bakeoff (doctor|up|down)\b", "talks to a cloud: needs its credentials; "
                                     "tests/test_doctor_aws.py runs doctor against moto"),
]
# (pattern, (old, new) replacements, why): runnable once adapted to this machine.
RUN_AS: list[tuple[str, list[tuple[str, str]], str]] = [
    (r"^bakeoff reevaluate\b.*--rescore-only",
     [("scenarios/poc-web-db.yaml", "scenarios/quickstart.yaml"), ("--rescore-only",
                                                                  "--rescore-only --no-refresh")],
     "the prepared root holds quickstart campaigns; no network here for the price APIs"),
]
# Verdict exit codes documented in docs/cli.md: drift crossed, requirement failed/unmeasured.
VERDICT_CODES = {0, 1, 9, 10}
# (pattern, codes, why): commands whose documented outcome is another exit code.
DOCUMENTED_CODES: list[tuple[str, set[int], str]] = [
    (r"^bakeoff tco .*--term 3y", {0, 4}, "docs/pricing.md: 'another term; missing prices "
                                          "listed' (exit 4: a price is missing)"),
]
_PREFIX = re.compile(r"^(?:\S*/)?(bakeoff|make)(?=\s|$)")


def _blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]


def _strip_comment(line: str) -> str:
    """Drop a trailing `  # comment` that is outside quotes."""
    out, quote = [], ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            break
        out.append(ch)
    return "".join(out).strip()


def _split_shell(command: str) -> list[str]:
    """The simple commands of a shell line (split at ;, &&, ||, |, and redirections)."""
    parts = re.split(r"\s*(?:&&|\|\||;|\||>>|2>&1)\s*", command)
    return [p.strip() for p in parts if p.strip()]


def extract(path: Path) -> list[str]:
    """`bakeoff` and `make` commands in the code blocks of one document, in order."""
    found = []
    for lang, body in _blocks(path.read_text()):
        text = re.sub(r"\\\n\s*", " ", body)  # backslash continuations
        if lang == "yaml":  # folded scalars (`- >`) keep a command on several lines
            text = re.sub(r"\n\s+(--)", r" \1", text)
        for raw in text.splitlines():
            line = _strip_comment(raw.strip().removeprefix("$ "))
            if lang == "cron":
                line = re.sub(r"^(\S+\s+){5}", "", line)  # the schedule fields
            line = re.sub(r"^(run:|-|args:)\s*", "", line).strip()
            for cmd in _split_shell(line):
                m = _PREFIX.match(cmd)
                if m and (lang in ("sh", "bash", "shell", "console", "", "cron") or
                          m.group(1) == "bakeoff"):
                    found.append(_PREFIX.sub(m.group(1), cmd, count=1))
    return found


def all_commands() -> list[tuple[str, str]]:
    return [(p.relative_to(REPO).as_posix(), c) for p in DOCS for c in extract(p)]


def _not_runnable(cmd: str) -> str:
    return next((why for pattern, why in NOT_RUNNABLE if re.search(pattern, cmd)), "")


def _substitute(cmd: str, ids: dict[str, str]) -> str:
    cmd = re.sub(r'"\$\(cat [^)]*BASELINE\)"', ids["base"], cmd)
    for placeholder, value in (("<campaign-id>", ids["base"]), (" BASE ", f" {ids['base']} "),
                               (" NEW", f" {ids['new']}"), (" ID", f" {ids['base']}"),
                               (" SCENARIO", " scenarios/quickstart.yaml"),
                               ("/app/scenarios/", "scenarios/"),
                               ("--results /results", "--results results")):
        cmd = cmd.replace(placeholder, value)
    return re.sub(r" CAMPAIGN\b", f" {ids['base']}", cmd)


def _run_as(cmd: str) -> str:
    for pattern, replacements, _ in RUN_AS:
        if re.search(pattern, cmd):
            for old, new in replacements:
                cmd = cmd.replace(old, new)
    return cmd


def _parse(args: list[str]) -> None:
    """Let Click parse the command line as the installed CLI would, running nothing."""
    cmd = get_command(app)
    ctx = cmd.make_context("bakeoff", list(args))
    while hasattr(cmd, "resolve_command"):  # a group: descend to the subcommand
        left = [*getattr(ctx, "_protected_args", []), *ctx.args]  # Click 8.2+ keeps the
        if not left:                                               # subcommand apart
            raise UsageError(f"{ctx.command_path}: a subcommand is missing")
        name, sub, rest = cmd.resolve_command(ctx, left)
        assert sub is not None and name is not None
        cmd, ctx = sub, sub.make_context(name, rest, parent=ctx)


def test_commands_are_found():
    cmds = [c for _, c in all_commands()]
    assert any(c.startswith("bakeoff reevaluate") and "--quiet" in c for c in cmds)
    assert any(c.startswith("bakeoff compare") for c in cmds)
    # the cron lines and the CronJob's folded command are read whole
    assert sum(c.startswith("bakeoff reevaluate") and "--fail-on" in c for c in cmds) >= 4


@pytest.mark.parametrize("doc,cmd", all_commands())
def test_every_documented_command_parses(doc, cmd):
    if cmd.startswith("make "):
        target = cmd.split()[1]
        assert re.search(rf"^{re.escape(target)}:", (REPO / "Makefile").read_text(), re.M), cmd
        return
    if re.search(r"\s\[-", cmd):
        return  # a synopsis ([optional] parts), not a command: nothing to parse
    args = shlex.split(_substitute(cmd, {"base": "BASE-ID", "new": "NEW-ID"}))[1:]
    try:
        _parse(args)
    except UsageError as e:
        pytest.fail(f"{doc}: `{cmd}`: {e.format_message()}")


@pytest.fixture(scope="module")
def docs_root(quickstart_run, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A working folder like a clone: scenarios/, .venv/bin/bakeoff, weights files, and a
    results/ root holding the quickstart campaign twice (base and new)."""
    folder, _ = quickstart_run
    work = tmp_path_factory.mktemp("docs")
    (work / "scenarios").symlink_to(REPO / "scenarios")
    (work / ".venv" / "bin").mkdir(parents=True)
    (work / ".venv" / "bin" / "bakeoff").symlink_to(Path(sys.executable).parent / "bakeoff")
    for name in ("weights.yaml", "cost.yaml", "cost-first.yaml", "speed-first.yaml"):
        (work / name).write_text("tco: 5\ncpu: 2\n")
    shutil.copy(REPO / "tests" / "golden" / "fio" / "fio-3.1_randread_libaio.json",
                work / "my-fio-output.json")
    ids = {"base": folder.name, "new": folder.name[:-6] + "second"}
    shutil.copytree(folder, work / "results" / ids["base"])
    new = work / "results" / ids["new"]
    shutil.copytree(folder, new)
    manifest = json.loads((new / "manifest.json").read_text())
    manifest["campaign_id"] = ids["new"]
    (new / "manifest.json").write_text(json.dumps(manifest))
    return work, ids


@pytest.mark.integration
@pytest.mark.timeout(1800)  # ~30 commands, two of them re-scoring the quickstart, on a busy host
def test_every_documented_command_runs(docs_root):
    work, ids = docs_root
    env = {k: v for k, v in os.environ.items() if k != "BAKEOFF_RESULTS"}
    env.update(COLUMNS="80", NO_COLOR="1")
    failures, ran, skipped = [], 0, {}
    for doc, cmd in all_commands():
        why = _not_runnable(cmd)
        if why:
            skipped[cmd] = why
            continue
        line = _run_as(_substitute(cmd, ids))
        line = re.sub(r"^bakeoff\b", shlex.quote(str(work / ".venv/bin/bakeoff")), line)
        res = subprocess.run(["sh", "-c", line], cwd=work, env=env, capture_output=True,
                             text=True, timeout=300)
        ran += 1
        codes = next((c for pattern, c, _ in DOCUMENTED_CODES if re.search(pattern, cmd)),
                     VERDICT_CODES)
        if res.returncode not in codes or "Traceback" in res.stderr + res.stdout:
            failures.append(f"{doc}: `{cmd}` exit {res.returncode}: "
                            f"{(res.stderr or res.stdout)[-600:]}")
    assert not failures, "\n".join(failures)
    assert ran >= 15, (ran, skipped)
    assert any("--rescore-only --no-refresh" in _run_as(c) for _, c in all_commands())


def test_every_skip_says_why():
    for pattern, why in NOT_RUNNABLE:
        assert len(why.split()) >= 5, (pattern, why)
    for pattern, replacements, why in RUN_AS:
        assert replacements and len(why.split()) >= 5, (pattern, why)
    # each entry still matches a documented command (a stale entry hides nothing)
    cmds = [c for _, c in all_commands()]
    for pattern, _ in NOT_RUNNABLE:
        assert any(re.search(pattern, c) for c in cmds), f"no documented command: {pattern}"
