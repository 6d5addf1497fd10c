# %% [markdown]
# # 02 · Fine-tuning: what changing the weights buys (and what it does not)
#
# RAG *reads* the documents at question time; fine-tuning *remembers ahead of time* by changing weights.
# The vendor article claims fine-tuning brings **behavioural accuracy** (format, tone, task execution) but
# is **not a reliable way to teach new facts**. Ovadia et al. (EMNLP 2024) found the same for knowledge
# injection: RAG beat fine-tuning on every model they tried, and fine-tuning's accuracy rose with the number
# of **paraphrases** of each fact it saw (`docs/references.md`).
#
# We test both claims on the same model and notebook 00's protocol:
#
# 1. **Knowledge fine-tune**: LoRA on every fact card (a question's canonical and two training wordings with
#    its short answer). Asked again in a *training* wording it shows **memorisation**; asked in a *held-out*
#    wording, what it **learned**. Epochs are chosen on dev, results reported on test.
# 2. **Behaviour fine-tune**: the *house answer style* (one sentence ending with a `[doc-id]` tag) and
#    *abstention*, trained on the train questions only (their mix of answerable and unanswerable), and
#    measured on test questions it never saw in any wording.
# 3. **Fact cards or documents?** The fact cards include the test questions' facts, which no team has; the
#    same recipe on what the documents alone give is the fine-tune a team really has.
# 4. **LoRA vs full fine-tuning**: what each costs on a 2-core CPU (measured first, on a small set).

# %%
import labkit as lk; env = lk.setup(seed=0)

# %%
import time
from dataclasses import replace
import pandas as pd, torch, matplotlib.pyplot as plt
from IPython.display import HTML

qa = lk.load_qa()
split = lk.workbook_split(qa)
facts = [q for q in qa if q.answerable]
test_ans = [q for q in split.test if q.answerable]

# %% [markdown]
# ## 1. LoRA in one picture
#
# A transformer layer multiplies its input by weight matrices (`q_proj`, `k_proj`, `v_proj`, `o_proj` in
# attention; `gate_proj`, `up_proj`, `down_proj` in the MLP). Full fine-tuning updates every entry of each
# `W` (d_out x d_in). **LoRA** (Hu et al. 2021) freezes `W` and learns a low-rank correction beside it:
#
# $$ h = W x + \frac{\alpha}{r} B A x, \qquad A \in \mathbb{R}^{r \times d_{in}},\ B \in \mathbb{R}^{d_{out} \times r},\ r \ll d $$
#
# ```
#             x (d_in)
#             |------------------.
#             v                  v
#    +----------------+      +-------+  A: r x d_in   (random init)
#    | W (frozen)     |      |   A   |
#    | d_out x d_in   |      +-------+
#    +----------------+          v  (r numbers)
#             |              +-------+  B: d_out x r  (zero init: W + BA = W at step 0)
#             |              |   B   |
#             |              +-------+
#             v                  v  x alpha/r
#             +------ (+) -------+
#                      v
#                   h (d_out)
# ```
#
# `B` starts at zero, so training starts from the unchanged model; only `A` and `B` get gradients and
# optimizer state. After training, `W + (alpha/r) B A` can be merged into one matrix: no extra latency.
# Here is what that means in parameters for our model:

# %% tags=["nbval-check-output"]
lm = lk.load_generator()
cfg = lk.KNOWLEDGE_FT
shapes = {n.split(".")[-1]: tuple(m.weight.shape) for n, m in lm.model.model.layers[0].named_modules()
          if isinstance(m, torch.nn.Linear)}  # shapes only: a kept weight would pin the whole model file
per_layer = pd.DataFrame([{"module": name, "W (d_out x d_in)": f"{d_out} x {d_in}", "W params": d_out * d_in,
                           f"A+B params (r={cfg.r})": cfg.r * (d_in + d_out)}
                          for name in cfg.target_modules for d_out, d_in in [shapes[name]]]).set_index("module")
