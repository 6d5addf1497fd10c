"""The decision guide: the seed article's "choose RAG / fine-tuning / hybrid when" list, as rules over numbers
measured in this workbook, that say when the measurements cannot decide.

``Scenario`` holds the article's factors; ``Evidence`` holds what notebooks 04-05 measured; ``recommend``
applies the rules in order and returns a ``Recommendation`` whose every reason cites a number.
``DecisionGuide`` is the same as an ipywidgets form.

Rules, in order (each keeps or drops candidates; a reason is recorded either way):
1. latency budget: drop approaches whose batch-1 median latency is over it;
2. money budget: drop approaches whose mean monthly cost over the horizon is over it;
3. knowledge changes monthly or more often: drop closed-book approaches when the fresh-facts test shows
   them significantly behind the best retrieving approach (paired interval);
4. style/format control needed: drop approaches significantly below the best on house style;
5. accuracy: drop approaches significantly below the best on accuracy;
6. offline and corpus size: reasons only (every approach here ran offline; the scale fits size the index);
7. more than one left: the cheapest, if it is at least 1.5 times cheaper than the next; else cannot decide.

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np

from .cost import CostModel, CostProfile, Usage, cost_over_time
from .evaluate import Record, claim, rates
from .stats import verdict, verdict_once

__all__ = ["Scenario", "Evidence", "Recommendation", "recommend", "DecisionGuide"]


@dataclass
class Scenario:
    """A deployment described by the article's factors.

    Introduced in 05_cost_and_scale.ipynb.
    """

    updates_per_month: float = 0.0  # how often the knowledge changes (0 = stable, 30 = daily)
    queries_per_month: float = 10_000  # query volume
    needs_style: bool = False  # answers must follow a house style / format
    latency_budget_s: float = 2.0  # the slowest acceptable median answer time, one question alone
    budget_usd_per_month: float | None = None  # None = no money limit
    offline: bool = False  # must run without network access
    corpus_chunks: int = 1_000  # size of the knowledge base, in passages
    months: int = 24  # horizon for costs

    def __post_init__(self):
        for f in ("updates_per_month", "queries_per_month", "latency_budget_s"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or math.isnan(v) or v < 0:
                raise ValueError(f"Scenario.{f} must be a number >= 0, got {v!r}")
        if self.budget_usd_per_month is not None and not self.budget_usd_per_month >= 0:
            raise ValueError(f"Scenario.budget_usd_per_month must be None or >= 0, got {self.budget_usd_per_month!r}")
        if not isinstance(self.corpus_chunks, int) or self.corpus_chunks < 1:
            raise ValueError(f"Scenario.corpus_chunks must be an int >= 1, got {self.corpus_chunks!r}")
        if not isinstance(self.months, int) or self.months < 1:
            raise ValueError(f"Scenario.months must be an int >= 1, got {self.months!r}")


@dataclass
class Evidence:
    """What the workbook measured, per approach name.

    Introduced in 05_cost_and_scale.ipynb.
    """

    records: list[Record]  # test records (same questions, held-out wordings) of every approach
    latency_s: dict[str, list[float]]  # batch-1 seconds per question
    profiles: dict[str, CostProfile]  # measured cost inputs
    fresh: dict[str, list[bool]] = field(default_factory=dict)  # right v2 answer on the changed facts, no retraining
    cost_model: CostModel = field(default_factory=CostModel)
    scale: dict = field(default_factory=dict)  # {"exact_ms": (b, a), "ann": text}: fits from the scale runs

    def __post_init__(self):
        names = {r.approach for r in self.records}
        for what, d in (("latency_s", self.latency_s), ("profiles", self.profiles)):
            if set(d) != names:
                raise ValueError(
                    f"Evidence.{what} covers {sorted(d)}, the records cover {sorted(names)}: make them match"
                )


@dataclass
class Recommendation:
    """The guide's answer: ``choice`` is an approach name or None ("cannot decide" / none fits)."""

    choice: str | None
    candidates: list[str]  # approaches left after the rules
    reasons: list[tuple[str, str]]  # (factor, text citing a measured number)
    decided_by: str  # the factor that settled it, "cannot decide" or "nothing fits"

    def to_html(self) -> str:
        head = html.escape(self.choice) if self.choice else html.escape(self.decided_by)
        items = "".join(f"<li><b>{html.escape(f)}</b>: {html.escape(t)}</li>" for f, t in self.reasons)
        return f"<h4>Recommendation: {head}</h4><ul>{items}</ul>"


