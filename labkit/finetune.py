"""Fine-tuning the generator on CPU in minutes: LoRA (default) or full, with resumable checkpoints.

Why a short explicit loop and not ``transformers.Trainer``: the loop *is* the lesson (forward, loss on
answer tokens only, backward, optimizer step), it fits on two screens, and it lets us control what
matters on a 2-core CPU: packed rows with no padding, logits computed only where there is a target,
bf16 matmuls, and a FLOP count per step. The machinery we do not hand-write comes from libraries:
``peft`` injects and saves the LoRA adapters (``labkit.lora``), transformers ships Adafactor. Examples
become packed rows in ``labkit.packing``; FLOPs are counted in ``labkit.flops``; full fine-tuning steps
its optimizer inside backward (``labkit.optim``).

>>> cfg = FinetuneConfig(method="lora", r=8, epochs=3)              # doctest: +SKIP
>>> res = finetune(lm, make_examples(qa, kind="knowledge"), cfg)    # doctest: +SKIP
>>> res.lm                                                          # doctest: +SKIP

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
import torch.nn.functional as F

from .checkpoint import (
    load_checkpoint,
    load_tensors,
    load_trainable,
    recover,
    save_checkpoint,
    save_tensors,
    trainable_state,
)
from .env import artifact_dir, module_digest
from .flops import matmul_peak, train_flops
from .generate import ContextTooLongError
from .lora import inject_lora, lora_autocast, lora_layers, save_adapter, shared_peft
from .memory import free_memory, peak_rss_mb
from .models import LM, base_model, mark_weights, tensors_digest
from .optim import StepInBackward, lr_at, make_optimizer
from .packing import Row, _as_example, _bucket, pack, pad_row, row_mask, shared_prompt_len, tokenize_example

__all__ = ["FinetuneConfig", "TrainResult", "finetune"]

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


def _epoch_rows(tokenized, cfg: FinetuneConfig, epoch: int, prefix: int = 0) -> list[Row]:
    order = list(range(len(tokenized)))
    random.Random(cfg.seed * 1000 + epoch).shuffle(order)  # a fresh, reproducible order per epoch
    rows = pack([tokenized[i] for i in order], cfg.tokens_per_step, prefix)
    return [pad_row(r, min(_bucket(r.input_ids.numel()), cfg.tokens_per_step)) for r in rows]  # few shapes


# --- model preparation -------------------------------------------------------------------------------
def _prepare_model(lm: LM, cfg: FinetuneConfig, adapter: str = "default"):
    """LoRA: add adapter ``adapter`` (base frozen). Full: unfreeze the blocks (and the embedding if asked)."""
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
    else:
        for name, p in model.named_parameters():
            p.requires_grad = not (cfg.freeze_embeddings and "embed_tokens" in name)
    return model.train()


# --- the training loop -------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What a run cost and how its loss went. ``lm`` is the trained model (not saved to JSON).

    Introduced in 02_finetune.ipynb.
    """

    method: str
    steps: int  # optimizer steps done
    losses: list[float]  # mean answer-token loss per step
    epoch_ends: list[int]  # step number at the end of each epoch
    trainable_params: int
    total_params: int
    wall_s: float  # whole run (incl. checkpoint writes), seconds; summed over resumed pieces
    train_s: float  # forward + backward + step only, seconds
    tokens: int  # tokens processed (prompt + answer; no padding exists)
    target_tokens: int  # tokens with a loss (answers)
    tokens_per_s: float
    gflops: float  # matmul GFLOP done (see train_flops)
    gflops_per_s: float
    peak_gflops: float  # GEMM probe of this dtype and device
    frac_peak: float  # gflops_per_s / peak_gflops: useful work ("model FLOPs utilisation")
    hw_frac_peak: float  # the same with padding and checkpoint recompute counted ("hardware FLOPs")
    peak_rss_mb: float  # process peak resident memory at the end of training
    peak_cuda_mb: float  # 0 on CPU
    dtype: str
    ckpt_dir: str
    completed: bool = True
    reused: bool = False  # loaded from a finished run in the cache, nothing trained
    resumed_from: int = 0  # step the run continued from (0: started fresh)
    lm: LM | None = field(default=None, repr=False)

    def numbers(self) -> dict:
        """Every field but ``lm``, as plain values (what ``result.json`` stores).

        Not ``dataclasses.asdict``: it deep-copies every field, ``lm`` too, i.e. the whole model. That
        copy (plus a reference cycle between peft's wrapper and the base model, so only the garbage
        collector frees it) was the unexplained +350 MB in notebook 02's full fine-tune.
        """
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), list) else v
            for f in fields(self)
            if f.name != "lm"
        }

    def summary(self) -> dict:
        """The run's figures for a table: no per-step lists, no cache path (it is this machine's)."""
        d = {k: v for k, v in self.numbers().items() if k not in ("losses", "epoch_ends", "ckpt_dir")}
        d["final_loss"] = self.losses[-1] if self.losses else float("nan")
        return d


