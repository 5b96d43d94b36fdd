"""What a cloud campaign keeps on the operator's machine, so a crash can still be cleaned up.

Under the state directory ($BAKEOFF_STATE_DIR, else $XDG_STATE_HOME/bakeoff, else
~/.local/state/bakeoff):

    pulumi/                          the Pulumi file backend (default; any URL may be set)
    campaigns/<campaign-id>/
        journal.json                 per site: provider, stack, backend, status, timings
        passphrase                   0600, the stacks' secrets passphrase
        id_ed25519, id_ed25519.pub   0600, the campaign's ephemeral login key
        sites/<site>/secrets.json    0600, host keys and database password (resume reuses)
        sites/<site>/known_hosts     the pre-generated host keys, by public address
        sites/<site>/spec.json       0600, the last spec handed to the program

`down` needs only the journal, the passphrase and the backend: no Environment, no scenario.
The private keys are deleted once every site of the campaign is destroyed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

STATE_ENV = "BAKEOFF_STATE_DIR"
BACKEND_ENV = "BAKEOFF_PULUMI_BACKEND"

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def state_root() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV]).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "bakeoff"


def default_backend_url() -> str:
    """$BAKEOFF_PULUMI_BACKEND (s3://, azblob://, gs://, https://api.pulumi.com, file://...)
    or a local file backend in the state directory."""
    url = os.environ.get(BACKEND_ENV)
    if url:
        return url
    path = state_root() / "pulumi"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return f"file://{path}"


def _write_private(path: Path, text: str) -> None:
    """Create or replace a file readable by its owner only (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class CampaignState:
    """One campaign's directory; safe to use from several threads of one process."""

    def __init__(self, campaign_id: str, root: Path | None = None):
        self.campaign_id = campaign_id
        self.dir = (Path(root) if root else state_root()) / "campaigns" / campaign_id
        with _locks_guard:
            self._lock = _locks.setdefault(str(self.dir), threading.Lock())

    # -- journal ----------------------------------------------------------------------
    @property
    def journal_path(self) -> Path:
        return self.dir / "journal.json"

    def journal(self) -> dict[str, Any]:
        try:
            return json.loads(self.journal_path.read_text())
        except FileNotFoundError:
            return {"campaign_id": self.campaign_id, "sites": {}}

    def site_entry(self, site: str) -> dict[str, Any] | None:
        return self.journal()["sites"].get(site)

    def record(self, site: str, **fields: Any) -> dict[str, Any]:
        """Merge fields into the site's entry; every status change gets a timestamped event."""
        with self._lock:
            doc = self.journal()
            entry = doc["sites"].setdefault(site, {"events": []})
            if "status" in fields:
                entry["events"].append({"at": _now(), "status": fields["status"],
                                        **({"error": fields["error"]} if fields.get("error")
                                           else {})})
            entry.update(fields)
            _write_private(self.journal_path, json.dumps(doc, indent=2, sort_keys=True))
            return entry

    def live_sites(self) -> list[str]:
        """Sites whose stack may still hold resources."""
        return [name for name, e in self.journal()["sites"].items()
                if e.get("status") != "destroyed"]

    # -- secrets ----------------------------------------------------------------------
    @property
    def passphrase_file(self) -> Path:
        path = self.dir / "passphrase"
        with self._lock:
            if not path.exists():
                _write_private(path, secrets.token_urlsafe(32))
        return path

    @property
    def ssh_key(self) -> Path:
        """The campaign's ephemeral ed25519 login key (created on first use)."""
        path = self.dir / "id_ed25519"
        with self._lock:
            if not path.exists():
                from stacks.cloud.cloudinit import new_host_key

                key = new_host_key(f"bakeoff-{self.campaign_id}")
                _write_private(path, key.private_openssh)
                (self.dir / "id_ed25519.pub").write_text(key.public_openssh + "\n")
        return path

    @property
    def ssh_public_key(self) -> str:
        self.ssh_key  # noqa: B018 - creates it
        return (self.dir / "id_ed25519.pub").read_text().strip()

    def site_dir(self, site: str) -> Path:
        return self.dir / "sites" / site

    def site_secrets(self, site: str, roles: list[str]) -> dict[str, Any]:
        """Host keys per role and the database password, generated once and kept for resume."""
        from stacks.cloud.cloudinit import new_host_key

        path = self.site_dir(site) / "secrets.json"
        with self._lock:
            doc = json.loads(path.read_text()) if path.exists() else {}
            keys = doc.setdefault("host_keys", {})
            changed = not path.exists()
            for role in roles:
                if role not in keys:
                    k = new_host_key(f"bko-{site}-{role}")
                    keys[role] = {"private_openssh": k.private_openssh,
                                  "public_openssh": k.public_openssh}
                    changed = True
            if "db_password" not in doc:
                from stacks.cloud.passwords import new_db_password

                doc["db_password"] = new_db_password()
                changed = True
            if changed:
                _write_private(path, json.dumps(doc, indent=2))
            return doc

    def write_spec(self, site: str, spec_json: str) -> Path:
        path = self.site_dir(site) / "spec.json"
        _write_private(path, spec_json)
        return path

    def write_known_hosts(self, site: str, entries: dict[str, str]) -> Path:
        """entries: address -> public key line ('ssh-ed25519 AAAA...')."""
        path = self.site_dir(site) / "known_hosts"
        _write_private(path, "".join(f"{addr} {' '.join(key.split()[:2])}\n"
                                     for addr, key in sorted(entries.items())))
        return path

    def forget_secrets_if_done(self) -> bool:
        """Delete private keys once no site may hold resources; True when deleted."""
        if self.live_sites():
            return False
        for path in [self.dir / "id_ed25519", *self.dir.glob("sites/*/secrets.json"),
                     *self.dir.glob("sites/*/spec.json")]:
            path.unlink(missing_ok=True)
        return True


def campaigns_with_live_sites(root: Path | None = None) -> list[CampaignState]:
    base = (Path(root) if root else state_root()) / "campaigns"
    out = []
    for d in sorted(base.glob("*/journal.json")):
        st = CampaignState(d.parent.name, root)
        if st.live_sites():
            out.append(st)
    return out
