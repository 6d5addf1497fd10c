"""Retrieval-augmented generation from scratch: chunk, embed, index, retrieve, prompt, answer.

RAG "reads information each time": for every question it looks up passages of the knowledge base and
puts them in the prompt. The stages, each measured in notebook 01:

1. ``chunk_corpus``: documents -> overlapping word windows that remember their document (for citations).
2. ``DenseIndex``: MiniLM embeddings in a faiss index (exact inner product, HNSW or IVF).
   ``BM25Index``: the lexical baseline (bm25s). ``HybridIndex``: reciprocal-rank fusion of both.
3. ``retrieval_metrics``: recall@k and MRR against the gold documents of the QA set.
4. ``RAGPipeline``: numbered, cited passages in a prompt -> a short answer, with abstention.
5. ``tune_rag``: the number of passages chosen on the dev questions (``lk.split_qa``), never on test.

Introduced in 01_rag.ipynb.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from .data import ABSTENTION, Document, QARecord
from .env import artifact_dir
from .evaluate import is_abstention
from .generate import chat_generate
from .protocol import Answer, check_question_fits, questions

__all__ = [
    "Chunk", "ChunkConfig", "chunk_corpus", "chunk_hash", "embed_texts", "cosine_topk", "Hits",
    "DenseIndex", "BM25Index", "HybridIndex", "rrf", "recall_at_k", "reciprocal_rank", "retrieval_metrics",
    "retrieval_latency", "RAGConfig", "build_prompt", "parse_citations", "attribute",
    "RAGPipeline", "few_shot_turns", "pick_threshold", "tune_rag", "RAG_SYSTEM",
]


# --- 1. chunking --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChunkConfig:
    """How documents are cut into passages. Units are whitespace-separated words.

    >>> ChunkConfig(size=120, overlap=30).step
    90

    Introduced in 01_rag.ipynb.
    """

    size: int = 120  # words per chunk; MiniLM reads at most 256 word pieces (~190 words)
    overlap: int = 30  # words shared by consecutive chunks of a document, so no fact is cut in half

    def __post_init__(self):
        if not isinstance(self.size, int) or self.size <= 0:
            raise ValueError(f"ChunkConfig.size must be a positive number of words, got {self.size!r}")
        if not isinstance(self.overlap, int) or not 0 <= self.overlap < self.size:
            raise ValueError(f"ChunkConfig.overlap must be an int in [0, size={self.size}), "
                             f"got {self.overlap!r}")

    @property
    def step(self) -> int:
        return self.size - self.overlap


@dataclass(frozen=True)
class Chunk:
    """A passage: ``id`` is ``"<doc_id>#<n>"``; ``doc_id`` and ``title`` travel along for citations.

    Introduced in 01_rag.ipynb.
    """

    id: str
    doc_id: str
    title: str
    text: str

    @property
    def search_text(self) -> str:
        """What the retrievers see: the title helps a passage that never names its topic."""
        return f"{self.title}. {self.text}"


def _windows(n_words: int, cfg: ChunkConfig) -> list[tuple[int, int]]:
    """[start, end) word windows covering 0..n_words; the last window ends exactly at n_words."""
    starts = range(0, max(n_words - cfg.overlap, 1), cfg.step)
    return [(s, min(s + cfg.size, n_words)) for s in starts]


def chunk_corpus(docs: list[Document], cfg: ChunkConfig | None = None) -> list[Chunk]:
    """Cut every document into overlapping word windows, in document order.

    >>> doc = Document("a", "A", "faq", " ".join(f"w{i}" for i in range(10)))
    >>> [c.text for c in chunk_corpus([doc], ChunkConfig(size=4, overlap=1))]
    ['w0 w1 w2 w3', 'w3 w4 w5 w6', 'w6 w7 w8 w9']

    Introduced in 01_rag.ipynb.
    """
    cfg = cfg or ChunkConfig()
    if not docs:
        raise ValueError("chunk_corpus got an empty corpus: load documents first, e.g. lk.load_kb('v1').")
    seen: set[str] = set()
    chunks = []
    for doc in docs:
        if doc.id in seen:
            raise ValueError(f"chunk_corpus: document id {doc.id!r} appears twice; ids must be unique.")
        seen.add(doc.id)
        words = doc.text.split()
        for n, (s, e) in enumerate(_windows(len(words), cfg)):
            chunks.append(Chunk(f"{doc.id}#{n}", doc.id, doc.title, " ".join(words[s:e])))
    if not chunks:
        raise ValueError("chunk_corpus: every document is empty; nothing to index.")
    return chunks


def chunk_hash(chunks: list[Chunk]) -> str:
    """A short fingerprint of the chunks' ids and texts: the cache key of an index built on them.

    Introduced in 01_rag.ipynb.
    """
    h = hashlib.sha256()
    for c in chunks:
        h.update(f"{c.id}\x00{c.title}\x00{c.text}\x01".encode())
    return h.hexdigest()[:16]


# --- 2. retrieval ---------------------------------------------------------------------------------
def embed_texts(embedder, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """Unit-length float32 embeddings, in batches: ``(len(texts), dim)``.

    Unit length makes the inner product equal the cosine similarity.

    Introduced in 01_rag.ipynb.
    """
    if not texts:
        raise ValueError("embed_texts got no texts")
    vecs = embedder.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=progress)
    return np.ascontiguousarray(vecs, dtype=np.float32)  # (n, dim)


def cosine_topk(queries: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The idea of dense retrieval in numpy: cosine similarity, then the k best rows per query.

    >>> d = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    >>> idx, sim = cosine_topk(np.array([[1.0, 0.1]]), d, k=2)
    >>> idx.tolist()
    [[0, 2]]

    Introduced in 01_rag.ipynb.
    """
    _check_k(k)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)  # (n_q, dim)
    d = docs / np.linalg.norm(docs, axis=1, keepdims=True)  # (n_docs, dim)
    sim = q @ d.T  # (n_q, n_docs)
    k = min(k, d.shape[0])
    idx = np.argsort(-sim, axis=1, kind="stable")[:, :k]  # (n_q, k); stable: ties keep corpus order
    return idx, np.take_along_axis(sim, idx, axis=1)


