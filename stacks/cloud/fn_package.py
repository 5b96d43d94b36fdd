"""Build a function site's package: the same handler code, laid out as each platform wants it.

One source (bench/serverless/functions.py, the reference checkout handler and the hello
baseline, plus entry/adapter.py) is packed three ways, as real files:

- **aws** (Lambda, zip upload): `lambda_function.py` at the zip's root (handler
  `lambda_function.handler`), `bakeoff_fn/` beside it, dependencies vendored into the zip
  root when a directory of manylinux wheels is given (Lambda installs nothing itself).
- **azure** (Functions, Python v2 programming model, Flex Consumption): `function_app.py`,
  `host.json`, `requirements.txt` and `bakeoff_fn/` at the root, dependencies vendored
  into `.python_packages/lib/site-packages/`: the program puts the zip straight into the
  deployment container, which the platform runs as it is (a remote build happens only
  through the publish endpoint, which bakeoff does not use).
- **gcp** (Cloud Run, source deploy): `Dockerfile`, `requirements.txt`, `main.py` and
  `bakeoff_fn/`; Cloud Build builds the container and installs the requirements.

Vendoring (aws, azure): `platform_wheels` downloads psycopg's manylinux binary wheels
for the runtime (`pip download --only-binary=:all: --platform manylinux2014_x86_64
--python-version 3.12 --implementation cp`, pinned to the versions this controller runs)
into a cache directory ($BAKEOFF_FN_CACHE, default ~/.cache/bakeoff/fn-wheels), once per
platform and pins; `build(wheels=DIR)` installs them from DIR only (`--no-index`) into
the archive. `$BAKEOFF_FN_WHEELS=DIR` is the offline override (wheels at hand, no index).
Without an index and without it, the error says so and how to fix it. Without `wheels`
the zip carries requirements.txt only (`vendored: False`, what an offline `bakeoff plan`
previews): such a checkout package would fail its first import (`lambda_ready`).

Size limits (checked on the real archive; an oversize package is refused):
- Lambda: 50 MB zipped for a direct upload, 250 MB unzipped including layers
  (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html; the API's
  AccountLimit CodeSizeZipped / CodeSizeUnzipped,
  https://docs.aws.amazon.com/lambda/latest/api/API_AccountLimit.html).
- Azure Functions and Cloud Run source deploys: no package limit was verified, so none is
  enforced (stated in the package's `limits`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import BakeoffError
from stacks.cloud.fn_node import cache_dir, run_fetch

# The handler and its entry points are files of bench/serverless, packed as files (read,
# never imported here).
HERE = Path(__file__).resolve().parents[2] / "bench" / "serverless"
ENTRY = HERE / "entry"
MB = 1024 * 1024
LAMBDA_ZIPPED_MAX = 50 * MB
LAMBDA_UNZIPPED_MAX = 250 * MB
PYTHON = "3.12"
REQUIREMENTS = {"checkout": ["psycopg[binary]>=3.2", "psycopg-pool>=3.2"], "hello": []}
AZURE_REQUIREMENTS = ["azure-functions>=1.20"]
HOST_JSON = ('{\n  "version": "2.0",\n  "extensionBundle": {\n    "id": '
             '"Microsoft.Azure.Functions.ExtensionBundle",\n    "version": "[4.*, 5.0.0)"\n'
             '  }\n}\n')
DOCKERFILE = (f"FROM python:{PYTHON}-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
              "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
              'ENV PYTHONUNBUFFERED=1\nCMD ["python", "main.py"]\n')


class PackageError(BakeoffError):
    """A package that its platform would refuse (too large) or that cannot be built."""

    exit_code = 2


@dataclass(frozen=True)
class Package:
    provider: str
    function: str
    path: Path  # the zip
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: tuple[str, ...]
    vendored: bool  # dependencies inside the archive
    limits: str
    notes: list[str] = field(default_factory=list)
    runtime: str = "python"

    @property
    def lambda_ready(self) -> bool:
        """Runs as uploaded: a Lambda or Flex Consumption zip only with its dependencies
        inside it (Cloud Run's build installs them)."""
        if self.runtime == "node":
            from stacks.cloud.fn_node import vendored_roots

            return self.vendored or not vendored_roots(self.provider, self.function)
        return self.vendored or not vendored_requirements(self.provider, self.function)


def _sources(provider: str, function: str) -> dict[str, bytes]:
    """Archive name -> bytes: the handler code and the provider's entry and manifests."""
    reqs = REQUIREMENTS[function] + (AZURE_REQUIREMENTS if provider == "azure" else [])
    files = {"bakeoff_fn/__init__.py": b"",
             "bakeoff_fn/functions.py": (HERE / "functions.py").read_bytes(),
             "bakeoff_fn/adapter.py": (ENTRY / "adapter.py").read_bytes(),
             "requirements.txt": "".join(f"{r}\n" for r in reqs).encode()}
    if provider == "aws":
        files["lambda_function.py"] = (ENTRY / "lambda_function.py").read_bytes()
    elif provider == "azure":
        files["function_app.py"] = (ENTRY / "function_app.py").read_bytes()
        files["host.json"] = HOST_JSON.encode()
    elif provider == "gcp":
        files["main.py"] = (ENTRY / "main.py").read_bytes()
        files["Dockerfile"] = DOCKERFILE.encode()
    else:
        raise PackageError(f"no function package layout for provider {provider!r}")
    return files


PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
WHEELS_ENV = "BAKEOFF_FN_WHEELS"
# Where a platform imports vendored dependencies from: Lambda puts the zip's root on
# sys.path; Azure Functions Python wants them in ./.python_packages/lib/site-packages
# (https://learn.microsoft.com/azure/azure-functions/python-build-options, "Deployment
# package considerations"): a package put straight into Flex Consumption's deployment
# container is run as it is, no remote build. Cloud Run's Dockerfile installs
# requirements.txt in Cloud Build, so nothing is vendored for gcp.
VENDOR_ROOT = {"aws": "", "azure": ".python_packages/lib/site-packages/"}


def vendored_requirements(provider: str, function: str) -> list[str]:
    """What `function` needs inside the archive on `provider`, pinned to the versions this
    controller runs (the handler is tested with them); one not installed here keeps its
    range. Empty when the platform installs them itself (gcp) or nothing is needed."""
    from importlib.metadata import PackageNotFoundError, version

    if provider not in VENDOR_ROOT or not REQUIREMENTS[function]:
        return []
    out = []
    for req in REQUIREMENTS[function] + (AZURE_REQUIREMENTS if provider == "azure" else []):
        name = req.split(">=")[0]
        try:
            out.append(f"{name}=={version(name.split('[')[0])}")
        except PackageNotFoundError:
            out.append(req)
    return out


def _pip_platform(arch: str) -> list[str]:
    return ["--only-binary=:all:", "--platform", PLATFORMS[arch], "--python-version", PYTHON,
            "--implementation", "cp"]


def platform_wheels(provider: str, function: str, arch: str = "x86_64",
                    download: bool = True) -> Path | None:
    """A directory of the manylinux wheels `function` needs inside its archive on
    `provider`: $BAKEOFF_FN_WHEELS when set, else the cache, filled from the package index
    once (`download`; without it None when the cache is empty: the offline plan). None
    when nothing is vendored. PackageError, with the fix, when no index can be reached."""
    reqs = vendored_requirements(provider, function)
    if not reqs:
        return None
    if os.environ.get(WHEELS_ENV):
        return Path(os.environ[WHEELS_ENV])
    cache = cache_dir(f"{PLATFORMS[arch]}-cp{PYTHON.replace('.', '')}", reqs)
    if (cache / ".complete").exists():
        return cache
    if not download:
        return None
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--retries", "1", "--timeout", "20", "--dest", str(cache), *_pip_platform(arch),
            *reqs]
    detail = run_fetch(argv)
    if detail:
        raise PackageError(
            f"cannot download {' '.join(reqs)} for {provider} ({PLATFORMS[arch]}, Python "
            f"{PYTHON}) from the package index: {detail}. Fix: let pip reach an index (its "
            f"index-url/proxy settings), or set {WHEELS_ENV}=DIR to wheels downloaded "
            f"elsewhere with `pip download {' '.join(_pip_platform(arch))} -d DIR "
            f"{' '.join(reqs)}`")
    (cache / ".complete").write_text(" ".join(reqs) + "\n")
    return cache


