"""The cloud program contract (tests/cloud/program_contract.py): the hosts. Zones and
types, spot, tags, host keys as secrets, provenance exports."""

from __future__ import annotations

from stacks.cloud.rules import SECRET_SIG
from stacks.cloud.spec import TAG_KEYS
from tests.cloud.program_contract import declare, each_provider


@each_provider
def test_distinct_zones_and_requested_types(provider):
    a, spec, run = declare(provider)
    vms = {r.name.removeprefix(f"bko-{spec.site}-"): r for r in run.of_type(a.vm_type)}
    assert set(vms) == set(spec.roles)
    assert a.vm_zone(vms["server"]) != a.vm_zone(vms["client"])
    assert {a.vm_zone(vms[r]) for r in spec.roles} <= {str(z) for z in spec.zones} | {
        z.rsplit("-", 1)[-1] for z in spec.zones}
    assert a.vm_size(vms["server"]) == a.vm_size(vms["client"]) == spec.instance_type
    assert a.vm_size(vms["loadgen-1"]) == spec.loadgen_instance_type
    for role in spec.roles:  # the host key travels in user-data, per host
        assert spec.host_keys[role].public_openssh in a.user_data(vms[role])
    assert not any(a.vm_spot(v) for v in vms.values())


@each_provider
def test_tags_on_everything_taggable(provider):
    a, spec, run = declare(provider)
    expected = spec.labels() if a.tag_param == "labels" else spec.tags()
    taggable = [r for r in run.resources if a.taggable(r)]
    assert len(taggable) >= len(spec.roles) * 3
    for r in taggable:
        tags = a.tags_of(r) or {}
        assert {k: tags.get(k) for k in TAG_KEYS} == expected, (r.type, r.name)


@each_provider
def test_spot_when_asked(provider):
    a, spec, run = declare(provider, spot=True)
    vms = run.of_type(a.vm_type)
    assert len(vms) == len(spec.roles) and all(a.vm_spot(v) for v in vms)


# The property of each VM that carries the host's private key (in its user-data).
HOST_KEY_PROPERTY = {"aws": "userData", "azure": "osProfile", "gcp": "metadata"}


@each_provider
def test_host_keys_travel_as_secrets(provider):
    """Encrypted in the Pulumi checkpoint: the property holding the user-data is a secret."""
    a, spec, run = declare(provider)
    for vm in run.of_type(a.vm_type):
        value = vm.inputs[HOST_KEY_PROPERTY[provider]]
        assert isinstance(value, dict) and SECRET_SIG in value, vm.name
        role = vm.name.removeprefix(f"bko-{spec.site}-")
        import yaml

        keys = yaml.safe_load(a.user_data(vm))["ssh_keys"]  # inside the secret
        assert keys["ed25519_private"] == spec.host_keys[role].private_openssh


@each_provider
def test_provenance_exported(provider):
    """Instance id, image and market per host, and the database primary's zone, as the
    provider reports them (mocks compute some as None; the keys must be exported)."""
    from stacks.cloud.spec import provenance

    _, spec, run = declare(provider, spot=True)
    for role, h in run.exports["hosts"].items():
        assert {"id", "image", "market"} <= set(h), role
        assert h["market"] == "spot"
    assert "zone" in run.exports["database"] and "id" in run.exports["database"]
    prov = provenance(run.exports)
    assert set(prov["hosts"]) == set(spec.roles)
    assert prov["hosts"]["server"]["instance_type"] == spec.instance_type
