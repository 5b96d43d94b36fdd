"""Provider rules for function sites: what Lambda, Azure Functions and Cloud Run refuse.

Applied with each provider's own table (stacks/cloud/rules.py `violations` adds these),
over the resources stacks/cloud/fn_<provider>.py declares. Each rule cites its page.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.serverless_spec import FLEX_MEMORY
from stacks.cloud.rules import Resource, Rule, Violation, apply, number, one_of, text

# -- AWS ---------------------------------------------------------------------------------
LAMBDA = "aws:lambda/function:Function"
LAMBDA_NAME_SRC = ("https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html "
                   "(FunctionName: a function name is limited to 64 characters, "
                   "[a-zA-Z0-9-_]+)")
LAMBDA_LIMITS_SRC = ("https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html "
                     "(memory 128..10,240 MB in 1-MB steps; timeout 900 s; environment "
                     "variables 4 KB)")
IAM_SRC = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName)"


def _env_size(value: Any) -> str | None:
    """Lambda: all environment variables together at most 4 KB (keys and values)."""
    if not isinstance(value, dict):
        return None
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in value.items())
    return None if size <= 4096 else f"{size} bytes of environment variables, at most 4096"


# Runtime identifiers Lambda accepts for a new function (supported, not deprecated):
# nodejs20.x reached deprecation on 30 Apr 2026, nodejs22.x is supported to 30 Apr 2027.
LAMBDA_RUNTIMES = ("nodejs22.x", "nodejs24.x", "python3.12", "python3.13", "python3.14")
LAMBDA_RUNTIMES_SRC = ("https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html "
                       "(runtime identifiers; deprecation dates), as tabulated by "
                       "https://endoflife.date/aws-lambda")


AWS_RULES = [
    Rule((LAMBDA,), "runtime", one_of(LAMBDA_RUNTIMES), "Lambda runtime identifier "
         "accepted for new functions", LAMBDA_RUNTIMES_SRC),
    Rule((LAMBDA,), "@name", text(r"[a-zA-Z0-9_-]+", 64), "Lambda function name: 1..64 of "
         "a-z A-Z 0-9 - _", LAMBDA_NAME_SRC),
    Rule((LAMBDA,), "memorySize", number(128, 10_240), "Lambda memory 128..10240 MB",
         LAMBDA_LIMITS_SRC),
    Rule((LAMBDA,), "timeout", number(1, 900), "Lambda timeout 1..900 s", LAMBDA_LIMITS_SRC),
    Rule((LAMBDA,), "environment.variables", _env_size, "environment variables at most 4 KB",
         LAMBDA_LIMITS_SRC),
    Rule(("aws:iam/role:Role",), "@name", text(r"[\w+=,.@-]+", 64),
         "IAM role name: 1..64 of letters, digits, + = , . @ _ -", IAM_SRC),
]
AWS_NAME_PROPERTY = {LAMBDA: "name", "aws:iam/role:Role": "name"}

# -- Azure -------------------------------------------------------------------------------
WEBAPP = "azure-native:web:WebApp"
ACCOUNT = "azure-native:storage:StorageAccount"
AZ_NAMES_SRC = ("https://learn.microsoft.com/azure/azure-resource-manager/management/"
                "resource-name-rules (Microsoft.Web sites: 2..60, alphanumerics, hyphens, "
                "not starting or ending with a hyphen, global; Microsoft.Storage "
                "storageAccounts: 3..24 lowercase letters and numbers, global)")
FLEX_SRC = ("https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan "
            "(instance memory 512, 2048 or 4096 MB)")


def _flex_memory(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if int(value) in FLEX_MEMORY else f"{value:g} MB is not one of {FLEX_MEMORY}"


# Flex Consumption language stacks bakeoff deploys: (name, version) pairs the platform
# lists. Node 22: the Flex stack data Az.Functions ships (FunctionsStackFlexData/*/node.json,
# "Node.js 22", runtimeVersion Node|22); Python 3.12: the Flex plan's supported versions.
FLEX_RUNTIMES = {"node": ("22",), "python": ("3.12",)}
FLEX_RUNTIME_SRC = ("https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan "
                    "(supported language stack versions); Az.Functions "
                    "FunctionsStackFlexData node.json")


def _flex_runtime(value: Any) -> str | None:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    name, version = value["name"], str(value.get("version"))
    if version not in FLEX_RUNTIMES.get(name, ()):
        return (f"{name} {version} is not a Flex Consumption stack bakeoff knows "
                f"({', '.join(f'{n} {v}' for n, vs in FLEX_RUNTIMES.items() for v in vs)})")
    return None


AZURE_RULES = [
    Rule((WEBAPP,), "functionAppConfig.runtime", _flex_runtime,
         "Flex Consumption runtime name and version", FLEX_RUNTIME_SRC),
    Rule((WEBAPP,), "@name", text(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", 60, 2),
         "function app name: 2..60 alphanumerics and '-', no '-' at either end",
         AZ_NAMES_SRC),
    Rule((ACCOUNT,), "@name", text(r"[a-z0-9]+", 24, 3),
         "storage account name: 3..24 lowercase letters and digits", AZ_NAMES_SRC),
    Rule((WEBAPP,), "functionAppConfig.scaleAndConcurrency.instanceMemoryMB", _flex_memory,
         "Flex Consumption instance memory", FLEX_SRC),
    Rule(("azure-native:web:AppServicePlan",), "@name",
         text(r"[A-Za-z0-9-]+", 60), "App Service plan name: 1..60 alphanumerics and '-'",
         AZ_NAMES_SRC),
]
AZURE_NAME_PROPERTY = {WEBAPP: "name", ACCOUNT: "accountName",
                       "azure-native:web:AppServicePlan": "name"}

# -- GCP ---------------------------------------------------------------------------------
RUN = "gcp:cloudrunv2/service:Service"
BUCKET = "gcp:storage/bucket:Bucket"
RUN_NAME_SRC = ("https://cloud.google.com/run/docs/reference/rest/v2/"
                "projects.locations.services/create (serviceId: begins with a letter, "
                "does not end with a hyphen, fewer than 50 characters)")
RUN_MEMORY_SRC = ("https://cloud.google.com/run/docs/configuring/services/memory-limits "
                  "(up to 32 GiB; second generation needs at least 512 MiB)")
BUCKET_SRC = "https://cloud.google.com/storage/docs/buckets#naming"


def _run_memory(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"(\d+)Mi", value)
    if not m:
        return f"{value!r}: bakeoff sends memory as '<n>Mi'"
    return number(512, 32_768)(int(m.group(1)))


GCP_RULES = [
    Rule((RUN,), "@name", text(r"[a-z]([-a-z0-9]*[a-z0-9])?", 49),
         "Cloud Run service id: a-z 0-9 '-', first a letter, last not '-', at most 49",
         RUN_NAME_SRC),
    Rule((RUN,), "template.containers[].resources.limits.memory", _run_memory,
         "Cloud Run memory 512Mi..32Gi (second generation)", RUN_MEMORY_SRC),
    Rule((RUN,), "template.scaling.minInstanceCount", number(0, 0),
         "min instances 0: the service scales to zero (bakeoff measures cold starts)",
         "docs/serverless.md"),
    Rule((BUCKET,), "@name", text(r"[a-z0-9]([a-z0-9_.-]*[a-z0-9])?", 63, 3),
         "bucket name: 3..63 of a-z 0-9 - _ ., starting and ending alphanumeric", BUCKET_SRC),
]
GCP_NAME_PROPERTY = {RUN: "name", BUCKET: "name"}

TABLES = {"aws": (AWS_RULES, AWS_NAME_PROPERTY), "azure": (AZURE_RULES, AZURE_NAME_PROPERTY),
          "gcp": (GCP_RULES, GCP_NAME_PROPERTY)}

# APIs (GCP) and resource providers (Azure) a function site needs beyond the VM site's.
# GCP: https://cloud.google.com/run/docs/deploy-functions ("Enable the Artifact Registry,
# Cloud Build, Cloud Run Admin API"); Azure: https://learn.microsoft.com/azure/
# azure-resource-manager/management/resource-providers-and-types (register before use).
SERVICES: dict[str, dict[str, tuple[str, ...]]] = {
    "gcp": {"gcp:cloudrunv2/": ("run.googleapis.com", "cloudbuild.googleapis.com",
                                "artifactregistry.googleapis.com"),
            "gcp:storage/": ("storage.googleapis.com",)},
    "azure": {"azure-native:web:": ("Microsoft.Web",),
              "azure-native:storage:": ("Microsoft.Storage",),
              "azure-native:network:Subnet": ()},  # Microsoft.App: see function_services
    "aws": {},
}


def function_services(provider: str, resources: list[Any]) -> list[str]:
    """What the function's resources need enabled/registered (for `plan` and doctor)."""
    out = {svc for r in resources for prefix, svcs in SERVICES.get(provider, {}).items()
           if r.type.startswith(prefix) for svc in svcs}
    if provider == "azure" and any(
            "Microsoft.App/environments" in json.dumps(r.properties, default=str)
            for r in resources if r.type == "azure-native:network:Subnet"):
        out.add("Microsoft.App")  # the Flex Consumption VNet integration's delegation
    return sorted(out)


def violations(provider: str, resources: list[Resource]) -> list[Violation]:
    rules, names = TABLES.get(provider, ([], {}))
    return apply(rules, resources, names)
