# %% [markdown]
# # 05 · Cost over time, deployment time, scale, a real vector database, and the decision guide
#
# The seed article's comparison table makes claims notebook 04 could not test with one snapshot:
#
# | the article says | measured here |
# |---|---|
# | RAG: *low upfront cost*, ongoing costs (vector DB, embeddings, tokens); fine-tuning: *high upfront cost, low ongoing cost* | §2 cumulative cost over months, with knowledge updates, from measured seconds and a price sheet |
# | RAG deploys in *days–weeks*, fine-tuning in *weeks–months* | §1 raw documents → first correct answer, machine time |
# | *fine-tuned models often respond faster because they do not run a retrieval step* | §3 latency split into retrieval, extra prompt tokens and decode, and how it grows with `top_k` and chunk size |
# | RAG *handles thousands of documents efficiently*, *highly scalable* | §4 index build time, memory, latency and recall from 10^3 to 10^6 passages |
# | vector databases | §5 Milvus behind the same retriever interface as faiss |
# | *choose RAG / fine-tuning / hybrid when …* | §6 the decision guide, each reason citing a number measured here |
#
# The four systems are notebook 04's (built by the same `lk` calls, from the cache when 01-04 ran first).

# %%
import labkit as lk; env = lk.setup(seed=0)

# %%
import dataclasses, time
import numpy as np, pandas as pd, matplotlib.pyplot as plt
from IPython.display import HTML

qa = lk.load_qa()
split = lk.workbook_split(qa)
docs = {v: lk.load_kb(v) for v in ("v1", "v2")}
lm, emb = lk.load_generator(), lk.load_embedder()
retriever = lk.build_retriever(docs["v1"], emb)
rag, *_ = lk.tuned_rag(lm, retriever, split)
ft, ft_run, ft_choice = lk.knowledge_ft(lm, qa, split)
hybrid, raft_run = lk.raft_hybrid(lm, retriever, split)
base = lk.ClosedBook(lm)
systems = {"base": base, "rag": rag, "ft": ft, "hybrid": hybrid}
records = [r for s in systems.values() for r in lk.run_approach(s, split.test)]  # notebook 04's test records

# %% [markdown]
# ## 1. Deployment time: raw documents → first correct answer
#
# For each system, the machine time from the raw documents to the first correct answer to a test question
# (held-out wording, asked one at a time in the test order, wrong answers included):
#
# - **rag**: chunk, embed and index the documents (timed now, never from the cache), then ask;
# - **ft**: build the fact-card examples (timed now) and train (the training's wall time, recorded when the
#   adapter was trained on this machine), then ask;
# - **hybrid**: the index, plus the RAFT training (recorded), then ask.
#
# The dev-set choices (RAG's `top_k` and threshold, the fine-tune's epoch) are reused, not re-timed, for all.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
fresh_retriever = lk.build_retriever(docs["v1"], emb, cache=False)
t_index = time.perf_counter() - t0
t0 = time.perf_counter()
examples = lk.knowledge_examples(qa)
t_examples = time.perf_counter() - t0
first = {name: lk.first_correct(s, split.test) for name, s in
         [("rag", lk.RAGPipeline(lm, fresh_retriever, rag.cfg, name="rag")), ("ft", ft), ("hybrid", hybrid)]}
build = {"rag": {"index": t_index}, "ft": {"examples": t_examples, "training (recorded)": ft_run.wall_s},
         "hybrid": {"index": t_index, "training (recorded)": raft_run.wall_s}}
deploy = pd.DataFrame({n: {**{k: build[n].get(k, 0.0) for k in ("index", "examples", "training (recorded)")},
                           "first correct answer": first[n].seconds, "questions asked": first[n].asked}
                       for n in first}).T
deploy["total (s)"] = deploy[["index", "examples", "training (recorded)", "first correct answer"]].sum(axis=1)
del fresh_retriever; lk.free_memory()  # hand the fresh index's buffers back: 05 runs near its 1.5 GB budget
deploy.round(2)

# %%
deploy_verdict = lk.verdict_once(deploy.loc["rag", "total (s)"], deploy.loc["ft", "total (s)"], higher_is_better=False)
lk.say(f"**{lk.seed_claim('deploy_time')}: {deploy_verdict}** on machine time: {deploy.loc['rag', 'total (s)']:.1f} s "
       f"for RAG vs {deploy.loc['ft', 'total (s)']:.0f} s for the fine-tune "
       f"({deploy.loc['ft', 'total (s)'] / deploy.loc['rag', 'total (s)']:.0f}x), of which training is "
       f"{ft_run.wall_s:.0f} s ({lk.trained_where(ft_run)}). The article's *days–weeks vs weeks–months* is people's time (collecting data, "
       f"validating, shipping), which no notebook measures; the machine part points the same way here.")
assert all(first[n].record is not None for n in first), "every system answered some test question correctly"
assert deploy_verdict == "holds", "indexing takes seconds; training a fine-tune takes minutes"

# %% [markdown]
# ## 2. Cost over time
#
# ### The price sheet
#
# Prices are the only assumptions: they live in `data/prices.csv`, each with its source and the date it was
# read, checked on load (`lk.load_prices`; a malformed or negative price names its line and field). Edit the
# file, or override a field in code, to price your own setting.

# %% tags=["nbval-check-output"]
sheet = pd.DataFrame([vars(p) for p in lk.read_price_sheet()]).set_index("field")[["value", "unit", "date", "source"]]
with pd.option_context("display.max_colwidth", 90):
    display(sheet)

