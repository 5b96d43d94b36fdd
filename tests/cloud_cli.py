"""`bakeoff` with the cloud provisioners on the out-of-process fake workspace, for tests
that drive the real CLI in a subprocess: `python -m tests.cloud_cli run ...`.

The fake's stacks live in $BAKEOFF_FAKE_STACKS (knobs in its knobs.json); everything else
(state, journal, claim, worker, signals, exit codes) is bakeoff's own.
"""

from __future__ import annotations

import os
from pathlib import Path

from stacks import registry

FAKE_ENV = "BAKEOFF_FAKE_STACKS"


def _fake(provider: str):
    def make():
        from stacks.cloud.provisioner import CloudProvisioner
        from tests.cloud_fake_engine import FakeAutomation

        return CloudProvisioner(provider, workspace=FakeAutomation(Path(os.environ[FAKE_ENV])),
                                detect_ip=lambda: None, ssh_deadline_s=30,
                                holder_wait_s=float(os.environ.get("BAKEOFF_FAKE_HOLDER_WAIT",
                                                                   "30")))
    return make


def main() -> None:
    for provider in ("aws", "azure", "gcp"):
        registry.PROVISIONERS[provider] = _fake(provider)
    from bakeoff.cli import main as bakeoff_main

    bakeoff_main()


if __name__ == "__main__":
    main()