n_layers = len(lm.model.model.layers)
display(per_layer)
lora_total = per_layer[f"A+B params (r={cfg.r})"].sum() * n_layers
print(f"{n_layers} layers: LoRA trains {lora_total:,} parameters = {100 * lora_total / lm.n_params():.2f}% "
      f"of the model's {lm.n_params():,}.")
assert lora_total / lm.n_params() < 0.05

# %% [markdown]
# ## 2. Training data: fact cards, with the loss on the answer only
#
# Each fact card becomes a short chat: the closed-book system prompt (the very one the base model is asked
# with, so base and fine-tune differ only in their weights), the question, the answer. The model should learn
# to *produce the answer*, not to predict the question, so the **labels are -100 (ignored) on every prompt
# token**.
#
# Every fact card starts with the same tokens (chat markup and the system prompt) and learns nothing from
# them. So short examples are **packed** into 512-token rows that hold that shared start **once**, then each
# example's own tokens (`lk.shared_prompt_len`, `lk.pack`). An attention mask (`lk.row_mask`) lets each token
# see the shared start and the earlier tokens of its own example only, and positions continue from the
# shared start, so every example computes exactly what it would alone (a unit test checks that packing
# changes no logit), with no padding and with the shared start processed once per row instead of once per
# example: the same trick as the prefix cache in `lk.chat_generate`.

# %% tags=["nbval-check-output"]
know_examples = lk.knowledge_examples(qa)
ids, labels = lk.tokenize_example(lm.tokenizer, know_examples[0], 512)
tok = lm.tokenizer
shown = pd.DataFrame({"token": [tok.decode([i]) for i in ids],
                      "next-token target": [tok.decode([l]) if l != -100 else "-100" for l in labels]})
print(f"{len(know_examples)} fact cards ({len(facts)} answerable questions x 3 training wordings); the last 12 of "
      f"the first one's {len(shown)} tokens (only the answer's are targets; -100: no loss at that position):")
display(shown.tail(12))
tokenized = [lk.tokenize_example(tok, e, 512) for e in know_examples]
start = lk.shared_prompt_len(tokenized)
rows = lk.pack(tokenized, 512, prefix=start)
print(f"{sum(len(i) for i, _ in tokenized)} tokens in the fact cards, "
      f"{sum(sum(l != -100 for l in lab) for _, lab in tokenized)} of them carry a loss; every card starts with "
      f"the same {start} tokens. Packed with that start once per row: {len(rows)} rows, "
      f"{sum(r.input_ids.numel() for r in rows)} tokens to process per epoch.")

# %% [markdown]
# ## 3. LoRA vs full fine-tuning: what each costs
#
# Full fine-tuning trains every weight of the 30 blocks. The memory arithmetic is the lesson here: with AdamW
# in fp32 every trained weight costs 4 (weight) + 4 (gradient) + 8 (two moments) = 16 bytes: over 2 GB for
# 135M parameters, beyond this workbook's 1.5 GB budget. The full run therefore (a) keeps the weights in the
# model's dtype, (b) uses **Adafactor**, which stores only row and column averages of the squared gradient,
# (c) freezes the tied 49152 x 576 embedding/lm_head, (d) recomputes activations in the backward pass and
# (e) takes the optimizer step *inside* the backward pass, one weight at a time (`lk.StepInBackward`), so
# the gradients never exist all at once. The price of (e): no global gradient-norm clipping; Adafactor's own
# update clipping bounds each step. With bf16 weights, updates smaller than half a bf16 step are rounded
# away. To stay within the time budget both methods train **one epoch on the train questions, canonical
# wording only**, the same data for both: a comparison of cost, not of what so little training teaches.
#
# The table reports work done as **GFLOP/s** (billions of floating-point operations per second) and as a
# fraction of the **GEMM peak**: what this CPU reaches on one large matrix multiplication (`lk.matmul_gflops`),
# the most a training step could hope for (terms: `docs/glossary.md`); **RSS** is the memory the process holds.

