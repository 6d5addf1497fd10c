# %% [markdown]
# # 04 · Side by side: base, RAG, fine-tuned, hybrid, and a change of facts
#
# Five systems answer the same test questions, in the same held-out wordings, on the same machine:
#
# | system | what it is | built in |
# |---|---|---|
# | **base** | SmolLM2-135M-Instruct, closed book (`lk.ClosedBook`) | 00 |
# | **rag** | the base model reading retrieved passages (fused dense + BM25; k and threshold chosen on dev) | 01 |
# | **ft** (fact cards) | the base model with the *knowledge* LoRA adapter trained on every fact card, test facts included (an upper bound no team has), closed book | 02 |
# | **ft (documents)** | the same recipe on what the documents alone give (generated cloze cards + the documents' text): the fine-tune a team really has | 02 |
# | **hybrid** | the RAFT adapter (trained on the train questions) reading the top 3 passages, how readily it declines chosen on dev | 03 |
#
# Then the knowledge base changes from **v1 to v2** (new prices, limits, dates) and we measure what each
# system needs to catch up. Every system is built by the same `lk` call as in its own notebook, so adapters,
# dev choices and test records come from the cache when notebooks 00-03 ran first, and are rebuilt here
# otherwise.

# %%
import labkit as lk; env = lk.setup(seed=0)

# %%
import time
import numpy as np, pandas as pd, matplotlib.pyplot as plt
from IPython.display import HTML

qa = lk.load_qa()
split = lk.workbook_split(qa)
docs = {v: lk.load_kb(v) for v in ("v1", "v2")}
lm, emb = lk.load_generator(), lk.load_embedder()

# %% [markdown]
# ## 1. The five systems, and what building them cost
#
# Upfront cost is measured, not assumed: indexing is timed here (`cache=False`: always rebuilt, it takes
# seconds); training times are the ones recorded when each adapter was trained (in notebooks 02 and 03, here
# if the cache was empty, or on the reference machine for a shipped adapter: the cell below says which).

# %% tags=["nbval-ignore-output"]
def timed_retriever(version):
    t0 = time.perf_counter()
    r = lk.build_retriever(docs[version], emb, cache=False)
    return r, time.perf_counter() - t0

retriever, t_index = timed_retriever("v1")
t0 = time.perf_counter()
rag, *_ = lk.tuned_rag(lm, retriever, split)
ft, ft_run, ft_choice = lk.knowledge_ft(lm, qa, split)
ft_docs, docs_run, _ = lk.document_ft(lm, docs["v1"], split)
hybrid, raft_run = lk.raft_hybrid(lm, retriever, split)
base = lk.ClosedBook(lm)
print(f"index built in {t_index:.1f} s; systems ready in {time.perf_counter() - t0:.0f} s; weights:")
for n, r in [("ft", ft_run), ("ft (documents)", docs_run), ("hybrid", raft_run)]:
    print(f"  {n}: {lk.trained_where(r)}")
upfront = {"base": 0.0, "rag": t_index, "ft": ft_run.wall_s, "ft (documents)": docs_run.wall_s,
           "hybrid": raft_run.wall_s + t_index}
pd.Series(upfront, name="upfront machine time (s)").round(1).to_frame()

# %% [markdown]
# ## 2. The panel
#
# Pick a question or type one, choose the knowledge-base version, run: each system's answer, whether it is
# right (when the question is in the QA set), the passages it read with the answer highlighted, the latency
# split, tokens and the estimated cost per 1,000 queries. Everything shown is HTML-escaped. Widgets do not
# render on GitHub or in CI, so the same results follow as a static table.
#
# The panel prices *this* question as it ran, alone (batch 1, its own latency and tokens). The table in §3
# prices the whole test set answered in batches of 8, where a decode step serves 8 answers at once: its
# cost per query is lower, and a system with long prompts (RAG, the hybrid) gains less from batching than
# one with short prompts, so the two can even order the systems differently.

