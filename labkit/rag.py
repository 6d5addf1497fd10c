"""Retrieval-augmented generation: retrieved passages in a prompt -> a short cited answer, or abstention.

RAG "reads information each time": for every question it retrieves passages (``labkit.retrieval``, over
``labkit.chunking``'s chunks) and puts them, numbered, in the prompt.

* ``RAGConfig``, ``build_prompt``, ``few_shot_turns``: the prompt (two invented worked examples first).
* ``parse_citations`` / ``attribute``: which passage an answer cites, or contains.
* ``RAGPipeline``: an ``lk.Approach``: retrieve, abstain below a similarity threshold, else generate.
* ``tune_rag``: the number of passages chosen on the dev questions (``lk.split_qa``), never on test.

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

import numpy as np

from .chunking import Chunk
from .data import ABSTENTION, QARecord
from .evaluate import is_abstention
from .generate import chat_generate
from .protocol import Answer, check_question_fits
from .retrieval import Retriever, _check_queries

__all__ = [
    "RAG_SYSTEM",
    "RAGConfig",
    "few_shot_turns",
    "build_prompt",
    "parse_citations",
    "attribute",
    "RAGPipeline",
    "tune_rag",
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
    # prompts decoded together: 8 for every approach, so their throughput and cost compare like for like.
    # (16 decoded RAG faster, 44 answers: 7.9 vs 12.3 s of decode, but peaked 136 MB higher.)
    batch_size: int = 8
    system: str = RAG_SYSTEM  # system prompt
    few_shot: bool = True  # show two worked examples (invented, not from the KB) before the question
    abstention: str = ABSTENTION  # what it says below the threshold: lk.abstention_sentence(corpus name)

    def __post_init__(self):
        if not isinstance(self.top_k, int) or self.top_k <= 0:
            raise ValueError(f"RAGConfig.top_k must be a positive int (passages per prompt), got {self.top_k!r}")
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens <= 0:
            raise ValueError(f"RAGConfig.max_new_tokens must be a positive int, got {self.max_new_tokens!r}")
        if not isinstance(self.batch_size, int) or self.batch_size <= 0:
            raise ValueError(f"RAGConfig.batch_size must be a positive int, got {self.batch_size!r}")


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


_STOP = {
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "for",
    "and",
    "or",
    "is",
    "are",
    "it",
    "its",
    "be",
    "by",
    "with",
    "at",
    "as",
    "from",
    "that",
    "this",
    "you",
    "your",
    "can",
    "per",
}


def attribute(text: str, passages: list[Chunk]) -> list[str]:
    """When an answer cites no ``[n]``: the doc id of the passage sharing most content words with it.

    A rule, not a judgment of support: it records which passage the words came from. Ties go to the
    higher-ranked passage; no shared word, no citation.

    >>> attribute("Refunds take 23 days", [Chunk("a#0", "a", "A", "cats"), Chunk("b#0", "b", "B", "23 days")])
    ['b']

    Introduced in 01_rag.ipynb.
    """
    words = {w for w in re.findall(r"\w+", text.lower()) if w not in _STOP}
    overlap = [len(words & set(re.findall(r"\w+", c.text.lower()))) for c in passages]
    if not overlap or max(overlap) == 0:
        return []
    return [passages[int(np.argmax(overlap))].doc_id]


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
        qs = _check_queries(qs)
        for q in qs:
            check_question_fits(self.lm, q, cfg.max_new_tokens)
        hits = self.retriever.search(qs, cfg.top_k)
        by_id = {c.id: c for c in self.retriever.chunks}
        passages = [[by_id[c] for c in row] for row in hits.chunk_ids]
        answers = [Answer(cfg.abstention, [c.id for c in ps], [], hits.t_embed, hits.t_search) for ps in passages]
        ask = [i for i in range(len(qs)) if hits.confidence[i] >= cfg.min_score]  # the rest abstain
        shots = few_shot_turns() if cfg.few_shot else []
        chats = [[*shots, {"role": "user", "content": build_prompt(qs[i], passages[i])}] for i in ask]
        gens = (
            chat_generate(
                self.lm, chats, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size, system=cfg.system
            )
            if ask
            else []
        )
        for i, g in zip(ask, gens):
            text, cited = parse_citations(g.text, passages[i])
            if not cited and not is_abstention(text):  # the model named no passage: attribute by overlap
                cited = attribute(text, passages[i])
            answers[i].text, answers[i].cited = text, cited
            answers[i].add_generation(g)
        return answers

    def __repr__(self) -> str:
        return f"RAGPipeline({self.name!r}, top_k={self.cfg.top_k}, min_score={self.cfg.min_score})"


def tune_rag(lm, retriever: Retriever, dev: list[QARecord], base: RAGConfig, ks=(1, 2, 3, 4)):
    """Choose ``top_k`` on the dev questions (held-out wordings): the k with the best dev accuracy.

    Ties go to the smaller k (a shorter prompt is faster and cheaper). Every candidate runs through
    ``lk.run_approach`` (cached), so a later notebook asking the same gets the same choice at no cost.
    Returns the chosen config and the dev table (accuracy and confidently-wrong rate per k).

    >>> cfg, table = tune_rag(lm, retriever, split.dev, RAGConfig(min_score=0.42))   # doctest: +SKIP

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    from .evaluate import rates
    from .protocol import run_approach

    rows = {}
    for k in ks:
        recs = run_approach(RAGPipeline(lm, retriever, replace(base, top_k=k), name=f"rag k={k}"), dev)
        rows[k] = {m: rates(recs, m) for m in ("accuracy", "confidently_wrong", "correct_abstention")}
    table = pd.DataFrame({k: {m: r.value for m, r in row.items()} for k, row in rows.items()}).T
    table.index.name = "top_k"
    best = max(ks, key=lambda k: (table.loc[k, "accuracy"], -k))
    return replace(base, top_k=int(best)), table
