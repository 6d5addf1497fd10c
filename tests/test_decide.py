"""The decision guide's rules on clear-cut scenarios, and "cannot decide" on a tie."""

import re

import pytest

import labkit as lk


def recs(name, right, n=60, styled=None, n_unans=10, seconds=None):
    """``right`` of ``n`` answerable questions answered correctly; ``styled`` of all in house style;
    ``seconds(i)``: question i's machine seconds (none by default)."""
    out = []
    for i in range(n + n_unans):
        ok = i < n
        correct = ok and i < right
        out.append(
            lk.Record(
                name,
                f"q{i}",
                "heldout",
                "v1",
                f"Q{i}?",
                "x" if correct else "wrong",
                ok,
                contains=correct,
                abstained=False,
                style_ok=(styled is not None and i < styled),
                t_decode=seconds(i) if seconds else 0.0,
            )
        )
    return out


def evidence(acc, styled=None, latency=None, profiles=None, fresh=None, cm=None):
    records = [r for n, a in acc.items() for r in recs(n, a, styled=(styled or {}).get(n))]
    latency = latency or {n: [0.5] * 10 for n in acc}
    profiles = profiles or {n: lk.cost.CostProfile(10, 0.5, uses_index=(n != "ft")) for n in acc}
    return lk.Evidence(records, {n: latency[n] for n in acc}, profiles, fresh or {}, cm or lk.CostModel())


def test_the_more_accurate_approach_wins_when_the_interval_allows():
    ev = evidence({"rag": 45, "ft": 10})
    rec = lk.recommend(lk.Scenario(), ev)
    assert rec.choice == "rag" and rec.decided_by == "accuracy"
    assert any("drop ft" in t and "accuracy" in t for _, t in rec.reasons)


def test_a_tie_cannot_be_decided():
    ev = evidence({"rag": 30, "ft": 30})
    rec = lk.recommend(lk.Scenario(), ev)
    assert rec.choice is None and rec.decided_by == "cannot decide" and set(rec.candidates) == {"rag", "ft"}
    assert "could decide" in rec.reasons[-1][1]


def test_close_accuracy_is_settled_by_a_clear_cost_difference():
    profiles = {"rag": lk.cost.CostProfile(10, 2.0, uses_index=True), "ft": lk.cost.CostProfile(100, 0.2)}
    rec = lk.recommend(lk.Scenario(queries_per_month=1e6), evidence({"rag": 30, "ft": 30}, profiles=profiles))
    assert rec.choice == "ft" and rec.decided_by == "cost"


def test_latency_budget_drops_the_slow_approach():
    ev = evidence({"rag": 30, "hybrid": 30}, latency={"rag": [0.8] * 10, "hybrid": [1.6] * 10})
    rec = lk.recommend(lk.Scenario(latency_budget_s=1.0), ev)
    assert rec.choice == "rag" and any("drop hybrid" in t and "1.60 s" in t for _, t in rec.reasons)


def test_frequent_updates_drop_the_stale_closed_book_model():
    fresh = {"rag": [True] * 20 + [False] * 5, "ft": [False] * 25}
    ev = evidence({"rag": 30, "ft": 30}, fresh=fresh)
    assert lk.recommend(lk.Scenario(updates_per_month=4), ev).choice == "rag"
    # stable knowledge: the same evidence does not decide (equal accuracy, equal cost)
    assert lk.recommend(lk.Scenario(updates_per_month=0), ev).choice is None


def test_style_need_picks_the_styled_approach():
    ev = evidence({"rag": 30, "hybrid": 28}, styled={"rag": 5, "hybrid": 60})
    assert lk.recommend(lk.Scenario(needs_style=True), ev).choice == "hybrid"
    assert lk.recommend(lk.Scenario(needs_style=False), ev).choice is None