# %% tags=["nbval-ignore-output"]
def systems_for(rag_v2=None, hyb_v2=None):
    return [lk.System("base", base), lk.System("rag", rag, rag_v2, upfront_s=upfront["rag"]),
            lk.System("ft", ft, upfront_s=upfront["ft"]),
            lk.System("ft (documents)", ft_docs, upfront_s=upfront["ft (documents)"]),
            lk.System("hybrid", hybrid, hyb_v2, upfront_s=upfront["hybrid"])]

systems = systems_for()
panel = lk.Panel(systems, list(split.test))
panel.pick.value = split.test[0].question
panel.run()
panel

# %% tags=["nbval-ignore-output"]
lk.static_table(panel.records)

# %% [markdown]
# ## 3. The five-system table (v1, test questions)
#
# In the tables, **ft (fact cards)** is the `ft` system: the upper bound, trained on the test facts' own cards.
#
# Every system's test records (held-out wordings) come from the same harness; the ones computed in
# notebooks 00-03 come back from the cache. Latency is measured here, like for like: each system answers the
# same test questions as notebooks 01 and 05 (`lk.latency_probe`: the first `lk.LATENCY_PROBES`) one at a time
# (batch 1), as one user would ask.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
records = [r for s in systems for r in lk.run_approach(s.approach("v1"), split.test)]
t_records = time.perf_counter() - t0
probe = lk.latency_probe(split)  # the questions 01 and 05 time too
latency = {s.name: (lk.latency_batch1(s.approach("v1"), probe).total_ms / 1e3).tolist() for s in systems}
print(f"{len(records)} test records in {t_records:.0f} s (cached ones cost nothing); "
      f"{len(probe)} x {len(systems)} single-question timings")

# %%
names = [s.name for s in systems]
rates = lk.rate_table(records, ["accuracy", "coverage", "selective_accuracy", "confidently_wrong",
                                "over_abstention", "correct_abstention", "hallucination", "citation_accuracy"])
cost = lk.CostModel()
costs = lk.cost_table(records, upfront, cost)
table = rates.assign(**{
    "p50 latency, batch 1 (s)": {n: f"{np.median(latency[n]):.2f}" for n in names},
    "machine s / query (batch 8)": costs.s_per_query.round(3),
    "USD / 1k queries (batch 8)": costs.usd_per_1k_queries.map(lambda v: f"{v:.4f}"),
    "upfront (s)": pd.Series(upfront).round(1)})
LABELS = {"ft": "ft (fact cards)"}  # what each fine-tune saw, in every table
table.rename(index=LABELS).T

# %% [markdown]
# *Coverage* is the share of answerable questions a system answers at all; *selective accuracy* is its
# accuracy on those it answers, so a system that declines often is compared at what it does answer.
# *Citation accuracy*: among answered questions with a cited document, the share whose every cited document
# holds the answer (a tag naming no real document counts as wrong).
#
# Read *hallucination* with its two parts beside it: *confidently wrong* on answerable questions and the
# unanswerable questions answered anyway (1 − *correct abstention*). The chart shows the rates with their
# 95% intervals; where two bars' intervals overlap, look at the paired verdicts below before concluding.

# %%
fig, ax = plt.subplots(figsize=(11, 3.6))
lk.plot_rates(records, ["accuracy", "confidently_wrong", "over_abstention", "correct_abstention"],
              approaches=names, ax=ax, title="Test questions, held-out wordings (95% intervals)")
plt.tight_layout(); plt.show()
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.boxplot([latency[n] for n in names], tick_labels=names, orientation="horizontal")
ax.set(xlabel="seconds, one question alone (batch 1)", title=f"Latency on {len(probe)} test questions")
plt.tight_layout(); plt.show()

# %% [markdown]
# **Retrieval or reading?** For every answerable test question, was the gold answer in what each system was
# shown, and what did it make of it (`lk.error_breakdown`, introduced in notebook 01)?

# %%
breakdown = lk.error_breakdown(records, split.test).rename(index=LABELS)
lk.plot_error_breakdown(breakdown, title="Answerable test questions: where each answer went")
plt.tight_layout(); plt.show()
breakdown

