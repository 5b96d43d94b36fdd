"""HDR helpers: merging encoded histograms is exactly the histogram of all samples."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from bench import hdr


def _samples(seed: int, n: int) -> list[int]:
    rng = random.Random(seed)
    # a long-tailed mix: mostly ms-scale, some seconds, a few sub-ms
    return [int(rng.lognormvariate(8.5, 1.2)) + 1 for _ in range(n)]


def test_merge_equals_histogram_of_union():
    parts = [_samples(seed, 5000 + 1000 * seed) for seed in range(5)]
    union = hdr.new_histogram()
    for part in parts:
        for v in part:
            hdr.record_us(union, v)
    encoded = []
    for part in parts:
        h = hdr.new_histogram()
        for v in part:
            hdr.record_us(h, v)
        encoded.append(hdr.encode(h))
    merged = hdr.merge(encoded)
    assert merged.get_total_count() == union.get_total_count() == sum(map(len, parts))
    assert [merged.get_count_at_index(i) for i in range(merged.counts_len)] == \
        [union.get_count_at_index(i) for i in range(union.counts_len)]  # bucket by bucket
    for p in (1, 25, 50, 90, 95, 99, 99.9, 99.99, 100):
        assert merged.get_value_at_percentile(p) == union.get_value_at_percentile(p)
    assert merged.get_mean_value() == union.get_mean_value()
    # and unlike averaging per-part p99s, which would give a different number here
    per_part = [hdr.decode(e).get_value_at_percentile(99) for e in encoded]
    assert sum(per_part) / len(per_part) != union.get_value_at_percentile(99)


def test_percentile_precision_is_three_significant_digits():
    h = hdr.new_histogram()
    for v in range(1, 100_001):
        hdr.record_us(h, v)
    assert abs(h.get_value_at_percentile(50) - 50_000) <= 50_000 * 0.001
    assert hdr.summary_ms(h)["latency_p99"] == pytest.approx(99.0, rel=1e-3)


def test_out_of_range_values_are_clamped_and_reported():
    h = hdr.new_histogram()
    assert hdr.record_us(h, 0.2) is False
    assert hdr.record_us(h, hdr.HIGHEST_US * 10) is False
    assert hdr.record_us(h, 1500) is True
    assert h.get_total_count() == 3
    assert h.get_max_value() <= hdr.HIGHEST_US * 1.001


def test_empty_histogram_round_trip():
    empty = hdr.encode(hdr.new_histogram())
    assert hdr.decode(empty).get_total_count() == 0
    assert hdr.summary_ms(hdr.decode(empty)) == {}


def _rows(valid_flags: list[bool]) -> pd.DataFrame:
    rows = []
    for rep, valid in enumerate(valid_flags):
        h = hdr.new_histogram()
        for v in _samples(rep, 2000):
            hdr.record_us(h, v * (10 if not valid else 1))
        rows.append({"campaign_id": "c", "site": "s", "workload": "http-load",
                     "repetition": rep, "name": hdr.latency_histogram_name("POST /api/v1/checkout"),
                     "unit": "us", "encoded": hdr.encode(h),
                     "metadata": json.dumps({"endpoint": "POST /api/v1/checkout",
                                             "valid": valid})})
    return pd.DataFrame(rows)


def test_merged_percentile_over_repetitions_skips_invalid_rows():
    df = _rows([True, True, False])
    name = "latency:POST /api/v1/checkout"
    valid_only = hdr.merge(df.encoded[:2])
    assert hdr.merged_percentile(df, name, 99) == valid_only.get_value_at_percentile(99) / 1000
    with_invalid = hdr.merged_percentile(df, name, 99, include_invalid=True)
    assert with_invalid > hdr.merged_percentile(df, name, 99)
    with pytest.raises(ValueError, match="no valid histogram"):
        hdr.merged_percentile(df, "latency:GET /nothing", 99)


def test_requirement_value_maps_metric_and_endpoint():
    df = _rows([True, True])
    where = {"endpoint": "POST /api/v1/checkout"}
    p99 = hdr.requirement_value(df, "latency_p99", where)
    assert p99 == hdr.merged_percentile(df, "latency:POST /api/v1/checkout", 99)
    assert hdr.requirement_value(df, "latency_p999", where) >= p99
    assert hdr.requirement_value(df, "latency_mean", where) > 0
    assert hdr.requirement_value(df, "rps", where) is None


def test_valid_column_is_honoured_too():
    df = _rows([True, True])
    df["valid"] = [True, False]
    name = "latency:POST /api/v1/checkout"
    assert hdr.merged_percentile(df, name, 99) == \
        hdr.decode(df.encoded[0]).get_value_at_percentile(99) / 1000
