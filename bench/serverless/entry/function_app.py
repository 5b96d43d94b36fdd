"""Azure Functions entry point (Python v2 programming model): one HTTP trigger, POST /fn/{name}.

The route carries the function's name only for the probe's URL shape; which function the
app runs is BAKEOFF_FUNCTION (one function per app, as on the other platforms).
"""

from __future__ import annotations

import json

import azure.functions as func
from bakeoff_fn.adapter import call

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="fn/{name}", methods=["POST"])
def invoke(req: func.HttpRequest) -> func.HttpResponse:
    status, answer, headers = call(req.get_body())
    return func.HttpResponse(json.dumps(answer), status_code=status, headers=headers,
                             mimetype="application/json")
