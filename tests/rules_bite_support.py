"""Rules that a plausible one-line bug used to slip past (issue 24, Build 1): what the
tests/test_rules_bite_*.py files (one a rule family) share.

Each test there was written against a planted mutation (listed in docs/testing.md): the
mutation was made by hand, the test was run and failed, the mutation was reverted. The
expected values come from somewhere other than the code under test: worked by hand in the
comment, or computed by a second method (numpy on the raw values, hdrh on a rebuilt
histogram). The data is chosen so the wrong rule gives a different answer: more than 100
ping replies (nearest-rank p99 is no longer the maximum), 12 repetitions (90 % and 95 %
intervals differ), an even count (the two middle values differ), and so on.
"""

from __future__ import annotations

import numpy as np


def resampled_medians(values: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """The textbook bootstrap, by a second method: draw indices, take np.median of each
    resampled array (the code under test works from multiplicities instead). The index
    draws use the same generator call, so both methods see the same resamples."""
    idx = rng.integers(0, len(values), size=(n, len(values)))
    return np.median(np.asarray(values)[idx], axis=1)


def numpy_bootstrap_medians(values: list[float], resamples: int, seed: int) -> np.ndarray:
    """`resampled_medians` drawn from a fresh generator with this seed."""
    return resampled_medians(values, resamples, np.random.default_rng(seed))
