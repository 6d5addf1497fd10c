"""Per-cell time and memory of a notebook: which cell sets the peak RSS? (Linux only.)

    python benchmarks/cell_memory.py notebooks/02_finetune.ipynb [--cache DIR]

Runs the notebook's code cells in order in this process (an IPython shell, so ``display`` works), and
after each cell prints its wall time, the resident memory after it, and the peak *during* it. The peak
is per cell because the kernel's high-water mark (VmHWM) is reset before each cell by writing "5" to
/proc/self/clear_refs. Outputs are discarded; use nbconvert for the committed run.

``--where`` also samples the resident memory every few milliseconds from a thread and prints, for each
cell, the code line (labkit, torch, transformers or the cell) the main thread was running when the
cell's memory was highest: where a peak comes from, not just which cell.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _live_tensor_mb() -> float:
    """Bytes of all distinct tensor storages Python can reach (gc-tracked), in MB."""
    import gc

    import torch

    seen, total = set(), 0
    for obj in gc.get_objects():
        if isinstance(obj, torch.Tensor) and not obj.is_meta:
            storage = obj.untyped_storage()
            if storage.data_ptr() not in seen:
                seen.add(storage.data_ptr())
                total += storage.nbytes()
    return total / 2**20


class _PeakSampler:
    """A thread that polls RSS and keeps the main thread's stack at the highest value seen."""

    def __init__(self, every_s: float = 0.003):
        import threading

        self.every_s, self.main = every_s, threading.main_thread().ident
        self.reset()
        threading.Thread(target=self._loop, daemon=True).start()

    def reset(self) -> None:
        self.max_mb, self.stack = 0.0, []

    def _loop(self) -> None:
        import traceback

        page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
        while True:
            rss = int(Path("/proc/self/statm").read_text().split()[1]) * page_mb
            if rss > self.max_mb:
                frame = sys._current_frames().get(self.main)
                self.max_mb = rss
                self.stack = traceback.extract_stack(frame) if frame else []
            frame = None  # a kept frame would keep its locals (a whole model) alive
            time.sleep(self.every_s)

    def where(self, depth: int = 4) -> str:
        keep = [
            f
            for f in self.stack
            if any(k in f.filename for k in ("labkit", "torch", "transformers", "peft", "<ipython", "safetensors"))
        ]
        return " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in keep[::-1][:depth])


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook", type=Path)
    ap.add_argument("--cache", help="LABKIT_CACHE for the run (e.g. an empty folder for a cold run)")
    ap.add_argument("--tensors", action="store_true", help="also report live tensor MB after each cell (slow)")
    ap.add_argument("--where", action="store_true", help="also print the code line at each cell's peak")
    args = ap.parse_args()
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    if args.cache:
        os.environ["LABKIT_CACHE"] = args.cache
    nb = nbformat.read(args.notebook, as_version=4)
    os.chdir(args.notebook.resolve().parent)
    import matplotlib

    matplotlib.use("Agg")
    shell = InteractiveShell.instance()
    sampler = _PeakSampler() if args.where else None
    t_all = time.perf_counter()
    print(
        f"{'cell':>4} {'time s':>7} {'RSS after MB':>12} {'peak in cell MB':>15} "
        f"{'tensors MB' if args.tensors else ''}  first line"
    )
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        _reset_peak()
        if sampler:
            sampler.reset()
        t0 = time.perf_counter()
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            res = shell.run_cell(cell.source, store_history=False, silent=True)
        dt = time.perf_counter() - t0
        first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
        peak, rss = _status_mb("VmHWM"), _status_mb("VmRSS")
        tensors = f"{_live_tensor_mb():10.0f}" if args.tensors else ""
        print(f"{i:>4} {dt:7.1f} {rss:12.0f} {peak:15.0f} {tensors}  {first[:60]}", flush=True)
        if sampler:
            print(f"      sampled peak {sampler.max_mb:.0f} MB at: {sampler.where()}", flush=True)
        if not res.success:
            print(f"cell {i} failed: {res.error_in_exec or res.error_before_exec}", file=sys.stderr)
            return 1
    print(f"total {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