# %% [markdown]
# ## 4. The freshness experiment: v1 → v2
#
# The documents change. For the test facts that changed, each system must now give the v2 answer.
#
# - **rag / hybrid**: re-index the v2 documents (timed), no retraining;
# - **ft**: its weights still hold v1: how often does it give the *old* answer?
# - **ft updated**: the fine-tune's chosen v1 adapter, trained on for two more epochs on the fact cards whose
#   answer changed (`lk.knowledge_update`, timed): the cheap update a team would ship. Cheap, but does it
#   forget the facts that did not change? We ask both kinds.
# - **base**: nothing to update (it never knew).

# %% tags=["nbval-ignore-output"]
retriever_v2, t_reindex = timed_retriever("v2")
rag_v2 = lk.RAGPipeline(lm, retriever_v2, rag.cfg, name="rag")
hybrid_v2 = hybrid.replace(retriever=retriever_v2)
systems = systems_for(rag_v2, hybrid_v2)
panel.systems = systems  # the panel's v2 toggle now reaches the new indexes
ft_updated, update_run = lk.knowledge_update(lm, qa, ft_run, ft_choice)
absorb = {"base": float("nan"), "rag": t_reindex, "ft": float("nan"), "ft updated": update_run.wall_s,
          "hybrid": t_reindex}
print(f"re-index v2: {t_reindex:.1f} s; update the fine-tune: {update_run.wall_s:.0f} s of training on "
      f"{sum(q.changed_in_v2 and q.answerable_v2 for q in qa)} changed facts "
      f"({'reused from the cache' if update_run.reused else 'trained now'})")

# %%
changed = [q for q in split.test if q.changed_in_v2 and q.answerable_v2]
kept = [q for q in split.test if q.answerable and not q.changed_in_v2]  # same answer in v1 and v2
fresh = [r for s in systems for r in lk.run_approach(s.approach("v2"), changed, version="v2")]
fresh += lk.run_approach(ft_updated, changed, version="v2")
old = {q.id: [q.answer, *q.aliases] for q in changed}

def gave_old_answer(r):  # says the v1 fact, not the v2 one
    return lk.contains_gold(r.answer, old[r.qid]) and not r.contains

changed_ids = {q.id for q in changed}
rows = {}
for name in ["base", "rag", "ft", "ft updated", "hybrid"]:
    after = [r for r in fresh if r.approach == name]
    was = "ft" if name == "ft updated" else name  # before its update, "ft updated" was "ft"
    v1 = [r for r in records if r.approach == was and r.qid in changed_ids]
    rows[name] = {"v1 accuracy on these facts (before)": lk.rates(v1, "accuracy"),
                  "v2 accuracy (after the update)": lk.rates(after, "accuracy"),
                  "gives the old v1 answer": lk.rate([gave_old_answer(r) for r in after]),
                  "time to absorb v2 (s)": round(absorb[name], 1)}
freshness = pd.DataFrame(rows).T
freshness.astype(str)

# %%
n_new = sum(not q.is_answerable("v1") for q in changed)  # facts the v1 documents do not hold at all
lk.say(f"The v1 column asks {len(changed) - n_new} of the {len(changed)} changed facts: the other {n_new} are new "
       f"in v2 (the v1 documents had no answer), so only the v2 columns ask them.")

# %% [markdown]
# **Forgetting.** The update trained only on changed facts. On the test facts that did *not* change, is
# the updated fine-tune still as accurate as before (same questions, paired)?

# %% tags=["nbval-ignore-output"]
forgetting, kept_before, kept_after = lk.forgetting(records, ft_updated, kept)  # notebook 05 asks the same
lk.say(f"Unchanged test facts: the fine-tune answered {lk.rates(kept_before, 'accuracy')} before the update and "
       f"{lk.rates(kept_after, 'accuracy')} after it. \"Before is better than after\" (forgetting) "
       f"**{forgetting.text}** ({forgetting.diff}).")

