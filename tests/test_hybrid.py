"""RAFT examples (oracle + distractors, seeded), config validation, and the hybrid's inference prompt."""

import pytest
from factories import load_rows, qa_row

import labkit as lk
from labkit.chunking import chunk_corpus
from labkit.data import Document
from labkit.hybrid import HYBRID_SYSTEM, HybridPipeline, RAFTConfig, make_raft_examples, oracle_chunk, raft_messages
from labkit.rag import build_prompt
from labkit.retrieval import BM25Index

DOCS = {
    "refund-policy": ("Refund policy", "Customers can request a refund within 23 days of purchase."),
    "pricing": ("Pricing", "The Team plan costs 47.80 EUR per seat per month."),
    "office-hours": ("Support hours", "Support answers phone calls from 07:30 to 18:00 on weekdays."),
    "release-3-2": ("Release 3.2", "Version 3.2 adds the zebracorn importer and dark mode."),
    "security": ("Security", "Backups are encrypted and kept for 90 days in two regions."),
    "careers": ("Careers", "The company hires remote engineers in twelve countries."),
}


@pytest.fixture()
def qa(tmp_path):
    return load_rows(
        [
            qa_row("q1", "How many days do I have to request a refund?", "23 days", ["refund-policy"]),
            qa_row("q2", "What does the Team plan cost per seat?", "47.80 EUR", ["pricing"]),
            qa_row("q3", "When does phone support open?", "07:30", ["office-hours"]),
            qa_row("q4", "Which importer was added in version 3.2?", "zebracorn importer", ["release-3-2"]),
            qa_row("u1", "Who is the chief financial officer?", None),
        ],
        tmp_path,
    )


@pytest.fixture()
def index():
    return BM25Index(chunk_corpus([Document(i, t, "faq", b) for i, (t, b) in DOCS.items()]))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"p_oracle": 1.5}, "p_oracle"),
        ({"p_oracle": -0.1}, "p_oracle"),
        ({"n_distractors": -1}, "n_distractors"),
        ({"n_distractors": 0, "p_oracle": 0.8}, "no passage"),
        ({"distractors": "nearest"}, "distractors"),
        ({"phrasings": ("question", "heldout")}, "held-out"),
        ({"phrasings": ()}, "phrasings"),
    ],
)
def test_config_refuses_bad_values(kwargs, field):
    with pytest.raises(ValueError, match=field):
        RAFTConfig(**kwargs)


@pytest.mark.parametrize("n_distractors, kind", [(1, "retrieved"), (2, "retrieved"), (3, "random")])
def test_examples_have_k_passages_and_distractors_avoid_gold_docs(qa, index, n_distractors, kind):
    cfg = RAFTConfig(p_oracle=0.5, n_distractors=n_distractors, distractors=kind, seed=1)
    examples = make_raft_examples(qa, index, cfg)
    assert len(examples) == len(qa) * 3  # canonical + 2 train paraphrases, unanswerable included
    by_qid = {r.id: r for r in qa}
    for ex in examples:
        gold = set(by_qid[ex.qid].doc_ids)
        assert len(ex.passages) == cfg.k and len({p.id for p in ex.passages}) == cfg.k
        assert sum(p.doc_id in gold for p in ex.passages) == int(ex.has_oracle)
        assert "HELDOUT" not in ex.question


def test_unanswerable_gets_abstention_and_no_oracle(qa, index):
    examples = [e for e in make_raft_examples(qa, index, RAFTConfig(p_oracle=1.0)) if e.qid == "u1"]
    assert len(examples) == 3 and all(e.target == lk.ABSTENTION and not e.has_oracle for e in examples)


@pytest.mark.parametrize("p_oracle", [0.0, 0.5, 1.0])
def test_oracle_share_follows_p_oracle(qa, index, p_oracle):
    ex = [e for e in make_raft_examples(qa * 25, index, RAFTConfig(p_oracle=p_oracle, seed=3)) if e.qid != "u1"]
    share = sum(e.has_oracle for e in ex) / len(ex)
    assert abs(share - p_oracle) <= 0.5 / len(ex)  # exact up to rounding to whole examples
    assert all(e.target.endswith("].") for e in ex)  # the target keeps its cited answer even without the oracle


