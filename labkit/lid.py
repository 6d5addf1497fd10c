"""How hard vectors are to index, and synthetic vectors that are as hard as real ones.

An approximate index is fast when the data, seen up close, has few directions: a passage's nearest
neighbours then differ from it along a handful of axes, not all 384. The *local intrinsic dimension* (LID)
measures that. Gaussian vectors have a LID close to their full dimension and are known to be the hardest
case for HNSW (faiss wiki, "Indexing 1M vectors"); real sentence embeddings have far fewer (about 10-20 for
GloVe or Deep1B in the ANN-benchmark surveys). A scale benchmark on Gaussian vectors therefore says more about
its generator than about its indexes.

* ``lid_mle``: the Levina-Bickel maximum-likelihood LID from each point's k nearest neighbours, averaged as
  MacKay and Ghahramani advise (the mean of the inverses, inverted).
* ``neighbour_profile``: distances from queries to their 1st and 10th neighbours (how crowded the space is).
* ``LocalGenerator`` / ``fit_local`` / ``sample_local``: new vectors drawn around real ones, inside the span
  of each real vector's own neighbours (low-rank local structure), with one scale knob calibrated against
  real vectors (``benchmarks/bench_scale.py``); used only beyond the real vectors' count.

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["knn", "lid_mle", "neighbour_profile", "LocalGenerator", "fit_local", "sample_local", "calibration_verdict"]


def knn(base: np.ndarray, queries: np.ndarray, k: int, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by Euclidean distance: (distances ``(n_q, k)`` ascending, ids ``(n_q, k)``).

    ``exclude_self``: query i is row i of ``base`` (put sampled rows first) and is not its own neighbour.

    >>> d, i = knn(np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32)[:1], k=2, exclude_self=True)
    >>> i.tolist(), [round(float(x), 3) for x in d[0]]
    ([[1, 2]], [1.414, 1.414])

    Introduced in 05_cost_and_scale.ipynb.
    """
    import faiss

    base = np.ascontiguousarray(base, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    index = faiss.IndexFlatL2(base.shape[1])
    index.add(base)
    extra = int(exclude_self)
    d2, ids = index.search(queries, k + extra)  # squared distances (n_q, k + extra)
    if exclude_self:
        keep = ids != np.arange(len(queries))[:, None]  # drop each query's own row (ties: any one column)
        keep[keep.sum(1) > k, -1] = False
        d2, ids = d2[keep].reshape(len(queries), k), ids[keep].reshape(len(queries), k)
    return np.sqrt(np.maximum(d2, 0.0)), ids


def lid_mle(vecs: np.ndarray, k: int = 20, n_points: int = 2000, seed: int = 0) -> float:
    """Local intrinsic dimension of ``vecs`` ``(n, dim)``: Levina-Bickel MLE at ``n_points`` sampled points.

    At a point with neighbour distances T_1 <= ... <= T_k, the estimate is ``(k - 1) / sum_j log(T_k / T_j)``
    (j < k); the points' estimates are combined by averaging their inverses (MacKay & Ghahramani, 2005).
    Duplicated points (a distance of 0) are skipped.

    >>> rng = np.random.default_rng(0)
    >>> flat = rng.standard_normal((4000, 5)) @ rng.standard_normal((5, 50))   # 5 directions in 50 dims
    >>> 4.0 < lid_mle(flat, k=20, n_points=500) < 6.0
    True

    Introduced in 05_cost_and_scale.ipynb.
    """
    if k < 3:
        raise ValueError(f"lid_mle needs k >= 3 neighbours, got {k}")
    if len(vecs) <= k:
        raise ValueError(f"lid_mle needs more than k={k} vectors, got {len(vecs)}")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(vecs), size=min(n_points, len(vecs)), replace=False))
    order = np.r_[rows, np.setdiff1d(np.arange(len(vecs)), rows)]  # the sampled rows first (for exclude_self)
    dist, _ = knn(vecs[order], vecs[rows], k, exclude_self=True)  # (n_points, k)
    dist = dist[(dist[:, 0] > 0)]
    inv = np.log(dist[:, -1:] / dist[:, :-1]).sum(1) / (k - 1)  # each point's 1 / LID
    return float(1.0 / inv.mean())


def neighbour_profile(base: np.ndarray, queries: np.ndarray, k: int = 10) -> dict:
    """Median distance from ``queries`` to their 1st and k-th nearest rows of ``base``, and the ratio.

    A ratio close to 1 means every candidate is about as near as the best: any index must compare many.

    Introduced in 05_cost_and_scale.ipynb.
    """
    dist, _ = knn(base, queries, k)
    d1, dk = float(np.median(dist[:, 0])), float(np.median(dist[:, -1]))
    return {"d1": d1, f"d{k}": dk, "ratio": dk / d1 if d1 > 0 else float("inf")}


