"""Retrieval-augmented generation: retrieved passages in a prompt -> a short cited answer, or abstention.

RAG "reads information each time": for every question it retrieves passages (``labkit.retrieval``, over
``labkit.chunking``'s chunks) and puts them, numbered, in the prompt.

* ``RAGConfig``, ``build_prompt``, ``few_shot_turns``: the prompt (two invented worked examples first).
* ``READERS``: how the passages are read: whole passages and free generation (the first reader), or
  the question's best whole sentences of the retrieved passages with an answer copied from them
  (``lk.best_sentences``, ``lk.CopyConstraint``).
* ``parse_citations`` / ``attribute``: which passage an answer cites, or contains.
* ``RAGPipeline``: an ``lk.Approach``: retrieve, abstain below a similarity threshold, else generate.
* ``tune_reader_and_k``: the reader and the number of passages, chosen on the dev questions (``lk.split_qa``),
  never on test;
  ``tune_threshold``: then the retrieval threshold below which it declines, also on dev
  (``abstain_below``: a run's records as a higher threshold would have left them).

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

import numpy as np

from .chunking import Chunk
from .data import ABSTENTION, QARecord, house_style
from .evaluate import is_abstention, rates, score
from .generate import BATCH_SIZE, chat_generate
from .protocol import Answer, check_question_fits, run_approach
from .retrieval import Retriever, check_queries, embed_texts
from .sentences import best_sentences, content_words, passage_sentences

__all__ = [
    "RAG_SYSTEM",
    "RAGConfig",
    "few_shot_turns",
    "build_prompt",
    "READERS",
    "query_embedder",
    "parse_citations",
    "attribute",
    "RAGPipeline",
    "tune_reader_and_k",
    "abstain_below",
    "tune_threshold",
]


RAG_SYSTEM = (
    "Answer the question using only the numbered passages. Reply with the short answer only, "
    "a few words, then the passage number in brackets. If the passages do not contain the "
    "answer, reply: I don't know."
)


@dataclass(frozen=True)
class RAGConfig:
    """Knobs of the RAG pipeline.

    Introduced in 01_rag.ipynb.
    """

    top_k: int = 3  # passages put in the prompt
    min_score: float = 0.0  # abstain without generating when top-1 confidence (cosine) is below this
    max_new_tokens: int = 32  # answer length cap, tokens: short answers, fast decode
    # prompts decoded together: lk.BATCH_SIZE, as for every approach, so throughput and cost compare like for
    # like. (16 decoded RAG faster, 44 answers: 7.9 vs 12.3 s of decode, but peaked 136 MB higher.)
    batch_size: int = BATCH_SIZE
    system: str = RAG_SYSTEM  # system prompt
    few_shot: bool = True  # show two worked examples (invented, not from the KB) before the question
    abstention: str = ABSTENTION  # what it says below the threshold: lk.abstention_sentence(corpus name)
    # "passages": the top_k chunks whole; "sentences": the n_sentences sentences of the top_k chunks most
    # similar to the question, each whole (lk.passage_sentences), in document order (notebook 01: a 135M
    # reader loses the answer in long context: at top_k 3, 3 whole sentences scored 0.35 on dev, 2 scored 0.50).
    context: str = "sentences"
    n_sentences: int = 2  # sentences shown when context="sentences" (the worked examples show 2 passages too)
    decoding: str = "extractive"  # "free", or "extractive": the answer is copied from what was shown
    # end every answer with the document it came from, "<answer> [doc-id].": the house style, by template
    # (the cited passage's document; notebook 04 compares it with the hybrid's learned style)
    house_style: bool = True
    # added to the logit of the abstention's first token at the answer's first step: below 0 the model
    # declines less readily (a threshold on its own "I don't know"; the hybrid's is chosen on dev, notebook 03)
    decline_bias: float = 0.0

    def __post_init__(self):
        if not isinstance(self.top_k, int) or self.top_k <= 0:
            raise ValueError(f"RAGConfig.top_k must be a positive int (passages per prompt), got {self.top_k!r}")
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens <= 0:
            raise ValueError(f"RAGConfig.max_new_tokens must be a positive int, got {self.max_new_tokens!r}")
        if not isinstance(self.batch_size, int) or self.batch_size <= 0:
            raise ValueError(f"RAGConfig.batch_size must be a positive int, got {self.batch_size!r}")
        if self.context not in ("passages", "sentences"):
            raise ValueError(f"RAGConfig.context must be 'passages' or 'sentences', got {self.context!r}")
        if not isinstance(self.n_sentences, int) or self.n_sentences <= 0:
            raise ValueError(f"RAGConfig.n_sentences must be a positive int, got {self.n_sentences!r}")
        if self.decoding not in ("free", "extractive"):
            raise ValueError(f"RAGConfig.decoding must be 'free' or 'extractive', got {self.decoding!r}")

    @property
    def reader(self) -> str:
        """The reader's name in ``READERS``, e.g. ``"sentences, extractive"``."""
        return f"{self.context}, {self.decoding}"


