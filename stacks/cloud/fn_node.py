"""The Node.js runtime's dependencies: `pg` (and `@azure/functions` on Azure) from npm, pinned.

The handler (bench/serverless/node/) has one lockfile, bench/serverless/node/
package-lock.json, written by `npm install --package-lock-only` from its package.json:
every package's exact version, tarball URL and sha512 `integrity`. A package needs the
closure of its roots in that lockfile (checkout: `pg`; on Azure also `@azure/functions`,
which the v4 programming model requires; optional dependencies such as pg-cloudflare,
for Cloudflare Workers only, are left out).

Vendoring (Lambda and Flex Consumption run a zip as it is; the local function site runs
the handler with NODE_PATH): the tarballs are fetched with the ordinary client
(`npm pack NAME@VERSION --pack-destination DIR`) into a cache ($BAKEOFF_FN_CACHE, default
~/.cache/bakeoff/fn-wheels, one `npm-<key>` directory per closure), or taken from
$BAKEOFF_FN_NPM=DIR (the offline override: the same tarballs fetched elsewhere). Every
tarball's sha512 is checked against the lockfile's `integrity` before it is unpacked
(into `node_modules/<path>` exactly as the lockfile places it); a mismatch is refused
naming the file. Cloud Run's Dockerfile runs `npm ci` on a lockfile pruned to the same
closure, which checks the same integrity values in Cloud Build.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from core.errors import BakeoffError

NODE_DIR = Path(__file__).resolve().parents[2] / "bench" / "serverless" / "node"
LOCK = NODE_DIR / "package-lock.json"
NODE_MAJOR = "22"  # Lambda nodejs22.x, Flex Consumption node 22, Cloud Run node:22-slim
ROOTS = {"checkout": ["pg"], "hello": []}
AZURE_ROOTS = ["@azure/functions"]
NPM_ENV = "BAKEOFF_FN_NPM"
CACHE_ENV = "BAKEOFF_FN_CACHE"


def cache_root() -> Path:
    """Where vendored function dependencies (wheels, npm tarballs) are kept between runs."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "bakeoff" / "fn-wheels")


def cache_dir(prefix: str, specs: list[str]) -> Path:
    """The cache directory of one pinned list of packages: <prefix>-<its sha256, 12 hex>."""
    return cache_root() / f"{prefix}-{hashlib.sha256(' '.join(specs).encode()).hexdigest()[:12]}"


