"""Shared fixtures: a scenario writer and a guard that nothing we start is left running."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


_OWN_ROOT = pytest.StashKey[str]()
_SAVED_ENV = pytest.StashKey[tuple]()


def pytest_configure(config: pytest.Config) -> None:
    """One temp root and one state directory per test session (campaign temp folders,
    locks, journals, cloud secrets), so the suite never touches the user's own campaigns
    and two sessions on one machine never meet on a campaign id. Subprocesses inherit
    both through the environment; the root is removed when the session ends."""
    import tempfile

    config.stash[_SAVED_ENV] = (tempfile.tempdir, {k: os.environ.get(k) for k in (
        "TMPDIR", "BAKEOFF_STATE_DIR")})
    root = tempfile.mkdtemp(prefix="bakeoff-test-")
    os.chmod(root, 0o711)  # a test PostgreSQL runs as another user and must pass through
    os.environ["TMPDIR"] = tempfile.tempdir = root
    os.environ.setdefault("BAKEOFF_STATE_DIR", os.path.join(root, "state"))
    config.stash[_OWN_ROOT] = root


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the root and put the temp settings back, so a second session in the same
    process (mutmut runs pytest several times in one) gets a temp dir that exists."""
    import tempfile

    root = config.stash.get(_OWN_ROOT, None)
    if root:
        shutil.rmtree(root, ignore_errors=True)
    saved = config.stash.get(_SAVED_ENV, None)
    if saved is not None:
        tempfile.tempdir, env = saved
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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


# The reason given for a missing system tool. In CI (CI=true) every skip, this one or any
# other (privilege, library, CPUs, tmpfs), is turned into a failure (see the hooks below).
MISSING_TOOL = "missing system tool"


def requires_tools(*tools: str) -> pytest.MarkDecorator:
    """skipif for absent tools, with a reason the CI hook recognises."""
    missing = [t for t in tools if not shutil.which(t)]
    return pytest.mark.skipif(bool(missing), reason=f"{MISSING_TOOL}: {', '.join(missing)}")


def skip_missing_tool(what: str) -> None:
    """Skip at run time because `what` is not installed (a failure in CI)."""
    pytest.skip(f"{MISSING_TOOL}: {what}")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


CI_SKIP_HELP = ("with CI=true every skip is a failure: CI installs every tool and library "
                "(`make setup-test`: scripts/install-system-tools.sh test, the "
                "[dev,ssh,cloudtest] extras) and runs as root on a machine with 2+ CPUs, so "
                "a skip there would hide a suite")
_CI_SKIPS = pytest.StashKey[list]()


def _skip_reason(longrepr) -> str:
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _fail_skip_in_ci(report, config) -> None:
    """Turn a skipped report (test or collected module) into a failure naming what is
    missing; remember it for the end-of-session list."""
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped: {reason} ({CI_SKIP_HELP})"
    config.stash.setdefault(_CI_SKIPS, []).append((report.nodeid, reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI every skip fails (a skipif mark, pytest.skip in a test or a fixture)."""
    outcome = yield
    _fail_skip_in_ci(outcome.get_result(), item.config)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """In CI a module skipped while collected (importorskip, allow_module_level) fails;
    the other modules still run (a collection error would otherwise stop the session)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci():
        collector.config.option.continue_on_collection_errors = True
    _fail_skip_in_ci(report, collector.config)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """List, once, what the skips turned into failures were missing."""
    skips = config.stash.get(_CI_SKIPS, [])
    if not skips:
        return
    terminalreporter.section("skipped with CI=true (failures)")
    by_reason: dict[str, list[str]] = {}
    for nodeid, reason in skips:
        by_reason.setdefault(reason, []).append(nodeid)
    for reason, nodes in sorted(by_reason.items()):
        terminalreporter.write_line(f"{reason}: {len(nodes)} ({nodes[0]}"
                                    + (", ..." if len(nodes) > 1 else "") + ")")


is_root = os.geteuid() == 0


@pytest.fixture(scope="session")
def tiny_campaign(tmp_path_factory) -> Path:
    """A real, very short campaign (two local sites, sysbench-cpu, 2 reps), run once."""
    from bench.orchestrator import Orchestrator
    from bench.scenarios import parse_campaign

    campaign = parse_campaign({
        "name": "tiny", "repetitions": 2,
        "sites": [{"name": "small", "provider": "local", "cpus": 1, "hourly_usd": 0.04},
                  {"name": "large", "provider": "local", "cpus": 2, "hourly_usd": 0.08}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}],
        "criteria": [{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}],
    })
    root = tmp_path_factory.mktemp("results")
    return Orchestrator(campaign, root, quiet=True).run()


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory) -> tuple[Path, str]:
    """The shipped quickstart, run once for real through the CLI as `make run` does, beside
    a CPU hog pinned to every CPU this process may use (issue 23: on a busy host `make run`
    ended with exit 5 and ~100 BUSY lines). Bounded: the hogs end with the run, or after
    the run's own 900 s timeout.

    Returns the campaign folder and the command's stdout. Several tests read it: the
    results contract, the report in a browser.
    """
    import subprocess
    import sys

    from tests.hog_support import cpu_hogs

    root = tmp_path_factory.mktemp("quickstart")
    bakeoff = Path(sys.executable).parent / "bakeoff"
    hogs = sorted(os.sched_getaffinity(0)) if shutil.which("taskset") else []
    with cpu_hogs(hogs, seconds=960):
        res = subprocess.run([str(bakeoff), "run", str(REPO / "scenarios" / "quickstart.yaml"),
                              "--results", str(root / "results")],
                             capture_output=True, text=True, timeout=900, cwd=REPO,
                             env={**os.environ, "COLUMNS": "160"})
    # 9/10: a requirement failed or was not measured (a verdict, not a broken run); never
    # 5 (units failed) because the host was busy
    assert res.returncode in (0, 9, 10), res.stdout[-3000:] + res.stderr[-3000:]
    busy = [line for line in res.stdout.splitlines() if line.startswith("BUSY ")]
    assert len(busy) <= 2, busy  # one line per site, never one per unit
    folders = list((root / "results").iterdir())
    assert len(folders) == 1
    return QuickstartRun((folders[0], res.stdout), res.returncode)