@dataclass(frozen=True)
class LocalGenerator:
    """Real unit vectors and, for each, its nearest real neighbours: where new vectors are drawn.

    Introduced in 05_cost_and_scale.ipynb.
    """

    seeds: np.ndarray  # (m, dim) real unit vectors
    neighbours: np.ndarray  # (m, k) each seed's k nearest other seeds
    scale: float  # how far a new vector strays from its seed, in units of its neighbours' offsets
    spread: float = 0.0  # log-normal sigma of each step's length: > 0 mixes near-copies with far strays

    def __post_init__(self):
        if not self.scale > 0:
            raise ValueError(f"LocalGenerator.scale must be > 0, got {self.scale!r}")
        if not self.spread >= 0:
            raise ValueError(f"LocalGenerator.spread must be >= 0 (0: every step scaled alike), got {self.spread!r}")
        if self.neighbours.shape[0] != self.seeds.shape[0]:
            raise ValueError("LocalGenerator: one row of neighbours per seed")


def fit_local(real: np.ndarray, k: int = 20, scale: float = 1.5, spread: float = 0.0) -> LocalGenerator:
    """Index ``real`` ``(m, dim)`` for ``sample_local``: each vector's ``k`` nearest other real vectors.

    The defaults are the benchmark's calibration (``benchmarks/results/scale.json``, ``calibration``): of the
    (scale, spread) settings tried, each grown three times, 10^4 real docstring vectors grown to 10^5 came
    closest to 10^5 real ones in HNSW recall at efSearch 16-128, with a local intrinsic dimension within 15%
    (the file says how close, on which queries). Grown from fewer seeds, other settings fit better: calibrate
    again for another ratio (as the benchmark does).

    Introduced in 05_cost_and_scale.ipynb.
    """
    real = np.ascontiguousarray(real, dtype=np.float32)
    if len(real) <= k:
        raise ValueError(f"fit_local needs more than k={k} real vectors, got {len(real)}")
    _, ids = knn(real, real, k, exclude_self=True)
    return LocalGenerator(real, ids, float(scale), float(spread))


def sample_local(gen: LocalGenerator, n: int, seed: int = 0, block: int = 65536) -> np.ndarray:
    """``n`` new unit vectors ``(n, dim)``: each a random seed plus a Gaussian step in the span of its neighbours.

    x = s + scale * sum_j z_j (n_j - s) / sqrt(k), z_j ~ N(0, 1), then scaled to unit length: the step has the
    covariance of the seed's neighbourhood (rank <= k), so the new vectors keep the real ones' few local
    directions instead of filling all ``dim`` of them as a Gaussian does.

    >>> rng = np.random.default_rng(1)
    >>> real = rng.standard_normal((200, 8)); real /= np.linalg.norm(real, axis=1, keepdims=True)
    >>> new = sample_local(fit_local(real, k=5), 50)
    >>> new.shape, bool(np.allclose(np.linalg.norm(new, axis=1), 1.0, atol=1e-5))
    ((50, 8), True)

    Introduced in 05_cost_and_scale.ipynb.
    """
    rng = np.random.default_rng(seed)
    m, k = gen.neighbours.shape
    out = np.empty((n, gen.seeds.shape[1]), dtype=np.float32)
    seeds = rng.integers(m, size=n)  # (n,) drawn up front: the blocks do not change the vectors
    steps = rng.standard_normal((n, k)).astype(np.float32) * (gen.scale / np.sqrt(k))  # (n, k)
    if gen.spread > 0:  # each vector's own step length (drawn after: spread 0 gives the same vectors as before)
        steps *= np.exp(gen.spread * rng.standard_normal((n, 1))).astype(np.float32)  # (n, 1) log-normal
    for s in range(0, n, block):  # blocks: (block, dim) buffers, never (n, k, dim)
        rows, z = seeds[s : s + block], steps[s : s + block]
        base = gen.seeds[rows]  # (b, dim)
        x = base.copy()
        for j in range(k):  # add z_j * (n_j - s) one neighbour at a time: (b, dim) buffers only
            x += z[:, j : j + 1] * (gen.seeds[gen.neighbours[rows, j]] - base)
        out[s : s + len(rows)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def calibration_verdict(cal: dict) -> str:
    """Whether the benchmark's calibration (``scale.json``'s ``calibration``) met its tolerance, in words.

    >>> calibration_verdict({"met": True, "met_test": False})
    'met on the tuning queries, not on the test queries'

    Introduced in 05_cost_and_scale.ipynb.
    """
    if cal["met"] and cal["met_test"]:
        return "met on the tuning and the test queries"
    return "met on the tuning queries, not on the test queries" if cal["met"] else "not met on the tuning queries"
