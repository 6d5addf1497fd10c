"""RAG stages on a small fixture: chunking, retrieval (numpy = faiss), BM25, RRF, metrics, pipeline, errors."""
import json
import re
import zlib

import numpy as np
import pytest
from factories import qa_row

import labkit as lk
from labkit.data import Document

DOCS = {
    "refund-policy": ("Refund policy", "Customers can request a refund within 23 days of purchase. "
                      "Refunds go back to the original card within five business days."),
    "pricing": ("Pricing", "The Team plan costs 47.80 EUR per seat per month. The Basic plan is free "
                "for up to three users and has no export feature."),
    "office-hours": ("Support hours", "Support answers phone calls from 07:30 to 18:00 on weekdays. "
                     "Chat support is open around the clock."),
    "release-3-2": ("Release 3.2", "Version 3.2 adds the zebracorn importer and dark mode. "
                    "It removes the legacy XML exporter."),
}


def qa_line(qid, question, answer, doc_ids, aliases=()):
    return qa_row(qid, question, answer, doc_ids, aliases, train=[question.lower()], heldout=[question.upper()],
                  styled=f"{answer} [{doc_ids[0]}]." if answer else None)


QA = [qa_line("q1", "How many days do I have to request a refund?", "23 days", ["refund-policy"],
              ["twenty-three days"]),
      qa_line("q2", "What does the Team plan cost per seat?", "47.80 EUR", ["pricing"]),
      qa_line("q3", "When does phone support open?", "07:30", ["office-hours"]),
      qa_line("q4", "Which importer was added in version 3.2?", "zebracorn importer", ["release-3-2"]),
      qa_line("u1", "Who is the chief financial officer?", None, [])]


@pytest.fixture()
def docs():
    return [Document(i, t, "faq", body) for i, (t, body) in DOCS.items()]


@pytest.fixture()
def qa(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in QA) + "\n")
    return lk.load_qa(path)


class HashEmbedder:
    """A deterministic bag-of-words embedder with the SentenceTransformer.encode signature: fast tests."""

    labkit_name = "hash-bow-64"

    def encode(self, texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
               show_progress_bar=False):
        out = np.full((len(texts), 64), 1e-3, dtype=np.float32)  # (n, 64); never all zero
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, zlib.crc32(w.encode()) % 64] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture()
def index(docs, cache):
    return lk.DenseIndex.build(lk.chunk_corpus(docs, lk.ChunkConfig(size=12, overlap=4)), HashEmbedder())


# --- chunking -------------------------------------------------------------------------------------
@pytest.mark.parametrize("size, overlap", [(4, 0), (4, 1), (5, 2), (12, 4), (100, 10)])
def test_chunking_invariants(docs, size, overlap):
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=size, overlap=overlap))
    assert len({c.id for c in chunks}) == len(chunks)  # unique ids
    for doc in docs:
        mine = [c for c in chunks if c.doc_id == doc.id]
        assert all(c.title == doc.title and c.id.startswith(doc.id + "#") for c in mine)
        assert all(len(c.text.split()) <= size for c in mine)
        words = doc.text.split()
        rebuilt = mine[0].text.split()
        for prev, cur in zip(mine, mine[1:]):
            p, c = prev.text.split(), cur.text.split()
            assert p[-overlap:] == c[:overlap] if overlap else True  # consecutive chunks share `overlap` words
            rebuilt += c[overlap:]
        assert rebuilt == words  # nothing lost, nothing duplicated beyond the overlap


def test_chunking_short_document_is_one_chunk(docs):
    chunks = lk.chunk_corpus(docs[:1], lk.ChunkConfig(size=1000, overlap=10))
    assert [c.text for c in chunks] == [" ".join(docs[0].text.split())]


@pytest.mark.parametrize("kwargs", [{"size": 0}, {"size": 10, "overlap": 10}, {"size": 10, "overlap": -1},
                                    {"size": 2.5}])
def test_chunk_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError, match="ChunkConfig"):
        lk.ChunkConfig(**kwargs)


def test_empty_corpus_is_a_clear_error():
    with pytest.raises(ValueError, match="empty corpus"):
        lk.chunk_corpus([])
    with pytest.raises(ValueError, match="empty"):
        lk.BM25Index([])
    with pytest.raises(ValueError, match="empty"):
        lk.DenseIndex.build([], HashEmbedder())


