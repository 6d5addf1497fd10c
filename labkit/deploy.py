"""Deployment time, measured one question at a time (batch 1), as one user meets it.

``first_correct``: ask held-out questions in order until the first correct answer: the last step of
"raw documents -> first correct answer" (the build before it is timed by the caller). The batch-1 latency
split by stage is ``lk.latency_batch1`` (protocol.py), the one batch-1 timer of every notebook.

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .data import EVAL_WORDING, QARecord
from .evaluate import Record, score
from .protocol import Approach, check_approach, questions

__all__ = ["FirstCorrect", "first_correct"]


@dataclass
class FirstCorrect:
    """How long an approach took to give its first correct answer, and how many questions that took.

    Introduced in 05_cost_and_scale.ipynb.
    """

    seconds: float  # answering time of every question asked, the wrong ones included
    asked: int
    record: Record | None  # the first correct answer; None when none of the questions was answered right


def first_correct(
    approach: Approach, qa: list[QARecord], phrasing: str = EVAL_WORDING, version: str = "v1", limit: int = 50
) -> FirstCorrect:
    """Ask the answerable questions of ``qa`` one at a time, in order, until an answer contains the gold.

    >>> fc = first_correct(rag, split.test)                 # doctest: +SKIP
    >>> fc.asked, round(fc.seconds, 1)                      # doctest: +SKIP
    (2, 1.7)

    Introduced in 05_cost_and_scale.ipynb.
    """
    check_approach(approach)
    pairs = [(rec, q) for rec, q in questions(qa, phrasing) if rec.is_answerable(version)][:limit]
    if not pairs:
        raise ValueError("first_correct needs at least one answerable question")
    spent = 0.0
    for i, (rec, q) in enumerate(pairs, start=1):
        t0 = time.perf_counter()
        a = approach.answer([q])[0]
        spent += time.perf_counter() - t0
        r = score(approach.name, rec, a.text, phrasing=phrasing, question=q, version=version, **a.costs())
        if r.contains:
            return FirstCorrect(spent, i, r)
    return FirstCorrect(spent, len(pairs), None)
