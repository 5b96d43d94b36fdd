"""The Lambda, Flex Consumption and Cloud Run programs under Pulumi mocks, judged by the
provider rules: what each declares on top of the VM site, names within each platform's
rules for short and long site names, and a planted bad name refused."""

from __future__ import annotations

import re

import pytest

from bench.scenarios import load_campaign_file
from stacks.cloud import rules
from stacks.cloud.preview import preview_program
from stacks.cloud.resolve import sample_spec
from tests.conftest import REPO

CAMPAIGN = load_campaign_file(REPO / "scenarios" / "serverless.yaml")
SITES = {s.provider: s for s in CAMPAIGN.sites}
LONG = "a-very-long-site-name-for-functions-0123"  # 40: the longest a site name may be


def _declare(provider: str, name: str | None = None, **serverless):
    site = SITES[provider]
    if name:
        site = site.model_copy(update={"name": name})
    if serverless:
        site = site.model_copy(update={"serverless": site.serverless.model_copy(
            update=serverless)})
    spec = sample_spec(site, CAMPAIGN)
    return spec, preview_program(spec)


def _one(preview, token):
    found = [r for r in preview.resources if r.type == token]
    assert len(found) == 1, [r.type for r in preview.resources]
    return found[0]


@pytest.mark.parametrize("name", [None, LONG, "x", "a--b-"])
@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_function_programs_pass_the_provider_rules(provider, name):
    spec, preview = _declare(provider, name)
    assert rules.violations(spec, preview.resources) == []
    out = preview.outputs["function"]
    assert out["provider"] == provider and out["functions"] == ["checkout", "hello"]
    assert out["cold_force"]["method"] and len(out["package_sha256"]) == 64
    # the VM site is still all there (the function builds on it, never instead of it)
    assert {"hosts", "database", "network", "region"} <= set(preview.outputs)


