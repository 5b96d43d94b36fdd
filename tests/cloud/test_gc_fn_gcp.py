"""GCP gc finds function leftovers by type: Cloud Run services (by label, across regions,
through the v1 Knative list) and their source buckets, beside the recorded project of
tests/cloud/recorded/gcp.json (VMs, Cloud SQL, the network). Noise: a live campaign's
service, a service and a bucket that are not bakeoff's. The service's v2 DELETE answers a
long-running Operation, polled (done: false, false, true) before the sweep reaches the
subnetwork that Direct VPC egress holds addresses in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from google.auth.credentials import AnonymousCredentials

from stacks.cloud.gc_common import collect
from stacks.cloud.gc_gcp import GcpInventory
from tests.cloud.recorded_api import RecordedApi, load
from tests.cloud.test_gc_gcp_pending import Sequenced

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
P = "bko-test"
LOC = "europe-west1"
SERVICE = f"/v2/projects/{P}/locations/{LOC}/services/bko-fngcp-fn"
OP = f"projects/{P}/locations/{LOC}/operations/6f1e2d3c-0000-4000-8000-000000000001"
BUCKET = "/storage/v1/b/bko-fngcp-src-1a2b3c4d"
SUBNET = f"/compute/v1/projects/{P}/regions/{LOC}/subnetworks/bko-web-subnet-1a2b"


def _labels(campaign: str, expires: str) -> dict:
    return {"bakeoff-campaign": campaign, "bakeoff-site": "fngcp",
            "bakeoff-expires-at": expires, "owner": "ana"}


OLD = _labels("c-old", "2026-11-27t14-00-00-00-00")
LIVE = _labels("c-live", "2026-11-27t18-00-00-00-00")


def _service(name: str, labels: dict, location: str = LOC) -> dict:
    """A Knative Service as Cloud Run's v1 list returns it (metadata is what gc reads)."""
    return {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {
        "name": name, "namespace": "123456789012", "uid": f"uid-{name}",
        "generation": 3, "creationTimestamp": "2026-11-27T12:10:00.000000Z",
        "labels": {**labels, "cloud.googleapis.com/location": location},
        "annotations": {"run.googleapis.com/ingress": "all"}},
        "spec": {"template": {"spec": {"containerConcurrency": 1}}},
        "status": {"url": f"https://{name}-abc123-ew.a.run.app"}}


def _op(done: bool) -> dict:
    body = {"name": OP, "metadata": {
        "@type": "type.googleapis.com/google.cloud.run.v2.Service", "name": SERVICE[4:]},
        "done": done}
    if done:
        body["response"] = {"@type": "type.googleapis.com/google.cloud.run.v2.Service",
                            "name": SERVICE[4:]}
    return body


def _routes() -> dict:
    routes = load("gcp.json")
    routes[f"GET /apis/serving.knative.dev/v1/namespaces/{P}/services"] = {
        "apiVersion": "serving.knative.dev/v1", "kind": "ServiceList", "metadata": {},
        "items": [_service("bko-fngcp-fn", OLD),
                  _service("bko-live-fn", LIVE, "us-central1"),
                  _service("checkout-prod", {"team": "shop"})]}  # not bakeoff's
    routes["GET /storage/v1/b"] = {"kind": "storage#buckets", "items": [
        {"kind": "storage#bucket", "name": "bko-fngcp-src-1a2b3c4d", "location": "EUROPE-WEST1",
         "timeCreated": "2026-11-27T12:05:00.000Z", "labels": OLD},
        {"kind": "storage#bucket", "name": "shop-assets", "location": "EU",
         "timeCreated": "2025-03-01T08:00:00.000Z"}]}
    routes[f"GET {BUCKET}/o"] = {"kind": "storage#objects", "items": [
        {"kind": "storage#object", "name": "0123456789abcdef.zip", "bucket": BUCKET[12:]}]}
    routes[f"DELETE {BUCKET}/o/0123456789abcdef.zip"] = [204, None]
    routes[f"DELETE {BUCKET}"] = [204, None]
    routes[f"DELETE {SERVICE}"] = _op(False)
    return routes


def _inventory(api) -> GcpInventory:
    inv = GcpInventory(P, credentials=AnonymousCredentials(),
                       client_options={"api_endpoint": api.url},
                       sql_session=requests.Session(), sql_base_url=api.url)
    inv.op_wait = {"wait_s": 30.0, "poll_s": 0.0}
    return inv


