"""The decision guide: the seed article's "choose RAG / fine-tuning / hybrid when" list, as rules over numbers
measured in this workbook, that say when the measurements cannot decide.

``Scenario`` holds the article's factors and the criteria that may decide; ``Evidence`` holds what notebooks
02-05 measured; ``recommend`` applies the rules in order and returns a ``Recommendation`` whose every reason
cites a number. ``DecisionGuide`` is the same as an ipywidgets form.

Only the criteria a scenario names (``Scenario.criteria``, from ``CRITERIA``; None = all) may drop a
candidate; the others still add their findings as notes. Rules, in order:
1. latency: drop an approach when its batch-1 median latency's interval lies over the budget; when the
   budget lies inside the interval, say that it cannot tell and keep it;
2. budget (a money limit set): the same with the interval of the mean monthly cost over the horizon;
3. freshness (knowledge changes monthly or more often): drop closed-book approaches when the fresh-facts
   test shows them significantly behind the best retrieving approach (paired interval);
4. style (style control needed): drop approaches significantly below the best on house style, measured on
   ``Evidence.style_records`` where they hold the approach (the behaviour fine-tune), else the main records;
5. accuracy: drop approaches significantly below the best on accuracy;
6. cost: drop an approach dearer than the cheapest when their cost intervals do not overlap and it costs
   at least ``COST_RATIO`` times as much;
7. offline (must run offline): drops nothing (every approach here ran offline), so named alone it leaves
   them tied; corpus size: a note only (the scale fits size the index).
One candidate left: the answer. None: "nothing fits". More: "cannot decide", with what left them tied.

Intervals (``labkit.decide_measures``): latency, a seeded bootstrap of the median; cost, the machine seconds
per query with the wider of the records' bootstrap interval and the run-to-run spread ``lk.RUN_SPREAD``,
every single measured duration (upfront, update) with that spread, and the low and high ends pricing all
of them at their low and high ends together.

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np

from .cost import CostModel, CostProfile, Usage
from .decide_measures import RUN_SPREAD, Est, median_interval, total_cost
from .evaluate import Record, claim, rates
from .stats import rate, verdict

__all__ = [
    "CRITERIA",
    "COST_RATIO",
    "RUN_SPREAD",
    "Scenario",
    "Evidence",
    "Recommendation",
    "recommend",
    "DecisionGuide",
]

CRITERIA = ("latency", "budget", "freshness", "style", "accuracy", "cost", "offline")  # the rules that may drop
# A practical threshold on top of the intervals: a saving under a quarter is within what another price
# sheet (cloud, region, next year's price) moves, so it does not decide between approaches on its own.
COST_RATIO = 1.25


@dataclass
class Scenario:
    """A deployment described by the article's factors, and the criteria that decide it.

    >>> Scenario(latency_budget_s=0.7, criteria=("latency",)).criteria
    ('latency',)

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
    # The rules that may drop a candidate (names from CRITERIA); the others only add notes, so a scenario
    # about latency is not settled by cost. None = all of them (the form).
    criteria: tuple[str, ...] | None = None

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
        if self.criteria is not None:
            self.criteria = self._checked_criteria()

    def _checked_criteria(self) -> tuple[str, ...]:
        c = self.criteria
        allowed = f"a non-empty tuple of names from {CRITERIA}, or None for all of them"
        if not isinstance(c, (tuple, list)):  # a bare string would be read letter by letter
            hint = f": write ({c!r},) for one name" if isinstance(c, str) else ""
            raise ValueError(f"Scenario.criteria must be {allowed}, got {c!r}{hint}")
        bad = [x for x in c if x not in CRITERIA]
        if bad or not c:
            raise ValueError(f"Scenario.criteria must be {allowed}; got {tuple(c)!r}, unknown: {bad}")
        for name, field_, on in (("style", "needs_style", self.needs_style),
                                 ("budget", "budget_usd_per_month", self.budget_usd_per_month is not None),
                                 ("offline", "offline", self.offline)):  # fmt: skip
            if name in c and not on:  # named, but the scenario does not ask for it: a contradiction
                raise ValueError(f"Scenario.criteria names {name!r} but Scenario.{field_} does not ask for it")
        return tuple(c)


@dataclass
class Evidence:
    """What the workbook measured, per approach name.

    >>> recs = [Record("ft", "q1", "heldout", "v1", "Q?", "x", True)]
    >>> ev = Evidence(recs, {"ft": [0.4]}, {"ft": CostProfile(0, 0.4)}, style_records=recs)
    >>> sorted({r.approach for r in ev.style_records})
    ['ft']

    Introduced in 05_cost_and_scale.ipynb.
    """

    records: list[Record]  # test records (same questions, held-out wordings) of every approach
    latency_s: dict[str, list[float]]  # batch-1 seconds per question
    profiles: dict[str, CostProfile]  # measured cost inputs
    fresh: dict[str, list[bool]] = field(default_factory=dict)  # right v2 answer on the changed facts, no retraining
    cost_model: CostModel = field(default_factory=CostModel)
    scale: dict = field(default_factory=dict)  # {"exact_ms": (b, a), "ann": text}: fits from the scale runs
    # Records the style rule reads instead of the main ones, for the approaches they hold: the knowledge
    # fine-tune is not trained for style, notebook 02's behaviour fine-tune is (pass it under its name here).
    style_records: list[Record] = field(default_factory=list)

    def __post_init__(self):
        names = {r.approach for r in self.records}
        for what, d in (("latency_s", self.latency_s), ("profiles", self.profiles)):
            if set(d) != names:
                raise ValueError(
                    f"Evidence.{what} covers {sorted(d)}, the records cover {sorted(names)}: make them match"
                )
        extra = {r.approach for r in self.style_records} - names
        if extra:
            raise ValueError(
                f"Evidence.style_records hold {sorted(extra)}, not among the records' {sorted(names)}: "
                f"name them after the approach they stand in for"
            )


