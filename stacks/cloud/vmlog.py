"""A VM's own account of its setup, kept with the campaign before the VM is destroyed.

cloud-init writes what every setup step printed to /var/log/cloud-init-output.log; when
a step fails the site is torn down, and the log would go with the VM. `copy_setup_log`
fetches it (and `cloud-init status --long`) over SSH into the campaign's raw output, for
every host, whether the setup succeeded or not. It never raises: a host that cannot be
reached leaves a note saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LOG = "/var/log/cloud-init-output.log"
_FETCH = (f"cat {LOG} 2>/dev/null || sudo -n cat {LOG} 2>/dev/null || "
          f"echo 'bakeoff: {LOG} is not readable on this host'; "
          "echo '--- cloud-init status --long'; cloud-init status --long 2>&1 || true")
MAX_BYTES = 4 * 2**20  # the log of a normal setup is ~100 KB; a runaway one is cut


def copy_setup_log(executor: Any, dest_dir: Path, role: str, timeout_s: float = 60) -> Path:
    """Write `<dest_dir>/<role>-cloud-init.log`; returns its path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"{role}-cloud-init.log"
    try:
        res = executor.run(("sh", "-c", _FETCH), timeout=timeout_s)
        text = res.stdout + (f"\n--- stderr\n{res.stderr}" if res.stderr.strip() else "")
    except Exception as e:  # the host is gone or unreachable: say so, keep going
        text = f"bakeoff: could not fetch the cloud-init log: {type(e).__name__}: {e}\n"
    data = text.encode(errors="replace")
    if len(data) > MAX_BYTES:
        data = b"[... cut to the last 4 MiB ...]\n" + data[-MAX_BYTES:]
    path.write_bytes(data)
    return path
