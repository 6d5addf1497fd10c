"""Batched greedy chat generation with a latency split (prefill vs decode) and token counts.

Introduced in 00_setup_and_tour.ipynb.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import torch

from .env import trim_heap
from .models import LM


class ContextTooLongError(ValueError):
    """A prompt does not fit the model's context window."""


@dataclass
class Generation:
    """One answer and what it cost. Times are seconds per query, amortised over its batch."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    t_prefill: float  # time to first token (one forward over the whole prompt)
    t_decode: float  # time for the remaining tokens, one forward each


class _FirstTokenClock:
    """A logits processor that notes when the first step's logits exist, i.e. when prefill ended."""

    def __init__(self):
        self.first = None

    def __call__(self, input_ids, scores):
        if self.first is None:
            self.first = time.perf_counter()
        return scores


Message = dict  # {"role": "user"|"system"|"assistant", "content": str}


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


def as_messages(prompt: str | list[Message], system: str | None = None) -> list[Message]:
    """A plain string becomes one user turn; an optional system turn goes first.

    >>> as_messages("Hi", system="Be brief.")
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi'}]

    Introduced in 00_setup_and_tour.ipynb.
    """
    msgs = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
    if system is not None and (not msgs or msgs[0]["role"] != "system"):
        msgs = [{"role": "system", "content": system}] + msgs
    return msgs


@torch.inference_mode()
def chat_generate(lm: LM, prompts: list[str | list[Message]], max_new_tokens: int = 48,
                  batch_size: int = 8, system: str | None = None) -> list[Generation]:
    """Greedy answers to chat prompts, in batches (left-padded), with timing and token counts.

    >>> out = chat_generate(lm, ["What is 2 + 2?"], max_new_tokens=8)   # doctest: +SKIP
    >>> out[0].text                                                        # doctest: +SKIP
    '2 + 2 = 4'

    Greedy decoding makes answers deterministic for a given model, dtype and batch.
    Raises ContextTooLongError naming the prompt that does not fit.

    Introduced in 00_setup_and_tour.ipynb.
    """
    if max_new_tokens <= 0:
        raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    tok = lm.tokenizer
    texts = [tok.apply_chat_template(as_messages(p, system), add_generation_prompt=True, tokenize=False)
             for p in prompts]
    lengths = [len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts]
    for i, n in enumerate(lengths):
        if n + max_new_tokens > lm.max_context:
            raise ContextTooLongError(
                f"prompt {i} is {n} tokens; with max_new_tokens={max_new_tokens} it exceeds the model's "
                f"context of {lm.max_context} tokens. Shorten the question or use fewer/shorter passages.")
    # Batch prompts of similar length together: a batch is left-padded to its longest prompt, and
    # padding is compute thrown away (mixed RAG prompts of 300-800 tokens wasted ~20% of prefill).
    order = sorted(range(len(texts)), key=lambda i: lengths[i])  # stable: ties keep their order
    texts, lengths = [texts[i] for i in order], [lengths[i] for i in order]
    results: list[Generation] = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start:start + batch_size]
        enc = tok(batch, return_tensors="pt", padding=True, add_special_tokens=False).to(lm.device)
        clock = _FirstTokenClock()
        t0 = time.perf_counter()
        with adapter_scope(lm):
            out = lm.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                    logits_processor=[clock], pad_token_id=tok.pad_token_id)
        t_end = time.perf_counter()
        first = clock.first or t_end
        new = out[:, enc["input_ids"].shape[1]:]  # (batch, new_tokens)
        n = len(batch)
        stops = {tok.eos_token_id, tok.pad_token_id}
        for row, n_prompt in zip(new.tolist(), lengths[start:start + n]):
            # The answer ends at its first end/pad token; count that token too (the model produced it).
            end = next((i for i, t in enumerate(row) if t in stops), None)
            answer = row if end is None else row[:end]
            results.append(Generation(
                text=tok.decode(answer, skip_special_tokens=True).strip(),
                prompt_tokens=n_prompt, completion_tokens=len(row) if end is None else end + 1,
                t_prefill=(first - t0) / n, t_decode=(t_end - first) / n))
    trim_heap()  # KV caches and attention buffers are freed now: give their pages back (~5 ms)
    restored: list[Generation] = [None] * len(results)  # type: ignore[list-item]
    for i, g in zip(order, results):
        restored[i] = g
    return restored
