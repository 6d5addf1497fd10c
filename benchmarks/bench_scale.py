"""Scale benchmark for notebook 05: faiss indexes from 10^3 to 10^6 vectors, and training time vs data size.

    python benchmarks/bench_scale.py                       # all sizes, about 15-25 min on 2 cores
    python benchmarks/bench_scale.py --sizes 1000 10000    # a quick look
    python benchmarks/bench_scale.py --no-train            # indexes only

For each size n and each index kind (exact, IVF, HNSW, IVF-PQ): build time, index size, the process's peak
memory while building and searching (VmHWM, reset before each row), single-query latency (p50, p90) and
recall@10 against exact search. The corpus is the workbook's real chunk vectors (MiniLM) plus vectors
drawn from a two-level Gaussian fitted to the real ones (documents, then their chunks: ``lk.fit_gaussian``);
the queries are the QA set's real question embeddings: train + dev wordings tune each index's knob, the
test questions' held-out wordings report.
Then LoRA training time (1 epoch, the workbook's knowledge recipe) on 1/8 .. all of the fact cards.

Writes ``benchmarks/results/scale.json`` after every row (an interrupted run keeps what it measured), replacing
only the rows it measures again (``--fresh``: a new file); notebook 05 reads it. Needs about 7 GB of memory
at 10^6. Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import json
import tempfile
import time
from pathlib import Path

import labkit as lk

OUT = Path(__file__).parent / "results" / "scale.json"
SIZES = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs), so each row has its own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def save(out: dict) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    lk.write_atomic(OUT, json.dumps(out, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    ap.add_argument("--kinds", nargs="+", default=list(lk.ANN_KINDS))
    ap.add_argument("--no-train", action="store_true", help="skip training time vs training-set size")
    ap.add_argument("--fresh", action="store_true", help="start a new file (default: replace only the rows measured)")
    args = ap.parse_args()
    env = lk.setup(seed=0)
    emb = lk.load_embedder()
    inp = lk.scale_inputs(emb)
    real, tune_q, test_q = inp.real, inp.tune, inp.test
    g = lk.fit_gaussian(real, inp.groups, inp.per_doc)
    out = {
        "machine": {"cpu": lk.machine_name(), "cores": env.threads, "dtype": str(env.dtype).split(".")[-1]},
        "date": datetime.date.today().isoformat(),
        "labkit_code": lk.code_digest(),
        "real_vectors": len(real),
        "synthetic": "two-level Gaussian fitted to the real chunk vectors (lk.fit_gaussian with groups)",
        "queries": {"tune": len(tune_q), "test": len(test_q)},
        "indexes": [],
        "training": [],
    }
    if OUT.exists() and not args.fresh:  # keep the rows this run does not measure again
        old = json.loads(OUT.read_text(encoding="utf-8"))
        keep = lambda r: not (r["n"] in args.sizes and r["kind"] in args.kinds)
        out["indexes"] = [r for r in old.get("indexes", []) if keep(r)]
        out["training"] = old.get("training", []) if args.no_train else []
    for n in args.sizes:
        vecs = lk.scale_corpus(real, g, n)  # (n, 384)
        for kind in args.kinds:
            gc.collect()
            reset_peak_rss()
            base_mb = lk.peak_rss_mb()
            row = lk.measure_ann(kind, vecs, tune_q, test_q)
            row["peak_rss_mb"] = round(lk.peak_rss_mb())
            row["rss_over_start_mb"] = round(lk.peak_rss_mb() - base_mb)
            row["cpu"], row["date"] = out["machine"]["cpu"], out["date"]
            out["indexes"] = sorted([*out["indexes"], row], key=lambda r: (r["n"], lk.ANN_KINDS.index(r["kind"])))
            save(out)
            print(
                f"n={n:>9,} {kind:6s} {row['knob']:13s} build {row['build_s']:7.2f} s  "
                f"{row['index_mb']:8.1f} MB  p50 {row['p50_ms']:7.3f} ms  recall@10 {row['recall']:.3f}  "
                f"peak RSS {row['peak_rss_mb']} MB",
                flush=True,
            )
        del vecs
    if not args.no_train:
        lm = lk.load_generator()
        examples = lk.knowledge_examples(lk.load_qa())
        cfg = dataclasses.replace(lk.KNOWLEDGE_FT, epochs=1)
        for frac in (8, 4, 2, 1):
            part = examples[: len(examples) // frac]
            with tempfile.TemporaryDirectory() as tmp:  # a fresh folder: never reuse a cached run
                t0 = time.perf_counter()
                run = lk.finetune(lm, part, cfg, progress=False, out_dir=tmp, adapter="scale")
                wall = time.perf_counter() - t0
            row = {"examples": len(part), "tokens": run.tokens, "wall_s": wall, "train_s": run.train_s}
            row["date"] = out["date"]
            out["training"].append(row)
            save(out)
            print(f"train {len(part):4d} examples ({run.tokens} tokens): {wall:.1f} s", flush=True)
            lk.free_memory()
    out["peak_rss_mb"] = round(lk.peak_rss_mb())
    save(out)


if __name__ == "__main__":
    main()
