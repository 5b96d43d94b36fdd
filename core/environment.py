"""What a provisioner hands to the measuring side: an Environment of reachable hosts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from core.executor import Executor


@dataclass(frozen=True)
class Host:
    """A machine (or a slice of one) workloads run on. `address` is how peers reach it."""

    name: str
    zone: str
    address: str
    executor: Executor
    facts: dict[str, Any] = field(default_factory=dict)


def _conninfo_value(value: str) -> str:
    """A libpq keyword/value: single-quoted, with backslashes and quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _passfile_field(value: str) -> str:
    """A .pgpass field: ':' and '\\' escaped with a backslash."""
    return value.replace("\\", "\\\\").replace(":", "\\:")


@dataclass(frozen=True)
class DatabaseEndpoint:
    """A PostgreSQL the site's workloads use (local temporary server or managed service).

    The password never goes into a command line: processes get `conninfo` (no password)
    in argv and the password through a 0600 passfile (`passfile_line`, PGPASSFILE) or
    PGPASSWORD. `dsn` (URL form, every part percent-encoded) is for in-process clients.
    """

    host: str
    port: int
    user: str
    password: str
    dbname: str
    kind: str  # "local-postgres", "rds", "cloudsql", "azure-flexible", ...

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return (f"DatabaseEndpoint(host={self.host!r}, port={self.port}, user={self.user!r}, "
                f"password='***', dbname={self.dbname!r}, kind={self.kind!r})")

    @property
    def dsn(self) -> str:
        """postgresql://user:password@host:port/db, URL-encoded so `@/:#` stay inside."""
        host = f"[{self.host}]" if ":" in self.host else quote(self.host, safe="")
        return (f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
                f"{host}:{self.port}/{quote(self.dbname, safe='')}")

    @property
    def conninfo(self) -> str:
        """libpq keyword/value connection string WITHOUT the password (safe for argv)."""
        return " ".join(f"{k}={_conninfo_value(str(v))}" for k, v in (
            ("host", self.host), ("port", self.port), ("user", self.user),
            ("dbname", self.dbname)))

    @property
    def passfile_line(self) -> str:
        """One .pgpass line matching this endpoint (any host spelling, this port/db/user)."""
        return ":".join(["*", str(self.port), _passfile_field(self.dbname),
                         _passfile_field(self.user), _passfile_field(self.password)]) + "\n"


@dataclass
class Environment:
    """A provisioned site: two hosts in two zones, an optional database, and notes."""

    site: str
    provider: str
    region: str
    instance_type: str
    hosts: dict[str, Host]
    database: DatabaseEndpoint | None = None
    network: str = "loopback"  # how client and server are joined: netns-veth | loopback | vpc
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def client(self) -> Host:
        return self.hosts["client"]

    @property
    def server(self) -> Host:
        return self.hosts["server"]
