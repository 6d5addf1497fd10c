"""Retrieval: embed, index, search, fuse (measured in ``labkit.retrieval_eval``).

* ``embed_texts`` / ``cosine_topk``: the idea in a few lines of numpy (notebook 01 shows it inline first).
* ``DenseIndex``: MiniLM embeddings in a faiss index (exact inner product, or any ``lk.IndexConfig``).
  ``BM25Index``: the lexical baseline (bm25s). ``HybridIndex``: reciprocal-rank fusion (``rrf``) of both.
* ``retrieval_metrics``: recall@k and MRR against the gold documents; ``pick_threshold``: the abstention
  threshold on top-1 similarity, chosen on train + dev questions.

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .ann import IndexConfig, make_index
from .checkpoint import atomic_dir
from .chunking import Chunk, chunk_hash
from .embedder import Embedder
from .env import artifact_dir

__all__ = [
    "embed_texts",
    "cosine_topk",
    "Hits",
    "Retriever",
    "DenseIndex",
    "BM25Index",
    "HybridIndex",
    "rrf",
]


# --- search -------------------------------------------------------------------------------------
def embed_texts(embedder: Embedder, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """Unit-length float32 embeddings, in batches: ``(len(texts), dim)``.

    Unit length makes the inner product equal the cosine similarity.

    Introduced in 01_rag.ipynb.
    """
    check_embedder(embedder)
    if not texts:
        raise ValueError("embed_texts got no texts")
    return embedder.encode(texts, batch_size=batch_size, progress=progress)  # (n, dim)


def check_embedder(embedder) -> None:
    """Raise a TypeError that says how to make an ``lk.Embedder`` unless ``embedder`` is one (every index that
    embeds checks it). Introduced in 01_rag.ipynb."""
    if not isinstance(embedder, Embedder):
        raise TypeError(
            f"expected an lk.Embedder (lk.load_embedder(), or lk.Embedder(model, name, source) "
            f"around a sentence-transformers model), got {type(embedder).__name__}"
        )


def cosine_topk(queries: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The idea of dense retrieval in numpy: cosine similarity, then the k best rows per query.

    >>> d = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    >>> idx, sim = cosine_topk(np.array([[1.0, 0.1]]), d, k=2)
    >>> idx.tolist()
    [[0, 2]]

    Introduced in 01_rag.ipynb.
    """
    check_k(k)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)  # (n_q, dim)
    d = docs / np.linalg.norm(docs, axis=1, keepdims=True)  # (n_docs, dim)
    sim = q @ d.T  # (n_q, n_docs)
    k = min(k, d.shape[0])
    idx = np.argsort(-sim, axis=1, kind="stable")[:, :k]  # (n_q, k); stable: ties keep corpus order
    return idx, np.take_along_axis(sim, idx, axis=1)


def check_k(k) -> None:
    """Raise a ValueError unless ``k`` (passages per query) is a positive int. Introduced in 01_rag.ipynb."""
    if not isinstance(k, (int, np.integer)) or k <= 0:
        raise ValueError(f"top-k must be a positive int, got {k!r}")


@dataclass
class Hits:
    """Top-k results for a batch of queries, and what finding them cost.

    Introduced in 01_rag.ipynb.
    """

    chunk_ids: list[list[str]]  # (n_queries, k) best first
    scores: np.ndarray  # (n_queries, k) on the retriever's own scale (cosine, BM25, RRF)
    confidence: np.ndarray  # (n_queries,) top-1 score used for abstention (cosine for dense and hybrid)
    t_embed: float  # seconds per query: turning the query into a vector / tokens
    t_search: float  # seconds per query: the index lookup

    def doc_ids(self, chunks_by_id: dict[str, Chunk]) -> list[list[str]]:
        """The documents of the retrieved chunks, same shape as ``chunk_ids``."""
        return [[chunks_by_id[c].doc_id for c in row] for row in self.chunk_ids]


class Retriever(Protocol):
    """What a RAG pipeline needs from a retriever: its chunks, a batched search, and a fingerprint.

    Introduced in 01_rag.ipynb.
    """

    chunks: list[Chunk]

    def search(self, queries: list[str], k: int) -> Hits: ...

    def fingerprint(self) -> dict: ...


def check_queries(queries) -> list[str]:
    """The queries as a list, or a clear error: a bare string (wrap it as ``[query]``), an empty list or an
    empty query. Every retriever and pipeline checks its input with it. Introduced in 01_rag.ipynb."""
    if isinstance(queries, str):
        raise TypeError("search() takes a list of query strings; wrap a single query as [query].")
    queries = list(queries)
    if not queries or not all(isinstance(q, str) and q.strip() for q in queries):
        raise ValueError("search() needs a non-empty list of non-empty query strings.")
    return queries