def _data_hash(tokenized) -> str:
    return hashlib.sha256(json.dumps(tokenized).encode()).hexdigest()[:16]


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
    examples = [_as_example(ex, i) for i, ex in enumerate(examples or [])]
    if not examples:
        raise ValueError("the training set is empty: pass at least one example (see lk.make_examples).")
    if lm.adapter is not None:
        raise ValueError(f"fine-tune the base view (adapter=None), not {lm!r}: its adapter would train on top.")
    if cfg.tokens_per_step > lm.max_context:
        raise ContextTooLongError(
            f"FinetuneConfig.tokens_per_step={cfg.tokens_per_step} is longer than "
            f"the model's context of {lm.max_context} tokens: lower it."
        )
    tokenized = [tokenize_example(lm.tokenizer, ex, cfg.tokens_per_step) for ex in examples]
    key = {
        "cfg": asdict(cfg),
        "data": _data_hash(tokenized),
        "base": lm.fingerprint(),  # which weights, dtype and device: no machine path, so a moved cache is reused
        "code": module_digest(__name__),  # the training code: this loop and every labkit module it imports
    }
    start = _initial_adapter(init_from, cfg)
    if start is not None:
        key["init"] = hashlib.sha256(start.read_bytes()).hexdigest()[:16]
    ckpt = Path(out_dir) if out_dir else artifact_dir("ft", key)
    ckpt.mkdir(parents=True, exist_ok=True)
    model = _prepare_model(lm, cfg, adapter)
    if start is not None:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(model, load_file(start), adapter_name=adapter)
    opt = make_optimizer(model, cfg)
    done, last = ckpt / "final", recover(ckpt / "last")  # a crash mid-replace must not lose the checkpoint
    if (done / "result.json").exists():  # a finished run: load its weights, report its numbers
        load_trainable(model, cfg.method, load_tensors(done, "trainable"))
        saved = json.loads((done / "result.json").read_text())
        saved.update(reused=True, ckpt_dir=str(ckpt))  # where it lies now: the cache may have moved since
        return TrainResult(**saved, lm=_finish(lm, model))
    state = {
        "step": 0,
        "losses": [],
        "epoch_ends": [],
        "wall_s": 0.0,
        "train_s": 0.0,
        "tokens": 0,
        "target_tokens": 0,
        "flops": 0.0,
        "hw_flops": 0.0,
    }
    if (last / "trainer_state.json").exists():
        meta = load_checkpoint(last, model, opt, cfg.method)
        state = {k: meta.get(k, 0.0) for k in state}
    resumed_from = state["step"]
    return _train(lm, model, opt, cfg, tokenized, state, ckpt, resumed_from, stop_after, progress)


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


def _finish(lm: LM, model) -> LM:
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


def _train_step(model, row: Row, opt, cfg: FinetuneConfig, lr: float, device, adapters=()) -> float:
    for group in opt.param_groups:  # before backward: a StepInBackward optimizer steps inside it
        group["lr"] = lr
    keep = (row.labels != -100).nonzero().squeeze(1)  # (n_targets,) positions that carry a loss
    targets = row.labels[keep]
    extra = _bucket(len(keep)) - len(keep)  # pad to a multiple of 64 rows: a stable lm_head shape
    keep = torch.cat([keep, keep.new_full((extra,), row.input_ids.numel() - 1)])
    targets = torch.cat([targets, torch.full((extra,), -100)])  # -100: the padded rows carry no loss
    dtype = model.get_input_embeddings().weight.dtype  # the base weights' dtype (adapters are fp32)
    with lora_autocast(list(adapters), dtype, device.type):  # adapter matmuls in the base's dtype
        out = model(
            input_ids=row.input_ids[None].to(device),
            position_ids=row.position_ids[None].to(device),
            attention_mask=row_mask(row).to(device),  # (1, 1, T, T): own tokens + the shared start
            logits_to_keep=keep.to(device),  # logits only where needed: (1, n_kept, vocab)
            use_cache=False,
        )
        loss = F.cross_entropy(out.logits[0].float(), targets.to(device))  # mean over real targets only
        loss.backward()  # in the scope too: gradient checkpointing recomputes the forward here
    if not isinstance(opt, StepInBackward):  # (full fine-tuning has already stepped, in backward)
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return loss.item()