# %% [markdown]
# ### What each system costs, measured
#
# Per query: machine seconds at batch 8 (from the test records). Upfront: §1's index and training times.
# Per knowledge update (notebook 04's v1 → v2 change): RAG and the hybrid re-index the documents (timed
# now). The fine-tune has two ways: **retrain** on all its fact cards (its recorded training time), or the
# cheap **partial update** on the changed facts alone (`lk.knowledge_update`, notebook 04's run from the
# cache), which notebook 04 showed forgets facts that did not change. Both are priced: `ft` retrains,
# `ft (partial)` updates partially, and the forgetting it buys is measured below.
# Embedding tokens are counted with MiniLM's tokenizer (billed only if the sheet prices an embedding API).

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
retriever_v2 = lk.build_retriever(docs["v2"], emb, cache=False)
t_reindex = time.perf_counter() - t0
ft_updated, update_run = lk.knowledge_update(lm, qa, ft_run, ft_choice)
n_tokens = lambda texts: sum(len(ids) for ids in emb.model.tokenizer(texts)["input_ids"])
embed_q = n_tokens([q.paraphrases_heldout[0] for q in split.test]) / len(split.test)
embed_update = n_tokens([c.search_text for c in retriever_v2.chunks])  # the whole v2 corpus re-embedded
upfront = {"base": 0.0, "rag": t_index, "ft": t_examples + ft_run.wall_s, "hybrid": t_index + raft_run.wall_s}
update = {"base": 0.0, "rag": t_reindex, "ft": upfront["ft"], "hybrid": t_reindex}  # ft: a full retrain
uses_index = {"base": False, "rag": True, "ft": False, "hybrid": True}
profiles = lk.cost_profiles(records, upfront, update, uses_index, embed_q, embed_update)
profiles["ft (partial)"] = dataclasses.replace(profiles["ft"], update_s=update_run.wall_s)
kept = [q for q in split.test if q.answerable and not q.changed_in_v2]  # the same answer in v1 and v2
forgets, kept_before, kept_after = lk.forgetting(records, ft_updated, kept)  # notebook 04's claim, its answers cached
pd.DataFrame({n: vars(p) for n, p in profiles.items()}).T.round(3)

# %% [markdown]
# Two price settings: the sheet as shipped (a **managed vector database** with its monthly minimum) and the
# lab's own setting (the index **in the serving process**, no hosting fee). The scenario: 10,000 questions a
# month and one knowledge update a month, over two years.

# %%
managed = lk.load_prices()
in_process = lk.load_prices(vector_db_usd_per_month=0)
usage = lk.Usage(queries_per_month=10_000, updates_per_month=1, months=24)
contenders = {n: profiles[n] for n in ("rag", "ft", "ft (partial)", "hybrid")}  # base answers no test question (04)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharex=True)
for ax, (label, cm) in zip(axes, [("managed vector DB", managed), ("index in the serving process", in_process)]):
    lk.cost_over_time(contenders, usage, cm).plot(ax=ax, logy=True)
    ax.set(title=f"{label}: 10k queries + 1 update / month", ylabel="cumulative USD (log)", xlabel="month")
plt.tight_layout(); plt.show()
monthly = pd.DataFrame({n: lk.monthly_cost(p, usage, managed) for n, p in contenders.items()}).T
monthly.map(lambda v: f"{v:.4f}")

# %% [markdown]
# ### The break-even plane: who is cheapest where
#
# Cumulative cost after 24 months on a grid of query volume × update frequency. The base model is left out
# here and above: it answers none of the test questions (notebook 04), so it is never the right choice.

# %%
queries_grid = [10**e for e in range(2, 9)]
updates_grid = [0, 0.25, 1, 4, 30]
colors = {"rag": "#4c72b0", "ft": "#dd8452", "ft (partial)": "#f3c49b", "hybrid": "#55a868", "tie": "#bbbbbb"}
planes = {}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for ax, (label, cm) in zip(axes, [("managed vector DB", managed), ("index in process", in_process)]):
    plane = lk.cheapest_plane(contenders, queries_grid, updates_grid, months=24, cm=cm)
    planes[label] = plane
    for i, u in enumerate(updates_grid):
        for j, q in enumerate(queries_grid):
            who = "tie" if plane.loc[u, q].startswith("tie") else plane.loc[u, q]  # "tie: a, b": within 5%
            ax.add_patch(plt.Rectangle((j, i), 1, 1, color=colors[who]))
            ax.text(j + 0.5, i + 0.5, who.replace(" (", "\n("), ha="center", va="center", fontsize=7)
    ax.set(xlim=(0, len(queries_grid)), ylim=(0, len(updates_grid)), title=f"cheapest over 24 months: {label}",
           xlabel="queries per month", ylabel="updates per month")
    ax.set_xticks(np.arange(len(queries_grid)) + 0.5, [f"1e{e}" for e in range(2, 9)])
    ax.set_yticks(np.arange(len(updates_grid)) + 0.5, [str(u) for u in updates_grid])
plt.tight_layout(); plt.show()

# %%
partial_cells = {label: int((plane == "ft (partial)").to_numpy().sum()) for label, plane in planes.items()}
lk.say(f"**The partial update buys its low price with forgetting.** On the {len(kept)} test facts whose answer "
       f"did not change, the fine-tune answered {lk.rate([r.contains for r in kept_before])} before the partial "
       f"update and {lk.rate([r.contains for r in kept_after])} after it: \"it forgets\" **{forgets.text}** ({forgets.diff}). "
       f"It is the cheapest option in {partial_cells['index in process']} of the {plane.size} cells with the index "
       f"in process ({partial_cells['managed vector DB']} with a managed database); read those cells as \"cheapest "
       f"if losing unchanged facts is acceptable\", and the `ft` cells as the price of a fine-tune that stays right.")

# %%
be = lk.break_even_queries(upfront_a=lk.upfront_cost(profiles["ft"].upfront_s, in_process),
                           per_query_a=lk.per_query_cost(profiles["ft"].s_per_query, cm=in_process),
                           upfront_b=lk.upfront_cost(profiles["rag"].upfront_s, in_process),
                           per_query_b=lk.per_query_cost(profiles["rag"].s_per_query, cm=in_process))
upfront_verdict = lk.verdict_once(profiles["rag"].upfront_s, profiles["ft"].upfront_s, higher_is_better=False)
fee = managed.vector_db_usd_per_month
lk.say(f"**{lk.seed_claim('upfront_cost')}: {upfront_verdict}**, in machine time (examples + training for the "
       f"fine-tune, indexing for RAG): "
       f"{profiles['rag'].upfront_s:.1f} s vs {profiles['ft'].upfront_s:.0f} s, i.e. "
       f"{lk.upfront_cost(profiles['rag'].upfront_s, in_process) * 100:.3f} vs "
       f"{lk.upfront_cost(profiles['ft'].upfront_s, in_process) * 100:.3f} US cents on this machine's price. "
       f"At 135M parameters on a CPU, training costs cents: the article's *high upfront cost* is GPUs and "
       f"people at larger scale. **Ongoing**: a query costs RAG {profiles['rag'].s_per_query:.3f} machine s and the "
       f"fine-tune {profiles['ft'].s_per_query:.3f} s (batch 8); with the index in process the fine-tune repays "
       f"its training after {be:,.0f} queries with no updates. With a managed vector database, its "
       f"{fee:.0f} USD monthly minimum is most of RAG's bill until far larger volumes than this lab's.")
assert upfront_verdict == "holds", (profiles["rag"].upfront_s, profiles["ft"].upfront_s)

