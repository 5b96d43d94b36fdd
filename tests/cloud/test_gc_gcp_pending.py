"""GCP gc awaits an instance's deletion before deleting its data disk (issue 24).

Compute Engine answers a DELETE with an operation that is PENDING, then RUNNING, then
DONE (https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#handling_api_responses);
a disk still attached to an instance that is being deleted cannot be deleted. The recorded
answers in tests/cloud/recorded/gcp.json are all DONE at once, so a gc that never waited
passed. Here the instance deletions answer PENDING and their operation is polled through
the real google-cloud-compute client: PENDING, RUNNING, DONE.
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

from stacks.cloud.gc_common import collect
from stacks.cloud.gc_gcp import GcpInventory
from tests.cloud.recorded_api import RecordedApi, load

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
ZONE = "/compute/v1/projects/bko-test/zones/europe-west1-b"
INSTANCES = ("bko-web-server-1a2b", "bko-ghost-server-5e6f")


def _op(name: str, status: str) -> dict:
    """A zonal compute#operation in the documented shape."""
    return {"kind": "compute#operation", "id": "7001", "name": name, "zone":
            "https://www.googleapis.com/compute/v1/projects/bko-test/zones/europe-west1-b",
            "operationType": "delete", "status": status,
            "progress": {"PENDING": 0, "RUNNING": 40, "DONE": 100}[status],
            "targetLink": "https://www.googleapis.com/compute/v1/projects/bko-test/zones/"
                          f"europe-west1-b/instances/{name.removeprefix('op-')}",
            "selfLink": f"https://www.googleapis.com/compute/v1/projects/bko-test/zones/"
                        f"europe-west1-b/operations/{name}"}


class Sequenced(dict):
    """Routes where some keys answer a different recorded body on each request (the last
    one repeats): an operation that moves on while it is polled."""

    def __init__(self, routes: dict, sequences: dict[str, list]):
        super().__init__(routes)
        self.sequences = {k: list(v) for k, v in sequences.items()}

    def get(self, key, default=None):
        seq = self.sequences.get(key)
        if seq:
            return seq.pop(0) if len(seq) > 1 else seq[0]
        return super().get(key, default)


def test_gcp_gc_waits_for_the_instance_deletion_before_the_disk():
    with RecordedApi(load("gcp.json")) as api:
        sequences = {}
        for name in INSTANCES:
            api.routes[api._key(f"DELETE {ZONE}/instances/{name}")] = _op(f"op-{name}",
                                                                           "PENDING")
            sequences[api._key(f"GET {ZONE}/operations/op-{name}")] = [
                _op(f"op-{name}", s) for s in ("PENDING", "RUNNING", "DONE")]
        api.routes = Sequenced(api.routes, sequences)
        inv = GcpInventory("bko-test", credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": api.url},
                           sql_session=requests.Session(), sql_base_url=api.url)
        # google-cloud-compute builds the client that polls zonal operations without the
        # instances client's options, so it would poll compute.googleapis.com (the
        # loopback guard refuses). Hand it one pointed at the recorded API; bakeoff's
        # own code still calls .result() on the operation exactly as in production.
        inv.instances._transport._extended_operations_services["zone_operations"] = (
            compute_v1.ZoneOperationsClient(credentials=AnonymousCredentials(),
                                            client_options={"api_endpoint": api.url}))
        report = collect(inv, now=NOW, known_campaigns={"c-live", "c-old"}, delete=True)
    assert not report.errors, report.errors
    calls = [(m, p) for m, p, _ in api.requests]
    disk = calls.index(("DELETE", f"{ZONE}/disks/bko-web-server-data-1a2b"))
    for name in INSTANCES:
        polls = [i for i, c in enumerate(calls) if c == ("GET", f"{ZONE}/operations/op-{name}")]
        # PENDING (the DELETE's answer) -> polled PENDING, RUNNING, DONE: three polls at
        # least, and the data disk only after the last one
        assert len(polls) >= 3, calls
        assert polls[-1] < disk, calls