# %% tags=["nbval-ignore-output"]
train_facts = [q for q in split.train if q.answerable]
small = lk.make_examples(train_facts, phrasings=("question",))
res_lora = lk.finetune(lm, small, replace(lk.KNOWLEDGE_FT, epochs=1), progress=False, adapter="cmp-lora")
lora_mem = lk.run_approach(lk.ClosedBook(res_lora.lm, name="LoRA"), train_facts, phrasing="question")
res_lora.lm = None  # its adapter (a few MB) stays on `lm`, switched off
lm_full = lk.load_generator()  # full fine-tuning changes the weights in place: a separate copy
res_full = lk.finetune(lm_full, small, lk.FinetuneConfig(method="full", lr=1e-4, epochs=1, tokens_per_step=512),
                       progress=False)
full_mem = lk.run_approach(lk.ClosedBook(res_full.lm, name="full"), train_facts, phrasing="question")
res_full.lm = None; del lm_full; lk.free_memory();  # ";": no need to show the RSS it returns

# %% tags=["nbval-ignore-output"]
costs = pd.DataFrame({r.method: {"trainable params (M)": r.trainable_params / 1e6, "steps": r.steps,
                                 "wall time (s)": r.wall_s, "training tokens/s": r.tokens_per_s,
                                 "achieved GFLOP/s": r.gflops_per_s, "fraction of GEMM peak": r.frac_peak,
                                 "same, counting recompute + padding": r.hw_frac_peak,
                                 "process peak RSS after run (MB)": r.peak_rss_mb, "final loss": r.losses[-1],
                                 "memorised (trained wording)": str(lk.rates(m, "accuracy"))}
                      for r, m in ((res_lora, lora_mem), (res_full, full_mem))})
display(costs)
lk.say(f"LoRA trains {res_lora.trainable_params / res_full.trainable_params:.1%} of full fine-tuning's parameters "
       f"and runs at {res_lora.tokens_per_s / res_full.tokens_per_s:.1f}x its tokens/s here. Full fine-tuning's "
       f"gradients alone would take {res_full.trainable_params * 2 / 2**20:.0f} MB at once without the step in "
       f"backward. After one epoch on the same {len(train_facts)} facts, LoRA recalls {lk.rates(lora_mem, 'accuracy')} "
       f"in the trained wording, full fine-tuning {lk.rates(full_mem, 'accuracy')}: too little training to "
       f"compare what they learn; sections 4 and 5 train longer.")
peak = max(res_lora.peak_rss_mb, res_full.peak_rss_mb)  # the process's peak so far (both runs, model copies)
lk.say(f"Memory: the process peaked at {peak:,.0f} MB, " + (
    "within the workbook's 1.5 GB (1,536 MB) budget." if peak <= 1536 else
    "over the workbook's 1.5 GB (1,536 MB) budget" + (", and over Binder's 2 GB (2,048 MB)" if peak > 2048
    else ", under Binder's 2 GB (2,048 MB)") + f": in {str(lm.dtype).removeprefix('torch.')} the tricks above shrink full fine-tuning's "
    "optimizer state, not the second copy of the weights it trains."))

# %% [markdown]
# FLOPs are counted from the model's shapes (`lk.train_flops`): the block matmuls (2 FLOP per weight per
# token forward, the same again for activation gradients, and once more for weight gradients in full
# fine-tuning), attention, and the lm_head **only at answer positions** (we compute logits only there). So
# LoRA costs about 4 x 106M FLOP per token and full about 6 x 106M, where 106M is the non-embedding weight
# count. On a CPU, LoRA's clearest gain is its checkpoint: the adapter's few million weights instead of a
# copy of the whole model. How much faster and lighter the run itself is, the table above measures on this
# machine, against a FLOP saving of 4 vs 6 (1.5x): LoRA's 210 small adapter matmuls (7 modules x 30 layers)
# may use the cores less well than big ones (compare the two fractions of the GEMM peak).

