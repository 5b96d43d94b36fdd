"""gc for Azure and GCP: the real SDK clients against a local server of canned responses.

The responses (tests/cloud/recorded/) follow the shapes the ARM, Compute and SQL Admin
REST APIs document; an account holds an expired campaign, a live one, a campaign without a
journal entry, and resources that are not bakeoff's (untagged or half-tagged).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy
from google.auth.credentials import AnonymousCredentials

from stacks.cloud.gc_azure import AzureInventory
from stacks.cloud.gc_common import Leftover, collect, judge, parse_expiry
from stacks.cloud.gc_gcp import GcpInventory
from tests.cloud.recorded_api import RecordedApi, load

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SUB = "00000000-0000-0000-0000-0000000000aa"
JOURNAL = {"c-live", "c-old"}  # c-ghost has no journal entry


class _Token:
    def get_token(self, *scopes, **kw):
        return AccessToken("test-token", 2**31)


@pytest.fixture
def azure():
    with RecordedApi(load("azure.json")) as api:
        inv = AzureInventory(SUB, credential=_Token(), base_url=api.url,
                             authentication_policy=SansIOHTTPPolicy())
        yield api, inv


@pytest.fixture
def gcp():
    with RecordedApi(load("gcp.json")) as api:
        inv = GcpInventory("bko-test", credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": api.url},
                           sql_session=requests.Session(), sql_base_url=api.url)
        yield api, inv


def _names(report, action="delete"):
    return {v.item.name for v in report.verdicts if v.action == action}


def test_azure_dry_run_lists_but_deletes_nothing(azure):
    api, inv = azure
    report = collect(inv, now=NOW, known_campaigns=JOURNAL)
    assert report.dry_run and not report.deleted
    assert _names(report) == {"bko-web-rg1a2b3c", "bko-db-rg7a8b9c", "bko-web-client9z",
                              "bko-web-client-data9z", "bko-web-client-ip9z"}
    assert "bko-web-rg4d5e6f" in _names(report, "keep")
    assert api.calls("DELETE") == []


def test_azure_delete_removes_expired_and_unjournaled_only(azure):
    api, inv = azure
    report = collect(inv, now=NOW, known_campaigns=JOURNAL, delete=True)
    assert not report.errors
    deleted = [p.rsplit("/", 1)[-1] for p in api.calls("DELETE")]
    assert set(deleted) == _names(report)
    # Live campaign, the untagged group and the half-tagged disk are never touched.
    assert not {"bko-web-rg4d5e6f", "prod-rg", "half-tagged-disk"} & set(deleted)
    assert deleted.index("bko-web-client9z") < deleted.index("bko-web-client-data9z")
    # A generic delete uses the newest stable API version the provider lists.
    (_, _, query), = [r for r in api.requests if r[1].endswith("bko-web-client-ip9z")]
    assert query["api-version"] == ["2024-07-01"]
    why = {v.item.name: v.reason for v in report.verdicts}
    assert "expired" in why["bko-web-rg1a2b3c"]
    assert "no journal entry" in why["bko-db-rg7a8b9c"]


def test_azure_unjournaled_but_young_or_no_journal_kept(azure):
    _, inv = azure
    # The ghost group's oldest resource is 7h old: a 10h threshold keeps it.
    report = collect(inv, now=NOW, known_campaigns=JOURNAL, older_than=timedelta(hours=10))
    assert "bko-db-rg7a8b9c" in _names(report, "keep")
    report = collect(inv, now=NOW, known_campaigns=None)
    assert "bko-db-rg7a8b9c" in _names(report, "keep")
    assert "bko-web-rg1a2b3c" in _names(report)


def test_gcp_dry_run_lists_but_deletes_nothing(gcp):
    api, inv = gcp
    report = collect(inv, now=NOW, known_campaigns=JOURNAL)
    assert _names(report) == {
        "bko-web-sql-1a2b", "bko-web-server-1a2b", "bko-ghost-server-5e6f",
        "bko-web-server-data-1a2b", "bko-web-server-ip-1a2b", "bko-web-sql-range-1a2b",
        "bko-web-ssh-1a2b", "bko-web-subnet-1a2b", "bko-web-net-1a2b"}
    # The project's own network, subnet and firewall are not even listed.
    listed = {v.item.name for v in report.verdicts}
    assert not {"default", "default-allow-ssh"} & listed
    assert {"bko-live-server-3c4d", "bko-live-sql-3c4d", "bko-live-ssh-3c4d"} <= _names(
        report, "keep")
    assert [m for m, _, _ in api.requests if m != "GET"] == []


def test_gcp_delete_in_dependency_order(gcp):
    api, inv = gcp
    report = collect(inv, now=NOW, known_campaigns=JOURNAL, delete=True)
    assert not report.errors, report.errors
    touched = [(m, p) for m, p, _ in api.requests if m != "GET"]
    paths = [p for _, p in touched]
    deleted = [p.rsplit("/", 1)[-1] for m, p in touched if m == "DELETE"]
    assert set(deleted) == _names(report)
    assert not [p for p in paths if "live" in p or p.endswith("/default")]
    order = [next(i for i, p in enumerate(paths) if key in p) for key in (
        "/instances/bko-web-sql", "/instances/bko-web-server-1a2b", "/disks/", "/firewalls/",
        "/subnetworks/", "removePeering", "/networks/bko-web-net-1a2b")]
    assert order == sorted(order)
    assert paths[-1].endswith("/global/networks/bko-web-net-1a2b")


def test_gcp_label_expiry_parses_and_failures_do_not_stop_the_sweep(gcp):
    api, inv = gcp
    assert parse_expiry("2026-11-27t14-00-00-00-00") == datetime(2026, 11, 27, 14, tzinfo=UTC)
    # The address answer is lost: that one fails, everything after it is still deleted.
    del api.routes["DELETE /compute/v1/projects/bko-test/regions/europe-west1/addresses/"
                   "bko-web-server-ip-1a2b"]
    report = collect(inv, now=NOW, known_campaigns=JOURNAL, delete=True)
    assert [e[0].name for e in report.errors] == ["bko-web-server-ip-1a2b"]
    assert "bko-web-net-1a2b" in {i.name for i in report.deleted}


def test_judge_never_touches_what_is_not_fully_tagged():
    bare = Leftover("gcp", "disk", "d", "d", {"owner": "ana"})
    half = Leftover("gcp", "disk", "d", "d", {"bakeoff-campaign": "c-old"},
                    created_at=NOW - timedelta(days=30))
    for item in (bare, half):
        assert judge(item, NOW, set(), timedelta(0)).action == "keep"


# -- real-format campaign ids (name, UTC stamp with T and Z, random suffix) -------------

REAL_LIVE = "poc-web-db-20261127T143000Z-3c4d5e"  # what new_campaign_id writes


def _gcp_with_real_live_id() -> dict:
    """gcp.json with c-live's resources as the GCP program tags a real id: labels in
    GCP's lowercase label form, descriptions (networks, firewalls) with the id as written."""
    import json

    from stacks.cloud.spec import gcp_label_value

    text = json.dumps(load("gcp.json"))
    text = text.replace('"bakeoff-campaign": "c-live"',
                        f'"bakeoff-campaign": "{gcp_label_value(REAL_LIVE)}"')
    text = text.replace("bakeoff-campaign=c-live", f"bakeoff-campaign={REAL_LIVE}")
    assert REAL_LIVE.lower() in text and REAL_LIVE in text
    return json.loads(text)