def _train(lm, model, opt, cfg, tokenized, state, ckpt, resumed_from, stop_after, progress) -> TrainResult:
    from tqdm.auto import tqdm

    device = lm.device
    prefix = shared_prompt_len(tokenized)  # system prompt + chat markup: processed once per row, not per example
    plan = [_epoch_rows(tokenized, cfg, e, prefix) for e in range(cfg.epochs)]  # (epochs, rows): cheap, exact
    total = sum(len(p) for p in plan)
    adapters = lora_layers(model)  # found once: walking 500 modules per step costs time
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    wall0, t_run, step = state["wall_s"], time.perf_counter(), 0
    bar = tqdm(total=total, initial=state["step"], disable=not progress, desc=f"{cfg.method} fine-tune")
    stopped = False
    with opt.hooked() if isinstance(opt, StepInBackward) else contextlib.nullcontext():
        for epoch, rows in enumerate(plan):
            for row in rows:
                step += 1
                if step <= state["step"]:
                    continue  # done before the interruption
                t0 = time.perf_counter()
                loss = _train_step(model, row, opt, cfg, lr_at(step - 1, cfg), device, adapters)
                state["train_s"] += time.perf_counter() - t0
                state["losses"].append(loss)
                state["tokens"] += row.input_ids.numel() - row.n_pad
                state["target_tokens"] += int((row.labels != -100).sum())
                state["flops"] += train_flops(model, row, cfg.method)
                state["hw_flops"] += train_flops(model, row, cfg.method, hardware=True)
                state["step"] = step
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", epoch=epoch + 1)
                end_of_epoch = row is rows[-1]
                if end_of_epoch:
                    state["epoch_ends"].append(step)
                if step % cfg.checkpoint_every == 0 or end_of_epoch or step == stop_after:
                    state["wall_s"] = wall0 + time.perf_counter() - t_run
                    save_checkpoint(ckpt / "last", model, opt, cfg.method, state)
                if end_of_epoch and cfg.method == "lora":  # small: keep each epoch's adapter for the knob
                    save_adapter(model, ckpt / f"epoch-{epoch + 1}")
                if step == stop_after:
                    stopped = True
                    break
            if stopped:
                break
    bar.close()
    state["wall_s"] = wall0 + time.perf_counter() - t_run
    if not stopped:  # saved before _result hands the model over for inference
        _save_final(ckpt, model, cfg)
    res = _result(lm, model, cfg, state, ckpt, completed=not stopped, resumed_from=resumed_from)
    if not stopped:
        (ckpt / "final" / "result.json").write_text(json.dumps(res.numbers()))
    return res


def _save_final(ckpt: Path, model, cfg: FinetuneConfig) -> None:
    final = ckpt / "final"
    final.mkdir(exist_ok=True)
    save_tensors(final, "trainable", trainable_state(model, cfg.method))
    if cfg.method == "lora":  # the standard peft folder too, for lk.load_adapter / PeftModel
        save_adapter(model, final / "adapter")


def _result(lm, model, cfg, state, ckpt, completed, resumed_from) -> TrainResult:
    device = lm.device
    peak = matmul_peak(lm.dtype, device)
    train_s = max(state["train_s"], 1e-9)
    gflops = state["flops"] / 1e9
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # The model: base weights + this run's trainable ones (other adapters sharing the base not counted).
    total = sum(p.numel() for n, p in model.named_parameters() if p.requires_grad or "lora_" not in n)
    return TrainResult(
        method=cfg.method,
        steps=state["step"],
        losses=list(state["losses"]),
        epoch_ends=list(state["epoch_ends"]),
        trainable_params=trainable,
        total_params=total,
        wall_s=state["wall_s"],
        train_s=state["train_s"],
        tokens=state["tokens"],
        target_tokens=state["target_tokens"],
        tokens_per_s=state["tokens"] / train_s,
        gflops=gflops,
        gflops_per_s=gflops / train_s,
        peak_gflops=peak,
        frac_peak=gflops / train_s / peak,
        hw_frac_peak=state["hw_flops"] / 1e9 / train_s / peak,
        peak_rss_mb=peak_rss_mb(),
        peak_cuda_mb=torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else 0.0,
        dtype=str(lm.dtype).split(".")[-1],
        ckpt_dir=str(ckpt),
        completed=completed,
        resumed_from=resumed_from,
        lm=_finish(lm, model),
    )
