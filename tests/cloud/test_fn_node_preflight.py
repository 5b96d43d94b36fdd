"""The preflight of a node function site fills exactly the npm cache entry the package
build then reads (package_for looks the tarballs up with download=False, the cache being
keyed by the closure's name@version list). Planted: a preflight fetching the union of
checkout's and hello's roots filled another entry, so an Azure `function: hello` site was
packed without @azure/functions and its app could not load."""

from __future__ import annotations

import pytest

from stacks.cloud.fn_common import run_problems
from stacks.cloud.fn_node import tarballs, vendored_roots
from stacks.cloud.fn_package import build
from tests.cloud.test_fn_programs import CAMPAIGN, SITES
from tests.conftest import requires_tools


@requires_tools("node", "npm")
@pytest.mark.parametrize("provider,function", [("azure", "hello"), ("azure", "checkout"),
                                               ("aws", "checkout")])
def test_the_preflight_fills_the_cache_the_package_reads(provider, function, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv("BAKEOFF_FN_CACHE", str(tmp_path / "cache"))  # empty: the real npm
    monkeypatch.delenv("BAKEOFF_FN_NPM", raising=False)
    base = SITES[provider]
    assert base.serverless is not None
    site = base.model_copy(update={"serverless": base.serverless.model_copy(
        update={"runtime": "node", "function": function})})
    assert run_problems(site, CAMPAIGN) == []
    npm = tarballs(vendored_roots(provider, function), download=False)  # package_for's look-up
    assert npm is not None
    pkg = build(provider, function, tmp_path / "out", runtime="node", npm=npm)
    assert pkg.vendored and pkg.lambda_ready
    assert "node_modules/@azure/functions/package.json" in pkg.files if provider == "azure" \
        else "node_modules/pg/package.json" in pkg.files


def test_a_node_lambda_that_needs_no_package_needs_no_preflight(tmp_path, monkeypatch):
    monkeypatch.setenv("BAKEOFF_FN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm: nothing may be fetched
    base = SITES["aws"]
    assert base.serverless is not None
    site = base.model_copy(update={"serverless": base.serverless.model_copy(
        update={"runtime": "node", "function": "hello"})})
    assert run_problems(site, CAMPAIGN) == []
    assert not (tmp_path / "cache").exists()


def test_a_fetch_that_fails_or_hangs_says_so():
    """run_fetch, shared by `pip download` and `npm pack`: the client's own words, or the
    timeout; '' only when the client exited 0."""
    import sys

    from stacks.cloud.fn_node import run_fetch

    assert run_fetch([sys.executable, "-c", "print('fetched')"]) == ""
    assert run_fetch([sys.executable, "-c", "import sys; sys.exit('E404 no such package')"]) \
        == "E404 no such package"
    assert run_fetch([sys.executable, "-c", "print('only stdout'); raise SystemExit(1)"]) \
        == "only stdout"
    assert run_fetch([sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=1) \
        == "timed out after 1 s"
