"""Provider rules (stacks/cloud/rules*.py): each refuses what its provider's API refuses,
and the three real programs pass them for the shipped scenarios, long site names and
every shipped instance family.

Violating values come from the providers' documentation (cited in the rule tables), not
from the rules themselves: e.g. the AWS description below is the one the AWS program
shipped with, which EC2 refuses ("'" is not in the allowed set).
"""

from __future__ import annotations

import csv
import importlib
import re
from dataclasses import replace

import pytest

from stacks.cloud import rules
from stacks.cloud.preview import preview_program
from stacks.cloud.spec import DiskSpec
from tests.cloud.program_contract import ADAPTERS, make_spec
from tests.conftest import REPO

A, Z, G = "aws", "azure", "gcp"
LONG = "a" * 16 + "-" + "b" * 23  # 40 characters: the longest site name a scenario allows

# (provider, type, property path, violating value, accepted value). The property path is
# the rule's; '@name' cases give the logical name (Pulumi appends its 8-character suffix).
CASES = [
    (A, "aws:ec2/securityGroup:SecurityGroup", "description", "the site's hosts",
     "the site hosts"),
    (A, "aws:ec2/securityGroup:SecurityGroup", "ingress[].description",
     "iperf3, ping, HTTP, PostgreSQL between the site's hosts", "SSH from the operator"),
    (A, "aws:ec2/securityGroup:SecurityGroup", "egress[].description", "to \"anywhere\"",
     "anywhere"),
    (A, "aws:ec2/securityGroup:SecurityGroup", "@name", "sg-web", "bko-web-sg"),
    (A, "*", "tags", {"owner": "ana<b>"}, {"owner": "ana@example.com"}),
    (A, "*", "tags", {"aws:owner": "x"}, {"owner": "x"}),
    (A, "aws:ec2/instance:Instance", "rootBlockDevice.tags", {"k": "v" * 257}, {"k": "v"}),
    (A, "aws:ec2/instance:Instance", "ebsBlockDevices[].tags", {"k" * 129: "v"}, {"k": "v"}),
    (A, "aws:ec2/instance:Instance", "ebsBlockDevices[]",
     {"volumeType": "gp3", "volumeSize": 10, "iops": 6000},  # 600 IOPS per GiB > 500
     {"volumeType": "gp3", "volumeSize": 100, "iops": 6000, "throughput": 250}),
    (A, "aws:ec2/instance:Instance", "userData", "x" * 16385, "x" * 16384),
    (A, "aws:ec2/keyPair:KeyPair", "@name", "clé", "bko-web-key"),
    (A, "aws:rds/instance:Instance", "@name", "bko-web--db", "bko-web-db"),
    (A, "aws:rds/instance:Instance", "dbName", "1bakeoff", "bakeoff"),
    (A, "aws:rds/instance:Instance", "username", "bake-off", "bakeoff"),
    (A, "aws:rds/instance:Instance", "password", "pass/word12", "pass-word12"),
    (A, "aws:rds/instance:Instance", "instanceClass", "m6i.large", "db.m6i.large"),
    (A, "aws:rds/subnetGroup:SubnetGroup", "@name", "bko-Web-dbsubnets", "bko-web-dbsubnets"),
    (Z, "*", "tags", {"a/b": "x"}, {"a-b": "x"}),
    (Z, "azure-native:resources:ResourceGroup", "@name", "bko-web rg", "bko-web-rg"),
    (Z, "azure-native:network:NetworkInterface", "@name", "bko-web-" + "n" * 80, "bko-web-nic"),
    (Z, "azure-native:network:VirtualNetwork", "@name", "bko-web-" + "v" * 60, "bko-web-vnet"),
    (Z, "azure-native:compute:Disk", "@name", "-bko-web-data", "bko-web-data"),
    (Z, "azure-native:compute:VirtualMachine", "@name", "bko_web_server", "bko-web-server"),
    (Z, "azure-native:compute:VirtualMachine", "osProfile.computerName", "bko_server",
     "bko-server"),
    (Z, "azure-native:compute:VirtualMachine", "storageProfile.dataDisks[].caching",
     "ReadOnly", "None"),
    (Z, "azure-native:compute:VirtualMachine", "osProfile.customData",
     "QUFB" * 21846, "QUFB" * 21845),  # 65538 and 65535 bytes once decoded
    (Z, "azure-native:privatedns:PrivateZone", "privateZoneName",
     "bko-web-.private.postgres.database.azure.com",
     "bko-web.private.postgres.database.azure.com"),
    (Z, "azure-native:dbforpostgresql:Server", "@name", "bko-Web-db", "bko-web-db"),
    (Z, "azure-native:dbforpostgresql:Server", "administratorLogin", "azure_superuser",
     "bakeoff"),
    # Azure: 3 of 4 categories; the first has only lower case and digits
    (Z, "azure-native:dbforpostgresql:Server", "administratorLoginPassword",
     "abcdefgh12345678", "abcdefgh1234567X"),
    (Z, "azure-native:dbforpostgresql:Database", "databaseName", "bake-off", "bakeoff"),
    (G, "gcp:compute/instance:Instance", "@name", "bko-Web-server", "bko-web-server"),
    (G, "*", "labels", {"bakeoff-campaign": "poc-20261127T160000Z"},
     {"bakeoff-campaign": "poc-20261127t160000z"}),
    (G, "gcp:compute/instance:Instance", "bootDisk.initializeParams.labels",
     {"Owner": "ana"}, {"owner": "ana"}),
    (G, "gcp:sql/databaseInstance:DatabaseInstance", "settings.userLabels", {"o": "a" * 64},
     {"o": "a" * 63}),
    (G, "gcp:compute/instance:Instance", "tags[]", "Bakeoff", "bakeoff"),
    (G, "*", "description", "d" * 2049, "d" * 2048),
    (G, "gcp:compute/instance:Instance", "metadata.user-data", "u" * (256 * 1024 + 1), "u"),
    (G, "gcp:sql/databaseInstance:DatabaseInstance", "settings.tier", "db-custom-3-8192",
     "db-custom-2-8192"),
    (G, "gcp:sql/database:Database", "@name", "bake-off", "bakeoff"),
    (G, "gcp:sql/user:User", "@name", "bake off", "bakeoff"),
    # cluster sites (stacks/cloud/rules_k8s.py; values from the pages cited there)
    (A, "aws:eks/cluster:Cluster", "@name", "bko.eks", "bko-eks_1"),
    (A, "aws:eks/cluster:Cluster", "version", "1.31.2", "1.31"),
    (A, "aws:eks/nodeGroup:NodeGroup", "@name", "-nodes", "bko-nodes"),
    (A, "aws:iam/role:Role", "@name", "bko-" + "r" * 60, "bko-eks-role"),  # + 8: 72 > 64
    (Z, "azure-native:containerservice:ManagedCluster", "@name", "bko-aks-", "bko-aks"),
    (Z, "azure-native:containerservice:ManagedCluster", "dnsPrefix", "bko.aks", "bko-aks"),
    (Z, "azure-native:containerservice:ManagedCluster", "agentPoolProfiles[].name", "System",
     "system"),
    (Z, "azure-native:containerservice:AgentPool", "@name", "userpool0001x", "user"),
    (Z, "azure-native:containerservice:ManagedCluster", "kubernetesVersion", "v1.31", "1.31"),
    (Z, "azure-native:containerservice:ManagedCluster", "nodeResourceGroup", "bko nodes",
     "bko-aks-nodes"),
    (G, "gcp:container/cluster:Cluster", "@name", "bko-" + "g" * 37, "bko-gke"),  # 41 > 40
    (G, "gcp:container/nodePool:NodePool", "@name", "Bko-nodes", "bko-nodes"),
    (G, "gcp:container/cluster:Cluster", "minMasterVersion", "v1.31", "1.31"),
    (G, "gcp:container/cluster:Cluster", "resourceLabels", {"Owner": "x"}, {"owner": "x"}),
    (G, "gcp:container/nodePool:NodePool", "nodeConfig.resourceLabels", {"Owner": "x"},
     {"owner": "x"}),
]


