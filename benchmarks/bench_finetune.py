"""Fine-tuning throughput on this machine: tokens/s, achieved GFLOP/s and fraction of the GEMM peak,
peak RSS, and the fp32 vs bf16 loss curves of the same LoRA run.

Each configuration runs in its own process, so each peak RSS is that run's own.

    python benchmarks/bench_finetune.py            # all configurations, ~5 min on 2 cores
    python benchmarks/bench_finetune.py --steps 6  # quicker
    python benchmarks/bench_finetune.py --ceiling  # the GEMM ceiling of this model's shapes (seconds)

``--ceiling`` answers "what fraction of the GEMM peak *can* a LoRA step reach here?": it times every
matmul of one LoRA training step on a 512-token row, at the model's own shapes, in isolation, and
reports their FLOP-weighted speed as a fraction of the 2048^3 probe. No overhead, no attention, no
elementwise work: an upper bound on the trainer's "fraction of peak".

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
    rss_before = lk.memory.peak_rss_mb()
    lm = lk.load_generator(dtype=dtype)
    rss_loaded = lk.memory.peak_rss_mb()
    qa = [q for q in lk.load_qa() if q.answerable]
    know = sorted(random.Random(0).sample(qa, 32), key=lambda q: q.id)  # as in 02_finetune.ipynb
    examples = lk.make_examples(know, kind="knowledge", phrasings=("question", "train"))
    cfg = lk.FinetuneConfig(method=method, epochs=5, tokens_per_step=512, checkpoint_every=1000, **over)
    with tempfile.TemporaryDirectory() as tmp:
        res = lk.finetune(lm, examples, cfg, stop_after=steps, progress=False, out_dir=tmp)
    out = {k: v for k, v in res.summary().items() if k not in ("ckpt_dir",)}
    out.update(
        name=name,
        losses=res.losses,
        rss_after_setup_mb=rss_before,
        rss_after_load_mb=rss_loaded,
        threads=env.threads,
        fp32_peak_gflops=lk.flops.matmul_peak(__import__("torch").float32),
    )
    return out


def gemm_ceiling(T: int = 512, n_targets: int = 128, r: int = 8) -> dict:
    """Time each matmul of one LoRA step (bf16) at the model's shapes; FLOP-weighted GFLOP/s vs the probe."""
    import torch

    import labkit as lk

    cfg = lk.load_generator().model.config
    d, f, v = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    kv = cfg.num_key_value_heads * (d // cfg.num_attention_heads)
    outs = {"q": d, "k": kv, "v": kv, "o": d, "gate": f, "up": f, "down": d}
    ins = {**{k: d for k in outs}, "down": f}
    gemms = []  # (label, m, k, n, times per step): an (m, k) @ (k, n) product
    for name in outs:
        i, o = ins[name], outs[name]
        gemms += [
            (f"{name} forward", T, i, o, 2),  # 2: the forward and its recompute (checkpointing)
            (f"{name} input grad", T, o, i, 1),
            (f"{name} LoRA A", T, i, r, 2),
            (f"{name} LoRA B", T, r, o, 2),
            (f"{name} LoRA grad B", r, T, o, 1),
            (f"{name} LoRA grad A", i, T, r, 1),
            (f"{name} LoRA input grad 1", T, o, r, 1),
            (f"{name} LoRA input grad 2", T, r, i, 1),
        ]
    gemms += [("lm_head forward", n_targets, d, v, 1), ("lm_head input grad", n_targets, v, d, 1)]
    flops = secs = 0.0
    rows = []
    for label, m, k, n, times in gemms:
        gflops_per_s = lk.matmul_gflops(torch.bfloat16, shape=(m, k, n), repeats=20)
        layers = 1 if label.startswith("lm_head") else cfg.num_hidden_layers
        flops += 2 * m * k * n * times * layers
        secs += 2 * m * k * n / (gflops_per_s * 1e9) * times * layers
        rows.append({"gemm": label, "shape": f"({m}x{k})@({k}x{n})", "gflops_per_s": gflops_per_s})
    peak = lk.flops.matmul_peak(torch.bfloat16)
    return {
        "rows": rows,
        "ceiling_gflops_per_s": flops / secs / 1e9,
        "probe_peak_gflops_per_s": peak,
        "ceiling_frac_peak": flops / secs / 1e9 / peak,
        "tokens": T,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=12, help="optimizer steps per configuration")
    ap.add_argument("--only", choices=sorted(CONFIGS), help="run one configuration in this process")
    ap.add_argument("--ceiling", action="store_true", help="time the model's GEMM shapes instead of training")
    args = ap.parse_args(argv)
    if args.ceiling:
        import pandas as pd

        res = gemm_ceiling()
        print(pd.DataFrame(res["rows"]).round(1).to_string(index=False))
        print(
            f"all matmuls of one LoRA step on a {res['tokens']}-token row, FLOP-weighted: "
            f"{res['ceiling_gflops_per_s']:.0f} GFLOP/s = {res['ceiling_frac_peak']:.0%} of the "
            f"{res['probe_peak_gflops_per_s']:.0f} GFLOP/s 2048^3 probe"
        )
        return 0
    if args.only:
        print(json.dumps(run_one(args.only, args.steps)))
        return 0
    results = []
    for name in CONFIGS:
        proc = subprocess.run(
            [sys.executable, __file__, "--only", name, "--steps", str(args.steps)], capture_output=True, text=True
        )
        if proc.returncode:
            print(proc.stderr[-2000:], file=sys.stderr)
            return proc.returncode
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    import pandas as pd

    cols = [
        "name",
        "dtype",
        "trainable_params",
        "steps",
        "tokens_per_s",
        "gflops_per_s",
        "peak_gflops",
        "frac_peak",
        "peak_rss_mb",
        "rss_after_load_mb",
        "final_loss",
    ]
    print(pd.DataFrame(results)[cols].round(3).to_string(index=False))
    bf, fp = (next(r for r in results if r["name"] == n) for n in ("lora-bf16", "lora-fp32"))
    gap = max(abs(a - b) for a, b in zip(bf["losses"], fp["losses"]))
    print(
        f"LoRA loss curve, bf16 vs fp32: max |difference| over {len(bf['losses'])} steps = {gap:.4f}; "
        f"speed-up {bf['tokens_per_s'] / fp['tokens_per_s']:.2f}x"
    )
    out = Path(__file__).resolve().parent / "results" / "finetune.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