# %% [markdown]
# ## 3. Latency: where RAG's extra time goes
#
# One question at a time (batch 1, `lk.latency_batch1`, the timer of notebooks 01 and 04), the same test
# questions as there (`lk.latency_probe`) for each system, split into stages: embed the query, search, **prefill** (reading the prompt: the
# passages make it long), **decode** (the answer) and the rest of the wall time (building the prompt).

# %% tags=["nbval-ignore-output"]
probe = lk.latency_probe(split)  # the questions 01 and 04 time too
parts = {n: lk.latency_batch1(systems[n], probe) for n in ("rag", "ft", "hybrid")}
stages = pd.DataFrame({n: p.mean() for n, p in parts.items()}).T
STAGES = ["embed_ms", "search_ms", "prefill_ms", "decode_ms"]
stages["other_ms"] = stages.total_ms - stages[STAGES].sum(axis=1)  # building the prompt, Python: the wall time's rest
stages.round(1)

# %%
fig, ax = plt.subplots(figsize=(8, 2.4))
stages[[*STAGES, "other_ms"]].plot.barh(stacked=True, ax=ax, color=["#4c72b0", "#55a868", "#c44e52", "#dd8452", "#bbbbbb"])
ax.set(xlabel="milliseconds per question (mean, batch 1)", title="Where the time goes")
plt.tight_layout(); plt.show()
lk.say(f"Notebook 04 decides whether fine-tuned models respond faster (p50 at batch 1); here, where the time "
       f"goes: {stages.loc['ft', 'total_ms']:.0f} ms for ft vs {stages.loc['rag', 'total_ms']:.0f} ms for rag on "
       f"average. RAG's retrieval "
       f"(embed + search) takes {stages.loc['rag', ['embed_ms', 'search_ms']].sum():.0f} ms; its prompt holds "
       f"{stages.loc['rag', 'prompt_tokens'] - stages.loc['ft', 'prompt_tokens']:.0f} more tokens than the "
       f"fine-tune's, and prefill takes {stages.loc['rag', 'prefill_ms'] - stages.loc['ft', 'prefill_ms']:.0f} ms "
       f"more. Decode depends on how long each answers: {stages.loc['rag', 'completion_tokens']:.1f} vs "
       f"{stages.loc['ft', 'completion_tokens']:.1f} tokens.")

# %% [markdown]
# **How the gap grows with `top_k` and chunk size.** Time to the first answer token (retrieval + prefill,
# `max_new_tokens=1`, no abstention threshold) on 4 questions for passages of 60, 120 and 240 words and
# 1 to 5 passages per prompt, each passage shown whole (`context="passages"`, the textbook reader: the
# sentence reader tuned in 01 shows only its best sentences, so its prompt hardly grows with `top_k`).
# A straight line through prefill time against prompt tokens gives the price of one more prompt token.

