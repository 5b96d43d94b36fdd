"""Fake cloud hosts on distinct addresses: one network namespace per "VM" (issue 24).

A stack's hosts get what a VPC gives them, built from the same `ip netns` / veth parts as
the local provider's zones (stacks/netns.py):

    controller (root namespace)                    VPC namespace
      bkf<tag>p0 198.19.a.1/30 ---- eth1 198.19.a.2/30  [server ns]  eth0 10.42.0.4/16 --+
      bkf<tag>p1 198.19.b.1/30 ---- eth1 198.19.b.2/30  [client ns]  eth0 10.42.1.4/16 --+- br0
      ...                                                               ...              --+

- the private address (`private_ip`) is on `eth0`, joined to the other hosts of the stack by
  a bridge in a namespace of its own (the VPC): hosts reach each other there, and only
  there. Addresses follow the AWS program: one /24 of the stack's `network_cidr` per zone,
  the first host at .4 (AWS reserves .0-.3).
- the public address (`public_ip`) is on `eth1`, a point-to-point /30 to the controller's
  namespace, from 198.19.0.0/17 (RFC 2544's benchmarking range, never a real network;
  stacks/netns.py uses 198.18.x, bench/perf/seed_scale.py 198.19.254.x). A host has no
  default route, so another host's public address is unreachable from it, and the
  controller has no route into the VPC.
- each host runs its own sshd on port 22 of its namespace, as a VM does.

Names start `bkf-` (namespaces) and `bkf` (the controller-side links), apart from the
local provider's `bko-`, whose leftovers `bakeoff gc` looks for. A stack's names are
recorded in its JSON document before they are made, so `destroy` (or `sweep`, after a
failed test) finds everything: the processes in each namespace are killed, then the
namespaces go (a veth goes with its namespace).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from stacks import netns

NS_PREFIX = "bkf-"
LINK_PREFIX = "bkf"
PUBLIC_POOL = ipaddress.ip_network("198.19.0.0/17")
LOCK = Path("/run/lock/bakeoff-fake-net.lock")


def available() -> tuple[bool, str]:
    """Whether namespaces can be made here (root, iproute2), and why not."""
    return netns.netns_available()


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return netns._ip(*args, check=check)


def tag_of(root: Path, stack: str) -> str:
    return hashlib.sha1(f"{Path(root).resolve()}|{stack}".encode()).hexdigest()[:6]


def plan(root: Path, stack: str, roles: list[str], zones: dict[str, int],
         network_cidr: str) -> dict[str, Any]:
    """The names and private addresses of a stack's network (nothing is made yet)."""
    tag = tag_of(root, stack)
    vpc = ipaddress.ip_network(network_cidr)
    subnets = list(vpc.subnets(new_prefix=24))
    used: dict[int, int] = {}
    hosts = {}
    for i, role in enumerate(roles):
        z = zones[role]
        n = used.get(z, 0)
        used[z] = n + 1
        hosts[role] = {"ns": f"{NS_PREFIX}{tag}-{role}", "link": f"{LINK_PREFIX}{tag}p{i}",
                       "private_ip": str(subnets[z].network_address + 4 + n)}
    return {"vpc_ns": f"{NS_PREFIX}{tag}-vpc", "prefixlen": vpc.prefixlen, "hosts": hosts}


def _used_public() -> set[ipaddress.IPv4Network]:
    out = _ip("-o", "-4", "addr", "show").stdout
    used = set()
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            net = ipaddress.ip_interface(parts[parts.index("inet") + 1]).network
            if net.subnet_of(PUBLIC_POOL):
                used.add(net)
    return used


def create_vpc(net: dict[str, Any]) -> None:
    """The VPC namespace and its bridge."""
    ns = net["vpc_ns"]
    _ip("netns", "delete", ns, check=False)
    _ip("netns", "add", ns)
    _ip("-n", ns, "link", "add", "br0", "type", "bridge")
    _ip("-n", ns, "link", "set", "br0", "up")