EXPLICIT_NAME = {"gcp:sql/database:Database": "name", "gcp:sql/user:User": "name",
                 "aws:eks/cluster:Cluster": "name", "aws:eks/nodeGroup:NodeGroup": "nodeGroupName",
                 "azure-native:containerservice:ManagedCluster": "resourceName",
                 "azure-native:containerservice:AgentPool": "agentPoolName",
                 "gcp:container/cluster:Cluster": "name", "gcp:container/nodePool:NodePool": "name"}


def _resource(rtype: str, path: str, value):
    """A resource whose property at `path` holds `value` ('[]': a one-element list)."""
    if path == "@name":
        if rtype in EXPLICIT_NAME:  # the program sets this name itself: no suffix
            return rules.Resource(rtype, "bko-web-x", {EXPLICIT_NAME[rtype]: value})
        return rules.Resource(rtype, value, {})
    props: dict = {}
    node = props
    parts = path.split(".")
    for part in parts[:-1]:
        if part.endswith("[]"):
            child: dict = {}
            node[part[:-2]] = [child]
            node = child
        else:
            node = node.setdefault(part, {})
    last = parts[-1]
    node[last.removesuffix("[]")] = [value] if last.endswith("[]") else value
    return rules.Resource(rtype, "bko-web-x", props)


