"""Programs declare what real providers need to delete a site: GCP database user and
database abandoned with the instance, the private-services peering removed so the network
can go; Azure subnets of one VNet written one after the other."""

from __future__ import annotations

from tests.cloud.program_contract import ADAPTERS, declare, make_spec


def test_gcp_sql_user_and_database_abandoned_peering_removed():
    _, _, run = declare("gcp")
    (user,) = run.of_type("gcp:sql/user:User")
    (db,) = run.of_type("gcp:sql/database:Database")
    (conn,) = run.of_type("gcp:servicenetworking/connection:Connection")
    assert user.inputs["deletionPolicy"] == "ABANDON"
    assert db.inputs["deletionPolicy"] == "ABANDON"
    # ABANDON on the connection would leave the peering and block the network's deletion
    assert conn.inputs["deletionPolicy"] == "REMOVE_PEERING"


def test_azure_database_subnet_waits_for_the_vm_subnet(monkeypatch):
    import pulumi

    import stacks.cloud.azure as azure
    from tests.cloud.pulumi_mocks import run_program

    depends: dict[str, list[str]] = {}
    real = azure.network.Subnet

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, name, opts=None, **kwargs):
            depends[name] = [d._name for d in getattr(opts, "depends_on", None) or []]
            super().__init__(name, opts=opts or pulumi.ResourceOptions(), **kwargs)

    monkeypatch.setattr(azure.network, "Subnet", Recording)
    run_program(azure.program, make_spec(ADAPTERS["azure"]))
    assert depends == {"bko-web-subnet": [], "bko-web-db-subnet": ["bko-web-subnet"]}
