"""The transferring reader's training data: layouts dealt by question, corpus names varied, abstention in the
name the prompt gives, training wordings only, deterministic; and its inference pipeline's prompts."""

import pytest
from faq_fixtures import HashBow

import labkit as lk


@pytest.fixture()
def emb(cache):
    return lk.Embedder(HashBow(), "hash-bow-64", "test")


def test_examples_vary_layout_and_corpus_and_never_use_held_out_wordings(docs, qa, emb):
    ex = lk.reader.reader_examples(list(qa), docs, emb)
    allowed = {w for q in qa for w in (q.question, *q.paraphrases_train[:1])}  # canonical + first paraphrase
    held = {w for q in qa for w in q.paraphrases_heldout}
    assert {e.question for e in ex} <= allowed and not {e.question for e in ex} & held
    assert len(ex) == len(allowed)  # each of those wordings of every question, once
    assert {len(e.passages) for e in ex} == {lay.n_passages for lay in lk.reader.READER_LAYOUTS}
    by_q = {}
    for e in ex:  # a question keeps one layout for all its wordings
        by_q.setdefault(e.qid, set()).add(len(e.passages))
    assert all(len(v) == 1 for v in by_q.values())
    names = {n for n in lk.reader.READER_CORPORA if any(e.system == lk.hybrid_system(n) for e in ex)}
    assert len(names) >= 2
    for e in ex:
        name = next(n for n in lk.reader.READER_CORPORA if e.system == lk.hybrid_system(n))
        if not e.target.endswith("]."):
            assert e.target == lk.abstention_sentence(name)  # abstains in the corpus's own words
    assert [(e.question, e.target, e.system) for e in lk.reader.reader_examples(list(qa), docs, emb)] == [
        (e.question, e.target, e.system) for e in ex
    ]


def test_the_pipeline_prompts_name_the_corpus(docs, emb, tiny_lm, one_thread):
    index = lk.DenseIndex.build(lk.chunk_corpus(docs, lk.ChunkConfig(size=12, overlap=4)), emb)
    hyb = lk.reader_pipeline(tiny_lm, index, "Harbour")
    assert hyb.top_k == lk.reader.READER_LAYOUTS[0].n_passages and hyb.name == "hybrid"
    assert hyb._rag.cfg.system == lk.hybrid_system("Harbour")
    assert hyb._rag.cfg.abstention == "I don't know based on the Harbour documentation."
    assert len(hyb.answer(["How many days for a refund?"])) == 1


@pytest.mark.parametrize("n", [0, 1, "2"])
def test_a_layout_needs_two_passages_or_more(n):
    with pytest.raises(ValueError, match="n_passages"):
        lk.reader.ReaderLayout(lk.ChunkConfig(60, 15), n)


def test_the_reader_declines_as_readily_as_the_workbook_dev_questions_say(emb, tiny_lm, one_thread):
    split = lk.workbook_split()
    dev = lk.protocol.Split(
        split.train, split.dev[:6] + tuple(q for q in split.dev if not q.answerable)[:2], split.test
    )
    bias, table = lk.reader_decline_bias(tiny_lm, emb, dev)
    assert list(table.index) == list(lk.hybrid.DECLINE_BIASES) and bias in lk.hybrid.DECLINE_BIASES
    assert table.loc[bias, "right (all dev)"] == table["right (all dev)"].max()
    assert not table["correct_abstention"].isna().any()  # the workbook's dev questions include unanswerable ones
    hyb = lk.reader_pipeline(tiny_lm, lk.DenseIndex.build(lk.chunk_corpus(lk.load_kb("v1")[:3], lk.CHUNKS), emb),
                             "Harbour", decline_bias=bias)  # fmt: skip
    assert hyb.decline_bias == bias and hyb._rag.cfg.decline_bias == bias
