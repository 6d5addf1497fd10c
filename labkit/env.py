"""Environment: seeds, device, dtype, cache folder, and a machine report.

Every notebook starts with ``env = lk.setup(seed=0)``. Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import functools
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .memory import limit_heap_slack, limit_kernel_cache

__all__ = [
    "Env",
    "setup",
    "seed_everything",
    "pick_device",
    "auto_dtype",
    "cpu_has_bf16",
    "matmul_gflops",
    "cache_dir",
    "artifact_dir",
    "code_digest",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Folder for converted models, indexes and adapters (``$LABKIT_CACHE`` or ``~/.cache/labkit``).

    >>> cache_dir().name in {"labkit"} or "LABKIT_CACHE" in os.environ
    True

    Introduced in 00_setup_and_tour.ipynb.
    """
    path = Path(os.environ.get("LABKIT_CACHE", Path.home() / ".cache" / "labkit")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so a rerun gives the same numbers.

    Introduced in 00_setup_and_tour.ipynb.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA too when present
    os.environ["PYTHONHASHSEED"] = str(seed)


def pick_device(device: str | None = None) -> torch.device:
    """CUDA when present, else CPU; ``device`` (or ``$LABKIT_DEVICE``) overrides.

    >>> pick_device("cpu").type
    'cpu'

    Introduced in 00_setup_and_tour.ipynb.
    """
    device = device or os.environ.get("LABKIT_DEVICE")
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_has_bf16() -> bool:
    """True when the CPU advertises native bf16 dot products (AVX-512 BF16 or AMX).

    Introduced in 00_setup_and_tour.ipynb.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # macOS, Windows: no cpuinfo; Apple silicon has no fast bf16 path in torch CPU
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def matmul_gflops(
    dtype: torch.dtype = torch.float32,
    n: int = 1024,
    repeats: int = 8,
    device: str | torch.device = "cpu",
    shape: tuple[int, int, int] | None = None,
) -> float:
    """Measure achieved GFLOP/s of an (n, n) @ (n, n) matmul: the machine's practical peak.

    A GEMM probe: 2*n^3 FLOPs per product, best of ``repeats`` after one warm-up. ``shape=(m, k, p)``
    times an (m, k) @ (k, p) product instead (2*m*k*p FLOPs): a model's own, often smaller, shapes.

    Introduced in 00_setup_and_tour.ipynb.
    """
    m, k, p = shape or (n, n, n)
    device = torch.device(device)
    gen = torch.Generator().manual_seed(0)  # private RNG: probing must not disturb the global seed
    a = torch.randn(m, k, generator=gen).to(device, dtype)  # (m, k)
    b = torch.randn(k, p, generator=gen).to(device, dtype)  # (k, p)
    a @ b  # warm-up: first call may pick kernels / allocate
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * m * k * p / best / 1e9


@functools.cache
def auto_dtype(device_type: str) -> torch.dtype:
    """bf16 where the hardware runs it natively, else fp32; ``$LABKIT_DTYPE`` (``float32``/``bfloat16``) overrides.

    On CUDA: bf16 when the GPU supports it. On CPU: bf16 only with native bf16 instructions (AVX-512 BF16
    or AMX); laptops without them emulate bf16 slowly. The choice reads CPU flags, not a timing, so the
    same machine always makes the same choice (and gives the same numbers); notebook 00 measures the
    speed-up with ``matmul_gflops`` to show the choice is right.

    Introduced in 00_setup_and_tour.ipynb.
    """
    forced = os.environ.get("LABKIT_DTYPE")
    if forced:
        return getattr(torch, forced)
    if device_type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_bf16() else torch.float32


@dataclass
class Env:
    """What ``setup`` chose: print it at the top of a notebook so a run records its conditions."""

    seed: int
    device: torch.device
    dtype: torch.dtype
    threads: int
    cache: Path
    started: float = field(default_factory=time.perf_counter)  # perf_counter() at setup, seconds

    def elapsed(self) -> float:
        """Seconds since ``setup``: the notebook's wall time so far."""
        return time.perf_counter() - self.started

    def __repr__(self) -> str:
        return (
            f"Env(seed={self.seed}, device={self.device.type}, dtype={str(self.dtype).split('.')[-1]}, "
            f"threads={self.threads})"
        )  # no cache path: notebook outputs carry no machine paths


def setup(seed: int = 0, device: str | None = None, threads: int | None = None) -> Env:
    """One call at the top of every notebook: seed, device, dtype, threads, display options, cache.

    >>> env = setup(seed=0, device="cpu")
    >>> env.seed, env.device.type
    (0, 'cpu')

    Introduced in 00_setup_and_tour.ipynb.
    """
    dev = pick_device(device)
    dtype = auto_dtype(dev.type)
    seed_everything(seed)
    if threads:
        torch.set_num_threads(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings from HF tokenizers
    limit_heap_slack()
    limit_kernel_cache()
    try:  # tidy tables in notebooks; pandas is a dependency but keep setup usable without it
        import pandas as pd

        pd.set_option("display.max_colwidth", 120)
        pd.set_option("display.precision", 3)
    except ImportError:  # pragma: no cover
        pass
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # keep notebook outputs to what the lesson needs
    hf_logging.disable_progress_bar()
    return Env(seed=seed, device=dev, dtype=dtype, threads=torch.get_num_threads(), cache=cache_dir())


def artifact_dir(kind: str, key: dict) -> Path:
    """Cache folder for an artifact (index, adapter, results) keyed by what produced it.

    The key is any JSON-able dict (corpus hash, config, model name ...): change anything in it and a
    new folder is used, so a stale artifact is never reused.

    >>> artifact_dir("index", {"chunk": 200}) == artifact_dir("index", {"chunk": 200})
    True

    Introduced in 00_setup_and_tour.ipynb.
    """
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache_dir() / kind / digest
    path.mkdir(parents=True, exist_ok=True)
    return path


def code_digest(folder: str | Path | None = None) -> str:
    """A fingerprint of labkit's own code: part of every cached result's key.

    Cached evaluation records are reused only while the code that produced them is unchanged; an edit
    to what any labkit module *does* (a prompt, a metric, the generation loop) makes fresh ones. Docstrings,
    comments and layout are not code: the digest hashes each module's syntax tree without them, so
    rewording documentation keeps every cached result. ``folder``: the modules' folder (default: labkit's).

    >>> len(code_digest())
    16

    Introduced in 00_setup_and_tour.ipynb.
    """
    return _digest(Path(folder)) if folder is not None else _labkit_digest()


@functools.lru_cache(maxsize=1)
def _labkit_digest() -> str:  # once per process: the code a running kernel imported
    return _digest(Path(__file__).parent)


def _digest(folder: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + _code_only(path.read_text(encoding="utf-8")).encode())
    return h.hexdigest()[:16]


def _code_only(source: str) -> str:
    """The module's syntax tree, docstrings removed, as text (comments and layout are not in the tree)."""
    import ast

    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
                if isinstance(first.value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)