# %% [markdown]
# ## 4. Knowledge fine-tune with LoRA, epochs chosen on dev
#
# A short explicit loop (`lk.train_loop`; `lk.finetune` wraps it with the cache, resume and accounting):
# pack, forward (logits only at answer positions), cross-entropy, backward, AdamW on the adapters. The frozen weights stay in the dtype `lk.setup` chose; the adapters and
# their optimizer state are fp32, with their matmuls under `torch.autocast` (mixed precision). A checkpoint
# is written every 10 steps: interrupt the cell and re-run it, and training continues from the last
# checkpoint; a finished run is loaded from the cache instantly. Gradient checkpointing on every second
# layer (`recompute_every=2`) trades some recompute for memory.
#
# The adapter saved after each epoch is asked the **dev** questions in their held-out and canonical
# wordings; `lk.knowledge_ft` keeps the epoch with the best held-out dev accuracy.
#
# **Reference adapters.** Training this notebook's three fine-tunes is most of its run time when it trains
# (the cells below print how long), so the workbook ships them: `lk.train_or_reuse` loads the run trained
# on a reference machine when its config, examples, base weights and training code are exactly these (one
# adapter per epoch, so the epoch is still chosen on dev here), and trains otherwise. Every answer and rate
# below is computed on your machine either way; only the training times are then the reference machine's,
# and the cells say so. Set `LABKIT_TRAIN=1` in the environment before starting Jupyter to train every run
# here.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
ft, run, choice = lk.knowledge_ft(lm, qa, split)
t_knowledge = time.perf_counter() - t0
print(cfg)
print("weights:", lk.trained_where(run))
pd.Series(run.summary()).to_frame("LoRA knowledge run")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3))
ax1.plot(range(1, len(run.losses) + 1), run.losses)
for e in run.epoch_ends:
    ax1.axvline(e, color="grey", lw=0.5)
ax1.set(xlabel="step (grey lines: epoch ends)", ylabel="answer-token loss", yscale="log", title="Training loss")
choice.table.plot(ax=ax2, marker="o")
ax2.axvline(choice.epoch, color="k", ls="--", lw=0.8)
ax2.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), xticks=list(choice.table.index),
        title="Dev questions: memorised vs held-out wording")
plt.tight_layout(); plt.show()
lk.say(f"Chosen on dev: **epoch {choice.epoch}** of {len(run.epoch_ends)} (dev held-out accuracy "
       f"{choice.table.loc[choice.epoch, 'dev held-out']:.2f}, canonical {choice.table.loc[choice.epoch, 'dev canonical (memorised)']:.2f}). "
       f"Training took {run.train_s:.0f} s at {run.tokens_per_s:.0f} tokens/s ({lk.trained_where(run)}).")

# %% [markdown]
# ### LoRA is W + BA: checked on one trained layer
#
# The trained adapter's first attention projection, by hand (`W x + alpha/r * B A x`, in float32) against
# peft's module (in the model's dtype).

# %%
layer = choice.lm.model.get_base_model().model.layers[0].self_attn.q_proj
name = choice.lm.adapter
W, A, B = layer.base_layer.weight.float(), layer.lora_A[name].weight.float(), layer.lora_B[name].weight.float()
x = torch.randn(4, W.shape[1], generator=torch.Generator().manual_seed(0))
by_hand = x @ W.T + layer.scaling[name] * (x @ A.T) @ B.T                        # (4, d_out)
with torch.no_grad(), lk.adapter_scope(choice.lm):  # this view's adapter switched on
    by_peft = layer(x.to(W.dtype if lm.dtype == torch.float32 else lm.dtype)).float()
rel = ((by_hand - by_peft).norm() / by_hand.norm()).item()
print(f"relative difference {rel:.2e}; the update B A changes the output by "
      f"{((layer.scaling[name] * (x @ A.T) @ B.T).norm() / (x @ W.T).norm()).item():.1%}")
assert rel < 2e-2  # bf16 rounding; float32 agrees to ~1e-6

# %% [markdown]
# ### Test: memorised wording vs held-out wording
#
# Base (notebook 00's records, from the cache) and the fine-tune answer every test question in its held-out
# wording; the fine-tune also answers the answerable ones in their canonical wording, which it trained on:
# that column is **memorisation**, not accuracy.

