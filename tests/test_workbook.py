"""The workbook's recipes on a tiny model: epochs chosen on dev, a continued adapter, the same systems twice."""

import pytest
import torch
from factories import load_rows, numbered, qa_row

import labkit as lk
from labkit.data import Document

FAST = dict(tokens_per_step=128, epochs=3, lr=1e-2, checkpoint_every=2, warmup_steps=0, grad_checkpointing=False)


def _setup(tmp_path, cache):
    torch.set_num_threads(1)
    qa = load_rows(numbered(24, 6, n_changed=6), tmp_path)
    return lk.tiny_generator(seed=0), qa, lk.split_qa(qa, min_test_answerable=10)


def _adapter_state(view):
    return {n: p.detach().clone() for n, p in view.model.named_parameters() if f".{view.adapter}." in n}


def test_pick_epoch_tries_every_epoch_on_dev_and_keeps_the_best(tmp_path, cache):
    lm, qa, split = _setup(tmp_path, cache)
    cfg = lk.FinetuneConfig(**FAST)
    ft, run, choice = lk.knowledge_ft(lm, qa, split, cfg=cfg)
    assert list(choice.table.index) == [1, 2, 3] and 1 <= choice.epoch <= 3
    best = choice.table["dev held-out"].max()
    assert choice.epoch == min(e for e in (1, 2, 3) if choice.table.loc[e, "dev held-out"] == best)
    assert ft.name == "ft" and choice.lm is run.lm  # one adapter: epochs were swapped in, none added
    kept = _adapter_state(choice.lm)
    lk.lora.set_adapter_weights(choice.lm, f"{run.ckpt_dir}/epoch-{choice.epoch}")
    assert all(torch.equal(kept[n], p) for n, p in _adapter_state(choice.lm).items())  # the chosen weights stayed
    lk.lora.set_adapter_weights(choice.lm, f"{run.ckpt_dir}/epoch-{1 if choice.epoch != 1 else 2}")
    assert not all(torch.equal(kept[n], p) for n, p in _adapter_state(choice.lm).items())


def test_knowledge_update_starts_from_the_v1_adapter(tmp_path, cache):
    lm, qa, split = _setup(tmp_path, cache)
    _, run, choice = lk.knowledge_ft(lm, qa, split, cfg=lk.FinetuneConfig(**FAST))
    v1 = _adapter_state(choice.lm)
    cfg = lk.FinetuneConfig(**{**FAST, "epochs": 1, "lr": 1e-9})  # a step too small to move the weights
    updated, urun = lk.knowledge_update(lm, qa, run, choice, cfg=cfg)
    after = {
        n.replace(f".{updated.lm.adapter}.", f".{choice.lm.adapter}."): p for n, p in _adapter_state(updated.lm).items()
    }
    assert all(torch.allclose(v1[n], after[n], atol=1e-6) for n in v1)  # continued, not a fresh adapter
    assert urun.steps >= 1 and updated.name == "ft updated"


def test_forgetting_pairs_each_kept_question_before_and_after_the_update(tmp_path, cache):
    lm, qa, split = _setup(tmp_path, cache)
    ft, run, choice = lk.knowledge_ft(lm, qa, split, cfg=lk.FinetuneConfig(**FAST))
    records = lk.run_approach(ft, split.test)  # before the update
    updated, _ = lk.knowledge_update(lm, qa, run, choice, cfg=lk.FinetuneConfig(**{**FAST, "epochs": 1}))
    kept = [q for q in split.test if q.answerable and not q.changed_in_v2]
    v, before, after = lk.forgetting(records, updated, kept)
    assert [r.qid for r in before] == [r.qid for r in after] == [q.id for q in kept]
    assert {r.approach for r in before} == {"ft"} and {r.approach for r in after} == {"ft updated"}
    assert v.diff.n == len(kept)
    share = lambda recs: sum(r.contains for r in recs) / len(kept)
    assert v.diff.diff == pytest.approx(share(before) - share(after))  # "before is better than after"
    with pytest.raises(ValueError, match="no 'ft' record"):
        lk.forgetting([r for r in records if r.qid != kept[0].id], updated, kept)


def test_init_from_must_be_a_lora_adapter_folder(tmp_path, cache):
    lm, qa, _ = _setup(tmp_path, cache)
    ex = lk.knowledge_examples(qa[:3])
    for cfg in (lk.FinetuneConfig(**FAST), lk.FinetuneConfig(**{**FAST, "method": "full"})):
        with pytest.raises((FileNotFoundError, ValueError), match="init_from"):
            lk.finetune(lm, ex, cfg, progress=False, init_from=tmp_path)  # no adapter there / not LoRA


