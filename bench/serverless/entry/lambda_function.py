"""AWS Lambda entry point (handler `lambda_function.handler`) behind a function URL.

A function URL hands the request as a payload-format 2.0 event (`body`, possibly base64);
the answer is {statusCode, headers, body}.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from bakeoff_fn.adapter import call


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    status, answer, headers = call(body, event.get("rawPath"))
    return {"statusCode": status, "headers": {"Content-Type": "application/json", **headers},
            "body": json.dumps(answer)}
