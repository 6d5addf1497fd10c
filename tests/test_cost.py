"""Cost model: prices x measured seconds; break-even; validation; table from Records."""

import math

import pytest

from labkit.cost import CostModel, break_even_queries, cost_per_1k, cost_table, per_query_cost, throughput, upfront_cost
from labkit.evaluate import Record


@pytest.mark.parametrize("seconds, price, usd", [(3600.0, 1.0, 1.0), (36.0, 0.5, 0.005), (0.0, 9.0, 0.0)])
def test_upfront_cost_is_seconds_times_price(seconds, price, usd):
    assert upfront_cost(seconds, CostModel(machine_usd_per_hour=price)) == pytest.approx(usd)


def test_per_query_cost_adds_api_tokens_only_when_priced():
    self_hosted = CostModel(machine_usd_per_hour=3.6)  # 0.001 USD per second
    assert per_query_cost(2.0, 1000, 10, self_hosted) == pytest.approx(0.002)
    api = CostModel(machine_usd_per_hour=3.6, api_usd_per_m_prompt_tokens=1.0, api_usd_per_m_completion_tokens=2.0)
    assert per_query_cost(2.0, 1000, 10, api) == pytest.approx(0.002 + 0.001 + 0.00002)
    assert cost_per_1k(2.0, cm=self_hosted) == pytest.approx(2.0)


def test_cost_model_states_its_batch_size_and_charges_measured_time():
    cm = CostModel(3.6)
    assert cm.batch_size == 8  # every approach generates 8 at a time; times per query are already amortised
    assert per_query_cost(2.0, cm=cm) == pytest.approx(0.002)


def test_every_generation_default_is_the_batch_size_the_cost_model_assumes():
    import inspect

    import labkit as lk

    defaults = [
        inspect.signature(f).parameters["batch_size"].default
        for f in (lk.chat_generate, lk.ClosedBook, lk.HybridPipeline)
    ]
    assert defaults + [lk.RAGConfig().batch_size, CostModel().batch_size] == [lk.BATCH_SIZE] * 5


@pytest.mark.parametrize(
    "ua, qa, ub, qb, n",
    [
        (10.0, 0.001, 0.0, 0.002, 10_000.0),  # A repays its 10 USD after 10k queries
        (10.0, 0.003, 0.0, 0.002, math.inf),  # A's queries are dearer: never
        (0.0, 0.003, 5.0, 0.002, 0.0),  # A is not dearer upfront: from the start
    ],
)
def test_break_even(ua, qa, ub, qb, n):
    assert break_even_queries(ua, qa, ub, qb) == n


