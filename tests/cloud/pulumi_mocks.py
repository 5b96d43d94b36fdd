"""Run a real cloud program in-process under `pulumi.runtime.set_mocks` and keep what it did.

The mocks echo each resource's inputs as its state and fill the few outputs a cloud would
compute (addresses, names, endpoints), so exports resolve the way they would after `up`.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import ipaddress
import itertools
from dataclasses import dataclass, field
from typing import Any

import pulumi

from stacks.cloud.spec import CloudSiteSpec

_public = itertools.count(1)

# Outputs a provider computes, by type token: property -> value factory.
COMPUTED: dict[str, dict[str, Any]] = {
    "azure-native:network:PublicIPAddress": {
        "ipAddress": lambda: str(ipaddress.ip_address("198.51.100.0") + next(_public))},
    "azure-native:dbforpostgresql:Server": {
        "fullyQualifiedDomainName": lambda: "bko-db.private.postgres.database.azure.com"},
    "gcp:compute/address:Address": {
        "address": lambda: str(ipaddress.ip_address("203.0.113.0") + next(_public))},
    "gcp:sql/databaseInstance:DatabaseInstance": {"privateIpAddress": lambda: "10.99.0.3"},
    "aws:ec2/instance:Instance": {
        "publicIp": lambda: str(ipaddress.ip_address("192.0.2.0") + next(_public)),
        "privateIp": lambda: str(ipaddress.ip_address("10.42.1.0") + next(_public))},
    "aws:rds/instance:Instance": {"address": lambda: "bko-db.abc.rds.internal",
                                  "port": lambda: 5432},
    "aws:ec2/keyPair:KeyPair": {"keyName": lambda: "bko-key"},
}


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]


@dataclass
class Run:
    resources: list[Resource] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)  # dotted paths that are secrets

    def of_type(self, token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == token]


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, run: Run) -> None:
        self.run = run

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.run.resources.append(Resource(args.typ, args.name, dict(args.inputs)))
        state = {"name": args.name, **args.inputs}
        for prop, make in COMPUTED.get(args.typ, {}).items():
            state[prop] = make()
        return [f"{args.name}-id", state]

    def call(self, args: pulumi.runtime.MockCallArgs):
        # Lookups (the newest Ubuntu AMI) answer with a plausible record.
        return {"id": "ami-0123456789abcdef0", "architecture": "x86_64"}


def run_program(program, spec: CloudSiteSpec) -> Run:
    """Declare `spec` with `program` under mocks; resolve every export."""
    run = Run()
    raw: dict[str, Any] = {}
    real_export = pulumi.export
    pulumi.export = lambda name, value: raw.__setitem__(name, value)
    try:
        _declare(program, spec, run, raw)
    finally:
        pulumi.export = real_export
    return run


def _declare(program, spec: CloudSiteSpec, run: Run, raw: dict[str, Any]) -> None:
    pulumi.runtime.set_mocks(_Mocks(run), project="bakeoff", stack=spec.site, preview=False)

    @pulumi.runtime.test
    def declare():
        program(spec)
        outputs: dict[str, pulumi.Output] = {}
        _outputs(raw, "", outputs)
        secrets = {path: asyncio.ensure_future(o.is_secret()) for path, o in outputs.items()}

        def done(values: dict[str, Any]) -> None:
            run.exports.update(values)
            run.secret_exports.update(p for p, f in secrets.items() if f.result())

        return pulumi.Output.all(pulumi.Output.from_input(raw),
                                 *(pulumi.Output.from_input(f) for f in secrets.values())
                                 ).apply(lambda vs: done(vs[0]))

    declare()


def _outputs(value: Any, path: str, out: dict[str, pulumi.Output]) -> None:
    if isinstance(value, pulumi.Output):
        out[path] = value
    elif isinstance(value, dict):
        for k, v in value.items():
            _outputs(v, f"{path}.{k}" if path else k, out)


def input_params(token: str) -> set[str]:
    """The Python argument names a resource type accepts, from its SDK class."""
    pkg, mod, cls = token.split(":")
    package = {"azure-native": "pulumi_azure_native", "gcp": "pulumi_gcp",
               "aws": "pulumi_aws"}[pkg]
    module = importlib.import_module(f"{package}.{mod.split('/')[0]}")
    return set(inspect.signature(getattr(module, cls)._internal_init).parameters)
