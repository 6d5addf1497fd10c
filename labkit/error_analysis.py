"""Why an answer is wrong: was the evidence in the prompt (a reading miss) or not (a retrieval miss)?

For every answerable question an approach got wrong, the records say what the reader was shown
(``Record.context``), so the miss can be put on retrieval or on reading without a judge model:

* ``error_kind`` / ``error_breakdown``: correct, or wrong / declined with the gold answer in the prompt
  or not (closed-book systems: "no passages").
* ``GoldPassages``: a retriever that hands the reader the passage holding the answer (the *oracle*),
  alone or with retrieved distractors: the **reader ceiling**, what the reader does with perfect
  retrieval.
* ``risk_coverage``: accuracy among the questions answered, as a confidence threshold declines more of
  them, so two systems that decline at different rates compare at the same coverage.

>>> from labkit.evaluate import Record
>>> r = Record("rag", "q1", "heldout", "v1", "?", "9 days", True, context=["up to 3 days per week"])
>>> error_kind(r, ["3 days"])
'retrieved, not used'

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import numpy as np

from .chunking import Chunk
from .data import QARecord
from .evaluate import Record, contains_gold, is_abstention

__all__ = [
    "ERROR_KINDS",
    "error_kind",
    "error_breakdown",
    "evidence_rate",
    "plot_error_breakdown",
    "GoldPassages",
    "risk_coverage",
]

ERROR_KINDS = (
    "correct",
    "retrieved, not used",  # the gold answer was in the prompt; the reply is wrong
    "retrieved, declined",  # the gold answer was in the prompt; the reply declines
    "not retrieved, wrong",  # the prompt lacked the answer; the reply is wrong anyway
    "not retrieved, declined",  # the prompt lacked the answer; the reply declines (the right reaction)
    "no passages, wrong",  # closed book
    "no passages, declined",
)


def _golds(qa: QARecord, version: str) -> list[str]:
    gold, aliases, _ = qa.gold(version)
    return [gold, *aliases]


def error_kind(record: Record, golds: list[str]) -> str:
    """One answerable record's kind (``ERROR_KINDS``), from its reply and the passages it was shown.

    >>> from labkit.evaluate import Record
    >>> error_kind(Record("base", "q1", "heldout", "v1", "?", "I don't know.", True), ["3 days"])
    'no passages, declined'

    Introduced in 01_rag.ipynb.
    """
    if not record.answerable:
        raise ValueError(f"error_kind: record {record.qid!r} is unanswerable; the breakdown is for answerable ones")
    if contains_gold(record.answer, golds):
        return "correct"
    declined = is_abstention(record.answer)
    if not record.context:
        return "no passages, declined" if declined else "no passages, wrong"
    shown = contains_gold(" ".join(record.context), golds)
    if shown:
        return "retrieved, declined" if declined else "retrieved, not used"
    return "not retrieved, declined" if declined else "not retrieved, wrong"


def _answerable(records: list[Record], qa: list[QARecord]):
    by_id = {q.id: q for q in qa}
    missing = sorted({r.qid for r in records} - set(by_id))
    if missing:
        raise ValueError(f"error analysis: records of questions {missing[:5]} are not in the QA list given")
    return [(r, _golds(by_id[r.qid], r.version)) for r in records if r.answerable]


def evidence_rate(records: list[Record], qa: list[QARecord]) -> float:
    """Share of the answerable records whose prompt held the gold answer (0 for closed-book records).

    Introduced in 01_rag.ipynb.
    """
    pairs = _answerable(records, qa)
    if not pairs:
        raise ValueError("evidence_rate: no answerable records")
    return float(np.mean([contains_gold(" ".join(r.context), g) for r, g in pairs]))


def error_breakdown(records: list[Record], qa: list[QARecord]):
    """Counts of each ``ERROR_KINDS`` kind per approach, over the answerable records (one row each).

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    rows: dict[str, dict[str, int]] = {}
    for r, golds in _answerable(records, qa):
        row = rows.setdefault(r.approach, dict.fromkeys(ERROR_KINDS, 0))
        row[error_kind(r, golds)] += 1
    if not rows:
        raise ValueError("error_breakdown: no answerable records")
    table = pd.DataFrame(rows).T[list(ERROR_KINDS)]
    table.index.name = "approach"
    return table.loc[:, (table > 0).any()]  # kinds no approach has are left out


_COLOURS = {
    "correct": "#55a868",
    "retrieved, not used": "#c44e52",
    "retrieved, declined": "#f0a0a0",
    "not retrieved, wrong": "#8172b2",
    "not retrieved, declined": "#c5bce0",
    "no passages, wrong": "#555555",
    "no passages, declined": "#aaaaaa",
}


