"""Answer metrics on hand-worked cases, the shared Record, and the summary table."""

import math

import pytest

import labkit as lk
from labkit.data import QARecord


def qa_record(qid="q1", answer="23 days", aliases=("twenty-three days",), doc_ids=("refund-policy",), answerable=True):
    return QARecord(
        id=qid,
        question="How long is the refund window?",
        answer=answer if answerable else None,
        aliases=aliases if answerable else (),
        doc_ids=doc_ids if answerable else (),
        paraphrases_train=("p1",),
        paraphrases_heldout=("p2",),
        answerable=answerable,
        category="policy",
        changed_in_v2=False,
        answer_v2=answer if answerable else None,
        aliases_v2=(),
        doc_ids_v2=doc_ids if answerable else (),
        answerable_v2=answerable,
        styled_answer="x",
        styled_answer_v2=None,
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The fee is 47.80 EUR [pricing].", "fee is 47.80 eur"),
        ("Opens at 07:30.", "opens at 07:30"),
        ("1,000 seats [2]", "1,000 seats"),
        ("  An   Apple!! ", "apple"),
        ("twenty-three days", "twenty three days"),
    ],
)
def test_normalize(text, expected):
    assert lk.evaluate.normalize(text) == expected


@pytest.mark.parametrize(
    "pred, golds, em",
    [
        ("23 days.", ["23 days", "twenty-three days"], True),
        ("Twenty-three days [refund-policy].", ["23 days", "twenty-three days"], True),  # alias, tag dropped
        ("The 23 days", ["23 days"], True),  # article dropped
        ("About 23 days", ["23 days"], False),
        ("23", ["23 days"], False),
        ("anything", [], False),  # no gold: never a match
    ],
)
def test_exact_match(pred, golds, em):
    assert lk.evaluate.exact_match(pred, golds) is em


@pytest.mark.parametrize(
    "pred, golds, hit",
    [
        ("You have 23 days to ask.", ["23 days"], True),
        ("You have 123 days.", ["23 days"], False),  # whole words only
        ("It costs 47.80 EUR per seat", ["47.80 EUR"], True),
        ("It costs 47.8 EUR", ["47.80 EUR"], False),
    ],
)
def test_contains_gold(pred, golds, hit):
    assert lk.contains_gold(pred, golds) is hit


# Answers copied from markdown documentation keep their link text: normalize once dropped every bracketed
# span as a "source tag" (Node.js API pages with `labkit compare`: RAG 4 of 25 right as scored, 9 of 25
# holding the gold answer).
@pytest.mark.parametrize(
    "pred, gold",
    [
        ("[Server Name Indication extension][sni wiki] to be sent to the server [https].", "Server Name Indication"),
        ("See the [Permission Model](permissions.md) page [permissions].", "Permission Model"),
        ("Use [`URL`] [url].", "URL"),
    ],
)
def test_contains_gold_keeps_markdown_link_text(pred, gold):
    assert lk.contains_gold(pred, [gold])


@pytest.mark.parametrize(
    "pred",
    [
        "23 days [refund-policy].",
        "23 days [2].",
        "23 days [1, 3]",
        "23 days []",
        "23 days [refund- [refund-policy].",  # a garbled tag, as a 135M model writes them
        "23 days [ [refund-policy]",
    ],
)
def test_exact_match_ignores_source_tags(pred):
    assert lk.evaluate.exact_match(pred, ["23 days"])


def test_exact_match_keeps_bracketed_words():  # "[not 23 days]" is not a tag: it has spaces
    assert not lk.evaluate.exact_match("[not 23 days]", ["23 days"])


@pytest.mark.parametrize(
    "pred, golds, f1",
    [
        ("23 days total", ["23 days"], 0.8),  # p = 2/3, r = 1 -> 2 * (2/3) / (5/3) = 0.8
        ("23 days", ["23 days"], 1.0),
        ("days", ["23 days"], 2 / 3),  # p = 1, r = 1/2
        ("nothing here", ["23 days"], 0.0),
        ("", ["23 days"], 0.0),
        ("14 days", ["23 days", "14 days"], 1.0),  # best over aliases
    ],
)
def test_token_f1(pred, golds, f1):
    assert lk.evaluate.token_f1(pred, golds) == pytest.approx(f1)