# %% tags=["nbval-ignore-output"]
base = lk.ClosedBook(lm)
t0 = time.perf_counter()
test_records = lk.run_approach(base, split.test) + lk.run_approach(ft, split.test)
memorised = lk.run_approach(lk.ClosedBook(choice.lm, name="ft (trained wording)"), test_ans, phrasing="question")
t_eval = time.perf_counter() - t0
print(f"{len(test_records) + len(memorised)} answers in {t_eval:.0f} s")

# %%
mem, held = lk.rates(memorised, "accuracy"), lk.rates([r for r in test_records if r.approach == "ft"], "accuracy")
ft_by_q = {r.qid: r.contains for r in test_records if r.approach == "ft" and r.answerable}
gap = lk.verdict([r.contains for r in memorised], [ft_by_q[r.qid] for r in memorised])  # same questions, paired
table = lk.rate_table(test_records + memorised, ["accuracy", "confidently_wrong", "over_abstention",
                                                 "correct_abstention"])
table

# %%
fig, ax = plt.subplots(figsize=(5, 3))
vals = [lk.rates([r for r in test_records if r.approach == "base"], "accuracy"), held, mem]
ax.bar(["base\n(held-out)", "fine-tuned\n(held-out)", "fine-tuned\n(trained wording)"], [v.value for v in vals],
       yerr=[[v.value - v.low for v in vals], [v.high - v.value for v in vals]], capsize=4,
       color=["#999999", "#d62728", "#ff9896"])
ax.set(ylabel="accuracy, test (95% interval)", ylim=(0, 1), title="Knowledge fine-tune: learned or memorised?")
plt.tight_layout(); plt.show()

# %%
ft_vs_base = lk.claim(test_records, "ft", "base", "accuracy")
assert ft_vs_base.text == "holds", ft_vs_base  # the fine-tune does learn facts (beyond the base's zero)
assert gap.text == "holds", gap  # ... and knows them better in the wording it trained on
lk.say(f"In the wording it trained on the fine-tune answers **{mem.k} of {mem.n}** test facts ({mem}); asked "
       f"in a held-out wording, **{held.k}** ({held}). The gap, paired over the same questions, is "
       f"{gap.diff}: it **{gap.text}**. Against the base model's zero, the fine-tune's held-out accuracy "
       f"{ft_vs_base.text} ({ft_vs_base.diff}).")

# %% [markdown]
# Fine-tuning puts facts into the weights, but largely in the form it saw them. FineTuneBench (2024) measured
# the same on commercial fine-tuning APIs: gpt-4o-mini recalled trained wordings at 0.99 and rephrased
# questions at 0.65; Allen-Zhu & Li showed that stored facts become answerable in new forms mainly when the
# training data holds many paraphrases of each (`docs/references.md`). Our three wordings per fact are few.
#
# ### Answers before and after, side by side

# %% tags=["nbval-ignore-output"]
side = lk.answers_table(test_records, split.test)
side["ft, trained wording"] = [next(m.answer for m in memorised if m.qid == q.id) for q in test_ans[:len(side)]]
HTML(side.to_html(escape=True))  # model text is HTML-escaped

# %% [markdown]
# ### The fine-tune a team really has: trained on the documents
#
# The fact cards above are the hand-written questions themselves, **test facts included**: no team has the
# questions its users will ask, so that fine-tune is an **upper bound**, and the workbook calls it
# **ft (fact cards)**. What a team can derive from its documents alone (`lk.document_examples`): cloze cards
# generated from the documents' sentences (`lk.generate_qa`: a number or name blanked out, in two
# wordings) and the documents' own text as statements (each 60-word passage answers "What does the
# documentation say about <title>?"), never a dev or test question's wording. Same recipe, same epoch
# choice on dev: this is **ft (documents)**.

# %% tags=["nbval-ignore-output"]
docs = lk.load_kb("v1")
doc_examples = lk.document_examples(docs, exclude=[*split.dev, *split.test])
t0 = time.perf_counter()
ft_docs, run_d, choice_d = lk.document_ft(lm, docs, split)
doc_records = lk.run_approach(ft_docs, split.test)
t_docs = time.perf_counter() - t0
print(f"{len(doc_examples)} examples ({sum(e.phrasing == 'statement' for e in doc_examples)} statements), "
      f"{run_d.steps} steps, {run_d.train_s:.0f} s of training; {t_docs:.0f} s with the dev choice and test answers\n"
      f"weights: {lk.trained_where(run_d)}")

