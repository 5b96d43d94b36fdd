"""A fake Pulumi Automation workspace whose "VMs" are real sshd processes on loopback.

`up` reads the spec the provisioner wrote (as the real worker does), and for each host
starts an OpenSSH server with the host key the spec hands over and the campaign's login
key authorised, so the provisioner's whole path runs for real: known host key, SSH
readiness, host facts, workloads. Stacks live as JSON files in a directory, so another
process (a "new process after a crash") sees them. Knobs make `up` slow, fail, or leave
the stack locked, and `destroy` slow or fail, per site; `refresh` forgets hosts that
no longer run; `preempt` reclaims one host as a provider reclaims a spot VM. A lock names
its holder's pid. tests/cloud_fake_engine.py runs the same stacks out of process, behind
the real worker.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from core.errors import BakeoffError
from stacks.cloud.workspace import StackLocked
from stacks.static import SCRATCH_PREFIX
from tests import cloud_fake_net
from tests.cloud_fake_secrets import Secrets, read_passphrase
from tests.sshd_support import SSHD, _free_port, _wait_listening


def write_sshd_files(d: Path, host_private: str, authorized: str, port: int,
                     listen: str = "127.0.0.1") -> Path:
    """An sshd's key, authorized_keys and config in `d`; the config's path."""
    d.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    key = d / "host_key"
    key.write_text(host_private if host_private.endswith("\n") else host_private + "\n")
    key.chmod(0o600)
    (d / "authorized_keys").write_text(authorized.strip() + "\n")
    (d / "sshd_config").write_text("\n".join([
        f"Port {port}", f"ListenAddress {listen}", f"HostKey {key}",
        f"PidFile {d / 'sshd.pid'}", f"AuthorizedKeysFile {d / 'authorized_keys'}",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        "StrictModes no", "PermitRootLogin prohibit-password", "PubkeyAuthentication yes",
        "Subsystem sftp internal-sftp", "MaxSessions 50", "MaxStartups 50", ""]))
    return d / "sshd_config"


def start_sshd(d: Path, host_private: str, authorized: str, port: int | None = None
               ) -> tuple[int, int]:
    """(pid, port) of an sshd on 127.0.0.1 using exactly this host key; files in `d`."""
    port = port or _free_port()
    config = write_sshd_files(d, host_private, authorized, port)
    log = d / "sshd.log"
    with open(log, "w") as f:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=f,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    _wait_listening(port, proc, log, timeout_s=10)
    return proc.pid, port


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (by parent links in /proc): an sshd's sessions and the
    commands they run."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        out.extend(kids)
        todo.extend(kids)
    return out


def kill_tree(pid: int) -> None:
    """SIGKILL an sshd we started and everything below it at once, as a VM that vanishes:
    stopped first so it forks nothing new while its tree is read."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    for p in [*_descendants(pid), pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


def stop_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        except ChildProcessError:  # started by another process: poll for its exit
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


