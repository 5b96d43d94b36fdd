"""runtime: node on the three cloud function programs, under Pulumi mocks and the provider
rules: the runtime names each platform accepts, the node package uploaded, a planted
runtime the platform refuses caught by the rules; and the node packages as real files."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import zipfile

import pytest

from stacks.cloud import fn_node, rules
from stacks.cloud.fn_package import PackageError, build
from tests.cloud.test_fn_programs import _declare as declare
from tests.cloud.test_fn_programs import _one
from tests.conftest import requires_tools


def _declare(provider: str):
    return declare(provider, runtime="node")


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_node_function_programs_pass_the_provider_rules(provider, tmp_path):
    spec, p = _declare(provider)
    assert rules.violations(spec, p.resources) == []
    out = p.outputs["function"]
    # the platform's own spelling: Lambda's identifier, Flex's name + version, the image's
    assert out["runtime"] == {"aws": "nodejs22.x", "azure": "node 22", "gcp": "node 22"}[provider]
    if provider == "gcp":  # Cloud Run builds what is uploaded: the node source, byte for byte
        assert out["package_sha256"] == build("gcp", "checkout", tmp_path, runtime="node").sha256


def test_lambda_runs_index_handler_on_nodejs22():
    _spec, p = _declare("aws")
    fn = _one(p, "aws:lambda/function:Function").properties
    assert fn["runtime"] == "nodejs22.x" and fn["handler"] == "index.handler"


def test_flex_app_runs_node_22():
    _spec, p = _declare("azure")
    app = _one(p, "azure-native:web:WebApp").properties
    assert app["functionAppConfig"]["runtime"] == {"name": "node", "version": "22"}


@pytest.mark.parametrize("provider,token,path,bad", [
    ("aws", "aws:lambda/function:Function", ("runtime",), "nodejs20.x"),  # deprecated
    ("aws", "aws:lambda/function:Function", ("runtime",), "node22"),
    ("azure", "azure-native:web:WebApp", ("functionAppConfig", "runtime"),
     {"name": "node", "version": "18"}),
    ("azure", "azure-native:web:WebApp", ("functionAppConfig", "runtime"),
     {"name": "nodejs", "version": "22"}),
])
def test_a_planted_runtime_the_platform_refuses_is_caught(provider, token, path, bad):
    spec, p = _declare(provider)

    def plant(props):
        props = json.loads(json.dumps(props, default=str))
        target = props
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        return props

    planted = [rules.Resource(r.type, r.name, plant(r.properties)) if r.type == token else r
               for r in p.resources]
    found = rules.violations(spec, planted)
    assert len(found) == 1 and found[0].property == ".".join(path), found


node_tools = requires_tools("node", "npm")


def _tarballs():
    return fn_node.tarballs(["pg", "@azure/functions"])  # the registry, once, then the cache


@node_tools
def test_lambda_node_zip_runs_its_handler_from_the_unpacked_archive(tmp_path):
    pkg = build("aws", "checkout", tmp_path, runtime="node", npm=_tarballs())
    assert pkg.vendored and pkg.lambda_ready and pkg.runtime == "node"
    with zipfile.ZipFile(pkg.path) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "unpacked")
    assert {"index.js", "adapter.js", "functions.js", "package.json",
            "node_modules/pg/package.json", "node_modules/pg-pool/index.js"} <= names
    assert not any(n.startswith("node_modules/@azure/") for n in names)  # Azure's only
    assert not any(n.startswith("node_modules/pg-cloudflare/") for n in names)  # optional
    # the vendored pg is the locked version (read from the archive, not from the lock code)
    pg = json.loads((tmp_path / "unpacked" / "node_modules" / "pg" / "package.json").read_text())
    assert pg["version"] == "8.23.1"
    # Lambda's call: index.handler with a function URL event, pg loadable from the zip alone
    script = ("const {handler} = require('./index');"
              "handler({rawPath: '/fn/hello', body: '{}'}).then(r => {"
              "require('pg'); console.log(JSON.stringify(r)); });")
    res = subprocess.run(["node", "-e", script], cwd=tmp_path / "unpacked", capture_output=True,
                         text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}, check=True)
    answer = json.loads(res.stdout)
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == {"message": "hello"}
    assert answer["headers"]["X-Bakeoff-Cold"] == "1"


@node_tools
def test_azure_node_layout_is_the_v4_model_with_its_library(tmp_path):
    pkg = build("azure", "checkout", tmp_path, runtime="node", npm=_tarballs())
    with zipfile.ZipFile(pkg.path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("package.json"))
        host = json.loads(zf.read("host.json"))
    assert manifest["main"] == "src/functions/*.js"
    assert manifest["dependencies"] == {"@azure/functions": "4.16.5", "pg": "8.23.1"}
    assert {"src/functions/invoke.js", "node_modules/@azure/functions/package.json",
            "node_modules/pg/package.json"} <= names
    assert host["version"] == "2.0"


def test_cloud_run_node_source_pins_the_lockfile_for_npm_ci(tmp_path):
    pkg = build("gcp", "checkout", tmp_path, runtime="node")
    with zipfile.ZipFile(pkg.path) as zf:
        names = set(zf.namelist())
        lock = json.loads(zf.read("package-lock.json"))
        docker = zf.read("Dockerfile").decode()
    assert not any(n.startswith("node_modules/") for n in names) and not pkg.vendored
    assert docker.startswith("FROM node:22-slim") and "npm ci --omit=dev" in docker
    assert lock["packages"][""]["dependencies"] == {"pg": "8.23.1"}
    # npm ci needs every package of the tree, the optional one included; Azure's is not
    assert "node_modules/pg-cloudflare" in lock["packages"]
    assert not any("@azure" in k for k in lock["packages"])


@node_tools
def test_a_tarball_that_fails_its_integrity_is_refused_by_name(tmp_path):
    source = _tarballs()
    bad = tmp_path / "npm"
    bad.mkdir()
    for tgz in source.glob("*.tgz"):
        (bad / tgz.name).write_bytes(tgz.read_bytes())
    # a pg-pool tarball with one file changed: still a valid archive, another digest
    target = bad / "pg-pool-3.14.0.tgz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(target.read_bytes()), mode="r:gz") as src, \
            tarfile.open(fileobj=buf, mode="w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            if m.name == "package/index.js":
                data += b"\n// planted\n"
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    target.write_bytes(buf.getvalue())
    with pytest.raises(PackageError) as info:
        build("aws", "checkout", tmp_path / "out", runtime="node", npm=bad)
    assert "pg-pool-3.14.0.tgz" in str(info.value) and "integrity" in str(info.value)
    assert not list((tmp_path / "out").glob("*.zip"))  # nothing half-built left


@node_tools
def test_the_lockfile_integrity_is_the_registrys_sha512():
    """The digest check compared with a second method: hashlib over the tarball vs the
    lockfile's SRI string, decoded by hand."""
    import base64

    source = _tarballs()
    entry = fn_node.lockfile()["packages"]["node_modules/pg"]
    data = (source / "pg-8.23.1.tgz").read_bytes()
    assert base64.b64decode(entry["integrity"].removeprefix("sha512-")) == \
        hashlib.sha512(data).digest()
    assert fn_node.integrity_problem(data, entry) is None
    assert fn_node.integrity_problem(data + b"x", entry) is not None