def _keep_not_worse(records, cands, metric, reasons, factor, common=False):
    """Drop candidates significantly below the best on ``metric`` (paired interval excludes zero;
    ``common``: on the questions where it applies to both, see ``lk.paired``), as ``lk.claim`` says."""
    r = {n: rates([x for x in records if x.approach == n], metric) for n in cands}
    best = max(cands, key=lambda n: (r[n].value, -cands.index(n)))
    kept = []
    for n in cands:
        if n == best:
            kept.append(n)
            continue
        v = claim(records, best, n, metric, common=common)
        if v.text == "holds":
            reasons.append((factor, f"drop {n}: {metric} {r[n]} vs {best} {r[best]} (difference {v.diff})"))
        else:
            kept.append(n)
            reasons.append((factor, f"keep {n}: {metric} {r[n]} vs {best} {r[best]}, {v.text}"))
    return kept


def recommend(s: Scenario, ev: Evidence) -> Recommendation:
    """Apply the module's rules to a scenario. See the module docstring for the order.

    Introduced in 05_cost_and_scale.ipynb.
    """
    cands, reasons, decided = list(ev.profiles), [], None

    def settled(factor):  # the first factor that left one candidate (or none) is the one that decided
        nonlocal decided
        if decided is None and len(cands) <= 1:
            decided = factor

    usage = Usage(s.queries_per_month, s.updates_per_month, s.months)
    total = cost_over_time(ev.profiles, usage, ev.cost_model).iloc[-1]  # USD at the horizon
    per_month = {n: total[n] / s.months for n in cands}
    p50 = {n: float(np.median(ev.latency_s[n])) for n in cands}

    def drop(factor, keep_if, why):
        nonlocal cands
        for n in [n for n in cands if not keep_if(n)]:
            reasons.append((factor, f"drop {n}: {why(n)}"))
        cands = [n for n in cands if keep_if(n)]
        settled(factor)

    drop(
        "latency",
        lambda n: p50[n] <= s.latency_budget_s,
        lambda n: f"median {p50[n]:.2f} s per question (batch 1) > budget {s.latency_budget_s:.2f} s",
    )
    if s.budget_usd_per_month is not None:
        drop(
            "budget",
            lambda n: per_month[n] <= s.budget_usd_per_month,
            lambda n: f"{per_month[n]:.2f} USD/month over {s.months} months > budget {s.budget_usd_per_month:.2f}",
        )
    if s.updates_per_month >= 1 and ev.fresh and cands:
        fresh = {n: ev.fresh[n] for n in cands if n in ev.fresh}
        open_book = [n for n in fresh if ev.profiles[n].uses_index]
        if open_book:
            best = max(open_book, key=lambda n: np.mean(fresh[n]))
            for n in [n for n in fresh if not ev.profiles[n].uses_index]:
                v = verdict(fresh[best], fresh[n])
                if v.text == "holds":
                    cands.remove(n)
                    settled("knowledge changes")
                    reasons.append(
                        (
                            "knowledge changes",
                            f"drop {n}: on changed facts it gave the new answer "
                            f"{np.mean(fresh[n]):.2f} of the time before retraining vs {best} "
                            f"{np.mean(fresh[best]):.2f} ({v.diff}); {s.updates_per_month:g} updates/month",
                        )
                    )
    if s.needs_style and len(cands) > 1:
        # house style among answered questions, paired on those both answered: declining is not "in style"
        cands = _keep_not_worse(ev.records, cands, "style_answered", reasons, "style control", common=True)
        settled("style control")
    if len(cands) > 1:
        cands = _keep_not_worse(ev.records, cands, "accuracy", reasons, "accuracy")
        settled("accuracy")
    if s.offline:
        note = "every approach here ran offline on this machine (the index is an in-process faiss file)"
        if ev.cost_model.vector_db_usd_per_month > 0:
            note += "; a managed vector database is not offline: host the index yourself"
        reasons.append(("offline", note))
    if "exact_ms" in ev.scale:
        b, a = ev.scale["exact_ms"]
        ms = a * s.corpus_chunks**b
        tip = "exact search is fine" if ms < 10 else f"use an ANN index ({ev.scale.get('ann', 'see the scale plots')})"
        reasons.append(
            (
                "corpus size",
                f"exact search over {s.corpus_chunks:,} passages: about {ms:.1f} ms per "
                f"query (fitted exponent {b:.2f}); {tip}",
            )
        )
    if not cands:
        return Recommendation(None, [], reasons, "nothing fits")
    if len(cands) == 1:
        return Recommendation(cands[0], cands, reasons, decided or "only one approach")
    by_cost = sorted(cands, key=lambda n: total[n])
    a, b = by_cost[:2]
    if verdict_once(total[a], total[b], higher_is_better=False) == "holds":
        reasons.append(("cost", f"{a}: {total[a]:.2f} USD over {s.months} months vs {b} {total[b]:.2f}"))
        return Recommendation(a, cands, reasons, "cost")
    reasons.append(
        (
            "cannot decide",
            f"{', '.join(cands)} are not separated by these measurements: accuracy "
            f"intervals overlap and {a} costs {total[a]:.2f} vs {b} {total[b]:.2f} USD "
            f"(less than 1.5x apart). More test questions, or your own documents (notebook 06), could decide.",
        )
    )
    return Recommendation(None, cands, reasons, "cannot decide")


