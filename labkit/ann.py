"""Vector indexes, one config and one factory: ``IndexConfig`` says how to build each kind of index, ``make_index``
builds it. The workbook's retriever (``DenseIndex``, notebook 01) and the scale experiments (notebook 05) use
the same two, so "an HNSW index" means one thing everywhere.

* ``ANN_KINDS``: faiss's exact search (flat), IVF (k-means cells), HNSW (a neighbour graph), IVF-PQ (cells and
  48-byte codes); HNSW and IVF over 8-bit codes (``hnsw_sq8``, ``ivf_sq8``); and ``usearch``, another maintained
  HNSW library. Any kind with codes can re-rank its best candidates on the full vectors (``rerank``).
* ``ANN_KNOBS`` / ``set_knob``: each kind's one search-time knob (``nprobe``, ``efSearch``), trading recall for
  speed, and the values the scale experiments try.

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["ANN_KINDS", "ANN_KNOBS", "IndexConfig", "UsearchIndex", "make_index", "set_knob", "train_cells"]

ANN_KINDS = ("flat", "ivf", "hnsw", "ivfpq", "hnsw_sq8", "ivf_sq8", "usearch")
_CODES = ("ivfpq", "hnsw_sq8", "ivf_sq8")  # kinds that search compressed vectors (and can re-rank)
GRAPHS = ("hnsw", "hnsw_sq8", "usearch")  # kinds built as a neighbour graph: their knob is efSearch
# The search-time knob of each kind, and the values tried (smallest first: cheapest search first).
ANN_KNOBS = {
    "flat": ("none", (0,)),
    "ivf": ("nprobe", (1, 2, 4, 8, 16, 32, 64, 128, 256)),
    "hnsw": ("efSearch", (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)),
    "ivfpq": ("nprobe", (1, 2, 4, 8, 16, 32, 64, 128, 256)),
}
ANN_KNOBS |= {"hnsw_sq8": ANN_KNOBS["hnsw"], "ivf_sq8": ANN_KNOBS["ivf"], "usearch": ANN_KNOBS["hnsw"]}


@dataclass(frozen=True)
class IndexConfig:
    """How to build a faiss inner-product index; each field's ``help`` says what it does and for which kinds.

    The defaults are the settings of the scale results (``benchmarks/results/scale.json``).

    >>> IndexConfig("ivf").nlist(10_000)
    400
    >>> IndexConfig("hnsw").key()
    {'kind': 'hnsw', 'hnsw_m': 32, 'ef_construction': 40, 'ef_search': 64}

    Introduced in 01_rag.ipynb.
    """

    kind: str = field(default="flat", metadata={"help": f"one of {ANN_KINDS}; flat compares the query with every row"})
    hnsw_m: int = field(default=32, metadata={"help": "hnsw: links per node (faiss's usual setting)"})
    ef_construction: int = field(default=40, metadata={"help": "hnsw: candidates kept while linking a new node"})
    ef_search: int = field(default=64, metadata={"help": "hnsw: candidates kept while searching (the knob)"})
    cells_per_sqrt_n: float = field(
        default=4.0, metadata={"help": "ivf, ivfpq: nlist = this * sqrt(n) k-means cells (faiss: 4 to 16)"}
    )
    nprobe: int = field(default=8, metadata={"help": "ivf, ivfpq: cells searched per query (the knob)"})
    train_per_cell: int = field(default=64, metadata={"help": "ivf, ivfpq: k-means trains on this many rows per cell"})
    pq_bytes: int = field(default=48, metadata={"help": "ivfpq: bytes per vector (sub-vectors of dim / this dims)"})
    rerank: int = field(
        default=0,
        metadata={"help": "ivfpq, *_sq8: re-rank the top k x rerank candidates on the full vectors (0: do not)"},
    )
    seed: int = field(default=0, metadata={"help": "ivf, ivfpq: the training sample and the k-means start"})

    def __post_init__(self):
        if self.kind not in ANN_KINDS:
            raise ValueError(f"IndexConfig.kind: index kind must be one of {ANN_KINDS}, got {self.kind!r}")
        if not isinstance(self.rerank, (int, np.integer)) or isinstance(self.rerank, bool) or self.rerank < 0:
            raise ValueError(f"IndexConfig.rerank must be an int >= 0 ({_help('rerank')}), got {self.rerank!r}")
        if self.rerank and self.kind not in _CODES:
            raise ValueError(f"IndexConfig.rerank needs a kind with codes {_CODES}; {self.kind!r} keeps full vectors")
        for name in ("hnsw_m", "ef_construction", "ef_search", "nprobe", "train_per_cell", "pq_bytes"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"IndexConfig.{name} must be an int >= 1 ({_help(name)}), got {value!r}")
        if not isinstance(self.cells_per_sqrt_n, (int, float)) or self.cells_per_sqrt_n <= 0:
            raise ValueError(f"IndexConfig.cells_per_sqrt_n must be > 0 ({_help('cells_per_sqrt_n')})")
        if not isinstance(self.seed, (int, np.integer)):
            raise ValueError(f"IndexConfig.seed must be an int, got {self.seed!r}")

    def nlist(self, n: int) -> int:
        """k-means cells of an IVF index over ``n`` rows."""
        return max(1, int(self.cells_per_sqrt_n * np.sqrt(n)))

    def label(self) -> str:
        """A short name for tables: the kind and the settings that differ from the defaults.

        >>> IndexConfig("hnsw", hnsw_m=16).label(), IndexConfig("ivfpq", rerank=4).label()
        ('hnsw M=16', 'ivfpq re-rank x4')
        """
        base, key = IndexConfig(self.kind), self.key()
        names = {"hnsw_m": "M", "ef_construction": "efC", "cells_per_sqrt_n": "cells/sqrt(n)", "pq_bytes": "bytes"}
        parts = [
            f"{names.get(k, k)}={v}"
            for k, v in (key.items() if isinstance(key, dict) else ())
            if k not in ("kind", "ef_search", "nprobe", "seed", "rerank") and getattr(base, k) != v
        ]
        parts += [f"re-rank x{self.rerank}"] if self.rerank else []
        return " ".join([self.kind, *parts])

    def key(self) -> str | dict:
        """The fields that shape this kind's index (a cache key): just ``"flat"`` for exact search."""
        if self.kind == "flat":
            return "flat"
        graph = ("hnsw_m", "ef_construction", "ef_search")
        used = graph if self.kind in GRAPHS else ("cells_per_sqrt_n", "nprobe", "train_per_cell", "seed")
        used += ("pq_bytes",) if self.kind == "ivfpq" else ()
        used += ("rerank",) if self.rerank else ()  # absent at 0: the keys of indexes built before it existed
        return {"kind": self.kind, **{k: v for k, v in asdict(self).items() if k in used}}


