"""``python -m labkit prepare`` converts and caches the offline models (used by ``make setup``);
``python -m labkit clear-cache`` removes the converted generator."""

import shutil
import sys
import time

import torch

from .embedder import load_embedder
from .env import auto_dtype, pick_device
from .models import generator_cache_path, prepare_generator


def _main(argv: list[str]) -> int:
    """``python -m labkit prepare|clear-cache``: used by ``make setup``."""
    cmd = argv[0] if argv else "prepare"
    if cmd == "prepare":
        t0 = time.perf_counter()
        path = prepare_generator()
        prepare_generator(auto_dtype(pick_device().type))  # the copy this machine will load
        load_embedder()
        print(f"offline models ready ({time.perf_counter() - t0:.1f} s): generator cache {path}")
        return 0
    if cmd == "clear-cache":
        for dtype in (torch.float32, torch.bfloat16, torch.float16):
            shutil.rmtree(generator_cache_path(dtype), ignore_errors=True)
        print(f"removed {generator_cache_path().parent}")
        return 0
    print("usage: python -m labkit [prepare|clear-cache]", file=sys.stderr)
    return 2


sys.exit(_main(sys.argv[1:]))
