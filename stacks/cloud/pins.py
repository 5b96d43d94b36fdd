"""Pin the VMs' Python libraries to the versions the controller runs and was tested with.

cloud-init installs the reference service, Locust and their dependencies with pip on
every VM; unpinned, a VM can get a release the controller never ran (a Locust with
another event-loop behaviour, a psycopg with another pool). The constraints file pins
the whole requirement closure of the VM's pip line, each package at the version
installed here (importlib.metadata), extras followed as requested. A constraint for a
package that the VM does not end up installing is ignored by pip, so dependencies are
followed whatever their environment markers say.
"""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


def requirement_closure(requirements: list[str]) -> tuple[dict[str, str], list[str]]:
    """({canonical name: installed version}, [names not installed here])."""
    pins: dict[str, str] = {}
    missing: list[str] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        pins[name] = dist.version
        for line in dist.requires or []:
            try:
                dep = Requirement(line)
            except InvalidRequirement:
                continue
            marker = str(dep.marker or "")
            wanted_extra = "extra" not in marker or any(
                dep.marker is not None and dep.marker.evaluate({"extra": e})
                for e in req.extras)
            if wanted_extra:
                todo.append(dep)
    return pins, sorted(set(missing) - set(pins))


def constraints_text(requirements: list[str]) -> str:
    """A pip constraints file (`pip install -c`) pinning `requirements`' closure."""
    pins, missing = requirement_closure(requirements)
    lines = ["# bakeoff: the controller's versions of what the VM installs"]
    lines += [f"{name}=={version}" for name, version in sorted(pins.items())]
    if missing:
        lines.append(f"# not installed on the controller, so not pinned: {', '.join(missing)}")
    return "\n".join(lines) + "\n"