# %% tags=["nbval-ignore-output"]
def retriever_for(size):
    if size == lk.CHUNKS.size:
        return retriever
    return lk.build_retriever(docs["v1"], emb, chunks=lk.ChunkConfig(size=size, overlap=size // 4))

sweep = []
for size in (60, 120, 240):
    r = retriever_for(size)
    for k in (1, 2, 3, 4, 5):
        cfg = lk.RAGConfig(top_k=k, min_score=0.0, max_new_tokens=1, batch_size=1, context="passages")
        p = lk.latency_batch1(lk.RAGPipeline(lm, r, cfg), probe[:4], warmup=1).mean()
        sweep.append({"chunk words": size, "top_k": k, **p.to_dict()})
    del r; lk.free_memory()  # long prompts leave buffers behind: hand them back after each passage size
sweep = pd.DataFrame(sweep)
slope, intercept = np.polyfit(sweep.prompt_tokens, sweep.prefill_ms, 1)
sweep.pivot(index="top_k", columns="chunk words", values="prompt_tokens").round(0)

# %%
fig, ax = plt.subplots(figsize=(6.5, 3))
for size, g in sweep.groupby("chunk words"):
    ax.plot(g.prompt_tokens, g.prefill_ms + g.embed_ms + g.search_ms, "o-", label=f"{size}-word passages, k = 1..5")
xs = np.array([sweep.prompt_tokens.min(), sweep.prompt_tokens.max()])
ax.plot(xs, intercept + slope * xs, "k--", lw=1, label=f"prefill fit: {slope:.2f} ms per token")
ax.axhline(stages.loc["ft", "prefill_ms"], color="#dd8452", ls=":", label="ft: prefill, no passages")
ax.set(xlabel="prompt tokens", ylabel="ms to first token", title="RAG's time to first token grows with the prompt")
ax.legend(fontsize=7); plt.tight_layout(); plt.show()
lk.say(f"Each extra prompt token costs about **{slope:.2f} ms** of prefill on this machine; retrieval is a "
       f"fixed {sweep[['embed_ms', 'search_ms']].sum(axis=1).mean():.0f} ms. Five 240-word passages make the prompt "
       f"{sweep.prompt_tokens.max():.0f} tokens: the gap with a closed-book model grows with `top_k` × chunk "
       f"size, and beyond a few passages it is the prefill, not the vector search, that RAG pays for "
       f"(TurboRAG measured the same on larger models: prefilling the retrieved chunks dominates time to first token). "
       f"The sentence reader tuned in 01 sidesteps most of it: it shows {rag.cfg.n_sentences} "
       f"sentences, {stages.loc['rag', 'prompt_tokens']:.0f} prompt tokens on average in the breakdown above.")
short, long = sweep.nsmallest(3, "prompt_tokens"), sweep.nlargest(3, "prompt_tokens")
assert long.prompt_tokens.min() > 1.5 * short.prompt_tokens.max(), "the sweep spans short and long prompts"
assert long.prefill_ms.min() > short.prefill_ms.max(), "the longest prompts take longer to prefill than the shortest"
assert long.prefill_ms.min() > sweep[["embed_ms", "search_ms"]].sum(axis=1).max(), "long prompts: prefill > retrieval"

# %% [markdown]
# ## 4. Scale: from 10^3 to 10^6 passages
#
# The workbook's corpus has a few hundred passages. To see what happens at the article's *thousands of
# documents* and beyond, this section needs many more passages that behave like real ones. It uses **real
# text every machine has offline**: the docstrings of the Python packages labkit itself installs
# (transformers, torch, numpy, faiss, ...), cut into passages like the workbook's (60 words, 15 shared) and
# embedded with the same MiniLM (`lk.scale_passages`, `lk.embed_cached`). The queries are the first sentences
# of held-out docstrings, whose passages are not indexed: half choose each index's knob (`nprobe`: how many
# IVF clusters are searched; `efSearch`: how many HNSW candidates are kept while walking its graph; see
# `docs/glossary.md`), the other half report. The first 10^4 vectors ship with the workbook (`data/scale`);
# the benchmark (`benchmarks/bench_scale.py`) embedded 10^5 of them once and fills 10^6 with a **generator
# calibrated to them**, used only beyond the real count.
#
# **How hard are these vectors to index?** An approximate index is fast when, seen up close, the data has
# few directions. The *local intrinsic dimension* (LID, `lk.lid_mle`: Levina and Bickel's estimate from each
# point's 20 nearest neighbours) measures how many. Below, 10^4 vectors of four kinds, with the recall@10 of
# the same HNSW index (M = 16) at three `efSearch` values: the real vectors; 10^3 real + 9,000 from the
# calibrated generator (`lk.fit_local` / `lk.sample_local`: a real vector plus a random step in the span of
# its 20 nearest real neighbours, the step's length and how much it varies being its two knobs); 10^3 real + 9,000 from the two-level Gaussian this benchmark used before
# (`lk.fit_gaussian`); and random directions.

# %% tags=["nbval-ignore-output"]
bench = lk.load_scale_results()
real, real_groups, queries = lk.shipped_vectors()  # (10_000, 384) real passages, their documents, (1_000, 384)
tune_q, test_q = queries[:500], queries[500:]  # choose each knob on the first half, report on the second
seeds = real[:1_000]  # as the benchmark calibrates: one real vector in ten seeds the rest
calibrated = lk.fit_local(seeds, k=20, scale=bench["calibration"]["chosen_scale"], spread=bench["calibration"]["chosen_spread"])
gauss = lk.fit_gaussian(seeds, real_groups[:1_000], per_doc=np.unique(real_groups[:1_000], return_counts=True)[1].mean())
noise = np.random.default_rng(0).standard_normal(real.shape).astype(np.float32)
kinds = {"real": real,
         "calibrated": np.concatenate([seeds, lk.sample_local(calibrated, 9_000, seed=1)]),
         "Gaussian": np.concatenate([seeds, lk.synthetic_vectors(gauss, 9_000, seed=1)]),
         "random": noise / np.linalg.norm(noise, axis=1, keepdims=True)}
EF = (16, 32, 64)
hard = {}
for name, x in kinds.items():  # (10_000, 384) each
    curve = {v: r for v, r, _ in lk.measure_ann(lk.IndexConfig("hnsw", hnsw_m=16), x, tune_q, test_q, frontier=True)["frontier"]}
    hard[name] = {"LID": lk.lid_mle(x, k=20), **{f"recall efSearch={v}": curve.get(v, 1.0) for v in EF}}
    lk.free_memory()  # each kind's index and search buffers, before the next
hard = pd.DataFrame(hard).T
own = retriever.dense.index.reconstruct_n(0, retriever.dense.index.ntotal)  # (n_chunks, 384): the workbook's passages
hard.loc[f"workbook ({len(own)})", "LID"] = lk.lid_mle(own, k=20)
recall_cols = [c for c in hard.columns if c.startswith("recall")]
hard["largest recall gap to real"] = (hard[recall_cols] - hard.loc["real", recall_cols]).abs().max(axis=1)
del kinds, noise, x, own, calibrated, gauss; lk.free_memory()  # ~0.1 GB of vectors: hand it back before 5-6
hard.round(3)

# %%
cal = bench["calibration"]
seed_luck = max(max(r["seed_gaps"]) - min(r["seed_gaps"]) for r in cal["grid"])  # same setting, another seed
lk.say(f"Real MiniLM passages have a local intrinsic dimension of about **{hard.loc['real', 'LID']:.0f}** "
       f"(the workbook's own passages: {hard.iloc[-1]['LID']:.0f}), out of 384; random directions "
       f"{hard.loc['random', 'LID']:.0f}. Grown from 1,000 real vectors, the Gaussian's LID is "
       f"{hard.loc['Gaussian', 'LID']:.1f} and HNSW finds up to {hard.loc['Gaussian', 'largest recall gap to real']:.2f} "
       f"less of the true top 10 in it than in real vectors at the same `efSearch`; the calibrated generator (at the "
       f"benchmark's scale) is off by up to {hard.loc['calibrated', 'largest recall gap to real']:.3f} (LID "
       f"{hard.loc['calibrated', 'LID']:.1f}). "
       f"The benchmark calibrated the generator's two knobs at {cal['n']:,} vectors grown from {cal['seeds']:,} "
       f"real ones (the 10x ratio it uses at 10^6), each setting grown with {len(cal['generator_seeds'])} seeds "
       f"(another seed moved a setting's recall gap by up to {seed_luck:.3f}): step scale {cal['chosen_scale']}, spread "
       f"{cal['chosen_spread']}, LID {cal['chosen']['lid']} against {cal['real']['lid']} real, HNSW recall within "
       f"{cal['chosen']['max_recall_gap']} on the queries it was chosen on and {cal['chosen']['max_recall_gap_test']} "
       f"on the others (tolerance: {cal['tolerance']['max_recall_gap']} and LID within "
       f"{cal['tolerance']['lid_gap']:.0%}: {lk.calibration_verdict(cal)}). "
       f"With ten times more real seeds the Gaussian's recall came within "
       f"{cal['gaussian_max_recall_gap']} too, its LID still {cal['gaussian']['lid']}: how far a synthetic corpus is "
       f"from a real one depends on how it is grown, which is why it is measured rather than assumed.")
assert hard.loc["real", "LID"] < hard.loc["random", "LID"] / 2, "real embeddings have few local directions"
assert hard.loc["calibrated", "largest recall gap to real"] < hard.loc["Gaussian", "largest recall gap to real"], \
    "the calibrated generator is closer to real vectors for HNSW than the Gaussian"

# %% [markdown]
# **Measured here**: every index of the benchmark on 10^3, 3·10^3 and 10^4 real vectors, each knob the
# cheapest whose recall@10 reaches 0.95 on the tuning queries *with 95% confidence* (the lower end of its
# bootstrap interval, `lk.recall_low`: a knob tuned to reach 0.95 on the mean alone lands on either side of it
# on new queries), then reported on the test queries. Then the benchmark's file
# (`benchmarks/bench_scale.py`, run on the machine its header names) for the sizes this notebook's 1.5 GB
# budget cannot hold: 10^5 real vectors and 10^6 with the calibrated generator beyond them.

# %% tags=["nbval-ignore-output"]
IVF = ("ivf", "ivf_sq8", "ivfpq")
live = []
for n in (1_000, 3_000, 10_000):
    x = np.ascontiguousarray(real[:n])
    truth = tuple(lk.make_index(x, "flat").search(q, 10)[1] for q in (tune_q, test_q))  # exact top 10
    cells = lk.train_cells(x, "ivf")  # the IVF kinds share one k-means, as in the benchmark
    live += [lk.measure_ann(c, x, tune_q, test_q, truth=truth, centroids=cells if c.kind in IVF else None)
             for c in lk.SCALE_CONFIGS]
    lk.free_memory()  # the nine indexes of this size, before the next size
live = pd.DataFrame(live)
del x, truth, cells; lk.free_memory()
at_1e4 = live[live.n == 10_000].set_index("label")
assert at_1e4.loc["flat", "recall"] == 1.0, "exact search is its own reference"
assert at_1e4.loc["ivf_sq8", "index_mb"] < at_1e4.loc["ivf", "index_mb"] / 3, "8-bit codes: a quarter of the bytes"
big = pd.DataFrame(bench["indexes"])
n_real = bench["real"]["passages"]
print(f"benchmark: {bench['machine']['cpu']}, {bench['machine']['cores']} cores, {bench['date']}; "
      f"{n_real:,} real passages from {len(bench['real']['packages'])} packages, embedded in "
      f"{bench['real']['embedding']['seconds'] / 3600:.1f} h; beyond them: {big.vectors.iloc[-1]}")
live.pivot(index="label", columns="n", values=["p50_ms", "recall"]).round(3)

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
fits = {}
for label, gk in big.groupby("label", sort=False):
    for ax, col, name in zip(axes, ["build_s", "index_mb", "p50_ms"], ["build (s)", "index size (MB)", "p50 ms, one query"]):
        line, = ax.loglog(gk.n, gk[col], "o-", label=label, lw=1)
        lv = live[live.label == label]
        ax.loglog(lv.n, lv[col], "x", color=line.get_color(), ms=7)
        ax.axvline(n_real, color="grey", ls=":", lw=0.8)
        ax.set(xlabel="passages", title=name)
    tail = gk[gk.n >= 10_000]  # below 10^4, fixed overheads hide the growth
    fits[label] = {col: lk.fit_power(tail.n, tail[col])[0] for col in ("build_s", "index_mb", "p50_ms")}
axes[0].legend(fontsize=7)
fig.suptitle("lines: benchmark file (right of the dotted line: calibrated vectors); crosses: this run", fontsize=9)
plt.tight_layout(); plt.show()
pd.DataFrame(fits).T.rename(columns=lambda c: f"exponent of {c}").round(2)

# %% [markdown]
# An exponent of 1 means ten times the passages cost ten times as much; below 1, sub-linear. Exact search
# (flat) reads every vector for every query: its latency grows about linearly. The approximate indexes trade
# recall for speed; held at the same recall their knobs (`nprobe`, `efSearch`) must grow with the corpus,
# which is why their latency exponents stay well above 0. The 8-bit kinds (`sq8`) search codes of one byte
# per dimension instead of four, IVF-PQ codes of 48 bytes per vector instead of 1,536. Re-ranking scores the
# best candidates again on the full vectors, so a re-ranked index keeps those too: it reads fewer bytes per
# query but holds more in memory (ivf_sq8, without re-ranking, is the one that shrinks). Recall against latency
# for each knob value, on the test queries, at the largest all-real size and at the largest size:

# %% tags=["nbval-ignore-output"]
n_max, n_real_max = big.n.max(), big.n[big.n <= n_real].max()  # the largest size, the largest all real
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), sharey=True)
for ax, n in zip(axes, (n_real_max, n_max)):
    for _, row in big[big.n == n].iterrows():
        pts = np.array(row.frontier)[:, 1:] if len(row.frontier) else np.zeros((0, 2))  # (values, [recall, ms])
        ax.plot(pts[:, 1], pts[:, 0], "o-" if row.kind != "flat" else "s", ms=3, label=row.label)
    ax.axhline(0.95, color="grey", ls=":"); ax.axvline(1.0, color="grey", ls=":")
    ax.set(xscale="log", xlabel="p50 ms per query", title=f"{n:,} passages ({big[big.n == n].vectors.iloc[0]})")