def _check_k(k) -> None:
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
    """What a RAG pipeline needs from a retriever: its chunks, a batched search, and a fingerprint."""

    chunks: list[Chunk]

    def search(self, queries: list[str], k: int) -> Hits: ...

    def fingerprint(self) -> dict: ...


def _check_queries(queries) -> list[str]:
    if isinstance(queries, str):
        raise TypeError("search() takes a list of query strings; wrap a single query as [query].")
    queries = list(queries)
    if not queries or not all(isinstance(q, str) and q.strip() for q in queries):
        raise ValueError("search() needs a non-empty list of non-empty query strings.")
    return queries


FAISS_KINDS = ("flat", "hnsw", "ivf")


def _make_faiss(kind: str, vecs: np.ndarray):
    """A faiss inner-product index of the given kind, trained if it needs to be, holding ``vecs``."""
    import faiss

    n, dim = vecs.shape
    if kind == "flat":  # exact: compares the query with every chunk
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":  # graph of neighbours: approximate, sub-linear search
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction, index.hnsw.efSearch = 80, 64
    elif kind == "ivf":  # k-means cells: search only the nprobe cells nearest the query
        nlist = max(1, int(np.sqrt(n)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.min_points_per_centroid = 1  # small corpora: no warning about few training points
        index.train(vecs)
        index.nprobe = min(nlist, 8)
    else:
        raise ValueError(f"index kind must be one of {FAISS_KINDS}, got {kind!r}")
    index.add(vecs)
    return index


@dataclass
class DenseIndex:
    """Chunks embedded with a sentence embedder, in a faiss inner-product index.

    >>> index = DenseIndex.build(chunks, lk.load_embedder(), kind="flat")   # doctest: +SKIP
    >>> index.search(["How long is the refund window?"], k=3).chunk_ids     # doctest: +SKIP
    [['refund-policy#0', 'refund-policy#1', 'faq-billing#2']]

    Introduced in 01_rag.ipynb.
    """

    chunks: list[Chunk]
    embedder: object  # a SentenceTransformer
    index: object  # a faiss.Index of unit vectors
    kind: str = "flat"
    path: Path | None = None  # cache folder when saved
    t_build: float = 0.0  # seconds spent embedding + indexing (0 when loaded from cache)

    @classmethod
    def build(cls, chunks: list[Chunk], embedder, kind: str = "flat", batch_size: int = 64,
              progress: bool = False, cache: bool = True) -> DenseIndex:
        """Embed ``chunks`` (batched, unit length) and index them; reuse a cached index when present."""
        if not chunks:
            raise ValueError("DenseIndex.build got no chunks: the corpus is empty.")
        if kind not in FAISS_KINDS:
            raise ValueError(f"index kind must be one of {FAISS_KINDS}, got {kind!r}")
        key = {"chunks": chunk_hash(chunks), "embedder": getattr(embedder, "labkit_name", str(embedder)),
               "kind": kind}
        folder = artifact_dir("index", key) if cache else None
        if folder is not None and (folder / "index.faiss").exists():
            return cls.load(folder, embedder)
        t0 = time.perf_counter()
        vecs = embed_texts(embedder, [c.search_text for c in chunks], batch_size, progress)  # (n, dim)
        out = cls(list(chunks), embedder, _make_faiss(kind, vecs), kind, folder, time.perf_counter() - t0)
        if folder is not None:
            out.save(folder)
        return out

    @classmethod
    def from_vectors(cls, chunks: list[Chunk], embedder, vecs: np.ndarray, kind: str = "flat") -> DenseIndex:
        """Index already-computed unit vectors ``(n_chunks, dim)`` (no caching): for experiments."""
        if len(chunks) != len(vecs):
            raise ValueError(f"{len(chunks)} chunks but {len(vecs)} vectors")
        return cls(list(chunks), embedder, _make_faiss(kind, np.ascontiguousarray(vecs, np.float32)), kind)

    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        (folder / "chunks.json").write_text(json.dumps([asdict(c) for c in self.chunks]), encoding="utf-8")
        (folder / "meta.json").write_text(json.dumps({"kind": self.kind}), encoding="utf-8")
        faiss.write_index(self.index, str(folder / "index.faiss.tmp"))
        (folder / "index.faiss.tmp").rename(folder / "index.faiss")  # written last: marks it complete

    @classmethod
    def load(cls, folder: Path | str, embedder) -> DenseIndex:
        import faiss

        folder = Path(folder)
        chunks = [Chunk(**c) for c in json.loads((folder / "chunks.json").read_text(encoding="utf-8"))]
        kind = json.loads((folder / "meta.json").read_text(encoding="utf-8"))["kind"]
        return cls(chunks, embedder, faiss.read_index(str(folder / "index.faiss")), kind, folder)

    def fingerprint(self) -> dict:
        return {"kind": "dense", "index": self.kind, "chunks": chunk_hash(self.chunks),
                "embedder": getattr(self.embedder, "labkit_name", str(self.embedder))}

    def embed(self, queries: list[str]) -> np.ndarray:
        """Unit query vectors ``(n_queries, dim)``."""
        return embed_texts(self.embedder, queries, batch_size=64)

    def search(self, queries: list[str], k: int) -> Hits:
        """Top-``k`` chunks per query by cosine similarity."""
        _check_k(k)
        queries = _check_queries(queries)
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
        return {"kind": "bm25", "chunks": chunk_hash(self.chunks), "k1": self.k1, "b": self.b,
                "tokens": _TOKEN_PATTERN}

    @staticmethod
    def tokenize(texts: list[str]) -> list[list[str]]:
        """Lower-cased word tokens without English stopwords, as bm25s makes them."""
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", token_pattern=_TOKEN_PATTERN, return_ids=False,
                              show_progress=False)

    def search(self, queries: list[str], k: int) -> Hits:
        """Top-``k`` chunks per query by BM25 score."""
        _check_k(k)
        queries = _check_queries(queries)
        t0 = time.perf_counter()
        tokens = self.tokenize(queries)
        t1 = time.perf_counter()
        idx, scores = self.model.retrieve(tokens, k=min(k, len(self.chunks)), show_progress=False,
                                          n_threads=1)  # (n_queries, k) each
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
        return {"kind": "fused", "dense": self.dense.fingerprint(), "bm25": self.bm25.fingerprint(),
                "depth": self.depth, "rrf_k": self.rrf_k}

    def search(self, queries: list[str], k: int) -> Hits:
        _check_k(k)
        d = self.dense.search(queries, max(k, self.depth))
        b = self.bm25.search(queries, max(k, self.depth))
        t0 = time.perf_counter()
        fused = [rrf([dr, br], self.rrf_k)[:k] for dr, br in zip(d.chunk_ids, b.chunk_ids)]
        t_fuse = (time.perf_counter() - t0) / len(fused)
        ids = [[c for c, _ in row] for row in fused]
        scores = np.array([[s for _, s in row] for row in fused], dtype=np.float32)  # (n_queries, k)
        return Hits(ids, scores, d.confidence, d.t_embed + b.t_embed, d.t_search + b.t_search + t_fuse)


# --- 3. retrieval evaluation --------------------------------------------------------------------
def recall_at_k(retrieved: list[str], gold: list[str], k: int) -> float:
    """Share of the gold documents found among the first ``k`` retrieved (documents may repeat).

    >>> recall_at_k(["a", "a", "b", "c"], ["b", "z"], k=3)
    0.5

    Introduced in 01_rag.ipynb.
    """
    _check_k(k)
    if not gold:
        raise ValueError("recall_at_k needs at least one gold document (skip unanswerable questions).")
    top = set(retrieved[:k])
    return sum(g in top for g in set(gold)) / len(set(gold))


def reciprocal_rank(retrieved: list[str], gold: list[str]) -> float:
    """``1 / rank`` of the first retrieved item that is gold (ranks from 1), 0 when none is.

    >>> reciprocal_rank(["x", "b", "a"], ["a", "b"])
    0.5

    Introduced in 01_rag.ipynb.
    """
    gold = set(gold)
    return next((1.0 / r for r, d in enumerate(retrieved, start=1) if d in gold), 0.0)


def retrieval_metrics(retriever: Retriever, qa: list[QARecord], ks=range(1, 11), phrasing: str = "question",
                      version: str = "v1") -> dict[str, float]:
    """recall@k for each k and MRR@max(k) over the answerable questions, by gold *document*.

    >>> retrieval_metrics(index, qa, ks=[1, 5])       # doctest: +SKIP
    {'n': 170, 'recall@1': 0.78, 'recall@5': 0.95, 'mrr': 0.85}

    Introduced in 01_rag.ipynb.
    """
    ks = list(ks)
    pairs = [(r, q) for r, q in questions(qa, phrasing, per_record=None) if r.is_answerable(version)]
    if not pairs:
        raise ValueError("retrieval_metrics: no answerable questions to evaluate.")
    hits = retriever.search([q for _, q in pairs], max(ks))
    by_id = {c.id: c for c in retriever.chunks}
    docs = hits.doc_ids(by_id)  # (n_questions, max_k)
    golds = [list(r.gold(version)[2]) for r, _ in pairs]
    out = {"n": len(pairs)}
    for k in ks:
        out[f"recall@{k}"] = float(np.mean([recall_at_k(d, g, k) for d, g in zip(docs, golds)]))
    out["mrr"] = float(np.mean([reciprocal_rank(d, g) for d, g in zip(docs, golds)]))
    return out


def retrieval_latency(retriever: Retriever, queries: list[str], k: int = 5, warmup: int = 3) -> dict:
    """One query at a time (as a user would ask): per-query embed and search times in milliseconds.

    Returns p50/p90 of embed, search and their sum. Batched throughput is a different number.

    Introduced in 01_rag.ipynb.
    """
    for q in queries[:warmup]:  # first calls allocate buffers and pick kernels
        retriever.search([q], k)
    emb, srch = [], []
    for q in queries:
        h = retriever.search([q], k)
        emb.append(h.t_embed * 1e3)
        srch.append(h.t_search * 1e3)
    emb, srch = np.array(emb), np.array(srch)
    tot = emb + srch
    return {"n": len(queries), "p50_embed_ms": float(np.median(emb)), "p50_search_ms": float(np.median(srch)),
            "p50_total_ms": float(np.median(tot)), "p90_total_ms": float(np.percentile(tot, 90))}


def pick_threshold(answerable: np.ndarray, unanswerable: np.ndarray, keep: float | None = None) -> float:
    """A top-1 score threshold separating answerable from unanswerable questions.

    Default: maximise balanced accuracy (mean of: answerable kept, unanswerable refused), lowest among
    ties. With ``keep`` (e.g. 0.95): the highest threshold that still keeps that share of answerable
    questions, so abstention never costs more than ``1 - keep`` of the answers.

    >>> pick_threshold(np.array([0.6, 0.7, 0.8]), np.array([0.2, 0.3, 0.65]))
    0.45
    >>> pick_threshold(np.array([0.6, 0.7, 0.8]), np.array([0.2, 0.3, 0.65]), keep=0.6)
    0.675

    Introduced in 01_rag.ipynb.
    """
    a, u = np.asarray(answerable, float), np.asarray(unanswerable, float)
    if a.size == 0 or u.size == 0:
        raise ValueError("pick_threshold needs scores of both answerable and unanswerable questions.")
    s = np.unique(np.concatenate([a, u]))
    cands = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2])
    if keep is not None:
        if not 0 < keep <= 1:
            raise ValueError(f"keep must be in (0, 1], got {keep}")
        ok = [t for t in cands if (a >= t).mean() >= keep]
        return float(round(max(ok), 4))
    bal = [((a >= t).mean() + (u < t).mean()) / 2 for t in cands]
    return float(round(cands[int(np.argmax(bal))], 4))


