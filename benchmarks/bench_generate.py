"""Benchmark of batched generation (not a test): lk.chat_generate against the textbook padded batch.

    python benchmarks/bench_generate.py [--n 44] [--frozen]

The prompts are notebook 04's: the RAG prompts (system prompt, two worked examples, two retrieved
passages, the question; ~420 tokens) and the closed-book ones (~33 tokens), for ``--n`` questions.

* ``padded``: one ``generate()`` per batch of left-padded prompts, sorted by length (the usual recipe,
  and what ``lk.chat_generate`` did before this benchmark existed);
* ``lk``: ``lk.chat_generate``: the shared prompt start prefilled once, each prompt's own tokens
  prefilled a few at a time, then the batch decodes together.

``--frozen`` first sets ``requires_grad=False`` on every weight, as any LoRA training leaves the base
model; that is the condition under which torch copies the lm_head weight per prompt unless its input is
made contiguous (``lk.models.contiguous_head_input``). Prints a markdown table and JSON: wall time, prefill and
decode seconds where measured, and how many answers equal the padded recipe's at batch 8 (greedy answers
can differ in a few cases: bf16 sums in a different order).

Introduced in 04_side_by_side.ipynb.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import torch

import labkit as lk
from labkit.generate import as_messages


@torch.inference_mode()
def padded_generate(lm, chats: list, system: str, max_new_tokens: int = 32, batch_size: int = 8) -> list[str]:
    """Left-pad each batch of prompts (sorted by length) and call ``generate()`` once per batch."""
    tok = lm.tokenizer
    texts = [tok.apply_chat_template(as_messages(c, system), add_generation_prompt=True, tokenize=False) for c in chats]
    order = sorted(range(len(texts)), key=lambda i: len(tok(texts[i], add_special_tokens=False)["input_ids"]))
    answers = [""] * len(texts)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        enc = tok([texts[i] for i in rows], return_tensors="pt", padding=True, add_special_tokens=False)
        out = lm.model.generate(
            **enc.to(lm.device), max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id
        )
        for i, row in zip(rows, out[:, enc["input_ids"].shape[1] :].tolist()):
            stop = next((j for j, t in enumerate(row) if t in (tok.eos_token_id, tok.pad_token_id)), len(row))
            answers[i] = tok.decode(row[:stop], skip_special_tokens=True).strip()
    return answers


def workloads(n: int, lm, embedder) -> dict[str, tuple[list, str]]:
    """Notebook 04's prompts: the RAG ones (top-2 fused retrieval, worked examples) and closed-book ones."""
    qa = lk.load_qa()
    answerable = [q for q in qa if q.answerable]
    unanswerable = [q for q in qa if not q.answerable]
    ask = sorted(random.Random(0).sample(answerable, 32), key=lambda q: q.id)
    ask += sorted(random.Random(1).sample(unanswerable, 12), key=lambda q: q.id)
    questions = [q.question for q in ask][:n]
    chunks = lk.chunk_corpus(lk.load_kb("v1"), lk.CHUNKS)
    index = lk.HybridIndex(
        lk.DenseIndex.build(chunks, embedder, kind="flat", cache=False), lk.BM25Index(chunks), depth=20
    )
    by_id = {c.id: c for c in chunks}
    hits = index.search(questions, 2)
    shots = lk.few_shot_turns()
    rag = [
        [*shots, {"role": "user", "content": lk.build_prompt(q, [by_id[c] for c in row])}]
        for q, row in zip(questions, hits.chunk_ids)
    ]
    return {"rag": (rag, lk.rag.RAG_SYSTEM), "closed-book": (list(questions), lk.CLOSED_BOOK_SYSTEM)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=44, help="questions (notebook 04 asks 44)")
    ap.add_argument("--frozen", action="store_true", help="freeze all weights first, as LoRA training does")
    args = ap.parse_args()
    env = lk.setup(seed=0)
    lm, embedder = lk.load_generator(), lk.load_embedder()
    if args.frozen:
        lm.model.requires_grad_(False)
    rows = []
    for name, (chats, system) in workloads(args.n, lm, embedder).items():
        padded_generate(lm, chats[:2], system)  # warm-up: first calls allocate and pick kernels
        t0 = time.perf_counter()
        ref = padded_generate(lm, chats, system)
        rows.append(
            {
                "prompts": name,
                "method": "padded, batch 8",
                "wall_s": round(time.perf_counter() - t0, 1),
                "prefill_s": None,
                "decode_s": None,
                "same_answers": len(ref),
            }
        )
        for batch in (8, 16):
            t0 = time.perf_counter()
            gens = lk.chat_generate(lm, chats, max_new_tokens=32, batch_size=batch, system=system)
            rows.append(
                {
                    "prompts": name,
                    "method": f"lk.chat_generate, batch {batch}",
                    "wall_s": round(time.perf_counter() - t0, 1),
                    "prefill_s": round(sum(g.t_prefill for g in gens), 1),
                    "decode_s": round(sum(g.t_decode for g in gens), 1),
                    "same_answers": sum(g.text == r for g, r in zip(gens, ref)),
                }
            )
    cols = list(rows[0])
    print(f"{env}; {args.n} questions; weights {'frozen' if args.frozen else 'trainable'}")
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join("" if row[c] is None else str(row[c]) for c in cols) + " |")
    print(
        json.dumps(
            {
                "device": str(env.device),
                "dtype": str(env.dtype),
                "frozen": args.frozen,
                "rows": rows,
                "peak_rss_mb": round(lk.memory.peak_rss_mb()),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