def test_lambda_in_the_sites_private_subnets_with_its_own_group():
    _spec, p = _declare("aws", LONG)
    fn = _one(p, "aws:lambda/function:Function")
    props = fn.properties
    # rule by hand: Lambda names 1..64 of [a-zA-Z0-9-_]
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", props["name"]) and len(props["name"]) <= 64
    assert props["memorySize"] == 1024 and props["handler"] == "lambda_function.handler"
    assert props["runtime"] == "python3.12" and props["tags"]["bakeoff-site"] == LONG
    subnets = [r for r in p.resources if r.type == "aws:ec2/subnet:Subnet"
               and r.name.endswith(("fn-subnet-0", "fn-subnet-1"))]
    assert sorted(s.properties["cidrBlock"] for s in subnets) == ["10.42.2.0/24",
                                                                  "10.42.3.0/24"]
    assert not any(s.properties["mapPublicIpOnLaunch"] for s in subnets)
    vpc = props["vpcConfig"]
    assert len(vpc["subnetIds"]) == 2 and len(vpc["securityGroupIds"]) == 1
    policies = {r.properties["policyArn"] for r in p.resources
                if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"}
    assert any(a.endswith("AWSLambdaVPCAccessExecutionRole") for a in policies)
    url = _one(p, "aws:lambda/functionUrl:FunctionUrl")
    assert url.properties["authorizationType"] == "NONE"


def test_hello_without_vpc_declares_no_function_subnets():
    site = SITES["aws"].model_copy(update={"serverless": SITES["aws"].serverless.model_copy(
        update={"function": "hello", "vpc": False})})
    p = preview_program(sample_spec(site, CAMPAIGN))
    fn = _one(p, "aws:lambda/function:Function")
    assert fn.properties.get("vpcConfig") is None
    assert not [r for r in p.resources if r.name.endswith("fn-sg")]


def test_flex_consumption_app_with_vnet_integration():
    _spec, p = _declare("azure", LONG)
    app = _one(p, "azure-native:web:WebApp")
    cfg = app.properties["functionAppConfig"]
    assert cfg["scaleAndConcurrency"]["instanceMemoryMB"] == 2048
    assert cfg["runtime"] == {"name": "python", "version": "3.12"}
    assert app.properties["kind"] == "functionapp,linux"
    # rule by hand: 2..60, alphanumerics and '-', no '-' at either end, global (8 hex)
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,58}[a-z0-9]", app.properties["name"])
    plan = _one(p, "azure-native:web:AppServicePlan")
    assert plan.properties["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    account = _one(p, "azure-native:storage:StorageAccount")
    assert re.fullmatch(r"[a-z0-9]{3,24}", account.properties["accountName"])
    subnet = next(r for r in p.resources if r.name.endswith("fn-subnet"))
    assert subnet.properties["delegations"][0]["serviceName"] == "Microsoft.App/environments"
    assert subnet.properties["addressPrefix"] == "10.42.2.0/24"
    assert app.properties["tags"]["bakeoff-site"] == LONG


def test_cloud_run_scales_to_zero_with_direct_vpc_egress():
    _spec, p = _declare("gcp", LONG)
    svc = _one(p, "gcp:cloudrunv2/service:Service")
    t = rules.unwrap_secrets(svc.properties["template"])  # the env (conninfo) is a secret
    assert t["scaling"]["minInstanceCount"] == 0
    assert t["vpcAccess"]["egress"] == "PRIVATE_RANGES_ONLY"
    assert t["containers"][0]["resources"]["limits"]["memory"] == "1024Mi"
    # rule by hand: fewer than 50 characters, [a-z]([-a-z0-9]*[a-z0-9])?
    assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", svc.properties["name"])
    assert len(svc.properties["name"]) <= 49
    assert svc.properties["labels"]["bakeoff-site"] == LONG
    invoker = _one(p, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert invoker.properties["role"] == "roles/run.invoker"


def test_required_services_are_listed():
    _, p = _declare("gcp")
    assert {"run.googleapis.com", "cloudbuild.googleapis.com",
            "artifactregistry.googleapis.com"} <= set(rules.required_services("gcp", p.resources))
    _, p = _declare("azure")
    assert {"Microsoft.Web", "Microsoft.Storage", "Microsoft.App"} <= set(
        rules.required_services("azure", p.resources))


@pytest.mark.parametrize("provider,token,prop,bad", [
    ("aws", "aws:lambda/function:Function", "name", "bko-" + "x" * 61),  # 65 characters
    ("aws", "aws:lambda/function:Function", "name", "bko.fn"),
    ("azure", "azure-native:web:WebApp", "name", "bko-fn-"),
    ("azure", "azure-native:storage:StorageAccount", "accountName", "Bko-Storage"),
    ("gcp", "gcp:cloudrunv2/service:Service", "name", "bko-" + "y" * 46),  # 50 characters
    ("gcp", "gcp:cloudrunv2/service:Service", "name", "9bko-fn"),
])
def test_a_planted_bad_name_is_refused(provider, token, prop, bad):
    spec, p = _declare(provider)
    planted = [rules.Resource(r.type, r.name, {**r.properties, prop: bad})
               if r.type == token else r for r in p.resources]
    found = rules.violations(spec, planted)
    assert [v.resource for v in found] == [next(r.name for r in p.resources if r.type == token)]
    assert found[0].property == prop and found[0].value == bad


@pytest.mark.parametrize("provider,memory", [("aws", 10_241), ("gcp", 256), ("azure", 1024)])
def test_memory_off_the_platform_is_a_scenario_error(provider, memory):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"serverless\.memory_mb"):
        type(SITES[provider]).model_validate(
            {**SITES[provider].model_dump(exclude_none=True),
             "serverless": {"function": "checkout", "memory_mb": memory}})


# --- the downstream API on the server VM -----------------------------------------------

PORT = 8099  # the downstream API's port (docs/serverless.md), stated here independently


def _admitting(preview, port: int) -> list[tuple[str, list[str], bool]]:
    """Every inbound allow rule that admits TCP `port`: (rule, sources, names the port)."""
    out = []
    for r in preview.resources:
        if r.type == "aws:ec2/securityGroup:SecurityGroup":
            for rule in r.properties.get("ingress", []):
                lo, hi = rule.get("fromPort", 0), rule.get("toPort", 0)
                if rule["protocol"] == "-1" or (rule["protocol"] == "tcp" and lo <= port <= hi):
                    out.append((r.name, rule.get("cidrBlocks", []),
                                rule["protocol"] == "tcp" and lo == hi == port))
        elif r.type == "azure-native:network:NetworkSecurityGroup":
            for rule in r.properties["securityRules"]:
                if (rule["access"], rule["direction"]) == ("Allow", "Inbound") and \
                        rule["protocol"] in ("*", "Tcp") and \
                        rule["destinationPortRange"] in ("*", str(port)):
                    out.append((rule["name"], [rule["sourceAddressPrefix"]],
                                rule["destinationPortRange"] == str(port)))
        elif r.type == "gcp:compute/firewall:Firewall":
            for allow in r.properties["allows"]:
                ports = allow.get("ports")
                if allow["protocol"] == "tcp" and (not ports or str(port) in ports):
                    out.append((r.name, r.properties["sourceRanges"], bool(ports)))
    return out


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_the_downstream_port_is_open_from_the_vpc_only(provider):
    import ipaddress

    spec, p = _declare(provider)
    vpc = ipaddress.ip_network(spec.network_cidr)
    admitting = _admitting(p, PORT)
    # its own rule, naming the port, exists (not only the catch-all between site hosts)
    assert [sources for _, sources, named in admitting if named] == [[spec.network_cidr]]
    for name, sources, _ in admitting:  # and nothing admits it from beyond the VPC
        for src in sources:
            assert src not in ("0.0.0.0/0", "Internet", "*"), (name, src)
            assert ipaddress.ip_network(src).subnet_of(vpc), (name, src)
    # the function is told the server VM's private address on that port
    server_ip = p.outputs["hosts"]["server"]["private_ip"]
    assert ipaddress.ip_address(server_ip) in vpc
    envs = [rules.unwrap_secrets(r.properties) for r in p.resources if r.type in (
        "aws:lambda/function:Function", "azure-native:web:WebApp",
        "gcp:cloudrunv2/service:Service")]
    assert f"http://{server_ip}:{PORT}" in repr(envs)


def test_a_vm_site_without_a_function_opens_no_downstream_port():
    site = SITES["aws"].model_copy(update={"serverless": None})
    p = preview_program(sample_spec(site, CAMPAIGN))
    assert not [a for a in _admitting(p, PORT) if a[2]]