class QuickstartRun(tuple):
    """(folder, stdout), and the exit code of the run (tests/test_busy_quickstart.py)."""

    def __new__(cls, pair: tuple[Path, str], returncode: int) -> QuickstartRun:
        self = super().__new__(cls, pair)
        self.returncode = returncode
        return self


def bakeoff(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The installed `bakeoff` command, as a user runs it."""
    return subprocess.run([str(Path(sys.executable).parent / "bakeoff"), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "COLUMNS": "200"})


def scenario_text(cpus: int, price: float, max_prime: int) -> str:
    return (f"name: drift\nrepetitions: 3\n"
            f"sites:\n  - {{name: box, provider: local, cpus: {cpus}, hourly_usd: {price},"
            f" network: loopback}}\n"
            f"workloads:\n  - {{name: sysbench-cpu, "
            f"params: {{time_s: 1, max_prime: {max_prime}}}}}\n"
            f"criteria:\n  - {{name: cpu, weight: 4}}\n  - {{name: tco, weight: 3}}\n")


@pytest.fixture(scope="session")
def campaign_history(tmp_path_factory) -> dict[str, Path]:
    """Three real, scored campaigns of one site, run through the CLI (see
    tests/test_compare_history.py): `base` and `same` identical, `bigger` changed."""
    tmp = tmp_path_factory.mktemp("drift")
    root = tmp / "results"
    out = {}
    for label, cpus, price, prime in (("base", 1, 0.05, 20000), ("same", 1, 0.05, 20000),
                                      ("bigger", 2, 0.10, 2000)):
        path = tmp / f"{label}.yaml"
        path.write_text(scenario_text(cpus, price, prime))
        res = bakeoff("run", str(path), "--results", str(root), "--quiet")
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        new = sorted(set(root.iterdir()) - set(out.values()))
        assert len(new) == 1
        out[label] = new[0]
    out["root"] = root
    out["tmp"] = tmp
    return out


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A real OpenSSH server on 127.0.0.1 for this test module (see tests/sshd_support.py)."""
    from tests.sshd_support import running_sshd

    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A temporary PostgreSQL on 127.0.0.1; afterwards nothing of it may be left."""
    from stacks.executors.local import LocalExecutor
    from stacks.local_postgres import LocalPostgres
    from tests.load_support import assert_nothing_left

    pg = LocalPostgres(LocalExecutor(), "127.0.0.1", tmp_path_factory.mktemp("pg"))
    try:
        yield pg.start()
    finally:
        root = pg.root
        pg.stop()
        assert_nothing_left(root)


@pytest.fixture
def moto(monkeypatch):
    """A moto server on loopback (a real HTTP endpoint for boto3), emptied first: moto's
    backends live in this process, shared by every server. Yields its URL; the AWS
    variables point every client at it with fake credentials."""
    import urllib.request

    from moto.server import ThreadedMotoServer

    from tests.sshd_support import _free_port

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"),
                           timeout=30).close()
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    try:
        yield url
    finally:
        server.stop()
