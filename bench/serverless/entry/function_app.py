"""Azure Functions entry point (Python v2 programming model): one HTTP trigger, POST /fn/{name}.

Both functions are packed; the route's name picks one (checkout, or the hello baseline),
as on the local function site and the other platforms.
"""

from __future__ import annotations

import json

import azure.functions as func
from bakeoff_fn.adapter import call

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="fn/{name}", methods=["POST"])
def invoke(req: func.HttpRequest) -> func.HttpResponse:
    status, answer, headers = call(req.get_body(), f"/fn/{req.route_params.get('name', '')}")
    return func.HttpResponse(json.dumps(answer), status_code=status, headers=headers,
                             mimetype="application/json")