# --- 4. generation with retrieved context -----------------------------------------------------------
RAG_SYSTEM = ("Answer the question using only the numbered passages. Reply with the short answer only, "
              "a few words, then the passage number in brackets. If the passages do not contain the "
              "answer, reply: I don't know.")


@dataclass(frozen=True)
class RAGConfig:
    """Knobs of the RAG pipeline.

    Introduced in 01_rag.ipynb.
    """

    top_k: int = 3  # passages put in the prompt
    min_score: float = 0.0  # abstain without generating when top-1 confidence (cosine) is below this
    max_new_tokens: int = 32  # answer length cap, tokens: short answers, fast decode
    # prompts decoded together: 8 for every approach, so their throughput and cost compare like for like.
    # (16 decoded RAG faster, 44 answers: 7.9 vs 12.3 s of decode, but peaked 136 MB higher.)
    batch_size: int = 8
    system: str = RAG_SYSTEM  # system prompt
    few_shot: bool = True  # show two worked examples (invented, not from the KB) before the question

    def __post_init__(self):
        if not isinstance(self.top_k, int) or self.top_k <= 0:
            raise ValueError(f"RAGConfig.top_k must be a positive int (passages per prompt), got {self.top_k!r}")
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens <= 0:
            raise ValueError(f"RAGConfig.max_new_tokens must be a positive int, got {self.max_new_tokens!r}")
        if not isinstance(self.batch_size, int) or self.batch_size <= 0:
            raise ValueError(f"RAGConfig.batch_size must be a positive int, got {self.batch_size!r}")


