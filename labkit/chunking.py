"""Chunking: documents -> overlapping word windows that remember their document (for citations).

The first stage of RAG: what the retriever can find, and what the prompt can quote, is a chunk. Notebook
01 measures recall for several window sizes (``ChunkConfig``); ``chunk_hash`` keys every cached index.

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .data import Document

__all__ = ["Chunk", "ChunkConfig", "chunk_corpus", "chunk_hash"]


@dataclass(frozen=True)
class ChunkConfig:
    """How documents are cut into passages. Units are whitespace-separated words.

    >>> ChunkConfig(size=120, overlap=30).step
    90

    Introduced in 01_rag.ipynb.
    """

    size: int = 120  # words per chunk; MiniLM reads at most 256 word pieces (~190 words)
    overlap: int = 30  # words shared by consecutive chunks of a document, so no fact is cut in half

    def __post_init__(self):
        if not isinstance(self.size, int) or self.size <= 0:
            raise ValueError(f"ChunkConfig.size must be a positive number of words, got {self.size!r}")
        if not isinstance(self.overlap, int) or not 0 <= self.overlap < self.size:
            raise ValueError(f"ChunkConfig.overlap must be an int in [0, size={self.size}), got {self.overlap!r}")

    @property
    def step(self) -> int:
        return self.size - self.overlap


@dataclass(frozen=True)
class Chunk:
    """A passage: ``id`` is ``"<doc_id>#<n>"``; ``doc_id`` and ``title`` travel along for citations.

    Introduced in 01_rag.ipynb.
    """

    id: str
    doc_id: str
    title: str
    text: str

    @property
    def search_text(self) -> str:
        """What the retrievers see: the title helps a passage that never names its topic."""
        return f"{self.title}. {self.text}"


def _windows(n_words: int, cfg: ChunkConfig) -> list[tuple[int, int]]:
    """[start, end) word windows covering 0..n_words; the last window ends exactly at n_words."""
    starts = range(0, max(n_words - cfg.overlap, 1), cfg.step)
    return [(s, min(s + cfg.size, n_words)) for s in starts]


def chunk_corpus(docs: list[Document], cfg: ChunkConfig | None = None) -> list[Chunk]:
    """Cut every document into overlapping word windows, in document order.

    >>> doc = Document("a", "A", "faq", " ".join(f"w{i}" for i in range(10)))
    >>> [c.text for c in chunk_corpus([doc], ChunkConfig(size=4, overlap=1))]
    ['w0 w1 w2 w3', 'w3 w4 w5 w6', 'w6 w7 w8 w9']

    Introduced in 01_rag.ipynb.
    """
    cfg = cfg or ChunkConfig()
    if not docs:
        raise ValueError("chunk_corpus got an empty corpus: load documents first, e.g. lk.load_kb('v1').")
    seen: set[str] = set()
    chunks = []
    for doc in docs:
        if doc.id in seen:
            raise ValueError(f"chunk_corpus: document id {doc.id!r} appears twice; ids must be unique.")
        seen.add(doc.id)
        words = doc.text.split()
        for n, (s, e) in enumerate(_windows(len(words), cfg)):
            chunks.append(Chunk(f"{doc.id}#{n}", doc.id, doc.title, " ".join(words[s:e])))
    if not chunks:
        raise ValueError("chunk_corpus: every document is empty; nothing to index.")
    return chunks


def chunk_hash(chunks: list[Chunk]) -> str:
    """A short fingerprint of the chunks' ids and texts: the cache key of an index built on them.

    Introduced in 01_rag.ipynb.
    """
    h = hashlib.sha256()
    for c in chunks:
        h.update(f"{c.id}\x00{c.title}\x00{c.text}\x01".encode())
    return h.hexdigest()[:16]
