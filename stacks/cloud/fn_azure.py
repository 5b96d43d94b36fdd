"""Azure function site: the VM site (stacks/cloud/azure.py) plus a Flex Consumption function app.

Declared in the site's resource group: a storage account (the host's storage and the
deployment container the package is uploaded to; identity-based access, no keys), a Flex
Consumption plan (FC1), and the function app (Linux, Python, instance memory and maximum
instances from the scenario, the site's tags). With `vpc: true` the app is integrated into
a third subnet of the site's VNet, delegated to Microsoft.App/environments (what Flex
Consumption's VNet integration requires,
https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#enable-virtual-network-integration),
so it reaches the database's private endpoint and the server VM.

Names: function apps are global DNS names, 2..60 alphanumerics and '-', not starting or
ending with '-'; storage accounts 3..24 lowercase letters and digits, globally unique
(https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules,
Microsoft.Web/sites and Microsoft.Storage/storageAccounts): both carry 8 hex digits of the
campaign and site (stacks/cloud/rules_fn.py checks them).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi_azure_native import authorization, network, storage, web

from stacks.cloud.fn_common import (
    deploy_of,
    function_env,
    function_output,
    package_for,
    runtime_id,
    storage_account_name,
    unique_name,
)
from stacks.cloud.spec import CloudSiteSpec

DELEGATION = "Microsoft.App/environments"
CONTAINER = "deployments"
# Built-in role "Storage Blob Data Owner": the app's identity reads its package and host
# storage (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
BLOB_OWNER_ROLE = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"


def function_subnet_cidr(network_cidr: str) -> str:
    return str(list(ipaddress.ip_network(network_cidr).subnets(new_prefix=24))[2])


def program(spec: CloudSiteSpec, vm_program: Callable[[CloudSiteSpec], Any]) -> None:
    parts = vm_program(spec)
    fn = deploy_of(spec)
    tags = spec.tags()
    rg = parts["rg"]
    account = storage.StorageAccount(
        spec.resource_name("fn-st"), account_name=storage_account_name(spec),
        resource_group_name=rg.name, location=spec.region, kind="StorageV2",
        sku={"name": "Standard_LRS"}, allow_blob_public_access=False,
        allow_shared_key_access=False, minimum_tls_version="TLS1_2", tags=tags)
    container = storage.BlobContainer(spec.resource_name("fn-deploy"),
                                      account_name=account.name, resource_group_name=rg.name,
                                      container_name=CONTAINER, public_access="None")
    package = package_for(spec)
    storage.Blob(spec.resource_name("fn-package"), account_name=account.name,
                 resource_group_name=rg.name, container_name=container.name,
                 blob_name="released-package.zip", type="Block",
                 source=pulumi.FileAsset(str(package.path)))
    plan = web.AppServicePlan(spec.resource_name("fn-plan"), resource_group_name=rg.name,
                              location=spec.region, kind="functionapp", reserved=True,
                              sku={"tier": "FlexConsumption", "name": "FC1"}, tags=tags)
    subnet_id = None
    if fn.vpc:
        # after the VM and database subnets (one subnet write per VNet at a time): the
        # prefix waits for the database, which waits for its own subnet
        after = (parts["database"] or {}).get("id", parts["subnet"].id)
        prefix = pulumi.Output.all(after).apply(
            lambda _: function_subnet_cidr(spec.network_cidr))
        subnet = network.Subnet(
            spec.resource_name("fn-subnet"), resource_group_name=rg.name,
            virtual_network_name=parts["vnet"].name, address_prefix=prefix,
            delegations=[{"name": "flex", "service_name": DELEGATION}],
            opts=pulumi.ResourceOptions(depends_on=[parts["last_subnet"]]))
        subnet_id = subnet.id
    server_ip = parts["hosts"]["server"]["private_ip"]
    env = function_env(spec, parts["database"], server_ip)
    settings = pulumi.Output.all(env, account.name).apply(
        lambda a: [{"name": k, "value": v} for k, v in sorted(
            {**a[0], "AzureWebJobsStorage__accountName": a[1]}.items())])
    blob_url = pulumi.Output.concat("https://", account.name, ".blob.core.windows.net/",
                                    CONTAINER)
    name = unique_name(spec, "fn", 60)
    app = web.WebApp(
        spec.resource_name("fn-app"), name=name, resource_group_name=rg.name,
        location=spec.region, kind="functionapp,linux", server_farm_id=plan.id,
        https_only=True, identity={"type": "SystemAssigned"},
        virtual_network_subnet_id=subnet_id,
        site_config={"app_settings": pulumi.Output.secret(settings)},
        function_app_config={
            "deployment": {"storage": {"type": "blobContainer", "value": blob_url,
                                       "authentication": {"type": "SystemAssignedIdentity"}}},
            "runtime": dict(zip(("name", "version"), runtime_id("azure", fn.runtime).split(),
                                strict=True)),
            "scale_and_concurrency": {"instance_memory_mb": fn.memory_mb,
                                      "maximum_instance_count": fn.max_instances}},
        tags=tags)
    authorization.RoleAssignment(
        spec.resource_name("fn-blob-owner"), scope=account.id, principal_type="ServicePrincipal",
        principal_id=app.identity.apply(lambda i: i.principal_id if i else ""),
        role_definition_id=pulumi.Output.concat(
            "/providers/Microsoft.Authorization/roleDefinitions/", BLOB_OWNER_ROLE))
    client = authorization.get_client_config_output()
    cold = {"method": "functions-app-setting", "resource_group": rg.name, "app_name": name,
            "setting": "BAKEOFF_COLD_VERSION", "subscription": client.subscription_id}
    pulumi.export("function", function_output(
        spec, app.default_host_name.apply(lambda h: f"https://{h}/api" if h else None), name,
        cold, package))
