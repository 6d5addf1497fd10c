"""Generated questions: cloze spans, three wordings, labelled, deterministic, spread over documents."""

import pytest

import labkit as lk
from labkit.data import Document

TEXT = ("The Senate shall have two Senators from each State. Appeals go to the Supreme Court of the United States. "
        "short one. No capitalised names or numbers appear in this sentence at all.")  # fmt: skip


@pytest.mark.parametrize(
    "sentence, span",
    [
        ("The Senate shall have two Senators from each State.", "two Senators"),
        ("Members must be at least twenty five Years old.", "twenty five Years"),
        ("The fee is 20 dollars per day of delay.", "20 dollars"),
        ("Appeals go to the Supreme Court of the United States.", "Supreme Court of the United States"),
        ("no capitalised names or numbers appear in this sentence at all", None),
    ],
)
def test_cloze_span(sentence, span):
    assert lk.gen_qa.cloze_span(sentence) == span


def test_sentences_keep_six_to_45_words():
    got = lk.gen_qa.sentences(TEXT + " " + " ".join(["word"] * 50) + ".")
    assert got[0].startswith("The Senate") and all(6 <= len(s.split()) <= 45 for s in got)
    assert "short one." not in got


def test_generated_records_have_three_wordings_and_are_labelled():
    docs = [Document("senate", "Senate", "text", TEXT), Document("court", "Court", "text", TEXT)]
    qa = lk.generate_qa(docs, n=10)
    assert len(qa) == 4  # two usable sentences per document
    assert {q.doc_ids[0] for q in qa[:2]} == {"court", "senate"}  # dealt round-robin
    for q in qa:
        assert q.category == lk.gen_qa.GENERATED and q.answerable and q.answer
        texts = [q.question, *q.paraphrases_train, *q.paraphrases_heldout]
        assert len(set(texts)) == 3 and all(lk.gen_qa.BLANK in t and q.answer not in t for t in texts)
        assert q.styled_answer.endswith(f"[{q.doc_ids[0]}].")
    assert lk.generate_qa(docs, n=10) == qa  # deterministic
    assert lk.generate_qa(docs, n=3) == qa[:3]


def test_generated_questions_feed_the_protocol():
    docs = [Document(f"d{i}", f"Doc {i}", "text", TEXT) for i in range(30)]
    qa = lk.generate_qa(docs, n=60)
    split = lk.split_qa(qa, test=0.4, dev=0.25, min_test_answerable=20)
    assert len(split.test) == 24 and not set(split.test) & set(split.train)
    cards = lk.knowledge_examples(qa)
    assert len(cards) == 2 * len(qa)  # canonical + one training wording; the held-out one never trains
    held = {w for q in qa for w in q.paraphrases_heldout}
    assert not held & {m["content"] for e in cards for m in e.messages}


def test_bad_n_is_refused():
    with pytest.raises(ValueError, match="n must be >= 1"):
        lk.generate_qa([], n=0)