def test_cloud_run_and_its_bucket_are_found_and_the_deletion_awaited():
    with RecordedApi(_routes()) as api:
        # the object list answers once with the zip, then empty (it was deleted)
        api.routes = Sequenced(api.routes, {
            api._key(f"GET /v2/{OP}"): [_op(False), _op(False), _op(True)],
            api._key(f"GET {BUCKET}/o"): [api.routes[api._key(f"GET {BUCKET}/o")],
                                          {"kind": "storage#objects"}]})
        report = collect(_inventory(api), now=NOW, known_campaigns={"c-old", "c-live"},
                         delete=True)
    assert not report.errors, report.errors
    found = {(v.item.kind, v.item.name): (v.action, v.item.location) for v in report.verdicts
             if v.item.kind in ("cloud-run-service", "bucket")}
    assert found == {("cloud-run-service", "bko-fngcp-fn"): ("delete", LOC),
                     ("cloud-run-service", "bko-live-fn"): ("keep", "us-central1"),
                     ("bucket", "bko-fngcp-src-1a2b3c4d"): ("delete", "europe-west1")}
    calls = [(m, p) for m, p, _ in api.requests]
    assert ("DELETE", "/v2/projects/bko-test/locations/us-central1/services/bko-live-fn") \
        not in calls
    assert not any("checkout-prod" in p or "shop-assets" in p for _, p in calls)
    polls = [i for i, c in enumerate(calls) if c == ("GET", f"/v2/{OP}")]
    assert len(polls) == 3, calls
    # the service is gone (its Operation done) before the subnetwork is touched
    assert calls.index(("DELETE", SERVICE)) < polls[0] and \
        polls[-1] < calls.index(("DELETE", SUBNET)), calls
    # the bucket is emptied before it is deleted
    assert calls.index(("DELETE", f"{BUCKET}/o/0123456789abcdef.zip")) < \
        calls.index(("DELETE", BUCKET))
    # the list asked the server for labelled services only
    (query,) = [q for m, p, q in api.requests if p.endswith(f"namespaces/{P}/services")]
    assert query["labelSelector"] == ["bakeoff-campaign"]


def test_a_failed_deletion_operation_is_reported_and_the_sweep_goes_on():
    with RecordedApi(_routes()) as api:
        failed = {**_op(True), "error": {"code": 9, "message": "service is in use"}}
        failed.pop("response")
        api.routes = Sequenced(api.routes, {api._key(f"GET /v2/{OP}"): [_op(False), failed],
                                            api._key(f"GET {BUCKET}/o"): [
                                                {"kind": "storage#objects"}]})
        report = collect(_inventory(api), now=NOW, known_campaigns={"c-old", "c-live"},
                         delete=True)
    errors = {item.name: err for item, err in report.errors}
    assert "service is in use" in errors["bko-fngcp-fn"]
    assert any(i.name == "bko-fngcp-src-1a2b3c4d" for i in report.deleted)


def test_an_object_name_with_a_slash_is_one_encoded_path_segment():
    """Planted: `o/{name}` unencoded sends DELETE .../o/builds/src.zip, which the JSON API
    reads as another path (404 here as there) and the bucket is never emptied."""
    with RecordedApi(_routes()) as api:
        api.routes[api._key(f"GET {BUCKET}/o")] = {"kind": "storage#objects", "items": [
            {"kind": "storage#object", "name": "builds/src 1.zip", "bucket": BUCKET[12:]}]}
        api.routes[api._key(f"DELETE {BUCKET}/o/builds%2Fsrc%201.zip")] = [204, None]
        api.routes = Sequenced(api.routes, {
            api._key(f"GET /v2/{OP}"): [_op(True)],
            api._key(f"GET {BUCKET}/o"): [api.routes[api._key(f"GET {BUCKET}/o")],
                                          {"kind": "storage#objects"}]})
        report = collect(_inventory(api), now=NOW, known_campaigns={"c-old", "c-live"},
                         delete=True)
    assert not report.errors, report.errors
    assert ("DELETE", f"{BUCKET}/o/builds%2Fsrc%201.zip") in [(m, p) for m, p, _ in api.requests]


def test_a_project_without_cloud_run_is_swept_as_before():
    """Planted: the Run API's 403 SERVICE_DISABLED (a VM-only project never enables it)
    raised out of the listing and stopped the whole GCP sweep."""
    disabled = [403, {"error": {
        "code": 403, "status": "PERMISSION_DENIED",
        "message": "Cloud Run Admin API has not been used in project 123456789012 before or "
                   "it is disabled. Enable it by visiting https://console.developers.google"
                   ".com/apis/api/run.googleapis.com/overview?project=123456789012",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                     "reason": "SERVICE_DISABLED", "domain": "googleapis.com",
                     "metadata": {"service": "run.googleapis.com",
                                  "consumer": "projects/123456789012"}}]}}]
    routes = load("gcp.json")
    routes[f"GET /apis/serving.knative.dev/v1/namespaces/{P}/services"] = disabled
    with RecordedApi(routes) as api:
        report = collect(_inventory(api), now=NOW, known_campaigns={"c-live"})
    kinds = {v.item.kind for v in report.verdicts}
    assert "cloud-run-service" not in kinds
    assert {"instance", "network"} <= kinds  # the rest of the project was listed


def test_another_403_still_fails_the_listing():
    routes = load("gcp.json")
    routes[f"GET /apis/serving.knative.dev/v1/namespaces/{P}/services"] = [403, {"error": {
        "code": 403, "status": "PERMISSION_DENIED", "message": "caller lacks run.services.list",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                     "reason": "IAM_PERMISSION_DENIED", "domain": "run.googleapis.com"}]}}]
    with RecordedApi(routes) as api, pytest.raises(requests.HTTPError, match="403"):
        collect(_inventory(api), now=NOW, known_campaigns={"c-live"})