def test_budget_can_leave_nothing():
    cm = lk.CostModel(machine_usd_per_hour=3.6, vector_db_usd_per_month=50)
    rec = lk.recommend(lk.Scenario(budget_usd_per_month=1.0), evidence({"rag": 30, "hybrid": 30}, cm=cm))
    assert rec.choice is None and rec.decided_by == "nothing fits"


def test_reasons_are_escaped_in_html():
    rec = lk.decide.Recommendation("<b>rag</b>", ["rag"], [("x", "<script>alert(1)</script>")], "x")
    assert "<script>" not in rec.to_html() and "&lt;script&gt;" in rec.to_html()


@pytest.mark.parametrize("kw", [{"latency_budget_s": -1}, {"corpus_chunks": 0}, {"months": 0}])
def test_bad_scenarios_name_the_field(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        lk.Scenario(**kw)


def test_evidence_must_cover_the_same_approaches():
    with pytest.raises(ValueError, match="latency_s"):
        lk.Evidence(recs("rag", 3), {"ft": [1.0]}, {"rag": lk.cost.CostProfile(0, 1)})


def test_the_form_recommends_as_the_function_does():
    ev = evidence({"rag": 45, "ft": 10})
    guide = lk.DecisionGuide(ev)
    assert "Recommendation: rag" in guide.out.value
    guide.latency.value = 0.2  # below every approach's 0.5 s
    assert "nothing fits" in guide.out.value


def test_decided_by_names_the_rule_that_settled_it_not_a_later_note():
    ev = evidence({"rag": 30, "hybrid": 28}, styled={"rag": 5, "hybrid": 60})
    ev.scale = {"exact_ms": (1.0, 1e-3)}  # adds an informational corpus-size reason after the rules
    rec = lk.recommend(lk.Scenario(needs_style=True, offline=True), ev)
    assert rec.choice == "hybrid" and rec.decided_by == "style"
    assert [f for f, _ in rec.reasons][-2:] == ["offline", "corpus size"]


# rag: more accurate, dearer (index fee); ft: cheaper; both meet a 0.7 s budget
NAMED = dict(latency={"rag": [0.5] * 10, "ft": [0.3] * 10}, cm=lk.CostModel(vector_db_usd_per_month=5.0))


@pytest.mark.parametrize(
    "criteria, choice, decided_by, notes",
    [
        (("latency",), None, "cannot decide", ["accuracy", "cost"]),
        (("offline",), None, "cannot decide", ["accuracy", "cost"]),
        (("latency", "cost"), "ft", "cost", ["accuracy"]),
        (("latency", "accuracy"), "rag", "accuracy", []),
    ],
)
def test_a_scenario_is_decided_only_by_the_criteria_it_names(criteria, choice, decided_by, notes):
    ev = evidence({"rag": 45, "ft": 10}, **NAMED)
    rec = lk.recommend(lk.Scenario(latency_budget_s=0.7, offline=True, criteria=criteria), ev)
    assert (rec.choice, rec.decided_by) == (choice, decided_by)
    for factor in notes:  # a rule not named: a note of what it would drop, nothing dropped
        assert any(f == factor and "not a criterion" in t and "would drop" in t for f, t in rec.reasons)
    if choice is None:
        assert set(rec.candidates) == {"rag", "ft"}
        assert f"left tied by the criteria this scenario names: {criteria[0]}" in rec.reasons[-1][1]


@pytest.mark.parametrize(
    "rag_s, choice, expect",
    [
        ([0.55, 0.6, 0.65, 0.7, 0.72, 0.75, 0.78, 0.8, 0.85, 0.9], None, "cannot tell whether rag meets the budget"),
        ([1.5, 1.6, 1.7] * 3, "ft", "drop rag: median (batch 1) 1.60 s [1.5"),
        ([0.4, 0.5, 0.6] * 3, None, "keep rag: median (batch 1) 0.50 s [0.4"),
    ],
)
def test_latency_is_judged_on_the_median_interval(rag_s, choice, expect):
    ev = evidence({"rag": 30, "ft": 30}, latency={"rag": rag_s, "ft": [0.3] * 10})
    rec = lk.recommend(lk.Scenario(latency_budget_s=0.7), ev)
    assert rec.choice == choice and any(expect in t for _, t in rec.reasons)
    if choice is None:  # the straddling or clearly fast approach stays: equal accuracy and cost tie them
        assert rec.decided_by == "cannot decide" and "latency: rag:" in rec.reasons[-1][1]


def costed(rag_s, ft_s):
    """Equal accuracy; per-question machine seconds ``rag_s(i)``, ``ft_s(i)``; profiles from the records."""
    records = recs("rag", 30, seconds=rag_s) + recs("ft", 30, seconds=ft_s)
    zero = {"rag": 0.0, "ft": 0.0}
    profiles = lk.cost_profiles(records, zero, zero, {"rag": True, "ft": False})
    return lk.Evidence(records, {"rag": [0.5], "ft": [0.5]}, profiles)


@pytest.mark.parametrize(
    "rag_s, ft_s, choice, expect",
    [
        # mean 1.11 s vs 0.57 s (1.9x), but a few slow questions each make the intervals overlap
        (lambda i: 9.0 if i % 17 == 0 else 0.5, lambda i: 5.0 if i % 23 == 0 else 0.3, None, "the intervals overlap"),
        (lambda i: 2.0, lambda i: 0.6, "ft", "intervals apart"),  # 3.3x, +-10% each: apart
        (lambda i: 0.738, lambda i: 0.6, None, "intervals apart; needs 1.25x"),  # apart, but only 1.23x
    ],
)
def test_cost_decides_only_on_separate_intervals_and_a_practical_ratio(rag_s, ft_s, choice, expect):
    rec = lk.recommend(lk.Scenario(queries_per_month=1e6), costed(rag_s, ft_s))
    assert rec.choice == choice and rec.decided_by == ("cost" if choice else "cannot decide")
    assert any(f == "cost" and expect in t and "USD [" in t for f, t in rec.reasons)


@pytest.mark.parametrize(
    "behaviour, choice, source",
    [
        (True, "ft", "style_records for ft, from the main test records for rag"),
        (False, "rag", "style_records for none, from the main test records for rag, ft"),
    ],
)
def test_style_reads_the_behaviour_fine_tune_when_given(behaviour, choice, source):
    ev = evidence({"rag": 30, "ft": 30}, styled={"rag": 30, "ft": 0})  # the knowledge fine-tune: no style
    if behaviour:
        ev.style_records = recs("ft", 30, styled=70)  # notebook 02's behaviour adapter, under the name "ft"
    rec = lk.recommend(lk.Scenario(needs_style=True, criteria=("style",)), ev)
    assert rec.choice == choice and rec.decided_by == "style"
    assert any(f == "style" and f"house style read from Evidence.{source}" in t for f, t in rec.reasons)


def test_style_records_must_name_a_candidate():
    with pytest.raises(ValueError, match="style_records"):
        lk.Evidence(recs("rag", 3), {"rag": [1.0]}, {"rag": lk.cost.CostProfile(0, 1)}, style_records=recs("x", 3))


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"criteria": ("speed",)}, "Scenario.criteria must be a non-empty tuple of names from ('latency', "),
        ({"criteria": ("latency", "speed")}, "unknown: ['speed']"),
        ({"criteria": "latency"}, "got 'latency': write ('latency',)"),
        ({"criteria": ()}, "non-empty"),
        ({"criteria": ("style",)}, "Scenario.needs_style"),
    ],
)
def test_criteria_are_checked(kw, message):
    with pytest.raises(ValueError, match=re.escape(message)) as e:
        lk.Scenario(**kw)
    assert "criteria" in str(e.value) and ("'latency'" in str(e.value) or "style" in str(e.value))