def _vendor(provider: str, function: str, wheels: Path, into: Path,
            arch: str = "x86_64") -> None:
    """pip install the requirements for the platform from the wheels in `wheels` only."""
    reqs = vendored_requirements(provider, function)
    argv = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-index", "--find-links", str(wheels), "--target", str(into),
            *_pip_platform(arch), *reqs]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if res.returncode != 0:
        raise PackageError(f"vendoring {' '.join(reqs)} for {provider} from {wheels} "
                           f"failed: {res.stderr.strip()[-600:]} (the directory must hold "
                           f"{PLATFORMS[arch]} wheels of them; ${WHEELS_ENV} or the cache)")


def _zip(path: Path, files: dict[str, bytes], extra_root: Path | None, prefix: str) -> None:
    """Files, then the vendored tree under `prefix`; fixed dates, so the same input gives
    the same archive (and the same source_code_hash: no needless redeploy)."""
    vendored = {} if extra_root is None else {
        prefix + f.relative_to(extra_root).as_posix(): f.read_bytes()
        for f in extra_root.rglob("*") if f.is_file() and "__pycache__" not in f.parts}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted({**vendored, **files}.items()):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def check_limits(provider: str, zip_path: Path) -> tuple[int, int]:
    """(zipped, unzipped) bytes of the archive; PackageError past the platform's limit."""
    zipped = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as zf:
        unzipped = sum(i.file_size for i in zf.infolist())
    if provider == "aws":
        if zipped > LAMBDA_ZIPPED_MAX:
            raise PackageError(f"Lambda package {zip_path.name} is {zipped / MB:.1f} MB zipped; "
                               "a direct upload takes at most 50 MB (upload through S3 or "
                               "trim the dependencies)")
        if unzipped > LAMBDA_UNZIPPED_MAX:
            raise PackageError(f"Lambda package {zip_path.name} is {unzipped / MB:.1f} MB "
                               "unzipped; Lambda takes at most 250 MB unzipped")
    return zipped, unzipped