def plot_error_breakdown(table, ax=None, title: str = "Answerable questions: where each answer went"):
    """Stacked bars of ``error_breakdown``, as shares of each approach's answerable questions.

    Introduced in 01_rag.ipynb.
    """
    import matplotlib.pyplot as plt

    shares = table.div(table.sum(axis=1), axis=0)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(shares)))
    shares.plot.barh(stacked=True, ax=ax, color=[_COLOURS[c] for c in shares.columns], width=0.7)
    ax.set(xlabel="share of answerable questions", ylabel="", title=title, xlim=(0, 1))
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


class GoldPassages:
    """A retriever that always finds the passage holding the answer: the reader ceiling.

    For a question (any of its wordings) it returns the oracle chunk (``lk.oracle_chunk``) first, then
    ``k - 1`` of ``retriever``'s best passages from other documents (the distractors real retrieval
    puts beside it). Unanswerable questions get ``retriever``'s own top k. Confidence is 1, so no
    threshold declines.

    >>> ceiling = lk.RAGPipeline(lm, GoldPassages(retriever, qa), cfg)     # doctest: +SKIP

    Introduced in 01_rag.ipynb.
    """

    def __init__(self, retriever, qa: list[QARecord], version: str = "v1"):
        from .data import PHRASINGS, wordings
        from .hybrid import oracle_chunk

        self.retriever, self.version, self.chunks = retriever, version, retriever.chunks
        self._oracle: dict[str, tuple[Chunk | None, set[str]]] = {}
        for rec in qa:
            entry = (oracle_chunk(rec, self.chunks, version), set(rec.gold(version)[2]))
            for ph in PHRASINGS:
                for w in wordings(rec, ph):
                    self._oracle[w] = entry
        self._n_questions = len(qa)

    def fingerprint(self) -> dict:
        oracles = sorted((w, o.id if o else None) for w, (o, _) in self._oracle.items())
        return {
            "kind": "gold-passages",
            "version": self.version,
            "base": self.retriever.fingerprint(),
            "oracles": oracles,
        }

    def search(self, queries: list[str], k: int):
        from .retrieval import Hits

        unknown = [q for q in queries if q not in self._oracle]
        if unknown:
            raise ValueError(
                f"GoldPassages knows only the wordings of its {self._n_questions} questions: {unknown[0]!r}"
            )
        hits = self.retriever.search(queries, k + 12)  # room for distractors outside the gold documents
        by_id = {c.id: c for c in self.chunks}
        rows = []
        for q, row in zip(queries, hits.chunk_ids):
            oracle, gold_docs = self._oracle[q]
            if oracle is None:
                rows.append(row[:k])
                continue
            others = [c for c in row if by_id[c].doc_id not in gold_docs][: k - 1]
            rows.append([oracle.id, *others])
        ones = np.ones((len(queries), max(len(r) for r in rows)), dtype=np.float32)  # (n_queries, k)
        return Hits(rows, ones, np.ones(len(queries), dtype=np.float32), hits.t_embed, hits.t_search)


def risk_coverage(records: list[Record]):
    """Accuracy among the answered answerable questions as a confidence threshold rises.

    At each threshold t (every distinct ``Record.confidence``), a question counts as answered when its
    confidence is >= t and the reply is not an abstention. Returns a DataFrame with ``threshold``,
    ``coverage`` (answered / answerable), ``selective_accuracy`` (correct / answered, NaN at 0 answered)
    and ``answered``, from the lowest threshold (most answered) to the highest.

    >>> from labkit.evaluate import Record
    >>> rs = [Record("x", f"q{i}", "heldout", "v1", "?", a, True, contains=c, abstained=a == "I don't know.",
    ...              confidence=s) for i, (a, c, s) in enumerate([("a", True, .9), ("b", False, .5), ("c", True, .7)])]
    >>> risk_coverage(rs)[["threshold", "coverage", "selective_accuracy"]].round(3).values.tolist()
    [[0.5, 1.0, 0.667], [0.7, 0.667, 1.0], [0.9, 0.333, 1.0]]

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    ans = [r for r in records if r.answerable]
    if not ans:
        raise ValueError("risk_coverage: no answerable records")
    if any(r.confidence is None for r in ans):
        raise ValueError("risk_coverage: every record needs a confidence (records of a retrieval approach)")
    conf = np.array([r.confidence for r in ans])  # (n_answerable,)
    said = np.array([not r.abstained for r in ans])
    right = np.array([r.contains for r in ans])
    rows = []
    for t in np.unique(conf):
        answered = said & (conf >= t)
        n = int(answered.sum())
        rows.append(
            {
                "threshold": float(t),
                "coverage": n / len(ans),
                "selective_accuracy": float(right[answered].mean()) if n else float("nan"),
                "answered": n,
            }
        )
    return pd.DataFrame(rows)
