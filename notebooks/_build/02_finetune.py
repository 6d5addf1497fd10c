"""Builds notebooks/02_finetune.ipynb (run: python notebooks/_build/02_finetune.py).

The notebook is then executed in place so it is committed with its outputs (see README, "Contributing").
"""
from pathlib import Path

import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s.strip()))  # noqa: E731
code = lambda s: cells.append(nbf.v4.new_code_cell(s.strip()))  # noqa: E731

md("""
# 02 · Fine-tuning: what changing the weights buys (and what it does not)

RAG *reads* the documents at question time; fine-tuning *remembers ahead of time* by changing weights.
The vendor article claims fine-tuning brings **behavioural accuracy** (format, tone, task execution) but
is **not a reliable way to teach new facts**. Ovadia et al. (EMNLP 2024, arXiv 2312.05934) found the same
for knowledge injection: RAG beat fine-tuning everywhere, and fine-tuning's accuracy rose with the number of
**paraphrases** of each fact it saw.

We test both claims on the same model (SmolLM2-135M-Instruct) and the same QA set as notebook 01:

1. **Knowledge fine-tune**: train on questions about the company (each in 3 wordings) with their short
   answers; ask again with the *training* wordings (memorised?) and with *held-out* wordings (learned?).
2. **Behaviour fine-tune**: train the *house answer style* (one sentence ending with a `[doc-id]` tag) and
   *abstention* (a fixed sentence) on questions the documents cannot answer; measure format compliance and
   abstention on questions the training never saw.

Along the way: LoRA vs full fine-tuning costs on a 2-core CPU, and one knob (epochs).
""")
code("import labkit as lk; env = lk.setup(seed=0)")
code("""
import gc, random
import pandas as pd, torch, matplotlib.pyplot as plt

print(env)
qa = lk.load_qa()
answerable = [q for q in qa if q.answerable]
unanswerable = [q for q in qa if not q.answerable]
rng = random.Random(0)
KNOW = sorted(rng.sample(answerable, 32), key=lambda q: q.id)   # facts the knowledge fine-tune sees
rest = [q for q in answerable if q not in KNOW]
STYLE_TRAIN = sorted(rng.sample(rest, 32), key=lambda q: q.id) + unanswerable[: len(unanswerable) * 3 // 5]
STYLE_TEST = [q for q in rest if q not in STYLE_TRAIN][:16] + unanswerable[len(unanswerable) * 3 // 5:]
print(f"{len(qa)} questions: {len(answerable)} answerable, {len(unanswerable)} unanswerable.")
print(f"knowledge fine-tune: {len(KNOW)} facts (a seeded subset, to fit the 5-minute budget); "
      f"behaviour fine-tune: {len(STYLE_TRAIN)} training questions, {len(STYLE_TEST)} test questions "
      f"({sum(not q.answerable for q in STYLE_TEST)} unanswerable) never seen in training.")
""")
md("""
## 1. LoRA in one picture

A transformer layer multiplies its input by weight matrices (`q_proj`, `k_proj`, `v_proj`, `o_proj` in
attention; `gate_proj`, `up_proj`, `down_proj` in the MLP). Full fine-tuning updates every entry of each
`W` (d_out x d_in). **LoRA** (Hu et al. 2021) freezes `W` and learns a low-rank correction beside it:

$$ h = W x + \\frac{\\alpha}{r} B A x, \\qquad A \\in \\mathbb{R}^{r \\times d_{in}},\\ B \\in \\mathbb{R}^{d_{out} \\times r},\\ r \\ll d $$

```
            x (d_in)
            |------------------.
            v                  v
   +----------------+      +-------+  A: r x d_in   (random init)
   | W (frozen)     |      |   A   |
   | d_out x d_in   |      +-------+
   +----------------+          v  (r numbers)
            |              +-------+  B: d_out x r  (zero init: W + BA = W at step 0)
            |              |   B   |
            |              +-------+
            v                  v  x alpha/r
            +------ (+) -------+
                     v
                  h (d_out)
```

`B` starts at zero, so training starts from the unchanged model; only `A` and `B` get gradients and
optimizer state. After training, `W + (alpha/r) B A` can be merged into one matrix: no extra latency.
Here is what that means in parameters for our model:
""")
code("""
lm = lk.load_generator()
cfg_lora = lk.FinetuneConfig(method="lora", r=8, alpha=16, lr=2e-3, epochs=4, tokens_per_step=512,
                             grad_checkpointing=True)
shapes = {n.split(".")[-1]: tuple(m.weight.shape) for n, m in lm.model.model.layers[0].named_modules()
          if isinstance(m, torch.nn.Linear)}  # shapes only: a kept weight would pin the whole model file
per_layer = pd.DataFrame([{"module": name, "W (d_out x d_in)": f"{d_out} x {d_in}", "W params": d_out * d_in,
                           "A+B params (r=8)": cfg_lora.r * (d_in + d_out)}
                          for name in cfg_lora.target_modules for d_out, d_in in [shapes[name]]]).set_index("module")
n_layers = len(lm.model.model.layers)
display(per_layer)
lora_total = per_layer["A+B params (r=8)"].sum() * n_layers
print(f"{n_layers} layers: LoRA trains {lora_total:,} parameters = {100 * lora_total / lm.n_params():.2f}% "
      f"of the model's {lm.n_params():,}.")
assert lora_total / lm.n_params() < 0.02
""")
md("""
## 2. Training data: chat examples with the loss on the answer only

Each QA pair becomes a short chat (a one-line system prompt, the question, the answer). We want the model
to learn to *produce the answer*, not to predict the question, so the **labels are -100 (ignored) on every
prompt token**. Many short examples are then **packed** back to back into 512-token rows: no padding
is computed, and `position_ids` that restart at 0 tell transformers to build a block-diagonal attention
mask, so examples do not see each other (a unit test checks that packing changes no logit).
""")
code("""
# NBVAL_CHECK_OUTPUT
know_examples = lk.make_examples(KNOW, kind="knowledge", phrasings=("question", "train"))
ids, labels = lk.tokenize_example(lm.tokenizer, know_examples[0], 512)
tok = lm.tokenizer
shown = pd.DataFrame({"token": [tok.decode([i]) for i in ids],
                      "next-token target": [tok.decode([l]) if l != -100 else "-100" for l in labels]})
print(f"{len(know_examples)} knowledge examples ({len(KNOW)} facts x 3 wordings); the first one:")
display(shown.T)
tokenized = [lk.tokenize_example(tok, e, 512) for e in know_examples]
rows = lk.pack(tokenized, 512)
n_tok = sum(len(i) for i, _ in tokenized)
print(f"{n_tok} tokens per epoch, {sum(sum(l != -100 for l in lab) for _, lab in tokenized)} of them "
      f"carry a loss; packed into {len(rows)} rows of <= 512 tokens.")
""")
md("""
## 3. The base model, closed book

Before training: ask the base model the 32 questions with one *training* wording and one *held-out*
wording, with the same short system prompt the fine-tune will use. Scores go into the same `lk.Record`
as every other approach in the workbook (`contains` = the gold answer appears in the reply).
""")
code("""
ASK = dict(phrasings=("train", "heldout"), max_new_tokens=24, batch_size=16)
base_know = lk.evaluate_closed_book(lm, KNOW, "base", **ASK)
base_style = lk.evaluate_closed_book(lm, STYLE_TEST, "base", phrasings=("heldout",), max_new_tokens=40,
                                     batch_size=16)
def by_phrasing(records):
    df = pd.DataFrame([r.as_dict() for r in records])
    return df.groupby(["approach", "phrasing"], sort=False)[["contains", "f1", "abstained"]].mean()
display(by_phrasing(base_know))
""")
md("""
## 4. Knowledge fine-tune with LoRA

A short explicit loop (`lk.finetune`): pack, forward (logits only at answer positions), cross-entropy,
backward, AdamW on the adapters. The frozen weights stay in bf16 on this CPU (it multiplies bf16 about
2.4x faster than fp32); the adapters and their optimizer state are fp32, but their matmuls run in bf16
under `torch.autocast` (mixed precision; peft alone would cast every adapter input to fp32, which costs
time and memory on a CPU). A checkpoint is written every 10
steps: interrupt the cell and re-run it, and training continues from the last checkpoint; a finished
run is loaded from the cache instantly. To stay under 1.5 GB we recompute activations in the backward
pass (`grad_checkpointing=True`): about one extra forward per step, but activation memory drops from
roughly 1 MB per token to a few KB (`benchmarks/bench_finetune.py` measures both).
""")
code("""
res_lora = lk.finetune(lm, know_examples, cfg_lora)
ft_lm = res_lora.lm
pd.Series(res_lora.summary()).to_frame("LoRA knowledge run")
""")
code("""
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(range(1, len(res_lora.losses) + 1), res_lora.losses, label="LoRA (r=8)")
for e in res_lora.epoch_ends:
    ax.axvline(e, color="grey", lw=0.5)
ax.set(xlabel="step (grey lines: epoch ends)", ylabel="answer-token loss", yscale="log",
       title="Knowledge fine-tune: training loss")
ax.legend(); plt.show()
print(f"loss: {res_lora.losses[0]:.2f} at step 1 -> {res_lora.losses[-1]:.3f} at step {res_lora.steps}")
""")
code("""
ft_know = lk.evaluate_closed_book(ft_lm, KNOW, "ft-knowledge-lora", **ASK)
table = by_phrasing(base_know + ft_know)
display(table)
acc = table["contains"]
print(f"Training wordings: {acc['base', 'train']:.0%} before -> {acc['ft-knowledge-lora', 'train']:.0%} after. "
      f"Held-out wordings of the same facts: {acc['base', 'heldout']:.0%} -> {acc['ft-knowledge-lora', 'heldout']:.0%}.")
""")
code("""
assert acc["ft-knowledge-lora", "train"] > acc["base", "train"] + 0.3, "the fine-tune should memorise"
assert acc["ft-knowledge-lora", "heldout"] < acc["ft-knowledge-lora", "train"], "held-out wordings are harder"
""")
md("""
The fine-tune memorises the wordings it saw; with wordings it never saw, much of that knowledge is not
reachable. This is Ovadia et al.'s finding in miniature: facts are injected in the *form* they were
trained on, which is why they needed many paraphrases per fact.

### Answers before and after, side by side
""")
code("""
import html
from IPython.display import HTML

side = pd.DataFrame({"wording": [r.phrasing for r in base_know], "question": [r.question for r in base_know],
                     "gold": [q.answer for q in KNOW for _ in ASK["phrasings"]],
                     "base": [r.answer for r in base_know], "after LoRA": [r.answer for r in ft_know]})
HTML(side.head(10).to_html(escape=True))  # model text is HTML-escaped
""")
md("""
## 5. One knob: epochs

The learning rate is constant after a 2-step warm-up, so the adapter saved at the end of epoch k is exactly
what a k-epoch run would have produced: we evaluate those saved adapters instead of retraining.
""")
code("""
res_lora.lm = None; del lm, ft_lm; lk.free_memory()  # free the trained model before loading others
knob = []
for epoch in (1, 2):
    ft_lm = lk.load_adapter(lk.load_generator(), f"{res_lora.ckpt_dir}/epoch-{epoch}")
    recs = lk.evaluate_closed_book(ft_lm, KNOW, f"ft-knowledge-lora-{epoch}ep", **ASK)
    knob.append(by_phrasing(recs))
    del ft_lm; lk.free_memory()
knob.append(table.loc[["ft-knowledge-lora"]])
knob = pd.concat(knob)["contains"].unstack()
display(knob)
print(f"epoch 1: {knob.iloc[0]['train']:.0%} on training wordings; epoch {cfg_lora.epochs}: "
      f"{knob.iloc[-1]['train']:.0%}. Held-out: {knob.iloc[0]['heldout']:.0%} -> {knob.iloc[-1]['heldout']:.0%}.")
""")
md("""
## 6. Full fine-tuning, for comparison

Full fine-tuning trains every weight of the 30 blocks. The memory arithmetic is the lesson here: with AdamW
in fp32 every trained weight costs 4 (weight) + 4 (gradient) + 8 (two moments) = 16 bytes: **2.2 GB** for
135M parameters, over this workbook's 1.5 GB budget. Our full run therefore (a) keeps the weights in bf16
(2 + 2 bytes for weight and gradient), (b) uses **Adafactor**, which stores only row and column averages of
the squared gradient (a few MB instead of 0.85 GB), (c) freezes the tied 49152 x 576 embedding/lm_head
(28M parameters), (d) recomputes activations in the backward pass (gradient checkpointing) and (e) takes the
optimizer step *inside* the backward pass, one weight at a time (`lk.StepInBackward`): each weight's gradient
is applied and freed as soon as it is complete, so the bf16 gradients (2 bytes per trained weight, printed
below) never exist at once. The
price of (e): no global gradient-norm clipping (it needs every gradient at once); Adafactor's own update
clipping bounds each step instead. Caveat: with
bf16 weights, updates smaller than half a bf16 step are rounded away; Adafactor's normalised update at
lr 1e-4 is mostly above that. To stay within the time budget it runs for one epoch only, so we compare it
with the LoRA adapter saved after one epoch.
""")
code("""
lm_full = lk.load_generator()
cfg_full = lk.FinetuneConfig(method="full", lr=1e-4, epochs=1, tokens_per_step=512)
res_full = lk.finetune(lm_full, know_examples, cfg_full)
full_know = lk.evaluate_closed_book(res_full.lm, KNOW, "ft-knowledge-full", phrasings=("train",),
                                    max_new_tokens=24, batch_size=16)
res_full.lm = None; del lm_full; lk.free_memory();  # ";": no need to show the RSS it returns
""")
code("""
costs = pd.DataFrame({r.method: {"trainable params (M)": r.trainable_params / 1e6,
                                 "epochs": len(r.epoch_ends), "steps": r.steps, "wall time (s)": r.wall_s,
                                 "training tokens/s": r.tokens_per_s, "achieved GFLOP/s": r.gflops_per_s,
                                 "fraction of bf16 GEMM peak": r.frac_peak,
                                 "same, counting recompute + padding": r.hw_frac_peak,
                                 "process peak RSS after run (MB)": r.peak_rss_mb,
                                 "final loss": r.losses[-1]} for r in (res_lora, res_full)})
costs.loc["accuracy after 1 epoch, training wordings"] = [knob.loc["ft-knowledge-lora-1ep", "train"],
                                                         sum(r.contains for r in full_know) / len(full_know)]
display(costs.round(3))
print(f"GEMM probe peak: {res_lora.peak_gflops:.0f} GFLOP/s ({res_lora.dtype}). LoRA trains "
      f"{res_lora.trainable_params / res_full.trainable_params:.1%} of full's parameters and runs at "
      f"{res_lora.tokens_per_s / res_full.tokens_per_s:.1f}x its tokens/s. Full fine-tuning's bf16 gradients "
      f"would take {res_full.trainable_params * 2 / 2**20:.0f} MB at once without the step in backward.")
""")
md("""
FLOPs are counted from the model's shapes (`lk.train_flops`): the block matmuls (2 FLOP per weight per
token forward, the same again for activation gradients, and once more for weight gradients in full
fine-tuning), attention, and the lm_head **only at answer positions** (we compute logits only there). The
embedding lookup is a gather with no FLOPs, and the recompute of gradient checkpointing is not counted as
useful work (the next row counts it, with the filler tokens that pad rows to a multiple of 64: what the CPU
actually multiplied; PaLM calls the two "model" and "hardware" FLOPs utilisation). So LoRA costs about 4 x 106M FLOP per token and full about 6 x 106M, where 106M is the
non-embedding weight count, not the 135M on the model card.

## 7. Behaviour fine-tune: house style and abstention

The house style is one sentence ending with a source tag, e.g. `Tessavik Instruments was founded in 2014
[about-tessavik].`, and questions the documentation cannot answer get exactly
`I don't know based on the ... documentation.` We train LoRA on other questions than the ones we test.
""")
code("""
lm_b = lk.load_generator()
style_examples = lk.make_examples(STYLE_TRAIN, kind="behaviour", phrasings=("question", "train"))
cfg_style = lk.FinetuneConfig(method="lora", r=8, alpha=16, lr=2e-3, epochs=1, tokens_per_step=512,
                              grad_checkpointing=True)
res_style = lk.finetune(lm_b, style_examples, cfg_style)
ft_style = lk.evaluate_closed_book(res_style.lm, STYLE_TEST, "ft-behaviour-lora", phrasings=("heldout",),
                                   max_new_tokens=40, batch_size=16)
print(f"{len(style_examples)} examples, {res_style.steps} steps, {res_style.wall_s:.0f} s.")
""")
code("""
def behaviour(records):
    df = pd.DataFrame([r.as_dict() for r in records])
    ans, un = df[df.answerable], df[~df.answerable]
    return {"format compliance": df.style_ok.mean(), "abstains when it should": un.abstained.mean(),
            "abstains when it should not": ans.abstained.mean(), "answer correct (answerable)": ans.contains.mean()}
beh = pd.DataFrame({"base": behaviour(base_style), "ft-behaviour-lora": behaviour(ft_style)})
display(beh)
print(f"Format compliance {beh.loc['format compliance', 'base']:.0%} -> {beh.loc['format compliance', 'ft-behaviour-lora']:.0%}; "
      f"abstention on unanswerable questions {beh.loc['abstains when it should', 'base']:.0%} -> "
      f"{beh.loc['abstains when it should', 'ft-behaviour-lora']:.0%} (on answerable ones: "
      f"{beh.loc['abstains when it should not', 'ft-behaviour-lora']:.0%}).")
assert beh.loc["format compliance", "ft-behaviour-lora"] > beh.loc["format compliance", "base"] + 0.5
""")
code("""
show = pd.DataFrame({"question": [r.question for r in base_style], "answerable": [r.answerable for r in base_style],
                     "base": [r.answer for r in base_style], "after behaviour LoRA": [r.answer for r in ft_style]})
HTML(show.iloc[[0, 1, 2, -3, -2, -1]].to_html(escape=True))
""")
md("""
## 8. One table with the other approaches

All answers above are `lk.Record`s, the record notebook 01 uses for RAG; `lk.summarize` gives the columns
that notebook 04 puts side by side.
""")
code("""
records = base_know + ft_know + full_know + base_style + ft_style
lk.summarize(records)[["n", "contains", "f1", "abstain_unans", "hallucination", "style_ok", "p50_latency_s"]]
""")
md("""
## What we measured

- Fine-tuning **does** put facts into the weights, but in the wording it was trained on: accuracy on
  held-out wordings stays far below the training wordings. The vendor article's "not a reliable way to
  teach new facts" holds here; Ovadia et al.'s remedy (many paraphrases per fact) costs training time.
- Fine-tuning **does** teach behaviour cheaply: one epoch of LoRA on a few dozen questions moves format
  compliance and abstention on unseen questions (numbers above). Abstaining is learned as a *pattern*,
  so check the rate on answerable questions too: a model that abstains on everything looks safe and is
  useless.
- LoRA trains under 2% of the parameters and needs a few MB of optimizer state. Compare its speed-up
  per token (printed under the cost table) with what the FLOP count predicts, 6 / 4 = 1.5x: both runs
  recompute the forward under gradient checkpointing, and LoRA's 210 small adapter matmuls (7 modules x
  30 layers) use a CPU less well than the big ones. On a CPU its clearest gains are memory and a 10 MB
  checkpoint.

## Exercises

**Easy.** Change `ASK["phrasings"]` to `("question",)` and re-run section 4's evaluation: how does the
original wording compare to the paraphrases the model also trained on?
""")
code("""
recs = lk.evaluate_closed_book(res_style.lm, KNOW[:4], "exercise", phrasings=("question",), max_new_tokens=24)
[(r.question, r.answer) for r in recs]
""")
md("""
**Medium.** The rank knob: train the knowledge fine-tune with `r=2` and `r=32` (everything else equal) and
compare trainable parameters, loss and held-out accuracy. (Set `epochs=1` first to keep it quick.)
""")
code("""
cfg_r2 = lk.FinetuneConfig(method="lora", r=2, alpha=4, lr=2e-3, epochs=1, tokens_per_step=512,
                           grad_checkpointing=True)
print(cfg_r2)  # then: res = lk.finetune(lk.load_generator(), know_examples, cfg_r2)
""")
md("""
**Hard.** Paraphrase augmentation: add the held-out wordings of *half* of the facts to the training set
(`lk.make_examples(..., phrasings=("question", "train", "heldout"))`) and measure held-out accuracy on the
*other* half. Does seeing more wordings of some facts help the model generalise wording for others?
""")
code("""
half = len(KNOW) // 2
aug = lk.make_examples(KNOW[:half], phrasings=("question", "train", "heldout")) + \\
      lk.make_examples(KNOW[half:], phrasings=("question", "train"))
print(f"{len(aug)} examples instead of {len(know_examples)}; train with lk.finetune(lk.load_generator(), aug, cfg_lora)")
""")
code("""
print(f"notebook wall time {env.elapsed():.0f} s, peak RSS {lk.peak_rss_mb():.0f} MB")
""")

nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
out = Path(__file__).resolve().parent.parent / "02_finetune.ipynb"
nbf.write(nb, out)
print(f"wrote {out}")