# %%
two_fts = test_records + doc_records
docs_vs_cards = lk.claim(two_fts, "ft", "ft (documents)", "accuracy")
docs_vs_base = lk.claim(two_fts, "ft (documents)", "base", "accuracy")
doc_cards = lk.document_cards(docs, [*split.dev, *split.test])  # the cards inside doc_examples, built once
covered = sum(any(lk.contains_gold(c.answer, [q.answer, *q.aliases]) for c in doc_cards) for q in test_ans)
lk.rate_table(two_fts, ["accuracy", "confidently_wrong", "over_abstention"]).rename(index={"ft": "ft (fact cards)"})

# %%
assert lk.rates(doc_records, "accuracy").value <= held.value + 0.05  # the fact cards are the upper bound
lk.say(f"Trained on what the documents give, the fine-tune answers {lk.rates(doc_records, 'accuracy')} of the "
       f"test questions (epoch {choice_d.epoch} of {len(run_d.epoch_ends)} chosen on dev), against {held} with the "
       f"fact cards: \"the fact cards beat the documents\" **{docs_vs_cards.text}** ({docs_vs_cards.diff}); "
       f"against the base model it **{docs_vs_base.text}** ({docs_vs_base.diff}). Only {covered} of the "
       f"{len(test_ans)} answerable test facts are the answer of a generated card: most facts reach it only as "
       f"text to continue, never as a question to answer.")

# %% [markdown]
# ## 5. Behaviour fine-tune: house style and abstention
#
# The house style is one sentence ending with a source tag, e.g. `Tessavik Instruments was founded in 2014
# [about-tessavik].`, and questions the documentation cannot answer get exactly the abstention sentence. We
# train LoRA on the **train** questions only, in their mix of answerable and unanswerable questions (the same
# mix as test), and measure it on the test questions, which it never saw in any wording. Style is judged on
# the questions it answered; abstention is reported separately, on both kinds of question.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
behaviour, run_b = lk.behaviour_ft(lm, split)
beh_records = lk.run_approach(behaviour, split.test)
t_behaviour = time.perf_counter() - t0
print(f"{run_b.steps} steps, {run_b.train_s:.0f} s of training; {t_behaviour:.0f} s with the test answers\n"
      f"weights: {lk.trained_where(run_b)}")

# %%
both = test_records + beh_records
beh = lk.rate_table(both, ["style_answered", "correct_abstention", "over_abstention", "accuracy",
                           "confidently_wrong"])
beh

# %%
style_claim = lk.claim(both, "ft-behaviour", "base", "style")
abst_claim = lk.claim(both, "ft-behaviour", "base", "correct_abstention")
over = lk.rates(beh_records, "over_abstention")
assert style_claim.text == "holds", style_claim
lk.say(f"House style, over all test answers: {style_claim.text} ({style_claim.diff}); among the questions it "
       f"answered, {lk.rates(beh_records, 'style_answered')} of its replies are in house style. Declining "
       f"unanswerable questions: {abst_claim.text} ({abst_claim.diff}), at the price of declining "
       f"{over.k} of {over.n} answerable ones ({over}). It never saw these facts, so its answers to the rest are "
       f"well-formatted and mostly wrong: **format is not knowledge**.")

# %% tags=["nbval-ignore-output"]
show = pd.DataFrame({"question": [r.question for r in beh_records], "answerable": [r.answerable for r in beh_records],
                     "base": [r.answer for r in test_records[:len(beh_records)]],
                     "after behaviour LoRA": [r.answer for r in beh_records]})
HTML(show.iloc[[0, 1, 2, -3, -2, -1]].to_html(escape=True))

