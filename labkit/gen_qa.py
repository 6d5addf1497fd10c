"""Questions generated from a folder of documents, when nobody wrote any: extractive cloze templates.

A sentence of a document with one span blanked out (a number with its noun, or a run of capitalised
words) becomes a question whose gold answer is the span. Each gets three wordings, as the workbook's own
questions have: a canonical one and a training paraphrase (the fine-tune's fact cards) and a held-out one
(what every approach is scored on). They are *generated*: easy for retrieval (the question quotes the
document) and not comparable with hand-written questions, and every table built on them says so
(``category == "generated"``). No unanswerable questions are generated: correct abstention is not measured
on them.

>>> from labkit.data import Document
>>> qa = generate_qa([Document("rules", "Rules", "text", "Members must be at least twenty five Years old.")])
>>> qa[0].answer, qa[0].paraphrases_heldout[0]
('twenty five Years', 'Which words are missing from this line of Rules? "Members must be at least _____ old."')

Introduced in 06_your_own_documents.ipynb.
"""

from __future__ import annotations

import random
import re

from .data import QARecord

__all__ = ["GENERATED", "sentences", "cloze_span", "generate_qa"]

GENERATED = "generated"  # the category of every generated question
BLANK = "_____"
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_BLOCK = re.compile(r"\n\s*\n|(?<=[^.!?;:,\s])[ \t]*\n")  # a blank line, or the end of a heading-like line
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
)
# A number (digits or words, "twenty five") and the word after it: "twenty five Years", "3 days"; the word
# after it is a noun, not "and" / "or" / "of" ("two or more States" gives no span).
_NUMBER = re.compile(
    rf"\b(?:\d[\d,.]*|(?:{_NUMBER_WORDS})(?:[ -](?:and )?(?:{_NUMBER_WORDS}))*)"
    r"\s+(?!(?:and|or|of|the|to|in|a|an)\b)[A-Za-z]+\b",
    re.I,
)
# Two or more capitalised words (an "of" may join them): "Supreme Court", "House of Representatives".
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][a-z]+)+\b")
_MIN_WORDS, _MAX_WORDS = 6, 45


def sentences(text: str) -> list[str]:
    r"""Sentences (or ;-clauses) of ``text`` with 6 to 45 words that end in punctuation, whitespace collapsed.
    A line without final punctuation (a heading, a title) is dropped, not run into the next sentence.

    >>> sentences("Too short. This one has exactly six words here; and so does this other clause here.")
    ['This one has exactly six words here;', 'and so does this other clause here.']
    >>> sentences("The Bill of Rights: Amendments I-X\nCongress shall make no law respecting religion.")
    ['Congress shall make no law respecting religion.']

    Introduced in 06_your_own_documents.ipynb.
    """
    out = []
    for block in _BLOCK.split(text):
        for s in _SENTENCE.split(" ".join(block.split())):
            if _MIN_WORDS <= len(s.split()) <= _MAX_WORDS and s[-1] in ".!?;:":
                out.append(s)
    return out


def cloze_span(sentence: str) -> str | None:
    """The span to blank out: the first number phrase, else the longest capitalised run not at the start.

    >>> cloze_span("The Senate shall have two Senators from each State.")
    'two Senators'
    >>> cloze_span("Appeals go to the Supreme Court of the United States.")
    'Supreme Court of the United States'

    Introduced in 06_your_own_documents.ipynb.
    """
    number = _NUMBER.search(sentence)
    if number:
        return number.group(0)
    names = [m for m in _NAME.finditer(sentence) if m.start() > 0]
    return max(names, key=lambda m: len(m.group(0))).group(0) if names else None


def _record(doc, i: int, sentence: str, span: str) -> QARecord:
    blanked = sentence.replace(span, BLANK, 1)
    t = doc.title
    return QARecord(
        id=f"gen-{doc.id}-{i:03d}", question=f'{t}: "{blanked}" What goes in the blank?', answer=span,
        aliases=(), doc_ids=(doc.id,), paraphrases_train=(f"Fill in the blank, from {t}: {blanked}",),
        paraphrases_heldout=(f'Which words are missing from this line of {t}? "{blanked}"',), answerable=True,
        category=GENERATED, changed_in_v2=False, answer_v2=span, aliases_v2=(), doc_ids_v2=(doc.id,),
        answerable_v2=True, styled_answer=f"{sentence.rstrip('.;:!?')} [{doc.id}].", styled_answer_v2=None,
    )  # fmt: skip


def generate_qa(docs: list, n: int = 120, seed: int = 0) -> list[QARecord]:
    """Up to ``n`` cloze questions, dealt round-robin over the documents (each document's sentences in a
    seeded order), one per sentence. Deterministic for the same documents and seed.

    Introduced in 06_your_own_documents.ipynb.
    """
    if n < 1:
        raise ValueError(f"generate_qa: n must be >= 1, got {n!r}")
    pools = []
    for doc in sorted(docs, key=lambda d: d.id):
        cands = [(i, s, span) for i, s in enumerate(sentences(doc.text)) if (span := cloze_span(s))]
        random.Random(f"{seed}:{doc.id}").shuffle(cands)
        pools.append([_record(doc, i, s, span) for i, s, span in cands])
    out = []
    while len(out) < n and any(pools):
        for pool in pools:
            if pool and len(out) < n:
                out.append(pool.pop(0))
    return out