# How a RAG prompt is read (RAGConfig fields). The first is the textbook reader; notebook 01 measures both.
READERS = {
    "passages, free": {"context": "passages", "decoding": "free"},
    "sentences, extractive": {"context": "sentences", "decoding": "extractive"},
}


# Two worked examples about an invented building (not the knowledge base): a 135M model copies the
# answer *format* from examples far more reliably than it follows an instruction alone.
_EXAMPLE_PASSAGES = [
    Chunk(
        "lobby-hours#0",
        "lobby-hours",
        "Lobby Hours",
        "The front lobby opens at 08:15 on weekdays and stays closed on public holidays.",
    ),
    Chunk("parking#0", "parking", "Parking", "Visitors may park for up to 3 hours in bay C."),
]
_EXAMPLES = [("How long may visitors park?", "3 hours", 2), ("When does the lobby open on weekdays?", "08:15", 1)]


def few_shot_turns() -> list[dict]:
    """The two worked examples as chat turns: numbered passages, a question, a short cited answer.

    >>> few_shot_turns()[1]
    {'role': 'assistant', 'content': '3 hours [2]'}

    Introduced in 01_rag.ipynb.
    """
    turns = []
    for q, a, n in _EXAMPLES:
        turns += [
            {"role": "user", "content": build_prompt(q, _EXAMPLE_PASSAGES)},
            {"role": "assistant", "content": f"{a} [{n}]"},
        ]
    return turns


def build_prompt(question: str, passages: list[Chunk]) -> str:
    """The user turn: numbered passages, each with its document id, then the question.

    >>> print(build_prompt("Why?", [Chunk("faq#0", "faq", "FAQ", "Because.")]))
    Passages:
    [1] (faq) FAQ. Because.
    <BLANKLINE>
    Question: Why?

    Introduced in 01_rag.ipynb.
    """
    lines = ["Passages:"] + [f"[{i}] ({c.doc_id}) {c.search_text}" for i, c in enumerate(passages, start=1)]
    return "\n".join(lines) + f"\n\nQuestion: {question}"


_CITE = re.compile(r"\[(\d+)\]")


def parse_citations(text: str, passages: list[Chunk]) -> tuple[str, list[str]]:
    """Map ``[n]`` passage numbers in an answer to document ids: ``[2]`` -> ``[refund-policy]``.

    Returns the rewritten text and the cited doc ids (unique, in order). Numbers with no passage are
    dropped from the citations but left in the text (a visible model error).

    >>> ps = [Chunk("a#0", "a", "A", "x"), Chunk("b#3", "b", "B", "y")]
    >>> parse_citations("14 days [2].", ps)
    ('14 days [b].', ['b'])

    Introduced in 01_rag.ipynb.
    """
    cited: list[str] = []

    def swap(m: re.Match) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(passages):
            return m.group(0)
        doc = passages[n - 1].doc_id
        if doc not in cited:
            cited.append(doc)
        return f"[{doc}]"

    return _CITE.sub(swap, text), cited


def attribute(text: str, passages: list[Chunk]) -> list[str]:
    """When an answer cites no ``[n]``: the doc id of the passage sharing most content words with it.

    A rule, not a judgment of support: it records which passage the words came from. Ties go to the
    higher-ranked passage; no shared word, no citation.

    >>> attribute("Refunds take 23 days", [Chunk("a#0", "a", "A", "cats"), Chunk("b#0", "b", "B", "23 days")])
    ['b']

    Introduced in 01_rag.ipynb.
    """
    words = content_words(text)
    overlap = [len(words & content_words(c.text)) for c in passages]
    if not overlap or max(overlap) == 0:
        return []
    return [passages[int(np.argmax(overlap))].doc_id]


def query_embedder(retriever):
    """The retriever's embedder (dense, fused or Milvus index, or one that wraps such an index in
    ``.retriever``, as ``lk.GoldPassages`` does), or None for a lexical one.

    Introduced in 01_rag.ipynb.
    """
    while retriever is not None:
        emb = getattr(retriever, "embedder", None) or getattr(getattr(retriever, "dense", None), "embedder", None)
        if emb is not None:
            return lambda texts: embed_texts(emb, texts)
        retriever = getattr(retriever, "retriever", None)  # a wrapper: ask the index it wraps
    return None


