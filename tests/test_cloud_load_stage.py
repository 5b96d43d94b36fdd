"""The load stage on a cloud site, end to end: bakeoff's source shipped to the "VMs",
the reference service on the server against the site's database, Locust distributed over
two load-generator hosts (master on the first, workers on both), pgbench from the client.

The VMs are real sshd processes on loopback (tests/cloud_fake.py) and the "managed
database" a real PostgreSQL this module starts; only Pulumi itself is faked.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

from bench.orchestrator import Orchestrator
from bench.scenarios import parse_campaign
from stacks.cloud.provisioner import CloudProvisioner
from stacks.payload import PAYLOAD_DIR, payload_bytes, payload_members
from tests.cloud_fake import FakeWorkspace
from tests.conftest import requires_tools
from tests.sshd_support import needs_sshd

pytestmark = [needs_sshd, requires_tools("pgbench")]


def _campaign(workloads):
    site = {"name": "aws", "provider": "aws", "region": "us-east-1",
            "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.xlarge",
            "loadgen": 2, "ssh_cidr": "192.0.2.10/32",
            "database": {"instance": "db.m6i.large", "storage_gb": 20}}
    return parse_campaign({"name": "cloud-load", "repetitions": 1, "sites": [site],
                           "workloads": workloads}, "test")


def _provisioner(tmp_path, database):
    db = {k: getattr(database, k) for k in ("host", "port", "user", "password", "dbname")}
    ws = FakeWorkspace(tmp_path / "stacks", database=db)
    # the loopback "VMs" run no cloud-init: their Python is this one (with the libraries
    # cloud-init would install); bakeoff's own code still comes from the shipped payload
    return CloudProvisioner("aws", workspace=ws, state_root=tmp_path / "state",
                            detect_ip=lambda: None, ssh_deadline_s=30,
                            host_python=sys.executable), ws


def test_payload_holds_the_host_side_modules_and_nothing_else():
    names = {str(p) for p in payload_members()}
    for needed in ("bench/poc/serve.py", "bench/poc/schema.sql", "bench/poc/hot_queries.sql",
                   "bench/workloads/_locust_hdr.py", "bench/hdr.py", "bench/poc/pgbench_log.py",
                   "stacks/executors/ports.py", "core/environment.py"):
        assert needed in names
    assert not any(n.startswith(("tests/", "scoring/", "bakeoff/")) or "__pycache__" in n
                   for n in names)
    with tarfile.open(fileobj=io.BytesIO(payload_bytes()), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == sorted(names)
        assert {m.uid for m in tar.getmembers()} == {0}


def test_host_side_modules_need_only_what_cloud_init_installs(tmp_path):
    """Import the host-side entry points from an unpacked payload and check that every
    third-party module they pull in comes from cloud-init's pip list (or its dependencies)."""
    from importlib import metadata

    from packaging.utils import canonicalize_name

    from stacks.cloud.cloudinit import base_config

    with tarfile.open(fileobj=io.BytesIO(payload_bytes()), mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    pip = next(c for c in base_config()["runcmd"] if "install" in c)
    allowed = _requirement_closure(pip[pip.index("-q") + 1:])
    probe = ("import sys, json, bench, bench.poc.serve, bench.poc.app, bench.poc.db, "
             "bench.poc.pgbench_log, stacks.executors.ports\n"
             "import bench.workloads._locust_hdr\n"
             "print(json.dumps({'bench': bench.__file__, "
             "'mods': sorted({m.split('.')[0] for m in sys.modules})}))")
    res = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(tmp_path),
                                                      "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["bench"].startswith(str(tmp_path))  # the payload, not this checkout
    dists = metadata.packages_distributions()
    foreign = sorted(m for m in out["mods"]
                     if m not in sys.stdlib_module_names and m not in {"core", "bench", "stacks"}
                     and not m.startswith("_") and m != "cython_runtime"  # Cython's, no package
                     and not any(canonicalize_name(d) in allowed for d in dists.get(m, [m])))
    assert foreign == []


def _requirement_closure(requirements: list[str]) -> set[str]:
    """Distribution names these requirements install (with extras), as installed here."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue
        for line in dist.requires or []:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e})
                                         for e in ("", *req.extras)):
                todo.append(dep)
    return {name for name, _ in seen}


def test_cloud_site_runs_the_load_stage_end_to_end(tmp_path, database):
    campaign = _campaign([
        {"name": "http-load", "params": {"users": 4, "spawn_rate": 4, "duration_s": 3,
                                         "processes": 1}},
        {"name": "db-query", "params": {"clients": 2, "duration_s": 2}}])
    prov, ws = _provisioner(tmp_path, database)
    orch = Orchestrator(campaign, tmp_path / "results", quiet=True, provisioners={"aws": prov})
    try:
        folder = orch.run(campaign_id="load1")
    finally:
        prov.down_site("load1", "aws")
    assert ws.stacks() == []
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete", json.dumps(manifest["units"], indent=1)[-3000:]
    raw_http = json.loads(_raw(folder, "http-load"))
    assert raw_http["loadgen_hosts"] == ["loadgen", "loadgen-1"]
    assert raw_http["processes"] == 2
    locust = raw_http["locust"]
    assert locust["worker_processes"] == 2 and locust["workers_reported"] == 2
    assert sum(e["requests"] for e in locust["endpoints"].values()) > 0
    raw_db = json.loads(_raw(folder, "db-query"))
    assert raw_db["log"]["transactions"] > 0 and raw_db["log"]["failed"] == 0
    import pandas as pd

    samples = pd.read_parquet(folder / "samples.parquet")
    assert {"http-load", "db-query"} <= set(samples["workload"])


def test_hosts_run_the_shipped_source(tmp_path, database):
    campaign = _campaign([])
    prov, ws = _provisioner(tmp_path, database)
    env = prov.up(campaign.sites[0], campaign, "load2")
    try:
        for host in (env.server, env.client, env.hosts["loadgen"], env.hosts["loadgen-1"]):
            root = host.facts["bakeoff_root"]
            assert root == f"{host.facts['scratch_dir']}/{PAYLOAD_DIR}"
            res = host.executor.run([host.facts["python"], "-c",
                                     "import bench.poc.serve as m; print(m.__file__)"],
                                    timeout=60, env={"PYTHONPATH": root})
            assert res.ok and res.stdout.strip().startswith(root), res.stderr
        assert env.database is not None and env.database.kind == "rds"
    finally:
        prov.down(env)
        prov.down_site("load2", "aws")
    assert ws.stacks() == []
    # the loopback "VMs" outlive their stack: teardown removed what bakeoff put on them
    assert not [h.facts["scratch_dir"] for h in env.hosts.values()
                if Path(h.facts["scratch_dir"]).exists()]


def _raw(folder, workload: str) -> str:
    hits = sorted(p for p in folder.rglob("*") if p.is_file() and workload in str(p)
                  and p.suffix in (".json", ".txt", ".out") and "raw" in str(p))
    assert hits, f"no raw output of {workload} under {folder}"
    return hits[0].read_text()



def test_cloud_init_installs_every_library_the_workloads_declare():
    """What `check_remote_tools` asks of a host is what cloud-init's pip line installs."""
    from importlib import metadata

    from packaging.utils import canonicalize_name

    from bench.workloads import REGISTRY
    from stacks.cloud.cloudinit import base_config

    pip = next(c for c in base_config()["runcmd"] if "install" in c)
    allowed = _requirement_closure(pip[pip.index("-q") + 1:])
    dists = metadata.packages_distributions()
    declared = {m for w in REGISTRY.values() if hasattr(w, "host_modules")
                for mods in w.host_modules({}).values() for m in mods}
    assert declared >= {"locust", "psycopg", "uvicorn"}
    assert {m for m in declared
            if not any(canonicalize_name(d) in allowed for d in dists.get(m, []))} == set()