# %%
fig, ax = plt.subplots(figsize=(9, 3.2))
x = np.arange(len(rows))
bars = [("v1 accuracy on these facts (before)", "#9ecae1"), ("v2 accuracy (after the update)", "#2ca02c"),
        ("gives the old v1 answer", "#d62728")]
for i, (col, color) in enumerate(bars):
    rs = [rows[n][col] for n in rows]
    ax.bar(x + (i - 1) * 0.27, [r.value for r in rs], 0.27, color=color, label=col, capsize=3,
           yerr=[[r.value - r.low for r in rs], [r.high - r.value for r in rs]])
ax.set_xticks(x, list(rows)); ax.set_ylim(0, 1.05); ax.legend(fontsize=8)
ax.set(ylabel="share of the changed test facts", title="Before and after the v1 → v2 update (95% intervals)")
plt.tight_layout(); plt.show()

# %% [markdown]
# The v2 toggle of the panel, on a changed fact: rag and hybrid read the new documents; ft answers from
# its weights, whatever they hold.

# %% tags=["nbval-ignore-output"]
panel.version.value = "v2"
panel.pick.value = changed[0].question
lk.static_table(panel.run())

# %% [markdown]
# ## 5. The seed article's claims, against these numbers
#
# Rates are compared with paired bootstrap intervals over the same test questions (`lk.claim`): a claim
# *holds* or *does not hold* only when the interval of the difference excludes zero. Single measurements
# (an indexing time, a training time) have no interval: `lk.verdict_once` calls them only when one is at
# least 1.5 times the other, well outside how much repeated runs of one timing vary (`lk.RUN_SPREAD`).

# %%
def paired_seconds(a, b):  # machine time per query of two approaches, question by question
    sa = {r.qid: r.latency for r in records if r.approach == a}
    sb = {r.qid: r.latency for r in records if r.approach == b}
    return [sa[k] for k in sorted(sa)], [sb[k] for k in sorted(sa)]

def rate_of(name, metric):
    return lk.rates([r for r in records if r.approach == name], metric)

def acc_of(name):
    return rate_of(name, "accuracy")

def claimed(label, a, b, metric, caveat, **kw):
    """One row of the table: the claim's paired verdict on the test records, computed once."""
    c = lk.claim(records, a, b, metric, **kw)
    return label, c, str(c.diff), caveat

stale_old = rows["ft"]["gives the old v1 answer"]
hyb_v2 = [r.contains for r in fresh if r.approach == "hybrid"]
ft_v1w = [r.contains for r in fresh if r.approach == "ft"]
fresh_v = lk.verdict(hyb_v2, ft_v1w)
retrieval_r3 = lk.retrieval_metrics(retriever, split.test, ks=[3], phrasing="heldout")["recall@3"]
hyb_over, rag_over = rate_of("hybrid", "over_abstention"), rate_of("rag", "over_abstention")
tokens = lk.summarize(records)[["prompt_tokens", "completion_tokens"]]  # mean per query

