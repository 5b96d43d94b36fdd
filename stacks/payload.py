"""The bakeoff source a remote host needs for the Python-driven workloads.

http-load runs the reference service (`python -m bench.poc.serve`) on the server and Locust
with bakeoff's HDR plugin on the load generators; db-query loads the schema and folds
pgbench's logs with bakeoff modules on the client. A cloud VM has the libraries these need
(cloud-init's /opt/bakeoff venv, stacks/cloudinit/base.yaml) but not bakeoff itself, and
a version installed there could differ from the controller's. So the controller ships its
own source: the `core`, `bench` and `stacks` packages (Python files and the data files the
reference service reads), as one tar.gz, unpacked into the host's scratch directory (which
teardown removes). The host then runs exactly the code that parses its output.
"""

from __future__ import annotations

import io
import shlex
import tarfile
import tempfile
from functools import lru_cache
from pathlib import Path

from core.errors import BakeoffError
from core.executor import Executor
from core.executor import stage_file as stage_file  # moved to core; kept importable

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "bench", "stacks")
SHIPPED_SUFFIXES = (".py", ".sql", ".yaml")
PAYLOAD_DIR = "bakeoff-src"


def payload_members(root: Path = REPO_ROOT) -> list[Path]:
    """The files shipped, relative to `root` (no caches, no tests)."""
    out: list[Path] = []
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*")):
            if (path.is_file() and path.suffix in SHIPPED_SUFFIXES
                    and "__pycache__" not in path.parts):
                out.append(path.relative_to(root))
    return out


@lru_cache(maxsize=1)
def payload_bytes() -> bytes:
    """The tar.gz, built once per process (deterministic order, no owner names)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel in payload_members():
            info = tar.gettarinfo(str(REPO_ROOT / rel), arcname=str(rel))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(REPO_ROOT / rel, "rb") as fh:
                tar.addfile(info, fh)
    return buf.getvalue()


def install_payload(executor: Executor, scratch_dir: str, where: str) -> str:
    """Unpack the payload under `scratch_dir` on the host; returns the root to put on
    PYTHONPATH. `where` names the host in errors."""
    root = f"{scratch_dir.rstrip('/')}/{PAYLOAD_DIR}"
    remote_tar = f"{root}.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "payload.tar.gz"
        local.write_bytes(payload_bytes())
        try:
            executor.put(local, remote_tar)
        except OSError as e:
            raise BakeoffError(f"{where}: could not upload bakeoff's source: {e}") from None
    script = (f"mkdir -p {shlex.quote(root)} && tar -xzf {shlex.quote(remote_tar)} "
              f"-C {shlex.quote(root)} && rm -f {shlex.quote(remote_tar)}")
    res = executor.run(["sh", "-c", script], timeout=120)
    if not res.ok:
        raise BakeoffError(f"{where}: could not unpack bakeoff's source into {root}: "
                           f"{(res.stderr or res.stdout).strip()[-300:]}")
    return root
