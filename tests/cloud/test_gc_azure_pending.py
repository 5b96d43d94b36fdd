"""Azure gc awaits a VM's deletion before deleting its data disk (issue 24).

ARM answers a long-running DELETE with 202 Accepted and an `Azure-AsyncOperation` header;
the operation's status is polled until it leaves "InProgress" ("Succeeded")
(https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations).
A disk still attached to a VM being deleted cannot be deleted. The recorded VM DELETE in
tests/cloud/recorded/azure.json answers 200 at once, so a gc that never waited passed. Here
it answers 202 and its operation is polled by the real azure-mgmt-compute poller:
InProgress, InProgress, Succeeded; the disk must go only after the last poll.
"""

from __future__ import annotations

from datetime import UTC, datetime

from azure.core.pipeline.policies import SansIOHTTPPolicy

from stacks.cloud.gc_azure import AzureInventory
from stacks.cloud.gc_common import collect
from tests.cloud.recorded_api import RecordedApi, load
from tests.cloud.test_gc_azure_gcp import JOURNAL, SUB, _Token
from tests.cloud.test_gc_gcp_pending import Sequenced

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
RG = f"/subscriptions/{SUB}/resourceGroups/scratch-rg"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/bko-web-client9z"
DISK = f"{RG}/providers/Microsoft.Compute/disks/bko-web-client-data9z"
OP = f"/subscriptions/{SUB}/providers/Microsoft.Compute/locations/eastus/operations/op-vm-9z"


def _status(state: str) -> dict:
    """An Azure-AsyncOperation status body in the documented shape."""
    body = {"id": OP, "name": "op-vm-9z", "status": state,
            "startTime": "2026-11-27T15:00:01.000Z"}
    if state != "InProgress":
        body["endTime"] = "2026-11-27T15:01:12.000Z"
    return body


def test_azure_gc_waits_for_the_vm_deletion_before_the_disk():
    with RecordedApi(load("azure.json")) as api:
        headers = {"Azure-AsyncOperation": "{base}" + OP + "?api-version=2024-07-01",
                   "Location": "{base}" + OP + "?api-version=2024-07-01&monitor=true",
                   "Retry-After": "0"}
        api.routes[api._key(f"DELETE {VM}")] = [202, None, headers]
        api.routes = Sequenced(api.routes, {api._key(f"GET {OP}"): [
            _status("InProgress"), _status("InProgress"), _status("Succeeded")]})
        # polling_interval 0: the poller's wait between polls (30 s by default; a
        # Retry-After of 0 counts as none) is not the point here
        inv = AzureInventory(SUB, credential=_Token(), base_url=api.url,
                             authentication_policy=SansIOHTTPPolicy(), polling_interval=0)
        report = collect(inv, now=NOW, known_campaigns=JOURNAL, delete=True)
    assert not report.errors, report.errors
    calls = [(m, p) for m, p, _ in api.requests]
    polls = [i for i, c in enumerate(calls) if c == ("GET", OP)]
    disk = calls.index(("DELETE", DISK))
    # 202 -> polled InProgress, InProgress, Succeeded: three polls, the disk after the last
    assert len(polls) == 3, calls
    assert calls.index(("DELETE", VM)) < polls[0] and polls[-1] < disk, calls
