"""Find a free TCP port on a host, asked through its executor (namespaces, SSH)."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from core.errors import BakeoffError
from core.executor import Executor

_FREE_PORT = ("import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); "
              "print(s.getsockname()[1])")


def free_port(executor: Executor, address: str, python: str = sys.executable,
              env: Mapping[str, str] | None = None, what: str = "") -> int:
    """A port the OS would hand out on `address` there; `what` prefixes the error."""
    res = executor.run([python, "-c", _FREE_PORT, address], timeout=30, env=env)
    if not res.ok:
        raise BakeoffError(f"{what}cannot find a free port on {address}: "
                           f"{res.stderr.strip()[-300:]}")
    return int(res.stdout.strip())