def test_rag_recipe_is_the_same_system_twice(tmp_path, cache):
    lm, _, _ = _setup(tmp_path, cache)
    docs = [Document(f"doc{i}", f"Doc {i}", "faq", f"Fact {i}: the value is {i} days. " * 3) for i in range(6)]
    rows = [
        qa_row(f"a{i:03d}", f"What is the value of fact {i % 6}?", f"{i % 6} days", [f"doc{i % 6}"]) for i in range(24)
    ] + [qa_row(f"u{i}", f"Unknown {i}?", None) for i in range(6)]
    split = lk.split_qa(load_rows(rows, tmp_path), min_test_answerable=10)

    class Words:  # a tiny deterministic model with the SentenceTransformer interface
        def encode(self, texts, **_):
            import numpy as np

            out = np.full((len(texts), 16), 1e-3, dtype=np.float32)
            for i, t in enumerate(texts):
                for w in t.lower().split():
                    out[i, sum(map(ord, w)) % 16] += 1
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    retriever = lk.build_retriever(docs, lk.Embedder(Words(), "words-16", "test"))
    a, table, thresholds = lk.tuned_rag(lm, retriever, split, ks=(1, 2))
    b, *_ = lk.tuned_rag(lm, lk.build_retriever(docs, lk.Embedder(Words(), "words-16", "test")), split, ks=(1, 2))
    assert a.fingerprint() == b.fingerprint() and a.cfg.top_k in (1, 2)
    assert list(table.index) == [(r, k) for r in lk.READERS for k in (1, 2)] and a.cfg.reader in lk.READERS
    # the candidate thresholds, from train + dev: each the highest that still keeps its share of their
    # answerable wordings; the one chosen on dev is among them
    asked = [w for q in split.train + split.dev if q.answerable for ph in lk.PHRASINGS for w in lk.wordings(q, ph)]
    conf = retriever.search(asked, k=1).confidence.astype(float)  # (n_wordings,) top-1 cosine
    for t, keep in thresholds["keeps (answerable train/dev wordings)"].items():
        kept = conf[conf >= t]
        assert len(kept) >= keep * len(conf) and (conf > kept.min()).sum() < keep * len(conf)
    assert a.cfg.min_score in thresholds.index
    assert thresholds.loc[a.cfg.min_score, "right (all dev)"] == thresholds["right (all dev)"].max()


def _user_and_answer(ex):
    return lk.evaluate.normalize(ex.messages[-2]["content"]), lk.evaluate.normalize(ex.messages[-1]["content"])


def test_document_examples_hold_no_dev_or_test_wording_or_card():
    qa, docs = lk.load_qa(), lk.load_kb("v1")
    split = lk.workbook_split(qa)
    held = [*split.dev, *split.test]
    examples = lk.document_examples(docs, exclude=held)
    wordings = {lk.evaluate.normalize(w) for q in held for ph in lk.PHRASINGS for w in lk.wordings(q, ph)}
    cards = {(w, lk.evaluate.normalize(q.answer)) for q in held if q.answerable for w in wordings}
    pairs = [_user_and_answer(ex) for ex in examples]
    assert not [u for u, _ in pairs if u in wordings] and not [p for p in pairs if p in cards]
    kinds = {ex.phrasing for ex in examples}
    assert kinds == {"question", "train", "statement"}  # generated cards in 2 wordings + the documents' text
    text = " ".join(d.text for d in docs)
    assert all(" ".join(ex.messages[-1]["content"].split()) in " ".join(text.split()) for ex in examples)  # from docs


def test_document_cards_drop_a_card_worded_like_an_excluded_question(tmp_path):
    doc = Document("hours", "Support Hours", "text", "We answer within 30 working hours on weekdays.")
    (card,) = lk.document_cards([doc])
    clash = load_rows([qa_row("t1", card.paraphrases_heldout[0], "30 working", ["hours"])], tmp_path)
    assert lk.document_cards([doc], exclude=clash) == []  # its held-out wording is a test question's
    assert lk.document_cards([doc], exclude=load_rows([qa_row("t2", "Other?", "x", ["hours"])], tmp_path)) == [card]


def test_document_ft_trains_on_the_documents_and_picks_its_epoch_on_dev(tmp_path, cache):
    lm, _, _ = _setup(tmp_path, cache)
    docs = [Document(f"d{i}", f"Doc {i}", "faq", f"The Gate Office of site {i} opens after {i + 2} hours. " * 2)
            for i in range(4)]  # fmt: skip
    rows = [
        qa_row(f"a{i:03d}", f"When does site {i % 4} open?", f"{i % 4 + 2} hours", [f"d{i % 4}"]) for i in range(16)
    ]
    split = lk.split_qa(load_rows(rows, tmp_path), min_test_answerable=4)
    ft, run, choice = lk.document_ft(lm, docs, split, cfg=lk.FinetuneConfig(**FAST))
    assert ft.name == "ft (documents)" and list(choice.table.index) == [1, 2, 3]
    n = len(lk.document_examples(docs, exclude=[*split.dev, *split.test]))
    assert n == len(lk.document_cards(docs)) * 2 + len(lk.workbook.document_statements(docs)) and run.steps >= 3


def test_latency_probe_times_test_questions_in_wordings_no_training_saw():
    split = lk.workbook_split()
    probe = lk.latency_probe(split)
    assert len(probe) == len(set(probe)) == lk.LATENCY_PROBES
    everyone = [*split.train, *split.dev, *split.test]
    trained = {w for q in everyone for ph in lk.TRAIN_WORDINGS for w in lk.wordings(q, ph)}
    test_heldout = {w for q in split.test for w in lk.wordings(q, lk.data.EVAL_WORDING)}
    assert set(probe) <= test_heldout and not set(probe) & trained