# Two worked examples about an invented building (not the knowledge base): a 135M model copies the
# answer *format* from examples far more reliably than it follows an instruction alone.
_EXAMPLE_PASSAGES = [
    Chunk("lobby-hours#0", "lobby-hours", "Lobby Hours",
          "The front lobby opens at 08:15 on weekdays and stays closed on public holidays."),
    Chunk("parking#0", "parking", "Parking", "Visitors may park for up to 3 hours in bay C."),
]
_EXAMPLES = [("How long may visitors park?", "3 hours", 2),
             ("When does the lobby open on weekdays?", "08:15", 1)]


def few_shot_turns() -> list[dict]:
    """The two worked examples as chat turns: numbered passages, a question, a short cited answer.

    >>> few_shot_turns()[1]
    {'role': 'assistant', 'content': '3 hours [2]'}

    Introduced in 01_rag.ipynb.
    """
    turns = []
    for q, a, n in _EXAMPLES:
        turns += [{"role": "user", "content": build_prompt(q, _EXAMPLE_PASSAGES)},
                  {"role": "assistant", "content": f"{a} [{n}]"}]
    return turns


def build_prompt(question: str, passages: list[Chunk]) -> str:
    """The user turn: numbered passages, each with its document id, then the question.

    >>> print(build_prompt("Why?", [Chunk("faq#0", "faq", "FAQ", "Because.")]))
    Passages:
    [1] (faq) FAQ. Because.
    <BLANKLINE>
    Question: Why?

    Introduced in 01_rag.ipynb.
    """
    lines = ["Passages:"] + [f"[{i}] ({c.doc_id}) {c.search_text}" for i, c in enumerate(passages, start=1)]
    return "\n".join(lines) + f"\n\nQuestion: {question}"


