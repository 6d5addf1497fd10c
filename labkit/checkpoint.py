"""Writing things to the cache so that an interrupted write never leaves a broken file behind.

Everything labkit saves (converted models, indexes, adapters, training checkpoints, evaluation
records) is written under a temporary name and renamed into place: a rename is atomic, so a reader
finds the old version or the new one, never half of one. A file is replaced by one rename. A folder
cannot be renamed over another, so the old one is renamed aside first, the new one in, and only then is
the old one deleted: whatever step a crash stops at, a complete version is on disk, and ``recover``
(which every folder write runs first) puts the old one back if the crash fell between the renames.
Weights and optimizer state are safetensors (no pickle), in shards of ~32 MB; the rest is JSON.

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import torch

__all__ = [
    "write_atomic",
    "atomic_dir",
    "replace_dir",
    "recover",
    "save_tensors",
    "load_tensors",
    "trainable_state",
    "load_trainable",
    "save_checkpoint",
    "load_checkpoint",
]

SHARD_BYTES = 32 * 2**20  # one safetensors file per ~32 MB: saving serialises a file in memory first


def write_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling file and one ``os.replace``.

    The temporary name carries the process id (two processes writing the same file never share one) and
    is removed if the write fails.

    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "x.json"; write_atomic(p, "{}"); p.read_text()
    '{}'

    Introduced in 02_finetune.ipynb.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # a sibling: same file system, so replace is atomic
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # readers see the old file or the new one
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(target: Path | str):
    """Fill a fresh temporary folder; when the block ends without an error it replaces ``target``.

    >>> import tempfile; t = Path(tempfile.mkdtemp()) / "model"
    >>> with atomic_dir(t) as tmp:
    ...     _ = (tmp / "a.txt").write_text("hi")
    >>> sorted(p.name for p in t.iterdir())
    ['a.txt']

    Introduced in 02_finetune.ipynb.
    """
    target = Path(target)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_dir(tmp, target)


def replace_dir(new: Path | str, target: Path | str) -> None:
    """Put folder ``new`` at ``target``: the old ``target`` is renamed aside, ``new`` renamed in, then
    the old one deleted. Each step is one rename or a deletion of a copy no longer needed, so after any
    of them a complete version is on disk; a failure between the renames puts the old one back.

    Introduced in 02_finetune.ipynb.
    """
    new, target = Path(new), Path(target)
    recover(target)  # a stale aside copy from an earlier crash must not be deleted as "old" below
    old = _aside(target)
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def recover(target: Path | str) -> Path:
    """Finish what a crash in ``replace_dir`` left: the old folder back at ``target`` if the crash fell
    between the two renames, a leftover old copy deleted if it fell after them. Returns ``target``.

    Every folder write runs it first; so do the readers that look for a folder before using it
    (``artifact_dir``, the converted generator, a run's last checkpoint).

    Introduced in 02_finetune.ipynb.
    """
    target = Path(target)
    old = _aside(target)
    if old.exists():
        if target.exists():  # the new version is in place: the old one only waited to be deleted
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, target)
    return target


def _aside(target: Path) -> Path:
    return target.with_name(target.name + ".old")


def save_tensors(folder: Path, stem: str, tensors: dict) -> None:
    """Write ``stem-00000.safetensors``, ``stem-00001...``: shards of at most ~SHARD_BYTES each.

    Why shards: ``safetensors.torch.save_file`` builds each file's bytes in memory before writing, so
    one 212 MB file of full fine-tuning weights was a 212 MB spike on top of training's peak.

    Introduced in 02_finetune.ipynb.
    """
    from safetensors.torch import save_file

    shard, size, n = {}, 0, 0
    for name, t in tensors.items():
        if shard and size + t.numel() * t.element_size() > SHARD_BYTES:
            save_file(shard, folder / f"{stem}-{n:05d}.safetensors")
            shard, size, n = {}, 0, n + 1
        shard[name] = t
        size += t.numel() * t.element_size()
    save_file(shard, folder / f"{stem}-{n:05d}.safetensors")


def load_tensors(folder: Path, stem: str) -> dict:
    """All tensors of ``stem-*.safetensors`` in ``folder``. Introduced in 02_finetune.ipynb."""
    from safetensors.torch import load_file

    files = sorted(Path(folder).glob(f"{stem}-*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{folder}: no {stem}-*.safetensors files")
    return {k: v for f in files for k, v in load_file(f).items()}


def trainable_state(model, method: str) -> dict:
    """The weights a run trains: the active LoRA adapter, or every weight that requires grad (full).

    Introduced in 02_finetune.ipynb.
    """
    if method == "lora":
        from peft import get_peft_model_state_dict

        return {
            k: v.detach().contiguous()
            for k, v in get_peft_model_state_dict(model, adapter_name=model.active_adapter).items()
        }
    return {n: p.detach().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable(model, method: str, tensors: dict) -> None:
    """Put ``trainable_state`` tensors back (into the active adapter for LoRA). Introduced in 02_finetune.ipynb."""
    if method == "lora":
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, tensors, adapter_name=model.active_adapter)
    else:
        unexpected = model.load_state_dict(tensors, strict=False).unexpected_keys
        if unexpected:
            raise ValueError(f"checkpoint has weights this model lacks: {unexpected[:3]} ...")


def save_checkpoint(path: Path, model, opt, method: str, state: dict) -> None:
    """A resumable training checkpoint: trained weights, optimizer moments, torch RNG, loop state.

    Introduced in 02_finetune.ipynb.
    """
    with atomic_dir(path) as tmp:
        save_tensors(tmp, "trainable", trainable_state(model, method))
        sd = opt.state_dict()
        tensors, scalars = {}, {}
        for pid, st in sd["state"].items():
            for k, v in st.items():
                if torch.is_tensor(v):
                    tensors[f"{pid}.{k}"] = v.contiguous()
                else:
                    scalars[f"{pid}.{k}"] = v
        tensors["rng.torch"] = torch.get_rng_state()
        save_tensors(tmp, "optimizer", tensors)
        meta = {"param_groups": sd["param_groups"], "scalars": scalars, **state}
        (tmp / "trainer_state.json").write_text(json.dumps(meta, indent=1))


def load_checkpoint(path: Path, model, opt, method: str) -> dict:
    """Restore what ``save_checkpoint`` wrote; returns the loop state. Introduced in 02_finetune.ipynb."""
    load_trainable(model, method, load_tensors(path, "trainable"))
    meta = json.loads((path / "trainer_state.json").read_text())
    tensors = load_tensors(path, "optimizer")
    torch.set_rng_state(tensors.pop("rng.torch"))
    state: dict = {}
    for key, v in list(tensors.items()) + list(meta["scalars"].items()):
        pid, k = key.split(".", 1)
        state.setdefault(int(pid), {})[k] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta
