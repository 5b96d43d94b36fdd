"""`serverless:` on a cloud site: the function deployed beside the site's network and database.

A cloud function site keeps its VMs (the client drives the probe, the server serves the
downstream API the checkout function calls) and its managed PostgreSQL, and adds one
function on the provider's serverless platform: AWS Lambda (function URL), Azure Functions
(Flex Consumption) or Google Cloud Run (docs/serverless.md). What each platform accepts
for memory is checked here, per provider, so a wrong value is a scenario error naming the
field, not a refusal minutes into `up`.

The usage profile that prices the function (requests a month, duration) is the scenario's
`usage.functions` block (FunctionUsage), beside the other production assumptions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo

from core.strict_numbers import NoBoolNumbers

# Memory each platform accepts, in MB (MiB on Cloud Run), as (low, high, step) or a set.
# Lambda: 128..10,240 MB in 1-MB increments (AWS Lambda quotas,
#   https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
# Flex Consumption: instance memory 512, 2048 (default) or 4096 MB
#   (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#instance-memory;
#   the API reference of instanceMemoryMB lists 2048 and 4096, the plan page adds 512).
# Cloud Run: 128 MiB .. 32 GiB per instance; values are sent as "<n>Mi"
#   (https://cloud.google.com/run/docs/configuring/services/memory-limits). Cloud Run's
#   second-generation environment needs at least 512 MiB; bakeoff deploys gen2 (Direct VPC
#   egress needs it), so 512 is the floor here.
LAMBDA_MEMORY = (128, 10_240, 1)
FLEX_MEMORY = (512, 2048, 4096)
CLOUD_RUN_MEMORY = (512, 32_768, 1)
DEFAULT_MEMORY = {"aws": 1024, "azure": 2048, "gcp": 1024}


class CloudFunctionSpec(NoBoolNumbers):
    """The function a cloud site deploys (docs/serverless.md)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    function: Literal["checkout", "hello"] = Field(
        "checkout", description="checkout: the realistic one (PostgreSQL pool on init, a "
        "downstream call per request); hello: the baseline")
    runtime: Literal["python", "node"] = Field(
        "python", description="python: the reference handler; node: the same handler in "
        "JavaScript (Lambda nodejs22.x, Flex node 22, Cloud Run node:22-slim)")
    memory_mb: int | None = Field(
        None, description="per instance; default 1024 (Lambda, Cloud Run) or 2048 (Flex); "
        "Lambda 128..10240, Flex 512|2048|4096, Cloud Run 512..32768")
    vpc: bool = Field(True, description="reach the site's managed database (and the "
                      "downstream API on the server VM) over the site's private network")
    timeout_s: int = Field(30, ge=1, le=900, description="per request")
    max_instances: int = Field(10, ge=1, le=1000, description="scale-out cap (Flex "
                               "maximumInstanceCount, Cloud Run max instances; on Lambda the "
                               "account's concurrency); beyond it the platform throttles")

    def memory_for(self, provider: str) -> int:
        return self.memory_mb if self.memory_mb is not None else DEFAULT_MEMORY[provider]


def memory_problem(provider: str, memory_mb: int) -> str | None:
    """What is wrong with `memory_mb` on `provider`'s platform, or None."""
    if provider == "azure":
        if memory_mb not in FLEX_MEMORY:
            return (f"serverless.memory_mb: Azure Flex Consumption instance memory is one of "
                    f"{', '.join(map(str, FLEX_MEMORY))} MB, got {memory_mb}")
        return None
    low, high, _ = LAMBDA_MEMORY if provider == "aws" else CLOUD_RUN_MEMORY
    platform = "AWS Lambda" if provider == "aws" else "Cloud Run (second generation)"
    if not low <= memory_mb <= high:
        return (f"serverless.memory_mb: {platform} memory is {low}..{high} MB, "
                f"got {memory_mb}")
    return None


def site_problems(provider: str, spec: CloudFunctionSpec, has_database: bool) -> list[str]:
    """A function block that cannot work on this site: memory off the platform's steps; a
    checkout function without the database it connects to, or without VPC access to it (the
    site's database has no public endpoint)."""
    out = []
    problem = memory_problem(provider, spec.memory_for(provider))
    if problem:
        out.append(problem)
    if spec.function == "checkout" and not has_database:
        out.append("serverless.function: checkout connects to the site's PostgreSQL; add "
                   "`database: {}` to the site (or use function: hello)")
    if spec.function == "checkout" and not spec.vpc:
        out.append("serverless.vpc: checkout needs vpc: true (the site's managed database "
                   "has no public endpoint)")
    return out


class FunctionUsage(NoBoolNumbers):
    """The usage profile a function is priced for (scenario `usage.functions`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    requests_per_month: float = Field(1_000_000, ge=0, le=1e12)
    duration_ms: float = Field(120, gt=0, le=900_000, description="billed time per request, "
                               "as each platform bills it")
    free_tier: bool = Field(True, description="subtract each provider's monthly free "
                            "allowance (per account / subscription / billing account)")


def _on_site(value: CloudFunctionSpec | None, info: ValidationInfo) -> CloudFunctionSpec | None:
    """The site-dependent checks, run where the block is attached (provider and database
    are validated before it)."""
    if value is not None and info.data.get("provider"):
        problems = site_problems(info.data["provider"], value,
                                 info.data.get("database") is not None)
        if problems:
            raise ValueError("; ".join(problems))
    return value


# The type of CloudSite.serverless (core/site_models.py attaches it with one line).
CloudServerless = Annotated[CloudFunctionSpec | None, AfterValidator(_on_site)]
