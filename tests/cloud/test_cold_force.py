"""Cold forcing on clouds: a new configuration version per sample, per provider.

AWS: boto3 against a moto server on loopback (a real Lambda API surface: the function is
created from the real package zip). Azure and GCP: fake transports replaying recorded
responses in the APIs' shapes (tests/cloud/recorded/), checking the exact requests."""

from __future__ import annotations

import copy
import json
import socket

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bench.serverless.cold_force import (
    SETTING,
    CloudRunForcer,
    ColdForceError,
    FunctionsForcer,
    LambdaForcer,
    forcer_for,
)
from bench.serverless.probe import measure
from stacks.cloud import fn_package as pkg
from tests.conftest import REPO

RECORDED = REPO / "tests" / "cloud" / "recorded"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lambda_client(monkeypatch):
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield (boto3.client("lambda", region_name="us-east-1", endpoint_url=endpoint),
               boto3.client("iam", region_name="us-east-1", endpoint_url=endpoint))
    finally:
        server.stop()


def test_lambda_new_configuration_per_sample_keeps_the_environment(lambda_client, tmp_path):
    lam, iam = lambda_client
    role = iam.create_role(RoleName="bko-fn-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service":
                                                              "lambda.amazonaws.com"}}]}))
    zipped = pkg.build("aws", "hello", tmp_path).path.read_bytes()  # the real package
    lam.create_function(FunctionName="bko-lambda-fn", Runtime="python3.12",
                        Role=role["Role"]["Arn"], Handler="lambda_function.handler",
                        Code={"ZipFile": zipped}, MemorySize=1024,
                        Environment={"Variables": {"BAKEOFF_FUNCTION": "checkout",
                                                   "BAKEOFF_POOL_SIZE": "2"}})
    forcer = LambdaForcer(lam, poll_s=0.05, timeout_s=30)
    target = {"function_name": "bko-lambda-fn", "region": "us-east-1"}
    first = forcer.force(target, "v1")
    second = forcer.force(target, "v2")
    cfg = lam.get_function_configuration(FunctionName="bko-lambda-fn")
    assert cfg["Environment"]["Variables"] == {"BAKEOFF_FUNCTION": "checkout",
                                               "BAKEOFF_POOL_SIZE": "2", SETTING: "v2"}
    assert first["method"] == second["method"] == "lambda-update-function-configuration"
    assert (first["version"], second["version"]) == ("v1", "v2")
    assert first["status"] == second["status"] == "Successful"
    # (moto answers no RevisionId; a live Lambda gives one per update, recorded when present)


def test_lambda_unknown_function_is_an_error(lambda_client):
    lam, _ = lambda_client
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        LambdaForcer(lam).force({"function_name": "nope", "region": "us-east-1"}, "v1")


class Replay:
    """A transport answering from recorded documents; keeps every request."""

    def __init__(self, answers):
        self.answers = answers  # list of (method, url-substring, status, body or callable)
        self.requests: list[tuple[str, str, dict | None]] = []

    def __call__(self, method, url, body):
        self.requests.append((method, url, copy.deepcopy(body)))
        for i, (m, part, status, answer) in enumerate(self.answers):
            if m == method and part in url:
                del self.answers[i]
                return status, answer(body) if callable(answer) else copy.deepcopy(answer)
        raise AssertionError(f"unexpected request {method} {url}")


def test_functions_app_setting_put_keeps_every_other_setting():
    doc = json.loads((RECORDED / "functions-appsettings.json").read_text())
    listed = doc["list"]

    def echo(body):  # the PUT answers with the settings as stored
        return {**listed, "properties": body["properties"]}

    replay = Replay([("POST", "/config/appsettings/list?api-version=2024-04-01", 200, listed),
                     ("PUT", "/config/appsettings?api-version=2024-04-01", 200, echo)])
    target = {"resource_group": "bko-functions-rg", "app_name": "bko-functions-fn-1a2b3c4d",
              "setting": SETTING}
    done = FunctionsForcer(replay, "00000000-1111-2222-3333-444444444444").force(target, "v7")
    assert done == {"method": "functions-app-setting", "version": "v7", "setting": SETTING}
    (m1, url1, _), (m2, url2, body) = replay.requests
    assert (m1, m2) == ("POST", "PUT") and url2.startswith(url1.split("/config/")[0])
    assert url1.startswith("https://management.azure.com/subscriptions/00000000-1111-2222-"
                           "3333-444444444444/resourceGroups/bko-functions-rg/providers/"
                           "Microsoft.Web/sites/bko-functions-fn-1a2b3c4d/config/")
    # a PUT replaces all settings: every recorded one must be sent back
    assert body["properties"] == {**listed["properties"], SETTING: "v7"}