def build(provider: str, function: str, out_dir: Path, wheels: Path | None = None,
          extra: dict[str, bytes] | None = None, runtime: str = "python",
          npm: Path | None = None) -> Package:
    """Build `function`'s package for `provider` into out_dir/<provider>-<function>.zip.
    `extra` adds files (tests plant an oversize one this way). runtime node packs
    bench/serverless/node with `pg` unpacked from the npm tarballs in `npm`
    (stacks/cloud/fn_node.py); `wheels` is for python."""
    if function not in REQUIREMENTS:
        raise PackageError(f"unknown function {function!r}: expected checkout or hello")
    out_dir.mkdir(parents=True, exist_ok=True)
    if runtime == "node":
        return _build_node(provider, function, out_dir, npm, extra or {})
    if runtime != "python":
        raise PackageError(f"unknown runtime {runtime!r}: expected python or node")
    files = {**_sources(provider, function), **(extra or {})}
    notes: list[str] = []
    vendor_dir = None
    needs = vendored_requirements(provider, function)
    vendored = not REQUIREMENTS[function]  # True: the dependencies are inside the archive
    if needs and wheels is not None:
        vendor_dir = out_dir / f".vendor-{provider}-{function}"
        shutil.rmtree(vendor_dir, ignore_errors=True)
        _vendor(provider, function, wheels, vendor_dir)
        vendored = True
    elif needs:
        notes.append("dependencies NOT vendored (no manylinux wheels given): "
                     "requirements.txt only; the platform would fail the import of "
                     "psycopg_pool at init")
    elif REQUIREMENTS[function]:
        notes.append(f"requirements.txt installed by the platform's build ({provider})")
    path = out_dir / f"{provider}-{function}.zip"
    _zip(path, files, vendor_dir, VENDOR_ROOT.get(provider, ""))
    if vendor_dir is not None:
        shutil.rmtree(vendor_dir, ignore_errors=True)
    try:
        zipped, unzipped = check_limits(provider, path)
    except PackageError:
        path.unlink(missing_ok=True)
        raise
    with zipfile.ZipFile(path) as zf:
        names = tuple(zf.namelist())
    limits = ("50 MB zipped, 250 MB unzipped (Lambda quotas)" if provider == "aws"
              else "none verified, none enforced")
    return Package(provider, function, path, hashlib.sha256(path.read_bytes()).hexdigest(),
                   zipped, unzipped, names, vendored, limits, notes)


def _build_node(provider: str, function: str, out_dir: Path, npm: Path | None,
                extra: dict[str, bytes]) -> Package:
    """The node package: its files, then node_modules from integrity-checked tarballs (aws,
    azure) or the pruned lockfile Cloud Build installs (gcp)."""
    from stacks.cloud.fn_node import NodeDepsError, roots, sources, unpack, vendored_roots

    try:
        files = {**sources(provider, function, HOST_JSON), **extra}
        needs = vendored_roots(provider, function)
        notes: list[str] = []
        if needs and npm is not None:
            files = {**unpack(needs, npm), **files}
        elif needs:
            notes.append(f"dependencies NOT vendored (no npm tarballs given): package.json "
                         f"only; the platform would fail to load {needs[0]}")
        elif provider == "gcp" and function == "checkout":
            notes.append("package-lock.json installed by the platform's build (npm ci)")
    except NodeDepsError as e:
        raise PackageError(str(e)) from None
    path = out_dir / f"node-{provider}-{function}.zip"
    _zip(path, files, None, "")
    try:
        zipped, unzipped = check_limits(provider, path)
    except PackageError:
        path.unlink(missing_ok=True)
        raise
    limits = ("50 MB zipped, 250 MB unzipped (Lambda quotas)" if provider == "aws"
              else "none verified, none enforced")
    return Package(provider, function, path, hashlib.sha256(path.read_bytes()).hexdigest(),
                   zipped, unzipped, tuple(sorted(files)),
                   bool(needs and npm is not None) or not roots(provider, function),
                   limits, notes, "node")
