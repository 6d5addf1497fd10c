"""Sentences: what the extractive reader is shown, the question's best whole sentences of its passages.

A 135M reader loses the answer in long context (notebook 01), so RAG shows it only the question's best
sentences of the retrieved passages. A word window cuts sentences at its edges ("Each probe reports to
a"); ``passage_sentences`` hands each passage its *whole* sentences, rebuilt from the document.

* ``split_sentences``: a text's sentences (and heading- or table-row-separated pieces).
* ``passage_sentences``: each chunk's complete sentences (those of its document that overlap it).
* ``best_sentences``: the ``n`` sentences of some passages most similar to a question.

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import re

import numpy as np

from .chunking import Chunk

__all__ = ["split_sentences", "passage_sentences", "best_sentences"]

# Sentence ends, markdown headings, and table row boundaries ("| a | b | | c | d |": one row, one piece).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*#+\s+|(?<=\|)\s+(?=\|)")
_STOP = {"the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "is", "are", "it", "its", "be", "by", "with",
         "at", "as", "from", "that", "this", "you", "your", "can", "per"}  # fmt: skip


def content_words(text: str) -> set[str]:
    """Content words, lower-cased: what ``lk.attribute`` and the lexical ranking compare.

    >>> sorted(content_words("The fee is 47 EUR per seat."))
    ['47', 'eur', 'fee', 'seat']

    Introduced in 01_rag.ipynb.
    """
    return {w for w in re.findall(r"\w+", text.lower()) if w not in _STOP}


def _pieces(text: str, min_words: int) -> list[tuple[int, int, str]]:
    """(start, end, piece): character spans of the pieces between sentence boundaries, stripped."""
    out, at = [], 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        raw = text[at : m.start() if m else len(text)]
        piece, lead = raw.strip(), len(raw) - len(raw.lstrip())
        if len(re.findall(r"\w+", piece)) >= min_words and set(piece) - set("|-: "):  # not a table rule
            out.append((at + lead, at + lead + len(piece), piece))
        at = m.end() if m else at
    return out


def split_sentences(text: str, min_words: int = 3) -> list[str]:
    """A passage's sentences (and heading- or table-row-separated pieces) of at least ``min_words`` words.

    >>> split_sentences("## Hours Open at 08:15. Closed on holidays! Ok.")
    ['Hours Open at 08:15.', 'Closed on holidays!']
    >>> split_sentences("| Light | What it means | | Red blink | no uplink |")
    ['| Light | What it means |', '| Red blink | no uplink |']

    Introduced in 01_rag.ipynb.
    """
    return [p for _, _, p in _pieces(text, min_words)]


def _overlap(prev: list[str], cur: list[str]) -> int:
    """How many words ``cur`` repeats from the end of ``prev`` (consecutive windows share their overlap)."""
    for k in range(min(len(prev), len(cur)), 0, -1):
        if prev[-k:] == cur[:k]:
            return k
    return 0


def passage_sentences(chunks: list[Chunk]) -> dict[str, list[str]]:
    """Each chunk's complete sentences: the sentences of its document that overlap it, whole.

    The document's words are rebuilt from its chunks in order (each repeats the previous one's last
    words: the window overlap, found by matching, so any chunk setting works, or none). A chunk with no
    sentence of 3 words keeps its own text.

    >>> doc = [Chunk("a#0", "a", "A", "Gates open at 8. Cats"), Chunk("a#1", "a", "A", "Cats sleep all day.")]
    >>> passage_sentences(doc)["a#0"]
    ['Gates open at 8.', 'Cats sleep all day.']

    Introduced in 01_rag.ipynb.
    """
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    out = {}
    for doc in by_doc.values():
        words, spans = [], []  # the document's words; each chunk's [start, end) word span in them
        for c in doc:
            w = c.text.split()
            start = len(words) - _overlap(words, w)
            spans.append((start, start + len(w)))
            words += w[len(words) - start :]
        at = np.cumsum([0] + [len(w) + 1 for w in words])  # (n_words + 1,) character offset of each word
        pieces = _pieces(" ".join(words), 3)
        for c, (a, b) in zip(doc, spans):
            out[c.id] = [p for s, e, p in pieces if s < at[b] - 1 and e > at[a]] or [c.text]
    return out


def best_sentences(question: str, passages: list[Chunk], n: int, embed=None, sentences=None) -> list[Chunk]:
    """The ``n`` sentences of ``passages`` most similar to ``question``, in the passages' order.

    ``sentences``: chunk id -> its candidate sentences (``passage_sentences``: whole ones); by default
    each passage's own text split into sentences, cut where the window cut it. A sentence two passages
    share is a candidate once. ``embed``: texts -> unit vectors ``(n, dim)``; sentences are ranked by
    cosine with the question (each prefixed with its passage's title, as the retriever indexes chunks).
    Without it, by the content words shared with the question. (Fusing both rankings, as the retriever
    does for chunks, found the answer's sentence less often on the dev questions: notebook 01.) Each
    becomes a ``Chunk`` of its passage's document (id ``<chunk id>/s<i>``), so citations name the document.

    >>> ps = [Chunk("a#0", "a", "A", "Cats sleep a lot. The gate opens at 08:15 daily.")]
    >>> [c.text for c in best_sentences("When does the gate open?", ps, n=1)]
    ['The gate opens at 08:15 daily.']

    Introduced in 01_rag.ipynb.
    """
    cands, seen = [], set()
    for c in passages:
        for i, s in enumerate(sentences[c.id] if sentences else split_sentences(c.text) or [c.text]):
            if s not in seen:
                seen.add(s)
                cands.append((c, i, s))
    if embed is not None:
        vecs = embed([question] + [f"{c.title}. {s}" for c, _, s in cands])  # (1 + n_candidates, dim)
        sim = vecs[1:] @ vecs[0]  # (n_candidates,) cosine
    else:
        q = content_words(question)
        sim = np.array([len(q & content_words(s)) for _, _, s in cands], dtype=float)
    keep = sorted(np.argsort(-sim, kind="stable")[:n])  # best n, then back in document order
    return [Chunk(f"{cands[j][0].id}/s{cands[j][1]}", cands[j][0].doc_id, cands[j][0].title, cands[j][2]) for j in keep]
