"""Two network namespaces joined by a veth pair: the local stand-in for two zones.

Addresses come from 198.18.0.0/15, the range RFC 2544 reserves for benchmarking, so
they never collide with a real network. Namespaces are named `bko-<tag>-a|b` so that
leftovers are findable (`bakeoff gc`); the local provider puts the campaign id in the tag.
Inside a campaign both namespaces and both veth names are recorded (stacks.tracking)
before they are created, so a kill at any point leaves nothing `bakeoff gc` cannot find.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass

from core.errors import PrerequisiteError
from stacks import tracking

PREFIX = "bko-"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise PrerequisiteError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")
    return proc


def netns_available() -> tuple[bool, str]:
    """Whether namespaces can be made here, and why not when they cannot."""
    if os.geteuid() != 0:
        return False, "not running as root (network namespaces need root)"
    if shutil.which("ip") is None:
        return False, "iproute2 ('ip') is not installed"
    probe = f"{PREFIX}probe-{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return False, f"`ip netns add` failed: {made.stderr.strip()}"
    _ip("netns", "delete", probe, check=False)
    return True, ""


@dataclass(frozen=True)
class VethPair:
    """Namespaces `ns_a`/`ns_b` with addresses `addr_a`/`addr_b` on one /30."""

    ns_a: str
    ns_b: str
    addr_a: str
    addr_b: str

    @property
    def exec_a(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.ns_a)

    @property
    def exec_b(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.ns_b)

    def delete(self) -> None:
        for ns in (self.ns_a, self.ns_b):
            _ip("netns", "delete", ns, check=False)


def create_pair(tag: str, index: int) -> VethPair:
    """Create (replacing any leftover of the same name) a joined pair of namespaces."""
    if not 0 <= index < 256:
        raise ValueError("index must be 0..255")
    short = hashlib.sha1(tag.encode()).hexdigest()[:6]
    pair = VethPair(f"{PREFIX}{tag}-a", f"{PREFIX}{tag}-b",
                    f"198.18.{index}.1", f"198.18.{index}.2")
    pair.delete()
    veth_a, veth_b = f"bk{short}a", f"bk{short}b"
    tracking.record("namespace", name=pair.ns_a)
    tracking.record("namespace", name=pair.ns_b)
    tracking.record("veth", name=veth_a)
    tracking.record("veth", name=veth_b)
    try:
        _ip("netns", "add", pair.ns_a)
        _ip("netns", "add", pair.ns_b)
        _ip("link", "add", veth_a, "type", "veth", "peer", "name", veth_b)
        _ip("link", "set", veth_a, "netns", pair.ns_a)
        _ip("link", "set", veth_b, "netns", pair.ns_b)
        for ns, dev, addr in ((pair.ns_a, veth_a, pair.addr_a), (pair.ns_b, veth_b, pair.addr_b)):
            _ip("-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
    except BaseException:
        pair.delete()
        _ip("link", "delete", veth_a, check=False)
        raise
    return pair


def leftover_namespaces() -> list[str]:
    proc = _ip("netns", "list", check=False)
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    return [n for n in names if n.startswith(PREFIX)]


def delete_namespace(name: str) -> None:
    _ip("netns", "delete", name, check=False)


def namespace_pids(name: str) -> list[int]:
    """Processes living in namespace `name` (empty if it does not exist)."""
    proc = _ip("netns", "pids", name, check=False)
    return [int(p) for p in proc.stdout.split() if p.isdigit()]


def link_exists(name: str) -> bool:
    """Whether a link of that name exists in this (the root) namespace."""
    return _ip("link", "show", "dev", name, check=False).returncode == 0


def delete_link(name: str) -> None:
    _ip("link", "delete", name, check=False)