@dataclass
class Recommendation:
    """The guide's answer: ``choice`` is an approach name or None ("cannot decide" / none fits).

    Introduced in 05_cost_and_scale.ipynb.
    """

    choice: str | None
    candidates: list[str]  # approaches left after the rules
    reasons: list[tuple[str, str]]  # (factor, text citing a measured number)
    decided_by: str  # the factor that settled it, "cannot decide" or "nothing fits"

    def to_html(self) -> str:
        head = html.escape(self.choice) if self.choice else html.escape(self.decided_by)
        items = "".join(f"<li><b>{html.escape(f)}</b>: {html.escape(t)}</li>" for f, t in self.reasons)
        return f"<h4>Recommendation: {head}</h4><ul>{items}</ul>"


def _against_budget(n: str, e: Est, budget: float, label: str):
    """(name, keep, text) for a measured interval against a budget: over only when its low end is over."""
    if e.low > budget:
        return n, False, f"{label} {e} is over the budget {budget:.2f} {e.unit} even at its interval's low end"
    if e.high <= budget:
        return n, True, f"{label} {e} is within the budget {budget:.2f} {e.unit}"
    return n, True, f"cannot tell whether {n} meets the budget {budget:.2f} {e.unit}: {label} {e} straddles it"


def _keep_not_worse(records, cands, metric, common=False):
    """Findings on ``metric``: drop a candidate significantly below the best (paired interval excludes zero;
    ``common``: on the questions where it applies to both, see ``lk.paired``), as ``lk.claim`` says."""
    r = {n: rates([x for x in records if x.approach == n], metric) for n in cands}
    best = max(cands, key=lambda n: (r[n].value, -cands.index(n)))
    out = []
    for n in cands:
        if n == best:
            out.append((n, True, f"the best on {metric}: {r[n]}"))
            continue
        v = claim(records, best, n, metric, common=common)
        held = v.text == "holds"
        detail = f"(difference {v.diff})" if held else v.text
        out.append((n, not held, f"{metric} {r[n]} vs {best} {r[best]} {detail}"))
    return out


class _Pass:
    """One pass of the rules: the candidates left, the reasons so far, and what left several tied."""

    def __init__(self, s: Scenario, ev: Evidence):
        self.s, self.ev, self.cands = s, ev, list(ev.profiles)
        self.named = CRITERIA if s.criteria is None else s.criteria
        self.reasons, self.ties, self.notes, self.decided = [], [], [], None

    def apply(self, factor: str, findings=(), skip: str = ""):
        """Record a rule's findings [(name, keep, text)]; drop only if the scenario names ``factor``.
        ``skip``: why the rule does not apply here."""
        if factor not in self.named:
            for n, keep, text in findings:  # a note: what the rule would have done
                if not keep:
                    self.reasons.append((factor, f"not a criterion of this scenario, so kept; would drop {n}: {text}"))
                    self.notes.append(f"{factor} would drop {n}")
            return
        for n, keep, text in findings:
            self.reasons.append((factor, f"{'keep' if keep else 'drop'} {n}: {text}"))
        self.cands = [n for n in self.cands if all(keep for m, keep, _ in findings if m == n)]
        if self.decided is None and len(self.cands) <= 1:
            self.decided = factor  # the first named factor that left one (or none) is the one that decided
        elif len(self.cands) > 1:
            left = [f"{n}: {text}" for n, keep, text in findings if n in self.cands]
            self.ties.append(f"{factor}: {skip or '; '.join(left)}")


def _freshness(p: _Pass):
    s, ev = p.s, p.ev
    if s.updates_per_month < 1 or not ev.fresh:
        why = "fewer than one update a month" if s.updates_per_month < 1 else "no fresh-facts test in the evidence"
        return p.apply("freshness", skip=why)
    fresh = {n: ev.fresh[n] for n in p.cands if n in ev.fresh}
    open_book = [n for n in fresh if ev.profiles[n].uses_index]
    if not open_book:
        return p.apply("freshness", skip="no retrieving approach left to compare with")
    best = max(open_book, key=lambda n: np.mean(fresh[n]))
    findings = [(n, True, f"retrieves: the new answer on changed facts {rate(fresh[n])}") for n in open_book]
    for n in [n for n in fresh if n not in open_book]:  # closed book: stale until it is trained again
        v = verdict(fresh[best], fresh[n])
        text = (
            f"the new answer on changed facts before retraining {rate(fresh[n])} vs {best} {rate(fresh[best])} "
            f"({v.diff}: {v.text}); {s.updates_per_month:g} updates/month"
        )
        findings.append((n, v.text != "holds", text))
    p.apply("freshness", findings)