def test_seeded_and_shuffled(qa, index):
    a = make_raft_examples(qa * 10, index, RAFTConfig(seed=7))
    b = make_raft_examples(qa * 10, index, RAFTConfig(seed=7))
    c = make_raft_examples(qa * 10, index, RAFTConfig(seed=8))
    ids = lambda exs: [[p.id for p in e.passages] for e in exs]  # noqa: E731
    assert ids(a) == ids(b) and ids(a) != ids(c)
    gold = {r.id: set(r.doc_ids) for r in qa}
    positions = {[p.doc_id in gold[e.qid] for p in e.passages].index(True) for e in a if e.has_oracle}
    assert len(positions) > 1  # the oracle is not always first


def test_oracle_only_ablation(qa, index):
    ex = make_raft_examples(qa, index, RAFTConfig(p_oracle=1.0, n_distractors=0, include_unanswerable=False))
    assert len(ex) == 4 * 3 and all(len(e.passages) == 1 and e.has_oracle for e in ex)


def test_oracle_chunk_contains_the_answer(qa, index):
    assert "23 days" in oracle_chunk(qa[0], index.chunks).text
    assert oracle_chunk(qa[4], index.chunks) is None
    with pytest.raises(ValueError, match="no chunk"):
        oracle_chunk(qa[0], [c for c in index.chunks if c.doc_id != "refund-policy"])


def test_training_and_inference_prompts_are_the_same(qa, index, tiny_lm, monkeypatch):
    seen = {}
    import labkit.rag as rag

    def spy(lm, chats, max_new_tokens, batch_size, system, sources, first_bias):
        seen["prompts"], seen["system"], seen["sources"] = [c[-1]["content"] for c in chats], system, sources
        seen["first_bias"] = first_bias
        seen["shots"] = [m for c in chats for m in c[:-1]]
        return [lk.Generation("It is 23 days [refund-policy].", 10, 5, 0.1, 0.1) for _ in chats]

    monkeypatch.setattr(rag, "chat_generate", spy)
    cfg = RAFTConfig(n_distractors=2)
    hyb = HybridPipeline(tiny_lm, index, top_k=cfg.k)
    out = hyb.answer([qa[0].question])
    passages = [{c.id: c for c in index.chunks}[p] for p in out[0].passages]
    train = raft_messages(qa[0].question, passages, "x")
    assert len(passages) == cfg.k
    assert seen["system"] == train[0]["content"] == HYBRID_SYSTEM
    assert seen["prompts"] == [train[1]["content"]] == [build_prompt(qa[0].question, passages)]
    assert seen["shots"] == []  # trained without worked examples, so asked without them
    assert seen["sources"] is None  # trained on free answers over whole passages, so asked that way
    assert seen["first_bias"] is None  # decline bias 0: the model's own choice
    assert out[0].cited == ["refund-policy"]


def test_hybrid_pipeline_runs_on_a_tiny_model(qa, index, tiny_lm):
    recs = lk.run_approach(HybridPipeline(tiny_lm, index, top_k=2, max_new_tokens=4), qa[:2], cache=False)
    assert len(recs) == 2 and all(len(r.passages) == 2 and r.prompt_tokens > 0 for r in recs)
    assert {r.approach for r in recs} == {"hybrid"} and recs[0].question == qa[0].paraphrases_heldout[0]


@pytest.mark.parametrize("kind", ["hard", "random"])
def test_pick_distractors_avoids_gold_documents_and_is_seeded(index, kind):
    import random

    pick = lambda seed: lk.hybrid.pick_distractors(
        "When does phone support open?", {"office-hours"}, index, 3, kind, random.Random(seed)
    )
    a = pick(0)
    assert len(a) == 3 and len({c.id for c in a}) == 3 and all(c.doc_id != "office-hours" for c in a)
    assert [c.id for c in pick(0)] == [c.id for c in a]  # the same rng seed, the same passages
    if kind == "hard":  # the retriever's best non-gold hits, in its order
        hits = index.search(["When does phone support open?"], k=len(index.chunks)).chunk_ids[0]
        assert [c.id for c in a] == [h for h in hits if not h.startswith("office-hours")][:3]
    with pytest.raises(ValueError, match="n_distractors"):
        lk.hybrid.pick_distractors("q", {"office-hours"}, index, len(index.chunks), kind, random.Random(0))
    assert lk.hybrid.pick_distractors("q", set(), index, 0, kind, random.Random(0)) == []