def _help(name: str) -> str:
    return IndexConfig.__dataclass_fields__[name].metadata["help"]


def make_index(vecs: np.ndarray, cfg: IndexConfig | str = "flat", centroids: np.ndarray | None = None):
    """An index built as ``cfg`` says (a kind alone: its defaults), holding ``vecs`` ``(n, dim)``, trained if it
    needs to be, its knob set to ``cfg``'s value (change it with ``set_knob``). Every kind answers
    ``index.search(queries (n_q, dim), k) -> (scores (n_q, k), ids (n_q, k))``, inner product, as faiss does.
    ``centroids`` ``(nlist, dim)``: IVF cells trained before (``train_cells``), so IVF kinds over the same
    vectors share one k-means instead of running it each.

    Introduced in 01_rag.ipynb.
    """
    import faiss

    cfg = cfg if isinstance(cfg, IndexConfig) else IndexConfig(cfg)
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    n, dim = vecs.shape
    ip = faiss.METRIC_INNER_PRODUCT
    if cfg.kind == "usearch":
        index = UsearchIndex(vecs, cfg)
    elif cfg.kind == "flat":  # exact: compares the query with every row
        index = faiss.IndexFlatIP(dim)
    elif cfg.kind == "hnsw":  # graph of neighbours: approximate search
        index = faiss.IndexHNSWFlat(dim, cfg.hnsw_m, ip)
        index.hnsw.efConstruction = cfg.ef_construction
    elif cfg.kind == "hnsw_sq8":  # the same graph over 8-bit codes: a quarter of the bytes read per hop
        index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, cfg.hnsw_m, ip)
        index.hnsw.efConstruction = cfg.ef_construction
    else:  # k-means cells: search only the nprobe cells nearest the query
        nlist = cfg.nlist(n)
        quantizer = faiss.IndexFlatIP(dim)
        if cfg.kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, ip)
        elif cfg.kind == "ivf_sq8":
            index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, ip)
        else:
            if dim % cfg.pq_bytes:
                raise ValueError(f"ivfpq needs a dimension divisible by IndexConfig.pq_bytes={cfg.pq_bytes}, got {dim}")
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, cfg.pq_bytes, 8, ip)
            index.pq.cp.min_points_per_centroid = 1  # its 256 codes per sub-vector: no warning either
        centroids = train_cells(vecs, cfg) if centroids is None else centroids
        if centroids.shape != (nlist, dim):
            raise ValueError(f"centroids {centroids.shape} do not match nlist={nlist}, dim={dim}")
        quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))  # faiss then skips its k-means
        index.train(_training_sample(vecs, cfg, nlist))  # what the cells need beyond k-means: 8-bit ranges, PQ
    if cfg.kind == "hnsw_sq8":
        index.train(vecs)  # the 8-bit codes' range per dimension
    if cfg.rerank:  # the codes find candidates; the full vectors (kept beside them) order the top k x rerank
        index = faiss.IndexRefineFlat(index)
        index.k_factor = float(cfg.rerank)
    if cfg.kind != "usearch":
        index.add(vecs)  # faiss's Python wrapper keeps `quantizer` alive as long as the index
    set_knob(index, cfg.kind, cfg.ef_search if cfg.kind in GRAPHS else min(cfg.nprobe, cfg.nlist(n)))
    return index