# Each row: the claim, its verdict, what was measured, and the caveat it is read with (printed below).
claims = [
    (lk.seed_claim("query_cost"), lk.verdict(*paired_seconds("ft", "rag"), higher_is_better=False),
     f"{costs.loc['ft', 's_per_query']:.3f} vs {costs.loc['rag', 's_per_query']:.3f} machine s per query (batch 8)",
     f"Per-query cost is machine time at batch 8: prompt length (prefill) against answer length (decode). RAG's "
     f"prompt holds its passages ({tokens.loc['rag', 'prompt_tokens']:.0f} vs {tokens.loc['ft', 'prompt_tokens']:.0f} "
     f"prompt tokens per query)."),
    (lk.seed_claim("maintenance"), lk.verdict_once(absorb["rag"], absorb["ft updated"], higher_is_better=False),
     f"re-index {absorb['rag']:.1f} s vs update {absorb['ft updated']:.0f} s of training",
     f"The update is fast because it trains on the changed facts alone, and it forgets: on unchanged facts the "
     f"fine-tune went from {lk.rates(kept_before, 'accuracy')} to {lk.rates(kept_after, 'accuracy')} "
     f"(forgetting {forgetting.text}). A full retrain avoids that and costs the fine-tune's "
     f"{upfront['ft']:.0f} s again."),
    (lk.seed_claim("stale"), "holds" if stale_old.low > 0 else f"not resolved at n = {stale_old.n}",
     f"old v1 answer: {stale_old}",
     f"The fine-tune recalled few changed facts in their held-out wording even before the update "
     f"({rows['ft']['v1 accuracy on these facts (before)']}), so there are few old answers to give: staleness "
     f"needs knowledge first."),
    claimed(lk.seed_claim("accuracy"), "rag", "ft", "accuracy",
            f"The retriever puts a gold document in the top 3 for {retrieval_r3:.0%} of the test wordings, yet RAG "
            f"answers {acc_of('rag')} of the questions: the 135M reader misreads the passages it gets (notebook 01's "
            f"error analysis). The fine-tune saw every test fact's own card, an advantage no team has (ft (documents): "
            f"{acc_of('ft (documents)')}). With 7B models Ovadia et al. measured RAG far ahead (Mistral-7B .875 vs "
            f".504 for fine-tuning on the text, .588 with 10 paraphrases per fact)."),
    claimed(lk.seed_claim("accuracy_docs"), "rag", "ft (documents)", "accuracy",
            f"What a team really has: the documents' text and cards generated from it. The fine-tune recalls "
            f"{acc_of('ft (documents)')} of the facts in held-out wordings; knowledge injected by fine-tuning needs "
            f"many paraphrases per fact (Ovadia et al.), and RAG needs none."),
    claimed(lk.seed_claim("format"), "hybrid", "rag", "style_answered", common=True, caveat=
            "RAG gets the house style from a template (its answer, then the document it read), without training: "
            "for a format this simple, code is enough. Fine-tuning earns its place for what a template cannot "
            "write (tone, structure, when to decline)."),
    claimed(lk.seed_claim("confidently_wrong"), "rag", "ft", "confidently_wrong", higher_is_better=False, caveat=
            f"Coverage of the answerable questions: RAG {rate_of('rag', 'coverage')}, ft {rate_of('ft', 'coverage')}; "
            f"a reader that misreads is as confidently wrong as a model that misremembers. Larger readers copy "
            f"answers from context far more reliably (Soudani et al.: FlanT5-small 2.7% → 47.5% with an ideal "
            f"retriever)."),
    claimed(lk.seed_claim("confidently_wrong_docs"), "rag", "ft (documents)", "confidently_wrong",
            higher_is_better=False, caveat=
            f"The document fine-tune is confidently wrong on {rate_of('ft (documents)', 'confidently_wrong')} of "
            f"the answerable questions; RAG also declines {rag_over} of them, each one confident error fewer and one "
            f"right answer fewer."),
    claimed(lk.seed_claim("declines_unanswerable"), "rag", "ft", "correct_abstention",
            f"RAG declines when its best passage scores below the dev-tuned threshold or the reader says so; read it "
            f"with the price: it also declines {rag_over} of the answerable questions (coverage "
            f"{rate_of('rag', 'coverage')})."),
    (lk.seed_claim("latency"), lk.verdict(latency["ft"], latency["rag"], higher_is_better=False, statistic="median"),
     f"{np.median(latency['ft']):.2f} s vs {np.median(latency['rag']):.2f} s",
     f"A closed-book answer skips retrieval and the passages' prefill; completion tokens per answer: "
     f"{tokens.loc['ft', 'completion_tokens']:.1f} (ft) vs {tokens.loc['rag', 'completion_tokens']:.1f} (rag). Notebook 05 splits the time by stage."),
    claimed(lk.seed_claim("hybrid_accuracy"), "hybrid", "rag", "accuracy",
            f"RAFT trained on {len(split.train)} questions, one wording each, for {lk.RAFT_FT.epochs} epoch(s); it "
            f"learned the house style and when to decline (how readily: chosen on dev, decline bias "
            f"{hybrid.decline_bias:g}; over-abstention {hyb_over}), not to read better (notebook 03's reader ceiling). "
            f"The paper trains 7B models with 4 distractors and chains of thought: LLaMA2-7B 74.0% with RAFT vs 42.6% "
            f"for a domain fine-tune plus RAG on HuggingFace API questions."),
    claimed(lk.seed_claim("hybrid_confidently_wrong"), "hybrid", "rag", "confidently_wrong", higher_is_better=False,
            caveat=
            f"The hybrid declines more answerable questions than RAG (over-abstention {hyb_over} vs {rag_over}): each "
            f"decline is one confident error fewer and one correct answer fewer alike, so read it with coverage beside it."),
    claimed(lk.seed_claim("hybrid_selective"), "hybrid", "rag", "selective_accuracy", common=True, caveat=
            "Compared on the same answered questions, declining no longer helps: what is left is how each reads."),
    (lk.seed_claim("hybrid_fresh"), fresh_v, str(fresh_v.diff),
     f"The hybrid reads the new documents ({rows['hybrid']['v2 accuracy (after the update)']} on the changed "
     f"facts) while the fine-tune answers from v1 weights; like RAG, it still misreads many of them at this size."),
]
key_of = {c.text: key for key, c in lk.SEED_CLAIMS.items()}
verdict_of = {key_of[label]: getattr(v, "text", v) for label, v, _, _ in claims}  # "holds", "not resolved at n = ..."
verdicts = pd.DataFrame([(label, getattr(v, "text", v), measured) for label, v, measured, _ in claims],
                        columns=["claim (seed article)", "verdict", "measured"]).set_index("claim (seed article)")