# --- dense retrieval ------------------------------------------------------------------------------
def test_numpy_cosine_topk_equals_faiss_flat():
    import faiss

    rng = np.random.default_rng(0)
    docs = rng.normal(size=(200, 32)).astype(np.float32)  # (n_docs, dim)
    queries = rng.normal(size=(7, 32)).astype(np.float32)  # (n_q, dim)
    idx, sim = lk.cosine_topk(queries, docs, k=5)
    index = faiss.IndexFlatIP(32)
    index.add(docs / np.linalg.norm(docs, axis=1, keepdims=True))
    f_sim, f_idx = index.search(queries / np.linalg.norm(queries, axis=1, keepdims=True), 5)
    np.testing.assert_array_equal(idx, f_idx)
    np.testing.assert_allclose(sim, f_sim, atol=1e-5)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_every_index_kind_returns_valid_ids(docs, kind, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=6, overlap=2))
    index = lk.DenseIndex.build(chunks, HashEmbedder(), kind=kind)
    hits = index.search(["refund within 23 days", "zebracorn importer"], k=3)
    valid = {c.id for c in chunks}
    assert all(len(row) == 3 and set(row) <= valid for row in hits.chunk_ids)
    assert hits.scores.shape == (2, 3) and np.all(np.diff(hits.scores, axis=1) <= 1e-6)  # best first
    assert hits.doc_ids({c.id: c for c in chunks})[1][0] == "release-3-2"
    assert hits.t_embed >= 0 and hits.t_search >= 0


def test_dense_index_cache_round_trip(docs, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=12, overlap=4))
    built = lk.DenseIndex.build(chunks, HashEmbedder())
    loaded = lk.DenseIndex.build(chunks, HashEmbedder())  # same key: read from disk
    assert built.t_build > 0 and loaded.t_build == 0 and loaded.path == built.path
    assert loaded.chunks == built.chunks
    q = ["phone support hours"]
    assert loaded.search(q, 4).chunk_ids == built.search(q, 4).chunk_ids


def test_k_larger_than_corpus_is_clamped(index):
    hits = index.search(["refund"], k=1000)
    assert len(hits.chunk_ids[0]) == len(index.chunks)


@pytest.mark.parametrize("k", [0, -3, 1.5])
def test_top_k_must_be_positive(index, k):
    with pytest.raises(ValueError, match="top-k must be a positive int"):
        index.search(["refund"], k)
    with pytest.raises(ValueError, match="top-k must be a positive int"):
        lk.BM25Index(index.chunks).search(["refund"], k)


def test_rag_config_rejects_bad_top_k():
    with pytest.raises(ValueError, match="top_k"):
        lk.RAGConfig(top_k=0)


def test_search_rejects_a_bare_string(index):
    with pytest.raises(TypeError, match="list of query strings"):
        index.search("refund", 3)


# --- lexical, fusion, metrics ---------------------------------------------------------------------
def test_bm25_finds_the_exact_keyword_document(docs):
    bm25 = lk.BM25Index(lk.chunk_corpus(docs, lk.ChunkConfig(size=12, overlap=4)))
    hits = bm25.search(["zebracorn"], k=2)
    assert hits.chunk_ids[0][0].startswith("release-3-2#")
    assert hits.scores[0, 0] > 0 and hits.scores[0, 1] == 0  # only one chunk has the word


@pytest.mark.parametrize("rankings, expected", [
    ([["a", "b", "c"]], ["a", "b", "c"]),  # one list: order kept
    ([["a", "b"], ["b", "a"]], ["a", "b"]),  # exact tie: first appearance wins
    # c: 1/61 + 1/63 = 0.032266 edges out b: 2/62 = 0.032258; a: 1/61; d: 1/63
    ([["a", "b", "c"], ["c", "b", "d"]], ["c", "b", "a", "d"]),
])
def test_rrf_order(rankings, expected):
    assert [item for item, _ in lk.rrf(rankings, k=60)] == expected


def test_rrf_hand_worked_scores():
    fused = dict(lk.rrf([["a", "b", "c"], ["c", "b", "d"]], k=60))
    assert fused["b"] == pytest.approx(2 / 62)
    assert fused["a"] == pytest.approx(1 / 61) and fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["d"] == pytest.approx(1 / 63)


