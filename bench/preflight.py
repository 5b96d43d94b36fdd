"""Before anything is provisioned: every site's prerequisites, reported at once."""

from __future__ import annotations

import importlib.util
import shutil
from typing import Any

from bench.workloads import REGISTRY
from core.errors import PrerequisiteError
from core.scenario import Campaign
from stacks.local import LocalProvisioner
from stacks.registry import SHARED_MACHINE, provisioner_for


def check_prerequisites(campaign: Campaign, provisioner: Any = None) -> None:
    """Fail before provisioning anything when a tool or a provider is unavailable.

    Every site's provisioner is asked first (`check`), and everything missing is reported
    at once. Tools are checked here for local sites; on static and cloud hosts they are
    checked on the hosts themselves once connected (Orchestrator._check_remote_tools).
    """
    provisioner = provisioner or provisioner_for
    problems = []
    for site in campaign.sites:
        if site.provider in SHARED_MACHINE:
            continue  # the CPU envelope check below
        try:
            provisioner(site.provider).check(site)
        except PrerequisiteError as e:
            problems.append(str(e))
    if problems:
        raise PrerequisiteError("not ready to provision:\n  " + "\n  ".join(problems))
    if not any(site.provider == "local" for site in campaign.sites):
        return
    for site in campaign.sites:  # a CPU envelope must fit the CPUs this process may use
        if site.provider == "local":
            LocalProvisioner.check(site)
    missing = sorted({REGISTRY[w.name].tool for w in campaign.workloads
                      if not _tool_available(REGISTRY[w.name])})
    if missing:
        raise PrerequisiteError(
            f"missing benchmark tool(s): {', '.join(missing)}. Install them with `make setup` "
            "(Debian/Ubuntu, needs root or sudo) or your package manager.")


def _tool_available(workload: Any) -> bool:
    """Binaries are looked up on PATH; Python tools (Locust) in this interpreter."""
    if getattr(workload, "python_tool", False):
        return importlib.util.find_spec(workload.tool) is not None
    return shutil.which(workload.tool) is not None
