"""What the three function programs share: the deploy spec, names, package, environment.

A cloud site with `serverless:` is the VM site (network, VMs, managed database: the
provider's own program, not repeated here) plus one function on the provider's serverless
platform, declared by stacks/cloud/fn_<provider>.py on the parts the VM program returns.
`program_of` (stacks/cloud/spec.py) routes a spec that carries `function` here.

The function's environment is the same on every platform (bench/serverless/entry/
adapter.py reads it): which function, the database's conninfo (a Pulumi secret), the
downstream API on the server VM's private address, the pool size.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.scenario import CloudSite
from stacks.cloud.spec import CloudSiteSpec

DOWNSTREAM_PORT = 8099  # the site's downstream API on the server VM (docs/serverless.md)
PYTHON_RUNTIME = "3.12"
_PACKAGES: dict[tuple[str, str, str], Any] = {}  # one build per (provider, function, runtime)


@dataclass(frozen=True)
class FunctionDeploy:
    """The function block of a CloudSiteSpec (kept as a plain dict in the spec, so the
    spec's JSON round trip through the worker needs no new type)."""

    function: str
    runtime: str
    memory_mb: int
    vpc: bool
    timeout_s: int
    max_instances: int
    unique: str  # 8 hex digits of (campaign id, site): globally unique names (Azure, GCS)
    pool_size: int = 2


def function_deploy(site: CloudSite, campaign_id: str) -> dict[str, Any] | None:
    fn = site.serverless
    if fn is None:
        return None
    unique = hashlib.sha256(f"{campaign_id}/{site.name}".encode()).hexdigest()[:8]
    return asdict(FunctionDeploy(fn.function, fn.runtime, fn.memory_for(site.provider), fn.vpc,
                                 fn.timeout_s, fn.max_instances, unique))


def deploy_of(spec: CloudSiteSpec) -> FunctionDeploy:
    assert spec.function is not None
    return FunctionDeploy(**spec.function)


def with_function(provider: str, vm_program: Callable[[CloudSiteSpec], Any]) -> Callable:
    """The program for a spec: the VM program alone, or fn_<provider>.program on top of it."""

    def program(spec: CloudSiteSpec) -> Any:
        if not spec.function:
            return vm_program(spec)
        import importlib

        return importlib.import_module(f"stacks.cloud.fn_{provider}").program(spec, vm_program)

    return program


def short_name(spec: CloudSiteSpec, suffix: str, limit: int) -> str:
    """'bko-<site>-<suffix>' in at most `limit` characters, lowercase; a long site name is
    cut and 6 hex digits of it added (so different sites keep different names)."""
    name = f"bko-{spec.site_label}-{suffix}"
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(spec.site.encode()).hexdigest()[:6]
    keep = limit - len(f"bko--{digest}-{suffix}")
    return f"bko-{spec.site_label[:max(keep, 1)].rstrip('-')}-{digest}-{suffix}"


def unique_name(spec: CloudSiteSpec, suffix: str, limit: int) -> str:
    """A globally unique DNS-style name: short_name with the campaign's 8 hex digits."""
    return short_name(spec, f"{suffix}-{deploy_of(spec).unique}", limit)


def storage_account_name(spec: CloudSiteSpec) -> str:
    """Azure storage accounts: 3..24 lowercase letters and digits, globally unique."""
    label = re.sub(r"[^a-z0-9]", "", spec.site_label)[:12]
    return f"bko{label}{deploy_of(spec).unique}"[:24]


def package_for(spec: CloudSiteSpec) -> Any:
    """The function's package (stacks/cloud/fn_package.py), built once per process into
    a private temporary directory. A Lambda or Functions zip is vendored from
    $BAKEOFF_FN_WHEELS or the wheel cache, never downloading here: the run's preflight
    (run_problems) fills the cache before any `up`, and an offline `bakeoff plan`
    previews the unvendored zip (Cloud Run's build installs requirements.txt)."""
    from stacks.cloud.fn_node import tarballs, vendored_roots
    from stacks.cloud.fn_package import build, platform_wheels

    fn = deploy_of(spec)
    key = (spec.provider, fn.function, fn.runtime)
    if key not in _PACKAGES:
        out = Path(tempfile.mkdtemp(prefix="bakeoff-fn-"))
        # the engine reads the archive while this process runs `up` or a preview; after
        # that nothing needs it (every `plan` left one directory per function before)
        atexit.register(shutil.rmtree, out, True)
        if fn.runtime == "node":
            npm = tarballs(vendored_roots(spec.provider, fn.function), download=False)
            _PACKAGES[key] = build(spec.provider, fn.function, out, runtime="node", npm=npm)
        else:
            wheels = platform_wheels(spec.provider, fn.function, download=False)
            _PACKAGES[key] = build(spec.provider, fn.function, out, wheels)
    return _PACKAGES[key]


def runtime_id(provider: str, runtime: str) -> str:
    """The runtime as the platform names it: Lambda's identifier ('python3.12',
    'nodejs22.x'); Flex Consumption's and Cloud Run's 'python 3.12' / 'node 22' (the
    Flex name and version, or the Cloud Run base image's)."""
    from stacks.cloud.fn_node import NODE_MAJOR

    if provider == "aws":
        return f"nodejs{NODE_MAJOR}.x" if runtime == "node" else f"python{PYTHON_RUNTIME}"
    return f"node {NODE_MAJOR}" if runtime == "node" else f"python {PYTHON_RUNTIME}"


def function_env(spec: CloudSiteSpec, database: Any, server_ip: Any) -> Any:
    """The adapter's environment as an Output (the conninfo inside it is secret)."""
    import pulumi

    fn = deploy_of(spec)
    base = {"BAKEOFF_FUNCTION": fn.function, "BAKEOFF_POOL_SIZE": str(fn.pool_size)}
    if database is None:
        return pulumi.Output.all(server_ip).apply(
            lambda a: {**base, "BAKEOFF_DOWNSTREAM_URL": f"http://{a[0]}:{DOWNSTREAM_PORT}"})
    return pulumi.Output.all(database["host"], database["port"], database["user"],
                             database["password"], database["dbname"], server_ip).apply(
        lambda a: {**base, "BAKEOFF_CONNINFO": f"host={a[0]} port={a[1]} user={a[2]} "
                   f"password={a[3]} dbname={a[4]} sslmode=require",
                   "BAKEOFF_DOWNSTREAM_URL": f"http://{a[5]}:{DOWNSTREAM_PORT}"})


def function_output(spec: CloudSiteSpec, url: Any, name: Any, cold_force: dict[str, Any],
                    package: Any) -> dict[str, Any]:
    """The `function` stack output: what env.notes["function"] gets (the local function
    site's keys, plus provider and what forcing a cold start needs)."""
    fn = deploy_of(spec)
    return {"kind": "cloud-function", "provider": spec.provider, "url": url, "name": name,
            # both are packed; the request path picks one (bench/serverless/entry/adapter.py)
            "functions": sorted({fn.function, "hello"}),
            "runtime": runtime_id(spec.provider, fn.runtime),
            "memory_mb": fn.memory_mb, "vpc": fn.vpc, "max_instances": fn.max_instances,
            "pool_size": fn.pool_size, "idle_s": None, "cold_force": cold_force,
            "package_sha256": package.sha256, "package_vendored": package.vendored,
            "label": f"{spec.provider} function (cold starts forced by a new configuration "
                     "version)"}


def run_problems(site: CloudSite, campaign: Any) -> list[str]:
    """What stops a real run of this function site (preflight, before any `up`). A
    checkout Lambda or Functions app needs psycopg vendored: its wheels are downloaded into
    the cache here (or taken from $BAKEOFF_FN_WHEELS); an index out of reach is named with
    its fix. The downstream API it calls runs on the server VM (stacks/cloud/userdata.py)."""
    from stacks.cloud.fn_package import PackageError, platform_wheels

    if site.serverless is None or site.provider == "gcp":
        return []
    if site.serverless.runtime == "node":
        return _node_problems(site)
    calls_checkout = site.serverless.function == "checkout" or any(
        w.name == "cold-start" and "checkout" in (
            (w.params or {}).get("function", "checkout"), (w.params or {}).get("baseline"))
        for w in campaign.workloads)
    if not calls_checkout:
        return []
    try:
        platform_wheels(site.provider, "checkout")
    except PackageError as e:
        return [f"site '{site.name}': the checkout function needs psycopg vendored into its "
                f"package: {e}"]
    return []


def _node_problems(site: CloudSite) -> list[str]:
    """A node Lambda or Functions app needs its npm packages (checkout: pg; Azure also
    @azure/functions, which hello needs too) inside the zip: fetched into the cache here,
    integrity-checked when the package is built. Exactly the closure package_for looks up
    (the cache is keyed by it): a wider one would leave package_for's entry empty."""
    from stacks.cloud.fn_node import NodeDepsError, tarballs, vendored_roots

    assert site.serverless is not None
    needs = vendored_roots(site.provider, site.serverless.function)
    if not needs:
        return []
    try:
        tarballs(needs)
    except NodeDepsError as e:
        return [f"site '{site.name}': the node function needs {', '.join(needs)} vendored "
                f"into its package: {e}"]
    return []
