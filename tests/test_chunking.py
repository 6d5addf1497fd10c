"""Chunking: windows, overlap, short documents, bad configs, empty corpus."""

import pytest
from faq_fixtures import HashBow

import labkit as lk


# --- chunking -------------------------------------------------------------------------------------
@pytest.mark.parametrize("size, overlap", [(4, 0), (4, 1), (5, 2), (12, 4), (100, 10)])
def test_chunking_invariants(docs, size, overlap):
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=size, overlap=overlap))
    assert len({c.id for c in chunks}) == len(chunks)  # unique ids
    for doc in docs:
        mine = [c for c in chunks if c.doc_id == doc.id]
        assert all(c.title == doc.title and c.id.startswith(doc.id + "#") for c in mine)
        assert all(len(c.text.split()) <= size for c in mine)
        words = doc.text.split()
        rebuilt = mine[0].text.split()
        for prev, cur in zip(mine, mine[1:]):
            p, c = prev.text.split(), cur.text.split()
            assert p[-overlap:] == c[:overlap] if overlap else True  # consecutive chunks share `overlap` words
            rebuilt += c[overlap:]
        assert rebuilt == words  # nothing lost, nothing duplicated beyond the overlap


def test_chunking_short_document_is_one_chunk(docs):
    chunks = lk.chunk_corpus(docs[:1], lk.ChunkConfig(size=1000, overlap=10))
    assert [c.text for c in chunks] == [" ".join(docs[0].text.split())]


@pytest.mark.parametrize(
    "kwargs", [{"size": 0}, {"size": 10, "overlap": 10}, {"size": 10, "overlap": -1}, {"size": 2.5}]
)
def test_chunk_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError, match="ChunkConfig"):
        lk.ChunkConfig(**kwargs)


def test_empty_corpus_is_a_clear_error():
    with pytest.raises(ValueError, match="empty corpus"):
        lk.chunk_corpus([])
    with pytest.raises(ValueError, match="empty"):
        lk.BM25Index([])
    with pytest.raises(ValueError, match="empty"):
        lk.DenseIndex.build([], lk.Embedder(HashBow(), "hash-bow-64", "test"))
