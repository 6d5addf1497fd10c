"""Real passages for the scale experiments: docstrings parsed in a fixed order, chunked like the workbook,
queries held out from the passages, and vectors embedded once in shards that a second run reuses."""

import numpy as np
import pytest
from faq_fixtures import HashBow

import labkit as lk
from labkit.data import Document
from labkit.docstrings import SCALE_CHUNKS, clean_docstring


class CountingBow(HashBow):
    """HashBow that counts the texts it embeds."""

    def __init__(self):
        self.seen = 0

    def encode(self, texts, **kw):
        self.seen += len(texts)
        return super().encode(texts, **kw)


def fake_docs(n=40):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    return [
        Document(
            f"pkg{i % 3}:f{i}",
            f"pkg.f{i}",
            f"pkg{i % 3}",
            f"Compute thing {i} quickly. " + " ".join(rng.choice(words, size=int(rng.integers(30, 200)))),
        )
        for i in range(n)
    ]


def test_the_workbook_and_the_scale_passages_are_cut_alike():
    assert SCALE_CHUNKS == lk.CHUNKS


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Sum.\n\n    >>> f(1)\n    2\n", "Sum. 2"),
        ("A   b\n\tc", "A b c"),
        (">>> only code\n... more", ""),
    ],
)
def test_clean_docstring_drops_doctest_code_and_spaces(raw, clean):
    assert clean_docstring(raw) == clean


def test_package_docs_parses_installed_packages_in_a_fixed_order():
    docs = lk.docstrings.package_docs(packages=["tqdm", "jinja2"])
    assert docs == lk.docstrings.package_docs(packages=["jinja2", "tqdm"])  # sorted by distribution, then path
    assert {d.type for d in docs} == {"jinja2", "tqdm"} and len(docs) > 20
    assert all(len(d.text.split()) >= 20 and ">>>" not in d.text for d in docs)
    assert len({d.text for d in docs}) == len(docs)  # duplicates dropped
    assert len({d.id for d in docs}) == len(docs)
    assert lk.docstrings.package_licences()["jinja2"] != "unknown"


def test_the_corpus_comes_from_labkits_own_requirements_only():
    needs = lk.docstrings.labkit_requirements()
    assert {"torch", "transformers", "scipy", "faiss-cpu", "usearch"} <= set(needs)
    assert not {"pytest", "nbval", "ruff", "playwright", "labkit"} & set(needs)  # test tools and itself: no
    assert needs == sorted(needs)


def test_scale_passages_hold_the_queries_out_and_are_seeded():
    docs = fake_docs()
    sp = lk.scale_passages(n=60, n_queries=5, docs=docs)
    assert len(sp.passages) == 60 and len(sp.queries) == 5
    assert all(len(c.text.split()) <= SCALE_CHUNKS.size for c in sp.passages)
    query_docs = {d.id for d in docs if any(d.text.startswith(q) for q in sp.queries)}
    assert len(query_docs) == 5 and not query_docs & {c.doc_id for c in sp.passages}
    assert sum(sp.packages.values()) == 60
    again = lk.scale_passages(n=60, n_queries=5, docs=docs)
    assert again.key == sp.key and again.texts() == sp.texts()
    other = lk.scale_passages(n=60, n_queries=5, docs=docs, seed=1)
    assert other.key != sp.key
    longer = lk.scale_passages(n=90, n_queries=5, docs=docs)
    assert longer.texts()[:60] == sp.texts()  # a larger corpus starts with the smaller one


def test_scale_passages_stop_at_what_the_documents_hold():
    sp = lk.scale_passages(n=10**6, n_queries=2, docs=fake_docs(6))
    assert 0 < len(sp.passages) < 100 and len(sp.queries) == 2


def test_embed_cached_resumes_and_reuses_shards(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    model = CountingBow()
    emb = lk.Embedder(model, "hash-bow-64", "test")
    texts = [f"passage {i} about w{i % 7}" for i in range(25)]
    first = lk.embed_cached(emb, texts, shard=10, progress=False)
    assert first.shape == (25, 64) and model.seen == 25
    assert np.array_equal(lk.embed_cached(emb, texts, shard=10, progress=False), first) and model.seen == 25
    shards = sorted((tmp_path / "scale").glob("vectors-*/*.npy"))
    assert len(shards) == 3
    shards[1].unlink()  # a run stopped during the second shard
    assert np.array_equal(lk.embed_cached(emb, texts, shard=10, progress=False), first) and model.seen == 35
    lk.embed_cached(emb, texts + ["one more"], shard=10, progress=False)
    assert model.seen == 35 + 6  # only the last shard changed: its 5 old texts and the new one
    spent = lk.docstrings.embed_seconds(emb, texts, shard=10)
    assert spent["shards"] == spent["shards_timed"] == 3 and spent["seconds"] >= 0 and spent["cpus"]