def test_gcp_journaled_campaign_with_a_real_id_is_never_deleted():
    """Labels hold the id lowercased; the journal holds it as written (T, Z). An hour and a
    half after creation, before its expiry, the live campaign's resources must be kept."""
    later = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # created 14:30 UTC, expires 18:00
    with RecordedApi(_gcp_with_real_live_id()) as api:
        inv = GcpInventory("bko-test", credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": api.url},
                           sql_session=requests.Session(), sql_base_url=api.url)
        report = collect(inv, now=later, known_campaigns={REAL_LIVE, "c-old"}, delete=True)
        assert {"bko-live-server-3c4d", "bko-live-sql-3c4d", "bko-live-ssh-3c4d"} <= _names(
            report, "keep")
        assert not [p for m, p, _ in api.requests if m != "GET" and "live" in p]
        assert "bko-ghost-server-5e6f" in _names(report)  # unjournaled and old: still goes


def test_a_campaign_whose_owner_is_alive_is_kept_even_when_expired():
    expired = {"bakeoff-campaign": gcp_form(REAL_LIVE),
               "bakeoff-expires-at": "2026-11-27t14-00-00-00-00"}
    item = Leftover("gcp", "disk", "d", "d", expired)
    assert judge(item, NOW, {REAL_LIVE}).action == "delete"  # dead owner: expiry rules
    kept = judge(item, NOW, {REAL_LIVE}, live_campaigns={REAL_LIVE},
                 key=GcpInventory.campaign_key)
    assert kept.action == "keep" and "owner alive" in kept.reason
    aws = Leftover("aws", "instance", "i-1", "i-1", dict(expired, **{
        "bakeoff-campaign": REAL_LIVE}))
    assert judge(aws, NOW, set(), live_campaigns={REAL_LIVE}).action == "keep"


def gcp_form(campaign_id: str) -> str:
    """GCP's label rule written out by hand: lowercase; ':' and '+' are not allowed."""
    return campaign_id.lower()
