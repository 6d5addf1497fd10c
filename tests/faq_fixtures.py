"""A four-document FAQ, its QA set and a fast deterministic index: fixtures shared by the chunking,
retrieval and RAG tests (each test module imports the ones it uses)."""

import json
import re
import zlib

import numpy as np
import pytest
from factories import qa_row

import labkit as lk
from labkit.data import Document

DOCS = {
    "refund-policy": (
        "Refund policy",
        "Customers can request a refund within 23 days of purchase. "
        "Refunds go back to the original card within five business days.",
    ),
    "pricing": (
        "Pricing",
        "The Team plan costs 47.80 EUR per seat per month. The Basic plan is free "
        "for up to three users and has no export feature.",
    ),
    "office-hours": (
        "Support hours",
        "Support answers phone calls from 07:30 to 18:00 on weekdays. Chat support is open around the clock.",
    ),
    "release-3-2": (
        "Release 3.2",
        "Version 3.2 adds the zebracorn importer and dark mode. It removes the legacy XML exporter.",
    ),
}


def qa_line(qid, question, answer, doc_ids, aliases=()):
    return qa_row(
        qid,
        question,
        answer,
        doc_ids,
        aliases,
        train=[question.lower()],
        heldout=[question.upper()],
        styled=f"{answer} [{doc_ids[0]}]." if answer else None,
    )


QA = [
    qa_line("q1", "How many days do I have to request a refund?", "23 days", ["refund-policy"], ["twenty-three days"]),
    qa_line("q2", "What does the Team plan cost per seat?", "47.80 EUR", ["pricing"]),
    qa_line("q3", "When does phone support open?", "07:30", ["office-hours"]),
    qa_line("q4", "Which importer was added in version 3.2?", "zebracorn importer", ["release-3-2"]),
    qa_line("u1", "Who is the chief financial officer?", None, []),
]


@pytest.fixture()
def docs():
    return [Document(i, t, "faq", body) for i, (t, body) in DOCS.items()]


@pytest.fixture()
def qa(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in QA) + "\n")
    return lk.load_qa(path)


class HashBow:
    """A deterministic bag-of-words model with the SentenceTransformer.encode signature: fast tests."""

    def encode(self, texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False):
        out = np.full((len(texts), 64), 1e-3, dtype=np.float32)  # (n, 64); never all zero
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, zlib.crc32(w.encode()) % 64] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture()
def index(docs, cache):
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=12, overlap=4))
    return lk.DenseIndex.build(chunks, lk.Embedder(HashBow(), "hash-bow-64", "test"))
