"""Is the downstream API up on a cloud function site's server VM? Checked before cold-start.

The checkout function calls the site's downstream API (bench/serverless/downstream.py) on
the server VM once per request; cloud-init starts it as the systemd unit
`bakeoff-downstream.service` on port 8099 (stacks/cloud/userdata.py). If that unit is
down, every checkout request fails and the cold-start unit would end with a column of
failures that say nothing about why. So before the probe starts, on the server VM (over
its executor: SSH on a cloud site) the unit must be `active` (`systemctl is-active`) and
GET /quote on 127.0.0.1 must answer the quote document; otherwise the unit fails with
the reason and where to look (journalctl).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from core.errors import BakeoffError
from core.executor import Executor

UNIT = "bakeoff-downstream.service"  # stacks/cloud/userdata.py DOWNSTREAM_UNIT
PORT = 8099  # stacks/cloud/fn_common.py DOWNSTREAM_PORT
# The VM's own python3 (the unit runs /usr/bin/python3 too): GET with retries until a
# deadline, because a unit just restarted by systemd takes a moment to listen.
_GET = ("import sys, time, urllib.request\n"
        "end = time.monotonic() + float(sys.argv[2])\n"
        "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
        "while True:\n"
        "    try:\n"
        "        with opener.open(sys.argv[1], timeout=5) as r:\n"
        "            sys.stdout.write(r.read().decode()); break\n"
        "    except Exception as e:\n"
        "        if time.monotonic() > end: sys.stderr.write(repr(e)); sys.exit(1)\n"
        "        time.sleep(0.2)\n")


class DownstreamNotReady(BakeoffError):
    """The server VM's downstream API is not serving: the cold-start unit cannot run."""


def check_downstream(executor: Executor, where: str, port: int = PORT, wait_s: float = 10.0,
                     env: Mapping[str, str] | None = None) -> dict[str, object]:
    """The quote the endpoint answered for total=1; DownstreamNotReady naming what is wrong
    (`where`: the host, for the message). `env` is for the remote commands."""
    hint = (f"see `journalctl -u {UNIT}` and `systemctl status {UNIT}` on {where} (cloud-init "
            "starts it, /var/log/cloud-init-output.log)")
    res = executor.run(["systemctl", "is-active", UNIT], timeout=30, env=env)
    state = (res.stdout.strip().splitlines() or ["unknown"])[-1]
    if state != "active":
        detail = res.stderr.strip()[-200:]
        raise DownstreamNotReady(
            f"the downstream API unit {UNIT} on {where} is {state!r}, not active"
            f"{f' ({detail})' if detail else ''}: the checkout function calls it on every "
            f"request; {hint}")
    url = f"http://127.0.0.1:{port}/quote?total=1"
    res = executor.run(["python3", "-c", _GET, url, f"{wait_s:g}"], timeout=wait_s + 30,
                       env=env)
    if not res.ok:
        raise DownstreamNotReady(
            f"{UNIT} on {where} is active but GET {url} failed: "
            f"{(res.stderr or res.stdout).strip()[-300:]}; {hint}")
    try:
        quote = json.loads(res.stdout)
    except ValueError:
        quote = None
    if not (isinstance(quote, dict) and quote.get("total_cents") == 1
            and isinstance(quote.get("shipping_cents"), int)):
        raise DownstreamNotReady(
            f"GET {url} on {where} answered {res.stdout.strip()[:200]!r}, not a shipping "
            f"quote for total 1 (another service on port {port}?); {hint}")
    return quote