# %% [markdown]
# ## What we measured
#
# The numbers are in the results box below; what they mean:
#
# - Fine-tuning **does** put facts into the weights, and they are far easier to recall in the wording the
#   model trained on than in a new one. The article's "not a reliable way to teach new facts" holds in
#   that sense here; larger models and many more paraphrases narrow the gap (FineTuneBench, Allen-Zhu & Li).
# - Fine-tuning **does** teach behaviour from a few dozen examples: the house style transfers to questions the
#   model never saw. Abstention is learned as a *pattern*: read its rate on answerable questions too.
# - A fine-tune is only as good as its training questions: on the hand-written fact cards (test facts
#   included) it is an upper bound; on what the documents alone give, it is what a team really ships.
# - LoRA trains a small fraction of the parameters (section 3's table), and its optimizer state is the same
#   small fraction of full fine-tuning's: AdamW keeps two fp32 moments for every trainable weight.
#
# ## Exercises
#
# Each exercise ends with a check (`lk.check`, notebook 00): run the cell after your change and it prints
# **✓** when the change did what was asked, or **✗ not yet** with a hint (as shipped, "not yet").
#
# **Easy.** Ask the knowledge fine-tune a fact in a wording of your own: replace the example questions in
# `mine` (no wording from the QA set). Does it still know it?
#
# *What you should see:* each of your questions beside the fact card sharing most of its words, with that
# card's gold answer. In a wording close to one it trained on, the fine-tune often gives the trained answer;
# the further your wording is from all three, the likelier a wrong answer, given as confidently. The rate to
# expect on new wordings is its held-out test accuracy (section 4), printed by the cell.

# %% tags=["nbval-ignore-output"]
import re

example_mine = ["Tell me the founding year of Tessavik, please.", "How many people are employed at Tessavik?"]
mine = list(example_mine)  # your change here: facts asked in wordings of your own

def nearest_card(text):  # the answerable question sharing most words with `text`, for its gold answer
    words = set(re.findall(r"\w+", text.lower()))
    return max(facts, key=lambda q: len(words & set(re.findall(r"\w+", q.question.lower()))))

for q_, a in zip(mine, ft.answer(mine)):
    card = nearest_card(q_)
    got = "contains it" if lk.contains_gold(a.text, [card.answer, *card.aliases]) else "does not contain it"
    print(f"Q: {q_}\nA: {a.text}\n   nearest fact card: {card.question} -> {card.answer} ({got})\n")
print(f"held-out accuracy on the test questions (section 4): {held}")
known = {w for q in qa for ph in lk.PHRASINGS for w in lk.wordings(q, ph)}
lk.check(bool(mine) and not set(mine) & set(example_mine) and not set(mine) & known,
         f"{len(mine)} facts asked in wordings of your own",
         hint="replace the example questions in `mine` with wordings of your own (none from the QA set)");

# %% [markdown]
# **Medium.** The learning-rate knob: train the knowledge fine-tune with another learning rate (everything
# else equal) and compare its dev curve with the one above. Choose on dev, never on test. Set `lr_try` and
# `RUN_MEDIUM = True`: it trains a knowledge fine-tune again, about as long as section 4's training (the cell
# prints that run's recorded time). `benchmarks/sweep_knowledge_lr.py` runs the sweep behind `lk.KNOWLEDGE_FT`.
#
# *What you should see:* for each rate, one row per epoch with dev accuracy in the held-out wording and in the
# canonical (memorised) one. A higher rate memorises the trained wordings in fewer epochs; whether the
# held-out column follows, or only the gap between the two widens, is the finding. A rate too high makes the
# loss jump and both columns fall. The rate to keep is the one with the best held-out dev accuracy.

# %% tags=["nbval-ignore-output"]
RUN_MEDIUM = False  # True: trains one more knowledge fine-tune
lr_try = lk.KNOWLEDGE_FT.lr  # your change here: another rate, e.g. 5e-3
cfg_lr = replace(lk.KNOWLEDGE_FT, lr=lr_try)
print(f"lk.KNOWLEDGE_FT uses lr = {lk.KNOWLEDGE_FT.lr:g}; this cell trains lr = {cfg_lr.lr:g}. "
      f"Section 4's training took {run.train_s:.0f} s (recorded when it ran).")
