"""Memory: measure a process's peak, and keep a 2 GB machine (Binder) from running out.

Two allocators hold on to memory a notebook no longer uses: glibc's heap (freed buffers of a training
step stay in the process) and oneDNN's cache of compiled matmul kernels (one per prompt shape). ``lk.setup``
applies ``limit_heap_slack`` and ``limit_kernel_cache``; notebooks call ``free_memory`` between phases and
report ``peak_rss_mb`` in their results box. Every workaround here says what it measured.

Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform

__all__ = ["peak_rss_mb", "limit_heap_slack", "limit_kernel_cache", "free_memory", "trim_heap"]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux/macOS).

    Introduced in 00_setup_and_tour.ipynb.
    """
    import resource

    try:  # Linux: this process's own high-water mark. ru_maxrss would also include, for a process
        # started by fork + exec, the memory its parent had at the fork (e.g. pytest's).
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1024 if platform.system() != "Darwin" else peak / 1024 / 1024


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers, from glibc's malloc.h


def limit_heap_slack(mmap_threshold_mb: float | None = None) -> bool:
    """Serve large allocations from their own ``mmap`` so freeing them returns memory at once (glibc).

    Why: glibc raises its mmap threshold on the fly up to 32 MB, after which a training step's many
    4-32 MB buffers live in the heap, where freed holes fragment and the process keeps memory it is
    not using: a LoRA step of the generator (512 tokens, fp32 adapters) peaked 380-460 MB above its
    start while its live tensors needed ~120 MB (torch's memory profiler). Measured peaks of that
    step: 1.17-1.22 GB with glibc's default, 1.04 GB with a fixed 4 MB threshold at the same speed,
    0.88 GB with 256 KB but 1.8x slower (every buffer then costs fresh page faults). Returns whether
    it applied (False off glibc). ``$LABKIT_MMAP_THRESHOLD_MB`` overrides; 0 leaves glibc's default.

    Introduced in 02_finetune.ipynb.
    """
    default = 4 if mmap_threshold_mb is None else mmap_threshold_mb
    mb = float(os.environ.get("LABKIT_MMAP_THRESHOLD_MB", default))
    libc = _glibc()
    if mb <= 0 or libc is None:
        return False
    n = int(mb * 2**20)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, n)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2 * n))


ONEDNN_CACHE_CAPACITY = 128  # compiled oneDNN matmul kernels kept per process (oneDNN's default: 1024)


def limit_kernel_cache(capacity: int = ONEDNN_CACHE_CAPACITY) -> bool:
    """Cap how many compiled matmul kernels oneDNN (torch's CPU bf16 matmuls) keeps for reuse.

    Why: oneDNN compiles a kernel per matmul shape and keeps up to 1,024 of them. Prompts of many
    lengths make many shapes: notebook 04's 152 RAG and hybrid answers kept ~70 MB more resident after
    them than with a cap of 128, at the same speed (33.5 vs 33.6 s RAG, 51.7 vs 50.9 s hybrid); a cap of
    8 made the hybrid 1.4x slower. oneDNN reads ``ONEDNN_PRIMITIVE_CACHE_CAPACITY`` once, at its first
    kernel, so this works only before the first matmul (``lk.setup`` calls it first thing); a value
    already in the environment wins. Returns whether the cap is the one asked for.

    Introduced in 04_side_by_side.ipynb.
    """
    return os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(capacity)) == str(capacity)


def free_memory() -> float:
    """Collect garbage and hand freed heap pages back to the OS; returns the RSS afterwards, in MB.

    Deleting a model frees its tensors inside the process, but glibc keeps the pages for reuse, so the
    next model load stacks on top and peak memory creeps up phase by phase. ``malloc_trim`` returns them
    (Linux only; elsewhere this is just ``gc.collect()``).

    Introduced in 02_finetune.ipynb.
    """
    import gc

    import psutil

    gc.collect()
    trim_heap()
    return psutil.Process().memory_info().rss / 2**20


def trim_heap() -> None:
    """``malloc_trim(0)``: return the heap's free pages to the OS (glibc; a few ms; no-op elsewhere).

    Introduced in 02_finetune.ipynb.
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.lru_cache(maxsize=1)
def _glibc():
    """The C library when it is glibc (mallopt, malloc_trim), else None (macOS, Windows, musl)."""
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None
