"""What a data disk delivers and what must be provisioned for it: one rule for the cloud
programs (stacks/cloud/resolve.py builds the DiskSpec from it) and the TCO (scoring/tco_parts.py
prices the same size, tier and IOPS), so a disk is never priced as something else than what
is created. It lives in core because scoring may not import stacks.

Where performance follows size (Azure Premium SSD tiers, GCP pd-ssd/pd-balanced, AWS gp2) the
size is raised until the disk delivers the asked IOPS and throughput; where it is provisioned
apart from size (gp3, io1/io2, Premium SSD v2) the asked figures are sent, never below the
free baseline. Sources (read 2026-12):
- AWS gp3: 3,000 IOPS and 125 MiB/s included per volume, up to 16,000 IOPS (500 per GiB) and
  1,000 MiB/s; gp2 3 IOPS per GiB (min 100, max 16,000). EC2 API CreateVolume, Iops
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html).
- Azure Premium SSD sizes P1-P80 with IOPS and MB/s per tier: "Azure managed disk types"
  (https://learn.microsoft.com/azure/virtual-machines/disks-types#premium-ssd-size); the
  tier billed is the smallest whose size holds the disk, so more IOPS needs a larger size.
  Premium SSD v2: 3,000 IOPS and 125 MB/s baseline free, up to 80,000 IOPS (500 per GiB
  above 6 GiB) and 1,200 MB/s (0.25 MB/s per IOPS) (same page, Premium SSD v2 section).
- GCP persistent disks: IOPS and throughput = a baseline per VM + a rate per GiB: pd-balanced
  3,000 IOPS + 6 per GiB, 140 MiB/s + 0.28 per GiB; pd-ssd 6,000 IOPS + 30 per GiB,
  240 MiB/s + 0.48 per GiB ("About Persistent Disk performance", table "Performance limits"
  https://cloud.google.com/compute/docs/disks/performance). The baseline is per VM; each
  bake-off VM has one data disk, so it is that disk's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.provider_facts import ProviderLimitError

# Azure Premium SSD (v1) tiers: name, GiB, IOPS, MB/s.
PREMIUM_TIERS: tuple[tuple[str, int, int, int], ...] = (
    ("P1", 4, 120, 25), ("P2", 8, 120, 25), ("P3", 16, 120, 25), ("P4", 32, 120, 25),
    ("P6", 64, 240, 50), ("P10", 128, 500, 100), ("P15", 256, 1100, 125),
    ("P20", 512, 2300, 150), ("P30", 1024, 5000, 200), ("P40", 2048, 7500, 250),
    ("P50", 4096, 7500, 250), ("P60", 8192, 16000, 500), ("P70", 16384, 18000, 750),
    ("P80", 32767, 20000, 900))
PREMIUM_TYPES = ("Premium_LRS", "Premium_ZRS")
# Performance follows size: (baseline IOPS, IOPS per GiB, baseline MB/s, MB/s per GiB, max
# IOPS, max MB/s); maxima are the per-disk caps for a small VM's single disk.
SIZE_SCALED: dict[str, tuple[float, float, float, float, int, int]] = {
    "pd-balanced": (3000, 6, 140, 0.28, 80000, 1200),
    "pd-ssd": (6000, 30, 240, 0.48, 100000, 1200),
    "gp2": (0, 3, 0, 0, 16000, 250),  # gp2: 3 IOPS/GiB, min 100; throughput by IOPS
}
# Provisioned apart from size: (free IOPS, free MB/s, max IOPS, max IOPS per GiB, max MB/s).
PROVISIONED: dict[str, tuple[int, int, int, int, int]] = {
    "gp3": (3000, 125, 16000, 500, 1000),
    "PremiumV2_LRS": (3000, 125, 80000, 500, 1200),
    "io1": (0, 0, 64000, 50, 1000),
    "io2": (0, 0, 256000, 1000, 4000),
}


@dataclass(frozen=True)
class DiskPlan:
    """A data disk as provisioned: the size created, what it delivers, what the API is sent."""

    type: str
    size_gb: int
    iops: int | None  # what it delivers (None: not stated by the provider for this type)
    throughput_mbps: int | None
    send_iops: int | None  # for the provider API; None where performance follows size
    send_throughput_mbps: int | None
    tier: str | None = None  # Azure Premium SSD tier the size falls in
    note: str = ""


def plan_disk(disk_type: str, size_gb: float, iops: int | None = None,
              throughput_mbps: int | None = None) -> DiskPlan:
    """The disk to create for `size_gb` that delivers at least `iops` and `throughput_mbps`."""
    size = max(1, math.ceil(size_gb))
    if disk_type in PREMIUM_TYPES:
        return _premium(disk_type, size, iops, throughput_mbps)
    if disk_type in SIZE_SCALED:
        return _by_size(disk_type, size, iops, throughput_mbps)
    if disk_type in PROVISIONED:
        return _provisioned(disk_type, size, iops, throughput_mbps)
    # Other types (hyperdisk-*, pd-extreme, UltraSSD_LRS, ...): sent as asked.
    return DiskPlan(disk_type, size, iops, throughput_mbps, iops, throughput_mbps)


def _premium(disk_type: str, size: int, iops: int | None, mbps: int | None) -> DiskPlan:
    fit = [t for t in PREMIUM_TIERS
           if t[1] >= size and t[2] >= (iops or 0) and t[3] >= (mbps or 0)]
    if not fit:
        raise ProviderLimitError(
            f"disk {disk_type}: no Premium SSD tier holds {size} GiB with "
            f"{iops or 0} IOPS and {mbps or 0} MB/s (largest P80: 32,767 GiB, 20,000 IOPS, "
            "900 MB/s); use PremiumV2_LRS or UltraSSD_LRS")
    name, gib, t_iops, t_mbps = fit[0]
    own = next(t for t in PREMIUM_TIERS if t[1] >= size)
    note = f"{size} GiB bills as {own[0]} ({own[1]} GiB, {own[2]} IOPS, {own[3]} MB/s)"
    if name != own[0]:
        note = (f"size raised from {size} to {gib} GiB ({name}: {t_iops} IOPS, {t_mbps} MB/s) "
                f"for {iops or 0} IOPS / {mbps or 0} MB/s; {own[0]} gives {own[2]} IOPS")
        size = gib
    return DiskPlan(disk_type, size, t_iops, t_mbps, None, None, name, note)


def _by_size(disk_type: str, size: int, iops: int | None, mbps: int | None) -> DiskPlan:
    base_i, per_i, base_m, per_m, max_i, max_m = SIZE_SCALED[disk_type]
    if (iops or 0) > max_i or (mbps or 0) > max_m:
        raise ProviderLimitError(f"disk {disk_type}: at most {max_i} IOPS and {max_m} MB/s "
                                 "per disk; ask for less or use a provisioned-IOPS type")
    need = size
    if iops and iops > base_i:
        need = max(need, math.ceil((iops - base_i) / per_i))
    if mbps and per_m and mbps > base_m:
        need = max(need, math.ceil((mbps - base_m) / per_m))
    got_i = min(max_i, int(base_i + per_i * need))
    if disk_type == "gp2":
        got_i = max(100, got_i)
    got_m = min(max_m, int(base_m + per_m * need)) if per_m else None
    note = (f"{disk_type} gives {base_i:g} + {per_i:g} IOPS per GiB"
            + (f" and {base_m:g} + {per_m:g} MB/s per GiB" if per_m else ""))
    if need > size:
        note = f"size raised from {size} to {need} GiB: {note}"
    return DiskPlan(disk_type, need, got_i, got_m, None, None, None, note)


def _provisioned(disk_type: str, size: int, iops: int | None, mbps: int | None) -> DiskPlan:
    free_i, free_m, max_i, per_gib, max_m = PROVISIONED[disk_type]
    if disk_type in ("io1", "io2") and not iops:
        raise ProviderLimitError(f"disk {disk_type}: IOPS are required (disk_iops)")
    want_i = max(free_i, iops or 0)
    want_m = max(free_m, mbps or 0) if free_m else mbps
    if want_i > max_i or want_i > per_gib * size:
        raise ProviderLimitError(
            f"disk {disk_type}: {want_i} IOPS exceeds the maximum of {max_i} and of "
            f"{per_gib} per GiB ({per_gib * size} for {size} GiB); raise disk_gb or ask less")
    if want_m is not None and want_m > max_m:
        raise ProviderLimitError(f"disk {disk_type}: at most {max_m} MB/s")
    note = (f"{free_i} IOPS and {free_m} MB/s included; {want_i} IOPS / {want_m} MB/s "
            "provisioned" if free_i else f"{want_i} IOPS provisioned")
    return DiskPlan(disk_type, size, want_i, want_m, want_i if iops else None,
                    want_m if mbps else None, None, note)
