"""The learning-rate sweep behind ``lk.KNOWLEDGE_FT``: dev accuracy per epoch for a few learning rates.

    python benchmarks/sweep_knowledge_lr.py                 # lr 2e-3, 3e-3, 5e-3 (about 3 min each here)
    python benchmarks/sweep_knowledge_lr.py --lr 1e-3 2e-3

Each run is the workbook's knowledge fine-tune (every fact card, 3 epochs) with only the learning rate
changed, scored on the **dev** questions in their held-out and canonical wordings, as ``lk.pick_epoch``
does. Test questions are never used. Runs are cached like any fine-tune, so a rerun prints at once.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import labkit as lk


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lr", type=float, nargs="+", default=[2e-3, 3e-3, 5e-3])
    args = ap.parse_args()
    env = lk.setup(seed=0)
    qa = lk.load_qa()
    split = lk.workbook_split(qa)
    lm = lk.load_generator()
    print(f"{env}; dev: {sum(q.answerable for q in split.dev)} answerable questions\n")
    print("| lr | epoch | dev held-out | dev canonical (memorised) | training s |")
    print("|---|---|---|---|---|")
    for lr in args.lr:
        name = f"ft lr={lr:g}"
        _, run, choice = lk.knowledge_ft(lm, qa, split, name=name, cfg=replace(lk.KNOWLEDGE_FT, lr=lr))
        for epoch, row in choice.table.iterrows():
            mark = " (chosen)" if epoch == choice.epoch else ""
            print(
                f"| {lr:g} | {epoch}{mark} | {row['dev held-out']:.2f} | {row['dev canonical (memorised)']:.2f} "
                f"| {run.train_s:.0f} |"
            )


if __name__ == "__main__":
    main()
