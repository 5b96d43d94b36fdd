"""Build a function site's package: the same handler code, laid out as each platform wants it.

One source (bench/serverless/functions.py, the reference checkout handler and the hello
baseline, plus entry/adapter.py) is packed three ways, as real files:

- **aws** (Lambda, zip upload): `lambda_function.py` at the zip's root (handler
  `lambda_function.handler`), `bakeoff_fn/` beside it, dependencies vendored into the zip
  root when a directory of manylinux wheels is given (Lambda installs nothing itself).
- **azure** (Functions, Python v2 programming model, Flex Consumption): `function_app.py`,
  `host.json`, `requirements.txt` and `bakeoff_fn/` at the root; the platform's remote
  build installs requirements.txt.
- **gcp** (Cloud Run, source deploy): `Dockerfile`, `requirements.txt`, `main.py` and
  `bakeoff_fn/`; Cloud Build builds the container and installs the requirements.

Vendoring for Lambda needs the psycopg binary wheel for manylinux x86_64: without network
access to a package index that is possible only from wheels already at hand, so the
builder vendors from `wheels=DIR` (e.g. filled by `pip download --platform
manylinux2014_x86_64 --only-binary=:all: -d DIR psycopg[binary] psycopg-pool`) and
otherwise builds the zip with requirements.txt only and says so (`vendored: False`): such
a checkout package would fail its first import on Lambda, and `lambda_ready` says that.

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
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import BakeoffError

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

    @property
    def lambda_ready(self) -> bool:
        """A Lambda zip runs only with its dependencies inside it."""
        return self.provider != "aws" or self.vendored or not REQUIREMENTS[self.function]


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


def _vendor(function: str, wheels: Path, into: Path) -> None:
    """pip install the requirements for Lambda's platform from local wheels only."""
    if not REQUIREMENTS[function]:
        return
    argv = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--find-links",
            str(wheels), "--target", str(into), "--platform", "manylinux2014_x86_64",
            "--python-version", PYTHON, "--only-binary=:all:", "--implementation", "cp",
            *REQUIREMENTS[function]]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if res.returncode != 0:
        raise PackageError(f"vendoring {', '.join(REQUIREMENTS[function])} for Lambda from "
                           f"{wheels} failed: {res.stderr.strip()[-600:]}")


def _zip(path: Path, files: dict[str, bytes], extra_root: Path | None) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # reproducible
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
        if extra_root is not None:
            for f in sorted(p for p in extra_root.rglob("*") if p.is_file()):
                zf.write(f, f.relative_to(extra_root).as_posix())


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
          extra: dict[str, bytes] | None = None) -> Package:
    """Build `function`'s package for `provider` into out_dir/<provider>-<function>.zip.
    `extra` adds files (tests plant an oversize one this way)."""
    if function not in REQUIREMENTS:
        raise PackageError(f"unknown function {function!r}: expected checkout or hello")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {**_sources(provider, function), **(extra or {})}
    notes: list[str] = []
    vendor_dir = None
    vendored = not REQUIREMENTS[function]
    if provider == "aws" and REQUIREMENTS[function]:
        if wheels is not None:
            vendor_dir = out_dir / f".vendor-{function}"
            _vendor(function, wheels, vendor_dir)
            vendored = True
        else:
            notes.append("dependencies NOT vendored (no manylinux wheels at hand, no "
                         "index offline): requirements.txt only; Lambda would fail the "
                         "import of psycopg_pool at init")
    elif REQUIREMENTS[function]:
        notes.append(f"requirements.txt installed by the platform's build ({provider})")
    path = out_dir / f"{provider}-{function}.zip"
    _zip(path, files, vendor_dir)
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