verdicts

# %%
counts = verdicts.verdict.map(lambda v: v.split(" at ")[0]).value_counts()
d = lk.claim(records, "rag", "ft", "accuracy").diff
lk.say("Of the article's claims decided here: " + ", ".join(f"**{n}** {v}" for v, n in counts.items()) + ". "
       f"Accuracy is measured on {len(split.test)} test questions ({sum(q.answerable for q in split.test)} "
       f"answerable): a paired accuracy difference here has an interval about ±{(d.high - d.low) / 2:.2f} wide, "
       f"so smaller differences stay unresolved. Decided in notebook 05, where they are measured: "
       + "; ".join(lk.decided_elsewhere("04_side_by_side")) + ".")

# %% [markdown]
# **Checking the verdicts.** Each paired verdict must agree with its own interval, and each interval must
# come from this run's records: its point estimate is the difference of the two systems' rates, computed
# separately. The claims decided by a wide margin must come out the same way on any CPU, in bf16 or float32;
# the others may move between machines, which is what "not resolved" warns about.

# %%
paired_claims = {key_of[label]: v for label, v, _, _ in claims if isinstance(v, lk.Verdict)}
for key, v in paired_claims.items():
    lo, mid, hi = v.diff.low, v.diff.diff, v.diff.high
    assert lo <= mid <= hi, (key, v)
    assert v.text == ("holds" if lo > 0 else "does not hold" if hi < 0 else f"not resolved at n = {v.diff.n}"), (key, v)

n_answerable = sum(q.answerable for q in split.test)
for key, a, b, metric, sign in [("accuracy", "rag", "ft", "accuracy", 1),
                                ("accuracy_docs", "rag", "ft (documents)", "accuracy", 1),
                                ("confidently_wrong", "rag", "ft", "confidently_wrong", -1),
                                ("confidently_wrong_docs", "rag", "ft (documents)", "confidently_wrong", -1),
                                ("declines_unanswerable", "rag", "ft", "correct_abstention", 1),
                                ("hybrid_accuracy", "hybrid", "rag", "accuracy", 1),
                                ("hybrid_confidently_wrong", "hybrid", "rag", "confidently_wrong", -1)]:
    d, ra, rb = paired_claims[key].diff, rate_of(a, metric), rate_of(b, metric)
    assert d.n == ra.n == rb.n, (key, d, ra, rb)
    assert d.n == (len(split.test) - n_answerable if metric == "correct_abstention" else n_answerable), key
    assert abs(d.diff - sign * (ra.value - rb.value)) < 1e-9, (key, d, ra, rb)