@pytest.mark.parametrize(
    "kwargs",
    [
        {"machine_usd_per_hour": -1.0},
        {"batch_size": 0},
        {"api_usd_per_m_prompt_tokens": -0.1},
        {"machine_usd_per_hour": "1"},
    ],
)
def test_bad_prices_are_refused_with_the_field_name(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        CostModel(**kwargs)


def _rec(approach, latency, pt=100, ct=10):
    return Record(
        approach,
        "q",
        "question",
        "v1",
        "?",
        "x",
        True,
        t_prefill=latency / 2,
        t_decode=latency / 2,
        prompt_tokens=pt,
        completion_tokens=ct,
    )


def test_cost_table_charges_mean_machine_time_and_needs_every_upfront():
    recs = [_rec("rag", 1.0), _rec("rag", 3.0), _rec("rag", 8.0), _rec("base", 0.5)]
    cm = CostModel(machine_usd_per_hour=3.6)
    table = cost_table(recs, {"rag": 20.0, "base": 0.0}, cm)
    assert table.loc["rag", "s_per_query"] == pytest.approx(4.0)  # a bill adds every query: the mean
    assert table.loc["rag", "usd_per_1k_queries"] == pytest.approx(4.0)
    assert table.loc["rag", "batch_size"] == 8
    assert table.loc["rag", "upfront_usd"] == pytest.approx(0.02)
    with pytest.raises(KeyError, match="base"):
        cost_table(recs, {"rag": 20.0}, cm)


def test_throughput_counts_first_token_with_prefill():
    tp = throughput([_rec("rag", 2.0, pt=500, ct=11)])  # prefill 1 s for 500 tokens; 10 tokens in 1 s
    assert tp == {"prefill_tok_s": pytest.approx(500.0), "decode_tok_s": pytest.approx(10.0)}


# --- cost over time (notebook 05) -------------------------------------------------------------------
from labkit.cost import CostProfile, Usage, cheapest, cheapest_plane, cost_over_time, monthly_cost  # noqa: E402

PER_S = CostModel(machine_usd_per_hour=3.6, vector_db_usd_per_month=10.0)  # 0.001 USD per machine second


def test_cost_over_time_by_hand_with_updates_and_hosting():
    # upfront 1000 s = 1 USD; queries 1000 x 1 s = 1 USD/month; updates 2 x 500 s = 1 USD/month; hosting 10.
    rag = CostProfile(upfront_s=1000, s_per_query=1.0, update_s=500, uses_index=True)
    ft = CostProfile(upfront_s=5000, s_per_query=0.5, update_s=5000)  # 5 + m * (0.5 + 10)
    table = cost_over_time({"rag": rag, "ft": ft}, Usage(1000, 2, months=3), PER_S)
    assert table["rag"].tolist() == pytest.approx([1, 13, 25, 37])
    assert table["ft"].tolist() == pytest.approx([5, 15.5, 26, 36.5])
    assert monthly_cost(ft, Usage(1000, 2), PER_S) == pytest.approx(
        {"queries": 0.5, "updates": 10.0, "index hosting": 0.0, "embedding API": 0.0}
    )


def test_embedding_and_llm_api_prices_are_billed_per_token():
    cm = CostModel(machine_usd_per_hour=0, embed_api_usd_per_m_tokens=2.0, api_usd_per_m_prompt_tokens=1.0)
    p = CostProfile(0, 0, prompt_tokens=500, embed_tokens_per_query=10, embed_tokens_per_update=1e6)
    parts = monthly_cost(p, Usage(1000, 3), cm)
    assert parts["embedding API"] == pytest.approx((1000 * 10 + 3 * 1e6) * 2.0 / 1e6)
    assert parts["queries"] == pytest.approx(1000 * 500 * 1.0 / 1e6)


@pytest.mark.parametrize(
    "queries, updates, winner",
    [
        (100, 0, "rag"),  # little traffic, no updates: RAG's small upfront wins (no hosting fee here)
        (1e6, 0, "ft"),  # heavy traffic: the cheaper query repays training
        (100, 30, "rag"),  # daily updates: retraining costs more than re-indexing
    ],
)
def test_cheapest_moves_with_volume_and_updates(queries, updates, winner):
    cm = CostModel(machine_usd_per_hour=3.6)
    profiles = {
        "rag": CostProfile(upfront_s=10, s_per_query=1.0, update_s=10, uses_index=True),
        "ft": CostProfile(upfront_s=100_000, s_per_query=0.5, update_s=20_000),
    }
    assert cheapest(profiles, Usage(queries, updates, 12), cm) == winner
    plane = cheapest_plane(profiles, [100, 1e6], [0, 30], months=12, cm=cm)
    assert plane.loc[updates, queries] == winner


def test_cheapest_calls_a_tie_within_five_percent_and_names_who_tied():
    same = {"a": CostProfile(0, 1.02), "b": CostProfile(0, 1.0), "far": CostProfile(0, 1.2)}
    assert cheapest(same, Usage(100), PER_S) == "tie: b, a"  # cheapest first; "far" is 20% dearer
    assert cheapest(same, Usage(100), PER_S, tie=0.01) == "b"


@pytest.mark.parametrize(
    "cls, kwargs, field",
    [
        (CostProfile, {"upfront_s": -1, "s_per_query": 1}, "upfront_s"),
        (CostProfile, {"upfront_s": 0, "s_per_query": float("nan")}, "s_per_query"),
        (Usage, {"queries_per_month": -5}, "queries_per_month"),
        (Usage, {"queries_per_month": 5, "months": 0}, "months"),
        (CostModel, {"vector_db_usd_per_month": -1}, "vector_db_usd_per_month"),
        (CostModel, {"embed_api_usd_per_m_tokens": -1}, "embed_api_usd_per_m_tokens"),
    ],
)
def test_bad_cost_inputs_name_the_field(cls, kwargs, field):
    with pytest.raises(ValueError, match=field):
        cls(**kwargs)


def test_cost_profiles_average_the_records_and_take_the_measured_seconds():
    from labkit.cost import cost_profiles

    records = [_rec("rag", 2.0, pt=300), _rec("rag", 4.0, pt=100), _rec("ft", 1.0, pt=20)]
    p = cost_profiles(records, {"rag": 5, "ft": 90}, {"rag": 5, "ft": 60}, {"rag": True, "ft": False}, 12, 1000)
    assert p["rag"].s_per_query == pytest.approx(3.0) and p["rag"].prompt_tokens == pytest.approx(200)
    assert (p["ft"].upfront_s, p["ft"].update_s, p["ft"].uses_index) == (90, 60, False)
    assert p["rag"].embed_tokens_per_query == 12 and p["ft"].embed_tokens_per_query == 0  # ft embeds nothing
    with pytest.raises(KeyError, match="update_s"):
        cost_profiles(records, {"rag": 5, "ft": 90}, {"rag": 5}, {"rag": True, "ft": False})
