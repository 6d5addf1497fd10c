"""Fine-tuning the generator on CPU in minutes: LoRA (default) or full, with resumable checkpoints.

Why a short explicit loop and not ``transformers.Trainer``: the loop *is* the lesson. ``train_loop``
reads top to bottom like nanoGPT's ``train.py``: packed rows in, forward (logits only where there is a
target), loss on answer tokens only, backward, optimizer step, learning-rate schedule, a checkpoint every
few steps. ``finetune`` wraps it, at marked points, with what a notebook needs around a loop: reuse of a
finished run from the cache, resume from the last checkpoint after an interrupt, and the run's time and
FLOP accounting (``TrainLog``, ``labkit.trainlog``). What we do not hand-write comes from libraries:
``peft`` injects and saves the LoRA adapters (``labkit.lora``), transformers ships Adafactor. Examples
become packed rows in ``labkit.packing``; FLOPs are counted in ``labkit.flops``; full fine-tuning steps
its optimizer inside backward (``labkit.optim``).

The cache folder of a run (``TrainResult.ckpt_dir``)::

    last/        the latest resumable checkpoint (weights, optimizer state, RNG, TrainLog numbers)
    epoch-k/     LoRA: the adapter after epoch k (a peft folder)
    final/       the finished run: trainable-*.safetensors, adapter/ (LoRA), result.json

>>> cfg = FinetuneConfig(method="lora", r=8, epochs=3)              # doctest: +SKIP
>>> res = finetune(lm, make_examples(qa, kind="knowledge"), cfg)    # doctest: +SKIP
>>> res.lm                                                          # doctest: +SKIP

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .checkpoint import load_tensors, load_trainable, recover, save_checkpoint, save_tensors, trainable_state
from .env import artifact_dir, module_digest
from .lora import inject_lora, lora_autocast, lora_layers, save_adapter, shared_peft
from .memory import free_memory
from .models import LM, ContextTooLongError, base_model, mark_weights, tensors_digest
from .optim import StepInBackward, lr_at, make_optimizer
from .packing import as_example, epoch_rows, loss_positions, row_mask, shared_prompt_len, tokenize_example
from .trainlog import TrainLog, TrainResult

__all__ = ["FinetuneConfig", "prepare_model", "train_loop", "finetune"]

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class FinetuneConfig:
    """Everything that defines a fine-tuning run (and, with the data and base model, its cache key).

    >>> FinetuneConfig(method="full", lr=1e-4).method
    'full'

    Introduced in 02_finetune.ipynb.
    """

    method: str = "lora"  # "lora": train low-rank adapters B@A; "full": train all block weights
    r: int = 8  # LoRA rank (columns of B / rows of A)
    alpha: int = 16  # LoRA scale numerator: the update is (alpha / r) * B @ A
    dropout: float = 0.0  # LoRA dropout on the adapter input (probability)
    target_modules: tuple[str, ...] = LORA_TARGETS  # names of the Linear layers that get adapters
    lr: float = 1e-3  # peak learning rate (LoRA ~1e-3; full ~1e-4)
    warmup_steps: int = 2  # linear warm-up (steps); then constant, so epoch-k checkpoints = k-epoch runs
    epochs: int = 3  # passes over the training examples
    tokens_per_step: int = 512  # length of one packed row = one optimizer step (tokens)
    seed: int = 0  # example order and adapter initialisation
    checkpoint_every: int = 10  # save a resumable checkpoint every this many steps (and at epoch ends)
    grad_clip: float = 1.0  # LoRA: max global gradient norm (full: Adafactor clips each update instead)
    freeze_embeddings: bool = True  # full only: keep the tied 49152x576 embedding/lm_head frozen
    grad_checkpointing: bool | None = None  # recompute activations in backward; None: on for "full"
    recompute_every: int = 1  # with grad_checkpointing: recompute every n-th decoder layer only (1: all)

    def __post_init__(self):
        if self.method not in ("lora", "full"):
            raise ValueError(f"FinetuneConfig.method must be 'lora' or 'full', got {self.method!r}")
        self.target_modules = tuple(self.target_modules)
        checks = [
            ("r", self.r >= 1),
            ("alpha", self.alpha > 0),
            ("dropout", 0 <= self.dropout < 1),
            ("lr", 0 < self.lr < 1),
            ("warmup_steps", self.warmup_steps >= 0),
            ("epochs", self.epochs >= 1),
            ("tokens_per_step", self.tokens_per_step >= 8),
            ("seed", self.seed >= 0),
            ("checkpoint_every", self.checkpoint_every >= 1),
            ("grad_clip", self.grad_clip > 0),
            ("target_modules", len(self.target_modules) > 0),
            ("recompute_every", self.recompute_every >= 1),
        ]
        for name, ok in checks:
            if not ok:
                raise ValueError(
                    f"FinetuneConfig.{name}={getattr(self, name)!r} is out of range; see the "
                    f"field's comment in labkit/finetune.py for valid values."
                )

    @property
    def checkpointing(self) -> bool:
        return self.method == "full" if self.grad_checkpointing is None else self.grad_checkpointing


# --- model preparation -------------------------------------------------------------------------------
def prepare_model(lm: LM, cfg: FinetuneConfig, adapter: str = "default", start: Path | None = None):
    """The model to train: LoRA adds adapter ``adapter`` (base frozen), from the adapter file ``start`` if
    given; full unfreezes the blocks (and the embedding if asked). Gradient checkpointing as configured.

    >>> model = prepare_model(lk.tiny_generator(), FinetuneConfig(r=4))      # doctest: +SKIP

    Introduced in 02_finetune.ipynb.
    """
    model = lm.model
    if cfg.method == "full" and (shared_peft(model) is not None or lora_layers(model)):
        raise ValueError(
            "full fine-tuning would change the base under its LoRA adapters: pass a fresh base, lk.load_generator()."
        )
    if cfg.checkpointing:  # recompute activations in backward: ~1 extra forward, far less memory
        model.activation_checkpointing_enable(
            activation_checkpointing_kwargs={"use_reentrant": False}, every_n_layers=cfg.recompute_every
        )  # n > 1: memory for speed
    if cfg.method == "lora":
        model = inject_lora(
            model, adapter, r=cfg.r, alpha=cfg.alpha, dropout=cfg.dropout, targets=cfg.target_modules, seed=cfg.seed
        )
        if start is not None:  # continue an earlier adapter (init_from)
            from peft import set_peft_model_state_dict
            from safetensors.torch import load_file

            set_peft_model_state_dict(model, load_file(start), adapter_name=adapter)
    else:
        for name, p in model.named_parameters():
            p.requires_grad = not (cfg.freeze_embeddings and "embed_tokens" in name)
    return model.train()


# --- the training loop: the lesson -------------------------------------------------------------------
def train_loop(model, opt, tokenized, cfg, log, ckpt, *, stop_after=None, progress=True) -> bool:
    """Train ``model`` on ``tokenized`` (ids, labels) examples, top to bottom; True if it ran to the end.

    Each step: one packed row in, forward, loss, backward, optimizer step; the learning rate follows
    ``lr_at``; a checkpoint in ``ckpt/last`` every ``cfg.checkpoint_every`` steps and at each epoch end.
    Steps up to ``log.step`` are skipped (a resumed run); ``stop_after=k`` returns False after step k's
    checkpoint (an interruption on purpose). ``finetune`` prepares the model and optimizer and wraps this.

    >>> done = train_loop(model, make_optimizer(model, cfg), tokenized, cfg, TrainLog(), ckpt)  # doctest: +SKIP

    Introduced in 02_finetune.ipynb.
    """
    from tqdm.auto import tqdm

    device = next(model.parameters()).device
    dtype = model.get_input_embeddings().weight.dtype  # the base weights' dtype (adapters are fp32)
    adapters = lora_layers(model)  # found once: walking 500 modules per step costs time
    prefix = shared_prompt_len(tokenized)  # system prompt + chat markup: once per row, not once per example
    # (epochs, rows): each epoch's examples shuffled, packed and padded, made up front (cheap, exact)
    plan = [epoch_rows(tokenized, cfg.tokens_per_step, cfg.seed, e, prefix) for e in range(cfg.epochs)]
    bar = tqdm(total=sum(map(len, plan)), initial=log.step, disable=not progress, desc=f"{cfg.method} fine-tune")
    in_backward = opt.hooked() if isinstance(opt, StepInBackward) else contextlib.nullcontext()  # full: see optim
    step = 0
    with bar, in_backward:
        for epoch, rows in enumerate(plan):
            for row in rows:  # one packed row = one optimizer step
                step += 1
                if step <= log.step:
                    continue  # resumed: done before the interruption
                t0 = time.perf_counter()  # accounting: the step's time starts
                # schedule: set before backward, where a StepInBackward optimizer steps
                for group in opt.param_groups:
                    group["lr"] = lr_at(step - 1, cfg)
                keep, targets = loss_positions(row)  # (n_kept,) answer positions (+ padding), their targets
                with lora_autocast(adapters, dtype, device.type):  # adapter matmuls in the base's dtype
                    # forward: logits only where there is a target, (1, n_kept, vocab)
                    out = model(
                        input_ids=row.input_ids[None].to(device),  # (1, T)
                        position_ids=row.position_ids[None].to(device),  # (1, T)
                        attention_mask=row_mask(row).to(device),  # (1, 1, T, T): own tokens + the shared start
                        logits_to_keep=keep.to(device),
                        use_cache=False,
                    )
                    loss = F.cross_entropy(out.logits[0].float(), targets.to(device))  # mean over real targets
                    # backward, in the scope too: gradient checkpointing recomputes the forward here
                    loss.backward()
                # optimizer step (full fine-tuning has already stepped, inside backward)
                if not isinstance(opt, StepInBackward):
                    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.grad_clip)
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                epoch_end = row is rows[-1]
                log.record(step, loss.item(), row, t0, epoch_end)  # accounting: time, tokens, FLOPs
                bar.update(1)
                bar.set_postfix(loss=f"{log.losses[-1]:.3f}", epoch=epoch + 1)
                # checkpoint: an interrupted run resumes from here
                if step % cfg.checkpoint_every == 0 or epoch_end or step == stop_after:
                    save_checkpoint(ckpt / "last", model, opt, cfg.method, log.snapshot())
                if epoch_end and cfg.method == "lora":  # small: keep each epoch's adapter for the epoch choice
                    save_adapter(model, ckpt / f"epoch-{epoch + 1}")
                if step == stop_after:
                    return False
    return True


# --- around the loop: cache, resume, accounting ------------------------------------------------------
def finetune(
    lm: LM,
    examples: list,
    cfg: FinetuneConfig | None = None,
    *,
    stop_after: int | None = None,
    progress: bool = True,
    out_dir: str | Path | None = None,
    adapter: str = "default",
    init_from: str | Path | None = None,
) -> TrainResult:
    """Fine-tune ``lm`` on chat examples; resume from the last checkpoint; reuse a finished run.

    The cache folder is keyed by the config, the tokenized data, the base model and the training code
    (``lk.module_digest`` of this module): re-running the same call continues where an interrupted run
    stopped, or loads the finished weights instantly; an edit to the training code trains afresh.
    ``stop_after=k`` stops (after a checkpoint) at step k, to simulate an interruption.
    The trained model is ``result.lm``.

    LoRA adds an adapter named ``adapter`` to ``lm``'s model. If that base already carries adapters
    (``lk.attach``, an earlier run), the new one joins them: the base weights are not copied, only the
    new adapter trains, and ``lm`` (the base view) still answers with every adapter off. Re-running with
    the same name replaces that adapter. Full fine-tuning changes ``lm``'s weights in place: load a
    fresh base (``lk.load_generator()``) for it.

    ``init_from`` (LoRA): a saved adapter folder (a run's ``epoch-k`` or ``final``) to start from instead
    of a fresh adapter: an update that continues an earlier fine-tune on new data.

    >>> res = finetune(lm, examples, FinetuneConfig(epochs=2))      # doctest: +SKIP
    >>> res.trainable_params < res.total_params                     # doctest: +SKIP
    True

    Introduced in 02_finetune.ipynb.
    """
    cfg = cfg or FinetuneConfig()
    tokenized = _tokenize(lm, examples, cfg)  # [(ids, labels)] per example, checked
    start = _initial_adapter(init_from, cfg)
    ckpt = Path(out_dir) if out_dir else artifact_dir("ft", _run_key(lm, cfg, tokenized, start))
    ckpt.mkdir(parents=True, exist_ok=True)
    model = prepare_model(lm, cfg, adapter, start)
    # 1. cache: a finished run is loaded, nothing trained
    if (ckpt / "final" / "result.json").exists():
        return _reuse(lm, model, cfg, ckpt)
    # 2. resume: the last checkpoint's weights, optimizer state, RNG and numbers (a fresh log if none)
    opt = make_optimizer(model, cfg)
    log = TrainLog.resume(recover(ckpt / "last"), model, opt, cfg.method)  # a crash mid-replace must not lose it
    resumed_from = log.step
    # 3. the loop, timed and counted
    log.start(model, cfg.method)
    completed = train_loop(model, opt, tokenized, cfg, log, ckpt, stop_after=stop_after, progress=progress)
    log.stop()
    # 4. the result; a finished run saved for reuse (before the model is handed over for inference)
    if completed:
        _save_final(ckpt, model, cfg)
    res = log.result(lm, model, cfg.method, ckpt, completed, resumed_from)
    res.lm = _finish(lm, model)
    if completed:
        (ckpt / "final" / "result.json").write_text(json.dumps(res.numbers()))
    return res


def _tokenize(lm: LM, examples: list, cfg: FinetuneConfig) -> list[tuple[list[int], list[int]]]:
    """The examples as (ids, labels), after checking what would otherwise fail deep inside training."""
    examples = [as_example(ex, i) for i, ex in enumerate(examples or [])]
    if not examples:
        raise ValueError("the training set is empty: pass at least one example (see lk.make_examples).")
    if lm.adapter is not None:
        raise ValueError(f"fine-tune the base view (adapter=None), not {lm!r}: its adapter would train on top.")
    if cfg.tokens_per_step > lm.max_context:
        raise ContextTooLongError(
            f"FinetuneConfig.tokens_per_step={cfg.tokens_per_step} is longer than "
            f"the model's context of {lm.max_context} tokens: lower it."
        )
    return [tokenize_example(lm.tokenizer, ex, cfg.tokens_per_step) for ex in examples]


def _run_key(lm: LM, cfg: FinetuneConfig, tokenized, start: Path | None) -> dict:
    """What names a run's cache folder: same key, same run (resumed or reused)."""
    key = {
        "cfg": asdict(cfg),
        "data": hashlib.sha256(json.dumps(tokenized).encode()).hexdigest()[:16],
        "base": lm.fingerprint(),  # which weights, dtype and device: no machine path, so a moved cache is reused
        "code": module_digest(__name__),  # the training code: this loop and every labkit module it imports
    }
    if start is not None:
        key["init"] = hashlib.sha256(start.read_bytes()).hexdigest()[:16]
    return key


def _initial_adapter(init_from, cfg: FinetuneConfig) -> Path | None:
    """The adapter file a LoRA run starts from (``init_from``), checked; None for a fresh adapter."""
    if init_from is None:
        return None
    if cfg.method != "lora":
        raise ValueError("init_from continues a LoRA adapter; full fine-tuning starts from the model's weights.")
    file = Path(init_from) / "adapter_model.safetensors"
    if not file.exists():
        raise FileNotFoundError(
            f"init_from={str(init_from)!r}: no adapter_model.safetensors there; pass a run's "
            f"epoch-k or final/adapter folder."
        )
    return file


def _reuse(lm: LM, model, cfg: FinetuneConfig, ckpt: Path) -> TrainResult:
    """A finished run from the cache: its weights into ``model``, its numbers from ``final/result.json``."""
    load_trainable(model, cfg.method, load_tensors(ckpt / "final", "trainable"))
    saved = json.loads((ckpt / "final" / "result.json").read_text())
    saved.update(reused=True, ckpt_dir=str(ckpt))  # where it lies now: the cache may have moved since
    return TrainResult(**saved, lm=_finish(lm, model))


def _save_final(ckpt: Path, model, cfg: FinetuneConfig) -> None:
    final = ckpt / "final"
    final.mkdir(exist_ok=True)
    save_tensors(final, "trainable", trainable_state(model, cfg.method))
    if cfg.method == "lora":  # the standard peft folder too, for lk.load_adapter / PeftModel
        save_adapter(model, final / "adapter")


def _finish(lm: LM, model) -> LM:
    """The trained model as an ``LM`` view, ready for generation."""
    model.eval()
    base = base_model(model)
    if base.is_activation_checkpointing:
        base.activation_checkpointing_disable()  # generation needs the KV cache back
    free_memory()  # hand the training step's freed buffers back to the OS before the next phase
    adapter = model.active_adapter if hasattr(model, "peft_config") else None  # the one just trained
    if adapter is None:  # full fine-tuning changed the base weights in place: say so in every fingerprint
        mark_weights(base, "full fine-tune " + tensors_digest(trainable_state(model, "full").items()))
    return LM(
        model=model, tokenizer=lm.tokenizer, name=f"{lm.name}+{adapter or 'ft'}", source=lm.source, adapter=adapter
    )