class DecisionGuide:
    """An ipywidgets form over ``recommend``: change a factor, read the recommendation and its reasons.

    Introduced in 05_cost_and_scale.ipynb.
    """

    def __init__(self, evidence: Evidence, scenario: Scenario | None = None):
        import ipywidgets as w

        self.evidence, s = evidence, scenario or Scenario()
        style = {"description_width": "200px"}
        self.updates = w.FloatLogSlider(
            value=max(s.updates_per_month, 0.01), min=-2, max=1.5, description="updates / month", style=style
        )
        self.queries = w.FloatLogSlider(
            value=s.queries_per_month, min=2, max=8, description="queries / month", style=style
        )
        self.style_ck = w.Checkbox(value=s.needs_style, description="needs style / format control")
        self.latency = w.FloatSlider(
            value=s.latency_budget_s, min=0.2, max=5, step=0.1, description="latency budget (s)", style=style
        )
        self.budget = w.FloatText(
            value=s.budget_usd_per_month or 0, description="budget USD/month (0 = none)", style=style
        )
        self.offline = w.Checkbox(value=s.offline, description="must run offline")
        self.corpus = w.IntText(value=s.corpus_chunks, description="corpus (passages)", style=style)
        self.out = w.HTML()
        controls = [self.updates, self.queries, self.style_ck, self.latency, self.budget, self.offline, self.corpus]
        for c in controls:
            c.observe(lambda _: self.update(), names="value")
        self.widget = w.VBox([*controls, self.out])
        self.update()

    def scenario(self) -> Scenario:
        return Scenario(
            updates_per_month=float(self.updates.value),
            queries_per_month=float(self.queries.value),
            needs_style=bool(self.style_ck.value),
            latency_budget_s=float(self.latency.value),
            budget_usd_per_month=float(self.budget.value) or None,
            offline=bool(self.offline.value),
            corpus_chunks=max(1, int(self.corpus.value)),
        )

    def update(self) -> Recommendation:
        try:
            rec = recommend(self.scenario(), self.evidence)
            self.out.value = rec.to_html()
            return rec
        except ValueError as e:  # a bad entry in the form: say which, keep the form
            self.out.value = f"<b>Check the form:</b> {html.escape(str(e))}"
            return None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
