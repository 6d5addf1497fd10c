"""RAG: prompts and citations, the pipeline as an Approach, thresholds, batch-size invariance, tune_reader_and_k."""

import json
import re
from dataclasses import replace

import numpy as np
import pytest
from faq_fixtures import QA

import labkit as lk


# --- generation -----------------------------------------------------------------------------------
def test_prompt_numbers_passages_and_citations_map_to_docs(index):
    ps = index.chunks[:3]
    prompt = lk.build_prompt("Why?", ps)
    assert prompt.splitlines()[1].startswith(f"[1] ({ps[0].doc_id})") and prompt.endswith("Question: Why?")
    text, cited = lk.rag.parse_citations("It is 23 days [3] and [1], see [9].", ps)
    assert cited == list(dict.fromkeys([ps[2].doc_id, ps[0].doc_id]))
    assert f"[{ps[2].doc_id}]" in text and "[9]" in text  # an impossible number stays visible


def test_pipeline_on_fixture_produces_full_records(tiny_lm, index, qa):
    rag = lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=2, max_new_tokens=4, batch_size=3))
    recs = lk.run_approach(rag, qa, phrasing="question", cache=False)
    assert len(recs) == len(qa) and all(isinstance(r, lk.Record) for r in recs)
    for r in recs:
        assert r.approach == "rag" and len(r.passages) == 2
        assert min(r.t_embed, r.t_search, r.t_prefill, r.t_decode) >= 0 and r.t_prefill > 0
        assert r.prompt_tokens > 0 and 1 <= r.completion_tokens <= 4
        assert set(r.cited) <= {p.split("#")[0] for p in r.passages}
    base = lk.run_approach(lk.ClosedBook(tiny_lm, max_new_tokens=4), qa, phrasing="question", cache=False)
    assert all(b.passages == [] and b.t_embed == 0 for b in base)
    assert np.mean([b.prompt_tokens for b in base]) < np.mean([r.prompt_tokens for r in recs])
    table = lk.summarize(recs + base)
    assert list(table.index) == ["rag", "base"] and table.loc["rag", "n"] == len(qa)


def test_fingerprints_change_with_what_changes_answers(tiny_lm, index):
    a = lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=2)).fingerprint()
    assert a == lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=2), name="other").fingerprint()  # a label only
    assert a != lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=3)).fingerprint()
    assert a != lk.RAGPipeline(lk.tiny_generator(seed=1), index, lk.RAGConfig(top_k=2)).fingerprint()
    bm25 = lk.BM25Index(index.chunks)
    assert lk.HybridIndex(index, bm25).fingerprint() != lk.HybridIndex(index, bm25, depth=5).fingerprint()


def test_threshold_abstains_without_generating(tiny_lm, index, qa):
    rag = lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=2, min_score=1.01, max_new_tokens=4))
    recs = lk.run_approach(rag, qa, cache=False)
    assert all(r.answer == lk.ABSTENTION and r.abstained for r in recs)
    assert all(r.t_prefill == 0 and r.completion_tokens == 0 for r in recs)
    assert lk.summarize(recs).loc["rag", "correct_abstention"] == 1.0


@pytest.mark.parametrize("quantile", [0.3, 0.7])
def test_abstain_below_gives_the_records_of_a_run_at_that_threshold(tiny_lm, index, qa, quantile):
    cfg = lk.RAGConfig(top_k=2, min_score=-1.0, max_new_tokens=4, batch_size=1)  # batch 1: no batching effects
    low = lk.run_approach(lk.RAGPipeline(tiny_lm, index, cfg), qa, cache=False)
    t = float(np.quantile([r.confidence for r in low], quantile))  # some records on each side
    high = lk.run_approach(lk.RAGPipeline(tiny_lm, index, replace(cfg, min_score=t)), qa, cache=False)
    derived = lk.abstain_below(low, qa, t)
    assert 0 < sum(r.confidence < t for r in low) < len(low)
    fields = ("qid", "answer", "abstained", "contains", "hallucinated", "cited", "passages", "confidence")
    assert [[getattr(r, f) for f in fields] for r in derived] == [[getattr(r, f) for f in fields] for r in high]
    assert [r.completion_tokens == 0 for r in derived] == [r.completion_tokens == 0 for r in high]  # declined: no model


