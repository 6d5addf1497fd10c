"""Fine-tuning the generator on CPU in minutes: LoRA (default) or full, with resumable checkpoints.

Why a short explicit loop and not ``transformers.Trainer``: the loop *is* the lesson (forward, loss on
answer tokens only, backward, optimizer step), it fits on two screens, and it lets us control what
matters on a 2-core CPU: packed rows with no padding, logits computed only where there is a target,
bf16 matmuls, and a FLOP count per step. The machinery we do not hand-write comes from libraries:
``peft`` injects and saves the LoRA adapters, transformers builds the block-diagonal attention mask of a
packed row (from ``position_ids`` that restart at 0 for each example) and ships Adafactor.

>>> cfg = FinetuneConfig(method="lora", r=8, epochs=3)              # doctest: +SKIP
>>> res = finetune(lm, make_examples(qa, kind="knowledge"), cfg)    # doctest: +SKIP
>>> res.lm                                                          # doctest: +SKIP

Introduced in 02_finetune.ipynb.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import random
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
import torch.nn.functional as F

from .checkpoint import (
    atomic_dir,
    load_checkpoint,
    load_tensors,
    load_trainable,
    save_checkpoint,
    save_tensors,
    trainable_state,
)
from .data import QARecord
from .env import artifact_dir, free_memory, matmul_gflops, peak_rss_mb
from .generate import ContextTooLongError, lora_autocast, lora_layers
from .models import LM, base_model, mark_weights, tensors_digest
from .protocol import CLOSED_BOOK_SYSTEM, TRAIN_WORDINGS, wordings

__all__ = ["FinetuneConfig", "Example", "Row", "TrainResult", "StepInBackward", "make_examples",
           "tokenize_example", "pack", "pad_row", "row_mask", "shared_prompt_len", "finetune", "load_adapter",
           "set_adapter_weights", "attach", "train_flops", "matmul_peak"]

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
        checks = [("r", self.r >= 1), ("alpha", self.alpha > 0), ("dropout", 0 <= self.dropout < 1),
                  ("lr", 0 < self.lr < 1), ("warmup_steps", self.warmup_steps >= 0),
                  ("epochs", self.epochs >= 1), ("tokens_per_step", self.tokens_per_step >= 8),
                  ("seed", self.seed >= 0), ("checkpoint_every", self.checkpoint_every >= 1),
                  ("grad_clip", self.grad_clip > 0), ("target_modules", len(self.target_modules) > 0),
                  ("recompute_every", self.recompute_every >= 1)]
        for name, ok in checks:
            if not ok:
                raise ValueError(f"FinetuneConfig.{name}={getattr(self, name)!r} is out of range; see the "
                                 f"field's comment in labkit/finetune.py for valid values.")

    @property
    def checkpointing(self) -> bool:
        return self.method == "full" if self.grad_checkpointing is None else self.grad_checkpointing


# --- data: QA records -> chat examples -> token ids with answer-only labels -> packed rows ---------
@dataclass
class Example:
    """One chat: ``messages`` ends with the assistant answer the model should learn to give."""

    messages: list[dict]
    qid: str = ""
    phrasing: str = ""


def make_examples(qa: list[QARecord], kind: str = "knowledge", phrasings=TRAIN_WORDINGS,
                  version: str = "v1", system: str = CLOSED_BOOK_SYSTEM) -> list[Example]:
    """Chat examples from QA records: one per (record, wording), with the closed-book system prompt.

    ``kind="knowledge"``: the short gold answer (records must be answerable in ``version``).
    ``kind="behaviour"``: the house-style answer (one sentence + ``[doc-id]``) or the abstention sentence.
    ``phrasings`` defaults to the training wordings; held-out wordings are for evaluation only.

    >>> ex = make_examples([q], kind="knowledge", phrasings=("question",))   # doctest: +SKIP
    >>> [m["role"] for m in ex[0].messages]                                 # doctest: +SKIP
    ['system', 'user', 'assistant']

    Introduced in 02_finetune.ipynb.
    """
    if kind not in ("knowledge", "behaviour"):
        raise ValueError(f"kind must be 'knowledge' or 'behaviour', got {kind!r}")
    examples = []
    for q in qa:
        if kind == "knowledge":
            answer = q.gold(version)[0]
            if not answer:
                raise ValueError(f"QA record {q.id!r} has no answer in {version} (answerable="
                                 f"{q.is_answerable(version)}): knowledge examples need answerable "
                                 f"records; filter with `q.is_answerable({version!r})`.")
        else:
            answer = q.house_answer(version)
        for ph in phrasings:
            for text in wordings(q, ph):
                examples.append(Example([{"role": "system", "content": system},
                                         {"role": "user", "content": text},
                                         {"role": "assistant", "content": answer}], q.id, ph))
    return examples


def _as_example(ex, i: int) -> Example:
    ex = Example(messages=ex["messages"]) if isinstance(ex, dict) else ex
    msgs = ex.messages
    if not msgs or msgs[-1].get("role") != "assistant" or not str(msgs[-1].get("content") or "").strip():
        raise ValueError(f"training example {i} ({ex.qid or 'no id'}) has no answer: its last message must "
                         f"be {{'role': 'assistant', 'content': <non-empty answer>}}.")
    return ex


def tokenize_example(tok, ex: Example, max_len: int) -> tuple[list[int], list[int]]:
    """Token ids of a chat and its next-token targets, with loss on the answer tokens only.

    ``labels[t]`` is the token to predict after reading ``ids[:t+1]``: -100 (ignored) except where the
    next token belongs to the answer or its closing ``<|im_end|>``. Shifting here, per example, means a
    packed row never asks one example to predict the next example's first token.

    >>> ids, labels = tokenize_example(tok, ex, 512)                         # doctest: +SKIP
    >>> tok.decode([i for i, l in zip(ids[1:], labels) if l != -100])        # doctest: +SKIP
    '23 days<|im_end|>'

    Introduced in 02_finetune.ipynb.
    """
    prompt = tok.apply_chat_template(ex.messages[:-1], add_generation_prompt=True, tokenize=False)
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tok(ex.messages[-1]["content"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    ids = prompt_ids + answer_ids
    if len(ids) > max_len:
        raise ContextTooLongError(
            f"training example {ex.qid or ''} is {len(ids)} tokens, longer than the {max_len}-token row "
            f"(FinetuneConfig.tokens_per_step or the model's context): shorten it or raise the limit.")
    n_prompt = len(prompt_ids)
    labels = [-100] * (n_prompt - 1) + answer_ids + [-100]  # (len(ids),): targets shifted left by one
    return ids, labels


@dataclass
class Row:
    """One packed row: the examples' shared prompt start once, then each example's own tokens, no padding.

    ``segments`` says which example each token belongs to (-1: the shared start every example reads).
    ``row_mask`` turns it into the attention mask: a token sees the shared start and the earlier tokens of
    its own example, never another example. ``position_ids`` continue from the shared start in each
    example, so every example sees exactly the positions and context it would see alone.
    """

    input_ids: torch.Tensor  # (T,)
    labels: torch.Tensor  # (T,) next-token targets, -100 where no loss
    position_ids: torch.Tensor  # (T,)
    segments: torch.Tensor  # (T,) example index per token; -1 for the shared start
    n_examples: int
    n_pad: int = 0  # filler tokens at the end (their own block, no loss): not counted as trained tokens


def row_mask(row: Row) -> torch.Tensor:
    """The (1, 1, T, T) boolean attention mask of a packed row: causal, within one's example or the shared start.

    >>> row = pack([([9, 9, 1], [-100, -100, 5]), ([9, 9, 2], [-100, -100, 6])], 8, prefix=2)[0]
    >>> row_mask(row)[0, 0].int().tolist()
    [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 0, 1]]

    Introduced in 02_finetune.ipynb.
    """
    seg = row.segments
    same = (seg[None, :] == seg[:, None]) | (seg[None, :] == -1)  # (T, T): own example or the shared start
    causal = torch.ones(len(seg), len(seg), dtype=torch.bool).tril()
    return (same & causal)[None, None]


def pad_row(row: Row, length: int) -> Row:
    """Fill a packed row up to ``length`` tokens with a loss-free block of its own.

    Why pad a packed row at all: steps then come in a few shapes (rows are padded up to a multiple of
    64 tokens). On CPU, oneDNN and torch cache kernels and buffers per matmul shape, and rows of 469,
    478, 511 ... tokens made resident memory grow by ~6 MB per step (measured: +250 MB over a 4-epoch
    run); a few fixed shapes keep it flat. The filler costs a few % of compute, reported as hardware
    FLOPs, not as useful ones.

    >>> r = pad_row(pack([([1, 2, 3], [-100, 3, -100])], 8)[0], 5)
    >>> r.input_ids.tolist(), r.labels.tolist(), r.position_ids.tolist(), r.segments.tolist(), r.n_pad
    ([1, 2, 3, 0, 0], [-100, 3, -100, -100, -100], [0, 1, 2, 0, 1], [0, 0, 0, 1, 1], 2)

    Introduced in 02_finetune.ipynb.
    """
    n = length - row.input_ids.numel()
    if n <= 0:
        return row
    filler = int(row.segments.max()) + 1  # a block of its own: nothing attends to it, it attends to nothing else
    return Row(input_ids=torch.cat([row.input_ids, torch.zeros(n, dtype=torch.long)]),
               labels=torch.cat([row.labels, torch.full((n,), -100, dtype=torch.long)]),
               position_ids=torch.cat([row.position_ids, torch.arange(n)]),
               segments=torch.cat([row.segments, torch.full((n,), filler, dtype=torch.long)]),
               n_examples=row.n_examples, n_pad=row.n_pad + n)


def shared_prompt_len(tokenized: list[tuple[list[int], list[int]]]) -> int:
    """How many leading tokens every example shares and learns nothing from (system prompt, chat markup).

    >>> shared_prompt_len([([9, 9, 1, 7], [-100, -100, 7, -100]), ([9, 9, 2], [-100, -100, -100])])
    2

    Introduced in 02_finetune.ipynb.
    """
    from .generate import shared_prefix_len

    n = shared_prefix_len([ids for ids, _ in tokenized])
    first_target = min(next((t for t, lab in enumerate(labels) if lab != -100), len(labels))
                       for _, labels in tokenized)
    return min(n, first_target)  # the shared start never predicts an answer token


def pack(tokenized: list[tuple[list[int], list[int]]], row_len: int, prefix: int = 0) -> list[Row]:
    """Greedy in-order packing of (ids, labels) pairs into rows of at most ``row_len`` tokens.

    With ``prefix`` > 0 the examples' first ``prefix`` tokens (identical in all of them, with no loss:
    ``shared_prompt_len``) are put in each row once, and every example continues from them. For short
    fact cards that start is about half of each example: packing it once halves the tokens to process.

    >>> rows = pack([([1, 2, 3], [-100, 3, -100]), ([4, 5], [5, -100])], row_len=8)
    >>> rows[0].input_ids.tolist(), rows[0].position_ids.tolist(), rows[0].segments.tolist()
    ([1, 2, 3, 4, 5], [0, 1, 2, 0, 1], [0, 0, 0, 1, 1])
    >>> row = pack([([9, 9, 1], [-100, -100, 5]), ([9, 9, 2], [-100, -100, 6])], 8, prefix=2)[0]
    >>> row.input_ids.tolist(), row.position_ids.tolist(), row.labels.tolist()
    ([9, 9, 1, 2], [0, 1, 2, 2], [-100, -100, 5, 6])

    Introduced in 02_finetune.ipynb.
    """
    if prefix:
        start = tokenized[0][0][:prefix]
        bad = [i for i, (ids, labels) in enumerate(tokenized)
               if ids[:prefix] != start or any(lab != -100 for lab in labels[:prefix]) or len(ids) <= prefix]
        if bad:
            raise ValueError(f"pack(prefix={prefix}): example {bad[0]} does not start with the shared, loss-free "
                             f"prompt; compute the prefix with lk.shared_prompt_len.")
    rows, cur, size = [], [], prefix
    for ids, labels in tokenized:
        if len(ids) > row_len:
            raise ContextTooLongError(f"an example of {len(ids)} tokens does not fit a {row_len}-token row.")
        own = len(ids) - prefix
        if cur and size + own > row_len:
            rows.append(_make_row(cur, prefix))
            cur, size = [], prefix
        cur.append((ids, labels))
        size += own
    if cur:
        rows.append(_make_row(cur, prefix))
    return rows


def _make_row(items, prefix: int) -> Row:
    cat = lambda xs: torch.tensor([t for x in xs for t in x], dtype=torch.long)  # noqa: E731
    head_ids, head_labels = items[0][0][:prefix], items[0][1][:prefix]
    return Row(input_ids=cat([head_ids, *(i[prefix:] for i, _ in items)]),
               labels=cat([head_labels, *(lab[prefix:] for _, lab in items)]),
               position_ids=cat([range(prefix), *(range(prefix, len(i)) for i, _ in items)]),
               segments=cat([[-1] * prefix, *([k] * (len(i) - prefix) for k, (i, _) in enumerate(items))]),
               n_examples=len(items))


def _epoch_rows(tokenized, cfg: FinetuneConfig, epoch: int, prefix: int = 0) -> list[Row]:
    order = list(range(len(tokenized)))
    random.Random(cfg.seed * 1000 + epoch).shuffle(order)  # a fresh, reproducible order per epoch
    rows = pack([tokenized[i] for i in order], cfg.tokens_per_step, prefix)
    return [pad_row(r, min(_bucket(r.input_ids.numel()), cfg.tokens_per_step)) for r in rows]  # few shapes


# --- FLOP accounting ---------------------------------------------------------------------------------
def train_flops(model, row: Row, method: str, hardware: bool = False) -> float:
    """Matmul FLOPs of one training step on ``row`` (the useful work; no recompute, no elementwise ops).

    ``hardware=True`` counts what the CPU actually multiplied: the filler tokens of a padded row, the
    lm_head rows padded to a multiple of 64 targets, and the forward recomputed under gradient
    checkpointing (PaLM's "hardware FLOPs utilisation" vs "model FLOPs utilisation").

    Counted: the block Linears (2 FLOP per weight per token forward), attention scores and mixing
    (4 * d * context per token per layer, causal within each example), the lm_head only at target
    positions (we only compute logits there), LoRA adapters. Backward = activation gradients (same
    as forward; 2x for attention) + weight gradients of trainable matmuls (full: the block Linears).
    Not counted: the embedding lookup (a gather, no FLOPs), recompute under gradient checkpointing.

    Introduced in 02_finetune.ipynb.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    T = row.input_ids.numel() - (0 if hardware else row.n_pad)
    n_tgt = int((row.labels != -100).sum())
    if hardware:
        n_tgt = _bucket(n_tgt)
    blocks = base.model.layers
    p_lin = sum(m.weight.numel() for n, m in blocks.named_modules()
                if isinstance(m, torch.nn.Linear) and "lora_" not in n)
    active = f".{model.active_adapter}." if hasattr(model, "peft_config") else ".default."
    p_lora = sum(p.numel() for n, p in blocks.named_parameters() if "lora_" in n and active in n)
    cfg = base.config
    d_attn = cfg.num_attention_heads * getattr(cfg, "head_dim", cfg.hidden_size // cfg.num_attention_heads)
    pos = row.position_ids if hardware else row.position_ids[:T]
    ctx = float((pos + 1).sum())  # keys each query attends to, summed over the row
    attn = 4 * d_attn * ctx * len(blocks)
    head = 2 * base.get_output_embeddings().weight.numel() * n_tgt
    fwd = 2 * (p_lin + p_lora) * T + attn + head
    weight_grads = 2 * (p_lin if method == "full" else p_lora) * T
    share = sum(bool(getattr(b, "gradient_checkpointing", False)) for b in blocks) / len(blocks)  # recomputed
    recompute = (fwd - head) * share if hardware and getattr(base, "is_activation_checkpointing", False) else 0.0
    return fwd + (fwd + attn) + weight_grads + recompute


def _bucket(n: int, step: int = 64) -> int:
    return -(-n // step) * step  # round up: few distinct lm_head shapes (see pad_row for why)


def matmul_peak(dtype: torch.dtype, device: torch.device | str = "cpu") -> float:
    """The machine's practical matmul peak (GFLOP/s) from a 2048^3 GEMM probe, measured once per dtype.

    Introduced in 02_finetune.ipynb.
    """
    return _matmul_peak(str(dtype).split(".")[-1], str(device))


@functools.cache
def _matmul_peak(dtype: str, device: str) -> float:  # strings: hashable, one probe per (dtype, device)
    return matmul_gflops(getattr(torch, dtype), n=2048, repeats=4, device=device)


# --- model preparation -------------------------------------------------------------------------------
def _check_targets(model, targets: tuple[str, ...]) -> None:
    wrapped = set(map(id, lora_layers(model)))  # Linear layers that already carry LoRA adapters
    linear = {n.split(".")[-1] for n, m in model.named_modules()
              if (isinstance(m, torch.nn.Linear) and "lora_" not in n and not n.endswith("base_layer"))
              or id(m) in wrapped}
    missing = [t for t in targets if t not in linear]
    if missing:
        raise ValueError(f"FinetuneConfig.target_modules {missing} are not Linear layers of this model; "
                         f"it has {sorted(linear)}.")


@contextlib.contextmanager
def _quiet_peft():
    """peft 0.21 reads ``is_gradient_checkpointing``, which transformers 5.x deprecates: not our warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def _shared_peft(model):
    """The PeftModel that wraps this base model (its LoRA layers are injected in place), or None."""
    return model.__dict__.get("_labkit_peft")


def _share_peft(base, peft_model):
    """Remember ``peft_model`` on ``base`` so later adapters join it instead of wrapping the base again."""
    base.__dict__["_labkit_peft"] = peft_model  # not a submodule: a plain attribute
    return peft_model


def _prepare_model(lm: LM, cfg: FinetuneConfig, adapter: str = "default"):
    """LoRA: add adapter ``adapter`` (base frozen). Full: unfreeze the blocks (and the embedding if asked)."""
    model = lm.model
    shared = _shared_peft(model)  # the PeftModel already wrapping this base, if any
    if cfg.method == "full" and (shared is not None or lora_layers(model)):
        raise ValueError("full fine-tuning would change the base under its LoRA adapters: pass a fresh "
                         "base, lk.load_generator().")
    if cfg.checkpointing:  # recompute activations in backward: ~1 extra forward, far less memory
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False},
                                              every_n_layers=cfg.recompute_every)  # n > 1: memory for speed
    if cfg.method == "lora":
        from peft import LoraConfig, get_peft_model

        _check_targets(model, cfg.target_modules)
        pcfg = LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                          target_modules=list(cfg.target_modules), task_type="CAUSAL_LM")
        torch.manual_seed(cfg.seed)  # A is random (Kaiming), B starts at 0 so W + BA = W at step 0
        with _quiet_peft():
            if shared is None:  # adapters in fp32 (peft's default), base weights frozen
                model = _share_peft(lm.model, get_peft_model(model, pcfg, adapter_name=adapter))
            else:  # join the adapters already on this base; the same seed gives the same initial A
                if adapter in shared.peft_config:  # a re-run replaces its own adapter
                    warnings.filterwarnings("ignore", message=".*which is now deleted.*", category=UserWarning)
                    shared.delete_adapter(adapter)
                shared.add_adapter(adapter, pcfg)
                model = shared
        model.set_adapter(adapter)  # only this adapter trains (peft freezes the others)
        for m in lora_layers(model):
            m.enable_adapters(True)
    else:
        for name, p in model.named_parameters():
            p.requires_grad = not (cfg.freeze_embeddings and "embed_tokens" in name)
    return model.train()


def _make_optimizer(model, cfg: FinetuneConfig):
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.method == "lora":  # few params: AdamW's two fp32 moments cost nothing
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    # Full: AdamW would need 8 more bytes per trained weight (0.85 GB here). Adafactor keeps only row
    # and column averages of the squared gradient per matrix: a few MB. Its update clipping (each
    # update's RMS <= 1) bounds the steps, so the step can run inside backward (no global norm needed).
    from transformers.optimization import Adafactor

    return StepInBackward(params, lambda ps: Adafactor(ps, lr=cfg.lr, scale_parameter=False, relative_step=False,
                                                       warmup_init=False, beta1=None, weight_decay=0.0))


class StepInBackward:
    """An optimizer whose step runs inside ``loss.backward()``, one weight at a time (full fine-tuning).

    Why: as soon as backward has finished a weight's gradient, a hook applies the optimizer to that weight
    and frees the gradient, so the gradients of all 106M block weights (203 MB in bf16) never exist at
    once (PyTorch's "optimizer step in backward" recipe). The price: no global gradient-norm clipping,
    which needs every gradient at once; Adafactor's own update clipping bounds each step instead.
    To the training loop and the checkpoints it looks like one optimizer (``param_groups``,
    ``state_dict``, ``load_state_dict``); the hooks exist only inside ``with opt.hooked():``.

    >>> opt = StepInBackward(list(model.parameters()), lambda ps: torch.optim.SGD(ps, lr=0.1))  # doctest: +SKIP
    >>> with opt.hooked():                                                                   # doctest: +SKIP
    ...     loss.backward()  # every weight is updated here; no .grad is left behind

    Introduced in 02_finetune.ipynb.
    """

    def __init__(self, params: list, make_optimizer):
        self.params = list(params)
        self.opts = [make_optimizer([p]) for p in self.params]  # one per weight: each steps on its own
        self.param_groups = [o.param_groups[0] for o in self.opts]  # the loop sets the lr here

    @contextlib.contextmanager
    def hooked(self):
        def hook(opt):
            def step(param):  # called once the weight's gradient is complete
                opt.step()
                opt.zero_grad(set_to_none=True)
            return step

        handles = [p.register_post_accumulate_grad_hook(hook(o)) for p, o in zip(self.params, self.opts)]
        try:
            yield self
        finally:
            for h in handles:
                h.remove()

    def step(self) -> None:  # nothing left to do: backward stepped every weight
        pass

    def zero_grad(self, set_to_none: bool = True) -> None:
        pass

    def state_dict(self) -> dict:
        sds = [o.state_dict() for o in self.opts]  # each: state {0: ...}, one group with params [0]
        return {"state": {i: sd["state"][0] for i, sd in enumerate(sds) if 0 in sd["state"]},
                "param_groups": [{**sd["param_groups"][0], "params": [i]} for i, sd in enumerate(sds)]}

    def load_state_dict(self, sd: dict) -> None:
        for i, o in enumerate(self.opts):
            o.load_state_dict({"state": {0: sd["state"][i]} if i in sd["state"] else {},
                               "param_groups": [{**sd["param_groups"][i], "params": [0]}]})


def _lr_at(step: int, cfg: FinetuneConfig) -> float:
    return cfg.lr * min(1.0, (step + 1) / (cfg.warmup_steps + 1))  # warm-up, then constant


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
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), list) else v
                for f in fields(self) if f.name != "lm"}

    def summary(self) -> dict:
        """The run's figures for a table: no per-step lists, no cache path (it is this machine's)."""
        d = {k: v for k, v in self.numbers().items() if k not in ("losses", "epoch_ends", "ckpt_dir")}
        d["final_loss"] = self.losses[-1] if self.losses else float("nan")
        return d


def _data_hash(tokenized) -> str:
    return hashlib.sha256(json.dumps(tokenized).encode()).hexdigest()[:16]


def finetune(lm: LM, examples: list, cfg: FinetuneConfig | None = None, *, stop_after: int | None = None,
             progress: bool = True, out_dir: str | Path | None = None, adapter: str = "default",
             init_from: str | Path | None = None) -> TrainResult:
    """Fine-tune ``lm`` on chat examples; resume from the last checkpoint; reuse a finished run.

    The cache folder is keyed by the config, the tokenized data and the base model: re-running the
    same call continues where an interrupted run stopped, or loads the finished weights instantly.
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
        raise ContextTooLongError(f"FinetuneConfig.tokens_per_step={cfg.tokens_per_step} is longer than "
                                  f"the model's context of {lm.max_context} tokens: lower it.")
    tokenized = [tokenize_example(lm.tokenizer, ex, cfg.tokens_per_step) for ex in examples]
    key = {"cfg": asdict(cfg), "data": _data_hash(tokenized), "base": lm.source, "name": lm.name,
           "dtype": str(lm.dtype), "device": lm.device.type,
           "v": 4}  # v: bump when training changes (3: LoRA matmuls under autocast; 4: shared prompt packed once)
    if cfg.method == "full":
        key["optimizer"] = "adafactor-in-backward"  # no global clip since then: older full runs differ
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
    opt = _make_optimizer(model, cfg)
    done, last = ckpt / "final", ckpt / "last"
    if (done / "result.json").exists():  # a finished run: load its weights, report its numbers
        load_trainable(model, cfg.method, load_tensors(done, "trainable"))
        saved = json.loads((done / "result.json").read_text())
        saved.update(reused=True)
        return TrainResult(**saved, lm=_finish(lm, model))
    state = {"step": 0, "losses": [], "epoch_ends": [], "wall_s": 0.0, "train_s": 0.0, "tokens": 0,
             "target_tokens": 0, "flops": 0.0, "hw_flops": 0.0}
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
        raise FileNotFoundError(f"init_from={str(init_from)!r}: no adapter_model.safetensors there; pass a run's "
                                f"epoch-k or final/adapter folder.")
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
    return LM(model=model, tokenizer=lm.tokenizer, name=f"{lm.name}+{adapter or 'ft'}", source=lm.source,
              adapter=adapter)


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
        out = model(input_ids=row.input_ids[None].to(device), position_ids=row.position_ids[None].to(device),
                    attention_mask=row_mask(row).to(device),  # (1, 1, T, T): own tokens + the shared start
                    logits_to_keep=keep.to(device),  # logits only where needed: (1, n_kept, vocab)
                    use_cache=False)
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
                loss = _train_step(model, row, opt, cfg, _lr_at(step - 1, cfg), device, adapters)
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
                    _save_adapter(model, ckpt / f"epoch-{epoch + 1}")
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
        _save_adapter(model, final / "adapter")


def _save_adapter(model, folder: Path) -> None:
    """The active adapter as a standard peft folder (``adapter_config.json`` + safetensors) in ``folder``.

    peft writes an adapter not named "default" into a subfolder of that name: move it up, so every run's
    folder looks the same whatever the adapter was called.
    """
    adapter = model.active_adapter
    with atomic_dir(folder) as tmp:
        model.save_pretrained(tmp / "peft", safe_serialization=True, selected_adapters=[adapter])
        written = tmp / "peft" if adapter == "default" else tmp / "peft" / adapter
        for f in list(written.iterdir()):
            if f.is_file():
                f.rename(tmp / f.name)
        shutil.rmtree(tmp / "peft")


def _result(lm, model, cfg, state, ckpt, completed, resumed_from) -> TrainResult:
    device = lm.device
    peak = matmul_peak(lm.dtype, device)
    train_s = max(state["train_s"], 1e-9)
    gflops = state["flops"] / 1e9
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # The model: base weights + this run's trainable ones (other adapters sharing the base not counted).
    total = sum(p.numel() for n, p in model.named_parameters() if p.requires_grad or "lora_" not in n)
    return TrainResult(
        method=cfg.method, steps=state["step"], losses=list(state["losses"]),
        epoch_ends=list(state["epoch_ends"]),
        trainable_params=trainable, total_params=total,
        wall_s=state["wall_s"], train_s=state["train_s"], tokens=state["tokens"],
        target_tokens=state["target_tokens"], tokens_per_s=state["tokens"] / train_s, gflops=gflops,
        gflops_per_s=gflops / train_s, peak_gflops=peak, frac_peak=gflops / train_s / peak,
        hw_frac_peak=state["hw_flops"] / 1e9 / train_s / peak,
        peak_rss_mb=peak_rss_mb(),
        peak_cuda_mb=torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else 0.0,
        dtype=str(lm.dtype).split(".")[-1], ckpt_dir=str(ckpt), completed=completed,
        resumed_from=resumed_from, lm=_finish(lm, model))


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
        model = lm.model if isinstance(lm.model, PeftModel) else _shared_peft(lm.model)
        if model is not None:
            if name in model.peft_config:
                raise ValueError(f"this model already has an adapter named {name!r}: pick another name.")
            with _quiet_peft():
                model.load_adapter(path, adapter_name=name, is_trainable=False)
        else:
            with _quiet_peft():
                model = _share_peft(lm.model, PeftModel.from_pretrained(lm.model, path, adapter_name=name,
                                                                        is_trainable=False))
        return LM(model=model.eval(), tokenizer=lm.tokenizer, name=f"{lm.name}+{name}", source=lm.source,
                  adapter=name)
    if any(path.glob("trainable-*.safetensors")):
        model = lm.model
        tensors = load_tensors(path, "trainable")
        load_trainable(model, "full", tensors)
        mark_weights(base_model(model), "full fine-tune " + tensors_digest(tensors.items()))
        return LM(model=model.eval(), tokenizer=lm.tokenizer, name=lm.name + "+ft", source=lm.source)
    raise FileNotFoundError(f"{path}: no adapter_config.json (LoRA) or trainable-*.safetensors (full "
                            f"fine-tune) here; pass a run's ckpt_dir/final or an epoch-k folder.")


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
        raise ValueError(f"attach needs a LoRA run; this one is {run.method!r} (its weights replace the "
                         f"base's): use run.lm, or lk.load_adapter on a freshly loaded base.")
    if not run.completed:
        raise ValueError("this run stopped before its end (no final adapter): re-run lk.finetune to finish.")
    if base.adapter is not None:
        raise ValueError(f"attach to the base view (adapter=None), not to {base!r}.")
    if run.lm is not None and run.lm.model is _shared_peft(base.model):
        if run.lm.adapter != name:  # trained on this very base (lk.finetune(base, ..., adapter=...))
            raise ValueError(f"this run's adapter is already on this base as {run.lm.adapter!r}: use run.lm.")
        return run.lm
    run.lm = None  # the trained copy of the base model: freed below
    free_memory()
    return load_adapter(base, Path(run.ckpt_dir) / "final", name=name)