def test_functions_conflict_is_reported_with_the_apis_message():
    doc = json.loads((RECORDED / "functions-appsettings.json").read_text())
    replay = Replay([("POST", "/appsettings/list", 200, doc["list"]),
                     ("PUT", "/appsettings?", 409, doc["conflict"])])
    with pytest.raises(ColdForceError, match=r"HTTP 409: There was a conflict"):
        FunctionsForcer(replay, "sub").force({"resource_group": "rg", "app_name": "a"}, "v1")


def test_cloud_run_patch_makes_a_new_revision_and_polls_the_operation():
    doc = json.loads((RECORDED / "cloudrun-service.json").read_text())
    done = {**doc["operation_pending"], "done": True,
            "response": {**doc["service"], "latestReadyRevision": doc["new_revision"]}}
    replay = Replay([("GET", "/services/bko-cloud-run-fn", 200, doc["service"]),
                     ("PATCH", "/services/bko-cloud-run-fn?updateMask=template", 200,
                      doc["operation_pending"]),
                     ("GET", "/operations/6c1d7e2f", 200, doc["operation_pending"]),
                     ("GET", "/operations/6c1d7e2f", 200, done)])
    forcer = CloudRunForcer(replay, "bko-test", poll_s=0.01)
    out = forcer.force({"region": "us-central1", "service": "bko-cloud-run-fn",
                        "env": SETTING}, "v9")
    assert out == {"method": "cloud-run-new-revision", "version": "v9",
                   "revision": "bko-cloud-run-fn-00004-xyz"}
    method, url, body = replay.requests[1]
    assert method == "PATCH"
    assert url == ("https://run.googleapis.com/v2/projects/bko-test/locations/us-central1/"
                   "services/bko-cloud-run-fn?updateMask=template")
    container = body["template"]["containers"][0]
    assert container["image"] == doc["service"]["template"]["containers"][0]["image"]
    assert container["envs"] == [{"name": "BAKEOFF_FUNCTION", "value": "checkout"},
                                 {"name": "BAKEOFF_POOL_SIZE", "value": "2"},
                                 {"name": SETTING, "value": "v9"}]
    assert "revision" not in body["template"]  # Cloud Run names the new revision
    assert body["template"]["vpcAccess"] == doc["service"]["template"]["vpcAccess"]
    assert replay.requests[2][1].endswith("/v2/projects/bko-test/locations/us-central1/"
                                          "operations/6c1d7e2f-3a4b-4c5d-8e9f-0a1b2c3d4e5f")


def test_cloud_run_failed_revision_is_an_error():
    doc = json.loads((RECORDED / "cloudrun-service.json").read_text())
    replay = Replay([("GET", "/services/", 200, doc["service"]),
                     ("PATCH", "/services/", 200, doc["operation_failed"])])
    with pytest.raises(ColdForceError, match="failed to start and listen"):
        CloudRunForcer(replay, "bko-test").force({"region": "us-central1",
                                                 "service": "bko-cloud-run-fn"}, "v1")


def test_unknown_method_is_named():
    with pytest.raises(ColdForceError, match="no cold-start forcer for method 'sleep'"):
        forcer_for({"method": "sleep"})


class Recorder:
    """A forcer that records its calls (the probe's side of the contract)."""

    method = "test-forcer"

    def __init__(self):
        self.versions: list[str] = []

    def force(self, target, version):
        self.versions.append(version)
        return {"method": self.method, "version": version, "target": target["name"]}


def test_probe_forces_once_per_cold_sample_and_burst_and_records_it():
    """measure() against a closed loopback port: every request fails fast, which is fine:
    the check is that the forcer ran before each cold sample and the burst, with distinct
    versions, and that the raw output records what it did."""
    rec = Recorder()
    out = measure(f"http://127.0.0.1:{_free_port()}", "hello", samples=3, warm=1, burst_n=2,
                  mode="version", idle_s=0, timeout_s=2, forcer=rec, target={"name": "t"})
    assert len(rec.versions) == 4 and len(set(rec.versions)) == 4
    assert [f["version"] for f in out["forced"]] == rec.versions
    assert all(r["status"] == 0 for r in out["cold"])  # refused connections: failures