def test_tune_threshold_counts_declines_on_unanswerable_and_prefers_the_lower_on_ties(tiny_lm, index, qa, cache):
    rag = lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=1, max_new_tokens=3))
    conf = sorted(
        r.confidence for r in lk.run_approach(lk.RAGPipeline(tiny_lm, index, replace(rag.cfg, min_score=-1.0)), qa)
    )
    grid = [-1.0, conf[len(conf) // 2], 1.01]  # never, half, always decline
    chosen, table = lk.tune_threshold(rag, qa, grid, name="tuned")
    assert list(table.index) == grid and chosen.name == "tuned"
    n_unans = sum(not q.answerable for q in qa)
    # at 1.01 every question is declined: right exactly on the unanswerable ones
    assert table.loc[1.01, "right (all dev)"] == pytest.approx(n_unans / len(qa))
    best = table["right (all dev)"].max()
    assert chosen.cfg.min_score == min(t for t in grid if table.loc[t, "right (all dev)"] == best)
    with pytest.raises(ValueError, match="min_scores"):
        lk.tune_threshold(rag, qa, [])


def test_pipeline_answers_do_not_depend_on_the_batch_size(tiny_lm, index, qa):
    """fp32 (the tiny model): batching, padding and prefix sharing change no greedy answer.

    The random model's words are mostly special tokens (empty text), so the answers compare as
    (text, tokens generated, prompt tokens); the token counts differ from prompt to prompt.
    """
    answers = {}
    for batch in (1, 3, 8):
        rag = lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=2, max_new_tokens=6, batch_size=batch))
        answers[batch] = [(a.text, a.completion_tokens, a.prompt_tokens) for a in rag.answer([q.question for q in qa])]
    assert answers[1] == answers[3] == answers[8]
    assert len({p for _, _, p in answers[1]}) > 1 and sum(n for _, n, _ in answers[1]) > len(qa)


def test_tune_rag_picks_reader_and_k_on_dev_and_prefers_the_smaller_on_ties(tiny_lm, index, qa):
    cfg, table = lk.rag.tune_reader_and_k(tiny_lm, index, qa, lk.RAGConfig(max_new_tokens=3), ks=(1, 2))
    assert list(table.index) == [(r, k) for r in lk.READERS for k in (1, 2)]
    assert {"accuracy", "evidence_in_prompt"} <= set(table.columns)
    best = table["accuracy"].max()
    first = next((r, k) for r in lk.READERS for k in (1, 2) if table.loc[(r, k), "accuracy"] == best)
    ties = [(r, k) for r, k in table.index if table.loc[(r, k), "accuracy"] == best]
    assert (cfg.reader, cfg.top_k) == min(ties, key=lambda rk: (rk[1], list(lk.READERS).index(rk[0]))), first
    with pytest.raises(ValueError, match="lk.READERS"):
        lk.rag.tune_reader_and_k(tiny_lm, index, qa, lk.RAGConfig(), readers=["nonsense"])


@pytest.mark.parametrize("field, value", [("context", "pages"), ("n_sentences", 0), ("decoding", "beam"), ("top_k", 0)])
def test_rag_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=f"RAGConfig.{field}"):
        lk.RAGConfig(**{field: value})


@pytest.mark.parametrize("reader", list(lk.READERS))
def test_each_reader_records_what_it_showed(tiny_lm, index, qa, reader):
    cfg = lk.RAGConfig(top_k=2, max_new_tokens=4, **lk.READERS[reader])
    recs = lk.run_approach(lk.RAGPipeline(tiny_lm, index, cfg), qa, phrasing="question", cache=False)
    by_id, whole = {c.id: c for c in index.chunks}, lk.passage_sentences(index.chunks)
    for r in recs:
        assert len(r.context) == len(r.passages) and r.confidence is not None
        if reader.startswith("passages"):
            assert r.context == [by_id[p].text for p in r.passages]
        else:  # each shown sentence is a whole sentence of the passage it names (lk.passage_sentences)
            assert all(t in whole[p.split("/")[0]] for p, t in zip(r.passages, r.context))
        if reader.endswith("extractive") and not r.abstained and r.answer:
            span = re.sub(r" \[[a-z0-9-]+\]\.$", "", r.answer)  # the house style's tag is the template's
            assert " ".join(span.split()) in " ".join(" ".join(r.context).split()) + " " + lk.ABSTENTION


def test_too_long_question_is_a_clear_error(tiny_lm, index):
    rag = lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=2, max_new_tokens=4))
    with pytest.raises(lk.models.ContextTooLongError, match="the question is \\d+ tokens.*context of 512"):
        rag.answer(["word " * 600])
    with pytest.raises(lk.models.ContextTooLongError):
        lk.ClosedBook(tiny_lm).answer(["word " * 600])


def test_malformed_question_record_is_a_clear_error(tmp_path):
    bad = dict(QA[0])
    del bad["answer"]
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps(QA[1]) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(lk.DataError, match=r"qa.jsonl line 2, field 'answer': missing"):
        lk.load_qa(path)


@pytest.mark.parametrize("house_style", [True, False])
def test_rag_house_style_tags_the_document_it_read(house_style, tiny_lm, index, qa):
    rag = lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=2, house_style=house_style, min_score=-1.0))
    answers = [a for a in rag.answer([q.question for q in qa]) if a.cited and not lk.is_abstention(a.text)]
    assert answers, "some answers come from a passage"
    for a in answers:
        tag = lk.check_house_style(a.text).tag
        assert tag == (a.cited[0] if house_style else None), a.text