def run_fetch(argv: list[str], cwd: Path | None = None, timeout_s: int = 600) -> str:
    """Run a package client's download (`npm pack`, `pip download`): '' when it succeeded,
    else the tail of what it said, or that it timed out (the caller's error adds the fix)."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                             check=False, cwd=cwd)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout_s} s"
    return (res.stderr or res.stdout).strip()[-500:] if res.returncode else ""


class NodeDepsError(BakeoffError):
    """A Node.js dependency that cannot be fetched, or whose tarball fails its integrity."""

    exit_code = 2


def roots(provider: str, function: str) -> list[str]:
    """The top-level npm packages `function` needs on `provider` (local: like aws)."""
    return ROOTS[function] + (AZURE_ROOTS if provider == "azure" else [])


def lockfile() -> dict[str, Any]:
    return json.loads(LOCK.read_text())


def _resolve(packages: dict[str, Any], at: str, name: str) -> str:
    """Where node finds `name` from the package at lock path `at` (its own node_modules,
    then each parent's, then the top)."""
    base = at
    while True:
        key = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
        if key in packages:
            return key
        if not base:
            raise NodeDepsError(f"{LOCK}: no entry for {name} (needed by {at or 'the root'});"
                                " regenerate it with `npm install --package-lock-only`")
        base = base.rsplit("/node_modules/", 1)[0] if "/node_modules/" in base else ""


def closure(names: list[str], optional: bool = False) -> dict[str, dict[str, Any]]:
    """Lock path -> lock entry for `names` and everything they depend on (optional
    dependencies too when `optional`: a lockfile for `npm ci` must list them)."""
    packages = lockfile()["packages"]
    out: dict[str, dict[str, Any]] = {}
    todo = [("", n) for n in names]
    while todo:
        at, name = todo.pop()
        key = _resolve(packages, at, name)
        if key in out:
            continue
        out[key] = packages[key]
        wanted = {**packages[key].get("dependencies", {}),
                  **(packages[key].get("optionalDependencies", {}) if optional else {})}
        todo += [(key, dep) for dep in wanted]
    return dict(sorted(out.items()))


def name_of(path: str) -> str:
    return path.rsplit("node_modules/", 1)[1]


def tarball_name(path: str, entry: dict[str, Any]) -> str:
    """What `npm pack` names the tarball: '@azure/functions' -> azure-functions-4.16.5.tgz."""
    return f"{name_of(path).lstrip('@').replace('/', '-')}-{entry['version']}.tgz"


def integrity_problem(data: bytes, entry: dict[str, Any]) -> str | None:
    """None when the tarball's digest matches the lockfile's `integrity` (sha512 SRI)."""
    algo, _, want = str(entry.get("integrity", "")).partition("-")
    if algo != "sha512" or not want:
        return f"lockfile integrity {entry.get('integrity')!r} is not a sha512 value"
    got = base64.b64encode(hashlib.sha512(data).digest()).decode()
    return None if got == want else f"sha512-{got} != lockfile's sha512-{want}"


def tarballs(names: list[str], download: bool = True) -> Path | None:
    """A directory holding the tarballs of `names`' closure: $BAKEOFF_FN_NPM when set, else
    the cache, filled once with `npm pack` (`download`; without it None when the cache is
    empty: the offline plan). None when nothing is needed."""
    deps = closure(names) if names else {}
    if not deps:
        return None
    if os.environ.get(NPM_ENV):
        return Path(os.environ[NPM_ENV])
    specs = [f"{name_of(p)}@{e['version']}" for p, e in deps.items()]
    cache = cache_dir("npm", specs)
    if (cache / ".complete").exists():
        return cache
    if not download:
        return None
    npm = shutil.which("npm")
    if npm is None:
        raise NodeDepsError("the node runtime's packages come from npm, which is not "
                            "installed (apt-get install npm, or scripts/install-system-"
                            f"tools.sh test), or set {NPM_ENV}=DIR to their tarballs")
    cache.mkdir(parents=True, exist_ok=True)
    argv = [npm, "pack", "--silent", "--ignore-scripts", "--pack-destination", str(cache),
            *specs]
    detail = run_fetch(argv, cwd=cache)
    if detail:
        raise NodeDepsError(
            f"cannot fetch {' '.join(specs)} from the npm registry: {detail}. Fix: let npm "
            f"reach its registry (its registry/proxy settings), or set {NPM_ENV}=DIR to the "
            f"tarballs fetched elsewhere with `npm pack --pack-destination DIR "
            f"{' '.join(specs)}`")
    (cache / ".complete").write_text(" ".join(specs) + "\n")
    return cache


def unpack(names: list[str], source: Path) -> dict[str, bytes]:
    """Archive name ('node_modules/pg/lib/index.js') -> bytes for `names`' closure, from
    the tarballs in `source`, each checked against the lockfile's integrity first."""
    files: dict[str, bytes] = {}
    for path, entry in closure(names).items():
        tgz = source / tarball_name(path, entry)
        if not tgz.is_file():
            raise NodeDepsError(f"{tgz} is missing: {source} must hold the npm tarballs of "
                                f"{', '.join(names)} (`npm pack {name_of(path)}@"
                                f"{entry['version']}`)")
        data = tgz.read_bytes()
        problem = integrity_problem(data, entry)
        if problem:
            raise NodeDepsError(f"{tgz}: integrity check failed ({problem}); refusing to "
                                "pack it (delete it and fetch again)")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
            for member in tf.getmembers():
                _top, _, rel = member.name.partition("/")  # npm tarballs: package/<file>
                if not member.isfile() or not rel or ".." in Path(rel).parts:
                    continue
                extracted = tf.extractfile(member)
                if extracted is not None:
                    files[f"{path}/{rel}"] = extracted.read()
    return files


def install(names: list[str], source: Path, into: Path) -> Path:
    """Unpack `names`' closure into `into`/node_modules (the local function site's
    NODE_PATH); returns that node_modules directory."""
    for rel, data in unpack(names, source).items():
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return into / "node_modules"


def manifests(names: list[str], main: str | None = None) -> dict[str, bytes]:
    """package.json with `names` at their locked versions, and the lockfile pruned to
    their closure (what `npm ci` in Cloud Run's build installs and checks)."""
    lock = lockfile()
    deps = closure(names, optional=True) if names else {}
    top = {n: lock["packages"][f"node_modules/{n}"]["version"] for n in sorted(names)}
    package: dict[str, Any] = {"name": "bakeoff-fn", "version": "1.0.0", "private": True,
                               "dependencies": top}
    if main:
        package["main"] = main
    root = {"name": "bakeoff-fn", "version": "1.0.0", "dependencies": top}
    pruned = {"name": "bakeoff-fn", "version": "1.0.0", "lockfileVersion": 3,
              "requires": True, "packages": {"": root, **deps}}
    return {"package.json": (json.dumps(package, indent=2) + "\n").encode(),
            "package-lock.json": (json.dumps(pruned, indent=2) + "\n").encode()}


# Cloud Run builds the container from source: `npm ci` installs the pruned lockfile (its
# integrity values checked by npm), as the Python Dockerfile installs requirements.txt.
DOCKERFILE = (f"FROM node:{NODE_MAJOR}-slim\nWORKDIR /app\n"
              "COPY package.json package-lock.json ./\n"
              "RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund\nCOPY . .\n"
              'CMD ["node", "main.js"]\n')
# Azure Functions' Node.js v4 model finds the functions through package.json `main`
# (https://learn.microsoft.com/azure/azure-functions/functions-reference-node, "Folder
# structure": src/functions/*.js registered with app.http).
AZURE_MAIN = "src/functions/*.js"
ENTRY = {"aws": ["index.js"], "azure": ["src/functions/invoke.js"], "gcp": ["main.js"]}
# Lambda's handler setting for the node package: index.js at the root, exports.handler
LAMBDA_HANDLER = "index.handler"


def sources(provider: str, function: str, host_json: str) -> dict[str, bytes]:
    """Archive name -> bytes of the node package's own files (dependencies apart): the
    handler and adapter at the root, the provider's entry point, the manifests."""
    if provider not in ENTRY:
        raise NodeDepsError(f"no node function package layout for provider {provider!r}")
    files = {name: (NODE_DIR / name).read_bytes()
             for name in ["functions.js", "adapter.js", *ENTRY[provider]]}
    names = roots(provider, function)
    meta = manifests(names, AZURE_MAIN if provider == "azure" else None)
    files["package.json"] = meta["package.json"]
    if provider == "gcp":
        files["package-lock.json"] = meta["package-lock.json"]
        files["Dockerfile"] = DOCKERFILE.encode()
    if provider == "azure":
        files["host.json"] = host_json.encode()
    return files


def vendored_roots(provider: str, function: str) -> list[str]:
    """What must be inside the archive: none on gcp (Cloud Build runs npm ci)."""
    return [] if provider == "gcp" else roots(provider, function)
