"""Builds notebooks/04_side_by_side.ipynb (run: python notebooks/_build/04_side_by_side.py).

The notebook is then executed in place so it is committed with its outputs (see README, "Contributing").
"""
from pathlib import Path

import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s.strip()))  # noqa: E731
code = lambda s: cells.append(nbf.v4.new_code_cell(s.strip()))  # noqa: E731

md("""
# 04 · Side by side: base, RAG, fine-tuned, hybrid, and a change of facts

Four systems answer the same questions on the same machine:

| system | what it is | built in |
|---|---|---|
| **base** | SmolLM2-135M-Instruct, closed book | 00 |
| **rag** | the base model reading the top-2 retrieved passages (dense + BM25 fused) | 01 |
| **ft** | the base model with notebook 02's *knowledge* LoRA adapter, closed book | 02 |
| **hybrid** | notebook 03's RAFT adapter reading the top-3 retrieved passages | 03 |

Then the knowledge base changes from **v1 to v2** (new prices, limits, dates) and we measure what each
system needs to catch up. Artifacts of earlier notebooks (indexes, adapters) are reused from the cache
when present and rebuilt when absent, with the same calls, so this notebook runs on its own.
""")
code("import labkit as lk; env = lk.setup(seed=0)")
code("""
import dataclasses, random, time
import pandas as pd
print(env)
qa = lk.load_qa()
docs = {v: lk.load_kb(v) for v in ("v1", "v2")}
answerable = [q for q in qa if q.answerable]
unanswerable = [q for q in qa if not q.answerable]
rng = random.Random(0)
KNOW = sorted(rng.sample(answerable, 32), key=lambda q: q.id)  # notebook 02's knowledge facts (same seed)
UNANS = sorted(random.Random(1).sample(unanswerable, 12), key=lambda q: q.id)  # for hallucination
EVAL = KNOW + UNANS
lm, emb = lk.load_generator(), lk.load_embedder()
print(f"evaluation: {len(KNOW)} facts the fine-tune was trained on + {len(UNANS)} unanswerable questions; "
      f"{sum(q.changed_in_v2 for q in KNOW)} of the facts change in v2")
""")
md("""
## 1. Building the four systems, timed

Upfront cost is measured, not assumed: indexing is timed here (`cache=False`: always rebuilt, it takes
seconds); the adapters' training times are the ones recorded when they were trained (in notebooks 02 and
03, or here if the cache was empty).
""")
code("""
def build_index(version, chunk_cfg, fuse_bm25=False):
    t0 = time.perf_counter()
    chunks = lk.chunk_corpus(docs[version], chunk_cfg)
    index = lk.DenseIndex.build(chunks, emb, kind="flat", cache=False)
    if fuse_bm25:  # notebook 01's retriever: dense + BM25, reciprocal-rank fusion
        index = lk.HybridIndex(index, lk.BM25Index(chunks), depth=20)
    return index, time.perf_counter() - t0

RAG_CHUNKS = lk.ChunkConfig(size=60, overlap=15)  # notebook 01's chunks
rag_index, t_rag_index = build_index("v1", RAG_CHUNKS, fuse_bm25=True)
hyb_index, t_hyb_index = build_index("v1", lk.HYBRID_CHUNKS)

# The abstention threshold on retrieval confidence, picked as in notebook 01 on questions outside EVAL.
calib = [q for q in qa if q not in EVAL]
top1 = rag_index.search([q.question for q in calib], k=1).confidence
threshold = lk.pick_threshold(top1[[q.answerable for q in calib]], top1[[not q.answerable for q in calib]],
                           keep=0.95)  # as in notebook 01
print(f"RAG index {t_rag_index:.1f} s, hybrid index {t_hyb_index:.1f} s, threshold {threshold}")
""")
code("""
# Notebook 02's knowledge fine-tune: the same call, so the cached adapter is reused when 02 has run.
# adapter="ft": it is trained (or reloaded) as one more adapter on our one base model, never a copy of it.
cfg_lora = lk.FinetuneConfig(method="lora", r=8, alpha=16, lr=2e-3, epochs=4, tokens_per_step=512,
                             grad_checkpointing=True)  # exactly notebook 02's config
ft_run = lk.finetune(lm, lk.make_examples(KNOW, kind="knowledge", phrasings=("question", "train")),
                     cfg_lora, progress=False, adapter="ft")
ft_lm = ft_run.lm  # a view of lm that answers with the "ft" adapter; lm itself still answers as the base

# Notebook 03's RAFT adapter: the same call, reused when 03 has run.
train_qa, _ = lk.holdout_split(qa, n_eval=48, seed=0)
RAFT = lk.RAFTConfig(p_oracle=0.8, n_distractors=2, phrasings=("question",), seed=0)
FT_RAFT = lk.FinetuneConfig(method="lora", r=8, alpha=16, lr=1e-3, epochs=1, tokens_per_step=512, seed=0,
                            grad_checkpointing=True, recompute_every=2)  # exactly notebook 03's config
raft_run = lk.train_raft(lm, lk.make_raft_examples(train_qa[:48], hyb_index, RAFT), FT_RAFT, progress=False,
                         adapter="raft")
raft_lm = raft_run.lm
for name, run in [("ft (knowledge)", ft_run), ("hybrid (RAFT)", raft_run)]:
    print(f"{name}: {run.wall_s:.0f} s of training ({'reused from the cache' if run.reused else 'trained now'})")
""")
code("""
def systems_for(rag_v2=None, hyb_v2=None):
    return [
        lk.System("base", lk.closed_book(lm, lk.FT_SYSTEM)),
        lk.System("rag", lk.RAGPipeline(lm, rag_index, lk.RAGConfig(top_k=2, min_score=threshold)), rag_v2,
                  upfront_s=t_rag_index),
        lk.System("ft", lk.closed_book(ft_lm, lk.FT_SYSTEM), upfront_s=ft_run.wall_s),
        lk.System("hybrid", lk.HybridPipeline(raft_lm, hyb_index, top_k=RAFT.k), hyb_v2,
                  upfront_s=raft_run.wall_s + t_hyb_index),
    ]

systems = systems_for()
[s.name for s in systems]
""")
md("""
## 2. The panel

Pick a question or type one, choose the knowledge-base version, run: each system's answer, whether it
is right (when the question is in the QA set), the passages it read with the answer highlighted, the
latency split, tokens and the estimated cost per 1,000 queries. Everything shown is HTML-escaped.
Widgets do not render on GitHub or in CI, so the same results follow as a static table.
""")
code("""
panel = lk.Panel(systems, EVAL)
panel.pick.value = KNOW[0].question
panel.run()
panel
""")
code("""
lk.static_table(panel.records)
""")
md("""
## 3. The four-approach table (v1)

Every system answers every evaluation question in its canonical wording, and each fact in one held-out
paraphrase (a wording no training saw). Batched generation, at most 32 new tokens.
""")
code("""
def one_heldout(records):
    return [dataclasses.replace(q, paraphrases_heldout=q.paraphrases_heldout[:1]) for q in records]

t0 = time.perf_counter()
v1_records, heldout_records = [], []
for s in systems:
    v1_records += lk.run_approach(s.name, s.approach("v1"), EVAL, phrasing="question", version="v1")
    heldout_records += lk.run_approach(s.name, s.approach("v1"), one_heldout(KNOW), phrasing="heldout")
print(f"{len(v1_records) + len(heldout_records)} answers in {time.perf_counter() - t0:.0f} s")
""")
md("""
## 4. The freshness experiment: v1 → v2

The documents change. For the facts that changed, each system must now give the v2 answer.

- **rag / hybrid**: re-index the v2 documents (timed), no retraining;
- **ft**: its weights still hold v1: how often does it give the *old* answer?
- **ft retrained**: fine-tune again on the v2 answers (timed; same recipe as notebook 02);
- **base**: nothing to update (it never knew).
""")
code("""
rag_index_v2, t_rag_reindex = build_index("v2", RAG_CHUNKS, fuse_bm25=True)
hyb_index_v2, t_hyb_reindex = build_index("v2", lk.HYBRID_CHUNKS)
systems = systems_for(rag_v2=lk.RAGPipeline(lm, rag_index_v2, lk.RAGConfig(top_k=2, min_score=threshold)),
                      hyb_v2=lk.HybridPipeline(raft_lm, hyb_index_v2, top_k=RAFT.k))
panel.systems = systems  # the panel's v2 toggle now reaches the new indexes

CHANGED = [q for q in KNOW if q.changed_in_v2 and q.answerable_v2]
t0 = time.perf_counter()
KNOW_V2 = [q for q in KNOW if q.is_answerable("v2")]  # a fact may be withdrawn in v2: nothing to learn
ft_v2_run = lk.finetune(lm, lk.make_examples(KNOW_V2, kind="knowledge", phrasings=("question", "train"),
                                             version="v2"),
                        cfg_lora, progress=False, adapter="ft-v2")  # a third adapter on the same base
ft_v2_lm = ft_v2_run.lm
t_retrain = time.perf_counter() - t0
absorb = {"base": float("nan"), "rag": t_rag_reindex, "ft": ft_v2_run.wall_s, "hybrid": t_hyb_reindex}
print(f"re-index v2: RAG {t_rag_reindex:.1f} s, hybrid {t_hyb_reindex:.1f} s; retrain ft on v2: "
      f"{ft_v2_run.wall_s:.0f} s of training ({'reused from the cache' if ft_v2_run.reused else 'trained now'})")
""")
code("""
def old_answer(rec):  # the system said the v1 fact for a question whose fact changed
    q = next(q for q in CHANGED if q.id == rec.qid)
    return lk.contains_gold(rec.answer, [q.answer, *q.aliases]) and not rec.contains

fresh = []
for s in systems:
    fresh += lk.run_approach(s.name, s.approach("v2"), CHANGED, phrasing="question", version="v2")
fresh += lk.run_approach("ft retrained", lk.closed_book(ft_v2_lm, lk.FT_SYSTEM), CHANGED, version="v2")
v1_on_changed = [r for r in v1_records if r.qid in {q.id for q in CHANGED}]
rows = []
for name in ["base", "rag", "ft", "ft retrained", "hybrid"]:
    after = [r for r in fresh if r.approach == name]
    before = [r for r in v1_on_changed if r.approach == name] or None
    rows.append({"system": name,
                 "v1 accuracy on these facts (before)": sum(r.contains for r in before) / len(before) if before else float("nan"),
                 "v2 accuracy (after the update)": sum(r.contains for r in after) / len(after),
                 "gives the old v1 answer": sum(old_answer(r) for r in after) / len(after),
                 "time to absorb v2 (s)": absorb.get(name, ft_v2_run.wall_s if name == "ft retrained" else float("nan"))})
freshness = pd.DataFrame(rows).set_index("system")
print(f"{len(CHANGED)} changed facts")
freshness.round(2)
""")
md("""
The v2 toggle of the panel, on a changed fact: rag and hybrid read the new documents; ft answers from
its v1 weights.
""")
code("""
panel.version.value = "v2"
panel.pick.value = CHANGED[0].question
lk.static_table(panel.run())
""")
md("""
## 5. One table, one chart

Columns: **factual EM / contains** (canonical wording; EM = the reply *is* the gold answer after
normalisation, contains = the gold answer appears in it; sentence-style answers such as the hybrid's
fail EM by construction, so verdicts below use *contains*), the same on **held-out paraphrases**,
**hallucination** (answered an unanswerable question, or answered wrongly without declining),
**format compliance** (house style: one sentence + `[doc-id]`), **p50 latency**, **upfront cost**,
**cost per 1,000 queries** and **time to absorb v2**. Dollars come from measured seconds times the
prices in `lk.CostModel` (one place; edit them).
""")
code("""
cost = lk.CostModel()
print(cost)
s1, sh = lk.summarize(v1_records), lk.summarize(heldout_records)
upfront = {s.name: s.upfront_s for s in systems}
costs = lk.cost_table(v1_records, upfront, cost)
table = pd.DataFrame({
    "factual EM": s1.em, "factual contains": s1.contains,
    "held-out EM": sh.em, "held-out contains": sh.contains,
    "hallucination": s1.hallucination, "format compliance": s1.style_ok,
    "p50 latency (s)": s1.p50_latency_s, "upfront (s)": costs.upfront_s, "upfront (USD)": costs.upfront_usd,
    "USD / 1k queries": costs.usd_per_1k_queries, "time to absorb v2 (s)": pd.Series(absorb),
})
table.round(4)
""")
code("""
import matplotlib.pyplot as plt
metrics = ["factual contains", "held-out contains", "hallucination", "format compliance",
           "p50 latency (s)", "upfront (s)", "USD / 1k queries", "time to absorb v2 (s)"]
fig, axes = plt.subplots(2, 4, figsize=(14, 5.5))
colors = ["#999999", "#1f77b4", "#d62728", "#2ca02c"]
for ax, m in zip(axes.flat, metrics):
    vals = table[m].fillna(0)
    ax.bar(table.index, vals, color=colors)
    ax.set_title(m, fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    for i, (name, v) in enumerate(table[m].items()):
        ax.text(i, vals.iloc[i], "n/a" if pd.isna(v) else f"{v:.3g}", ha="center", va="bottom", fontsize=8)
fig.suptitle("Four approaches, one machine (higher is better only for the accuracy and format panels)")
fig.tight_layout()
""")
md("""
## 6. The seed article's claims, against these numbers

Each verdict is computed from the table above: *holds*, *does not hold*, or *depends* when the
difference is within one question (the smallest difference this sample resolves) or when the claim is
about a scale this lab cannot reach.
""")
code("""
t = table
m_fact = 1 / len(KNOW)  # one fact
be = lk.break_even_queries(t.loc["ft", "upfront (USD)"], t.loc["ft", "USD / 1k queries"] / 1000,
                           t.loc["rag", "upfront (USD)"], t.loc["rag", "USD / 1k queries"] / 1000)
fr = freshness
claims = [
    ("Cost: RAG has a lower upfront cost than fine-tuning",
     lk.verdict(t.loc["rag", "upfront (s)"], t.loc["ft", "upfront (s)"], 0.5, higher_is_better=False),
     f"{t.loc['rag', 'upfront (s)']:.1f} s vs {t.loc['ft', 'upfront (s)']:.0f} s of machine time"),
    ("Cost: fine-tuning has a lower ongoing (per-query) cost than RAG",
     lk.verdict(t.loc["ft", "USD / 1k queries"], t.loc["rag", "USD / 1k queries"], 1e-6, higher_is_better=False),
     f"${t.loc['ft', 'USD / 1k queries']:.4f} vs ${t.loc['rag', 'USD / 1k queries']:.4f} per 1k queries; "
     f"fine-tuning pays back its training after {be:,.0f} queries"),
    ("Deployment time: RAG is faster to deploy",
     lk.verdict(t.loc["rag", "upfront (s)"], t.loc["ft", "upfront (s)"], 0.5, higher_is_better=False),
     "seconds vs minutes here; the article's days vs months are about data work we do not measure"),
    ("Scalability / maintenance: RAG absorbs changed knowledge without retraining, faster",
     lk.verdict(absorb["rag"], absorb["ft"], 0.5, higher_is_better=False),
     f"re-index {absorb['rag']:.1f} s vs retrain {absorb['ft']:.0f} s"),
    ("Fine-tuned knowledge becomes outdated (ft gives old answers after the update)",
     "holds" if fr.loc["ft", "gives the old v1 answer"] > 0 else "does not hold",
     f"old v1 answer on {fr.loc['ft', 'gives the old v1 answer']:.0%} of {len(CHANGED)} changed facts"),
    ("Accuracy: RAG has higher factual accuracy than fine-tuning (held-out wording)",
     lk.verdict(t.loc["rag", "held-out contains"], t.loc["ft", "held-out contains"], m_fact),
     f"{t.loc['rag', 'held-out contains']:.2f} vs {t.loc['ft', 'held-out contains']:.2f}"),
    ("Accuracy: fine-tuning has high behavioural accuracy (format: hybrid, fine-tuned for it, vs RAG)",
     lk.verdict(t.loc["hybrid", "format compliance"], t.loc["rag", "format compliance"], 1 / len(EVAL)),
     f"{t.loc['hybrid', 'format compliance']:.2f} vs {t.loc['rag', 'format compliance']:.2f}"),
    ("Hallucination: RAG has a lower hallucination risk than fine-tuning",
     lk.verdict(t.loc["rag", "hallucination"], t.loc["ft", "hallucination"], 1 / len(EVAL), higher_is_better=False),
     f"{t.loc['rag', 'hallucination']:.2f} vs {t.loc['ft', 'hallucination']:.2f}"),
    ("Latency: fine-tuned models respond faster (no retrieval step)",
     lk.verdict(t.loc["ft", "p50 latency (s)"], t.loc["rag", "p50 latency (s)"], 0.01, higher_is_better=False),
     f"p50 {t.loc['ft', 'p50 latency (s)']:.2f} s vs {t.loc['rag', 'p50 latency (s)']:.2f} s"),
    ("Hybrid: better accuracy than RAG (held-out wording)",
     lk.verdict(t.loc["hybrid", "held-out contains"], t.loc["rag", "held-out contains"], m_fact),
     f"{t.loc['hybrid', 'held-out contains']:.2f} vs {t.loc['rag', 'held-out contains']:.2f}"),
    ("Hybrid: lower hallucination risk than RAG",
     lk.verdict(t.loc["hybrid", "hallucination"], t.loc["rag", "hallucination"], 1 / len(EVAL), higher_is_better=False),
     f"{t.loc['hybrid', 'hallucination']:.2f} vs {t.loc['rag', 'hallucination']:.2f}"),
    ("Hybrid: up-to-date facts without retraining (v2 accuracy vs stale ft)",
     lk.verdict(fr.loc["hybrid", "v2 accuracy (after the update)"], fr.loc["ft", "v2 accuracy (after the update)"],
                1 / len(CHANGED)),
     f"{fr.loc['hybrid', 'v2 accuracy (after the update)']:.2f} vs {fr.loc['ft', 'v2 accuracy (after the update)']:.2f}"),
]
verdicts = pd.DataFrame(claims, columns=["claim (seed article)", "verdict", "measured"]).set_index("claim (seed article)")
verdicts
""")
md("""
What the verdicts rest on: a 135M-parameter model, 32 facts and 12 unanswerable questions, one machine.
The *direction* of a verdict is the lesson; the size would change with a larger model (the published
comparisons in `shared/references.md`, e.g. Ovadia et al. 2024 with 7B models, found RAG ahead of
fine-tuning for knowledge on every model they tried). Latency and cost are measured on this 2-core machine
while other work may share it: compare them across systems, not across machines.
""")
md("""
## Exercises

**Easy.** Type your own question into the panel (here: in code) and see which system answers it; with
no gold answer the verdict column says so.

**Medium.** Price the systems as if the generator were a hosted API: set `api_usd_per_m_prompt_tokens`
and `api_usd_per_m_completion_tokens` in `lk.CostModel` (use a provider's published price) and recompute
the cost columns. Which system's per-query cost grows most, and why (look at the prompt tokens)?

**Hard.** Is RAFT's "answer from memory" fraction (`1 - p_oracle`) a risk for freshness? Train the hybrid
with `p_oracle=1.0` and measure its share of old v1 answers on the changed facts. Set `RUN_HARD = True`.
""")
code("""
# Easy
panel.version.value, panel.typed.value = "v1", "Does Tessavik sell anything to <b>penguins</b>?"
lk.static_table(panel.run())[["answer", "verdict", "latency_s"]]
""")
code("""
# Medium
api = lk.CostModel(api_usd_per_m_prompt_tokens=0.15, api_usd_per_m_completion_tokens=0.60)  # an assumed price
lk.cost_table(v1_records, upfront, api).join(lk.summarize(v1_records)[["prompt_tokens"]]).round(5)
""")
code("""
# Hard
RUN_HARD = False
if RUN_HARD:
    cfg_p1 = lk.RAFTConfig(p_oracle=1.0, n_distractors=2, phrasings=("question",), seed=0)
    run_p1 = lk.train_raft(lm, lk.make_raft_examples(train_qa[:48], hyb_index, cfg_p1), FT_RAFT, adapter="p1")
    recs = lk.run_approach("hybrid p=1.0", lk.HybridPipeline(run_p1.lm, hyb_index_v2, top_k=3),
                           CHANGED, version="v2")
    print(sum(old_answer(r) for r in recs) / len(recs), "old answers; p=0.8:", freshness.loc["hybrid", "gives the old v1 answer"])
""")
md("## Run report")
code("""
print(f"wall time {env.elapsed():.0f} s, peak RSS {lk.peak_rss_mb():.0f} MB")
""")

nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
out = Path(__file__).resolve().parent.parent / "04_side_by_side.ipynb"
nbf.write(nb, out)
print(f"wrote {out}")