axes[0].set_ylabel("recall@10 vs exact"); axes[1].legend(fontsize=7)
plt.tight_layout(); plt.show()
at_max = big[big.n == n_max].set_index("label")
rows_max = [r for r in bench["indexes"] if r["n"] == n_max]
fastest = lk.fastest_index(rows_max)  # the fastest index whose knob reached 0.95 on the tuning queries (lower bound)
best = at_max.loc[fastest["label"]] if fastest else at_max.drop(index="flat").sort_values("recall").iloc[-1]
at_max[["knob", "build_s", "index_mb", "p50_ms", "tune_recall", "tune_low", "recall", "peak_rss_mb"]].round(3)

# %% [markdown]
# The lesson in numbers: at each size, the time to find the passages (exact search, and the fastest index
# tuned for recall 0.95) next to the time RAG spends answering a question here (section 3, batch 1).

# %% tags=["nbval-ignore-output"]
answer_ms = stages.loc["rag", "total_ms"]
lesson = []
for n, rows in big.groupby("n"):
    f, exact = lk.fastest_index(rows.to_dict("records")), rows[rows.kind == "flat"].iloc[0]
    lesson.append({"passages": f"{n:,}", "vectors": rows.vectors.iloc[0], "exact search ms": exact.p50_ms,
                   "exact index MB": exact.index_mb, "fastest index at recall 0.95": f["label"] if f else "none",
                   "its ms": f["p50_ms"] if f else np.nan, "its MB": f["index_mb"] if f else np.nan,
                   "RAG answer ms (this run)": answer_ms, "exact search, share of the answer": exact.p50_ms / answer_ms})
lesson = pd.DataFrame(lesson).set_index("passages")
lesson.round(3)

