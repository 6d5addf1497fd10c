"""Reference adapters: a shipped run is installed only when its key matches, loads as trained, and
LABKIT_TRAIN=1 trains it here instead (tiny model); every shipped bundle matches the current training code."""

import json
from pathlib import Path

import pytest
import torch
from factories import FAST, REFUND_QA
from safetensors.torch import load_file

import labkit as lk
from labkit import reference

pytestmark = pytest.mark.usefixtures("one_thread")


def lora_weights(run) -> dict:
    return {n: p.detach().clone() for n, p in run.lm.model.named_parameters() if "lora_" in n}


@pytest.fixture()
def shipped(tmp_path, monkeypatch, cache):
    """A tiny run trained here, shipped to a temporary reference folder; then an empty cache, as on a new machine."""
    monkeypatch.setattr(reference, "REFERENCE_DIR", tmp_path / "adapters")
    monkeypatch.delenv(lk.reference.TRAIN_ENV, raising=False)
    cfg = lk.FinetuneConfig(**FAST)
    ex = lk.make_examples(REFUND_QA[:6], kind="knowledge")
    trained = lk.train_or_reuse(lk.tiny_generator(seed=0), ex, cfg, adapter="ft")
    assert lk.trained_where(trained) == "trained here, now"
    machine = {"cpu": "test CPU", "cores": 1, "dtype": "float32", "torch": "x", "code": "c", "adapter": "ft"}
    bundle = lk.reference.ship_run(trained.ckpt_dir, machine, out=reference.REFERENCE_DIR)
    fresh = tmp_path / "fresh-cache"
    fresh.mkdir()
    monkeypatch.setenv("LABKIT_CACHE", str(fresh))
    return cfg, ex, trained, bundle


def test_a_matching_reference_is_installed_and_loads_as_trained(shipped):
    cfg, ex, trained, bundle = shipped
    assert sorted(f.name for f in bundle.glob("epoch-*")) == ["epoch-1.safetensors", "epoch-2.safetensors"]
    assert all(t.dtype == torch.float16 for t in load_file(bundle / "epoch-2.safetensors").values())
    run = lk.train_or_reuse(lk.tiny_generator(seed=0), ex, cfg, adapter="ft")
    assert run.reused and "reference adapter (trained on test CPU" in lk.trained_where(run)
    assert run.losses == trained.losses and run.steps == trained.steps  # the shipped training record
    want, got = lora_weights(trained), lora_weights(run)
    assert want.keys() == got.keys()
    for n in want:  # float16 storage: equal to rounding, not bit for bit
        torch.testing.assert_close(got[n], want[n], rtol=1e-3, atol=1e-6)
    assert (Path(run.ckpt_dir) / "epoch-1" / "adapter_model.safetensors").exists()  # lk.pick_epoch reads these


def test_LABKIT_TRAIN_trains_here_and_a_changed_run_ignores_the_reference(shipped, monkeypatch):
    cfg, ex, trained, _ = shipped
    monkeypatch.setenv(lk.reference.TRAIN_ENV, "1")
    lk.train_or_reuse(lk.tiny_generator(seed=0), ex, cfg, adapter="ft")  # a reference would be installed...
    monkeypatch.delenv(lk.reference.TRAIN_ENV)
    again = lk.train_or_reuse(lk.tiny_generator(seed=0), ex, cfg, adapter="ft")  # ... so this is a cache hit
    assert lk.trained_where(again) == "from this machine's cache (trained here earlier)"
    for n, w in lora_weights(trained).items():  # trained here again: bit for bit the shipped run's source
        assert torch.equal(lora_weights(again)[n], w)
    other = lk.train_or_reuse(lk.tiny_generator(seed=0), ex[:4], cfg, adapter="ft")  # other data: other key
    assert lk.trained_where(other) == "trained here, now"


def test_LABKIT_TRAIN_replaces_an_installed_reference(shipped, monkeypatch):
    cfg, ex, trained, _ = shipped
    assert "reference" in lk.trained_where(lk.train_or_reuse(lk.tiny_generator(seed=0), ex, cfg, adapter="ft"))
    monkeypatch.setenv(lk.reference.TRAIN_ENV, "yes")
    assert lk.trained_where(lk.train_or_reuse(lk.tiny_generator(seed=0), ex, cfg, adapter="ft")) == "trained here, now"


def test_ship_run_refuses_what_a_reference_cannot_be(shipped, tmp_path):
    _, _, trained, bundle = shipped
    with pytest.raises(ValueError, match="float32"):
        lk.reference.ship_run(trained.ckpt_dir, {"dtype": "bfloat16"}, out=tmp_path / "x")
    assert "base_model_name_or_path" in json.loads((bundle / "adapter_config.json").read_text())
    assert "ckpt_dir" not in json.loads((bundle / "result.json").read_text())  # no machine path shipped


@pytest.mark.parametrize("bundle", sorted(lk.reference.REFERENCE_DIR.glob("*")), ids=lambda p: p.name)
def test_every_shipped_run_was_trained_by_the_current_training_code(bundle):
    ref = json.loads((bundle / "reference.json").read_text())
    assert ref["code"] == lk.module_digest("labkit.finetune"), (
        f"{bundle} was trained by other training code: re-ship (benchmarks/ship_adapters.py) or delete it"
    )
    assert ref["dtype"] == "float32" and ref["adapter"] and ref["cpu"]
    config = json.loads((bundle / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] is None  # no machine path
    epochs = sorted(bundle.glob("epoch-*.safetensors"))
    assert epochs and len(epochs) == len(json.loads((bundle / "result.json").read_text())["epoch_ends"])


@pytest.mark.slow
def test_the_workbook_fine_tunes_find_their_reference(lm):
    """The fact-card, document and behaviour fine-tunes of notebook 02 are shipped for these very inputs."""
    split, qa, docs = lk.workbook_split(), lk.load_qa(), lk.load_kb("v1")
    runs = {
        "ft": (lk.knowledge_examples(qa), lk.KNOWLEDGE_FT),
        "ft (documents)": (lk.document_examples(docs, exclude=[*split.dev, *split.test]), lk.KNOWLEDGE_FT),
        "ft-behaviour": (lk.make_examples(list(split.train), kind="behaviour"), lk.workbook.BEHAVIOUR_FT),
    }
    from labkit.finetune import _run_key, _tokenize

    for name, (ex, cfg) in runs.items():
        digest = lk.reference.reference_digest(_run_key(lm, cfg, _tokenize(lm, ex, cfg), None))
        ref = lk.reference.REFERENCE_DIR / digest / "reference.json"
        assert ref.exists(), f"{name}: no shipped run {digest}; ship it (benchmarks/ship_adapters.py)"
        assert json.loads(ref.read_text())["adapter"] == name
