"""Training data for fine-tuning: QA records -> chat examples -> token ids with answer-only labels -> rows.

* ``make_examples``: fact cards (knowledge), house-style answers and abstentions (behaviour), from the
  train wordings only (``lk.TRAIN_WORDINGS``): no held-out wording is ever trained on.
* ``tokenize_example``: the chat template; labels are -100 except on the answer (the loss sees only it).
* ``pack``: examples side by side in rows of a fixed token budget, no padding; the shared system prompt
  once per row (``shared_prompt_len``), each example attending to it and to itself only (``row_mask``).

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from .data import CLOSED_BOOK_SYSTEM, TRAIN_WORDINGS, QARecord, wordings
from .models import ContextTooLongError

__all__ = [
    "Example",
    "make_examples",
    "as_example",
    "tokenize_example",
    "Row",
    "row_mask",
    "pad_row",
    "shared_prefix_len",
    "shared_prompt_len",
    "pack",
    "epoch_rows",
    "loss_positions",
    "bucket_len",
]


# --- data: QA records -> chat examples -> token ids with answer-only labels -> packed rows ---------
@dataclass
class Example:
    """One chat: ``messages`` ends with the assistant answer the model should learn to give.

    Introduced in 02_finetune.ipynb.
    """

    messages: list[dict]
    qid: str = ""
    phrasing: str = ""


def make_examples(
    qa: list[QARecord],
    kind: str = "knowledge",
    phrasings=TRAIN_WORDINGS,
    version: str = "v1",
    system: str = CLOSED_BOOK_SYSTEM,
) -> list[Example]:
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
                raise ValueError(
                    f"QA record {q.id!r} has no answer in {version} (answerable="
                    f"{q.is_answerable(version)}): knowledge examples need answerable "
                    f"records; filter with `q.is_answerable({version!r})`."
                )
        else:
            answer = q.house_answer(version)
        for ph in phrasings:
            for text in wordings(q, ph):
                examples.append(
                    Example(
                        [
                            {"role": "system", "content": system},
                            {"role": "user", "content": text},
                            {"role": "assistant", "content": answer},
                        ],
                        q.id,
                        ph,
                    )
                )
    return examples


def as_example(ex, i: int) -> Example:
    """Training example ``i`` as an ``Example`` (a ``{"messages": [...]}`` dict too), checked to end with an answer.

    >>> as_example({"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hi."}]}, 0).qid
    ''

    Introduced in 02_finetune.ipynb.
    """
    ex = Example(messages=ex["messages"]) if isinstance(ex, dict) else ex
    msgs = ex.messages
    if not msgs or msgs[-1].get("role") != "assistant" or not str(msgs[-1].get("content") or "").strip():
        raise ValueError(
            f"training example {i} ({ex.qid or 'no id'}) has no answer: its last message must "
            f"be {{'role': 'assistant', 'content': <non-empty answer>}}."
        )
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
            f"(FinetuneConfig.tokens_per_step or the model's context): shorten it or raise the limit."
        )
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

    Introduced in 02_finetune.ipynb.
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
    return Row(
        input_ids=torch.cat([row.input_ids, torch.zeros(n, dtype=torch.long)]),
        labels=torch.cat([row.labels, torch.full((n,), -100, dtype=torch.long)]),
        position_ids=torch.cat([row.position_ids, torch.arange(n)]),
        segments=torch.cat([row.segments, torch.full((n,), filler, dtype=torch.long)]),
        n_examples=row.n_examples,
        n_pad=row.n_pad + n,
    )


def shared_prefix_len(rows: list[list[int]]) -> int:
    """How many leading tokens every prompt shares, leaving each prompt at least one token of its own.

    >>> shared_prefix_len([[1, 2, 3, 4], [1, 2, 5]])
    2
    >>> shared_prefix_len([[7, 8, 9]])  # one prompt: all of it but the last token
    2

    Introduced in 01_rag.ipynb.
    """
    first, limit = rows[0], min(len(r) for r in rows) - 1
    n = 0
    while n < limit and all(r[n] == first[n] for r in rows):
        n += 1
    return n


def shared_prompt_len(tokenized: list[tuple[list[int], list[int]]]) -> int:
    """How many leading tokens every example shares and learns nothing from (system prompt, chat markup).

    >>> shared_prompt_len([([9, 9, 1, 7], [-100, -100, 7, -100]), ([9, 9, 2], [-100, -100, -100])])
    2

    Introduced in 02_finetune.ipynb.
    """
    n = shared_prefix_len([ids for ids, _ in tokenized])
    first_target = min(next((t for t, lab in enumerate(labels) if lab != -100), len(labels)) for _, labels in tokenized)
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
        bad = [
            i
            for i, (ids, labels) in enumerate(tokenized)
            if ids[:prefix] != start or any(lab != -100 for lab in labels[:prefix]) or len(ids) <= prefix
        ]
        if bad:
            raise ValueError(
                f"pack(prefix={prefix}): example {bad[0]} does not start with the shared, loss-free "
                f"prompt; compute the prefix with lk.shared_prompt_len."
            )
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
    return Row(
        input_ids=cat([head_ids, *(i[prefix:] for i, _ in items)]),
        labels=cat([head_labels, *(lab[prefix:] for _, lab in items)]),
        position_ids=cat([range(prefix), *(range(prefix, len(i)) for i, _ in items)]),
        segments=cat([[-1] * prefix, *([k] * (len(i) - prefix) for k, (i, _) in enumerate(items))]),
        n_examples=len(items),
    )


def epoch_rows(tokenized: list[tuple[list[int], list[int]]], row_len: int, seed: int, epoch: int, prefix: int = 0):
    """One epoch's training rows: the examples in a fresh order (reproducible from ``seed`` and ``epoch``),
    packed (``pack``), each row padded up to a multiple of 64 tokens (``pad_row``: few step shapes).

    >>> rows = epoch_rows([([1, 2, 3], [-100, 3, -100]), ([4, 5], [5, -100])], 128, seed=0, epoch=0)
    >>> len(rows), rows[0].input_ids.numel(), rows[0].n_pad
    (1, 64, 59)

    Introduced in 02_finetune.ipynb.
    """
    order = list(range(len(tokenized)))
    random.Random(seed * 1000 + epoch).shuffle(order)  # a fresh, reproducible order per epoch
    rows = pack([tokenized[i] for i in order], row_len, prefix)
    return [pad_row(r, min(bucket_len(r.input_ids.numel()), row_len)) for r in rows]


def loss_positions(row: Row) -> tuple[torch.Tensor, torch.Tensor]:
    """Where a training step computes logits, and their targets: the answer positions, padded with the
    row's last position (target -100, no loss) to a multiple of 64, so the lm_head sees few shapes.

    >>> keep, targets = loss_positions(pack([([1, 2, 3], [-100, 3, -100])], 8)[0])
    >>> keep.shape, keep[:2].tolist(), targets[:2].tolist()
    (torch.Size([64]), [1, 2], [3, -100])

    Introduced in 02_finetune.ipynb.
    """
    keep = (row.labels != -100).nonzero().squeeze(1)  # (n_targets,) positions that carry a loss
    targets = row.labels[keep]  # (n_targets,)
    extra = bucket_len(len(keep)) - len(keep)  # pad to a multiple of 64 rows: a stable lm_head shape
    keep = torch.cat([keep, keep.new_full((extra,), row.input_ids.numel() - 1)])  # (n_kept,)
    targets = torch.cat([targets, torch.full((extra,), -100)])  # (n_kept,) -100: padded rows carry no loss
    return keep, targets


def bucket_len(n: int, step: int = 64) -> int:
    """``n`` rounded up to a multiple of ``step``: few distinct shapes (see ``pad_row`` for why).

    >>> bucket_len(65)
    128

    Introduced in 02_finetune.ipynb.
    """
    return -(-n // step) * step
