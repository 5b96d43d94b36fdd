"""Force a genuine cold start on a cloud function: publish a new configuration version.

Waiting out a platform's scale-to-zero is slow and undocumented (minutes, and it varies),
so on clouds each cold sample publishes a new configuration: every instance of the old
version is retired and the next request starts a fresh one. One small stateless class per
provider (SkyPilot-style), each reporting what it did, which the probe records per sample:

- AWS Lambda: UpdateFunctionConfiguration with the environment plus BAKEOFF_COLD_VERSION,
  then waits until LastUpdateStatus is Successful
  (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html;
  a configuration change makes new execution environments).
- Azure Functions: list the app settings, PUT them back with BAKEOFF_COLD_VERSION changed
  (Web Apps - Update Application Settings; a settings change restarts the app).
- Google Cloud Run: PATCH the service's template with the env var changed (a new
  revision; Services.patch returns a long-running Operation, polled until done).

Clients: boto3 for AWS; for Azure and GCP a `transport(method, url, body) -> (status,
json)`, real (bearer token from azure-identity / google-auth) or, in tests, a replay of
recorded responses in the APIs' own shapes. No live account has run any of this.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from core.errors import BakeoffError

SETTING = "BAKEOFF_COLD_VERSION"
Transport = Callable[[str, str, dict[str, Any] | None], tuple[int, dict[str, Any]]]
ARM = "https://management.azure.com"
ARM_WEB_API = "2024-04-01"
RUN_API = "https://run.googleapis.com/v2"


class ColdForceError(BakeoffError):
    """The platform refused or did not finish the new configuration."""


def _ok(status: int, body: dict[str, Any], what: str) -> dict[str, Any]:
    if not 200 <= status < 300:
        err = body.get("error") if isinstance(body, dict) else None
        msg = err.get("message") if isinstance(err, dict) else (err or body)
        raise ColdForceError(f"{what}: HTTP {status}: {str(msg)[:300]}")
    return body


class LambdaForcer:
    method = "lambda-update-function-configuration"

    def __init__(self, client: Any, poll_s: float = 1.0, timeout_s: float = 120.0) -> None:
        self.client, self.poll_s, self.timeout_s = client, poll_s, timeout_s

    def force(self, target: dict[str, Any], version: str) -> dict[str, Any]:
        name = target["function_name"]
        current = self.client.get_function_configuration(FunctionName=name)
        env = dict((current.get("Environment") or {}).get("Variables") or {})
        env[SETTING] = version
        self.client.update_function_configuration(FunctionName=name,
                                                  Environment={"Variables": env})
        deadline = time.monotonic() + self.timeout_s
        while True:
            cfg = self.client.get_function_configuration(FunctionName=name)
            status = cfg.get("LastUpdateStatus", "Successful")
            if status == "Successful":
                break
            if status == "Failed" or time.monotonic() > deadline:
                raise ColdForceError(f"Lambda {name}: configuration update {status}: "
                                     f"{cfg.get('LastUpdateStatusReason', '')}")
            time.sleep(self.poll_s)
        return {"method": self.method, "version": version,
                "revision_id": cfg.get("RevisionId"), "status": status}


class FunctionsForcer:
    method = "functions-app-setting"

    def __init__(self, transport: Transport, subscription: str) -> None:
        self.transport, self.subscription = transport, subscription

    def force(self, target: dict[str, Any], version: str) -> dict[str, Any]:
        site = (f"{ARM}/subscriptions/{self.subscription}/resourceGroups/"
                f"{target['resource_group']}/providers/Microsoft.Web/sites/{target['app_name']}")
        setting = target.get("setting", SETTING)
        listed = _ok(*self.transport("POST", f"{site}/config/appsettings/list?api-version="
                                     f"{ARM_WEB_API}", None), "list app settings")
        props = dict(listed.get("properties") or {})
        props[setting] = version
        put = _ok(*self.transport("PUT", f"{site}/config/appsettings?api-version={ARM_WEB_API}",
                                  {"properties": props}), "update app settings")
        if (put.get("properties") or {}).get(setting) != version:
            raise ColdForceError(f"Functions app {target['app_name']}: the settings answer "
                                 f"does not carry {setting}={version}")
        return {"method": self.method, "version": version, "setting": setting}


class CloudRunForcer:
    method = "cloud-run-new-revision"

    def __init__(self, transport: Transport, project: str, poll_s: float = 2.0,
                 timeout_s: float = 300.0) -> None:
        self.transport, self.project = transport, project
        self.poll_s, self.timeout_s = poll_s, timeout_s

    def force(self, target: dict[str, Any], version: str) -> dict[str, Any]:
        url = (f"{RUN_API}/projects/{self.project}/locations/{target['region']}/services/"
               f"{target['service']}")
        service = _ok(*self.transport("GET", url, None), "get service")
        template = dict(service.get("template") or {})
        containers = [dict(c) for c in template.get("containers") or [{}]]
        name = target.get("env", SETTING)
        envs = [e for e in containers[0].get("envs") or [] if e.get("name") != name]
        containers[0]["envs"] = [*envs, {"name": name, "value": version}]
        template["containers"] = containers
        template.pop("revision", None)  # let Cloud Run name the new revision
        op = _ok(*self.transport("PATCH", f"{url}?updateMask=template",
                                 {"template": template}), "patch service")
        deadline = time.monotonic() + self.timeout_s
        while not op.get("done"):
            if time.monotonic() > deadline:
                raise ColdForceError(f"Cloud Run {target['service']}: operation {op.get('name')} "
                                     f"not done after {self.timeout_s:g} s")
            time.sleep(self.poll_s)
            op = _ok(*self.transport("GET", f"{RUN_API}/{op['name']}", None), "poll operation")
        if op.get("error"):
            raise ColdForceError(f"Cloud Run {target['service']}: new revision failed: "
                                 f"{op['error'].get('message', op['error'])}")
        revision = (op.get("response") or {}).get("latestReadyRevision", "")
        return {"method": self.method, "version": version,
                "revision": revision.rsplit("/", 1)[-1]}


def http_transport(token: Callable[[], str], timeout_s: float = 60.0) -> Transport:
    """A JSON-over-HTTPS transport with a bearer token (azure-identity / google-auth)."""

    def send(method: str, url: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else b""
        req = urllib.request.Request(url, data=data if method != "GET" else None,
                                     method=method, headers={
                                         "Authorization": f"Bearer {token()}",
                                         "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.loads(e.read() or b"{}")
            except ValueError:
                return e.code, {"error": {"message": e.reason}}

    return send


def forcer_for(cold_force: dict[str, Any]) -> Any:
    """The provider's forcer with real clients and the default credentials (the controller's:
    the probe forces from where the site was provisioned)."""
    method = cold_force.get("method")
    if method == LambdaForcer.method:
        from stacks.cloud.aws_session import aws_session

        return LambdaForcer(aws_session().client("lambda", region_name=cold_force["region"]))
    if method == FunctionsForcer.method:
        from azure.identity import DefaultAzureCredential

        cred = DefaultAzureCredential()
        return FunctionsForcer(http_transport(
            lambda: cred.get_token(f"{ARM}/.default").token), cold_force["subscription"])
    if method == CloudRunForcer.method:
        import google.auth
        import google.auth.transport.requests

        creds, project = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"])

        def token() -> str:
            creds.refresh(google.auth.transport.requests.Request())
            return creds.token

        return CloudRunForcer(http_transport(token), cold_force.get("project") or project)
    raise ColdForceError(f"no cold-start forcer for method {method!r} (expected one of "
                         f"{LambdaForcer.method}, {FunctionsForcer.method}, "
                         f"{CloudRunForcer.method})")
