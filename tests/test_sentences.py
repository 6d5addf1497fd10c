"""Sentences: splitting, whole sentences of a chunk rebuilt from its document, the question's best ones."""

import numpy as np
import pytest

import labkit as lk

TEXT = (
    "# Probes Each probe reports to a gateway every 10 minutes over the Skeinlink radio. "
    "Batteries last 14 months in normal use. ## Charging The dock has 6 charging slots for battery packs, "
    "and a full charge takes 3 hours. | Light | Meaning | | Red blink | no uplink | Keep probes dry."
)


@pytest.mark.parametrize("size, overlap", [(8, 0), (8, 3), (12, 5), (20, 7), (200, 30)])
def test_passage_sentences_are_whole_and_cover_each_chunk(size, overlap):
    doc = lk.data.Document("probes", "Probes", "manual", TEXT)
    chunks = lk.chunk_corpus([doc], lk.ChunkConfig(size=size, overlap=overlap))
    whole = lk.passage_sentences(chunks)
    everything = lk.split_sentences(TEXT)
    assert set(whole) == {c.id for c in chunks}
    for c in chunks:
        assert set(whole[c.id]) <= set(everything), whole[c.id]  # only whole sentences of the document
        # each sentence piece the window left in the chunk lies inside one of the chunk's whole sentences
        for piece in lk.split_sentences(c.text):
            assert any(piece in s for s in whole[c.id]), (piece, whole[c.id])


def test_a_sentence_cut_by_the_window_is_shown_whole():
    doc = lk.data.Document("probes", "Probes", "manual", TEXT)
    chunks = lk.chunk_corpus([doc], lk.ChunkConfig(size=8, overlap=3))
    cut = chunks[0]  # "# Probes Each probe reports to a gateway": the window ends mid-sentence
    assert (
        "Probes Each probe reports to a gateway every 10 minutes over the Skeinlink radio."
        in lk.passage_sentences(chunks)[cut.id]
    )
    assert not any("Skeinlink" in s for s in lk.split_sentences(cut.text))  # the fragment alone lacks it


def test_passage_sentences_keep_documents_apart_and_short_chunks():
    chunks = [
        lk.Chunk("a#0", "a", "A", "Gates open at 8. Cats"),
        lk.Chunk("b#0", "b", "B", "ok"),  # no sentence of 3 words: keeps its text
        lk.Chunk("a#1", "a", "A", "Cats sleep all day."),
    ]
    whole = lk.passage_sentences(chunks)
    assert whole == {"a#0": ["Gates open at 8.", "Cats sleep all day."], "b#0": ["ok"], "a#1": ["Cats sleep all day."]}


def test_best_sentences_keeps_document_order_and_ids():
    ps = [
        lk.Chunk("a#0", "a", "A", "Cats sleep all day long. The gate opens at noon sharp."),
        lk.Chunk("b#2", "b", "B", "Dogs bark at night. The gate closes at dusk."),
    ]
    out = lk.best_sentences("When does the gate open and close?", ps, n=2)
    assert [c.id for c in out] == ["a#0/s1", "b#2/s1"] and [c.doc_id for c in out] == ["a", "b"]
    vec = {"cats": [1.0, 0.0], "gate": [0.0, 1.0]}  # a toy embedder: sentences about gates point up

    def embed(texts):
        return np.array([vec["gate"] if "gate" in t.lower() else vec["cats"] for t in texts])

    assert [c.text for c in lk.best_sentences("gate?", ps, n=1, embed=embed)] == ["The gate opens at noon sharp."]


def test_best_sentences_reads_whole_sentences_and_shows_a_shared_one_once():
    ps = [lk.Chunk("a#0", "a", "A", "Gates open at 8. Cats"), lk.Chunk("a#1", "a", "A", "Cats sleep all day.")]
    whole = lk.passage_sentences(ps)
    out = lk.best_sentences("Do cats sleep all day?", ps, n=3, sentences=whole)
    assert [c.text for c in out] == ["Gates open at 8.", "Cats sleep all day."]  # 2 distinct of 3 candidates
    # without the whole sentences, the first chunk offers only its fragment "Gates open at 8." and "Cats"
    assert "Cats sleep all day." in [c.text for c in lk.best_sentences("cats sleep", ps[:1], n=1, sentences=whole)]
    assert [c.text for c in lk.best_sentences("cats sleep", ps[:1], n=1)] == ["Gates open at 8."]
