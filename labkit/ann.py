"""Faiss indexes, one config and one factory: ``IndexConfig`` says how to build each kind of index, ``make_index``
builds it. The workbook's retriever (``DenseIndex``, notebook 01) and the scale experiments (notebook 05) use
the same two, so "an HNSW index" means one thing everywhere.

* ``ANN_KINDS``: exact search (flat), IVF (k-means cells), HNSW (a neighbour graph), IVF-PQ (cells and codes).
* ``ANN_KNOBS`` / ``set_knob``: each kind's one search-time knob (``nprobe``, ``efSearch``), trading recall for
  speed, and the values the scale experiments try.

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["ANN_KINDS", "ANN_KNOBS", "IndexConfig", "make_index", "set_knob"]

ANN_KINDS = ("flat", "ivf", "hnsw", "ivfpq")
# The search-time knob of each kind, and the values tried (smallest first: cheapest search first).
ANN_KNOBS = {
    "flat": ("none", (0,)),
    "ivf": ("nprobe", (1, 2, 4, 8, 16, 32, 64, 128, 256)),
    "hnsw": ("efSearch", (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)),
    "ivfpq": ("nprobe", (1, 2, 4, 8, 16, 32, 64, 128, 256)),
}


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
    seed: int = field(default=0, metadata={"help": "ivf, ivfpq: the training sample and the k-means start"})

    def __post_init__(self):
        if self.kind not in ANN_KINDS:
            raise ValueError(f"IndexConfig.kind: index kind must be one of {ANN_KINDS}, got {self.kind!r}")
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

    def key(self) -> str | dict:
        """The fields that shape this kind's index (a cache key): just ``"flat"`` for exact search."""
        if self.kind == "flat":
            return "flat"
        used = {"hnsw": ("hnsw_m", "ef_construction", "ef_search")}.get(
            self.kind, ("cells_per_sqrt_n", "nprobe", "train_per_cell", "seed")
        ) + (("pq_bytes",) if self.kind == "ivfpq" else ())
        return {"kind": self.kind, **{k: v for k, v in asdict(self).items() if k in used}}


def _help(name: str) -> str:
    return IndexConfig.__dataclass_fields__[name].metadata["help"]


def make_index(vecs: np.ndarray, cfg: IndexConfig | str = "flat"):
    """A faiss inner-product index built as ``cfg`` says (a kind alone: its defaults), holding ``vecs`` ``(n, dim)``,
    trained if it needs to be, its knob set to ``cfg``'s value (change it with ``set_knob``).

    Introduced in 01_rag.ipynb.
    """
    import faiss

    cfg = cfg if isinstance(cfg, IndexConfig) else IndexConfig(cfg)
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    n, dim = vecs.shape
    ip = faiss.METRIC_INNER_PRODUCT
    if cfg.kind == "flat":  # exact: compares the query with every row
        index = faiss.IndexFlatIP(dim)
    elif cfg.kind == "hnsw":  # graph of neighbours: approximate search
        index = faiss.IndexHNSWFlat(dim, cfg.hnsw_m, ip)
        index.hnsw.efConstruction = cfg.ef_construction
    else:  # k-means cells: search only the nprobe cells nearest the query
        nlist = cfg.nlist(n)
        quantizer = faiss.IndexFlatIP(dim)
        if cfg.kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, ip)
        else:
            if dim % cfg.pq_bytes:
                raise ValueError(f"ivfpq needs a dimension divisible by IndexConfig.pq_bytes={cfg.pq_bytes}, got {dim}")
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, cfg.pq_bytes, 8, ip)
            index.pq.cp.min_points_per_centroid = 1  # its 256 codes per sub-vector: no warning either
        index.cp.min_points_per_centroid = 1  # small n: fewer than 39 points per cell, no warning
        index.cp.seed = cfg.seed
        sample = np.random.default_rng(cfg.seed).permutation(n)[: max(nlist, cfg.train_per_cell * nlist)]
        index.train(vecs[np.sort(sample)])
    index.add(vecs)  # faiss's Python wrapper keeps `quantizer` alive as long as the index
    set_knob(index, cfg.kind, cfg.ef_search if cfg.kind == "hnsw" else min(cfg.nprobe, getattr(index, "nlist", 1)))
    return index


def set_knob(index, kind: str, value: int) -> None:
    """Set the search-time knob of ``index`` (``nprobe`` for IVF kinds, ``efSearch`` for HNSW; flat has none).

    Introduced in 05_cost_and_scale.ipynb.
    """
    if kind in ("ivf", "ivfpq"):
        index.nprobe = int(value)
    elif kind == "hnsw":
        index.hnsw.efSearch = int(value)