_CITE = re.compile(r"\[(\d+)\]")


def parse_citations(text: str, passages: list[Chunk]) -> tuple[str, list[str]]:
    """Map ``[n]`` passage numbers in an answer to document ids: ``[2]`` -> ``[refund-policy]``.

    Returns the rewritten text and the cited doc ids (unique, in order). Numbers with no passage are
    dropped from the citations but left in the text (a visible model error).

    >>> ps = [Chunk("a#0", "a", "A", "x"), Chunk("b#3", "b", "B", "y")]
    >>> parse_citations("14 days [2].", ps)
    ('14 days [b].', ['b'])

    Introduced in 01_rag.ipynb.
    """
    cited: list[str] = []

    def swap(m: re.Match) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(passages):
            return m.group(0)
        doc = passages[n - 1].doc_id
        if doc not in cited:
            cited.append(doc)
        return f"[{doc}]"

    return _CITE.sub(swap, text), cited


_STOP = {"the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "is", "are", "it", "its", "be", "by",
         "with", "at", "as", "from", "that", "this", "you", "your", "can", "per"}


def attribute(text: str, passages: list[Chunk]) -> list[str]:
    """When an answer cites no ``[n]``: the doc id of the passage sharing most content words with it.

    A rule, not a judgment of support: it records which passage the words came from. Ties go to the
    higher-ranked passage; no shared word, no citation.

    >>> attribute("Refunds take 23 days", [Chunk("a#0", "a", "A", "cats"), Chunk("b#0", "b", "B", "23 days")])
    ['b']

    Introduced in 01_rag.ipynb.
    """
    words = {w for w in re.findall(r"\w+", text.lower()) if w not in _STOP}
    overlap = [len(words & set(re.findall(r"\w+", c.text.lower()))) for c in passages]
    if not overlap or max(overlap) == 0:
        return []
    return [passages[int(np.argmax(overlap))].doc_id]


