"""Intervals and verdicts: Wilson against the textbook formula, paired bootstrap, when a claim may be called."""

import math

import numpy as np
import pytest

import labkit as lk
from labkit.stats import paired_diff, rate, verdict, verdict_once, wilson

Z95 = 1.959963984540054


def wilson_by_hand(k, n, z=Z95):
    """Wilson (1927): the score interval, written out."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("k, n", [(7, 20), (0, 12), (12, 12), (1, 1), (43, 102), (30, 30), (5, 132)])
def test_wilson_matches_the_formula(k, n):
    assert wilson(k, n) == pytest.approx(wilson_by_hand(k, n), abs=1e-9)


def test_wilson_known_values_and_edges():
    assert [round(x, 4) for x in wilson(7, 20)] == [0.1812, 0.5671]  # worked example, 95%
    low, high = wilson(0, 30)
    assert low == pytest.approx(0, abs=1e-12) and 0.10 < high < 0.12  # never zero-width at k = 0
    assert all(math.isnan(x) for x in wilson(0, 0))
    for bad in [(-1, 3), (4, 3), (1.5, 3)]:
        with pytest.raises(ValueError, match="0 <= k <= n"):
            wilson(*bad)


def test_rate_formats_value_interval_and_counts():
    r = rate([True] * 43 + [False] * 59)
    assert (r.k, r.n) == (43, 102) and r.low < r.value < r.high
    assert (r.low, r.high) == wilson(43, 102)
    assert str(r) == f"0.42 [{r.low:.2f}, {r.high:.2f}] (43/102)"
    assert rate([]).n == 0 and str(rate([])) == "n/a (n = 0)"


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([1] * 40 + [0] * 60, [0] * 100, "holds"),  # 40 points ahead on every resample
        ([0] * 100, [1] * 40 + [0] * 60, "does not hold"),
        ([1, 0] * 50, [0, 1] * 50, "not resolved at n = 100"),  # same rate, different questions
        ([1] * 3 + [0] * 97, [1] * 2 + [0] * 98, "not resolved at n = 100"),  # one question apart
        ([1] * 50, [1] * 50, "not resolved at n = 50"),  # identical: difference exactly 0
    ],
)
def test_verdict_calls_a_claim_only_when_the_interval_excludes_zero(a, b, expected):
    v = verdict(a, b)
    assert v.text == expected
    if expected == "holds":
        assert v.diff.low > 0
    elif expected == "does not hold":
        assert v.diff.high < 0
    else:
        assert v.diff.low <= 0 <= v.diff.high


def test_paired_diff_is_seeded_and_brackets_the_point_estimate():
    rng = np.random.default_rng(1)
    a, b = rng.random(80) < 0.6, rng.random(80) < 0.4
    d1, d2 = paired_diff(a, b), paired_diff(a, b)
    assert d1 == d2  # the bootstrap has its own fixed seed: same data, same interval
    assert d1.low <= d1.diff <= d1.high and d1.diff == pytest.approx(a.mean() - b.mean())


def test_pairing_matters_more_than_the_rates():
    # Both systems are right on 50 of 100 questions; B is right exactly where A is, plus nowhere else.
    a = np.array([1] * 50 + [0] * 50)
    assert verdict(a, a).text.startswith("not resolved")
    b = np.array([1] * 45 + [0] * 55)  # B loses 5 questions A gets: paired, that resolves
    assert verdict(a, b).text == "holds"


def test_latency_verdict_uses_medians_and_lower_is_better():
    fast, slow = [0.2, 0.21, 0.19, 0.2, 0.22] * 4, [0.5, 0.52, 0.49, 0.55, 0.5] * 4
    assert verdict(fast, slow, higher_is_better=False, statistic="median").text == "holds"
    assert verdict(slow, fast, higher_is_better=False, statistic="median").text == "does not hold"


def test_paired_diff_rejects_unpaired_input():
    with pytest.raises(ValueError, match="pair the results"):
        paired_diff([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="statistic"):
        paired_diff([1], [0], statistic="mode")


@pytest.mark.parametrize(
    "a, b, hib, expected",
    [
        (2.0, 70.0, False, "holds"),
        (70.0, 2.0, False, "does not hold"),
        (1.0, 1.3, False, "not resolved (one run each)"),
        (10.0, 5.0, True, "holds"),
        (0.0, 0.0, True, "not resolved (one run each)"),
    ],
)
def test_verdict_once_needs_a_clear_factor(a, b, hib, expected):
    assert verdict_once(a, b, higher_is_better=hib) == expected


def test_exports():
    assert lk.verdict is verdict and lk.rate is rate and lk.stats.LEVEL == 0.95
