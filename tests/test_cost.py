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