def _table(provider: str):
    return importlib.import_module(f"stacks.cloud.rules_{provider}")


def _rules_at(provider: str, rtype: str, path: str) -> list[rules.Rule]:
    return [r for r in _table(provider).RULES if r.path == path
            and (r.types == ("*",) or rtype in r.types or rtype == "*")]


@pytest.mark.parametrize(("provider", "rtype", "path", "bad", "good"), CASES,
                         ids=[f"{c[0]}-{c[1].rsplit(':', 1)[-1]}-{c[2]}" for c in CASES])
def test_each_rule_refuses_a_violating_value(provider, rtype, path, bad, good):
    table = _table(provider)
    selected = _rules_at(provider, rtype, path)
    assert selected, f"no {provider} rule on {rtype} {path}"
    concrete = rtype if rtype != "*" else {A: "aws:ec2/vpc:Vpc",
                                           Z: "azure-native:compute:Disk",
                                           G: "gcp:compute/disk:Disk"}[provider]
    found = rules.apply(selected, [_resource(concrete, path, bad)], table.NAME_PROPERTY)
    assert found, f"{bad!r} passed"
    assert rules.apply(selected, [_resource(concrete, path, good)], table.NAME_PROPERTY) == []
    text = str(found[0])  # the message names resource, property and rule
    assert found[0].resource in text and path.split("[")[0].lstrip("@") in text
    assert found[0].rule in text and found[0].source.startswith("https://")


def test_every_rule_has_a_planted_violation():
    covered = {(p, path, t) for p, t, path, *_ in CASES}
    for provider in (A, Z, G):
        for rule in _table(provider).RULES:
            assert any(p == provider and path == rule.path
                       and (t in rule.types or rule.types == ("*",) or t == "*")
                       for p, path, t in covered), (provider, rule.text)


def _preview_violations(spec):
    return rules.violations(spec, preview_program(spec).resources)


@pytest.mark.parametrize("provider", [A, Z, G])
@pytest.mark.parametrize("variant", ["default", "long-name", "ha-spot-16-loadgens"])
def test_programs_pass_the_rules(provider, variant):
    a = ADAPTERS[provider]
    spec = make_spec(a, loadgen_instance_type=a.instance_type)
    if variant == "long-name":
        spec = replace(spec, site=LONG)
    elif variant == "ha-spot-16-loadgens":
        spec = replace(spec, spot=True, loadgen_count=16,
                       database=replace(spec.database, ha=True))
    assert _preview_violations(spec) == []


