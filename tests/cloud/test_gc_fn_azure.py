"""Azure gc finds function leftovers by type: a function app (Microsoft.Web/sites) and its
Flex Consumption plan (Microsoft.Web/serverfarms) outside a bakeoff resource group, by
their tags, with other campaigns' and untagged apps as noise. The app's DELETE is a
long-running operation (202 + Azure-AsyncOperation, polled InProgress, InProgress,
Succeeded by the real azure-mgmt-resource poller): a plan that still hosts an app is
refused, so the plan must go only after the last poll."""

from __future__ import annotations

from datetime import UTC, datetime

from azure.core.pipeline.policies import SansIOHTTPPolicy

from stacks.cloud.gc_azure import AzureInventory
from stacks.cloud.gc_common import collect
from tests.cloud.recorded_api import RecordedApi
from tests.cloud.test_gc_azure_gcp import SUB, _Token
from tests.cloud.test_gc_gcp_pending import Sequenced

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
RG = f"/subscriptions/{SUB}/resourceGroups/scratch-rg"
WEB = f"{RG}/providers/Microsoft.Web"
APP = f"{WEB}/sites/bko-fnaz-fn-1a2b3c4d"
PLAN = f"{WEB}/serverfarms/bko-fnaz-fn-plan1a"
ACCOUNT = f"{RG}/providers/Microsoft.Storage/storageAccounts/bkofnaz1a2b3c4d"
LIVE_APP = f"{WEB}/sites/bko-fnaz-fn-9f9f9f9f"
LIVE_PLAN = f"{WEB}/serverfarms/bko-fnaz-fn-plan9f"
STRANGER = f"{WEB}/sites/payroll-api"  # not bakeoff's: no tags
OP = f"/subscriptions/{SUB}/providers/Microsoft.Web/locations/westeurope/operationResults/op-fn1"


def _tags(campaign: str, expires: str) -> dict:
    return {"bakeoff-campaign": campaign, "bakeoff-site": "fnaz",
            "bakeoff-expires-at": expires, "owner": "ana"}


def _resource(rid: str, rtype: str, tags: dict | None, kind: str | None = None) -> dict:
    out = {"id": rid, "name": rid.rsplit("/", 1)[-1], "type": rtype, "location": "westeurope",
           "createdTime": "2026-11-27T12:00:00Z"}
    if tags is not None:
        out["tags"] = tags
    if kind:
        out["kind"] = kind
    return out


def _status(state: str) -> dict:
    body = {"id": OP, "name": "op-fn1", "status": state, "startTime": "2026-11-27T15:00:01Z"}
    if state != "InProgress":
        body["endTime"] = "2026-11-27T15:00:40Z"
    return body


OLD = _tags("c-old", "2026-11-27T14:00:00+00:00")
LIVE = _tags("c-live", "2026-11-27T18:00:00+00:00")
ROUTES = {
    f"GET /subscriptions/{SUB}/resourcegroups": {"value": [
        {"id": f"/subscriptions/{SUB}/resourceGroups/prod-rg", "name": "prod-rg",
         "type": "Microsoft.Resources/resourceGroups", "location": "westeurope",
         "properties": {"provisioningState": "Succeeded"}}]},
    # the plan is listed before its app (ARM's order is not the deletion order)
    f"GET /subscriptions/{SUB}/resources": {"value": [
        _resource(PLAN, "Microsoft.Web/serverfarms", OLD, "functionapp"),
        _resource(ACCOUNT, "Microsoft.Storage/storageAccounts", OLD, "StorageV2"),
        _resource(LIVE_PLAN, "Microsoft.Web/serverfarms", LIVE, "functionapp"),
        _resource(APP, "Microsoft.Web/sites", OLD, "functionapp,linux"),
        _resource(LIVE_APP, "Microsoft.Web/sites", LIVE, "functionapp,linux"),
        _resource(STRANGER, "Microsoft.Web/sites", None, "functionapp,linux")]},
    f"GET /subscriptions/{SUB}/providers/Microsoft.Web": {
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Web", "namespace": "Microsoft.Web",
        "registrationState": "Registered", "resourceTypes": [
            {"resourceType": "sites", "locations": ["West Europe"],
             "apiVersions": ["2024-11-01", "2024-04-01", "2025-03-01-preview"]},
            {"resourceType": "serverfarms", "locations": ["West Europe"],
             "apiVersions": ["2024-11-01", "2024-04-01"]}]},
    f"GET /subscriptions/{SUB}/providers/Microsoft.Storage": {
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Storage",
        "namespace": "Microsoft.Storage", "registrationState": "Registered",
        "resourceTypes": [{"resourceType": "storageAccounts", "locations": ["West Europe"],
                           "apiVersions": ["2024-01-01", "2023-05-01"]}]},
    f"DELETE {PLAN}": [200, None],
    f"DELETE {ACCOUNT}": [200, None],
}


def test_the_app_is_awaited_before_its_flex_plan_and_noise_is_kept():
    with RecordedApi(ROUTES) as api:
        headers = {"Azure-AsyncOperation": "{base}" + OP + "?api-version=2024-11-01",
                   "Location": "{base}" + OP + "?api-version=2024-11-01", "Retry-After": "0"}
        api.routes[api._key(f"DELETE {APP}")] = [202, None, headers]
        api.routes = Sequenced(api.routes, {api._key(f"GET {OP}"): [
            _status("InProgress"), _status("InProgress"), _status("Succeeded")]})
        inv = AzureInventory(SUB, credential=_Token(), base_url=api.url,
                             authentication_policy=SansIOHTTPPolicy(), polling_interval=0)
        report = collect(inv, now=NOW, known_campaigns={"c-old", "c-live"}, delete=True)
    assert not report.errors, report.errors
    verdicts = {v.item.id: v.action for v in report.verdicts}
    assert verdicts == {APP: "delete", PLAN: "delete", ACCOUNT: "delete", LIVE_APP: "keep",
                        LIVE_PLAN: "keep", "/subscriptions/" + SUB + "/resourceGroups/"
                        "prod-rg": "keep", STRANGER: "keep"}
    calls = [(m, p) for m, p, _ in api.requests]
    deleted = [p for m, p in calls if m == "DELETE"]
    assert set(deleted) == {APP, PLAN, ACCOUNT}  # never the live or the untagged app
    polls = [i for i, c in enumerate(calls) if c == ("GET", OP)]
    assert len(polls) == 3, calls
    assert calls.index(("DELETE", APP)) < polls[0] < polls[-1] < calls.index(("DELETE", PLAN))
    # generic deletes use the newest stable API version the provider lists
    (_, _, query), = [r for r in api.requests if r[0] == "DELETE" and r[1] == PLAN]
    assert query["api-version"] == ["2024-11-01"]
