"""Which provisioner serves which provider: a table, not an if/else.

Factories are created on demand so a run with only local sites never imports the cloud
SDKs. The orchestrator may be handed its own instances (tests hand a cloud provisioner
with a fake Pulumi workspace).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import PrerequisiteError


def _local() -> Any:
    from stacks.local import LocalProvisioner

    return LocalProvisioner()


def _static() -> Any:
    from stacks.static import StaticProvisioner

    return StaticProvisioner()


def _cloud(provider: str) -> Callable[[], Any]:
    def make() -> Any:
        from stacks.cloud.provisioner import CloudProvisioner

        return CloudProvisioner(provider)

    return make


PROVISIONERS: dict[str, Callable[[], Any]] = {
    "local": _local, "static": _static,
    "aws": _cloud("aws"), "azure": _cloud("azure"), "gcp": _cloud("gcp"),
}

# Sites of these providers share this machine and must not run at the same time.
SHARED_MACHINE = frozenset({"local"})


def provisioner_for(provider: str) -> Any:
    try:
        return PROVISIONERS[provider]()
    except KeyError:
        raise PrerequisiteError(f"no provisioner for provider '{provider}'; known: "
                                f"{', '.join(PROVISIONERS)}") from None