@pytest.mark.parametrize(
    "text, abstains",
    [
        (lk.ABSTENTION, True),
        ("I don't know.", True),
        ("I don’t know", True),  # typographic apostrophe
        ("The passages do not mention a price.", True),
        ("The price is not specified.", True),
        ("It is 23 days.", False),
        ("Export is not available on the Basic plan.", False),
    ],
)
def test_is_abstention(text, abstains):
    assert lk.is_abstention(text) is abstains


def test_score_correct_cited_answer():
    r = lk.evaluate.score("rag", qa_record(), "23 days [refund-policy].", t_prefill=0.5, prompt_tokens=10)
    assert (r.em, r.contains, r.f1, r.abstained, r.hallucinated) == (True, True, 1.0, False, False)
    assert r.cited == ["refund-policy"] and r.citation_ok is True
    assert r.style_ok  # one sentence ending in a [doc-id] tag
    assert r.latency == 0.5 and r.prompt_tokens == 10


def test_score_passage_numbers_are_not_doc_citations():
    r = lk.evaluate.score("rag", qa_record(), "23 days [2]")
    assert r.cited == [] and r.citation_ok is None and r.em


def test_score_wrong_citation_and_confident_wrong_answer():
    r = lk.evaluate.score("rag", qa_record(), "30 days [pricing].")
    assert not r.contains and r.hallucinated and r.citation_ok is False


def test_score_unanswerable():
    refuse = lk.evaluate.score("rag", qa_record(answerable=False), lk.ABSTENTION)
    guess = lk.evaluate.score("rag", qa_record(answerable=False), "14 days")
    assert refuse.abstained and not refuse.hallucinated and refuse.em is False
    assert not guess.abstained and guess.hallucinated and guess.citation_ok is None


def test_summarize_hand_worked_table():
    ans, unans = qa_record("a"), qa_record("u", answerable=False)
    recs = [
        lk.evaluate.score("rag", ans, "23 days", t_decode=1.0),  # right
        lk.evaluate.score("rag", ans, "I don't know", t_decode=2.0),  # over-cautious
        lk.evaluate.score("rag", ans, "9 days", t_decode=3.0),  # confidently wrong
        lk.evaluate.score("rag", unans, "I don't know", t_decode=4.0),  # right to refuse
        lk.evaluate.score("base", ans, "9 days"),
    ]
    t = lk.summarize(recs)
    assert list(t.index) == ["rag", "base"]
    row = t.loc["rag"]
    assert row.n == 4 and (row.n_answerable, row.n_unanswerable) == (3, 1)
    assert row.exact == pytest.approx(1 / 3) and row.accuracy == pytest.approx(1 / 3)
    assert row.correct_abstention == 1.0 and row.answered_unanswerable == 0.0
    assert row.over_abstention == pytest.approx(1 / 3) and row.confidently_wrong == pytest.approx(1 / 3)
    assert row.hallucination == pytest.approx(1 / 4)  # the pooled figure: 1 confident error of 4 questions
    assert (row.accuracy_lo, row.accuracy_hi) == pytest.approx(lk.stats.wilson(1, 3))  # every rate has its interval
    assert row.s_per_query == pytest.approx(2.5)
    assert math.isnan(t.loc["base"].correct_abstention)  # no unanswerable questions asked
    assert str(lk.rates(recs[:4], "accuracy")) == str(lk.rate([True, False, False]))


def test_rates_are_defined_once_and_kept_apart():
    ans, unans = qa_record("a"), qa_record("u", answerable=False)
    right, wrong, refuse = (lk.evaluate.score("x", ans, t) for t in ("23 days", "9 days", lk.ABSTENTION))
    guess = lk.evaluate.score("x", unans, "9 days")
    assert [lk.evaluate.outcome(r, "accuracy") for r in (right, wrong, refuse, guess)] == [True, False, False, None]
    assert [lk.evaluate.outcome(r, "confidently_wrong") for r in (right, wrong, refuse)] == [False, True, False]
    assert [lk.evaluate.outcome(r, "over_abstention") for r in (right, wrong, refuse)] == [False, False, True]
    assert (
        lk.evaluate.outcome(guess, "correct_abstention") is False
        and lk.evaluate.outcome(refuse, "correct_abstention") is None
    )
    assert lk.evaluate.outcome(refuse, "style_answered") is None  # style is judged on answered questions only
    with pytest.raises(ValueError, match="unknown metric"):
        lk.evaluate.outcome(right, "accuracy_v2")