@pytest.mark.parametrize("retrieved, gold, k, recall", [
    (["a", "b", "c"], ["a"], 1, 1.0),
    (["a", "b", "c"], ["c"], 2, 0.0),
    (["a", "b", "c"], ["c"], 3, 1.0),
    (["a", "a", "b"], ["b", "z"], 3, 0.5),  # two gold documents, one found
    (["a", "a", "b"], ["b", "b"], 3, 1.0),  # duplicate gold ids count once
])
def test_recall_at_k(retrieved, gold, k, recall):
    assert lk.recall_at_k(retrieved, gold, k) == recall


@pytest.mark.parametrize("retrieved, gold, rr", [
    (["a", "b"], ["a"], 1.0), (["x", "y", "a"], ["a"], 1 / 3), (["x", "y"], ["a"], 0.0),
    (["x", "b", "a"], ["a", "b"], 0.5),
])
def test_reciprocal_rank(retrieved, gold, rr):
    assert lk.reciprocal_rank(retrieved, gold) == pytest.approx(rr)


def test_retrieval_metrics_on_fixture(index, qa):
    bm25 = lk.BM25Index(index.chunks)
    for retriever in (index, bm25, lk.HybridIndex(index, bm25, depth=5)):
        m = lk.retrieval_metrics(retriever, qa, ks=[1, 3, 5])
        assert m["n"] == 4  # answerable only
        assert 0 <= m["recall@1"] <= m["recall@3"] <= m["recall@5"] <= 1
        assert m["recall@1"] <= m["mrr"] <= 1
    assert lk.retrieval_metrics(bm25, qa, ks=[5])["recall@5"] == 1.0  # keywords make this easy


def test_hybrid_rejects_mismatched_indexes(index, docs):
    other = lk.BM25Index(lk.chunk_corpus(docs, lk.ChunkConfig(size=30, overlap=0)))
    with pytest.raises(ValueError, match="different chunks"):
        lk.HybridIndex(index, other)


def test_pick_threshold_separates_scores():
    t = lk.pick_threshold(np.array([0.6, 0.7, 0.8]), np.array([0.2, 0.3, 0.4]))
    assert 0.4 < t < 0.6
    with pytest.raises(ValueError):
        lk.pick_threshold(np.array([]), np.array([0.1]))


# --- generation -----------------------------------------------------------------------------------
def test_prompt_numbers_passages_and_citations_map_to_docs(index):
    ps = index.chunks[:3]
    prompt = lk.build_prompt("Why?", ps)
    assert prompt.splitlines()[1].startswith(f"[1] ({ps[0].doc_id})") and prompt.endswith("Question: Why?")
    text, cited = lk.parse_citations("It is 23 days [3] and [1], see [9].", ps)
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


def test_tune_rag_picks_k_on_dev_and_prefers_the_smaller_on_ties(tiny_lm, index, qa):
    cfg, table = lk.tune_rag(tiny_lm, index, qa, lk.RAGConfig(max_new_tokens=3), ks=(1, 2))
    assert list(table.index) == [1, 2] and cfg.top_k in (1, 2)
    best = table["accuracy"].max()
    assert cfg.top_k == min(k for k in (1, 2) if table.loc[k, "accuracy"] == best)


def test_too_long_question_is_a_clear_error(tiny_lm, index):
    rag = lk.RAGPipeline(tiny_lm, index, lk.RAGConfig(top_k=2, max_new_tokens=4))
    with pytest.raises(lk.ContextTooLongError, match="the question is \\d+ tokens.*context of 512"):
        rag.answer(["word " * 600])
    with pytest.raises(lk.ContextTooLongError):
        lk.ClosedBook(tiny_lm).answer(["word " * 600])


def test_malformed_question_record_is_a_clear_error(tmp_path):
    bad = dict(QA[0])
    del bad["answer"]
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps(QA[1]) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(lk.DataError, match=r"qa.jsonl:2.*'answer'"):
        lk.load_qa(path)


@pytest.mark.slow
def test_real_embedder_retrieves_the_right_documents(embedder, docs, qa, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    index = lk.DenseIndex.build(lk.chunk_corpus(docs, lk.ChunkConfig(size=40, overlap=10)), embedder)
    assert lk.retrieval_metrics(index, qa, ks=[1])["recall@1"] == 1.0
    lat = lk.retrieval_latency(index, [q.question for q in qa])
    assert lat["n"] == len(qa) and lat["p50_total_ms"] > 0
