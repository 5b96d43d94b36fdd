"""`bakeoff parse` through the real command line: one exit code per kind of outcome.

The installed `bakeoff` console script runs in a subprocess for one case of each exit
code, so what is checked is what a user sees: exit status, stdout, stderr, and never a
Python traceback. Further cases call the same `main()` in-process (a subprocess costs
seconds of imports on a busy machine).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
BAKEOFF = Path(sys.executable).parent / "bakeoff"
REFUSED, INTERNAL = 65, 70


def bakeoff(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path / "state"),
           "HOME": str(tmp_path)}
    return subprocess.run([str(BAKEOFF), *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def in_process(monkeypatch, capsys, *args: str, stdin: str | None = None
               ) -> tuple[int, str, str]:
    """The console script's `main()` in this process: (exit code, stdout, stderr)."""
    from bakeoff.cli import main

    monkeypatch.setattr(sys, "argv", ["bakeoff", *args])
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_refused_output_exits_65_with_the_reason(tmp_path):
    proc = bakeoff("parse", "fio", str(GOLDEN / "fio" / "error_nodir.txt"), tmp_path=tmp_path)
    assert proc.returncode == REFUSED, proc.stderr
    assert proc.stdout == ""
    assert "fio: cannot parse output" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("workload", "case"), [
    ("sysbench-cpu", "fatal_threads0.txt"),
    ("ping", "busybox-1.35.0_unreachable.txt"),
    ("stream", "too_short.txt"),
])
def test_other_refusals_exit_65(monkeypatch, capsys, workload, case):
    code, out, err = in_process(monkeypatch, capsys, "parse", workload,
                                str(GOLDEN / workload / case))
    assert (code, out) == (REFUSED, "")
    assert "cannot parse output" in err and "Traceback" not in err


def test_damaged_histogram_is_refused_not_a_traceback(tmp_path, monkeypatch, capsys):
    """Before the fix a damaged HDR blob ended in a binascii/zlib traceback."""
    raw = tmp_path / "db.json"
    doc = json.loads((GOLDEN / "db-query" / "pgbench.json").read_text())
    doc["log"]["hdr"] = doc["log"]["hdr"][:40] + "!!!!" + doc["log"]["hdr"][44:]
    raw.write_text(json.dumps(doc))
    code, _, err = in_process(monkeypatch, capsys, "parse", "db-query", str(raw))
    assert code == REFUSED, err
    assert "pgbench: cannot parse output: log.hdr" in err and "Traceback" not in err


def test_fio_2_output_parses_through_the_cli(tmp_path):
    proc = bakeoff("parse", "fio", str(GOLDEN / "fio" / "fio-2.21_randread_libaio.json"),
                   tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = {line["metric"]: line["value"] for line in map(json.loads, proc.stdout.splitlines())}
    assert got["read_bandwidth"] == pytest.approx(52743 / 1024)
    assert got["read_clat_p99"] == pytest.approx(6.432)


def test_stdin_garbage_is_refused(monkeypatch, capsys):
    code, _, err = in_process(monkeypatch, capsys, "parse", "iperf3", "-",
                              stdin="\x00\x01{{{ not json")
    assert code == REFUSED and "iperf3: cannot parse output" in err


def test_internal_error_exits_70_and_saves_the_traceback(tmp_path):
    """A parser that raises something other than ParseError is a bug: exit 70, one line."""
    boot = tmp_path / "boot.py"
    boot.write_text(textwrap.dedent("""
        import sys
        from bench.workloads import REGISTRY
        from bakeoff.cli import main

        class Broken:
            name = tool = "broken"
            def Params(self):
                return None
            def parse(self, output, params=None):
                return {}["no such key"]

        REGISTRY["broken"] = Broken()
        sys.argv = ["bakeoff", *sys.argv[1:]]
        main()
    """))
    raw = tmp_path / "out.txt"
    raw.write_text("anything")
    env = {"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path / "state"),
           "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.run([sys.executable, str(boot), "parse", "broken", str(raw)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == INTERNAL, proc.stderr
    assert "internal error" in proc.stderr and "KeyError" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list((tmp_path / "state" / "bakeoff").glob("crash-*.txt"))


def test_unknown_workload_is_a_usage_error(monkeypatch, capsys):
    code, _, err = in_process(monkeypatch, capsys, "parse", "no-such-workload",
                              str(GOLDEN / "ping" / "loss100.txt"))
    assert code == 1 and "unknown workload" in err
