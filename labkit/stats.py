"""How sure is a measured rate, and may a claim be called? Intervals and paired verdicts.

Every rate in the workbook is a count over questions (k correct of n), so it comes with a 95% Wilson
interval. Two approaches answer *the same* questions, so a claim "A beats B" is judged on the paired
per-question differences: a bootstrap interval over questions. The claim **holds** only when that
interval lies above zero, **does not hold** when it lies below, and is **not resolved at n = ...**
otherwise. The maintained pieces come from scipy (``binomtest(...).proportion_ci``, ``bootstrap``).

>>> str(rate([True, True, False, True]))
'0.75 [0.30, 0.95] (3/4)'

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LEVEL",
    "Rate",
    "rate",
    "wilson",
    "Diff",
    "bootstrap_interval",
    "paired_diff",
    "Verdict",
    "verdict",
    "verdict_once",
]

LEVEL = 0.95  # confidence level of every interval in the workbook
N_RESAMPLES = 9999  # bootstrap resamples: enough for stable 95% bounds, ~10 ms for 100 questions
SEED = 0  # the bootstrap's own RNG: the same data always give the same interval


def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (scipy); (nan, nan) when n is 0.

    Better than the textbook p +- 1.96 sqrt(p(1-p)/n) at small n and near 0 or 1: it never leaves [0, 1]
    and is not zero-width at k = 0.

    >>> [round(x, 4) for x in wilson(7, 20)]
    [0.1812, 0.5671]

    Introduced in 01_rag.ipynb.
    """
    from scipy.stats import binomtest

    if not (isinstance(k, (int, np.integer)) and isinstance(n, (int, np.integer)) and 0 <= k <= n):
        raise ValueError(f"wilson needs integer counts with 0 <= k <= n, got k={k!r}, n={n!r}")
    if n == 0:
        return math.nan, math.nan
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Rate:
    """A measured share k / n with its Wilson interval.

    Introduced in 01_rag.ipynb.
    """

    k: int
    n: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else math.nan

    def __str__(self) -> str:
        if not self.n:
            return "n/a (n = 0)"
        return f"{self.value:.2f} [{self.low:.2f}, {self.high:.2f}] ({self.k}/{self.n})"

    def __float__(self) -> float:
        return self.value


def rate(flags: Sequence[bool], level: float = LEVEL) -> Rate:
    """The share of True in ``flags``, with its Wilson interval.

    >>> rate([True, False]).value, rate([]).n
    (0.5, 0)

    Introduced in 01_rag.ipynb.
    """
    flags = [bool(f) for f in flags]
    k, n = sum(flags), len(flags)
    return Rate(k, n, *wilson(k, n, level))


@dataclass(frozen=True)
class Diff:
    """A paired difference mean(a - b) over the same n questions, with its bootstrap interval.

    Introduced in 01_rag.ipynb.
    """

    diff: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.diff:+.2f} [{self.low:+.2f}, {self.high:+.2f}] (n = {self.n})"


