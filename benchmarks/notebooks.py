"""Execute each notebook in a fresh kernel and report wall time and peak memory (the issues' budgets).

    python benchmarks/notebooks.py                  # all notebooks, cache as it is
    python benchmarks/notebooks.py --cold           # with an empty artifact cache (models still converted)
    python benchmarks/notebooks.py 01_rag 02_finetune
    python benchmarks/notebooks.py --cold --inplace  # the run whose outputs get committed

Peak memory is the kernel's own report (the results box in each notebook's last cell: ``lk.memory.peak_rss_mb()``)
and, as a cross-check, GNU time's maximum RSS over the nbconvert process tree. Prints a markdown table.
``--inplace`` executes the notebooks in place (outputs kept) instead of into a temporary copy.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S, BUDGET_MB = 300, 1536


def run(nb: Path, env: dict, inplace: bool = False) -> dict:
    out = nb if inplace else Path(tempfile.mkdtemp()) / nb.name
    cmd = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--ExecutePreprocessor.timeout=1200",
        f"--output={out}",
        str(nb),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=nb.parent)
    wall = time.perf_counter() - t0
    if proc.returncode:
        print(proc.stderr[-3000:], file=sys.stderr)
    maxrss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    text = out.read_text() if out.exists() else ""
    reported = re.findall(r"peak memory \(RSS\)</td><td[^>]*><b>(\d+) MB", text)  # the results box
    return {
        "notebook": nb.stem,
        "ok": proc.returncode == 0,
        "wall_s": round(wall),
        "kernel_peak_rss_mb": int(reported[-1]) if reported else None,
        "max_rss_mb_time": int(maxrss.group(1)) // 1024 if maxrss else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="notebook stems (default: all)")
    ap.add_argument("--cold", action="store_true", help="empty artifact cache, converted models kept")
    ap.add_argument("--inplace", action="store_true", help="execute the notebooks in place (keep the outputs)")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.cold:
        sys.path.insert(0, str(ROOT))
        from labkit.models import prepare_generator

        warm_models = prepare_generator(verbose=False).parent  # all converted copies
        cache = Path(tempfile.mkdtemp(prefix="labkit-cold-"))
        shutil.copytree(warm_models, cache / "models")
        env["LABKIT_CACHE"] = str(cache)
    names = args.names or sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    rows = [run(ROOT / "notebooks" / f"{n}.ipynb", env, args.inplace) for n in names]
    print(
        f"| notebook | ok | wall (s) | kernel peak RSS (MB) | max RSS, time -v (MB) "
        f"| within {BUDGET_S} s / {BUDGET_MB} MB |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        within = r["ok"] and r["wall_s"] <= BUDGET_S and (r["kernel_peak_rss_mb"] or 0) <= BUDGET_MB
        print(
            f"| {r['notebook']} | {r['ok']} | {r['wall_s']} | {r['kernel_peak_rss_mb']} "
            f"| {r['max_rss_mb_time']} | {within} |"
        )
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