def _style(p: _Pass):
    ev = p.ev
    own = [n for n in p.cands if any(r.approach == n for r in ev.style_records)]
    records = [r for r in ev.style_records if r.approach in own] + [r for r in ev.records if r.approach not in own]
    rest = [n for n in p.cands if n not in own]
    where = f"from Evidence.style_records for {', '.join(own) or 'none'}, from the main test records for "
    p.reasons.append(("style", f"house style read {where}{', '.join(rest) or 'none'}"))
    # house style among answered questions, paired on those both answered: declining is not "in style"
    p.apply("style", _keep_not_worse(records, p.cands, "style_answered", common=True))


def _cost(p: _Pass, total: dict[str, Est]):
    a = min(p.cands, key=lambda n: total[n].value)
    findings = [(a, True, f"the cheapest: {total[a]} over {p.s.months} months")]
    for n in [n for n in p.cands if n != a]:
        ratio = total[n].value / total[a].value if total[a].value > 0 else math.inf
        apart = total[n].low > total[a].high
        why = "intervals apart" if apart else "the intervals overlap"
        text = f"{total[n]} vs {a} {total[a]} over {p.s.months} months, {ratio:.2f}x ({why}; needs {COST_RATIO}x)"
        findings.append((n, not (apart and ratio >= COST_RATIO), text))
    p.apply("cost", findings)


def recommend(s: Scenario, ev: Evidence) -> Recommendation:
    """Apply the module's rules to a scenario. See the module docstring for the order.

    >>> recs = [Record(n, "q1", "heldout", "v1", "Q?", "x", True) for n in ("rag", "ft")]
    >>> ev = Evidence(recs, {"rag": [0.5], "ft": [0.4]}, {"rag": CostProfile(0, 0.5), "ft": CostProfile(0, 0.4)})
    >>> recommend(Scenario(latency_budget_s=0.45, criteria=("latency",)), ev).choice
    'ft'

    Introduced in 05_cost_and_scale.ipynb.
    """
    p = _Pass(s, ev)
    usage = Usage(s.queries_per_month, s.updates_per_month, s.months)
    total = total_cost(ev.profiles, ev.records, usage, ev.cost_model)
    p50 = {n: median_interval(ev.latency_s[n], "s") for n in p.cands}
    p.apply("latency", [_against_budget(n, p50[n], s.latency_budget_s, "median (batch 1)") for n in p.cands])
    if s.budget_usd_per_month is None:
        p.apply("budget", skip="no money limit set")
    else:
        label = f"mean per month over {s.months} months"
        p.apply("budget", [_against_budget(n, total[n].per(s.months), s.budget_usd_per_month, label) for n in p.cands])
    if p.cands:
        _freshness(p)
    if not s.needs_style:
        p.apply("style", skip="no style requirement")
    elif len(p.cands) > 1:
        _style(p)
    if len(p.cands) > 1:
        p.apply("accuracy", _keep_not_worse(ev.records, p.cands, "accuracy"))
    if len(p.cands) > 1:
        _cost(p, total)
    _notes(p)
    return _result(p)


def _notes(p: _Pass):
    """The offline and corpus-size rules: findings that drop nothing, whatever the scenario names."""
    s, ev = p.s, p.ev
    if s.offline:
        note = "every approach here ran offline on this machine (the index is an in-process faiss file)"
        if ev.cost_model.vector_db_usd_per_month > 0:
            note += "; a managed vector database is not offline: host the index yourself"
        p.reasons.append(("offline", note))
        p.apply("offline", skip=note)
    if "exact_ms" in ev.scale:
        b, a = ev.scale["exact_ms"]
        ms = a * s.corpus_chunks**b
        tip = "exact search is fine" if ms < 10 else f"use an ANN index ({ev.scale.get('ann', 'see the scale plots')})"
        p.reasons.append(
            (
                "corpus size",
                f"exact search over {s.corpus_chunks:,} passages: about {ms:.1f} ms per "
                f"query (fitted exponent {b:.2f}); {tip}",
            )
        )


def _result(p: _Pass) -> Recommendation:
    if not p.cands:
        return Recommendation(None, [], p.reasons, "nothing fits")
    if len(p.cands) == 1:
        return Recommendation(p.cands[0], p.cands, p.reasons, p.decided or "only one approach")
    p.reasons.append(
        (
            "cannot decide",
            f"{', '.join(p.cands)} are left tied by the criteria this scenario names: {' | '.join(p.ties)}."
            + (f" Not named, so kept: {', '.join(p.notes)} (notes above)." if p.notes else "")
            + " Naming more criteria, more test questions, or your own documents (notebook 06) could decide.",
        )
    )
    return Recommendation(None, p.cands, p.reasons, "cannot decide")


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
        # criteria=None: every rule may decide, each gated by the form's own switches
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