def _training_sample(vecs: np.ndarray, cfg: IndexConfig, nlist: int) -> np.ndarray:
    """``train_per_cell`` rows per cell (all rows if fewer), drawn with the config's seed, in row order."""
    sample = np.random.default_rng(cfg.seed).permutation(len(vecs))[: max(nlist, cfg.train_per_cell * nlist)]
    return vecs[np.sort(sample)]


def train_cells(vecs: np.ndarray, cfg: IndexConfig | str = "ivf") -> np.ndarray:
    """The k-means cells ``(nlist, dim)`` of an IVF-kind index over ``vecs``: spherical k-means (inner product)
    on ``train_per_cell`` rows per cell. ``make_index`` calls it; pass its result to several IVF kinds over
    the same vectors (``make_index(..., centroids=)``) to run the k-means once.

    >>> train_cells(np.eye(8, dtype=np.float32), IndexConfig("ivf", cells_per_sqrt_n=1.0)).shape
    (2, 8)

    Introduced in 05_cost_and_scale.ipynb.
    """
    import faiss

    cfg = cfg if isinstance(cfg, IndexConfig) else IndexConfig(cfg)
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    n, dim = vecs.shape
    nlist = cfg.nlist(n)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)  # spherical k-means
    index.cp.min_points_per_centroid = 1  # small n: fewer than 39 points per cell, no warning
    index.cp.seed = cfg.seed
    index.train(_training_sample(vecs, cfg, nlist))
    return faiss.downcast_index(index.quantizer).reconstruct_n(0, nlist)


def set_knob(index, kind: str, value: int) -> None:
    """Set the search-time knob of ``index`` (``nprobe`` for IVF kinds, ``efSearch`` for graphs; flat has none).

    Introduced in 05_cost_and_scale.ipynb.
    """
    import faiss

    if hasattr(index, "base_index"):  # re-ranked: the knob belongs to the index that finds the candidates
        index = faiss.downcast_index(index.base_index)
    if kind == "usearch":
        index.index.expansion_search = int(value)
    elif kind in GRAPHS:
        index.hnsw.efSearch = int(value)
    elif kind != "flat":
        index.nprobe = min(int(value), index.nlist)


class UsearchIndex:
    """usearch's HNSW (PyPI ``usearch``) behind faiss's ``search``: a second, independent implementation.

    Introduced in 05_cost_and_scale.ipynb.
    """

    def __init__(self, vecs: np.ndarray, cfg: IndexConfig, threads: int = 0):
        from usearch.index import Index

        self.index = Index(
            ndim=vecs.shape[1],
            metric="ip",
            dtype="f32",
            connectivity=cfg.hnsw_m,  # as faiss: M links per upper layer, 2M in the base one
            expansion_add=cfg.ef_construction,
            expansion_search=cfg.ef_search,
        )
        self.index.add(np.arange(len(vecs)), vecs, threads=threads)  # 0: every core, as faiss builds
        self.ntotal = len(vecs)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        m = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k, threads=1)
        keys, dist = np.atleast_2d(m.keys), np.atleast_2d(m.distances)  # (n_q, k)
        return 1.0 - dist, keys.astype(np.int64)  # usearch's "ip" distance is 1 - inner product

    def nbytes(self) -> int:
        # the saved index (vectors + graph), as faiss's sizes are counted; memory_usage adds usearch's
        # preallocated arenas (16 MB for 100 vectors), which say nothing about how the index grows
        return int(self.index.serialized_length)