# %%
flat_rows = big[(big.kind == "flat") & (big.n >= 10_000)]
flat_b, flat_a = lk.fit_power(flat_rows.n, flat_rows.p50_ms)
thousands = live[(live.kind == "flat") & (live.n == live.n.max())].iloc[0]  # measured in this run
search_share = thousands.p50_ms / answer_ms  # of RAG's time per question, batch 1
scale_verdict = "holds" if search_share < 0.01 else "does not hold"  # "efficiently": under 1% of the answer's time
goal_met = best.recall >= 0.95 and best.p50_ms <= 1.0
fb = lk.best_under(rows_max, ms=1.0)  # the test frontier's best point under 1 ms (read off the test queries)
lk.say(f"**{lk.seed_claim('scale')}: {scale_verdict}** (the test: exact search takes under 1% of the time RAG "
       f"spends on a question). Exact search over {thousands.n:,} real passages took {thousands.p50_ms:.2f} ms per "
       f"query in this run, {search_share:.2%} of RAG's {answer_ms:.0f} ms per question; building the index is "
       f"dominated by embedding the text, not by faiss (the benchmark's {n_real:,} passages took "
       f"{bench['real']['embedding']['seconds'] / 3600:.1f} h to embed on its CPU). At {n_max:,} passages exact "
       f"search takes {at_max.loc['flat', 'p50_ms']:.0f} ms and {at_max.loc['flat', 'index_mb'] / 1e3:.1f} GB. "
       f"The fastest approximate setting whose recall@10 reached 0.95 on the tuning queries (the lower end of its "
       f"interval) is **{best.name} "
       f"({best.knob})**: {best.p50_ms:.2f} ms per query, recall {best.recall:.3f} on the test queries, built in "
       f"{best.build_s:.0f} s, {best.index_mb:,.0f} MB, one query at a time on {bench['machine']['cores']} cores. "
       + ("That meets the goal of recall 0.95 at 1 ms per query" if goal_met else
          "That misses the goal of recall 0.95 at 1 ms per query on this machine")
       + (f"; on the test queries' frontier the best point under 1 ms is {fb['label']} at {fb['knob']}: recall "
          f"{fb['recall']:.3f} at {fb['ms']:.2f} ms (chosen there, it would be tuned on the test queries)." if not goal_met
          and fb else ".")
       + f" At {n_max:,} passages exact search would add {at_max.loc['flat', 'p50_ms'] / answer_ms:.0%} to an answer's "
       f"time here, {best.name} {best.p50_ms / answer_ms:.2%}. Fine-tuning scales with the training set instead:")
assert flat_b > 0.7, "exact search grows about linearly with the corpus"
assert scale_verdict == "holds", f"exact search over {thousands.n:,} passages took {search_share:.1%} of RAG's time"

# %%
train = pd.DataFrame(bench["training"])
tb, ta = lk.fit_power(train.examples, train.wall_s)
fig, ax = plt.subplots(figsize=(5, 2.8))
ax.loglog(train.examples, train.wall_s, "o-")
ax.set(xlabel="training examples (fact cards)", ylabel="seconds, 1 epoch", title=f"LoRA training: exponent {tb:.2f}")
plt.tight_layout(); plt.show()
lk.say(f"One LoRA epoch on {train.examples.max()} fact cards takes {train.wall_s.max():.0f} s; time grows with "
       f"exponent {tb:.2f} in the number of examples (1 = linear), so a knowledge base ten times larger costs "
       f"about {10**tb:.0f}x the training per update, against re-embedding only the changed documents for RAG.")

# %% [markdown]
# ## 5. A real vector database: Milvus
#
# In-process faiss is a library; production RAG often talks to a **vector database server**. Milvus Lite
# (PyPI `milvus-lite`) serves the same client API (`pymilvus.MilvusClient`) as a Milvus cluster. Here it
# runs as its own server process on this machine; `lk.MilvusIndex` implements the same `Retriever` protocol
# as `lk.DenseIndex`, so the RAG pipeline does not change. For a cluster, change the URI (and pass a token):
# `lk.MilvusIndex.build(chunks, emb, uri="http://milvus.example:19530", token=...)`.

# %% tags=["nbval-ignore-output"]
lk.free_memory()
dense = retriever.dense  # notebook 01's exact faiss index over the same passages
vecs = dense.index.reconstruct_n(0, dense.index.ntotal)  # (n_chunks, 384): embed once, index in both
tests = [q.paraphrases_heldout[0] for q in split.test]
with lk.MilvusServer() as server:
    milvus = lk.MilvusIndex.build(dense.chunks, emb, uri=server.uri, vecs=vecs)
    same = [a == b for a, b in zip(milvus.search(tests, 3).chunk_ids, dense.search(tests, 3).chunk_ids)]
    lat = {"faiss (in process)": lk.retrieval_latency(dense, tests, k=3),
           "Milvus (server)": lk.retrieval_latency(milvus, tests, k=3)}
    cfg = lk.RAGConfig(top_k=rag.cfg.top_k, min_score=rag.cfg.min_score)
    via = {name: lk.RAGPipeline(lm, r, cfg, name=name).answer(tests[:4]) for name, r in [("faiss", dense), ("milvus", milvus)]}
    server_mb, start_s, build_s = server.rss_mb(), server.start_s, milvus.t_build
    milvus.close()
faiss_t0 = time.perf_counter(); lk.DenseIndex.from_vectors(dense.chunks, emb, vecs); faiss_build_s = time.perf_counter() - faiss_t0
vdb = pd.DataFrame({
    "index build from vectors (s)": {"faiss (in process)": faiss_build_s, "Milvus (server)": build_s},
    "p50 search ms (one query)": {k: v["p50_search_ms"] for k, v in lat.items()},
    "memory (MB)": {"faiss (in process)": lk.index_bytes(dense.index) / 1e6, "Milvus (server)": server_mb}})
print(f"Milvus Lite server ready in {start_s:.1f} s")
vdb.round(3)

# %%
same_answers = sum(a.text == b.text for a, b in zip(via["faiss"], via["milvus"]))
lk.say(f"Milvus returned the same top 3 as exact faiss for **{np.mean(same):.0%}** of the {len(tests)} test "
       f"questions, and the RAG pipeline gave the same answer through either for {same_answers} of {len(via['faiss'])}. The "
       f"server's memory is the whole database process (Python, gRPC, its segments), against the bare index "
       f"faiss holds; a search is a network round trip. At this corpus size the in-process library is the "
       f"cheaper choice; a server pays off when several applications share an index, or it outgrows one "
       f"machine (README, *Scaling out*).")
assert np.mean(same) >= 0.95, "the same vectors in an exact index give the same passages"

