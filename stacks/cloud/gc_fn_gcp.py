"""GCP function leftovers for `bakeoff gc`: Cloud Run services and their source buckets.

A function site (stacks/cloud/fn_gcp.py) adds, with the site's labels, a Cloud Run service
and the bucket its source zip is uploaded to. Both are found by the `bakeoff-campaign`
label through the REST APIs with the inventory's authorised session (no extra client
library):

- services: Cloud Run's v1 (Knative) list on the global endpoint, which spans every region
  (`GET /apis/serving.knative.dev/v1/namespaces/{project}/services?labelSelector=...`,
  https://cloud.google.com/run/docs/reference/rest/v1/namespaces.services/list; the v2
  list takes one region and no '-' wildcard); the region is the service's
  `cloud.googleapis.com/location` label. Deleted with v2 (`DELETE /v2/projects/{p}/
  locations/{l}/services/{name}`), which answers a long-running Operation that is polled
  until `done` (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.
  services/delete): a service with Direct VPC egress holds addresses in the site's
  subnetwork until it is gone, so the network part of the sweep must come after.
- buckets: the JSON API's bucket list (labels in each item); a bucket is emptied (its
  objects deleted) before it is deleted.

An API the project has not enabled (403, reason SERVICE_DISABLED) holds nothing, so its
list is empty: a project that only ever ran VM sites is swept as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from stacks.cloud.gc_common import Leftover
from stacks.cloud.spec import TAG_CAMPAIGN

RUN_API = "https://run.googleapis.com"
STORAGE_API = "https://storage.googleapis.com"
LOCATION_LABEL = "cloud.googleapis.com/location"
OP_WAIT_S = 600.0
OP_POLL_S = 2.0


def _when(stamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


def _json(resp: Any) -> dict[str, Any]:
    resp.raise_for_status()
    return resp.json() if resp.content else {}


def _disabled(resp: Any) -> bool:
    """403 with reason SERVICE_DISABLED (google.rpc.ErrorInfo): the API is off in this
    project, so it holds nothing to sweep (a VM-only project never enables Cloud Run)."""
    if resp.status_code != 403:
        return False
    try:
        details = (resp.json().get("error") or {}).get("details") or []
    except ValueError:
        return False
    return any(isinstance(d, dict) and d.get("reason") == "SERVICE_DISABLED" for d in details)


def cloud_run_leftovers(session: Any, base: str, project: str) -> Iterator[Leftover]:
    url = f"{base.rstrip('/')}/apis/serving.knative.dev/v1/namespaces/{project}/services"
    token = None
    while True:
        params = {"labelSelector": TAG_CAMPAIGN, **({"continue": token} if token else {})}
        resp = session.get(url, params=params, timeout=60)
        if _disabled(resp):
            return
        body = _json(resp)
        for svc in body.get("items", []):
            meta = svc.get("metadata", {})
            labels = dict(meta.get("labels") or {})
            if TAG_CAMPAIGN in labels:  # the selector is the server's; judged here too
                yield Leftover("gcp", "cloud-run-service", meta["name"], meta["name"], labels,
                               labels.get(LOCATION_LABEL, ""),
                               _when(meta.get("creationTimestamp")))
        token = (body.get("metadata") or {}).get("continue")
        if not token:
            return


def delete_cloud_run(session: Any, base: str, project: str, location: str, name: str,
                     wait_s: float = OP_WAIT_S, poll_s: float = OP_POLL_S) -> None:
    """Delete the service and wait for its Operation; the Operation's error is raised."""
    if not location:
        raise ValueError(f"Cloud Run service {name} carries no {LOCATION_LABEL} label")
    base = base.rstrip("/")
    op = _json(session.delete(
        f"{base}/v2/projects/{project}/locations/{location}/services/{name}", timeout=60))
    deadline = time.monotonic() + wait_s
    while not op.get("done"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Cloud Run service {name}: deletion {op.get('name')} not "
                               f"done within {wait_s:.0f}s; the next gc sweep goes on")
        time.sleep(poll_s)
        op = _json(session.get(f"{base}/v2/{op['name']}", timeout=60))
    if op.get("error"):
        err = op["error"]
        raise RuntimeError(f"Cloud Run service {name}: deletion failed: "
                           f"{err.get('code')} {err.get('message')}")


def bucket_leftovers(session: Any, base: str, project: str) -> Iterator[Leftover]:
    url = f"{base.rstrip('/')}/storage/v1/b"
    token = None
    while True:
        params = {"project": project, **({"pageToken": token} if token else {})}
        resp = session.get(url, params=params, timeout=60)
        if _disabled(resp):
            return
        body = _json(resp)
        for b in body.get("items", []):
            labels = dict(b.get("labels") or {})
            if TAG_CAMPAIGN in labels:
                yield Leftover("gcp", "bucket", b["name"], b["name"], labels,
                               str(b.get("location", "")).lower(), _when(b.get("timeCreated")))
        token = body.get("nextPageToken")
        if not token:
            return


def delete_bucket(session: Any, base: str, name: str) -> None:
    """Delete every object (all pages), then the bucket. An object name is one path
    segment of the JSON API's URL, so it is percent-encoded ('a/b.zip' -> 'a%2Fb.zip':
    https://cloud.google.com/storage/docs/request-endpoints#encoding)."""
    url = f"{base.rstrip('/')}/storage/v1/b/{name}"
    while True:
        objects = _json(session.get(f"{url}/o", timeout=60)).get("items", [])
        if not objects:
            break
        for obj in objects:
            _json(session.delete(f"{url}/o/{quote(obj['name'], safe='')}", timeout=60))
    _json(session.delete(url, timeout=60))
