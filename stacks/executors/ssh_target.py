"""Where an SSH host is: `user@host[:port]`, as written in a static site's scenario."""

from __future__ import annotations

import getpass
from dataclasses import dataclass


@dataclass(frozen=True)
class SshTarget:
    """`user@host[:port]` (IPv6 as `user@[::1]:2222`); the user defaults to the local one."""

    user: str
    host: str
    port: int = 22

    @classmethod
    def parse(cls, text: str) -> SshTarget:
        user, at, rest = text.strip().rpartition("@")
        if not at:
            user = getpass.getuser()
        port_s = ""
        if rest.startswith("["):
            host, _, tail = rest[1:].partition("]")
            if tail and not tail.startswith(":"):
                raise ValueError(f"{text!r}: expected [ipv6]:port after the ']'")
            port_s = tail[1:]
        elif rest.count(":") == 1:
            host, port_s = rest.split(":")
        else:
            host = rest
        if not host or not user or any(c.isspace() for c in text.strip()):
            raise ValueError(f"{text!r} is not of the form user@host[:port]")
        if port_s and not (port_s.isdigit() and 0 < int(port_s) < 65536):
            raise ValueError(f"{text!r}: port must be a number from 1 to 65535")
        return cls(user, host, int(port_s) if port_s else 22)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user}@{host}:{self.port}"