assert paired_claims["hybrid_fresh"].diff.n == len(changed)
assert verdict_of["stale"] == ("holds" if stale_old.k > 0 else f"not resolved at n = {stale_old.n}")

# decided by a wide margin on every run so far (AMD and Intel, bf16 and float32):
for key in ("maintenance", "accuracy_docs", "confidently_wrong_docs", "declines_unanswerable"):
    assert verdict_of[key] == "holds", (key, verdicts.loc[lk.SEED_CLAIMS[key].text].to_dict())
assert np.median(latency["ft"]) < np.median(latency["rag"]), "closed book skips retrieval and the passages' prefill"
assert costs.loc["ft", "s_per_query"] < costs.loc["rag", "s_per_query"], "ft's prompt holds no passages"
assert paired_claims["hybrid_fresh"].diff.diff > 0, "reading the v2 documents beats weights that hold v1"

# %% [markdown]
# ### Every claim with its caveat, and what larger models do
#
# What the verdicts rest on: a 135M-parameter model read by rules, one machine, one split. Where a claim
# fails or cannot be resolved here, that is a finding about this scale, not a refutation; where it holds,
# the caveat says what it rests on. Published work on larger models: `docs/references.md`. Latency and cost
# are measured on this 2-core machine while other work may share it: compare them across systems, not
# across machines.

# %%
for label, v, _, caveat in claims:
    lk.say(f"**{label}**: {getattr(v, 'text', v)}. {caveat}")

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a check (`lk.check`, notebook 00): run the cell after your change and it prints
# **✓** when the change did what was asked, or **✗ not yet** with a hint (as shipped, "not yet").
#
# **Easy.** Type your own question into the panel (here: in code, `my_question`) and see which system answers
# it; with no gold answer the verdict column says so.
#
# *What you should see:* if your question is in the QA set in any wording, each system gets a ✓ or ✗ verdict;
# otherwise "— (no gold)", and you judge from the `passages` column: base and the two fine-tunes answer from
# their weights (fluent, often invented, no passages), rag and the hybrid from the passages listed, or they
# decline with the abstention sentence. The shipped example also shows escaping: its `<b>` tags stay text.

# %% tags=["nbval-ignore-output"]
example = "Does Tessavik sell anything to <b>penguins</b>?"
my_question = example  # your change here: a question of your own about Tessavik
panel.version.value, panel.typed.value = "v1", my_question
answers_mine = lk.static_table(panel.run())
display(answers_mine[["answer", "verdict", "passages", "latency_s"]])
lk.check(panel.question() == my_question.strip() and my_question.strip() != example,
         "your own question asked of every system", hint="set my_question to a question of your own");

# %% [markdown]
# **Medium.** Price the systems as if the generator were a hosted API: set the USD per million prompt and
# completion tokens (use a provider's published price) and recompute the cost columns. Which system's
# per-query cost grows most, and why (look at the prompt tokens)?
#
# *What you should see:* every system costs more, and what the API adds is its tokens times the prices: the
# systems that put passages in the prompt (rag and the hybrid: compare `prompt_tokens`) have the most added,
# unless completion tokens are priced far above prompt tokens: the closed-book systems send only the question
# and differ by how long they answer (`completion_tokens`). The self-hosted column stays as it was.

# %% tags=["nbval-ignore-output"]
api_prompt, api_completion = None, None  # your change here: USD per million prompt and completion tokens
api = lk.CostModel(api_usd_per_m_prompt_tokens=api_prompt, api_usd_per_m_completion_tokens=api_completion)
self_hosted, hosted = lk.cost_table(records, upfront, cost), lk.cost_table(records, upfront, api)
tok = lk.summarize(records)[["prompt_tokens", "completion_tokens"]]
display(pd.DataFrame({"USD / 1k queries, self-hosted": self_hosted.usd_per_1k_queries,
                      "USD / 1k queries, with the API": hosted.usd_per_1k_queries,
                      "added by the API": hosted.usd_per_1k_queries - self_hosted.usd_per_1k_queries}).join(tok).round(5))
