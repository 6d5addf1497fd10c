"""Batched greedy chat generation with a latency split (prefill vs decode) and token counts.

Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import torch

from .extractive import CopyConstraint
from .lora import adapter_scope
from .memory import trim_heap
from .models import LM, ContextTooLongError
from .packing import shared_prefix_len

__all__ = ["BATCH_SIZE", "Generation", "FirstTokenBias", "chat_generate"]

# Prompts decoded together, for every approach in the workbook (lk.ClosedBook, lk.RAGConfig, lk.HybridPipeline),
# so their throughput and cost compare like for like; lk.CostModel.batch_size reads it too, since a record's
# seconds per query are its batch's time divided by this.
BATCH_SIZE = 8


@dataclass
class Generation:
    """One answer and what it cost. Times are seconds per query, amortised over its batch.

    Introduced in 00_setup_and_tour.ipynb.
    """

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


class FirstTokenBias:
    """A logits processor that adds ``bias[token]`` to those tokens' logits at the answer's first step only.

    A negative bias on the first token of the abstention sentence makes a model decline less readily: a
    threshold on its own "I don't know", which ``lk.tune_decline_bias`` chooses on dev.

    >>> FirstTokenBias({1: -2.0}, width=3)(torch.zeros(1, 3), torch.zeros(1, 4)).tolist()
    [[0.0, -2.0, 0.0, 0.0]]

    Introduced in 03_hybrid.ipynb.
    """

    def __init__(self, bias: dict[int, float], width: int):
        self.ids, self.values, self.width = list(bias), list(bias.values()), width

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] == self.width:  # no answer token yet: this is the first step
            scores = scores.clone()
            scores[:, self.ids] += torch.tensor(self.values, dtype=scores.dtype, device=scores.device)
        return scores


Message = dict  # {"role": "user"|"system"|"assistant", "content": str}


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


PREFILL_TOKENS = 1024  # rows x longest row per prefill forward: a few long RAG prompts, or 16 short ones
# Prefill widths are rounded up to a multiple of this (padding, masked): fewer distinct matmul shapes,
# so fewer kernels for oneDNN to compile and keep (04's 152 RAG + hybrid answers: 51 vs 57 s, ~50 MB less).
PREFILL_BUCKET = 64


def _extend(model, cache, ids: list[int]) -> None:
    """Run ``ids`` (one sequence) through the model on top of ``cache``; their keys/values join it."""
    model(
        input_ids=torch.tensor([ids], device=model.device), past_key_values=cache, use_cache=True, logits_to_keep=1
    )  # the logits are not needed: 1 position instead of len(ids) x 49k


def _groups(lengths: list[int], budget: int | None = None) -> list[list[int]]:
    """Consecutive rows (sorted by length) packed so that rows x longest <= budget; at least one row.

    >>> _groups([10, 10, 300, 400, 400], budget=800)
    [[0, 1], [2, 3], [4]]
    """
    budget = PREFILL_TOKENS if budget is None else budget
    groups: list[list[int]] = []
    for i, n in enumerate(lengths):
        if groups and (len(groups[-1]) + 1) * max(n, 1) <= budget:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


@functools.cache
def _roomy_layer():
    """``RoomyLayer(K, V, n)``: a cache layer whose keys/values sit in a buffer with room for the answer.

    A decode step writes its one new column in place, where ``DynamicLayer`` copies the whole cache:
    145 -> 112 ms per batch-8 step over 450-token prompts in float32, but whole workloads of the workbook
    change by 0-5% (decode there is mostly reading the weights); the copy costs most when a layer's cache
    passes glibc's mmap threshold (``lk.limit_heap_slack``) and every copy faults in fresh pages. Attention
    sees the same values in the same shapes, so answers are unchanged. Out of room, it grows as
    ``DynamicLayer`` does.
    A class made on first use: transformers loads only when a model does.
    """
    from transformers.cache_utils import DynamicLayer

    class RoomyLayer(DynamicLayer):  # a DynamicLayer to generate(): same length, mask and crop logic
        def __init__(self, K: torch.Tensor, V: torch.Tensor, n: int):
            super().__init__()
            self.dtype, self.device, self.is_initialized = K.dtype, K.device, True
            self.room_k, self.room_v, self.n = K, V, n  # (rows, kv_heads, n + room, head_dim)
            self.keys, self.values = K[:, :, :n], V[:, :, :n]  # views: what attention reads

        def update(self, key_states, value_states, *args, **kwargs):
            m = self.n + key_states.shape[-2]
            if m > self.room_k.shape[-2]:  # out of room (never in chat_generate): grow by copying
                self.room_k = torch.cat([self.room_k[:, :, : self.n], key_states], dim=-2)
                self.room_v = torch.cat([self.room_v[:, :, : self.n], value_states], dim=-2)
            else:
                self.room_k[:, :, self.n : m], self.room_v[:, :, self.n : m] = key_states, value_states
            self.n, self.keys, self.values = m, self.room_k[:, :, :m], self.room_v[:, :, :m]
            return self.keys, self.values

    return RoomyLayer


def _prefill(model, rows: list[list[int]], prefix: list | None, n_prefix: int, room: int = 0):
    """Prefill a decode batch: each row is ``[shared prefix | padding | own tokens]``, all but its last token.

    The prefix's keys/values are copied in; the rows' own tokens run in small groups (``_groups``), so a
    long prompt never waits for padding and short ones still share a forward. Returns the cache (with
    ``room`` more columns allocated per layer, for the tokens ``generate`` adds: ``_roomy_layer``) and the
    (rows, prefix + width + 1) attention mask for ``generate``, whose last column is each prompt's last
    token: ``generate`` processes only that one and continues from the cache.
    """
    from transformers import DynamicCache

    cfg, dev = model.config, model.device
    own = [r[n_prefix:-1] for r in rows]  # each row's tokens after the prefix, minus the last
    width = max(len(o) for o in own)
    total = n_prefix + width
    mask = torch.zeros(len(rows), total + 1, dtype=torch.long, device=dev)
    mask[:, :n_prefix], mask[:, -1] = 1, 1
    if total == 0:
        return None, mask

    def blank(layers):  # per layer: zeroed (rows, kv_heads, prefix + width + room, head_dim), like layers'
        return [[x.new_zeros(len(rows), x.shape[1], total + room, x.shape[3]) for x in kv] for kv in layers]

    kv = blank(prefix) if prefix else None
    for (K, V), (k, v) in zip(kv or [], prefix or []):
        K[:, :, :n_prefix], V[:, :, :n_prefix] = k, v  # (1, kv_heads, n_prefix, head_dim), broadcast
    for group in _groups([len(o) for o in own]):
        w = max(len(own[i]) for i in group)
        if w == 0:
            continue
        w = min(-(-w // PREFILL_BUCKET) * PREFILL_BUCKET, width)  # never wider than the batch
        ids = torch.zeros(len(group), w, dtype=torch.long, device=dev)  # 0: any id, masked out
        gmask = torch.zeros(len(group), w, dtype=torch.long, device=dev)  # left padding inside the group
        for j, i in enumerate(group):
            if own[i]:
                ids[j, w - len(own[i]) :], gmask[j, w - len(own[i]) :] = torch.tensor(own[i]), 1
        cache = DynamicCache(config=cfg)
        for layer, (k, v) in enumerate(prefix or []):
            cache.update(k.expand(len(group), -1, -1, -1), v.expand(len(group), -1, -1, -1), layer)
        model(
            input_ids=ids,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
            attention_mask=torch.cat([mask[group, :n_prefix], gmask], dim=1),
            position_ids=n_prefix + (gmask.cumsum(-1) - 1).clamp(min=0),
        )  # positions skip the padding
        kv = kv or blank([(layer.keys, layer.values) for layer in cache.layers])
        for (K, V), layer in zip(kv, cache.layers):
            K[group, :, total - w : total] = layer.keys[:, :, n_prefix:]
            V[group, :, total - w : total] = layer.values[:, :, n_prefix:]
        mask[group, total - w : total] = gmask
    cache = DynamicCache(config=cfg)
    for layer in range(len(kv)):  # hand the buffers over: never two copies of the batch cache
        (K, V), kv[layer] = kv[layer], None
        cache.layers[layer] = _roomy_layer()(K, V, total)
    return cache, mask


@torch.inference_mode()
def chat_generate(
    lm: LM,
    prompts: list[str | list[Message]],
    max_new_tokens: int = 48,
    batch_size: int = BATCH_SIZE,
    system: str | None = None,
    sources: list[list[str]] | None = None,
    first_bias: dict[int, float] | None = None,
) -> list[Generation]:
    """Greedy answers to chat prompts, ``batch_size`` decoded together, with timing and token counts.

    >>> out = chat_generate(lm, ["What is 2 + 2?"], max_new_tokens=8)   # doctest: +SKIP
    >>> out[0].text                                                        # doctest: +SKIP
    '2 + 2 = 4'

    How (each step measured on notebook 04's RAG prompts, ~420 tokens, 2-core CPU):

    1. The tokens every prompt starts with (system prompt, worked examples) go through the model once;
       each prompt reuses their keys/values (prefix caching, as serving engines do).
    2. The prompts' own tokens are prefilled a few at a time (``PREFILL_TOKENS``), by length: little
       compute goes to padding, and small prefill batches are the fastest here (1,170-1,220 tokens/s
       at 1-4 prompts of 400 tokens, 1,100 at 8, 880 at 16).
    3. The batch then decodes together: a decode step costs about the same for 8 or 16 prompts
       (it reads all the weights once), so larger batches make each answer cheaper. Each step writes
       its keys/values into room the prefill left (``_roomy_layer``) instead of copying the whole cache.

    Together, notebook 04's 44 RAG answers take 20-23 s instead of 29-34 s for one ``generate()`` per
    left-padded batch of 8 (``benchmarks/bench_generate.py``). In bf16, 10 of the 44 answers differ from
    that recipe's: sums in another order flip some greedy choices (in fp32, 16 of 16 RAG and
    closed-book answers agree; the tests check it on a tiny model).
    Greedy decoding makes answers deterministic for a given model, dtype and batch.
    ``sources``: per prompt, texts its answer must be copied from (``lk.CopyConstraint``: extractive
    decoding); None: free generation. ``first_bias``: token id -> logit bias at each answer's first step
    (``FirstTokenBias``).
    Raises ContextTooLongError naming the prompt that does not fit.

    Introduced in 00_setup_and_tour.ipynb.
    """
    if max_new_tokens <= 0:
        raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if sources is not None and len(sources) != len(prompts):
        raise ValueError(f"sources: one list of texts per prompt, got {len(sources)} for {len(prompts)} prompts")
    from transformers import DynamicCache

    tok, model = lm.tokenizer, lm.model
    texts = [
        tok.apply_chat_template(as_messages(p, system), add_generation_prompt=True, tokenize=False) for p in prompts
    ]
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    for i, row in enumerate(ids):
        if len(row) + max_new_tokens > lm.max_context:
            raise ContextTooLongError(
                f"prompt {i} is {len(row)} tokens; with max_new_tokens={max_new_tokens} it exceeds the model's "
                f"context of {lm.max_context} tokens. Shorten the question or use fewer/shorter passages."
            )
    # Decode prompts of similar length together: fewer padded positions in every decode step.
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # stable: ties keep their order
    n_prefix = shared_prefix_len(ids)
    stops = {tok.eos_token_id, tok.pad_token_id}
    results: list[Generation] = [None] * len(ids)  # type: ignore[list-item]
    with adapter_scope(lm):  # the adapter changes the prefix's keys/values too
        t0 = time.perf_counter()
        prefix = None
        if n_prefix:
            cache = DynamicCache(config=model.config)
            _extend(model, cache, ids[0][:n_prefix])
            prefix = [(layer.keys, layer.values) for layer in cache.layers]
        t_prefix = (time.perf_counter() - t0) / len(ids)  # shared by all prompts
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            clock = _FirstTokenClock()
            t0 = time.perf_counter()
            cache, mask = _prefill(model, [ids[i] for i in rows], prefix, n_prefix, room=max_new_tokens)
            width = mask.shape[1]
            processors = [clock]
            if first_bias:
                processors.append(FirstTokenBias(first_bias, width))
            if sources is not None:  # after the clock: the first token's time is unchanged
                processors.append(CopyConstraint(tok, [sources[i] for i in rows], width, stops))
            input_ids = torch.full(mask.shape, tok.pad_token_id, dtype=torch.long, device=lm.device)
            input_ids[:, -1] = torch.tensor([ids[i][-1] for i in rows])  # the rest is in the cache
            out = model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                past_key_values=cache,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                logits_processor=processors,
                pad_token_id=tok.pad_token_id,
            )
            t_end = time.perf_counter()
            first, n = clock.first or t_end, len(rows)
            for row, i in zip(out[:, width:].tolist(), rows):  # (batch, new_tokens)
                # The answer ends at its first end/pad token; count that token too (the model produced it).
                end = next((j for j, t in enumerate(row) if t in stops), None)
                results[i] = Generation(
                    text=tok.decode(row if end is None else row[:end], skip_special_tokens=True).strip(),
                    prompt_tokens=len(ids[i]),
                    completion_tokens=len(row) if end is None else end + 1,
                    t_prefill=(first - t0) / n + t_prefix,
                    t_decode=(t_end - first) / n,
                )
            del cache, out
    trim_heap()  # KV caches and attention buffers are freed now: give their pages back (~5 ms)
    return results
