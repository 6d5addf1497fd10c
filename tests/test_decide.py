"""The decision guide's rules on clear-cut scenarios, and "cannot decide" on a tie."""

import pytest

import labkit as lk


def recs(name, right, n=60, styled=None, n_unans=10):
    """``right`` of ``n`` answerable questions answered correctly; ``styled`` of all in house style."""
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
            )
        )
    return out


def evidence(acc, styled=None, latency=None, profiles=None, fresh=None, cm=None):
    records = [r for n, a in acc.items() for r in recs(n, a, styled=(styled or {}).get(n))]
    latency = latency or {n: [0.5] * 10 for n in acc}
    profiles = profiles or {n: lk.CostProfile(10, 0.5, uses_index=(n != "ft")) for n in acc}
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
    profiles = {"rag": lk.CostProfile(10, 2.0, uses_index=True), "ft": lk.CostProfile(100, 0.2)}
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
    rec = lk.Recommendation("<b>rag</b>", ["rag"], [("x", "<script>alert(1)</script>")], "x")
    assert "<script>" not in rec.to_html() and "&lt;script&gt;" in rec.to_html()


@pytest.mark.parametrize("kw", [{"latency_budget_s": -1}, {"corpus_chunks": 0}, {"months": 0}])
def test_bad_scenarios_name_the_field(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        lk.Scenario(**kw)


def test_evidence_must_cover_the_same_approaches():
    with pytest.raises(ValueError, match="latency_s"):
        lk.Evidence(recs("rag", 3), {"ft": [1.0]}, {"rag": lk.CostProfile(0, 1)})


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
    assert rec.choice == "hybrid" and rec.decided_by == "style control"
    assert [f for f, _ in rec.reasons][-2:] == ["offline", "corpus size"]
