"""The decision guide's measured numbers with their intervals: the batch-1 median latency (a bootstrap over
questions) and the cost at the horizon (from the spread of the timings it rests on).

A bootstrap over questions covers which questions were asked, not how the machine drifts from one run to
the next; a single measured duration (an indexing or training time) has no interval of its own. Both get
the stated run-to-run spread ``lk.RUN_SPREAD``.

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from .cost import CostModel, CostProfile, Usage, cost_over_time
from .evaluate import Record
from .stats import bootstrap_interval

__all__: list[str] = []  # helpers of lk.recommend: labkit.decide puts RUN_SPREAD in lk's namespace

# How much one measured duration (an indexing or training time, a batch's seconds) varies from run to run on
# the shared 2-core machines the workbook runs on: about 10%. A single measurement has no interval of its
# own, so a cost built on one carries +-RUN_SPREAD; stats.verdict_once's 1.5x rule rests on the same spread.
# (Here, not in cost.py: the cost model is part of the cache key of notebook 06's stages, this module is not.)
RUN_SPREAD = 0.10


@dataclass(frozen=True)
class Est:
    """A measured value with its 95% interval, printed with its unit.

    >>> str(Est(0.62, 0.55, 0.71, "s"))
    '0.62 s [0.55, 0.71]'

    Introduced in 05_cost_and_scale.ipynb.
    """

    value: float
    low: float
    high: float
    unit: str

    def __str__(self) -> str:
        return f"{self.value:.2f} {self.unit} [{self.low:.2f}, {self.high:.2f}]"

    def per(self, k: float) -> Est:
        """The same measurement divided by ``k`` (a total per month)."""
        return Est(self.value / k, self.low / k, self.high / k, self.unit)


def _bootstrap(values, fn, unit: str) -> Est:
    """``fn`` of ``values`` with the workbook's seeded bootstrap interval (``lk.bootstrap_interval``)."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"need a non-empty list of measured numbers, got shape {x.shape}")
    point = float(fn(x))
    if np.all(x == x[0]):  # one value, or all the same: nothing to resample
        return Est(point, point, point, unit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BCa undefined (degenerate, 0/0): the percentile fallback handles it
        low, high = bootstrap_interval((x,), fn)
    return Est(point, low, high, unit)


def median_interval(values, unit: str = "s") -> Est:
    """The median with its seeded bootstrap interval: the batch-1 p50 latency the workbook reports.

    >>> str(median_interval([0.5, 0.6, 0.7, 0.6, 0.8, 0.55, 0.65, 0.6]))
    '0.60 s [0.55, 0.70]'

    Introduced in 05_cost_and_scale.ipynb.
    """
    return _bootstrap(values, np.median, unit)


def _s_per_query_range(p: CostProfile, latencies: list[float]) -> tuple[float, float]:
    """Low and high machine seconds per query: the run-to-run spread, widened to the interval of the
    records' mean latency where they have timings (lk.cost_profiles takes s_per_query from that mean;
    the interval is scaled to the profile, which a learner may have set by hand)."""
    lo, hi = p.s_per_query * (1 - RUN_SPREAD), p.s_per_query * (1 + RUN_SPREAD)
    if latencies and np.mean(latencies) > 0:
        b = _bootstrap(latencies, np.mean, "s")
        lo, hi = min(lo, p.s_per_query * b.low / b.value), max(hi, p.s_per_query * b.high / b.value)
    return lo, hi


def total_cost(
    profiles: dict[str, CostProfile], records: list[Record], usage: Usage, cm: CostModel | None = None
) -> dict[str, Est]:
    """USD at the horizon per approach, with an interval: every timing at the low end of its range for
    the low end, at the high end for the high end (prices and token counts are taken as given).

    >>> p = {"a": CostProfile(upfront_s=1000, s_per_query=1.0)}
    >>> str(total_cost(p, [], Usage(100, months=2), CostModel(machine_usd_per_hour=3.6))["a"])
    '1.20 USD [1.08, 1.32]'

    Introduced in 05_cost_and_scale.ipynb.
    """
    spq = {n: _s_per_query_range(p, [r.latency for r in records if r.approach == n]) for n, p in profiles.items()}
    point = cost_over_time(profiles, usage, cm).iloc[-1]
    ends = []
    for side, k in ((0, 1 - RUN_SPREAD), (1, 1 + RUN_SPREAD)):
        at = {
            n: replace(p, s_per_query=spq[n][side], upfront_s=p.upfront_s * k, update_s=p.update_s * k)
            for n, p in profiles.items()
        }
        ends.append(cost_over_time(at, usage, cm).iloc[-1])
    return {n: Est(float(point[n]), float(ends[0][n]), float(ends[1][n]), "USD") for n in profiles}