def test_long_site_names_fit_and_stay_apart():
    """Names are cut to 55 characters (63 - Pulumi's 8); two long sites sharing a prefix
    keep distinct names (a digest of the whole site name)."""
    spec = make_spec(ADAPTERS[G], loadgen_count=16)
    a = replace(spec, site=LONG).resource_name("loadgen-15-data")
    b = replace(spec, site=LONG[:-1] + "c").resource_name("loadgen-15-data")
    assert len(a) <= 55 and len(b) <= 55 and a != b
    assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", a) and "--" not in a
    assert replace(spec, site="web--a-").resource_name("db") == "bko-web-a-db"


def _families() -> dict[str, dict[str, str]]:
    """One instance type per shipped family, from the price catalog (the smallest listed)."""
    out: dict[str, dict[str, str]] = {A: {}, Z: {}, G: {}}
    path = REPO / "scoring" / "data" / "pricing" / "compute.csv"
    for row in csv.DictReader(path.open()):
        p, itype = row["provider"], row["instance_type"]
        family = {A: lambda t: t.split(".")[0], Z: lambda t: re.sub(r"\d+", "N", t, count=1),
                  G: lambda t: t.rsplit("-", 1)[0]}[p](itype)
        out[p].setdefault(family, itype)
    return out


FAMILIES = [(p, f, t) for p, fams in _families().items() for f, t in sorted(fams.items())]


@pytest.mark.parametrize(("provider", "family", "itype"), FAMILIES,
                         ids=[f"{p}-{f}" for p, f, _ in FAMILIES])
def test_every_shipped_instance_family_passes(provider, family, itype):
    from stacks.cloud.rules_gcp import HYPERDISK_ONLY, series

    a = ADAPTERS[provider]
    disk = DiskSpec("hyperdisk-balanced", 100) if provider == G and \
        series(itype) in HYPERDISK_ONLY else make_spec(a).disk
    spec = make_spec(a, instance_type=itype, loadgen_instance_type=itype, loadgen_count=0,
                     database=None, disk=disk)
    assert _preview_violations(spec) == []


def test_arm_sizes_boot_arm_images():
    """Before the fix, Azure Dpsv5 and GCP t2a/c4a got the amd64 Ubuntu image."""
    spec = make_spec(ADAPTERS[Z], instance_type="Standard_D2ps_v5",
                     loadgen_instance_type="Standard_D2s_v5", loadgen_count=1, database=None)
    vms = {r.name: r for r in preview_program(spec).resources
           if r.type == "azure-native:compute:VirtualMachine"}
    sku = {n: v.properties["storageProfile"]["imageReference"]["sku"] for n, v in vms.items()}
    assert sku == {"bko-web-server": "server-arm64", "bko-web-client": "server-arm64",
                   "bko-web-loadgen-0": "server"}
    spec = make_spec(ADAPTERS[G], instance_type="t2a-standard-2", loadgen_count=0,
                     database=None)
    images = {r.properties["bootDisk"]["initializeParams"]["image"]
              for r in preview_program(spec).resources
              if r.type == "gcp:compute/instance:Instance"}
    assert images == {"ubuntu-os-cloud/ubuntu-2404-lts-arm64"}


def test_hyperdisk_only_series_with_a_pd_disk_is_refused_before_up():
    spec = make_spec(ADAPTERS[G], instance_type="c4-standard-2",
                     loadgen_instance_type="c4-standard-2", loadgen_count=0, database=None,
                     disk=DiskSpec("pd-balanced", 100))
    with pytest.raises(rules.ProviderRulesError) as e:
        rules.check_site(spec)
    msg = str(e.value)
    assert "bko-web-server (gcp:compute/instance:Instance) attachedDisks" in msg
    assert "hyperdisk-balanced" in msg and "cloud.google.com" in msg
    # the boot disk follows the series by itself: only the data disks are refused
    assert "bootDisk" not in msg and len(e.value.violations) == 2


