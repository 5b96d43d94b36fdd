"""Before anything is provisioned: every site's prerequisites, reported at once."""

from __future__ import annotations

import importlib.util
import shutil
from typing import Any

from bench.poc.launcher import host_python
from bench.workloads import REGISTRY
from core.environment import Environment, Host
from core.errors import PrerequisiteError
from core.scenario import Campaign
from stacks.local import LocalProvisioner
from stacks.registry import SHARED_MACHINE, provisioner_for


def check_prerequisites(campaign: Campaign, provisioner: Any = None) -> None:
    """Fail before provisioning anything when a tool or a provider is unavailable.

    Every site's provisioner is asked first (`check`), and everything missing is reported
    at once. Tools are checked here for local sites; on static and cloud hosts they are
    checked on the hosts themselves once connected (`check_remote_tools`).
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
    for site in campaign.sites if not problems else ():
        if site.provider in SHARED_MACHINE:
            continue
        # provider rules: what a cloud API would refuse, found before anything is created
        rule_problems = getattr(provisioner(site.provider), "rule_problems", None)
        if rule_problems is not None:
            problems += rule_problems(site, campaign)
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


_MISSING_MODULES = ("import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] "
                    "if importlib.util.find_spec(m) is None))")


def host_modules(campaign: Campaign) -> dict[str, set[str]]:
    """Per host role, the Python modules the campaign's workloads import there (bakeoff's
    own code is shipped to the host, stacks/payload.py; these libraries are not)."""
    need: dict[str, set[str]] = {}
    for w in campaign.workloads:
        declared = getattr(REGISTRY[w.name], "host_modules", None)
        if declared is not None:
            for role, modules in declared(w.params).items():
                need.setdefault(role, set()).update(modules)
    return need


def missing_modules(host: Host, modules: set[str]) -> list[str]:
    """Those of `modules` the host's interpreter cannot import (or all, if it fails)."""
    python, env = host_python(host)
    res = host.executor.run([python, "-c", _MISSING_MODULES, *sorted(modules)], timeout=60,
                            env=env)
    if not res.ok:
        return [f"a working {python} ({(res.stderr or '').strip()[-200:]})"]
    return res.stdout.split()


def check_remote_tools(campaign: Campaign, env: Environment) -> None:
    """Static and cloud hosts: say what is missing on which host before any unit runs."""
    binaries = sorted({REGISTRY[w.name].tool for w in campaign.workloads
                       if not getattr(REGISTRY[w.name], "python_tool", False)})
    problems = []
    for host in (env.client, env.server):
        res = host.executor.run(("sh", "-c", " ".join(
            f"command -v {tool} >/dev/null || echo {tool};" for tool in binaries)),
            timeout=30)
        if res.stdout.split():
            problems.append(f"host {host.name} ({host.address}) lacks "
                            f"{', '.join(res.stdout.split())}")
    for role, modules in sorted(host_modules(campaign).items()):
        host = env.hosts.get(role, env.client)
        missing = missing_modules(host, modules)
        if missing:
            problems.append(f"host {host.name} ({host.address}): Python "
                            f"{host.facts.get('python', 'python3')} cannot import "
                            f"{', '.join(missing)}")
    if problems:
        raise PrerequisiteError(f"site '{env.site}': " + "; ".join(problems)
                                + "; install them there (see docs/static.md, docs/clouds.md)")
