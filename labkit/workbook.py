"""The workbook's choices in one place: the split, the retriever, the tuned RAG, the fine-tune recipes.

Notebooks 01-03 introduce each choice and show how it was made (on the dev questions); notebook 04 and
later ones call the same functions and get the same systems back, from the cache when an earlier
notebook built them. So "RAG" or "the fine-tune" means one system everywhere.

>>> split = workbook_split()                                   # doctest: +SKIP
>>> rag, dev_table, thresholds = tuned_rag(lm, build_retriever(load_kb("v1"), emb), split)   # doctest: +SKIP

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .chunking import ChunkConfig, chunk_corpus
from .data import CLOSED_BOOK_SYSTEM, PHRASINGS, QARecord, load_qa, wordings
from .evaluate import normalize, rates
from .finetune import FinetuneConfig, finetune
from .gen_qa import generate_qa
from .hybrid import HybridPipeline, RAFTConfig, make_raft_examples, train_raft, tune_decline_bias
from .lora import set_adapter_weights
from .packing import Example, make_examples
from .protocol import ClosedBook, Split, questions, run_approach, split_qa
from .rag import RAGConfig, RAGPipeline, tune_reader_and_k, tune_threshold
from .reference import train_or_reuse
from .retrieval import BM25Index, DenseIndex, HybridIndex
from .retrieval_eval import pick_threshold
from .stats import Verdict, verdict
from .trainlog import TrainResult

__all__ = [
    "SEED",
    "CHUNKS",
    "RAG_KS",
    "RAG_KEEPS",
    "KNOWLEDGE_FT",
    "BEHAVIOUR_FT",
    "UPDATE_FT",
    "RAFT",
    "RAFT_FT",
    "workbook_split",
    "build_retriever",
    "LATENCY_PROBES",
    "latency_probe",
    "rag_thresholds",
    "threshold_scores",
    "tuned_rag",
    "knowledge_examples",
    "EpochChoice",
    "pick_epoch",
    "knowledge_ft",
    "DOC_CARDS",
    "document_cards",
    "STATEMENTS",
    "document_statements",
    "document_examples",
    "document_ft",
    "knowledge_update",
    "forgetting",
    "behaviour_ft",
    "raft_hybrid",
]

SEED = 0
# Passages of 60 words (15 shared with the next), for RAG and the hybrid alike; notebook 01 compares 30, 60
# and 120 on dev with the fused retriever (60 recalled the most at k = 3). They keep a 3-passage prompt near
# 300 tokens: RAFT trains on whole prompts, so on a CPU the passage length sets the hybrid's training cost.
CHUNKS = ChunkConfig(size=60, overlap=15)
RAG_KS = (1, 2, 3, 4)  # passages per prompt tried on dev
# Test questions timed one at a time (batch 1) for every approach in 01, 04 and 05 (lk.latency_probe)
LATENCY_PROBES = 16
# RAG's decline thresholds tried on dev: each keeps this share of the answerable train and dev wordings
RAG_KEEPS = (1.0, 0.99, 0.95, 0.9, 0.8)
# The knowledge fine-tune: LoRA on every fact card (canonical + 2 training wordings). lr was tried on dev
# (notebook 02); the epoch is chosen on dev among the 6 saved (the learning rate is constant after warm-up, so
# epoch k of this run is a k-epoch run): with 3, the dev curve was still rising at the last one.
# recompute_every=2: gradient checkpointing on every 2nd layer (memory vs time).
KNOWLEDGE_FT = FinetuneConfig(
    method="lora", r=8, alpha=16, lr=2e-3, epochs=6, tokens_per_step=512, grad_checkpointing=True, recompute_every=2
)
# The behaviour fine-tune: house style + abstention, on the train questions only. One epoch: on dev, a second
# one raised over-abstention (answerable questions declined) from 4 to 12 of 26 for little more style.
# It trains after the knowledge fine-tune and its evaluations, on a larger heap: recomputing every layer
# keeps it under 1.5 GB (1,209 vs 1,385 MB peak in a probe, at 10% less speed).
BEHAVIOUR_FT = replace(KNOWLEDGE_FT, lr=2e-3, epochs=1, recompute_every=1)
# The knowledge update (notebook 04): continue the v1 adapter on the changed fact cards only. It trains
# last, on notebook 04's largest heap: recomputing every layer keeps 04 under 1.5 GB (1,591 MB with every 2nd).
UPDATE_FT = replace(KNOWLEDGE_FT, epochs=2, recompute_every=1)
# RAFT (notebook 03): 1 oracle + 2 retrieved distractors, oracle kept in 80% of examples.
RAFT = RAFTConfig(p_oracle=0.8, n_distractors=2, phrasings=("question",), seed=0)
RAFT_FT = replace(KNOWLEDGE_FT, lr=1e-3, epochs=1)
# The fine-tune a team really has (notebook 02): cards generated from the documents, as many as the fact
# cards' answerable questions, trained with the knowledge fine-tune's recipe (same lr, epochs, dev choice).
DOC_CARDS = 165  # at most; the cloze rules find fewer in this knowledge base
STATEMENTS = ChunkConfig(size=60, overlap=0)  # the documents' text as statements: 60-word passages


def workbook_split(qa: list[QARecord] | None = None) -> Split:
    """``lk.split_qa`` of the workbook's QA set with the workbook's seed. Introduced in 00_setup_and_tour.ipynb."""
    return split_qa(qa if qa is not None else load_qa(), seed=SEED)


def build_retriever(docs, embedder, cache: bool = True, chunks: ChunkConfig = CHUNKS) -> HybridIndex:
    """The workbook's retriever: ``chunks``-sized passages (default ``CHUNKS``), exact dense (MiniLM + faiss)
    fused with BM25 (RRF).

    ``cache=False`` rebuilds the dense index (to time it); notebook 01 passes other ``chunks`` to compare
    passage sizes with this same retriever. Introduced in 01_rag.ipynb.
    """
    passages = chunk_corpus(docs, chunks)
    return HybridIndex(DenseIndex.build(passages, embedder, kind="flat", cache=cache), BM25Index(passages), depth=20)


def latency_probe(split: Split) -> list[str]:
    """The questions every notebook times one at a time (``lk.latency_batch1``): the first ``LATENCY_PROBES``
    test questions in a held-out wording. One set, so 01, 04 and 05 time the same questions.

    Introduced in 01_rag.ipynb.
    """
    return [q.paraphrases_heldout[0] for q in split.test[:LATENCY_PROBES]]


def rag_thresholds(conf: np.ndarray, ok: np.ndarray, keeps=RAG_KEEPS) -> dict[float, float]:
    """Candidate retrieval-confidence thresholds below which RAG declines, one per share in ``keeps``: the
    highest threshold that still keeps that share of the answerable wordings (``lk.pick_threshold``).

    ``conf``, ``ok``: ``threshold_scores``'s top-1 confidences and answerable flags (one search serves every
    candidate). Retrieval alone decides them (no generation), so they can use every wording of the train and
    dev questions; ``tuned_rag`` chooses among them on dev.

    >>> conf, ok = np.array([0.9, 0.8, 0.7, 0.6, 0.2]), np.array([True, True, True, True, False])
    >>> rag_thresholds(conf, ok, keeps=(1.0, 0.75))   # halfway to the next score down: each keeps its share
    {1.0: 0.4, 0.75: 0.65}

    Introduced in 01_rag.ipynb.
    """
    return {keep: pick_threshold(conf[ok], conf[~ok], keep=keep) for keep in keeps}


def threshold_scores(retriever, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """What ``rag_thresholds`` chooses from: top-1 confidence of every train and dev wording, and which
    of them are answerable. Both ``(n_wordings,)``. Introduced in 01_rag.ipynb.
    """
    pairs = [p for ph in PHRASINGS for p in questions(split.train + split.dev, ph, per_record=None)]
    # (n_wordings,) top-1 cosine, as float64: compared with a threshold as RAGPipeline compares it
    conf = retriever.search([q for _, q in pairs], k=1).confidence.astype(np.float64)
    ok = np.array([rec.answerable for rec, _ in pairs])
    return conf, ok


def tuned_rag(lm, retriever, split: Split, ks=RAG_KS, keeps=RAG_KEEPS):
    """The workbook's RAG system, every knob chosen on dev: the reader and ``top_k`` first (``tune_reader_and_k``,
    at the most lenient threshold, so they are judged on answering), then the threshold below which it
    declines (``tune_threshold``, among ``rag_thresholds`` for each share in ``keeps``).

    Returns (pipeline named "rag", the dev table of readers and k, the dev table of thresholds).
    Introduced in 01_rag.ipynb.
    """
    by_t = {}  # threshold -> the largest share of answerable train/dev wordings it keeps
    for keep, t in sorted(rag_thresholds(*threshold_scores(retriever, split), keeps=keeps).items()):
        by_t[t] = keep
    cfg, table = tune_reader_and_k(lm, retriever, list(split.dev), RAGConfig(min_score=min(by_t)), ks=ks)
    reader = RAGPipeline(lm, retriever, cfg, name=f"rag {cfg.reader} k={cfg.top_k}")  # tune_reader_and_k's run: cached
    rag, thresholds = tune_threshold(reader, list(split.dev), by_t, name="rag")
    thresholds.insert(0, "keeps (answerable train/dev wordings)", [by_t[t] for t in thresholds.index])
    return rag, table, thresholds


def knowledge_examples(qa: list[QARecord], version: str = "v1"):
    """Fact cards: every question answerable in ``version``, in its training wordings, short answer.

    Introduced in 02_finetune.ipynb.
    """
    return make_examples([q for q in qa if q.is_answerable(version)], kind="knowledge", version=version)


def document_cards(docs, exclude: list[QARecord] = (), n: int = DOC_CARDS, seed: int = SEED) -> list[QARecord]:
    """Question cards a team can derive from its documents alone: ``lk.generate_qa``'s cloze questions (a
    sentence with its number or name blanked out; answer: the blanked span), none worded like any question
    in ``exclude`` (pass the dev and test questions: they are not the team's).

    >>> from labkit.data import Document
    >>> doc = Document("hours", "Support Hours", "text", "We answer within 30 working hours on weekdays.")
    >>> [c.answer for c in document_cards([doc])]
    ['30 working']

    Introduced in 02_finetune.ipynb.
    """
    banned = {normalize(w) for q in exclude for ph in PHRASINGS for w in wordings(q, ph)}
    cards = generate_qa(docs, n=n + len(banned), seed=seed)  # room for the ones dropped below
    keep = [c for c in cards if not any(normalize(w) in banned for ph in PHRASINGS for w in wordings(c, ph))]
    return keep[:n]


def document_statements(docs) -> list[Example]:
    """The documents' own text as training targets: each ``STATEMENTS``-sized passage (no overlap) is the
    answer to "What does the documentation say about <title>?". No paraphraser runs offline here, so these
    are the text itself (Ovadia et al. 2024 found paraphrased statements help more: ``docs/references.md``).

    >>> from labkit.data import Document
    >>> ex = document_statements([Document("hours", "Support Hours", "text", "We answer within 30 hours.")])
    >>> [m["content"] for m in ex[0].messages[1:]]
    ['What does the documentation say about Support Hours?', 'We answer within 30 hours.']

    Introduced in 02_finetune.ipynb.
    """
    return [
        Example(
            [
                {"role": "system", "content": CLOSED_BOOK_SYSTEM},
                {"role": "user", "content": f"What does the documentation say about {c.title}?"},
                {"role": "assistant", "content": c.text},
            ],
            c.id,
            "statement",
        )
        for c in chunk_corpus(docs, STATEMENTS)
    ]


def document_examples(docs, exclude: list[QARecord] = ()) -> list[Example]:
    """The fine-tune a team really has: what can be derived from the documents, never a hand-written
    question's card. ``document_cards`` (canonical and training wordings, short answers) followed by
    ``document_statements``. The workbook's fact cards (``knowledge_examples``) are the hand-written questions
    themselves, test facts included: an upper bound no team has.

    Introduced in 02_finetune.ipynb.
    """
    return make_examples(document_cards(docs, exclude), kind="knowledge") + document_statements(docs)


def document_ft(
    lm, docs, split: Split, name: str = "ft (documents)", cfg: FinetuneConfig = KNOWLEDGE_FT, progress: bool = False
):
    """The knowledge fine-tune's recipe on ``document_examples`` (dev and test questions excluded), epoch
    chosen on dev like ``knowledge_ft``'s.

    Returns (ClosedBook approach named ``name``, the run, the ``EpochChoice``). Introduced in 02_finetune.ipynb.
    """
    examples = document_examples(docs, exclude=[*split.dev, *split.test])
    run = train_or_reuse(lm, examples, cfg, progress=progress, adapter=name)
    choice = pick_epoch(lm, run, list(split.dev), name)
    return ClosedBook(choice.lm, name=name), run, choice


@dataclass
class EpochChoice:
    """The epoch chosen on dev, the view that answers with it, and the dev accuracy of every epoch.

    Introduced in 02_finetune.ipynb.
    """

    epoch: int
    lm: object
    table: object  # DataFrame: epoch -> dev accuracy on held-out and on training (canonical) wordings


def pick_epoch(lm, run: TrainResult, dev: list[QARecord], name: str = "ft", version: str = "v1") -> EpochChoice:
    """Choose a LoRA run's epoch on the dev questions (held-out wording): best accuracy, fewer epochs on ties.

    The adapter saved after each epoch (by ``lk.finetune``) is put into the run's own adapter in turn
    (no second adapter is built) and asked the dev questions in their held-out and canonical wordings;
    the chosen epoch's weights stay. ``name`` labels the approach.

    Introduced in 02_finetune.ipynb.
    """
    import pandas as pd

    if run.lm is None or run.lm.adapter is None:
        raise ValueError("pick_epoch needs a finished LoRA run whose adapter is still on its model (run.lm).")
    epochs, rows = len(run.epoch_ends), {}
    for e in range(1, epochs + 1):
        set_adapter_weights(run.lm, f"{run.ckpt_dir}/epoch-{e}")
        ask = ClosedBook(run.lm, name=f"{name} epoch {e}")
        rows[e] = {
            "dev held-out": rates(run_approach(ask, dev, version=version), "accuracy").value,
            "dev canonical (memorised)": rates(run_approach(ask, dev, "question", version), "accuracy").value,
        }
    table = pd.DataFrame(rows).T.rename_axis("epoch")
    best = max(rows, key=lambda e: (rows[e]["dev held-out"], -e))
    set_adapter_weights(run.lm, f"{run.ckpt_dir}/epoch-{best}")
    return EpochChoice(best, run.lm, table)


def knowledge_ft(
    lm,
    qa: list[QARecord],
    split: Split,
    version: str = "v1",
    name: str = "ft",
    cfg: FinetuneConfig = KNOWLEDGE_FT,
    progress: bool = False,
):
    """The workbook's closed-book knowledge fine-tune: LoRA on the fact cards, epoch chosen on dev.

    Returns (ClosedBook approach named ``name``, the run, the ``EpochChoice``). Introduced in 02_finetune.ipynb.
    """
    run = train_or_reuse(lm, knowledge_examples(qa, version), cfg, progress=progress, adapter=name)
    choice = pick_epoch(lm, run, list(split.dev), name, version)
    return ClosedBook(choice.lm, name=name), run, choice


def knowledge_update(
    lm,
    qa: list[QARecord],
    run: TrainResult,
    choice: EpochChoice,
    name: str = "ft updated",
    cfg: FinetuneConfig = UPDATE_FT,
    progress: bool = False,
):
    """Absorb the v2 knowledge base into the fine-tune: continue its chosen v1 adapter on the fact cards
    whose answer changed (v2 answers, training wordings), as a team would ship an update.

    Cheaper than retraining on every fact; the cost is forgetting, which notebook 04 measures on the
    facts that did not change. Returns (ClosedBook approach named ``name``, the run).

    Introduced in 04_side_by_side.ipynb.
    """
    changed = [q for q in qa if q.changed_in_v2 and q.is_answerable("v2")]
    run_v2 = finetune(
        lm,
        knowledge_examples(changed, "v2"),
        cfg,
        progress=progress,
        adapter=name,
        init_from=f"{run.ckpt_dir}/epoch-{choice.epoch}",
    )
    return ClosedBook(run_v2.lm, name=name), run_v2


def forgetting(records: list, updated, kept: list[QARecord], name: str = "ft") -> tuple[Verdict, list, list]:
    """Did the update forget facts that did not change? ``name``'s answers in ``records`` to ``kept`` (questions
    whose answer is the same in v1 and v2) against ``updated``'s, asked in v2, paired per question: the claim
    "before is better than after". One computation for notebooks 04 and 05, so one verdict per run.

    Returns (the ``Verdict``, the records before, the records after), both in ``kept``'s order.
    Introduced in 04_side_by_side.ipynb.
    """
    by_qid = {r.qid: r for r in records if r.approach == name}
    missing = [q.id for q in kept if q.id not in by_qid]
    if missing:
        raise ValueError(f"forgetting: no {name!r} record for {len(missing)} of the kept questions (e.g. {missing[0]})")
    before = [by_qid[q.id] for q in kept]
    after = run_approach(updated, kept, version="v2")
    return verdict([r.contains for r in before], [r.contains for r in after]), before, after


def behaviour_ft(
    lm, split: Split, name: str = "ft-behaviour", cfg: FinetuneConfig = BEHAVIOUR_FT, progress: bool = False
):
    """House style and abstention, trained on the train questions only (their answerable/unanswerable mix).

    Returns (ClosedBook approach, the run). Introduced in 02_finetune.ipynb.
    """
    run = train_or_reuse(lm, make_examples(list(split.train), kind="behaviour"), cfg, progress=progress, adapter=name)
    return ClosedBook(run.lm, name=name), run


def raft_hybrid(
    lm,
    retriever,
    split: Split,
    cfg: RAFTConfig = RAFT,
    ft_cfg: FinetuneConfig = RAFT_FT,
    name: str = "hybrid",
    top_k: int = RAFT.k,
    progress: bool = False,
):
    """The workbook's hybrid: a RAFT adapter trained on the train questions, reading ``retriever``'s top k.

    ``top_k`` is the number of passages at inference: the workbook's RAFT recipe's, also for an ablation
    trained with fewer (the deployed retriever decides what the model reads, not its training).
    How readily it declines is chosen on the dev questions (``lk.tune_decline_bias``; its table is the
    pipeline's ``dev_table``), as RAG's k and threshold are.
    Returns (HybridPipeline named ``name``, the run). Introduced in 03_hybrid.ipynb.
    """
    run = train_raft(lm, make_raft_examples(list(split.train), retriever, cfg), ft_cfg, progress=progress, adapter=name)
    hybrid, table = tune_decline_bias(HybridPipeline(run.lm, retriever, top_k=top_k, name=name), list(split.dev))
    hybrid.dev_table = table
    return hybrid, run
