"""The one adapter every platform's entry point calls: init once per instance, then handle.

Packed with the reference handler (bakeoff_fn/functions.py) into each provider's package
(bench/serverless/package.py). Configuration comes from environment variables the Pulumi
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

_instance: Any = None
_init_ms = 0.0
_served = 0


def config() -> dict[str, Any]:
    return {"conninfo": os.environ.get("BAKEOFF_CONNINFO", ""),
            "downstream_url": os.environ.get("BAKEOFF_DOWNSTREAM_URL", ""),
            "pool_size": int(os.environ.get("BAKEOFF_POOL_SIZE", "2"))}


def call(body_text: str | bytes | None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) for one request; initialises the function on first use."""
    global _instance, _init_ms, _served
    cold = _instance is None
    if cold:
        start = time.perf_counter()
        _instance = FUNCTIONS[os.environ.get("BAKEOFF_FUNCTION", "hello")](config())
        _init_ms = round((time.perf_counter() - start) * 1000.0, 3)
    _served += 1
    try:
        body = json.loads(body_text or "{}")
    except ValueError:
        return 400, {"error": "body is not JSON"}, {}
    status, answer = _instance.handle(body if isinstance(body, dict) else {})
    headers = {"X-Bakeoff-Cold": "1" if cold else "0",
               "X-Bakeoff-Init-Ms": f"{_init_ms if cold else 0:g}",
               "X-Bakeoff-Init-Parts": json.dumps(_instance.parts if cold else {})}
    return status, answer, headers
