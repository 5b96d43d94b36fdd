"""The one adapter every platform's entry point calls: init once per instance, then handle.

Packed with the reference handler (bakeoff_fn/functions.py) into each provider's package
(stacks/cloud/fn_package.py). Configuration comes from environment variables the Pulumi
programs set (BAKEOFF_FUNCTION, BAKEOFF_CONNINFO, BAKEOFF_DOWNSTREAM_URL, BAKEOFF_POOL_SIZE).
The first call in an instance is its cold start: it reports the init time and parts in
the same headers the local function site uses (X-Bakeoff-Cold, X-Bakeoff-Init-Ms,
X-Bakeoff-Init-Parts), so the cold-start probe reads every platform alike.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from bakeoff_fn.functions import FUNCTIONS

_instances: dict[str, Any] = {}  # per function: both are packed, the path picks one
_init_ms: dict[str, float] = {}


def config() -> dict[str, Any]:
    return {"conninfo": os.environ.get("BAKEOFF_CONNINFO", ""),
            "downstream_url": os.environ.get("BAKEOFF_DOWNSTREAM_URL", ""),
            "pool_size": int(os.environ.get("BAKEOFF_POOL_SIZE", "2"))}


def function_of(path: str | None) -> str:
    """'/fn/hello' -> 'hello'; otherwise the app's BAKEOFF_FUNCTION."""
    tail = (path or "").rstrip("/").rsplit("/fn/", 1)
    return tail[1] if len(tail) == 2 and tail[1] else os.environ.get("BAKEOFF_FUNCTION",
                                                                     "hello")


def call(body_text: str | bytes | None,
         path: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) for one request; initialises the function on first use."""
    name = function_of(path)
    if name not in FUNCTIONS:
        return 404, {"error": f"no function {name!r}"}, {}
    cold = name not in _instances
    if cold:
        start = time.perf_counter()
        _instances[name] = FUNCTIONS[name](config())
        _init_ms[name] = round((time.perf_counter() - start) * 1000.0, 3)
    instance = _instances[name]
    try:
        body = json.loads(body_text or "{}")
    except ValueError:
        return 400, {"error": "body is not JSON"}, {}
    status, answer = instance.handle(body if isinstance(body, dict) else {})
    headers = {"X-Bakeoff-Cold": "1" if cold else "0",
               "X-Bakeoff-Init-Ms": f"{_init_ms[name] if cold else 0:g}",
               "X-Bakeoff-Init-Parts": json.dumps(instance.parts if cold else {})}
    return status, answer, headers
