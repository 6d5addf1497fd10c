"""What an approach costs, from measured timings: upfront (index or training), per query, break-even,
and over months of queries and knowledge updates.

Every number here is a measured duration or token count times a price. The prices are the only
assumptions and they all live in one place, :class:`CostModel` (read from ``data/prices.csv`` by
``lk.load_prices``), so a learner can put in their own.

Introduced in 04_side_by_side.ipynb; cost over time in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .generate import BATCH_SIZE

__all__ = [
    "CostModel",
    "upfront_cost",
    "per_query_cost",
    "cost_per_1k",
    "break_even_queries",
    "throughput",
    "cost_table",
    "CostProfile",
    "Usage",
    "monthly_cost",
    "cost_over_time",
    "cheapest",
    "cheapest_plane",
    "cost_profiles",
]

SECONDS_PER_HOUR = 3600.0


@dataclass
class CostModel:
    """Prices (assumptions, edit them) that turn measured seconds and tokens into US dollars.

    >>> cm = CostModel(machine_usd_per_hour=0.36)
    >>> round(upfront_cost(10.0, cm), 6)        # 10 s of a $0.36/h machine
    0.001

    Introduced in 04_side_by_side.ipynb.
    """

    # USD per hour for the machine that indexes, trains and serves. Assumption: on-demand price of a
    # 2-vCPU / 8 GiB x86 cloud instance (AWS m6a.large, us-east-1, Linux, 2025 list price), i.e. a
    # machine like the one this lab runs on. Put your own price here.
    machine_usd_per_hour: float = 0.0864
    # The batch size the measured seconds per query come from: every approach in the workbook generates
    # lk.BATCH_SIZE (8) answers at a time (lk.ClosedBook, lk.RAGConfig, lk.HybridPipeline), and a record's
    # times are its batch's time divided by it. So a query costs the machine time it takes when served 8 at
    # a time; served one at a time (batch-1 latency) it would cost more. Used by cost_table's label.
    batch_size: int = BATCH_SIZE
    # Optional, a clearly labelled assumption: a hosted LLM API billed per million tokens instead of
    # our own machine. None = self-hosted (the default; the lab runs everything locally).
    api_usd_per_m_prompt_tokens: float | None = None  # USD per 1e6 prompt (input) tokens
    api_usd_per_m_completion_tokens: float | None = None  # USD per 1e6 completion (output) tokens
    # USD per month for hosting the vector index, billed to approaches that retrieve (CostProfile.uses_index).
    # 0 = the index lives in the serving process (faiss, as in this lab); a managed vector database bills
    # a monthly minimum (data/prices.csv has one, with its source).
    vector_db_usd_per_month: float = 0.0
    # Optional: a hosted embedding API per million tokens embedded (queries, re-indexed documents). None =
    # the embedder runs on the machine (its time is in the measured seconds).
    embed_api_usd_per_m_tokens: float | None = None

    def __post_init__(self):
        if not (isinstance(self.machine_usd_per_hour, (int, float)) and self.machine_usd_per_hour >= 0):
            raise ValueError(
                f"CostModel.machine_usd_per_hour must be a price >= 0 in USD/hour, got {self.machine_usd_per_hour!r}"
            )
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ValueError(
                f"CostModel.batch_size must be an int >= 1 (queries generated together), got {self.batch_size!r}"
            )
        if not (isinstance(self.vector_db_usd_per_month, (int, float)) and self.vector_db_usd_per_month >= 0):
            raise ValueError(
                "CostModel.vector_db_usd_per_month must be a price >= 0 in USD/month, "
                f"got {self.vector_db_usd_per_month!r}"
            )
        for name in ("api_usd_per_m_prompt_tokens", "api_usd_per_m_completion_tokens", "embed_api_usd_per_m_tokens"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(
                    f"CostModel.{name} must be None (self-hosted) or a price >= 0 in "
                    f"USD per million tokens, got {value!r}"
                )

    @property
    def usd_per_second(self) -> float:
        return self.machine_usd_per_hour / SECONDS_PER_HOUR


def upfront_cost(seconds: float, cm: CostModel | None = None) -> float:
    """USD for a one-off job (building an index, training an adapter) that took ``seconds`` of machine.

    >>> round(upfront_cost(3600.0, CostModel(machine_usd_per_hour=2.0)), 2)
    2.0

    Introduced in 04_side_by_side.ipynb.
    """
    cm = cm or CostModel()
    if seconds is None or math.isnan(seconds):
        return float("nan")
    if seconds < 0:
        raise ValueError(f"upfront_cost: seconds must be >= 0, got {seconds}")
    return seconds * cm.usd_per_second


def per_query_cost(
    latency_s: float, prompt_tokens: float = 0, completion_tokens: float = 0, cm: CostModel | None = None
) -> float:
    """USD for one query: the machine seconds it occupies, plus hosted-API token prices when those are set.

    ``latency_s`` is machine time per query at the model's batch size (``CostModel.batch_size``).

    >>> round(per_query_cost(1.8, cm=CostModel(machine_usd_per_hour=2.0)), 6)   # 1.8 s at $2/h
    0.001

    Introduced in 04_side_by_side.ipynb.
    """
    cm = cm or CostModel()
    if latency_s < 0:
        raise ValueError(f"per_query_cost: latency_s must be >= 0, got {latency_s}")
    usd = latency_s * cm.usd_per_second
    if cm.api_usd_per_m_prompt_tokens is not None:
        usd += prompt_tokens * cm.api_usd_per_m_prompt_tokens / 1e6
    if cm.api_usd_per_m_completion_tokens is not None:
        usd += completion_tokens * cm.api_usd_per_m_completion_tokens / 1e6
    return usd


def cost_per_1k(
    latency_s: float, prompt_tokens: float = 0, completion_tokens: float = 0, cm: CostModel | None = None
) -> float:
    """USD per 1,000 queries: the unit the panel shows.

    >>> round(cost_per_1k(1.8, cm=CostModel(machine_usd_per_hour=2.0)), 3)
    1.0

    Introduced in 04_side_by_side.ipynb.
    """
    return 1000 * per_query_cost(latency_s, prompt_tokens, completion_tokens, cm)


def break_even_queries(upfront_a: float, per_query_a: float, upfront_b: float, per_query_b: float) -> float:
    """Queries after which A (dearer upfront, cheaper per query) has cost less in total than B.

    Solves upfront_a + n*per_query_a = upfront_b + n*per_query_b. Returns 0 when A is never dearer,
    ``inf`` when A never catches up (its queries are not cheaper).

    >>> break_even_queries(upfront_a=10.0, per_query_a=0.001, upfront_b=0.0, per_query_b=0.002)
    10000.0

    Introduced in 04_side_by_side.ipynb.
    """
    extra_upfront = upfront_a - upfront_b
    saving = per_query_b - per_query_a  # what each query saves by choosing A
    if extra_upfront <= 0:
        return 0.0
    if saving <= 0:
        return math.inf
    return extra_upfront / saving


def throughput(records) -> dict:
    """Tokens per second measured in these records: prefill (prompt) and decode (answer) speed.

    >>> throughput(records)                   # doctest: +SKIP
    {'prefill_tok_s': 812.0, 'decode_tok_s': 41.3}

    Introduced in 04_side_by_side.ipynb.
    """
    records = list(records)
    t_pre = sum(r.t_prefill for r in records)
    t_dec = sum(r.t_decode for r in records)
    n_pre = sum(r.prompt_tokens for r in records)
    n_dec = sum(max(r.completion_tokens - 1, 0) for r in records)  # the first token comes with prefill
    return {
        "prefill_tok_s": n_pre / t_pre if t_pre > 0 else float("nan"),
        "decode_tok_s": n_dec / t_dec if t_dec > 0 else float("nan"),
    }


def cost_table(records, upfront_s: dict[str, float], cm: CostModel | None = None):
    """Per approach: measured upfront seconds and machine seconds per query turned into USD.

    ``upfront_s`` maps approach -> measured seconds of indexing/training (0 for the base model).
    ``s_per_query`` is the mean machine time per query at ``cm.batch_size`` queries per batch (what
    the records measured): a mean, because a bill adds up every query's time.

    >>> cost_table(records, {"base": 0.0, "rag": 4.2})      # doctest: +SKIP

    Introduced in 04_side_by_side.ipynb.
    """
    import pandas as pd

    cm = cm or CostModel()
    df = pd.DataFrame([r.as_dict() for r in records])
    missing = set(df.approach) - set(upfront_s)
    if missing:
        raise KeyError(
            f"cost_table: upfront_s has no measured seconds for {sorted(missing)}; "
            f"pass 0.0 for an approach that needs no indexing or training."
        )
    rows = []
    for approach, g in df.groupby("approach", sort=False):
        s = float(g.latency.mean())
        rows.append(
            {
                "approach": approach,
                "upfront_s": upfront_s[approach],
                "upfront_usd": upfront_cost(upfront_s[approach], cm),
                "s_per_query": s,
                "batch_size": cm.batch_size,
                "usd_per_1k_queries": cost_per_1k(s, g.prompt_tokens.mean(), g.completion_tokens.mean(), cm),
            }
        )
    return pd.DataFrame(rows).set_index("approach")


# --- cost over time (notebook 05) ------------------------------------------------------------------
@dataclass
class CostProfile:
    """What one approach was measured to cost: the inputs of ``cost_over_time``. Seconds are machine time.

    Introduced in 05_cost_and_scale.ipynb.
    """

    upfront_s: float  # before the first answer: building the index, training (0 for the base model)
    s_per_query: float  # machine seconds per query at CostModel.batch_size
    update_s: float = 0.0  # absorbing one knowledge update: re-indexing, or training the fine-tune again
    uses_index: bool = False  # retrieves from a vector index (billed CostModel.vector_db_usd_per_month)
    prompt_tokens: float = 0.0  # per query (billed only with a hosted LLM API price)
    completion_tokens: float = 0.0
    embed_tokens_per_query: float = 0.0  # the query embedded (billed only with a hosted embedding price)
    embed_tokens_per_update: float = 0.0  # the documents re-embedded by one update

    def __post_init__(self):
        for f in ("upfront_s", "s_per_query", "update_s", "prompt_tokens", "completion_tokens",
                  "embed_tokens_per_query", "embed_tokens_per_update"):  # fmt: skip
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or math.isnan(v) or v < 0:
                raise ValueError(f"CostProfile.{f} must be a number >= 0 (measured), got {v!r}")


@dataclass
class Usage:
    """A deployment to price: query volume and how often the knowledge changes, over a horizon.

    Introduced in 05_cost_and_scale.ipynb.
    """

    queries_per_month: float  # questions answered per month
    updates_per_month: float = 0.0  # knowledge updates per month (0.25 = one a quarter, 30 = daily)
    months: int = 24  # horizon of the cumulative cost

    def __post_init__(self):
        for f in ("queries_per_month", "updates_per_month"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or math.isnan(v) or v < 0:
                raise ValueError(f"Usage.{f} must be a number >= 0, got {v!r}")
        if not isinstance(self.months, int) or self.months < 1:
            raise ValueError(f"Usage.months must be an int >= 1, got {self.months!r}")


def monthly_cost(p: CostProfile, usage: Usage, cm: CostModel | None = None) -> dict[str, float]:
    """USD per month of one approach, by part: queries, updates, index hosting, embedding API.

    >>> cm = CostModel(machine_usd_per_hour=3.6, vector_db_usd_per_month=10.0)   # 0.001 USD per second
    >>> monthly_cost(CostProfile(0, 2.0, update_s=500, uses_index=True), Usage(1000, 2), cm)
    {'queries': 2.0, 'updates': 1.0, 'index hosting': 10.0, 'embedding API': 0.0}

    Introduced in 05_cost_and_scale.ipynb.
    """
    cm = cm or CostModel()
    q, u = usage.queries_per_month, usage.updates_per_month
    embed = 0.0
    if cm.embed_api_usd_per_m_tokens is not None:
        embed = (q * p.embed_tokens_per_query + u * p.embed_tokens_per_update) * cm.embed_api_usd_per_m_tokens / 1e6
    return {
        "queries": q * per_query_cost(p.s_per_query, p.prompt_tokens, p.completion_tokens, cm),
        "updates": u * upfront_cost(p.update_s, cm),
        "index hosting": cm.vector_db_usd_per_month if p.uses_index else 0.0,
        "embedding API": embed,
    }


def cost_over_time(profiles: dict[str, CostProfile], usage: Usage, cm: CostModel | None = None):
    """Cumulative USD of each approach at the end of months 0..``usage.months``: upfront at month 0, then
    each month's queries, updates (spread evenly) and hosting. A DataFrame, one column per approach.

    >>> cm = CostModel(machine_usd_per_hour=3.6)
    >>> cost_over_time({"a": CostProfile(1000, 1.0)}, Usage(100, months=2), cm)["a"].round(3).tolist()
    [1.0, 1.1, 1.2]

    Introduced in 05_cost_and_scale.ipynb.
    """
    import pandas as pd

    cm = cm or CostModel()
    months = range(usage.months + 1)
    cols = {}
    for name, p in profiles.items():
        per_month = sum(monthly_cost(p, usage, cm).values())
        cols[name] = [upfront_cost(p.upfront_s, cm) + m * per_month for m in months]
    return pd.DataFrame(cols, index=pd.Index(list(months), name="month"))


def cheapest(profiles: dict[str, CostProfile], usage: Usage, cm: CostModel | None = None, tie: float = 0.05) -> str:
    """The approach with the lowest cumulative cost at the horizon, or ``"tie: a, b"`` naming every approach
    within ``tie`` (relative) of the lowest, cheapest first: prices and timings are not that precise.

    >>> cm = CostModel(machine_usd_per_hour=3.6)
    >>> cheapest({"a": CostProfile(0, 1.0), "b": CostProfile(0, 2.0)}, Usage(100), cm)
    'a'
    >>> cheapest({"a": CostProfile(0, 1.0), "b": CostProfile(0, 2.0), "c": CostProfile(0, 1.01)}, Usage(100), cm)
    'tie: a, c'

    Introduced in 05_cost_and_scale.ipynb.
    """
    if len(profiles) < 2:
        raise ValueError("cheapest() compares two or more approaches")
    total = cost_over_time(profiles, usage, cm).iloc[-1].sort_values(kind="stable")  # (n_approaches,) USD
    tied = [str(name) for name, usd in total.items() if usd <= total.iloc[0] * (1 + tie)]
    return tied[0] if len(tied) == 1 else "tie: " + ", ".join(tied)


def cheapest_plane(profiles: dict[str, CostProfile], queries, updates, months: int = 24, cm: CostModel | None = None):
    """``cheapest`` on a grid: rows are updates per month, columns queries per month. For the break-even plot.

    Introduced in 05_cost_and_scale.ipynb.
    """
    import pandas as pd

    rows = {u: {q: cheapest(profiles, Usage(q, u, months), cm) for q in queries} for u in updates}
    return pd.DataFrame(rows).T.rename_axis(index="updates per month", columns="queries per month")


def cost_profiles(
    records,
    upfront_s: dict[str, float],
    update_s: dict[str, float],
    uses_index: dict[str, bool],
    embed_tokens_per_query: float = 0.0,
    embed_tokens_per_update: float = 0.0,
) -> dict[str, CostProfile]:
    """One ``CostProfile`` per approach in ``records``: mean machine seconds and tokens per query from the
    records, upfront and update seconds as measured by the caller. Embedding tokens count for approaches
    that use an index only.

    >>> cost_profiles(records, {"rag": 4.2}, {"rag": 4.2}, {"rag": True})      # doctest: +SKIP

    Introduced in 05_cost_and_scale.ipynb.
    """
    out = {}
    names = list(dict.fromkeys(r.approach for r in records))
    for what, d in (("upfront_s", upfront_s), ("update_s", update_s), ("uses_index", uses_index)):
        missing = set(names) - set(d)
        if missing:
            raise KeyError(f"cost_profiles: {what} has no value for {sorted(missing)}")
    for name in names:
        g = [r for r in records if r.approach == name]
        idx = bool(uses_index[name])
        out[name] = CostProfile(
            upfront_s=float(upfront_s[name]),
            s_per_query=sum(r.latency for r in g) / len(g),
            update_s=float(update_s[name]),
            uses_index=idx,
            prompt_tokens=sum(r.prompt_tokens for r in g) / len(g),
            completion_tokens=sum(r.completion_tokens for r in g) / len(g),
            embed_tokens_per_query=embed_tokens_per_query if idx else 0.0,
            embed_tokens_per_update=embed_tokens_per_update if idx else 0.0,
        )
    return out