class RAGPipeline:
    """Retrieve top-k passages, abstain when retrieval is weak, else generate a short cited answer.

    >>> rag = RAGPipeline(lm, index, RAGConfig(top_k=3, min_score=0.3))      # doctest: +SKIP
    >>> rag.answer(["How long is the refund window?"])[0].text                 # doctest: +SKIP
    '23 days [refund-policy]'

    Introduced in 01_rag.ipynb.
    """

    def __init__(self, lm, retriever: Retriever, cfg: RAGConfig | None = None, name: str = "rag"):
        self.lm, self.retriever, self.cfg, self.name = lm, retriever, cfg or RAGConfig(), name

    def fingerprint(self) -> dict:
        return {
            "kind": "rag",
            "lm": self.lm.fingerprint(),
            "retriever": self.retriever.fingerprint(),
            "cfg": asdict(self.cfg),
            "shots": few_shot_turns() if self.cfg.few_shot else [],
        }

    def answer(self, qs: list[str]) -> list[Answer]:
        cfg = self.cfg
        qs = check_queries(qs)
        for q in qs:
            check_question_fits(self.lm, q, cfg.max_new_tokens)
        hits = self.retriever.search(qs, cfg.top_k)
        by_id = {c.id: c for c in self.retriever.chunks}
        passages = [[by_id[c] for c in row] for row in hits.chunk_ids]
        if cfg.context == "sentences":  # what the reader sees: the question's best sentences of its passages
            embed, whole = query_embedder(self.retriever), self._sentences()
            passages = [best_sentences(q, ps, cfg.n_sentences, embed, whole) for q, ps in zip(qs, passages)]
        answers = [
            Answer(cfg.abstention, [c.id for c in ps], [], hits.t_embed, hits.t_search, context=[c.text for c in ps])
            for ps in passages
        ]
        for a, conf in zip(answers, hits.confidence):
            a.confidence = float(conf)
        ask = [i for i, a in enumerate(answers) if a.confidence >= cfg.min_score]  # the rest abstain (float64)
        shots = few_shot_turns() if cfg.few_shot else []
        chats = [[*shots, {"role": "user", "content": build_prompt(qs[i], passages[i])}] for i in ask]
        gens = (
            chat_generate(
                self.lm,
                chats,
                max_new_tokens=cfg.max_new_tokens,
                batch_size=cfg.batch_size,
                system=cfg.system,
                sources=[[c.text for c in passages[i]] + [cfg.abstention] for i in ask]
                if cfg.decoding == "extractive"
                else None,  # extractive: copy from what was shown, or decline
                first_bias=self._decline_bias(),
            )
            if ask
            else []
        )
        for i, g in zip(ask, gens):
            text, cited = parse_citations(g.text, passages[i])
            if not cited and not is_abstention(text):  # the model named no passage: attribute by overlap
                cited = attribute(text, passages[i])
            if cfg.house_style and cited and not is_abstention(text):
                text = house_style(text, cited[0])
            answers[i].text, answers[i].cited = text, cited
            answers[i].add_generation(g)
        return answers

    def _sentences(self) -> dict[str, list[str]]:
        """Each chunk's whole sentences (``passage_sentences``), built once per chunk list."""
        chunks = self.retriever.chunks
        if getattr(self, "_whole", (None,))[0] is not chunks:
            self._whole = (chunks, passage_sentences(chunks))
        return self._whole[1]

    def _decline_bias(self) -> dict[int, float] | None:
        if not self.cfg.decline_bias:
            return None
        first = self.lm.tokenizer(self.cfg.abstention.strip(), add_special_tokens=False)["input_ids"][0]
        return {first: float(self.cfg.decline_bias)}

    def __repr__(self) -> str:
        return (
            f"RAGPipeline({self.name!r}, top_k={self.cfg.top_k}, min_score={self.cfg.min_score}, "
            f"reader={self.cfg.reader!r})"
        )