# %% [markdown]
# ## 6. The decision guide
#
# The article's closing list, as rules over this workbook's measurements (`lk.recommend`; the rules and
# their order are in its docstring). Each scenario names the criteria its condition is about
# (`lk.Scenario(criteria=...)`): only those may rule a system out; the other rules add notes of what they
# would have done. Each reason cites a measured number with its 95% interval: the batch-1 median latency
# with a bootstrap over §3's probe questions, the cost over the horizon from the spread of the per-question
# machine seconds and a 10% run-to-run spread on single timings (`lk.RUN_SPREAD`). Where the intervals, or
# the criteria named, cannot separate the systems, the guide says **cannot decide** and why, rather than
# guess; a cost difference also has to be at least `lk.COST_RATIO` times to count. Evidence: the test
# records (04), §3's batch-1 latencies, §2's cost profiles (index in process, the fine-tune retrained at each
# update), notebook 04's fresh-facts test (the share of the changed test facts each system answers with the
# new v2 value before any retraining), and for house style notebook 02's behaviour fine-tune, standing in
# for "ft": the knowledge fine-tune is not trained for style.

# %% tags=["nbval-ignore-output"]
changed = [q for q in split.test if q.changed_in_v2 and q.answerable_v2]
names = ["rag", "ft", "hybrid"]  # the base model answers no test question (04): it is never the answer
v2_systems = {"rag": lk.RAGPipeline(lm, retriever_v2, rag.cfg, name="rag"), "ft": ft,
              "hybrid": hybrid.replace(retriever=retriever_v2)}
fresh = {n: [r.contains for r in lk.run_approach(s, changed, version="v2")] for n, s in v2_systems.items()}
behaviour, _ = lk.behaviour_ft(lm, split)  # notebook 02's house-style adapter (from the cache)
style_records = [dataclasses.replace(r, approach="ft") for r in lk.run_approach(behaviour, split.test)]
evidence = lk.Evidence([r for r in records if r.approach in names],
                       {n: list(parts[n].total_ms / 1e3) for n in names},
                       {n: profiles[n] for n in names}, fresh, in_process,
                       scale={"exact_ms": (flat_b, flat_a),
                              "ann": f"{best.name} {best.knob}: {best.p50_ms:.2f} ms at recall {best.recall:.2f}, 10^6"},
                       style_records=style_records)
styled = {n: [r for r in (style_records if n == "ft" else evidence.records) if r.approach == n] for n in names}
pd.DataFrame({n: {"fresh v2 answers, no retraining": lk.rate(fresh[n]), "p50 s, batch 1": np.median(evidence.latency_s[n]),
                  "house style, answered (ft: behaviour fine-tune)": lk.rates(styled[n], "style_answered")}
              for n in names}).T

# %%
scenarios = {  # the article's condition, the criteria it is about, and the article's choice
    "information changes daily": (lk.Scenario(updates_per_month=30, criteria=("freshness",)), "rag"),
    "stable domain, high volume": (lk.Scenario(updates_per_month=0, queries_per_month=1e7, criteria=("cost",)), "ft"),
    "needs style control": (lk.Scenario(needs_style=True, criteria=("style",)), "ft"),
    "low latency (0.7 s)": (lk.Scenario(latency_budget_s=0.7, criteria=("latency",)), "ft"),
    "must run offline": (lk.Scenario(offline=True, criteria=("offline",)), "ft"),
    "accuracy and freshness": (lk.Scenario(updates_per_month=4, criteria=("freshness", "accuracy")), "hybrid"),
}
guide, recs = {}, {}
for name, (s, article) in scenarios.items():
    recs[name] = rec = lk.recommend(s, evidence)
    decisive = [t for f, t in rec.reasons if f == rec.decided_by and not t.startswith("keep")]
    guide[name] = {"criteria": ", ".join(s.criteria), "article says": article,
                   "measurements say": rec.choice or f"{rec.decided_by}: {', '.join(rec.candidates)}",
                   "agree": rec.choice == article, "decided by": rec.decided_by, "why": "; ".join(decisive)}
guide = pd.DataFrame(guide).T
with pd.option_context("display.max_colwidth", 140):
    display(guide)

# %%
differ = guide[~guide.agree.astype(bool)]
undecided = guide[guide["decided by"] == "cannot decide"]
lk.say(f"The measurements pick the article's choice in **{int(guide.agree.sum())} of {len(guide)}** scenarios and "
       f"cannot decide in **{len(undecided)}**. "
       + " ".join(f"*{name}* (criteria: {row['criteria']}): the article says {row['article says']}, the measurements "
                  f"say {row['measurements say']}." for name, row in differ.iterrows())
       + " Where the guide cannot decide, its last reason (printed below) says which criteria left the systems tied, "
         "with their numbers; the notes of the criteria a scenario does not name (cost, say, in the offline "
         "scenario) say what those would have done. Two reminders for reading this: the hybrid is itself a fine-tuned "
         "model (the RAFT adapter), so \"fine-tuning for style\" and \"the hybrid\" are not opposites here; and the "
         "costs are this machine's seconds for a 135M model at the sheet's prices (fractions of a dollar at low "
         "volume): a 7B model on a GPU changes every price, so rerun the guide with your own price sheet and "
         "measurements.")
for name in undecided.index:
    print(f"{name}: {recs[name].reasons[-1][1]}\n")
assert all(row["decided by"] in [*row["criteria"].split(", "), "cannot decide", "nothing fits"]
           for _, row in guide.iterrows()), "only a criterion the scenario names may decide it"
assert guide.loc["must run offline", "decided by"] == "cannot decide", "every system here runs offline"

# %% [markdown]
# The form below runs the same function with every criterion in play (`criteria=None`, each rule switched
# by the form's own fields): move a slider and read the recommendation with all its reasons. (Widgets need
# a live kernel; the table above is the static record.)

# %% tags=["nbval-ignore-output"]
lk.DecisionGuide(evidence, lk.Scenario(updates_per_month=1))

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a check (`lk.check`, notebook 00): run the cell after your change and it prints
# **✓** when the change did what was asked, or **✗ not yet** with a hint (as shipped, "not yet").
#
# **Easy.** Price your own setting: override the sheet's prices with `lk.load_prices(...)` (a cheaper vector
# database plan, or your cloud's machine price) and redraw the break-even plane for that price only. Where
# does the fine-tune start to pay off?
#
# *What you should see:* the cheapest system in each cell, and for each update frequency the first query
# volume at which a fine-tune is cheapest. The vector database fee is a fixed amount per month; every other
# cost is machine seconds times the machine price. Lowering the fee (or raising the machine price) shrinks the
# fee's weight and hands RAG and the hybrid more of the low-volume cells, most where updates are frequent
# (each update costs the fine-tune training, RAG a re-index). With the fee at 0, changing the machine price
# alone changes no cell.

