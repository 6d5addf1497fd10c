"""Scale: how an index's build time, memory and query latency grow with the corpus, and what ANN costs.

* ``fit_gaussian`` / ``synthetic_vectors``: the two-level Gaussian (document centres, then chunks around
  them) the benchmark used to fill sizes past the real vectors; kept as the comparison that shows why a
  generator must be calibrated (``labkit.lid``: its local dimension is far higher than real vectors', and how
  much harder it is to index depends on how it is grown).
* ``SCALE_CONFIGS``: the indexes a practitioner would try, from ``labkit.ann`` (``IndexConfig``,
  ``make_index``), each with the one knob that trades recall for speed at search time (``nprobe``, ``efSearch``).
* ``measure_ann``: build time, index size, single-query latency and recall@k against exact search, the
  knob chosen on tuning queries and reported on other queries (tune on dev, report on test).
* ``fit_power``: the growth exponent b of ``y = a * x**b``, fitted on a log-log line.

The largest sizes (10^5 real docstring vectors, 10^6 with calibrated ones; about 1.5 GB a copy) run in
``benchmarks/bench_scale.py``; notebook 05 measures 10^3 to 10^4 real vectors itself and loads the benchmark's
file for the rest.

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .ann import ANN_KNOBS, IndexConfig, make_index, set_knob
from .retrieval_eval import one_at_a_time
from .stats import bootstrap_interval

__all__ = [
    "Gaussian",
    "fit_gaussian",
    "synthetic_vectors",
    "index_bytes",
    "recall_per_query",
    "ann_recall",
    "recall_low",
    "single_query_ms",
    "measure_ann",
    "fit_power",
    "SCALE_CONFIGS",
    "fastest_index",
    "best_under",
    "load_scale_results",
]


@dataclass
class Gaussian:
    """A fitted model of embeddings, for ``synthetic_vectors``: one Gaussian, or two levels (documents, then
    their chunks). Cholesky factors are ``(dim, dim)``; ``within`` is None for one level.

    Introduced in 05_cost_and_scale.ipynb.
    """

    mean: np.ndarray  # (dim,)
    chol: np.ndarray  # between documents (two levels) or of all vectors (one level)
    within: np.ndarray | None  # chunks around their document's centre
    per_doc: float  # chunks per document (two levels)
    shrink: float
    n_fitted: int


def _shrunk_chol(x: np.ndarray, shrink: float) -> np.ndarray:
    cov = np.cov(x, rowvar=False)  # (dim, dim)
    dim = cov.shape[0]
    cov = (1 - shrink) * cov + shrink * np.trace(cov) / dim * np.eye(dim)
    return np.linalg.cholesky(cov)


def fit_gaussian(vecs: np.ndarray, groups=None, per_doc: float | None = None, shrink: float = 0.1) -> Gaussian:
    """Fit real embeddings ``(n, dim)``: one Gaussian, or, with ``groups`` (each row's document), two levels.

    Two levels keep what one Gaussian loses: chunks of one document lie close together. Document centres
    are drawn from the covariance of the real documents' mean vectors, and chunks around them from the
    covariance of the real chunks' offsets from their document's mean; ``per_doc`` chunks per document
    (default: the real ratio). With fewer vectors than dimensions a sample covariance is singular, so each
    is shrunk towards a multiple of the identity: ``(1 - shrink) * S + shrink * trace(S) / dim * I``. The
    scale results hardly depend on ``shrink``: HNSW's recall@10 at 10^5 vectors, efSearch 128, was 0.945 with
    0.1 and 0.948 with 0.01 (workbook corpus, test queries).

    >>> g = fit_gaussian(np.random.default_rng(0).normal(size=(200, 4)))
    >>> g.mean.shape, g.chol.shape, g.within
    ((4,), (4, 4), None)

    Introduced in 05_cost_and_scale.ipynb.
    """
    vecs = np.asarray(vecs, dtype=np.float64)
    if vecs.ndim != 2 or len(vecs) < 2:
        raise ValueError(f"fit_gaussian needs a (n >= 2, dim) array of embeddings, got shape {vecs.shape}")
    if not 0 <= shrink <= 1:
        raise ValueError(f"shrink must be in [0, 1], got {shrink}")
    mean = vecs.mean(axis=0)  # (dim,)
    if groups is None:
        return Gaussian(mean, _shrunk_chol(vecs, shrink), None, 1.0, shrink, len(vecs))
    groups = np.asarray(groups)
    if len(groups) != len(vecs):
        raise ValueError(f"groups has {len(groups)} labels for {len(vecs)} vectors")
    names, idx = np.unique(groups, return_inverse=True)
    if len(names) < 2:
        raise ValueError("two levels need vectors from two or more documents")
    centres = np.stack([vecs[idx == g].mean(axis=0) for g in range(len(names))])  # (n_docs, dim)
    offsets = vecs - centres[idx]  # (n, dim)
    per_doc = per_doc or len(vecs) / len(names)
    return Gaussian(mean, _shrunk_chol(centres, shrink), _shrunk_chol(offsets, shrink), per_doc, shrink, len(vecs))


def synthetic_vectors(g: Gaussian, n: int, seed: int = 0, block: int = 65536) -> np.ndarray:
    """``n`` unit-length float32 vectors ``(n, dim)`` drawn from ``g``; the same ``seed`` gives the same rows.

    Drawn in blocks so a million rows never hold a float64 copy. Two levels: consecutive rows share a
    document centre, ``g.per_doc`` rows each.

    >>> g = fit_gaussian(np.random.default_rng(0).normal(size=(50, 3)))
    >>> v = synthetic_vectors(g, 5)
    >>> v.shape, bool(np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-6))
    ((5, 3), True)

    Introduced in 05_cost_and_scale.ipynb.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    dim = len(g.mean)
    out = np.empty((n, dim), dtype=np.float32)
    if g.within is not None:
        n_docs = int(np.ceil(n / g.per_doc))
        centres = (rng.standard_normal((n_docs, dim)) @ g.chol.T + g.mean).astype(np.float32)  # (n_docs, dim)
        doc = (np.arange(n) / g.per_doc).astype(np.int64)  # (n,) each row's document
    for start in range(0, n, block):
        z = rng.standard_normal((min(block, n - start), dim))  # (b, dim)
        if g.within is None:
            x = z @ g.chol.T + g.mean  # (b, dim): covariance chol @ chol.T
        else:
            x = z @ g.within.T + centres[doc[start : start + len(z)]]
        out[start : start + len(x)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


# The indexes the scale benchmark and notebook 05 measure, one query at a time (labels: IndexConfig.label).
SCALE_CONFIGS = (
    IndexConfig("flat"),
    IndexConfig("hnsw", hnsw_m=16),
    IndexConfig("hnsw"),
    IndexConfig("hnsw", ef_construction=200),  # a better-built graph: slower to build, less to search
    IndexConfig("hnsw_sq8", rerank=4),  # 8-bit codes walk the graph, the top 40 re-ranked on full vectors
    IndexConfig("ivf"),
    IndexConfig("ivf_sq8"),
    IndexConfig("ivfpq", rerank=4),
    IndexConfig("usearch", hnsw_m=16),  # a maintained HNSW library beside faiss
)


def index_bytes(index) -> int:
    """Bytes the index holds: the length of its serialized form (vectors or codes, links, centroids).

    Introduced in 05_cost_and_scale.ipynb.
    """
    import faiss

    if hasattr(index, "nbytes"):  # lk.UsearchIndex: usearch's own count
        return index.nbytes()
    return int(faiss.serialize_index(index).nbytes)


def recall_per_query(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Each query's share ``(n_q,)`` of the exact top-k ``(n_q, k)`` that the approximate top-k also returned.

    >>> recall_per_query(np.array([[1, 2], [5, 6]]), np.array([[2, 9], [5, 6]])).tolist()
    [0.5, 1.0]

    Introduced in 05_cost_and_scale.ipynb.
    """
    if found.shape != truth.shape:
        raise ValueError(f"found {found.shape} and truth {truth.shape} must have the same shape")
    hits = [len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth)]
    return np.asarray(hits, dtype=float) / truth.shape[1]


def ann_recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the exact top-k ``(n_q, k)`` that the approximate top-k ``(n_q, k)`` also returned.

    >>> ann_recall(np.array([[1, 2, 3]]), np.array([[3, 2, 9]]))
    0.6666666666666666

    Introduced in 05_cost_and_scale.ipynb.
    """
    return float(recall_per_query(found, truth).mean())


def recall_low(per_query: np.ndarray) -> float:
    """The lower end of the 95% bootstrap interval of the mean recall (``per_query`` from ``recall_per_query``).
    A knob tuned so that this bound reaches a target keeps a margin for new queries; one tuned on the mean
    alone sits right at the target, and new queries land on either side of it.

    >>> recall_low(np.ones(50)), round(recall_low(np.r_[np.ones(45), np.zeros(5)]), 2)
    (1.0, 0.78)

    Introduced in 05_cost_and_scale.ipynb.
    """
    per_query = np.asarray(per_query, dtype=float)
    if per_query.min() == per_query.max():  # every query alike: no spread to bootstrap
        return float(per_query[0])
    return bootstrap_interval((per_query,), np.mean, batch=1000)[0]  # batches: (1000, n_q) arrays, not (9999, n_q)


def single_query_ms(index, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Ask ``index`` one query at a time, as a user would; returns (ids ``(n_q, k)``, milliseconds ``(n_q,)``).

    Introduced in 05_cost_and_scale.ipynb.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    ids, ms = one_at_a_time(lambda q: index.search(q[None], k)[1][0], queries, warmup=2)  # q[None]: (1, dim)
    return np.stack(ids), ms


def measure_ann(
    kind: str | IndexConfig,
    vecs: np.ndarray,
    tune_q: np.ndarray,
    test_q: np.ndarray,
    k: int = 10,
    target: float = 0.95,
    truth: tuple[np.ndarray, np.ndarray] | None = None,
    frontier: bool = False,
    centroids: np.ndarray | None = None,
    max_ms: float = 20.0,
) -> dict:
    """Build ``kind`` (a kind or an ``IndexConfig``) over ``vecs`` and measure it; the knob is the cheapest
    reaching ``target`` recall@k on ``tune_q`` with 95% confidence (``recall_low``; else the most accurate
    tried), then reported on ``test_q``.

    Returns a dict: n, kind, label, config, knob, build_s, index_mb, p50_ms, p90_ms, recall (test),
    tune_recall, tune_low (its lower bound), reached (whether ``tune_low`` reached ``target``), tried (knob
    value -> tuning recall, p50 ms, lower bound). Exact search (flat) is both the reference and a
    row. ``truth``: the exact top-k ids of (tune_q, test_q), when the caller has them. ``frontier``: also
    every knob value on the test queries ([value, recall, p50 ms]) until recall 0.999 or ``max_ms``.
    ``centroids``: trained IVF cells to reuse (``make_index``).

    Introduced in 05_cost_and_scale.ipynb.
    """
    cfg = kind if isinstance(kind, IndexConfig) else IndexConfig(kind)
    if truth is None:
        exact = make_index(vecs, "flat")
        truth = tuple(exact.search(np.ascontiguousarray(q, dtype=np.float32), k)[1] for q in (tune_q, test_q))
        del exact  # truth: (n_tune, k), (n_test, k)
    truth_tune, truth_test = truth
    t0 = time.perf_counter()
    index = make_index(vecs, cfg, centroids=centroids)
    build_s = time.perf_counter() - t0
    name, values = ANN_KNOBS[cfg.kind]
    tried, chosen = {}, None
    for v in values:
        set_knob(index, cfg.kind, v)
        ids, ms = single_query_ms(index, tune_q, k)
        hits = recall_per_query(ids, truth_tune)  # (n_tune,)
        tried[v] = (float(hits.mean()), float(np.median(ms)), recall_low(hits))
        if tried[v][2] >= target:
            chosen = v
            break
    if chosen is None:  # the target was not reached: report the most accurate setting tried
        chosen = max(tried, key=lambda v: (tried[v][0], -v))
    curve = []
    for v in values if frontier else ():
        set_knob(index, cfg.kind, v)
        ids, ms = single_query_ms(index, test_q, k)
        curve.append([v, round(ann_recall(ids, truth_test), 4), round(float(np.median(ms)), 4)])
        if curve[-1][1] >= 0.999 or curve[-1][2] > max_ms or cfg.kind == "flat":
            break
    set_knob(index, cfg.kind, chosen)
    ids, ms = single_query_ms(index, test_q, k)
    return {
        "n": len(vecs),
        "kind": cfg.kind,
        "label": cfg.label(),
        "config": cfg.key(),
        "knob": f"{name}={chosen}" if cfg.kind != "flat" else "exact",
        "build_s": build_s,
        "index_mb": index_bytes(index) / 1e6,
        "p50_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "recall": ann_recall(ids, truth_test),
        "tune_recall": tried[chosen][0],
        "tune_low": tried[chosen][2],
        "reached": tried[chosen][2] >= target,
        "tried": {str(v): [round(r, 4), round(t, 4), round(lo, 4)] for v, (r, t, lo) in tried.items()},
        **({"frontier": curve} if frontier else {}),
    }


def fit_power(x, y) -> tuple[float, float]:
    """Fit ``y = a * x**b`` by least squares on ``log y = log a + b log x``; returns ``(b, a)``.

    ``b`` is the growth exponent: 1 = linear (twice the data, twice the time), 0 = flat.

    >>> b, a = fit_power([1e3, 1e4, 1e5], [2.0, 20.0, 200.0])
    >>> round(b, 6), round(a, 6)
    (1.0, 0.002)

    Introduced in 05_cost_and_scale.ipynb.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"fit_power needs two or more (x, y) points of equal count, got {len(x)} and {len(y)}")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("fit_power needs positive x and y (it fits a line to their logarithms)")
    b, log_a = np.polyfit(np.log(x), np.log(y), 1)
    return float(b), float(np.exp(log_a))


def fastest_index(rows: list[dict]) -> dict | None:
    """Of ``rows`` (``measure_ann`` results at one size), the approximate index with the lowest p50 whose knob
    reached its target on the tuning queries (``reached``); ``None`` when none did.

    >>> fastest_index([{"kind": "flat", "label": "flat", "reached": True, "p50_ms": 9.0},
    ...                {"kind": "hnsw", "label": "a", "reached": True, "p50_ms": 0.5},
    ...                {"kind": "ivf", "label": "b", "reached": False, "p50_ms": 0.1}])["label"]
    'a'

    Introduced in 05_cost_and_scale.ipynb.
    """
    ok = [r for r in rows if r["kind"] != "flat" and r["reached"]]
    return min(ok, key=lambda r: r["p50_ms"]) if ok else None


def best_under(rows: list[dict], ms: float = 1.0) -> dict | None:
    """The most accurate point under ``ms`` on the test queries' frontiers of ``rows`` (one size, measured with
    ``frontier=True``): label, knob, recall, ms; ``None`` when no point is that fast. A knob read off the test
    queries, so a ceiling to show beside ``fastest_index``, never a result.

    >>> row = {"kind": "hnsw", "label": "a", "knob": "efSearch=16", "frontier": [[16, 0.8, 0.2], [32, 0.9, 1.5]]}
    >>> best_under([row])
    {'label': 'a', 'knob': 'efSearch=16', 'recall': 0.8, 'ms': 0.2}

    Introduced in 05_cost_and_scale.ipynb.
    """
    points = [
        {"label": r["label"], "knob": f"{r['knob'].split('=')[0]}={v}", "recall": rec, "ms": t}
        for r in rows
        if r["kind"] != "flat"
        for v, rec, t in r.get("frontier", [])
        if t <= ms
    ]
    return max(points, key=lambda p: p["recall"]) if points else None


def load_scale_results(path=None) -> dict:
    """The scale benchmark's results (``benchmarks/results/scale.json``, written by ``benchmarks/bench_scale.py``).

    Introduced in 05_cost_and_scale.ipynb.
    """
    import json
    from pathlib import Path

    from .data import REPO_ROOT

    path = Path(path) if path is not None else REPO_ROOT / "benchmarks" / "results" / "scale.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no scale results yet. Run `python benchmarks/bench_scale.py` (15-25 min).")
    return json.loads(path.read_text(encoding="utf-8"))