def _mean_diff(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def _median_diff(a, b, axis=-1):
    return np.median(a, axis=axis) - np.median(b, axis=axis)


def bootstrap_interval(data: tuple, fn, level: float = LEVEL, **kw) -> tuple[float, float]:
    """The workbook's bootstrap: scipy's BCa interval of ``fn`` over ``data`` (a tuple of samples), seeded so
    the same data always give the same interval; the percentile interval where BCa is undefined (very
    lumpy data, such as medians of a few distinct values). ``kw`` goes to ``scipy.stats.bootstrap``.

    >>> low, high = bootstrap_interval(([1.0, 2.0, 3.0, 4.0, 5.0] * 4,), np.mean)
    >>> low < 3.0 < high
    True

    Introduced in 01_rag.ipynb.
    """
    from scipy.stats import bootstrap

    rng = np.random.default_rng(SEED)
    for method in ("BCa", "percentile"):
        res = bootstrap(data, fn, n_resamples=N_RESAMPLES, confidence_level=level, method=method, rng=rng, **kw)
        low, high = res.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
    return math.nan, math.nan  # pragma: no cover (percentile is always finite)


def paired_diff(a: Sequence[float], b: Sequence[float], statistic: str = "mean", level: float = LEVEL) -> Diff:
    """Paired bootstrap interval for ``stat(a) - stat(b)``, resampling questions (scipy, BCa).

    ``a[i]`` and ``b[i]`` are two approaches' results on question i (True/False for correctness, or
    seconds). ``statistic`` is "mean" (rates) or "median" (p50 latency). When every paired difference
    is the same there is nothing to resample: the interval is that one value.

    >>> d = paired_diff([1, 1, 1, 0] * 25, [0, 1, 0, 0] * 25)
    >>> round(d.diff, 2), d.low > 0
    (0.5, True)

    Introduced in 01_rag.ipynb.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"paired_diff needs two equally long, non-empty 1-D sequences, got {a.shape} and "
            f"{b.shape}: pair the results question by question (lk.paired)."
        )
    if statistic not in ("mean", "median"):
        raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    fn = _mean_diff if statistic == "mean" else _median_diff
    point = float(fn(a, b))
    if np.all(a - b == (a - b)[0]) and (statistic == "mean" or np.all(a == a[0])):
        return Diff(point, point, point, a.size)
    low, high = bootstrap_interval((a, b), fn, level, paired=True, vectorized=True)
    return Diff(point, low, high, a.size)


@dataclass(frozen=True)
class Verdict:
    """A claim "A is better than B" read off paired results.

    Introduced in 01_rag.ipynb.
    """

    text: str  # "holds", "does not hold" or "not resolved at n = ..."
    diff: Diff  # the difference in the claim's favour (positive = A better)

    def __str__(self) -> str:
        return f"{self.text}: A - B = {self.diff}"


def verdict(
    a: Sequence[float], b: Sequence[float], higher_is_better: bool = True, statistic: str = "mean", level: float = LEVEL
) -> Verdict:
    """Does "A is better than B" hold on these paired results? Only when the interval excludes zero.

    >>> verdict([1] * 30 + [0] * 70, [0] * 100).text
    'holds'
    >>> verdict([1, 0, 1, 0], [0, 1, 0, 1]).text
    'not resolved at n = 4'
    >>> verdict([2.0] * 8, [1.0] * 8, higher_is_better=False, statistic="median").text
    'does not hold'

    Introduced in 01_rag.ipynb.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = paired_diff(a, b, statistic, level) if higher_is_better else paired_diff(b, a, statistic, level)
    if d.low > 0:
        text = "holds"
    elif d.high < 0:
        text = "does not hold"
    else:
        text = f"not resolved at n = {d.n}"
    return Verdict(text, d)


def verdict_once(a: float, b: float, higher_is_better: bool = True, factor: float = 1.5) -> str:
    """A claim about two single measurements (a training time, an indexing time): no interval exists.

    Repeated runs on the shared 2-core machines vary by about 10% (``lk.RUN_SPREAD``), so this calls a claim
    only when one measurement is at least ``factor`` times the other, and says "not resolved (one run each)"
    otherwise.

    >>> verdict_once(2.0, 70.0, higher_is_better=False), verdict_once(1.0, 1.2)
    ('holds', 'not resolved (one run each)')

    Introduced in 04_side_by_side.ipynb.
    """
    if factor <= 1:
        raise ValueError(f"factor must be > 1, got {factor}")
    if any(math.isnan(x) for x in (a, b)) or min(a, b) < 0:
        raise ValueError(f"verdict_once needs two measured, non-negative numbers, got {a!r} and {b!r}")
    big, small = (a, b) if higher_is_better else (b, a)  # the claim holds when `big` clearly exceeds `small`
    if big > 0 and big >= factor * small:
        return "holds"
    if small > 0 and small >= factor * big:
        return "does not hold"
    return "not resolved (one run each)"
