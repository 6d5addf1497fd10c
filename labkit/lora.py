"""LoRA adapters: inject, switch, save, load, and share one base model between several fine-tunes.

LoRA freezes a weight matrix W and learns a low-rank update: W' = W + (alpha / r) * B A, with A (r x in)
and B (out x r) small, B starting at zero. peft injects the adapters into the model's Linear layers;
this module adds what the workbook needs around it:

* ``inject_lora``: a new trainable adapter, on a fresh base or next to adapters already there.
* ``adapter_scope``: an ``LM`` view answers with its own adapter (or none) for the duration of a call;
  ``lora_autocast``: fp32 adapters on a bf16 base run in bf16 (mixed precision).
* ``save_adapter`` / ``load_adapter`` / ``set_adapter_weights``: standard peft folders, safetensors only.
* ``attach``: a finished run onto a shared base: one base model in memory, ~10 MB per adapter.

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import contextlib
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .checkpoint import atomic_dir, load_tensors, load_trainable
from .memory import free_memory
from .models import LM, base_model, mark_weights, tensors_digest

if TYPE_CHECKING:
    from .trainlog import TrainResult

__all__ = [
    "lora_layers",
    "lora_autocast",
    "adapter_scope",
    "inject_lora",
    "shared_peft",
    "save_adapter",
    "load_adapter",
    "set_adapter_weights",
    "attach",
]


def lora_layers(model) -> list:
    """The peft LoRA layers of ``model`` (empty for a plain model). Introduced in 03_hybrid.ipynb."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [m for m in model.modules() if isinstance(m, BaseTunerLayer)]


@contextlib.contextmanager
def lora_autocast(layers: list, dtype: torch.dtype, device_type: str):
    """Run fp32 LoRA adapters on a bf16 base in bf16: mixed precision (autocast), fp32 weights kept.

    peft keeps adapter weights in fp32 and casts every adapter's input to fp32. On this 2-core CPU that
    made the RAFT view's prefill run at 385 tokens/s; under this scope, 670 tokens/s (notebook 03's
    48 held-out prompts, ~350 tokens each). A training step also stops allocating fp32 copies of the
    activations: its peak fell from ~1.1 GB to ~0.95 GB. Under autocast the adapter matmuls run in
    bf16 while the fp32 weights (and in training their gradients and AdamW state) stay fp32: the usual
    mixed-precision recipe. No-op for fp32 models or when ``layers`` is empty.

    Introduced in 02_finetune.ipynb.
    """
    if dtype != torch.bfloat16 or not layers:
        yield
        return
    casting = [(m, m.cast_input_dtype_enabled) for m in layers]
    try:
        for m, _ in casting:
            m.cast_input_dtype_enabled = False  # autocast picks the matmul dtype instead
        with torch.autocast(device_type, dtype=dtype):
            yield
    finally:
        for m, enabled in casting:
            m.cast_input_dtype_enabled = enabled


@contextlib.contextmanager
def adapter_scope(lm: LM):
    """Answer with ``lm.adapter`` switched on, or with every adapter off when ``lm.adapter`` is None.

    Several ``LM`` views can share one base model carrying several LoRA adapters (``lk.attach``):
    the base weights are in memory once, each adapter adds ~10 MB. peft injects the adapters into the
    base model's layers, so the view decides which one is live for the duration of a call.

    Introduced in 03_hybrid.ipynb.
    """
    layers = lora_layers(lm.model)
    if not layers:
        if lm.adapter is not None:
            raise ValueError(f"{lm!r} names adapter {lm.adapter!r} but its model has no LoRA layers.")
        yield
        return
    before = [(m, list(m.active_adapters), m.disable_adapters) for m in layers]
    grads = {p: p.requires_grad for m in layers for p in m.parameters()}  # peft's switches flip these
    try:
        for m in layers:
            m.enable_adapters(lm.adapter is not None)
            if lm.adapter is not None:
                m.set_adapter(lm.adapter, inference_mode=True)
        with lora_autocast(layers if lm.adapter is not None else [], lm.dtype, lm.device.type):
            yield
    finally:
        for m, active, disabled in before:
            m.set_adapter(active, inference_mode=True)
            m.enable_adapters(not disabled)
        for p, g in grads.items():
            p.requires_grad_(g)


