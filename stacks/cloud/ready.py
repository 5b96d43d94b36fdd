"""Waiting for a new VM: SSH first (retries with backoff), then cloud-init.

The host key is known before the first connection (generated locally, handed over by
cloud-init, written to the site's known_hosts), so a host presenting another key is
refused at once and never retried. Everything else that a booting VM does (refusing
connections, timing out, closing the connection while sshd restarts) is retried until
the deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from core.errors import PrerequisiteError
from stacks.executors.ssh import HostKeyRejected, SshExecutor


def wait_for_ssh(executor: SshExecutor, deadline_s: float = 600.0,
                 first_delay_s: float = 0.5, max_delay_s: float = 10.0,
                 cancel: threading.Event | None = None,
                 on_retry: Callable[[str], None] | None = None) -> float:
    """Seconds until `true` ran over SSH. Raises HostKeyRejected on a wrong key, and
    PrerequisiteError with the last problem when the deadline passes."""
    start = time.monotonic()
    delay = first_delay_s
    last = ""
    while True:
        if cancel is not None and cancel.is_set():
            raise KeyboardInterrupt
        try:
            res = executor.run(("true",), timeout=30)
            if res.ok:
                return time.monotonic() - start
            last = f"`true` exited with {res.rc}: {res.stderr.strip()[:200]}"
        except HostKeyRejected:
            raise
        except PrerequisiteError as e:
            last = str(e)
            executor.close_quietly()
        if time.monotonic() - start + delay > deadline_s:
            raise PrerequisiteError(f"{executor.target}: SSH not ready after {deadline_s:.0f}s; "
                                    f"last problem: {last}")
        if on_retry is not None:
            on_retry(last)
        if cancel is not None:
            if cancel.wait(delay):
                raise KeyboardInterrupt
        else:
            time.sleep(delay)
        delay = min(delay * 2, max_delay_s)


# `cloud-init status --wait` blocks until boot-time configuration finished; an image without
# cloud-init has nothing to wait for (the host key check already proved it is our host).
_CLOUD_INIT = ('command -v cloud-init >/dev/null 2>&1 || { echo "no cloud-init"; exit 0; }; '
               'cloud-init status --wait --long')


# `cloud-init status` exits 2 when it finished with recoverable errors (warnings, e.g. a
# deprecated key): done, and the warnings are kept in the status text (cloud-init 23.4+,
# https://docs.cloud-init.io/en/latest/explanation/return_codes.html).
DONE_WITH_WARNINGS = 2


def wait_for_cloud_init(executor: SshExecutor, timeout_s: float = 1800.0) -> tuple[float, str]:
    """(seconds, status text); raises when cloud-init reports an error."""
    start = time.monotonic()
    res = executor.run(("sh", "-c", _CLOUD_INIT), timeout=timeout_s)
    took = time.monotonic() - start
    target = getattr(executor, "target", "host")
    if res.timed_out:
        raise PrerequisiteError(f"{target}: cloud-init did not finish within "
                                f"{timeout_s:.0f}s")
    if res.rc == DONE_WITH_WARNINGS:
        return took, f"done with warnings: {res.stdout.strip()}"
    if not res.ok:
        raise PrerequisiteError(f"{target}: cloud-init failed (rc {res.rc}): "
                                f"{(res.stdout + res.stderr).strip()[-500:]}; see "
                                "/var/log/cloud-init-output.log on the host")
    return took, res.stdout.strip()
