"""Error analysis: each kind on hand-made records, the breakdown, the reader ceiling, risk-coverage."""

import math

import pytest

import labkit as lk


def rec(answer, context=(), answerable=True, conf=None, qid="q1", approach="rag"):
    return lk.Record(
        approach, qid, "heldout", "v1", "?", answer, answerable,
        contains=lk.contains_gold(answer, ["3 days"]), abstained=lk.is_abstention(answer),
        context=list(context), confidence=conf,
    )  # fmt: skip


@pytest.mark.parametrize(
    "answer, context, kind",
    [
        ("up to 3 days", ["3 days per week"], "correct"),
        ("3 days", [], "correct"),
        ("9 days", ["up to 3 days per week", "within 9 days"], "retrieved, not used"),
        (lk.ABSTENTION, ["up to 3 days per week"], "retrieved, declined"),
        ("9 days", ["within 9 days"], "not retrieved, wrong"),
        ("I don't know.", ["within 9 days"], "not retrieved, declined"),
        ("9 days", [], "no passages, wrong"),
        (lk.ABSTENTION, [], "no passages, declined"),
    ],
)
def test_error_kind_each_category(answer, context, kind):
    assert lk.error_kind(rec(answer, context), ["3 days"]) == kind


def test_error_kind_refuses_unanswerable():
    with pytest.raises(ValueError, match="unanswerable"):
        lk.error_kind(rec("x", answerable=False), ["3 days"])


def test_breakdown_counts_answerable_records_per_approach(qa):
    q = qa[0]
    gold = q.answer
    recs = [
        lk.evaluate.score("rag", q, gold, context=[f"it is {gold}"]),
        lk.evaluate.score("rag", q, "nonsense", context=[f"it is {gold}"]),
        lk.evaluate.score("base", q, "nonsense"),
        lk.evaluate.score("base", q, lk.ABSTENTION),
    ]
    table = lk.error_breakdown(recs, qa)
    assert table.loc["rag", "correct"] == 1 and table.loc["rag", "retrieved, not used"] == 1
    assert table.loc["base", "no passages, wrong"] == 1 and table.loc["base", "no passages, declined"] == 1
    assert table.to_numpy().sum() == 4 and "not retrieved, wrong" not in table.columns  # unused kinds left out
    assert lk.error_analysis.evidence_rate(recs[:2], qa) == 1.0 and lk.error_analysis.evidence_rate(recs[2:], qa) == 0.0
    with pytest.raises(ValueError, match="not in the QA list"):
        lk.error_breakdown([lk.evaluate.score("rag", q, gold)], qa[1:])


def test_risk_coverage_against_a_hand_computed_case():
    # confidence, answer: answered right at .9 and .6, wrong at .7, declined at .8
    recs = [rec("3 days", conf=0.9), rec("9 days", conf=0.7), rec(lk.ABSTENTION, conf=0.8), rec("3 days", conf=0.6)]
    rc = lk.risk_coverage(recs)
    assert rc["threshold"].tolist() == [0.6, 0.7, 0.8, 0.9]
    assert rc["answered"].tolist() == [3, 2, 1, 1]
    assert rc["coverage"].tolist() == [0.75, 0.5, 0.25, 0.25]
    assert rc["selective_accuracy"].tolist() == pytest.approx([2 / 3, 1 / 2, 1.0, 1.0])
    assert math.isnan(lk.risk_coverage([rec(lk.ABSTENTION, conf=0.5)])["selective_accuracy"][0])
    with pytest.raises(ValueError, match="confidence"):
        lk.risk_coverage([rec("3 days")])


def test_selective_accuracy_and_coverage_ignore_abstentions_and_citations_must_hold_the_answer(qa):
    q = qa[0]
    recs = [
        lk.evaluate.score("rag", q, f"{q.answer} [{q.doc_ids[0]}]"),
        lk.evaluate.score("rag", q, f"{q.answer} [made-up-doc]"),  # a tag naming no real document: a wrong citation
        lk.evaluate.score("rag", q, lk.ABSTENTION),
        lk.evaluate.score("rag", q, "wrong"),
    ]
    assert lk.rates(recs, "coverage").k == 3 and lk.rates(recs, "coverage").n == 4
    sel = lk.rates(recs, "selective_accuracy")
    assert (sel.k, sel.n) == (2, 3)
    cit = lk.rates(recs, "citation_accuracy")
    assert (cit.k, cit.n) == (1, 2)


def test_gold_passages_puts_the_oracle_first_then_other_documents(index, qa):
    gold = lk.GoldPassages(index, qa)
    q = qa[0]
    hits = gold.search([q.paraphrases_heldout[0], q.question], k=3)
    by_id = {c.id: c for c in index.chunks}
    for row in hits.chunk_ids:
        assert row[0] == lk.oracle_chunk(q, index.chunks).id and len(row) == 3
        assert all(by_id[c].doc_id not in q.doc_ids for c in row[1:])
    assert (hits.confidence == 1).all()
    assert gold.fingerprint() != lk.GoldPassages(index, qa[1:]).fingerprint()
    with pytest.raises(ValueError, match="knows only the wordings"):
        gold.search(["a question nobody wrote"], k=1)


def test_gold_passages_rank_sentences_with_the_wrapped_retrievers_embedder(index, qa):
    # The reader ceiling must pick sentences as RAG does (by cosine), not fall back to word overlap:
    # a wrapper without the embedder made the ceiling's sentences miss the answer more often than RAG's.
    wrapped, plain = lk.query_embedder(lk.GoldPassages(index, qa)), lk.query_embedder(index)
    assert wrapped is not None
    texts = ["How long is the refund window?", "Refunds within 23 days."]
    assert (wrapped(texts) == plain(texts)).all()
    assert lk.query_embedder(lk.BM25Index(index.chunks)) is None  # lexical: word overlap, as documented
