"""Retrieval: numpy cosine = faiss, index kinds, cache, BM25, RRF, recall/MRR, thresholds."""

import numpy as np
import pytest
from faq_fixtures import HashBow

import labkit as lk


# --- dense retrieval ------------------------------------------------------------------------------
def test_numpy_cosine_topk_equals_faiss_flat():
    import faiss

    rng = np.random.default_rng(0)
    docs = rng.normal(size=(200, 32)).astype(np.float32)  # (n_docs, dim)
    queries = rng.normal(size=(7, 32)).astype(np.float32)  # (n_q, dim)
    idx, sim = lk.retrieval.cosine_topk(queries, docs, k=5)
    index = faiss.IndexFlatIP(32)
    index.add(docs / np.linalg.norm(docs, axis=1, keepdims=True))
    f_sim, f_idx = index.search(queries / np.linalg.norm(queries, axis=1, keepdims=True), 5)
    np.testing.assert_array_equal(idx, f_idx)
    np.testing.assert_allclose(sim, f_sim, atol=1e-5)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_every_index_kind_returns_valid_ids(docs, kind, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=6, overlap=2))
    index = lk.DenseIndex.build(chunks, lk.Embedder(HashBow(), "hash-bow-64", "test"), kind=kind)
    hits = index.search(["refund within 23 days", "zebracorn importer"], k=3)
    valid = {c.id for c in chunks}
    assert all(len(row) == 3 and set(row) <= valid for row in hits.chunk_ids)
    assert hits.scores.shape == (2, 3) and np.all(np.diff(hits.scores, axis=1) <= 1e-6)  # best first
    assert hits.doc_ids({c.id: c for c in chunks})[1][0] == "release-3-2"
    assert hits.t_embed >= 0 and hits.t_search >= 0


def test_dense_index_cache_round_trip(docs, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=12, overlap=4))
    built = lk.DenseIndex.build(chunks, lk.Embedder(HashBow(), "hash-bow-64", "test"))
    loaded = lk.DenseIndex.build(chunks, lk.Embedder(HashBow(), "hash-bow-64", "test"))  # same key: read from disk
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


@pytest.mark.parametrize(
    "rankings, expected",
    [
        ([["a", "b", "c"]], ["a", "b", "c"]),  # one list: order kept
        ([["a", "b"], ["b", "a"]], ["a", "b"]),  # exact tie: first appearance wins
        # c: 1/61 + 1/63 = 0.032266 edges out b: 2/62 = 0.032258; a: 1/61; d: 1/63
        ([["a", "b", "c"], ["c", "b", "d"]], ["c", "b", "a", "d"]),
    ],
)
def test_rrf_order(rankings, expected):
    assert [item for item, _ in lk.rrf(rankings, k=60)] == expected


def test_rrf_hand_worked_scores():
    fused = dict(lk.rrf([["a", "b", "c"], ["c", "b", "d"]], k=60))
    assert fused["b"] == pytest.approx(2 / 62)
    assert fused["a"] == pytest.approx(1 / 61) and fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["d"] == pytest.approx(1 / 63)


@pytest.mark.parametrize(
    "retrieved, gold, k, recall",
    [
        (["a", "b", "c"], ["a"], 1, 1.0),
        (["a", "b", "c"], ["c"], 2, 0.0),
        (["a", "b", "c"], ["c"], 3, 1.0),
        (["a", "a", "b"], ["b", "z"], 3, 0.5),  # two gold documents, one found
        (["a", "a", "b"], ["b", "b"], 3, 1.0),  # duplicate gold ids count once
    ],
)
def test_recall_at_k(retrieved, gold, k, recall):
    assert lk.retrieval_eval.recall_at_k(retrieved, gold, k) == recall


@pytest.mark.parametrize(
    "retrieved, gold, rr",
    [
        (["a", "b"], ["a"], 1.0),
        (["x", "y", "a"], ["a"], 1 / 3),
        (["x", "y"], ["a"], 0.0),
        (["x", "b", "a"], ["a", "b"], 0.5),
    ],
)
def test_reciprocal_rank(retrieved, gold, rr):
    assert lk.retrieval_eval.reciprocal_rank(retrieved, gold) == pytest.approx(rr)


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


@pytest.mark.parametrize("keep", [0.5, 0.9, 1.0])
def test_pick_threshold_keeps_its_share_when_scores_are_closer_than_the_rounding(keep):
    # two answerable scores 1e-7 apart (float32 cosines of near-twin wordings): the midpoint between them
    # rounds to 4 decimals above both; the threshold must still keep what it was chosen to keep
    a = np.array([0.6657645, 0.6657646, 0.70, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77])
    t = lk.pick_threshold(a, np.array([0.2, 0.3]), keep=keep)
    assert (a >= t).mean() >= keep and (a >= t).mean() < keep + 0.1


@pytest.mark.slow
def test_real_embedder_retrieves_the_right_documents(embedder, docs, qa, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    index = lk.DenseIndex.build(lk.chunk_corpus(docs, lk.ChunkConfig(size=40, overlap=10)), embedder)
    assert lk.retrieval_metrics(index, qa, ks=[1])["recall@1"] == 1.0
    lat = lk.retrieval_latency(index, [q.question for q in qa])
    assert lat["n"] == len(qa) and lat["p50_total_ms"] > 0