@dataclass
class DenseIndex:
    """Chunks embedded with a sentence embedder, in a faiss inner-product index.

    >>> index = DenseIndex.build(chunks, lk.load_embedder(), kind="flat")   # doctest: +SKIP
    >>> index.search(["How long is the refund window?"], k=3).chunk_ids     # doctest: +SKIP
    [['refund-policy#0', 'refund-policy#1', 'faq-billing#2']]

    Introduced in 01_rag.ipynb.
    """

    chunks: list[Chunk]
    embedder: Embedder
    index: object  # a faiss.Index of unit vectors
    config: IndexConfig = IndexConfig()  # how the index was built (lk.make_index)
    path: Path | None = None  # cache folder when saved
    t_build: float = 0.0  # seconds spent embedding + indexing (0 when loaded from cache)

    @property
    def kind(self) -> str:
        return self.config.kind

    @classmethod
    def build(
        cls,
        chunks: list[Chunk],
        embedder: Embedder,
        kind: str | IndexConfig = "flat",
        batch_size: int = 64,
        progress: bool = False,
        cache: bool = True,
    ) -> DenseIndex:
        """Embed ``chunks`` (batched, unit length) and index them; reuse a cached index when present.

        ``kind``: an ``lk.IndexConfig``, or a kind (``lk.ANN_KINDS``) with that config's defaults."""
        check_embedder(embedder)
        if not chunks:
            raise ValueError("DenseIndex.build got no chunks: the corpus is empty.")
        cfg = kind if isinstance(kind, IndexConfig) else IndexConfig(kind)
        key = {"chunks": chunk_hash(chunks), "embedder": embedder.fingerprint(), "kind": cfg.key()}
        folder = artifact_dir("index", key) if cache and cfg.kind != "usearch" else None  # faiss files only
        if folder is not None and (folder / "index.faiss").exists():
            return cls.load(folder, embedder)
        t0 = time.perf_counter()
        vecs = embed_texts(embedder, [c.search_text for c in chunks], batch_size, progress)  # (n, dim)
        out = cls(list(chunks), embedder, make_index(vecs, cfg), cfg, folder, time.perf_counter() - t0)
        if folder is not None:
            out.save(folder)
        return out

    @classmethod
    def from_vectors(
        cls, chunks: list[Chunk], embedder: Embedder, vecs: np.ndarray, kind: str | IndexConfig = "flat"
    ) -> DenseIndex:
        """Index already-computed unit vectors ``(n_chunks, dim)`` (no caching): for experiments."""
        if len(chunks) != len(vecs):
            raise ValueError(f"{len(chunks)} chunks but {len(vecs)} vectors")
        cfg = kind if isinstance(kind, IndexConfig) else IndexConfig(kind)
        return cls(list(chunks), embedder, make_index(vecs, cfg), cfg)

    def save(self, folder: Path) -> None:
        import faiss

        with atomic_dir(folder) as tmp:  # all three files appear together, or none
            (tmp / "chunks.json").write_text(json.dumps([asdict(c) for c in self.chunks]), encoding="utf-8")
            meta = {"kind": self.kind, "config": asdict(self.config)}
            (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            faiss.write_index(self.index, str(tmp / "index.faiss"))

    @classmethod
    def load(cls, folder: Path | str, embedder: Embedder) -> DenseIndex:
        import faiss

        folder = Path(folder)
        chunks = [Chunk(**c) for c in json.loads((folder / "chunks.json").read_text(encoding="utf-8"))]
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        cfg = IndexConfig(**meta["config"]) if "config" in meta else IndexConfig(meta["kind"])  # older: flat only
        return cls(chunks, embedder, faiss.read_index(str(folder / "index.faiss")), cfg, folder)

    def fingerprint(self) -> dict:
        return {
            "kind": "dense",
            "index": self.config.key(),  # "flat", or the settings of an approximate index
            "chunks": chunk_hash(self.chunks),
            "embedder": self.embedder.fingerprint(),
        }

    def embed(self, queries: list[str]) -> np.ndarray:
        """Unit query vectors ``(n_queries, dim)``."""
        return embed_texts(self.embedder, queries, batch_size=64)

    def search(self, queries: list[str], k: int) -> Hits:
        """Top-``k`` chunks per query by cosine similarity."""
        check_k(k)
        queries = check_queries(queries)
        t0 = time.perf_counter()
        q = self.embed(queries)  # (n_queries, dim)
        t1 = time.perf_counter()
        scores, idx = self.index.search(q, min(k, self.index.ntotal))  # (n_queries, k) each
        t2 = time.perf_counter()
        ids = [[self.chunks[i].id for i in row if i >= 0] for row in idx]  # -1: fewer hits than k
        n = len(queries)
        return Hits(ids, scores, scores[:, 0].copy(), (t1 - t0) / n, (t2 - t1) / n)


_TOKEN_PATTERN = r"(?u)\b\w+\b"  # bm25s' default drops 1-character tokens; keep digits like "3"


class BM25Index:
    """The lexical baseline: BM25 over the chunks with the ``bm25s`` library (English stopwords).

    >>> BM25Index(chunks).search(["refund window"], k=1).chunk_ids          # doctest: +SKIP
    [['refund-policy#0']]

    Introduced in 01_rag.ipynb.
    """

    def __init__(self, chunks: list[Chunk], k1: float = 1.5, b: float = 0.75):
        import bm25s

        if not chunks:
            raise ValueError("BM25Index got no chunks: the corpus is empty.")
        self.chunks, self.k1, self.b = list(chunks), k1, b
        self.model = bm25s.BM25(k1=k1, b=b)  # method "lucene": idf = log(1 + (N - df + .5) / (df + .5))
        self.model.index(self.tokenize([c.search_text for c in chunks]), show_progress=False)

    def fingerprint(self) -> dict:
        return {"kind": "bm25", "chunks": chunk_hash(self.chunks), "k1": self.k1, "b": self.b, "tokens": _TOKEN_PATTERN}

    @staticmethod
    def tokenize(texts: list[str]) -> list[list[str]]:
        """Lower-cased word tokens without English stopwords, as bm25s makes them."""
        import bm25s

        return bm25s.tokenize(
            texts, stopwords="en", token_pattern=_TOKEN_PATTERN, return_ids=False, show_progress=False
        )

    def search(self, queries: list[str], k: int) -> Hits:
        """Top-``k`` chunks per query by BM25 score."""
        check_k(k)
        queries = check_queries(queries)
        t0 = time.perf_counter()
        tokens = self.tokenize(queries)
        t1 = time.perf_counter()
        idx, scores = self.model.retrieve(
            tokens, k=min(k, len(self.chunks)), show_progress=False, n_threads=1
        )  # (n_queries, k) each
        t2 = time.perf_counter()
        ids = [[self.chunks[i].id for i in row] for row in idx]
        n = len(queries)
        return Hits(ids, scores, scores[:, 0].copy(), (t1 - t0) / n, (t2 - t1) / n)


def rrf(rankings: list[list[str]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: each list gives an item ``1 / (k + rank)``; sum, sort best first.

    Ranks start at 1. Ties keep the order in which items first appear.

    >>> rrf([["a", "b"], ["b", "c"]], k=60)[0]
    ('b', 0.03252247488101534)

    Introduced in 01_rag.ipynb.
    """
    if k < 0:
        raise ValueError(f"rrf constant k must be >= 0, got {k}")
    total: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            total[item] = total.get(item, 0.0) + 1.0 / (k + rank)
    order = {item: i for i, item in enumerate(total)}  # first appearance breaks ties
    return sorted(total.items(), key=lambda kv: (-kv[1], order[kv[0]]))


class HybridIndex:
    """Dense + BM25 fused by reciprocal rank: each retrieves ``depth`` chunks, RRF keeps the best k.

    Abstention confidence is the dense top-1 cosine (RRF scores have no absolute meaning).

    Introduced in 01_rag.ipynb.
    """

    def __init__(self, dense: DenseIndex, bm25: BM25Index, depth: int = 20, rrf_k: int = 60):
        if [c.id for c in dense.chunks] != [c.id for c in bm25.chunks]:
            raise ValueError("HybridIndex: the dense and BM25 indexes were built on different chunks.")
        self.dense, self.bm25, self.depth, self.rrf_k = dense, bm25, depth, rrf_k
        self.chunks = dense.chunks

    def fingerprint(self) -> dict:
        return {
            "kind": "fused",
            "dense": self.dense.fingerprint(),
            "bm25": self.bm25.fingerprint(),
            "depth": self.depth,
            "rrf_k": self.rrf_k,
        }

    def search(self, queries: list[str], k: int) -> Hits:
        check_k(k)
        d = self.dense.search(queries, max(k, self.depth))
        b = self.bm25.search(queries, max(k, self.depth))
        t0 = time.perf_counter()
        fused = [rrf([dr, br], self.rrf_k)[:k] for dr, br in zip(d.chunk_ids, b.chunk_ids)]
        t_fuse = (time.perf_counter() - t0) / len(fused)
        ids = [[c for c, _ in row] for row in fused]
        scores = np.array([[s for _, s in row] for row in fused], dtype=np.float32)  # (n_queries, k)
        return Hits(ids, scores, d.confidence, d.t_embed + b.t_embed, d.t_search + b.t_search + t_fuse)