# %% tags=["nbval-ignore-output"]
mine_prices = lk.load_prices()  # your change here: overrides, e.g. lk.load_prices(vector_db_usd_per_month=10)
plane_mine = lk.cheapest_plane(contenders, queries_grid, updates_grid, months=24, cm=mine_prices)
display(plane_mine)
def fine_tunes_only(cell):  # "ft", "ft (partial)" or a tie among fine-tunes only ("tie: ft, ft (partial)")
    return all(name.startswith("ft") for name in cell.removeprefix("tie: ").split(", "))

ft_from = {u: next((f"{q:,}" for q in queries_grid if fine_tunes_only(plane_mine.loc[u, q])), "never")
           for u in updates_grid}
print("first query volume per month at which a fine-tune is cheapest, by updates per month:", ft_from)
lk.check(mine_prices != managed, "the plane priced with your own prices",
         hint="pass overrides to lk.load_prices, e.g. vector_db_usd_per_month=10");

# %% [markdown]
# **Medium.** Search Milvus with an HNSW index instead of FLAT (`index_type="HNSW"`), and compare its top 3
# with exact faiss over the test questions: at this corpus size, does approximate search lose anything?
#
# *What you should see:* at a few hundred passages HNSW's graph reaches (nearly) every true neighbour, so its
# top 3 agree with exact faiss on (almost) every test question, as FLAT does. Approximate search pays off only
# at far larger corpora, where section 4 measured what it costs in recall.

# %% tags=["nbval-ignore-output"]
index_type = "FLAT"  # your change here: "HNSW"
with lk.MilvusServer() as server:
    milvus_try = lk.MilvusIndex.build(dense.chunks, emb, uri=server.uri, vecs=vecs, index_type=index_type)
    agree = np.mean([a == b for a, b in zip(milvus_try.search(tests, 3).chunk_ids, dense.search(tests, 3).chunk_ids)])
    milvus_try.close()
print(f"{milvus_try.index_type} in Milvus agrees with exact faiss on {agree:.0%} of the {len(tests)} test questions")
lk.check(milvus_try.index_type == "HNSW", "Milvus searched with an HNSW index", hint='set index_type = "HNSW"');

# %% [markdown]
# **Hard.** Measure the scale on your machine and compare the fitted exponents with the file's. Set
# `RUN_HARD = True` to grow the 10^4 shipped real vectors to 10^5 with the calibrated generator (fitted on all
# of them, as the benchmark grows 10^5 to 10^6) and measure exact search and HNSW there (about a minute), then
# fit each index's p50 latency exponent over this run's sizes from 10^4 (`lk.fit_power`) into `my_exponent`.
# For more sizes, run `python benchmarks/bench_scale.py --sizes 1000 10000 100000 --no-train` in a terminal:
# it embeds the 10^5 real passages first (hours on a laptop CPU, resumable) and writes
# `benchmarks/results/scale.json` (keep a copy of the shipped one).
#
# *What you should see:* exact search (flat) reads every vector for every query, so its exponent comes out
# near 1, as in the file. HNSW's knob is re-tuned at each size to keep its recall, so its exponent need not
# be far below flat's. Two sizes give a rough slope, and other load on the machine moves single timings:
# compare directions, not decimals.

# %% tags=["nbval-ignore-output"]
RUN_HARD = False  # True: measures flat and HNSW at 100,000 passages, 90,000 of them calibrated (about a minute)
n_hard = 100_000
points = live[live.label.isin(["flat", "hnsw"])]  # this run's sizes (section 4)
if RUN_HARD:
    cal = bench["calibration"]
    grown = lk.sample_local(lk.fit_local(real, k=20, scale=cal["chosen_scale"], spread=cal["chosen_spread"]),
                            n_hard - len(real), seed=2)
    vecs_hard = np.concatenate([real, grown])  # (n_hard, 384): the real rows first
    points = pd.concat([points, pd.DataFrame([lk.measure_ann(kind, vecs_hard, tune_q, test_q) for kind in ("flat", "hnsw")])])
    del vecs_hard, grown
    print(points[["n", "label", "knob", "build_s", "p50_ms", "recall"]].round(3))
my_exponent = {}  # your change here: label -> exponent of p50_ms over this run's points with n >= 10_000
if my_exponent:
    display(pd.DataFrame({"this machine": my_exponent,
                          "benchmark file": {k: fits.get(k, {}).get("p50_ms") for k in my_exponent}}).round(2))
lk.check(lambda: RUN_HARD and {"flat", "hnsw"} <= set(my_exponent) and bool(np.isfinite(list(my_exponent.values())).all()),
         "the p50 latency exponents of flat and HNSW fitted on this machine, beside the file's",
         hint="set RUN_HARD = True" if not RUN_HARD else "fill my_exponent for flat and hnsw with lk.fit_power(n, p50_ms)[0]");

# %% [markdown]
# ## Results

# %% tags=["nbval-ignore-output"]
HTML(lk.results_box("05 · this run", {
    "deployment, documents → first correct answer: rag / ft / hybrid":
        " / ".join(f"{deploy.loc[n, 'total (s)']:.1f} s" for n in ("rag", "ft", "hybrid")),
    "machine s per query (batch 8): rag / ft / hybrid":
        " / ".join(f"{profiles[n].s_per_query:.3f}" for n in ("rag", "ft", "hybrid")),
    "ft repays its training after (index in process, no updates)": f"{be:,.0f} queries",
    "batch-1 mean ms: rag / ft / hybrid": " / ".join(f"{stages.loc[n, 'total_ms']:.0f}" for n in ("rag", "ft", "hybrid")),
    "verdicts: upfront cost / deployment / thousands of documents": f"{upfront_verdict} / {deploy_verdict} / {scale_verdict}",
    "prefill cost per prompt token": f"{slope:.2f} ms",
    "local intrinsic dimension: real / calibrated / Gaussian / random (10^4 vectors)":
        " / ".join(f"{hard.loc[k, 'LID']:.1f}" for k in ("real", "calibrated", "Gaussian", "random")),
    f"fastest index at {n_max:,} passages tuned for recall@10 0.95 (benchmark)":
        f"{best.name} {best.knob}: {best.p50_ms:.2f} ms, test recall {best.recall:.3f}, {best.index_mb:,.0f} MB",
    "Milvus top 3 = faiss top 3": f"{np.mean(same):.0%}",
    **lk.run_report(env)}))