def tune_reader_and_k(lm, retriever: Retriever, dev: list[QARecord], base: RAGConfig, ks=(1, 2, 3, 4), readers=None):
    """Choose the reader and ``top_k`` on the dev questions (held-out wordings): the best dev accuracy.

    ``readers``: names from ``READERS`` to try (default: every one). Ties go to the smaller k, then the
    earlier reader (a shorter prompt is faster and cheaper). Every candidate runs through
    ``lk.run_approach`` (cached), so a later notebook asking the same gets the same choice at no cost.
    Returns the chosen config and the dev table, indexed by (reader, top_k): accuracy, confidently-wrong
    and correct-abstention rates, and the share of answerable questions whose gold answer was in the prompt.

    >>> cfg, table = tune_reader_and_k(lm, retriever, split.dev, RAGConfig(min_score=0.42))   # doctest: +SKIP

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    from .error_analysis import evidence_rate

    readers = list(READERS) if readers is None else list(readers)
    unknown = [r for r in readers if r not in READERS]
    if unknown or not readers:
        raise ValueError(f"tune_reader_and_k: readers must be names from lk.READERS {list(READERS)}, got {readers!r}")
    rows, cfgs = {}, {}
    for reader in readers:
        for k in ks:
            cfg = replace(base, top_k=k, **READERS[reader])
            recs = run_approach(RAGPipeline(lm, retriever, cfg, name=f"rag {reader} k={k}"), dev)
            row = {m: rates(recs, m).value for m in ("accuracy", "confidently_wrong", "correct_abstention")}
            rows[reader, k], cfgs[reader, k] = {**row, "evidence_in_prompt": evidence_rate(recs, dev)}, cfg
    table = pd.DataFrame(rows).T
    table.index.names = ["reader", "top_k"]
    best = max(rows, key=lambda rk: (rows[rk]["accuracy"], -rk[1], -readers.index(rk[0])))
    return cfgs[best], table


def right_over_all(records) -> float:
    """Share of ``records`` that are right, abstentions included: an answerable question answered with its
    gold answer, an unanswerable one declined. What ``tune_threshold`` and ``lk.tune_decline_bias`` maximise,
    so declining scores only where the documents have no answer.

    >>> from labkit.evaluate import Record
    >>> recs = [Record("rag", "q1", "question", "v1", "?", "23 days", True, contains=True),
    ...         Record("rag", "q2", "question", "v1", "?", "I don't know.", False, abstained=True),
    ...         Record("rag", "q3", "question", "v1", "?", "I don't know.", True, abstained=True)]
    >>> right_over_all(recs)
    0.6666666666666666

    Introduced in 01_rag.ipynb.
    """
    right = [r.contains if r.answerable else r.abstained for r in records]
    return sum(right) / len(right)


def abstain_below(records, qa: list[QARecord], min_score: float, abstention: str = ABSTENTION):
    """``records`` of a RAG run as a higher ``min_score`` would have left them: every answer whose
    retrieval confidence is below it becomes the abstention, with no generation cost, exactly as
    ``RAGPipeline`` declines without calling the model. Records without a confidence are kept.

    So one run at the lowest threshold scores every higher one, with the same answers above it.
    ``qa``: the QA records asked (for the gold answers). Introduced in 01_rag.ipynb.
    """
    by_id = {q.id: q for q in qa}
    out = []
    for r in records:
        if r.confidence is None or r.confidence >= min_score:
            out.append(r)
            continue
        fields = {"passages": r.passages, "context": r.context, "confidence": r.confidence}
        costs = {"t_embed": r.t_embed, "t_search": r.t_search}  # retrieval ran; the model did not
        out.append(score(r.approach, by_id[r.qid], abstention, phrasing=r.phrasing, question=r.question,
                         version=r.version, cited=[], **fields, **costs))  # fmt: skip
    return out


def tune_threshold(rag: RAGPipeline, dev: list[QARecord], min_scores, name: str = "rag"):
    """Choose, on the dev questions, the retrieval threshold below which ``rag`` declines: the one whose
    answers are right most often over *all* dev questions (answerable: the gold answer; unanswerable: a
    decline), so declining wins only where the documents have no answer (as ``lk.tune_decline_bias`` for
    the hybrid). Ties go to the lowest threshold: the one that declines least.

    ``rag`` runs once, at the lowest of ``min_scores`` (``lk.run_approach``, cached); each higher threshold
    is scored from those records (``abstain_below``). Returns (the pipeline with the chosen threshold,
    named ``name``; the dev table indexed by threshold). Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    scores = sorted({float(t) for t in min_scores})
    if not scores:
        raise ValueError("tune_threshold: min_scores is empty; give the thresholds to try on dev.")
    low = RAGPipeline(rag.lm, rag.retriever, replace(rag.cfg, min_score=scores[0]), name=rag.name)
    recs_low = run_approach(low, dev)
    rows = {}
    for t in scores:
        recs = abstain_below(recs_low, dev, t, rag.cfg.abstention)
        rows[t] = {"right (all dev)": right_over_all(recs)}  # one denominator for every threshold
        rows[t].update({m: rates(recs, m).value for m in ("accuracy", "correct_abstention", "confidently_wrong")})
    table = pd.DataFrame(rows).T.rename_axis("min_score")  # nan where dev has no unanswerable question
    best = max(scores, key=lambda t: (rows[t]["right (all dev)"], -t))
    return RAGPipeline(rag.lm, rag.retriever, replace(rag.cfg, min_score=best), name=name), table