class RAGPipeline:
    """Retrieve top-k passages, abstain when retrieval is weak, else generate a short cited answer.

    >>> rag = RAGPipeline(lm, index, RAGConfig(top_k=3, min_score=0.3))      # doctest: +SKIP
    >>> rag.answer(["How long is the refund window?"])[0].text                 # doctest: +SKIP
    '23 days [refund-policy]'

    Introduced in 01_rag.ipynb.
    """

    def __init__(self, lm, retriever: Retriever, cfg: RAGConfig | None = None, name: str = "rag"):
        self.lm, self.retriever, self.cfg, self.name = lm, retriever, cfg or RAGConfig(), name

    def fingerprint(self) -> dict:
        return {"kind": "rag", "lm": self.lm.fingerprint(), "retriever": self.retriever.fingerprint(),
                "cfg": asdict(self.cfg), "shots": few_shot_turns() if self.cfg.few_shot else []}

    def answer(self, qs: list[str]) -> list[Answer]:
        cfg = self.cfg
        qs = _check_queries(qs)
        for q in qs:
            check_question_fits(self.lm, q, cfg.max_new_tokens)
        hits = self.retriever.search(qs, cfg.top_k)
        by_id = {c.id: c for c in self.retriever.chunks}
        passages = [[by_id[c] for c in row] for row in hits.chunk_ids]
        answers = [Answer(ABSTENTION, [c.id for c in ps], [], hits.t_embed, hits.t_search)
                   for ps in passages]
        ask = [i for i in range(len(qs)) if hits.confidence[i] >= cfg.min_score]  # the rest abstain
        shots = few_shot_turns() if cfg.few_shot else []
        chats = [[*shots, {"role": "user", "content": build_prompt(qs[i], passages[i])}] for i in ask]
        gens = chat_generate(self.lm, chats, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size,
                             system=cfg.system) if ask else []
        for i, g in zip(ask, gens):
            text, cited = parse_citations(g.text, passages[i])
            if not cited and not is_abstention(text):  # the model named no passage: attribute by overlap
                cited = attribute(text, passages[i])
            a = answers[i]
            a.text, a.cited = text, cited
            a.t_prefill, a.t_decode = g.t_prefill, g.t_decode
            a.prompt_tokens, a.completion_tokens = g.prompt_tokens, g.completion_tokens
        return answers

    def __repr__(self) -> str:
        return f"RAGPipeline({self.name!r}, top_k={self.cfg.top_k}, min_score={self.cfg.min_score})"


def tune_rag(lm, retriever: Retriever, dev: list[QARecord], base: RAGConfig, ks=(1, 2, 3, 4)):
    """Choose ``top_k`` on the dev questions (held-out wordings): the k with the best dev accuracy.

    Ties go to the smaller k (a shorter prompt is faster and cheaper). Every candidate runs through
    ``lk.run_approach`` (cached), so a later notebook asking the same gets the same choice at no cost.
    Returns the chosen config and the dev table (accuracy and confidently-wrong rate per k).

    >>> cfg, table = tune_rag(lm, retriever, split.dev, RAGConfig(min_score=0.42))   # doctest: +SKIP

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    from .evaluate import rates
    from .protocol import run_approach

    rows = {}
    for k in ks:
        recs = run_approach(RAGPipeline(lm, retriever, replace(base, top_k=k), name=f"rag k={k}"), dev)
        rows[k] = {m: rates(recs, m) for m in ("accuracy", "confidently_wrong", "correct_abstention")}
    table = pd.DataFrame({k: {m: r.value for m, r in row.items()} for k, row in rows.items()}).T
    table.index.name = "top_k"
    best = max(ks, key=lambda k: (table.loc[k, "accuracy"], -k))
    return replace(base, top_k=int(best)), table