def test_paired_claims_need_the_same_questions():
    qs = [qa_record(f"q{i}") for i in range(40)]
    recs = [lk.evaluate.score("a", q, "23 days") for q in qs] + [lk.evaluate.score("b", q, "9 days") for q in qs]
    assert lk.claim(recs, "a", "b", "accuracy").text == "holds"
    assert lk.claim(recs, "b", "a", "confidently_wrong", higher_is_better=False).text == "does not hold"
    with pytest.raises(ValueError, match="different questions"):
        lk.paired(recs + [lk.evaluate.score("a", qa_record("extra"), "x")], "a", "b", "accuracy")
    with pytest.raises(ValueError, match="no records"):
        lk.paired(recs, "a", "c", "accuracy")
    mixed = [lk.evaluate.score("a", q, "23 days") for q in qs] + [lk.evaluate.score("b", q, lk.ABSTENTION) for q in qs]
    with pytest.raises(ValueError, match="applies to different questions"):
        lk.paired(mixed, "a", "b", "style_answered")


def test_summarize_and_breakdown_reject_empty():
    with pytest.raises(ValueError, match="at least one Record"):
        lk.summarize([])
    with pytest.raises(ValueError, match="at least one Record"):
        lk.latency_breakdown([])


def test_latency_breakdown_sums_stages():
    recs = [
        lk.evaluate.score("rag", qa_record(), "x", t_embed=0.001, t_search=0.002, t_prefill=0.3, t_decode=0.1),
        lk.evaluate.score("rag", qa_record(), "x", t_embed=0.003, t_search=0.002, t_prefill=0.1, t_decode=0.3),
    ]
    t = lk.latency_breakdown(recs)
    assert t.loc["rag", "embed_ms"] == pytest.approx(2.0)
    assert t.loc["rag", "total_ms"] == pytest.approx(1e3 * recs[0].latency / 2 + 1e3 * recs[1].latency / 2)


def test_record_as_dict_has_every_field_and_latency():
    r = lk.evaluate.score("base", qa_record(), "23 days", t_embed=0.1, t_decode=0.2)
    row = r.as_dict()
    assert row["latency"] == pytest.approx(0.3)
    for key in (
        "approach",
        "qid",
        "phrasing",
        "version",
        "em",
        "contains",
        "f1",
        "abstained",
        "hallucinated",
        "cited",
        "citation_ok",
        "passages",
        "t_embed",
        "t_search",
        "t_prefill",
        "t_decode",
        "prompt_tokens",
        "completion_tokens",
    ):
        assert key in row


def test_style_is_compared_on_the_questions_both_answered():
    qs = [qa_record(f"q{i}") for i in range(40)]
    styled, plain = "Refunds take 23 days [refund-policy].", "23 days"
    # "a" answers 30 in style and declines 10; "b" answers all 40, never in style
    a = [lk.evaluate.score("a", q, styled if i < 30 else lk.ABSTENTION) for i, q in enumerate(qs)]
    b = [lk.evaluate.score("b", q, plain) for q in qs]
    xa, xb = lk.paired(a + b, "a", "b", "style_answered", common=True)
    assert len(xa) == len(xb) == 30 and all(xa) and not any(xb)  # the 10 declines are left out, not "in style"
    assert lk.claim(a + b, "a", "b", "style_answered", common=True).text == "holds"
    declines = [lk.evaluate.score("b", q, lk.ABSTENTION) for q in qs]
    with pytest.raises(ValueError, match="no question for both"):
        lk.paired(a + declines, "a", "b", "style_answered", common=True)


@pytest.mark.parametrize(
    "answer, expected",
    [("14 days", "14 days [refund-policy]."), ("14 days [2].", "14 days [refund-policy]."),
     ("14 days [other-doc]", "14 days [refund-policy]."),
     ("Refunds take 14 days.", "Refunds take 14 days [refund-policy].")],
)  # fmt: skip
def test_house_style_template_passes_the_house_style_check(answer, expected):
    assert lk.data.house_style(answer, "refund-policy") == expected
    assert lk.check_house_style(expected, {"refund-policy"}).ok
