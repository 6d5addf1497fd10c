"""Fine-tuning throughput on this machine: tokens/s, achieved GFLOP/s and fraction of the GEMM peak,
peak RSS, and the fp32 vs bf16 loss curves of the same LoRA run.

Each configuration runs in its own process, so each peak RSS is that run's own.

    python benchmarks/bench_finetune.py            # all configurations, ~5 min on 2 cores
    python benchmarks/bench_finetune.py --steps 6  # quicker

Results are printed as a table and written to benchmarks/results/finetune.json.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIGS = {  # name -> (method, dtype, FinetuneConfig overrides)
    "lora-bf16": ("lora", "bfloat16", {"lr": 2e-3}),
    "lora-fp32": ("lora", "float32", {"lr": 2e-3}),
    "lora-bf16-qv": ("lora", "bfloat16", {"lr": 2e-3, "target_modules": ("q_proj", "v_proj")}),
    "full-bf16": ("full", "bfloat16", {"lr": 1e-4}),
}


def run_one(name: str, steps: int) -> dict:
    """Train ``steps`` steps of one configuration on the notebook's knowledge examples."""
    import labkit as lk

    method, dtype, over = CONFIGS[name]
    env = lk.setup(seed=0)
    rss_before = lk.peak_rss_mb()
    lm = lk.load_generator(dtype=dtype)
    rss_loaded = lk.peak_rss_mb()
    qa = [q for q in lk.load_qa() if q.answerable]
    know = sorted(random.Random(0).sample(qa, 32), key=lambda q: q.id)  # as in 02_finetune.ipynb
    examples = lk.make_examples(know, kind="knowledge", phrasings=("question", "train"))
    cfg = lk.FinetuneConfig(method=method, epochs=5, tokens_per_step=512, checkpoint_every=1000, **over)
    with tempfile.TemporaryDirectory() as tmp:
        res = lk.finetune(lm, examples, cfg, stop_after=steps, progress=False, out_dir=tmp)
    out = {k: v for k, v in res.summary().items() if k not in ("ckpt_dir",)}
    out.update(name=name, losses=res.losses, rss_after_setup_mb=rss_before, rss_after_load_mb=rss_loaded,
               threads=env.threads, fp32_peak_gflops=lk.matmul_peak(__import__("torch").float32))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=12, help="optimizer steps per configuration")
    ap.add_argument("--only", choices=sorted(CONFIGS), help="run one configuration in this process")
    args = ap.parse_args(argv)
    if args.only:
        print(json.dumps(run_one(args.only, args.steps)))
        return 0
    results = []
    for name in CONFIGS:
        proc = subprocess.run([sys.executable, __file__, "--only", name, "--steps", str(args.steps)],
                              capture_output=True, text=True)
        if proc.returncode:
            print(proc.stderr[-2000:], file=sys.stderr)
            return proc.returncode
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    import pandas as pd

    cols = ["name", "dtype", "trainable_params", "steps", "tokens_per_s", "gflops_per_s", "peak_gflops",
            "frac_peak", "peak_rss_mb", "rss_after_load_mb", "final_loss"]
    print(pd.DataFrame(results)[cols].round(3).to_string(index=False))
    bf, fp = (next(r for r in results if r["name"] == n) for n in ("lora-bf16", "lora-fp32"))
    gap = max(abs(a - b) for a, b in zip(bf["losses"], fp["losses"]))
    print(f"LoRA loss curve, bf16 vs fp32: max |difference| over {len(bf['losses'])} steps = {gap:.4f}; "
          f"speed-up {bf['tokens_per_s'] / fp['tokens_per_s']:.2f}x")
    out = Path(__file__).resolve().parent / "results" / "finetune.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
