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
    "module_closure",
    "module_digest",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
LABKIT_DIR = Path(__file__).resolve().parent  # the modules whose code keys cached results


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


def auto_dtype(device_type: str) -> torch.dtype:
    """bf16 where the hardware runs it natively, else fp32; ``$LABKIT_DTYPE`` (``float32``/``bfloat16``) overrides.

    On CUDA: bf16 when the GPU supports it. On CPU: bf16 only with native bf16 instructions (AVX-512 BF16
    or AMX); laptops without them emulate bf16 slowly. The choice reads CPU flags, not a timing, so the
    same machine always makes the same choice (and gives the same numbers); notebook 00 measures the
    speed-up with ``matmul_gflops`` to show the choice is right. ``$LABKIT_DTYPE`` is read on every call
    (only the hardware probe is cached), so setting it in a running kernel takes effect at once.

    Introduced in 00_setup_and_tour.ipynb.
    """
    forced = os.environ.get("LABKIT_DTYPE")
    if forced:
        return getattr(torch, forced)
    return _hardware_dtype(device_type)


@functools.cache  # the hardware does not change while a process runs; the environment can
def _hardware_dtype(device_type: str) -> torch.dtype:
    """What ``auto_dtype`` picks without ``$LABKIT_DTYPE``: the device's native fast dtype."""
    if device_type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_bf16() else torch.float32


@dataclass
class Env:
    """What ``setup`` chose: print it at the top of a notebook so a run records its conditions.

    Introduced in 00_setup_and_tour.ipynb.
    """

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

    from .checkpoint import recover

    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = recover(cache_dir() / kind / digest)  # before mkdir: an empty new folder would hide a crash's old one
    path.mkdir(parents=True, exist_ok=True)
    return path


def code_digest(folder: str | Path | None = None) -> str:
    """A fingerprint of all of labkit's own code (``module_digest`` covers only what given modules use).

    Cached results are reused only while the code that produced them is unchanged; an edit to what a
    labkit module *does* (a prompt, a metric, the generation loop) makes fresh ones. Docstrings, comments
    and layout are not code: the digest hashes each module's syntax tree without them, so rewording
    documentation keeps every cached result. ``folder``: the modules' folder (default: labkit's).

    >>> len(code_digest())
    16

    Introduced in 00_setup_and_tour.ipynb.
    """
    return _digest(Path(folder)) if folder is not None else _labkit_digest()


def module_closure(*modules: str, folder: str | Path | None = None) -> tuple[str, ...]:
    """``modules`` and every labkit module they import, directly or through others, sorted.

    Names are module names with or without the package (``"rag"`` or ``"labkit.rag"``). An import inside
    a function counts (it runs when the function does); one under ``if TYPE_CHECKING:`` does not (it
    never runs). ``from . import __version__`` names the package's ``__init__``. ``folder``: the
    modules' folder (default: labkit's).

    >>> "generate" in module_closure("protocol") and "report" not in module_closure("protocol")
    True

    Introduced in 00_setup_and_tour.ipynb.
    """
    if not modules:
        raise ValueError("name at least one module, e.g. module_closure('rag') (code_digest() covers them all)")
    folder = Path(folder) if folder is not None else LABKIT_DIR
    graph = _import_graph(folder) if folder != LABKIT_DIR else _labkit_graph()
    todo = [_local_name(m, graph) for m in modules]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += graph[name]
    return tuple(sorted(seen))


def module_digest(*modules: str, folder: str | Path | None = None) -> str:
    """A fingerprint of the code ``modules`` run: their own and that of every labkit module they import.

    The key of a cached result that depends on those modules only: an edit to a module outside their
    ``module_closure`` (a plot, the cost model) keeps the result; an edit inside makes a fresh one. Like
    ``code_digest``, docstrings and comments are not part of it.

    >>> module_digest("protocol") == module_digest("labkit.protocol") != module_digest("report")
    True

    Introduced in 00_setup_and_tour.ipynb.
    """
    if folder is not None:
        return _digest(Path(folder), module_closure(*modules, folder=folder))
    return _labkit_module_digest(module_closure(*modules))


@functools.lru_cache(maxsize=1)
def _labkit_digest() -> str:  # once per process: the code a running kernel imported
    return _digest(LABKIT_DIR)


@functools.cache
def _labkit_module_digest(names: tuple[str, ...]) -> str:  # once per closure and process, as above
    return _digest(LABKIT_DIR, names)


@functools.lru_cache(maxsize=1)
def _labkit_graph() -> dict[str, set[str]]:
    return _import_graph(LABKIT_DIR)


def _digest(folder: Path, names=None) -> str:
    """sha256 of the named modules' code (every module when ``names`` is None), in file-name order."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        if names is None or path.stem in names:
            h.update(path.name.encode() + b"\0" + _code_only(path.read_text(encoding="utf-8")).encode())
    return h.hexdigest()[:16]


def _local_name(module: str, graph: dict) -> str:
    name = module.removeprefix("labkit.")
    if name not in graph:
        raise ValueError(f"{module!r} is not a labkit module; known: {', '.join(sorted(graph))}")
    return name


def _import_graph(folder: Path) -> dict[str, set[str]]:
    """Each module of ``folder`` -> the modules of ``folder`` it imports (at any depth of its code)."""
    import ast

    names = {p.stem for p in folder.glob("*.py")}
    return {p.stem: _imported(ast.parse(p.read_text(encoding="utf-8")), names) for p in sorted(folder.glob("*.py"))}


def _imported(tree, names: set[str]) -> set[str]:
    """The package modules an import statement in ``tree`` names: ``from .x import``, ``from . import x``,
    ``import labkit.x``, ``from labkit.x import``; the package itself is its ``__init__``."""
    import ast

    found = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found |= {_package_module(a.name) for a in node.names if a.name.split(".")[0] == "labkit"}
        elif isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or "").split(".")[0] == "labkit"):
            within = _package_module(node.module or "") if node.level == 0 else (node.module or "").split(".")[0]
            if within and within != "__init__":  # from .x import y / from labkit.x import y
                found.add(within)
            else:  # from . import x / from labkit import x: x is a module, or a name of the package's __init__
                found |= {a.name if a.name in names else "__init__" for a in node.names}
    return found & names


def _package_module(dotted: str) -> str:
    """``labkit.x.y`` -> ``x``; ``labkit`` -> ``__init__``."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _runtime_nodes(node):
    """Every node under ``node`` but the bodies of ``if TYPE_CHECKING:`` (imports for type hints, never run)."""
    import ast

    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in {getattr(child.test, a, None) for a in ("id", "attr")}:
            for other in child.orelse:
                yield other
                yield from _runtime_nodes(other)
        else:
            yield child
            yield from _runtime_nodes(child)


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
