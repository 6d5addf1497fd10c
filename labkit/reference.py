"""Reference adapters: the workbook's LoRA runs, trained once on a reference machine and shipped with it.

Training every fine-tune of notebooks 02, 03 and 06 takes about half an hour on 2 cores in float32, and
longer on Binder's single CPU. So by default a run whose *exact* inputs match a shipped run -- same config,
same tokenized examples, same base weights, same training code -- loads that run's adapters (one per epoch,
so the epoch is still chosen on dev here) instead of training, and says so (``trained_where``). Everything
after training -- every answer, every rate, every verdict -- is still computed on this machine.
``LABKIT_TRAIN=1`` trains every run here instead (the cache then keeps the run trained here).

A shipped run lives in ``data/adapters/<digest>/``, where ``<digest>`` is the name its cache folder had on
the reference machine (``lk.artifact_dir("ft", key)`` in float32 on a CPU, as ``lk.finetune`` keys it): a
change to the config, the data or the training code gives another digest, so a stale reference is never
used -- the run trains here. Adapters are stored in float16 (half the size; LoRA weights of this size round
by < 0.1 %) and loaded back in float32.

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from .data import REPO_ROOT
from .env import artifact_dir, cache_dir

__all__ = ["REFERENCE_DIR", "TRAIN_ENV", "train_here", "reference_digest", "train_or_reuse", "install", "trained_where",
           "ship_run", "cached_runs"]  # fmt: skip

REFERENCE_DIR = REPO_ROOT / "data" / "adapters"  # shipped with the repository, not the user's LABKIT_DATA
TRAIN_ENV = "LABKIT_TRAIN"  # 1: train every run here, ignoring the shipped ones
MARKER = "reference.json"  # in a cache folder: its run was installed from a shipped one (what, from where)
RUN_FILE = "run.json"  # in a cache folder: the adapter's name and the run's key (what ship_run exports)


def train_here() -> bool:
    """True when ``$LABKIT_TRAIN`` asks to train every fine-tune on this machine. Introduced in 02_finetune.ipynb."""
    return os.environ.get(TRAIN_ENV, "").strip().lower() in {"1", "true", "yes", "here"}


def reference_digest(key: dict) -> str:
    """The digest a run's cache folder has on the reference machine (float32, CPU): its shipped name.

    >>> k = {"base": {"dtype": "torch.bfloat16", "device": "cuda"}, "cfg": {"epochs": 1}}
    >>> reference_digest(k) == reference_digest({**k, "base": {"dtype": "torch.float32", "device": "cpu"}})
    True

    Introduced in 02_finetune.ipynb.
    """
    ref = {**key, "base": {**key["base"], "dtype": "torch.float32", "device": "cpu"}}
    return hashlib.sha256(json.dumps(ref, sort_keys=True, default=str).encode()).hexdigest()[:16]


def train_or_reuse(lm, examples: list, cfg=None, *, adapter: str = "default", progress: bool = False):
    """``lk.finetune``, except that a LoRA run with a shipped reference is loaded, not trained (see above).

    Returns ``lk.finetune``'s ``TrainResult``; ``trained_where(result)`` says where its weights came from.

    >>> run = train_or_reuse(lm, lk.knowledge_examples(qa), lk.KNOWLEDGE_FT, adapter="ft")  # doctest: +SKIP
    >>> trained_where(run)                                                                   # doctest: +SKIP
    'reference adapter (trained on AMD EPYC 7B13, 2 cores, float32, torch 2.13.0; LABKIT_TRAIN=1 trains it here)'

    Introduced in 02_finetune.ipynb.
    """
    from .finetune import FinetuneConfig, _run_key, _tokenize, finetune

    cfg = cfg or FinetuneConfig()
    key = _run_key(lm, cfg, _tokenize(lm, examples, cfg), None)  # the key lk.finetune computes, the same way
    ckpt = artifact_dir("ft", key)
    if train_here() and (ckpt / MARKER).exists():
        shutil.rmtree(ckpt)  # installed from a reference: train it here instead
    elif cfg.method == "lora" and not train_here() and not (ckpt / "final" / "result.json").exists():
        bundle = REFERENCE_DIR / reference_digest(key)
        if (bundle / "result.json").exists():
            install(bundle, ckpt)
    run = finetune(lm, examples, cfg, progress=progress, adapter=adapter)
    (Path(run.ckpt_dir) / RUN_FILE).write_text(json.dumps({"adapter": adapter, "key": key}, default=str))
    return run


def install(bundle: Path, ckpt: Path) -> None:
    """Put a shipped run into cache folder ``ckpt`` as ``lk.finetune`` leaves a finished run (peft folders
    ``epoch-k/``, ``final/``), float32 again. ``final/result.json``, which marks a run finished, comes last.

    Introduced in 02_finetune.ipynb.
    """
    from safetensors.torch import load_file, save_file

    config = (bundle / "adapter_config.json").read_text()
    epochs = sorted(bundle.glob("epoch-*.safetensors"), key=lambda f: int(f.stem.split("-")[1]))
    if not epochs:
        raise FileNotFoundError(f"{bundle}: no epoch-*.safetensors (a shipped run needs its epochs' adapters)")
    for f in epochs:
        tensors = {k: v.float().contiguous() for k, v in load_file(f).items()}
        for folder in [ckpt / f.stem] + ([ckpt / "final" / "adapter"] if f == epochs[-1] else []):
            folder.mkdir(parents=True, exist_ok=True)
            save_file(tensors, folder / "adapter_model.safetensors")
            (folder / "adapter_config.json").write_text(config)
    save_file(tensors, ckpt / "final" / "trainable-00000.safetensors")  # the last epoch: the run's final weights
    (ckpt / MARKER).write_text((bundle / "reference.json").read_text())
    shutil.copyfile(bundle / "result.json", ckpt / "final" / "result.json")


def trained_where(run) -> str:
    """Where a run's weights come from: trained here now, this machine's cache, or a shipped reference.

    Introduced in 02_finetune.ipynb.
    """
    marker = Path(run.ckpt_dir) / MARKER
    if marker.exists():
        ref = json.loads(marker.read_text())
        return (f"reference adapter (trained on {ref['cpu']}, {ref['cores']} cores, {ref['dtype']}, torch "
                f"{ref['torch']}; its times are that machine's; {TRAIN_ENV}=1 trains it here)")  # fmt: skip
    return "from this machine's cache (trained here earlier)" if run.reused else "trained here, now"


def ship_run(ckpt: Path, machine: dict, out: Path = REFERENCE_DIR) -> Path:
    """Copy a finished LoRA run from the cache into ``out/<digest>/`` (float16 epochs, its record, where it
    was trained). ``machine``: ``cpu``, ``cores``, ``dtype`` (float32 only: the digest assumes it), ``torch``.

    Introduced in 02_finetune.ipynb.
    """
    from safetensors.torch import load_file, save_file

    ckpt = Path(ckpt)
    if machine.get("dtype") != "float32":
        raise ValueError(f"reference runs are trained in float32 (their digest says so), got {machine.get('dtype')}")
    if not (ckpt / "final" / "adapter").is_dir() or (ckpt / MARKER).exists():
        raise ValueError(f"{ckpt}: not a finished LoRA run trained on this machine")
    dest = out / ckpt.name
    dest.mkdir(parents=True, exist_ok=True)
    epochs = sorted(ckpt.glob("epoch-*"), key=lambda d: int(d.name.split("-")[1]))
    for d in epochs:
        tensors = load_file(d / "adapter_model.safetensors")
        save_file({k: v.half().contiguous() for k, v in tensors.items()}, dest / f"{d.name}.safetensors")
    config = json.loads((epochs[-1] / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = None  # a machine path there: the base is lk.load_generator()'s
    (dest / "adapter_config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    result = json.loads((ckpt / "final" / "result.json").read_text())
    result.pop("ckpt_dir", None)  # a machine path; lk.finetune fills it in when it loads the run
    (dest / "result.json").write_text(json.dumps(result))
    (dest / "reference.json").write_text(json.dumps(machine, sort_keys=True))
    return dest


def cached_runs() -> list[Path]:
    """This machine's finished LoRA runs that were trained here (not installed), newest first.

    Introduced in 02_finetune.ipynb.
    """
    runs = [
        d for d in (cache_dir() / "ft").glob("*") if (d / "final" / "adapter").is_dir() and not (d / MARKER).exists()
    ]
    return sorted(runs, key=lambda d: d.stat().st_mtime, reverse=True)
