"""Measuring retrieval: recall@k and MRR against the gold documents, latency, and the abstention threshold.

* ``recall_at_k`` / ``reciprocal_rank``: per question; ``retrieval_metrics``: a table over a QA set.
* ``one_at_a_time``: any search, one query at a time, timed; ``retrieval_latency``: embedding vs search time.
* ``pick_threshold``: the top-1 similarity below which RAG abstains, from answerable vs unanswerable
  questions of train + dev (never test).

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import time

import numpy as np

from .data import QARecord
from .protocol import questions
from .retrieval import Retriever, check_k

__all__ = [
    "recall_at_k",
    "reciprocal_rank",
    "retrieval_metrics",
    "one_at_a_time",
    "retrieval_latency",
    "pick_threshold",
]


def recall_at_k(retrieved: list[str], gold: list[str], k: int) -> float:
    """Share of the gold documents found among the first ``k`` retrieved (documents may repeat).

    >>> recall_at_k(["a", "a", "b", "c"], ["b", "z"], k=3)
    0.5

    Introduced in 01_rag.ipynb.
    """
    check_k(k)
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


def retrieval_metrics(
    retriever: Retriever, qa: list[QARecord], ks=range(1, 11), phrasing: str = "question", version: str = "v1"
) -> dict[str, float]:
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


def one_at_a_time(search, queries, warmup: int = 3) -> tuple[list, np.ndarray]:
    """``search(query)`` for each query in turn, as a user asks them, after ``warmup`` untimed calls (first calls
    allocate buffers and pick kernels): each call's result, and its milliseconds ``(n_queries,)``.

    >>> out, ms = one_at_a_time(str.upper, ["a", "b"], warmup=1)
    >>> out, ms.shape
    (['A', 'B'], (2,))

    Introduced in 01_rag.ipynb.
    """
    for q in queries[:warmup]:
        search(q)
    out, ms = [], np.empty(len(queries))
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        out.append(search(q))
        ms[i] = (time.perf_counter() - t0) * 1e3
    return out, ms


def retrieval_latency(retriever: Retriever, queries: list[str], k: int = 5, warmup: int = 3) -> dict:
    """One query at a time (as a user would ask): per-query embed and search times in milliseconds, as the
    retriever splits them.

    Returns p50/p90 of embed, search and their sum. Batched throughput is a different number.

    Introduced in 01_rag.ipynb.
    """
    hits, _ = one_at_a_time(lambda q: retriever.search([q], k), queries, warmup)
    emb = np.array([h.t_embed * 1e3 for h in hits])
    srch = np.array([h.t_search * 1e3 for h in hits])
    tot = emb + srch
    return {
        "n": len(queries),
        "p50_embed_ms": float(np.median(emb)),
        "p50_search_ms": float(np.median(srch)),
        "p50_total_ms": float(np.median(tot)),
        "p90_total_ms": float(np.percentile(tot, 90)),
    }


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
        return _tidy(max(ok), s)
    bal = [((a >= t).mean() + (u < t).mean()) / 2 for t in cands]
    return _tidy(cands[int(np.argmax(bal))], s)


def _tidy(t: float, scores: np.ndarray) -> float:
    """``t`` rounded to 4 decimals for display, unless rounding moves it past a score (two scores closer
    than 1e-4): then ``t`` itself, so the threshold keeps exactly the scores it was chosen to keep."""
    r = round(float(t), 4)
    return r if np.array_equal(scores >= r, scores >= t) else float(t)
