"""Ship the workbook's LoRA runs as reference adapters (``data/adapters/``), from a float32 run of the notebooks.

    LABKIT_TRAIN=1 python benchmarks/notebooks.py 02_finetune 03_hybrid 06_your_own_documents   # train here
    python benchmarks/ship_adapters.py                    # ship every workbook run trained on this machine
    python benchmarks/ship_adapters.py --cache DIR --name 2645f89354ea5d30=ft ...   # runs of another cache

A run is shipped when its cache folder's ``run.json`` (written by ``lk.train_or_reuse``) names one of the
adapters below, or when ``--name DIGEST=ADAPTER`` names it. Bundles no longer written by this run are removed
with ``--prune``. Then commit ``data/adapters/``; ``tests/test_reference.py`` checks that every bundle was
trained by the current training code (a change to it makes every bundle stale: ship again).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

# The runs the notebooks train with lk.train_or_reuse (02: ft, ft (documents), ft-behaviour; 03: hybrid,
# hybrid (oracle-only); 06: reader and the sample folder's ft). Updates and LoRA-vs-full are timed live.
SHIPPED = ("ft", "ft (documents)", "ft-behaviour", "hybrid", "hybrid (oracle-only)", "reader")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", help="a labkit cache folder (default: this machine's, lk.env.cache_dir())")
    ap.add_argument("--name", action="append", default=[], help="DIGEST=ADAPTER: ship this run under that name")
    ap.add_argument("--prune", action="store_true", help="remove bundles that this call did not write")
    args = ap.parse_args()

    import os

    import torch

    import labkit as lk

    if args.cache:
        os.environ["LABKIT_CACHE"] = args.cache
    names = dict(n.split("=", 1) for n in args.name)
    machine = {
        "cpu": lk.own_docs_report.machine_name(),
        "cores": torch.get_num_threads(),
        "dtype": "float32",
        "torch": torch.__version__.split("+")[0],
        "code": lk.module_digest("labkit.finetune"),  # the training code these runs were trained by
    }
    shipped = []
    for ckpt in lk.reference.cached_runs():
        run_file = ckpt / "run.json"
        run = json.loads(run_file.read_text()) if run_file.exists() else None  # written by lk.train_or_reuse
        adapter = names.get(ckpt.name) or (run["adapter"] if run else None)
        if adapter not in SHIPPED and ckpt.name not in names:
            continue
        if run and run["key"]["base"]["dtype"] != "torch.float32":
            print(f"skip {ckpt.name} ({adapter}): not trained in float32", file=sys.stderr)
            continue
        if run and run["key"].get("code") != machine["code"]:  # an older training code's run, still cached
            print(f"skip {ckpt.name} ({adapter}): trained by other training code", file=sys.stderr)
            continue
        dest = lk.reference.ship_run(ckpt, {**machine, "adapter": adapter})
        shipped.append(dest.name)
        size = sum(f.stat().st_size for f in dest.iterdir()) / 1e6
        print(f"{dest.name}  {adapter:24s} {len(list(dest.glob('epoch-*')))} epochs  {size:.1f} MB")
    if args.prune:
        for old in lk.reference.REFERENCE_DIR.glob("*"):
            if old.is_dir() and old.name not in shipped:
                shutil.rmtree(old)
                print(f"removed {old.name}")
    print(f"{len(shipped)} runs in {lk.reference.REFERENCE_DIR}")
    return 0 if shipped else 1


if __name__ == "__main__":
    sys.exit(main())