choice_lr = None
if RUN_MEDIUM:
    _, run_lr, choice_lr = lk.knowledge_ft(lm, qa, split, name=f"ft-lr{cfg_lr.lr:g}".replace(".", "p"), cfg=cfg_lr)
    display(pd.concat({f"lr {lk.KNOWLEDGE_FT.lr:g}": choice.table, f"lr {cfg_lr.lr:g}": choice_lr.table}, axis=1))
lk.check(cfg_lr.lr != lk.KNOWLEDGE_FT.lr and choice_lr is not None,
         f"lr = {cfg_lr.lr:g} trained and compared with lr = {lk.KNOWLEDGE_FT.lr:g} on the dev questions",
         hint="set lr_try to another rate" if cfg_lr.lr == lk.KNOWLEDGE_FT.lr else "set RUN_MEDIUM = True to train it");

# %% [markdown]
# **Hard.** Paraphrase augmentation: add the held-out wordings of the *train* questions to the fact cards
# (train questions are never evaluated, so nothing scored is trained on) and measure on the *dev* questions,
# in their held-out wordings, whether accuracy rises. Does seeing more wordings of some facts help the model
# generalise wording for others? Fill `extra` and set `RUN_HARD = True`: it trains a knowledge fine-tune on the
# augmented cards, a little longer than section 4's training (the cell prints that run's recorded time and
# both example counts), then asks the dev questions after each epoch.
#
# *What you should see:* the augmented fine-tune's dev curve beside section 4's. Only the train questions'
# facts gain a wording, never a dev fact: a gain on dev would be transfer of *how to read a rephrased
# question*, which Allen-Zhu & Li found to need many paraphrases per fact. Expect a small change or none, and
# believe it only if it exceeds a question or two of the dev set.

# %% tags=["nbval-ignore-output"]
RUN_HARD = False  # True: trains a knowledge fine-tune on the augmented fact cards
extra = []  # your change here: the train questions' held-out wordings as cards (lk.make_examples, phrasings=("heldout",))
aug = know_examples + extra
print(f"{len(aug)} examples instead of {len(know_examples)}; section 4 trained on {len(know_examples)} "
      f"in {run.train_s:.0f} s (recorded when it ran)")
choice_aug = None
if RUN_HARD:
    run_aug = lk.finetune(lm, aug, lk.KNOWLEDGE_FT, progress=False, adapter="ft-aug")
    choice_aug = lk.pick_epoch(lm, run_aug, list(split.dev), "ft-aug")  # dev accuracy after each epoch
    display(pd.concat({"fact cards": choice.table, "fact cards + train held-out": choice_aug.table}, axis=1))
train_ids = {q.id for q in split.train}
lk.check(lambda: extra and all(e.qid in train_ids and e.phrasing == "heldout" for e in extra) and choice_aug is not None,
         f"{len(extra)} held-out wordings of train questions added, compared on the {len(split.dev)} dev questions",
         hint="add the train questions' held-out wordings to `extra` (no dev or test question), then set RUN_HARD = True");

# %% [markdown]
# ## Results

# %% tags=["nbval-ignore-output"]
HTML(lk.results_box("02 · this run (test questions)", {
    "knowledge fine-tune (LoRA)": f"{len(know_examples)} fact cards, epoch {choice.epoch} of {len(run.epoch_ends)} "
                                  f"chosen on dev, {run.train_s:.0f} s of training",
    "accuracy, held-out wording": str(held), "memorised, trained wording": str(mem),
    "memorised - held-out (paired)": f"{gap.diff}: {gap.text}",
    "ft (documents), held-out wording": f"{lk.rates(doc_records, 'accuracy')}, {run_d.train_s:.0f} s of training",
    "behaviour fine-tune: house style (answered)": str(lk.rates(beh_records, "style_answered")),
    "behaviour fine-tune: correct abstention": str(lk.rates(beh_records, "correct_abstention")),
    "behaviour fine-tune: over-abstention": str(over),
    "LoRA vs full, tokens/s": f"{res_lora.tokens_per_s:.0f} vs {res_full.tokens_per_s:.0f}",
    **lk.run_report(env)}))
