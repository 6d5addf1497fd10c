"""One faiss config and factory: settings checked with their help text, knobs set, cache keys per setting."""

import numpy as np
import pytest
from faq_fixtures import HashBow

import labkit as lk


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"kind": "lsh"}, "kind must be one of"),
        ({"kind": "hnsw", "ef_search": 0}, "ef_search must be an int >= 1 (hnsw: candidates kept while searching"),
        ({"kind": "ivf", "nprobe": 2.5}, "nprobe must be an int >= 1"),
        ({"kind": "ivf", "cells_per_sqrt_n": 0}, "cells_per_sqrt_n must be > 0"),
    ],
)
def test_bad_settings_name_the_field_and_what_it_does(kwargs, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        lk.IndexConfig(**kwargs)


def test_the_factory_sets_each_kinds_knob_and_needs_a_dimension_for_pq():
    vecs = np.random.default_rng(0).normal(size=(400, 48)).astype(np.float32)
    assert lk.make_index(vecs, lk.IndexConfig("hnsw", ef_search=99)).hnsw.efSearch == 99
    ivf = lk.make_index(vecs, lk.IndexConfig("ivf", cells_per_sqrt_n=0.2, nprobe=8))
    assert (ivf.nlist, ivf.nprobe) == (4, 4)  # nprobe never above the cells there are
    with pytest.raises(ValueError, match="pq_bytes=48, got 40"):
        lk.make_index(vecs[:, :40], "ivfpq")


def test_dense_index_keeps_its_config_and_caches_each_setting_apart(docs, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=6, overlap=2))
    emb = lk.Embedder(HashBow(), "hash-bow-64", "test")
    wide = lk.DenseIndex.build(chunks, emb, kind=lk.IndexConfig("hnsw", ef_search=128))
    narrow = lk.DenseIndex.build(chunks, emb, kind="hnsw")
    assert wide.path != narrow.path and wide.fingerprint() != narrow.fingerprint()
    loaded = lk.DenseIndex.build(chunks, emb, kind=lk.IndexConfig("hnsw", ef_search=128))
    assert loaded.t_build == 0 and loaded.config == wide.config and loaded.kind == "hnsw"
    assert lk.DenseIndex.build(chunks, emb).fingerprint()["index"] == "flat"  # exact search's key as before