def test_train_raft_trains_a_lora_adapter_on_the_raft_chats(qa, index, cache, one_thread):
    from factories import FAST

    examples = make_raft_examples(qa, index, RAFTConfig(n_distractors=1, seed=0))
    cfg = lk.FinetuneConfig(**{**FAST, "tokens_per_step": 512, "epochs": 3})
    res = lk.hybrid.train_raft(lk.tiny_generator(seed=0), examples, cfg, progress=False, adapter="raft")
    assert res.completed and not res.reused and res.method == "lora" and res.lm.adapter == "raft"
    assert res.losses[-1] < res.losses[0]  # it learns the chats it was given
    again = lk.hybrid.train_raft(lk.tiny_generator(seed=0), examples, cfg, progress=False, adapter="raft")
    assert again.reused and again.losses == res.losses  # cached under the data and the config
    with pytest.raises(ValueError, match="no examples"):
        lk.hybrid.train_raft(lk.tiny_generator(seed=0), [], progress=False)


@pytest.mark.parametrize("bias", [0.0, 50.0])
def test_decline_bias_moves_only_the_first_token(qa, index, tiny_lm, bias):
    hyb = HybridPipeline(tiny_lm, index, top_k=2, max_new_tokens=3).replace(decline_bias=bias)
    first = tiny_lm.tokenizer(hyb._rag.cfg.abstention, add_special_tokens=False)["input_ids"][0]
    texts = [a.text for a in hyb.answer([q.question for q in qa])]
    starts = [t.startswith(tiny_lm.tokenizer.decode([first]).strip()) for t in texts]
    if bias:
        assert all(starts), texts  # a large bias: every answer starts like the abstention sentence
    else:
        assert not all(starts), texts


def test_tune_decline_bias_keeps_the_best_right_rate_on_dev(qa, index, tiny_lm):
    hyb = HybridPipeline(tiny_lm, index, top_k=2, max_new_tokens=3)
    tuned, table = lk.tune_decline_bias(hyb, qa, biases=(0.0, -2.0, 50.0))
    assert list(table.index) == [0.0, -2.0, 50.0] and tuned.decline_bias in table.index
    best = table["right (all dev)"].max()
    assert table.loc[tuned.decline_bias, "right (all dev)"] == best
    assert tuned.decline_bias == min((b for b in table.index if table.loc[b, "right (all dev)"] == best), key=abs)
    assert tuned.fingerprint() != hyb.fingerprint() or tuned.decline_bias == 0.0  # the bias is part of its key
    with pytest.raises(TypeError, match="unknown settings"):
        hyb.replace(k=3)


@pytest.mark.parametrize("biases", [(0.0, -2.0, -50.0), (-1.0, 0.0, 3.0)])
def test_tune_decline_bias_equals_asking_every_question_at_every_bias(qa, index, tiny_lm, biases):
    """Answers that cannot change with a negative bias are reused from bias 0; the table is the brute force's."""
    hyb = HybridPipeline(tiny_lm, index, top_k=2, max_new_tokens=3)
    _, table = lk.tune_decline_bias(hyb, qa, biases=biases)
    assert list(table.index) == list(biases)
    for b in biases:
        brute = lk.run_approach(hyb.replace(decline_bias=b), qa, cache=False)
        right = [r.contains if r.answerable else r.abstained for r in brute]
        assert table.loc[b, "right (all dev)"] == sum(right) / len(right), b
        for m in ("accuracy", "over_abstention", "correct_abstention"):
            want = lk.rates(brute, m).value
            assert table.loc[b, m] == want or (want != want and table.loc[b, m] != table.loc[b, m]), (b, m)