def _check_targets(model, targets: tuple[str, ...]) -> None:
    wrapped = set(map(id, lora_layers(model)))  # Linear layers that already carry LoRA adapters
    linear = {
        n.split(".")[-1]
        for n, m in model.named_modules()
        if (isinstance(m, torch.nn.Linear) and "lora_" not in n and not n.endswith("base_layer")) or id(m) in wrapped
    }
    missing = [t for t in targets if t not in linear]
    if missing:
        raise ValueError(
            f"FinetuneConfig.target_modules {missing} are not Linear layers of this model; it has {sorted(linear)}."
        )


@contextlib.contextmanager
def _quiet_peft():
    """peft 0.21 reads ``is_gradient_checkpointing``, which transformers 5.x deprecates: not our warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def shared_peft(model):
    """The PeftModel that wraps this base model (its LoRA layers are injected in place), or None.

    Introduced in 02_finetune.ipynb.
    """
    return model.__dict__.get("_labkit_peft")


def _share_peft(base, peft_model):
    """Remember ``peft_model`` on ``base`` so later adapters join it instead of wrapping the base again."""
    base.__dict__["_labkit_peft"] = peft_model  # not a submodule: a plain attribute
    return peft_model


def inject_lora(model, adapter: str, r: int, alpha: float, dropout: float, targets: tuple[str, ...], seed: int):
    """Add a trainable LoRA adapter named ``adapter`` to ``model`` (base frozen); returns the PeftModel.

    A model that already carries adapters (``lk.attach``, ``lk.load_adapter``) gets one more on the same
    base weights; an adapter of the same name is replaced. Only the new adapter is trainable.

    Introduced in 02_finetune.ipynb.
    """
    from peft import LoraConfig, get_peft_model

    _check_targets(model, targets)
    shared = shared_peft(model)  # the PeftModel already wrapping this base, if any
    pcfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(targets), task_type="CAUSAL_LM")
    torch.manual_seed(seed)  # A is random (Kaiming), B starts at 0 so W + BA = W at step 0
    with _quiet_peft():
        if shared is None:  # adapters in fp32 (peft's default), base weights frozen
            peft_model = _share_peft(model, get_peft_model(model, pcfg, adapter_name=adapter))
        else:  # join the adapters already on this base; the same seed gives the same initial A
            if adapter in shared.peft_config:  # a re-run replaces its own adapter
                warnings.filterwarnings("ignore", message=".*which is now deleted.*", category=UserWarning)
                shared.delete_adapter(adapter)
            shared.add_adapter(adapter, pcfg)
            peft_model = shared
    peft_model.set_adapter(adapter)  # only this adapter trains (peft freezes the others)
    for m in lora_layers(peft_model):
        m.enable_adapters(True)
    return peft_model


def save_adapter(model, folder: Path) -> None:
    """The active adapter as a standard peft folder (``adapter_config.json`` + safetensors) in ``folder``.

    peft writes an adapter not named "default" into a subfolder of that name: move it up, so every run's
    folder looks the same whatever the adapter was called.

    Introduced in 02_finetune.ipynb.
    """
    adapter = model.active_adapter
    with atomic_dir(folder) as tmp:
        model.save_pretrained(tmp / "peft", safe_serialization=True, selected_adapters=[adapter])
        written = tmp / "peft" if adapter == "default" else tmp / "peft" / adapter
        for f in list(written.iterdir()):
            if f.is_file():
                f.rename(tmp / f.name)
        shutil.rmtree(tmp / "peft")


def load_adapter(lm: LM, path: str | Path, name: str = "default") -> LM:
    """Put saved fine-tuned weights on a base model: a peft LoRA folder, a run's ``final/`` or its
    ``epoch-k/`` folder (LoRA), or a full run's ``final/`` (``trainable-*.safetensors``). Safetensors only.

    A LoRA adapter is added under ``name``; loading a second one (another name) onto the same ``lm``
    shares the base weights: each returned view answers with its own adapter, ``lm`` itself with none.
    A full fine-tune overwrites ``lm``'s weights (use a freshly loaded base).

    >>> ft = load_adapter(lk.load_generator(), res.ckpt_dir + "/final/adapter")   # doctest: +SKIP

    Introduced in 02_finetune.ipynb.
    """
    path = Path(path)
    if (path / "adapter" / "adapter_config.json").exists():
        path = path / "adapter"
    if (path / "adapter_config.json").exists():
        from peft import PeftModel

        # The base view keeps a plain model whose layers peft has already wrapped: reuse that wrapper.
        model = lm.model if isinstance(lm.model, PeftModel) else shared_peft(lm.model)
        if model is not None:
            if name in model.peft_config:
                raise ValueError(f"this model already has an adapter named {name!r}: pick another name.")
            with _quiet_peft():
                model.load_adapter(path, adapter_name=name, is_trainable=False)
        else:
            with _quiet_peft():
                model = _share_peft(
                    lm.model, PeftModel.from_pretrained(lm.model, path, adapter_name=name, is_trainable=False)
                )
        return LM(model=model.eval(), tokenizer=lm.tokenizer, name=f"{lm.name}+{name}", source=lm.source, adapter=name)
    if any(path.glob("trainable-*.safetensors")):
        model = lm.model
        tensors = load_tensors(path, "trainable")
        load_trainable(model, "full", tensors)
        mark_weights(base_model(model), "full fine-tune " + tensors_digest(tensors.items()))
        return LM(model=model.eval(), tokenizer=lm.tokenizer, name=lm.name + "+ft", source=lm.source)
    raise FileNotFoundError(
        f"{path}: no adapter_config.json (LoRA) or trainable-*.safetensors (full "
        f"fine-tune) here; pass a run's ckpt_dir/final or an epoch-k folder."
    )


def set_adapter_weights(view: LM, path: str | Path) -> None:
    """Overwrite ``view``'s LoRA adapter with the weights saved in a peft folder (e.g. a run's ``epoch-k``).

    The adapter's modules stay; only their tensors change, so trying several checkpoints of one run
    builds nothing new (``lk.pick_epoch``). Safetensors only.

    Introduced in 02_finetune.ipynb.
    """
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    file = Path(path) / "adapter_model.safetensors"
    if view.adapter is None or not file.exists():
        raise FileNotFoundError(f"{file}: need a LoRA view (adapter={view.adapter!r}) and a peft adapter folder")
    result = set_peft_model_state_dict(view.model, load_file(file), adapter_name=view.adapter)
    missing = [k for k in getattr(result, "missing_keys", []) if "lora_" in k and f".{view.adapter}." in k]
    if missing:
        raise ValueError(f"{file} lacks weights of adapter {view.adapter!r}: {missing[:2]} ...")


def attach(base: LM, run: TrainResult, name: str) -> LM:
    """Move a finished LoRA run onto a shared base model and drop the run's own copy of the base.

    Serving several fine-tunes this way costs one base model plus a few MB per adapter, instead of one
    whole model each (the idea behind multi-adapter servers such as S-LoRA / LoRAX).

    >>> raft = attach(lm, raft_run, "raft")        # doctest: +SKIP
    >>> raft.adapter                               # doctest: +SKIP
    'raft'

    Introduced in 03_hybrid.ipynb.
    """
    if run.method != "lora":
        raise ValueError(
            f"attach needs a LoRA run; this one is {run.method!r} (its weights replace the "
            f"base's): use run.lm, or lk.load_adapter on a freshly loaded base."
        )
    if not run.completed:
        raise ValueError("this run stopped before its end (no final adapter): re-run lk.finetune to finish.")
    if base.adapter is not None:
        raise ValueError(f"attach to the base view (adapter=None), not to {base!r}.")
    if run.lm is not None and run.lm.model is shared_peft(base.model):
        if run.lm.adapter != name:  # trained on this very base (lk.finetune(base, ..., adapter=...))
            raise ValueError(f"this run's adapter is already on this base as {run.lm.adapter!r}: use run.lm.")
        return run.lm
    run.lm = None  # the trained copy of the base model: freed below
    free_memory()
    return load_adapter(base, Path(run.ckpt_dir) / "final", name=name)