def create_host(net: dict[str, Any], role: str) -> str:
    """The host's namespace, joined to the VPC (private) and to the controller (public);
    returns its public address. Public /30s are handed out under a machine-wide lock, so
    two tests never take the same one."""
    h = net["hosts"][role]
    ns, vpc = h["ns"], net["vpc_ns"]
    _ip("netns", "delete", ns, check=False)
    _ip("link", "delete", h["link"], check=False)
    _ip("netns", "add", ns)
    _ip("-n", ns, "link", "set", "lo", "up")
    # private: eth0 in the host, its peer on the VPC bridge
    peer = f"h{role.replace('loadgen-', 'l')}"
    _ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", peer, "netns", vpc)
    _ip("-n", vpc, "link", "set", peer, "master", "br0")
    _ip("-n", vpc, "link", "set", peer, "up")
    _ip("-n", ns, "addr", "add", f"{h['private_ip']}/{net['prefixlen']}", "dev", "eth0")
    _ip("-n", ns, "link", "set", "eth0", "up")
    # public: eth1 in the host, a /30 to the controller
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        used = _used_public()
        block = next(b for b in PUBLIC_POOL.subnets(new_prefix=30) if b not in used)
        near, far = (str(a) for a in list(block.hosts())[:2])
        _ip("link", "add", h["link"], "type", "veth", "peer", "name", "eth1", "netns", ns)
        _ip("addr", "add", f"{near}/30", "dev", h["link"])
    _ip("link", "set", h["link"], "up")
    _ip("-n", ns, "addr", "add", f"{far}/30", "dev", "eth1")
    _ip("-n", ns, "link", "set", "eth1", "up")
    return far


def start_sshd(ns: str, d: Path, host_private: str, authorized: str, address: str) -> int:
    """An sshd on port 22 of namespace `ns` with exactly this host key; its pid. Ready when
    the controller can connect to `address`:22."""
    from tests.cloud_fake import write_sshd_files
    from tests.sshd_support import SSHD

    config = write_sshd_files(d, host_private, authorized, port=22, listen="0.0.0.0")
    log = d / "sshd.log"
    with open(log, "w") as f:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, SSHD, "-D", "-e", "-f",
                                 str(config)], stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd in {ns} exited {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((address, 22)) == 0:
                return proc.pid  # `ip netns exec` execs sshd: the same pid
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"sshd in {ns} did not listen on {address}:22: {log.read_text()[-2000:]}")


def remove(net: dict[str, Any] | None) -> None:
    """Kill every process in the stack's namespaces (a deleted VM takes its processes
    along), then delete the namespaces and the controller-side links. Idempotent."""
    if not net:
        return
    names = [h["ns"] for h in net["hosts"].values() if h["ns"]] + [net["vpc_ns"]]
    for _ in range(50):
        pids = [p for ns in names for p in netns.namespace_pids(ns)]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    for ns in names:
        _ip("netns", "delete", ns, check=False)
    for h in net["hosts"].values():
        if h["link"]:
            _ip("link", "delete", h["link"], check=False)


def _tags(root: Path) -> list[str]:
    """Tags of every stack ever made under `root` (ROOT/<stack>/net.tag, written before
    its network and kept after the stack document is gone)."""
    return [p.read_text().strip() for p in Path(root).glob("*/net.tag")]


def _existing(tag: str) -> tuple[list[str], list[str]]:
    """(namespaces, controller-side links) of this tag that exist now."""
    spaces = [n for n in netns_list() if n.startswith(f"{NS_PREFIX}{tag}-")]
    links = [line.split(":")[1].strip().split("@")[0]
             for line in _ip("-o", "link", "show").stdout.splitlines()
             if line.split(":")[1].strip().startswith(f"{LINK_PREFIX}{tag}p")]
    return spaces, links


def netns_list() -> list[str]:
    proc = _ip("netns", "list", check=False)
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def leftovers(root: Path) -> list[str]:
    """Namespaces and links of this fake root that still exist (empty after teardown)."""
    out: list[str] = []
    for tag in _tags(root):
        spaces, links = _existing(tag)
        out += spaces + links
    return out


def sweep(root: Path) -> None:
    """After a test, pass or fail: every namespace and link of every stack made under
    `root` is removed, with the processes in them."""
    for tag in _tags(root):
        spaces, links = _existing(tag)
        hosts = {n: {"ns": n, "link": ""} for n in spaces}
        for link in links:
            hosts[link] = {"ns": "", "link": link}
        remove({"vpc_ns": f"{NS_PREFIX}{tag}-vpc", "hosts": hosts})