lk.check(api.api_usd_per_m_prompt_tokens is not None and api.api_usd_per_m_completion_tokens is not None,
         "the systems priced with a hosted API's token prices",
         hint="set api_prompt and api_completion to a provider's published USD per million tokens");

# %% [markdown]
# **Hard.** Is RAFT's "answer from memory" fraction (`1 - p_oracle`) a risk for freshness? Train the hybrid
# with `p_oracle=1.0` (the oracle in every training example, everything else as in `lk.RAFT`) and measure its
# share of old v1 answers on the changed facts after re-indexing v2. Set `p_oracle_try` and `RUN_HARD = True`:
# it trains one more RAFT adapter, about as long as the hybrid's own training (the cell prints that recorded
# time), and chooses its decline bias on dev.
#
# *What you should see:* few or no old answers either way. The hybrid trains on the train questions only, so
# it never memorised a test fact's v1 value to fall back on; what `1 - p_oracle` teaches is to answer when the
# oracle is missing, which on a test fact means guessing from the passages, not recalling. Both shares are
# counts over the same changed facts: compare their intervals.

# %% tags=["nbval-ignore-output"]
import dataclasses

RUN_HARD = False  # True: trains one more RAFT adapter
p_oracle_try = lk.RAFT.p_oracle  # your change here: 1.0, the oracle in every training example
cfg_p = dataclasses.replace(lk.RAFT, p_oracle=p_oracle_try)
print(f"p_oracle = {cfg_p.p_oracle:g}; the hybrid's RAFT training took {raft_run.wall_s:.0f} s (recorded when it ran)")
old_share = None
if RUN_HARD:
    h_p, _ = lk.raft_hybrid(lm, retriever, split, cfg=cfg_p, name=f"hybrid p={cfg_p.p_oracle:g}".replace(".", "p"))
    recs_p = lk.run_approach(h_p.replace(retriever=retriever_v2), changed, version="v2")
    old_share = lk.rate([gave_old_answer(r) for r in recs_p])
    print(f"old v1 answers on the {len(changed)} changed test facts: p_oracle {cfg_p.p_oracle:g}: {old_share}; "
          f"p_oracle {lk.RAFT.p_oracle:g}: {rows['hybrid']['gives the old v1 answer']}")
lk.check(cfg_p.p_oracle == 1.0 and old_share is not None,
         "a hybrid trained with p_oracle = 1.0 asked the changed facts against the v2 documents",
         hint="set p_oracle_try = 1.0" if cfg_p.p_oracle != 1.0 else "set RUN_HARD = True to train it");

# %% [markdown]
# ## Results

# %% tags=["nbval-ignore-output"]
BOXED = ("accuracy", "coverage", "confidently_wrong", "over_abstention", "correct_abstention")
HTML(lk.results_box("04 · this run (test questions, held-out wordings)", {
    **{f"{m.replace('_', ' ')}: {LABELS.get(n, n)}": str(rate_of(n, m)) for m in BOXED for n in names},
    **{f"p50 latency, batch 1: {LABELS.get(n, n)}": f"{np.median(latency[n]):.2f} s" for n in names},
    "v2 accuracy on changed facts: rag / ft (fact cards) / its update / hybrid":
        " / ".join(f"{rows[n]['v2 accuracy (after the update)'].value:.2f}" for n in ("rag", "ft", "ft updated", "hybrid")),
    "absorb v2: re-index / update the fine-tune": f"{absorb['rag']:.1f} s / {absorb['ft updated']:.0f} s",
    "forgetting on unchanged facts after the update": f"{forgetting.text}, {forgetting.diff}",
    "verdicts": ", ".join(f"{n} {v}" for v, n in counts.items()),
    **lk.run_report(env)}))
