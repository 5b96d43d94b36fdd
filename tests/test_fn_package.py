"""The function package builder with real files: layouts per provider, the same handler
bytes in each, the Lambda entry point really run, and Lambda's size limits enforced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from stacks.cloud import fn_package as pkg

SOURCE = pkg.HERE / "functions.py"  # bench/serverless/functions.py, packed as a file


@pytest.mark.parametrize("provider,entry,extra", [
    ("aws", "lambda_function.py", ()),
    ("azure", "function_app.py", ("host.json",)),
    ("gcp", "main.py", ("Dockerfile",)),
])
def test_layout_per_provider_carries_the_same_handler(tmp_path, provider, entry, extra):
    p = pkg.build(provider, "checkout", tmp_path)
    with zipfile.ZipFile(p.path) as zf:
        names = set(zf.namelist())
        assert {entry, "requirements.txt", "bakeoff_fn/functions.py", "bakeoff_fn/adapter.py",
                "bakeoff_fn/__init__.py", *extra} <= names
        assert all("/" not in n for n in (entry, *extra))  # at the archive's root
        assert zf.read("bakeoff_fn/functions.py") == SOURCE.read_bytes()
        reqs = zf.read("requirements.txt").decode()
        assert "psycopg[binary]" in reqs and "psycopg-pool" in reqs
        if provider == "azure":
            assert "azure-functions" in reqs
            assert json.loads(zf.read("host.json"))["version"] == "2.0"
        if provider == "gcp":
            assert 'CMD ["python", "main.py"]' in zf.read("Dockerfile").decode()
    assert p.zipped_bytes == p.path.stat().st_size
    assert p.unzipped_bytes == sum(i.file_size for i in zipfile.ZipFile(p.path).infolist())


def test_same_input_same_archive(tmp_path):
    a = pkg.build("aws", "hello", tmp_path / "a")
    b = pkg.build("aws", "hello", tmp_path / "b")
    assert a.sha256 == b.sha256


def test_lambda_checkout_without_wheels_says_it_is_not_vendored(tmp_path):
    p = pkg.build("aws", "checkout", tmp_path)
    assert not p.vendored and not p.lambda_ready
    assert any("NOT vendored" in n for n in p.notes)
    hello = pkg.build("aws", "hello", tmp_path)
    assert hello.lambda_ready  # nothing to vendor


def test_the_lambda_entry_point_runs_from_the_unpacked_zip(tmp_path):
    """Unpack the real zip and call lambda_function.handler as Lambda would (a function URL
    event, payload format 2.0, body base64): the first call is cold, the second warm."""
    p = pkg.build("aws", "hello", tmp_path)
    root = tmp_path / "unpacked"
    zipfile.ZipFile(p.path).extractall(root)
    code = ("import json, base64, lambda_function as f\n"
            "ev = {'body': base64.b64encode(b'{}').decode(), 'isBase64Encoded': True}\n"
            "print(json.dumps([f.handler(ev, None), f.handler({'body': '{}'}, None)]))\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env={"PATH": os.environ.get("PATH", ""), "BAKEOFF_FUNCTION": "hello"},
                         timeout=60, check=True)
    first, second = json.loads(res.stdout)
    assert first["statusCode"] == 200 and json.loads(first["body"]) == {"message": "hello"}
    assert first["headers"]["X-Bakeoff-Cold"] == "1"
    assert second["headers"]["X-Bakeoff-Cold"] == "0"


def test_oversize_zipped_package_is_refused_and_removed(tmp_path):
    # incompressible bytes: 51 MB zipped is over the 50 MB direct-upload limit
    extra = {"blob.bin": os.urandom(51 * 1024 * 1024)}
    with pytest.raises(pkg.PackageError, match="50 MB"):
        pkg.build("aws", "hello", tmp_path, extra=extra)
    assert not (tmp_path / "aws-hello.zip").exists()


def test_oversize_unzipped_package_is_refused(tmp_path):
    # zeros compress to almost nothing: small zip, 251 MB unzipped
    extra = {"zeros.bin": bytes(251 * 1024 * 1024)}
    with pytest.raises(pkg.PackageError, match="250 MB unzipped"):
        pkg.build("aws", "hello", tmp_path, extra=extra)


def test_the_same_oversize_is_not_a_lambda_limit_elsewhere(tmp_path):
    p = pkg.build("gcp", "hello", tmp_path, extra={"zeros.bin": bytes(251 * 1024 * 1024)})
    assert p.unzipped_bytes > pkg.LAMBDA_UNZIPPED_MAX and "none" in p.limits


def test_the_request_path_picks_the_function(tmp_path):
    """Both functions are packed; /fn/hello is served by hello even where the app's default
    is checkout (whose init would need a database): one deployment serves the baseline."""
    p = pkg.build("aws", "checkout", tmp_path)
    root = tmp_path / "unpacked"
    zipfile.ZipFile(p.path).extractall(root)
    code = ("import json, lambda_function as f\n"
            "print(json.dumps([f.handler({'rawPath': '/fn/hello', 'body': '{}'}, None),\n"
            "                  f.handler({'rawPath': '/fn/nope', 'body': '{}'}, None)]))\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=60, check=True,
                         env={"PATH": os.environ.get("PATH", ""),
                              "BAKEOFF_FUNCTION": "checkout"})
    hello, unknown = json.loads(res.stdout)
    assert hello["statusCode"] == 200 and json.loads(hello["body"]) == {"message": "hello"}
    assert unknown["statusCode"] == 404
