"""Plant each bug of issue 24 in a scratch copy of the code and check a test catches it.

Every entry is one plausible one-line bug in a rule (the mutation), and the test that must
fail when it is there. For each: copy the repository to a temporary folder, make the
edit there (the working tree is never touched), run that test, and expect it to FAIL;
then run it on the unmutated copy and expect it to PASS. The list is docs/testing.md's
table, kept here so it can be re-run:

    python scripts/planted_mutations.py            # all
    python scripts/planted_mutations.py ping-p99   # some, by name
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    test: str  # pytest node id(s), space separated


STATS = "tests/test_rules_bite_stats.py"
HDR = "tests/test_rules_bite_hdr.py"
TCO_SLA = "tests/test_rules_bite_tco_sla.py"
RUNS = "tests/test_runs_bite.py"

MUTATIONS = [
    Mutation("ping-p99", "bench/workloads/ping.py", "nearest_rank(replies, 99.0)",
             "max(replies)", f"{STATS}::test_ping_p99_is_nearest_rank_not_the_maximum"),
    Mutation("bootstrap-90", "scoring/stats.py", "CONFIDENCE = 0.95", "CONFIDENCE = 0.90",
             f"{STATS}::test_bootstrap_interval_is_95_percent_at_twelve_repetitions"),
    Mutation("hdr-multiplicities", "scoring/hdr_stats.py", "merged = m @ self.counts",
             "merged = (m > 0) @ self.counts",
             f"{HDR}::test_hdr_bootstrap_statistic_honours_multiplicities"),
    Mutation("median-lower-middle", "scoring/stats.py", "return (lo + hi) / 2.0",
             "return lo",
             f"{STATS}::test_even_count_median_is_the_mean_of_the_two_middle_values"),
    Mutation("egress-gap", "scoring/tco.py", "if t.tier_start_gb != edge:",
             "if False:",
             f"{TCO_SLA}::test_egress_tiers_priced_cumulatively_and_a_gap_is_refused"),
    Mutation("sla-or", "scoring/sla.py", "len(site.zones) >= 2 and instances >= 2",
             "len(site.zones) >= 2 or instances >= 2",
             f"{TCO_SLA}::test_sla_tier_varies_zones_and_instances_apart"),
    Mutation("hdr-duplicates", "bench/hdr.py", "    return merge(picked)",
             "    return merge(dict.fromkeys(picked))",
             f"{HDR}::test_hdr_merge_keeps_duplicate_histograms"),
    Mutation("mean-is-p50", "bench/hdr.py", 'out["latency_mean"] = mean_us(hist) / 1000.0',
             'out["latency_mean"] = out["latency_p50"]',
             f"{HDR}::test_latency_mean_is_the_mean_not_the_median"),
    Mutation("resume-raw-checksum", "bench/results.py",
             'return not (raw and recorded.get("raw_sha256")',
             'return True or not (raw and recorded.get("raw_sha256")',
             f"{RUNS}::test_resume_remeasures_a_unit_whose_raw_output_was_altered"),
    Mutation("gc-without-flock", "bench/lock.py",
             "        if not _try_flock(fd):\n            os.close(fd)\n            return False",
             "        if False:\n            os.close(fd)\n            return False",
             f"{RUNS}::test_gc_does_not_collect_a_campaign_that_came_alive"),
    Mutation("budget-never-refuses", "bakeoff/campaign_cost.py",
             "if total > campaign.budget_usd:", "if False:",
             f"{RUNS}::test_budget_estimate_refuses_over_and_passes_under "
             f"{RUNS}::test_run_over_budget_is_refused_before_anything_is_created"),
    Mutation("budget-never-stops", "bench/orchestrator.py", "if spent > budget:",
             "if False:", f"{RUNS}::test_campaign_stops_when_its_spend_passes_the_budget"),
    Mutation("peers-public-address", "stacks/cloud/provisioner.py",
             'Host(name, h["zone"], h["private_ip"], execs[role], facts)',
             'Host(name, h["zone"], h["public_ip"], execs[role], facts)',
             "tests/test_cloud_fake_network.py"),
    Mutation("passphrase-untranslated", "stacks/cloud/workspace.py",
             "raise BakeoffError(wrong_passphrase(op, stack, passphrase_file))",
             'raise BakeoffError(f"pulumi {op} of stack {stack} failed: {err}")',
             "tests/test_cloud_passphrase.py"),
    Mutation("passphrase-from-shell", "stacks/cloud/workspace.py",
             'env.pop("PULUMI_CONFIG_PASSPHRASE", None)', "pass",
             "tests/test_cloud_passphrase.py"),
    Mutation("gcp-gc-no-wait", "stacks/cloud/gc_gcp.py",
             "self.instances.delete(project=p, zone=loc, instance=name).result(WAIT_S)",
             "self.instances.delete(project=p, zone=loc, instance=name)",
             "tests/cloud/test_gc_gcp_pending.py"),
]


def _copy(dest: Path) -> None:
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache",
                                    ".ruff_cache", "results", "*.egg-info")
    shutil.copytree(REPO, dest, ignore=ignore, dirs_exist_ok=True)


def _pytest(root: Path, tests: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("CI", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                           "no:cacheprovider", *tests.split()], cwd=root, env=env,
                          capture_output=True, text=True, timeout=1800).returncode


def check(m: Mutation) -> str:
    with tempfile.TemporaryDirectory(prefix="bakeoff-mutant-") as tmp:
        root = Path(tmp)
        _copy(root)
        target = root / m.path
        text = target.read_text()
        if text.count(m.old) != 1:
            return f"NOT PLANTED ({m.old!r} found {text.count(m.old)} times in {m.path})"
        if _pytest(root, m.test) != 0:
            return "TEST FAILS WITHOUT THE MUTATION"
        target.write_text(text.replace(m.old, m.new))
        return "killed" if _pytest(root, m.test) != 0 else "SURVIVED"


def main(names: list[str]) -> int:
    chosen = [m for m in MUTATIONS if not names or m.name in names]
    bad = 0
    for m in chosen:
        verdict = check(m)
        bad += verdict != "killed"
        print(f"{m.name:24} {verdict}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