class FakeWorkspace:
    backend_url = "fake://tests"

    def __init__(self, root: Path, *, up_delay_s: float = 0.0, fail_up: set[str] = frozenset(),
                 fail_destroy: set[str] = frozenset(), lock_on_cancel: bool = False,
                 start_hosts: bool = True, database: dict[str, Any] | None = None,
                 destroy_delay_s: float = 0.0, cancel_delay_s: float = 0.0,
                 network: str = "loopback", honour_env: bool = False):
        self.root = Path(root)
        # the passphrase from PULUMI_CONFIG_PASSPHRASE before the file, as the Pulumi CLI
        # reads it: set where this process stands for the CLI (tests/cloud_fake_engine.py)
        self.honour_env = honour_env
        # "loopback": every host's sshd on 127.0.0.1 (a port each), private = public;
        # "netns": a namespace per host, private and public addresses apart
        # (tests/cloud_fake_net.py)
        assert network in ("loopback", "netns"), network
        self.network = network
        self.root.mkdir(parents=True, exist_ok=True)
        self.up_delay_s = up_delay_s
        self.fail_up = set(fail_up)
        self.fail_destroy = set(fail_destroy)
        self.lock_on_cancel = lock_on_cancel
        self.start_hosts = start_hosts
        self.destroy_delay_s = destroy_delay_s
        self.cancel_delay_s = cancel_delay_s  # how long a cancelled update takes to stop
        # the "managed database" every stack with `spec.database` reports: a PostgreSQL
        # the test started ({host, port, user, password, dbname}); kind "rds"
        self.database = database
        self.calls: list[tuple[str, str, float]] = []  # (op, stack, monotonic time)
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def _path(self, stack: str) -> Path:
        return self.root / f"{stack}.json"

    def _read(self, stack: str) -> dict[str, Any] | None:
        p = self._path(stack)
        return json.loads(p.read_text()) if p.exists() else None

    def _write(self, stack: str, doc: dict[str, Any]) -> None:
        """Atomically (temp file + rename), so another process never reads half a doc."""
        tmp = self._path(stack).with_name(f".{stack}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self._path(stack))

    def _log(self, op: str, stack: str) -> None:
        with self._lock:
            self.calls.append((op, stack, time.monotonic()))

    def stacks(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json") if p.name != "knobs.json")

    def _unlock(self, doc: dict[str, Any], passphrase_file: Path) -> Secrets | None:
        """The stack's secrets opened with this passphrase (None: it holds none yet);
        IncorrectPassphrase as Pulumi's when it is not the stack's."""
        phrase = read_passphrase(passphrase_file, self.honour_env)
        return None if doc.get("secrets") is None else Secrets(doc["secrets"], phrase)

    def _plain(self, outputs: dict[str, Any] | None, secrets: Secrets | None
               ) -> dict[str, Any] | None:
        """Outputs as `stack output --show-secrets` gives them: secrets decrypted."""
        db = (outputs or {}).get("database")
        if not db or secrets is None or not isinstance(db.get("password"), dict):
            return outputs
        return dict(outputs, database=dict(db, password=secrets.decrypt(db["password"])))

    def up(self, stack: str, spec_file: Path, passphrase_file: Path, on_output,
           cancel: threading.Event | None = None) -> dict[str, Any]:
        assert passphrase_file.stat().st_mode & 0o777 == 0o600
        self._log("up", stack)
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            spec = json.loads(spec_file.read_text())
            doc = self._read(stack) or {"hosts": {}, "pids": []}
            if doc.get("locked"):  # as Pulumi: "the stack is currently locked by 1 lock(s)"
                raise StackLocked(f"stack {stack} is locked (fake)")
            secrets = self._unlock(doc, passphrase_file) or Secrets(
                None, read_passphrase(passphrase_file, self.honour_env))
            doc["secrets"] = secrets.state  # made at the first update, as Pulumi's salt
            doc.setdefault("created", time.time())
            doc["locked"] = os.getpid()  # the holder, as a file backend's lock names it
            self._write(stack, doc)
            on_output(f"+ pulumi:pulumi:Stack {stack} creating")
            roles = ["server", "client",
                     *(f"loadgen-{i}" for i in range(spec["loadgen_count"]))]
            zone_of = {r: 0 if r == "server" else 1 for r in roles}
            if self.network == "netns" and "net" not in doc and self.start_hosts:
                doc["net"] = cloud_fake_net.plan(self.root, stack, roles, zone_of,
                                                 spec["network_cidr"])
                (self.root / stack).mkdir(parents=True, exist_ok=True)
                (self.root / stack / "net.tag").write_text(cloud_fake_net.tag_of(self.root,
                                                                                 stack))
                self._write(stack, doc)  # recorded before anything is made
                cloud_fake_net.create_vpc(doc["net"])
            for role in roles:
                if role in doc["hosts"] or not self.start_hosts:
                    continue
                key = spec["host_keys"][role]["private_openssh"]
                # a pending create, as Pulumi's checkpoint keeps one: a CLI killed right
                # after the VM started still leaves a record that destroy can act on
                doc.setdefault("pending", []).append(role)
                self._write(stack, doc)
                try:
                    if self.network == "netns":
                        private = doc["net"]["hosts"][role]["private_ip"]
                        public = cloud_fake_net.create_host(doc["net"], role)
                        pid = cloud_fake_net.start_sshd(
                            doc["net"]["hosts"][role]["ns"], self.root / stack / role, key,
                            spec["ssh_public_key"], public)
                        port = 22
                    else:
                        pid, port = start_sshd(self.root / stack / role, key,
                                               spec["ssh_public_key"])
                        private = public = "127.0.0.1"
                except Exception:  # a failed update ends and releases its lock, as Pulumi's
                    doc["locked"] = False
                    self._write(stack, doc)
                    raise
                doc["pids"].append(pid)
                doc["pending"].remove(role)
                doc["hosts"][role] = {"private_ip": private, "public_ip": public,
                                      "zone": spec["zones"][zone_of[role]],
                                      "instance_type": spec["instance_type"],
                                      "ssh_port": port, "ssh_user": getpass.getuser()}
                self._write(stack, doc)  # a crash from here on leaves a stack to destroy
            deadline = time.monotonic() + self.up_delay_s  # the slow rest (a database...)
            while time.monotonic() < deadline:
                if cancel is not None and cancel.wait(0.05):
                    time.sleep(self.cancel_delay_s)  # steps in flight finish first
                    doc["locked"] = os.getpid() if self.lock_on_cancel else False
                    self._write(stack, doc)
                    raise BakeoffError(f"pulumi up of stack {stack} failed: interrupted")
                time.sleep(0.01)
            if spec["site"] in self.fail_up:
                doc["locked"] = False
                self._write(stack, doc)
                raise BakeoffError(f"pulumi up of stack {stack} failed: quota exceeded (fake)")
            db = (dict(self.database, kind="rds")
                   if self.database is not None and spec.get("database") else None)
            kept = None if db is None else dict(db, password=secrets.encrypt(db["password"]))
            doc.update(locked=False, outputs={"hosts": doc["hosts"], "database": kept,
                                              "network": {"cidr": spec["network_cidr"]},
                                              "region": spec["region"]})
            self._write(stack, doc)
            return self._plain(doc["outputs"], secrets)
        finally:
            with self._lock:
                self.active -= 1

    def preempt(self, stack: str, role: str) -> int:
        """The provider reclaims this host (a spot VM evicted and deleted): its sshd, open
        sessions and their commands die; the stack still lists it until destroy, which
        reaps it. Returns the sshd's pid."""
        self._log("preempt", stack)
        pid = int((self.root / stack / role / "sshd.pid").read_text())
        assert pid in (self._read(stack) or {}).get("pids", []), "not an sshd of this stack"
        kill_tree(pid)
        return pid

    def outputs(self, stack: str, passphrase_file: Path) -> dict[str, Any] | None:
        self._log("outputs", stack)
        doc = self._read(stack)
        if doc is None:
            return None
        return self._plain(doc.get("outputs"), self._unlock(doc, passphrase_file))

    def destroy(self, stack: str, passphrase_file: Path, on_output,
                cancel: threading.Event | None = None) -> None:
        self._log("destroy", stack)
        doc = self._read(stack)
        if doc is None:
            return
        if doc.get("locked"):
            raise StackLocked(f"stack {stack} is locked (fake)")
        self._unlock(doc, passphrase_file)  # the snapshot's secrets are read first
        if any(stack.endswith(f"--{s}") for s in self.fail_destroy):
            raise RuntimeError(f"destroy of {stack} failed (fake)")
        doc["locked"] = os.getpid()  # as Pulumi: a second update meanwhile is refused
        self._write(stack, doc)
        if self.destroy_delay_s:
            on_output(f"- pulumi:pulumi:Stack {stack} deleting")
            if cancel is not None and cancel.wait(self.destroy_delay_s):
                time.sleep(self.cancel_delay_s)  # the delete in flight finishes first
                doc["locked"] = False
                self._write(stack, doc)
                raise BakeoffError(f"pulumi destroy of stack {stack} failed: interrupted")
            time.sleep(0 if cancel is not None else self.destroy_delay_s)
        for role in doc.get("pending", []):  # VMs whose create was cut off
            with contextlib.suppress(OSError, ValueError):
                doc["pids"].append(int((self.root / stack / role / "sshd.pid").read_text()))
        for pid in doc.get("pids", []):
            stop_pid(pid)
        cloud_fake_net.remove(doc.get("net"))  # the VMs' namespaces, with what runs there
        _remove_disks(stack, doc)
        self._path(stack).unlink()
        on_output(f"- {stack} destroyed")

    def cancel(self, stack: str, passphrase_file: Path) -> None:
        self._log("cancel", stack)
        doc = self._read(stack)
        if doc is not None:
            doc["locked"] = False
            self._write(stack, doc)

    def refresh(self, stack: str, passphrase_file: Path, on_output) -> None:
        """As `pulumi refresh`: the state forgets "VMs" that no longer run."""
        self._log("refresh", stack)
        doc = self._read(stack)
        if doc is None:
            return
        if doc.get("locked"):  # refresh is an update too: it takes the lock
            raise StackLocked(f"stack {stack} is locked (fake)")
        self._unlock(doc, passphrase_file)
        gone = [p for p in doc.get("pids", []) if not _running(p)]
        if gone:
            doc["pids"] = [p for p in doc["pids"] if p not in gone]
            self._write(stack, doc)
            on_output(f"~ {stack}: {len(gone)} host(s) gone")


def _remove_disks(stack: str, doc: dict[str, Any]) -> None:
    """A destroyed VM's disks go with it. These "VMs" share this machine's /tmp, so what
    bakeoff made there for the stack's hosts (the scratch directories `mktemp -d
    /tmp/bakeoff-<site>-<role>-XXXXXX` since the stack's first update) is removed, else a
    run that never reached its own teardown (killed, refused) leaves it behind."""
    site = stack.rsplit("--", 1)[-1]
    since = doc.get("created", time.time()) - 1
    for role in doc.get("hosts", {}):
        for d in Path(SCRATCH_PREFIX).parent.glob(f"{Path(SCRATCH_PREFIX).name}{site}-{role}-*"):
            with contextlib.suppress(OSError):
                if len(d.name.rsplit("-", 1)[-1]) == 6 and d.stat().st_mtime >= since:
                    shutil.rmtree(d, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