def test_site_rules_refuse_wrong_zone_and_weak_password():
    spec = make_spec(ADAPTERS[A], zones=("eu-west-1a", "us-east-1b"))
    found = _preview_violations(spec)
    assert {v.property for v in found} == {"availabilityZone"}
    spec = make_spec(ADAPTERS[Z], loadgen_instance_type=ADAPTERS[Z].instance_type)
    spec = replace(spec, database=replace(spec.database, password="alllowercase1234"))
    found = _preview_violations(spec)
    # the property is a secret under mocks: the rules judge its plain value
    assert [(v.resource, v.property) for v in found] == [
        ("bko-web-db", "administratorLoginPassword")]


C4_SITE = """\
name: rules-c4
ttl_minutes: 60
sites:
  - name: gcp-c4
    provider: gcp
    region: us-central1
    zones: [us-central1-a, us-central1-b]
    instance_type: c4-standard-4
    disk_gb: 100
    loadgen: 0
workloads:
  - name: ping
    params: {count: 10}
"""


def test_plan_json_reports_rule_violations(write_scenario):
    """`bakeoff plan --json` applies the rules: a C4 site with the default pd-balanced data
    disk is reported with resource, property and rule; with hyperdisk-balanced it passes."""
    import json

    from typer.testing import CliRunner

    from bakeoff.cli import app

    env = {"BAKEOFF_OWNER": "o", "PATH": "/usr/bin:/bin", "COLUMNS": "200",
           "GOOGLE_CLOUD_PROJECT": ""}
    res = CliRunner().invoke(app, ["plan", str(write_scenario(C4_SITE)), "--json"], env=env)
    assert res.exit_code == 0, res.output
    (site,) = json.loads(res.output)["sites"]
    assert {(v["resource"], v["property"]) for v in site["rule_violations"]} == {
        ("bko-gcp-c4-server", "attachedDisks (data disk type)"),
        ("bko-gcp-c4-client", "attachedDisks (data disk type)")}
    assert "hyperdisk-balanced" in site["error"] and site["resources"]
    fixed = C4_SITE.replace("disk_gb: 100", "disk_gb: 100\n    disk_type: hyperdisk-balanced")
    res = CliRunner().invoke(app, ["plan", str(write_scenario(fixed, "ok.yaml")), "--json"],
                             env=env)
    (site,) = json.loads(res.output)["sites"]
    assert site["rule_violations"] == [] and "error" not in site
    assert site["requires"] == ["compute.googleapis.com"]


def test_preflight_refuses_before_any_stack_is_created(tmp_path, write_scenario):
    from bench.preflight import check_prerequisites
    from bench.workloads import REGISTRY
    from core.errors import PrerequisiteError
    from core.scenario import load_campaign_file
    from stacks.cloud.provisioner import CloudProvisioner
    from tests.cloud_fake import FakeWorkspace

    ws = FakeWorkspace(tmp_path / "stacks")
    prov = CloudProvisioner("gcp", workspace=ws, state_root=tmp_path / "state")
    campaign = load_campaign_file(write_scenario(C4_SITE), REGISTRY)
    with pytest.raises(PrerequisiteError, match=r"bko-gcp-c4-server .*Hyperdisk"):
        check_prerequisites(campaign, lambda provider: prov)
    assert ws.calls == [] and ws.stacks() == []


SHIPPED = sorted((REPO / "scenarios").rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED,
                         ids=[p.values[0].name if hasattr(p, "values") else p.name
                              for p in SHIPPED])
def test_every_shipped_scenario_passes_the_rules(path):
    from bakeoff.cloudsites import preview_sites
    from bench.workloads import REGISTRY
    from core.scenario import load_campaign_file

    for site in preview_sites(load_campaign_file(path, REGISTRY)):
        assert site["rule_violations"] == [] and "error" not in site, site.get("error")
