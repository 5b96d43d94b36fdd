"""Results roots that are folders or fsspec URLs (s3://, gs://, az://, memory://, file://).

Everything that reads or writes a campaign works on local folders. A remote root is
handled at the edges only: `materialize` copies the small files of each campaign (manifest,
scenario, Parquet tables, scores) into a local cache before reading, and `staged_upload`
lets a run write to a local folder that is uploaded whole once the campaign has finished,
so a half-written campaign never appears in shared storage.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import BakeoffError, PrerequisiteError

# What a reader needs from a campaign folder; raw/ and units/ stay where they are.
READ_FILES = ("manifest.json", "scenario.yaml", "samples.parquet", "histograms.parquet",
              "scores/scores.json")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_url(ref: str | Path) -> bool:
    return isinstance(ref, str) and bool(_URL.match(ref))


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a core dependency
        raise PrerequisiteError("fsspec is needed for results URLs; "
                                "pip install 'cloud-bakeoff'") from None
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:
        scheme = url.split("://", 1)[0]
        hint = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs",
                "abfs": "adlfs"}.get(scheme, f"the fsspec driver for {scheme}://")
        raise PrerequisiteError(f"{url}: cannot open this results URL ({e}); install "
                                f"{hint} (pip install {hint})") from None
    return fs, path.rstrip("/")


def _cache_root() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "bakeoff" / "remote"


def materialize(root: str | Path, campaign: str | None = None) -> Path:
    """A local folder mirroring the readable files of a results root (or one campaign).

    A local path is returned as it is. For a URL, each campaign's small files are copied
    into a cache keyed by the URL; files already cached with the same size are kept.
    """
    if not is_url(root):
        return Path(root)
    url = str(root)
    fs, base = _filesystem(url)
    local = _cache_root() / hashlib.sha256(url.encode()).hexdigest()[:16]
    try:
        manifests = fs.glob(f"{base}/{campaign or '*'}/manifest.json")
        for manifest in manifests:
            folder = manifest.rsplit("/", 2)[-2]
            for name in READ_FILES:
                src = f"{base}/{folder}/{name}"
                dst = local / folder / name
                if not fs.exists(src):
                    continue
                if dst.is_file() and dst.stat().st_size == fs.size(src):
                    continue
                dst.parent.mkdir(parents=True, exist_ok=True)
                fs.get(src, str(dst))
    except OSError as e:
        raise BakeoffError(f"{url}: cannot read results there: {e}") from None
    local.mkdir(parents=True, exist_ok=True)
    return local


def upload(folder: Path, root: str) -> str:
    """Copy a finished campaign folder to `root/<campaign-id>/`; return its URL."""
    fs, base = _filesystem(root)
    target = f"{base}/{folder.name}"
    try:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                dst = f"{target}/{path.relative_to(folder).as_posix()}"
                fs.makedirs(dst.rsplit("/", 1)[0], exist_ok=True)
                fs.put_file(str(path), dst)
    except OSError as e:
        raise BakeoffError(f"{root}: upload of {folder.name} failed ({e}); the campaign is "
                           f"kept locally in {folder}") from None
    return f"{root.rstrip('/')}/{folder.name}"


@contextmanager
def staged_upload(root: str | Path) -> Iterator[Path]:
    """Yield a local results root; for a URL, upload every campaign written there after.

    The local staging folder is removed only after a successful upload, so nothing
    measured is lost when the storage is unreachable.
    """
    if not is_url(root):
        yield Path(root)
        return
    _filesystem(str(root))  # fail before measuring when the driver is missing
    staging = Path(tempfile.mkdtemp(prefix="bakeoff-staging-"))
    try:
        yield staging
    finally:
        for folder in sorted(p for p in staging.iterdir() if p.is_dir()):
            upload(folder, str(root))
        shutil.rmtree(staging, ignore_errors=True)
