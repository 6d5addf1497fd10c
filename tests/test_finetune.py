"""The training loop: loss goes down, seeds, cache, resume, config validation, memory (tiny model)."""

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from factories import FAST, REFUND_QA, train_tiny

import labkit as lk

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("method", ["lora", "full"])
def test_loss_decreases_on_a_tiny_overfit(method, run_dir):
    lm = lk.tiny_generator(seed=0)
    with torch.no_grad():  # random init (std 0.02) caps logits at ~1 after the final norm: widen the range
        lm.model.model.embed_tokens.weight.mul_(50)
    ex = lk.make_examples(REFUND_QA[:2], phrasings=("question",))  # 2 examples, one row per step
    cfg = lk.FinetuneConfig(method=method, epochs=8, lr=1e-2, checkpoint_every=100, tokens_per_step=128, warmup_steps=0)
    res = lk.finetune(lm, ex, cfg, progress=False, out_dir=run_dir)
    assert res.completed and res.steps == len(res.losses) == 8
    first, last = sum(res.losses[:2]) / 2, sum(res.losses[-2:]) / 2
    assert last < 0.5 * first
    assert 0 < res.trainable_params < res.total_params
    assert res.tokens_per_s > 0
    low, high = analytic_train_flops(res, cfg, method)
    assert low <= res.gflops * 1e9 <= high
    assert 0 < res.frac_peak <= res.hw_frac_peak < 1  # useful work <= what the CPU did < its GEMM peak
    assert res.peak_rss_mb > 0


def analytic_train_flops(res, cfg, method: str) -> tuple[float, float]:
    """Bounds on a run's matmul FLOPs from its token counts and the model's shapes (not from train_flops).

    Forward: 2 FLOPs per weight per token (block Linears and adapters; the tied lm_head only at the
    targets). Backward: the activation gradients cost the forward again, the trained weights' gradients 2
    FLOPs per weight per token. Attention: 4 * d_attn per query-key pair and layer forward, twice that
    backward; each token attends to between 1 and tokens_per_step keys (its own example's prefix).
    """
    model, c = res.lm.model, res.lm.model.config
    p_lin = sum(p.numel() for n, p in model.named_parameters() if ".layers." in n and "lora_" not in n and p.ndim == 2)
    p_lora = sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)
    trained = p_lin if method == "full" else p_lora
    head = 2 * c.vocab_size * c.hidden_size * res.target_tokens
    base = (4 * (p_lin + p_lora) + 2 * trained) * res.tokens + 2 * head
    d_attn = c.num_attention_heads * getattr(c, "head_dim", c.hidden_size // c.num_attention_heads)
    per_key = 3 * 4 * d_attn * c.num_hidden_layers * res.tokens
    return base + per_key, base + per_key * cfg.tokens_per_step


def test_lora_trains_only_adapters_and_full_freezes_the_embedding(run_dir):
    lora = train_tiny(run_dir, {"epochs": 1})
    names = [n for n, p in lora.lm.model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n for n in names)
    full = train_tiny(run_dir, {"method": "full", "epochs": 1, "lr": 1e-3})
    frozen = [n for n, p in full.lm.model.named_parameters() if not p.requires_grad]
    assert frozen == ["model.embed_tokens.weight"]


def test_same_seed_same_run_different_seed_different_run(run_dir):
    a, b = train_tiny(run_dir, out_dir=run_dir / "a"), train_tiny(run_dir, out_dir=run_dir / "b")
    assert a.losses == b.losses
    c = train_tiny(run_dir, {"seed": 1})
    assert c.losses != a.losses


def test_finished_run_is_reused_from_the_cache(run_dir):
    first = train_tiny(run_dir, out_dir=run_dir / "same")
    again = train_tiny(run_dir, out_dir=run_dir / "same")
    assert again.reused and not first.reused and again.losses == first.losses
    ids = torch.tensor([[1, 504, 2734]])
    with torch.no_grad():
        torch.testing.assert_close(first.lm.model(input_ids=ids).logits, again.lm.model(input_ids=ids).logits)


def test_runs_are_keyed_by_config_data_and_code_not_by_where_the_cache_lies(cache, tmp_path, monkeypatch):
    first = train_tiny(tmp_path, out_dir=None)  # out_dir None: the labkit cache, keyed
    moved = shutil.copytree(cache, tmp_path / "moved", symlinks=True)  # the cache copied elsewhere
    shutil.rmtree(cache)
    monkeypatch.setenv("LABKIT_CACHE", str(moved))
    again = train_tiny(tmp_path, out_dir=None)
    assert again.reused and again.losses == first.losses  # nothing retrained
    assert Path(again.ckpt_dir).is_relative_to(moved)
    monkeypatch.setattr(sys.modules["labkit.finetune"], "module_digest", lambda *modules: "edited")
    assert not train_tiny(tmp_path, out_dir=None).reused  # an edit to the training code trains afresh


@pytest.mark.parametrize("method", ["lora", "full"])
def test_interrupted_run_resumes_from_its_checkpoint(method, run_dir):
    kw = {"method": method, "epochs": 3, "lr": 1e-2 if method == "lora" else 1e-3}
    whole = train_tiny(run_dir, kw)
    # a fresh cache: the same run stopped at step 3, then re-run
    part = train_tiny(run_dir, kw, stop_after=3, out_dir=run_dir / "interrupted")
    assert not part.completed and part.steps == 3
    rest = train_tiny(run_dir, kw, out_dir=run_dir / "interrupted")
    assert rest.resumed_from == 3 and rest.completed and rest.steps == whole.steps
    assert rest.losses == pytest.approx(whole.losses, rel=1e-5, abs=1e-6)
    ids = torch.tensor([[1, 504, 2734, 314]])
    with torch.no_grad():
        torch.testing.assert_close(rest.lm.model(input_ids=ids).logits, whole.lm.model(input_ids=ids).logits)


def test_the_training_loop_reads_as_a_lesson():
    """train_loop stays one short function read top to bottom; cache, resume and accounting live outside it."""
    import inspect
    import re

    source = inspect.getsource(lk.train_loop)
    assert len(source.splitlines()) <= 80, "the loop is the lesson: keep it on about one screen"
    body = source.split('"""')[2]  # after the docstring
    order = ["lr_at(", "model(", "cross_entropy(", ".backward()", "opt.step()", "save_checkpoint("]
    where = [body.index(mark) for mark in order]  # schedule, forward, loss, backward, step, checkpoint
    assert where == sorted(where)
    assert not re.findall(r"\b_\w+\(", body), "no private helpers: every step of the loop is on the page"
    for machinery in ("result.json", "artifact_dir", "load_checkpoint", "train_flops", "matmul_peak"):
        assert machinery not in body


@pytest.mark.parametrize("method", ["lora", "full"])
def test_a_crash_mid_run_resumes_to_the_same_weights(method, run_dir, monkeypatch):
    """A real interruption (an exception after step 5, last checkpoint at step 4): the re-run continues from
    the checkpoint (weights, optimizer, RNG: dropout draws too) to exactly the uninterrupted run's weights."""
    kw = {"method": method, "epochs": 3, **({"dropout": 0.1} if method == "lora" else {"lr": 1e-3})}
    whole = train_tiny(run_dir, kw, out_dir=run_dir / "whole")
    assert whole.steps > 5
    real_record = lk.trainlog.TrainLog.record

    def crash_after_step_5(log, step, *args):
        real_record(log, step, *args)
        if step == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(lk.trainlog.TrainLog, "record", crash_after_step_5)
    with pytest.raises(KeyboardInterrupt):
        train_tiny(run_dir, kw, out_dir=run_dir / "crashed")
    monkeypatch.undo()
    rest = train_tiny(run_dir, kw, out_dir=run_dir / "crashed")
    assert rest.resumed_from == 4 and rest.completed and rest.losses == whole.losses
    ours, theirs = rest.lm.model.state_dict(), whole.lm.model.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)


@pytest.mark.parametrize(
    "field, value",
    [
        ("method", "qlora"),
        ("r", 0),
        ("lr", 0.0),
        ("epochs", 0),
        ("dropout", 1.0),
        ("tokens_per_step", 4),
        ("recompute_every", 0),
    ],
)
def test_config_validation(field, value):
    with pytest.raises(ValueError, match=field):
        lk.FinetuneConfig(**{field: value})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_runs_on_cuda_when_present():
    lm = lk.tiny_generator()
    lm.model.to("cuda")
    res = lk.finetune(lm, lk.make_examples(REFUND_QA[:6]), lk.FinetuneConfig(**FAST), progress=False)
    assert res.lm.device.type == "cuda" and res.peak_cuda_mb > 0


def test_full_run_saves_in_shards_and_reloads_identically(monkeypatch, run_dir):
    monkeypatch.setattr(sys.modules["labkit.checkpoint"], "SHARD_BYTES", 2**14)  # 16 KB shards
    res = train_tiny(run_dir, {"method": "full"})
    final = run_dir / str({"method": "full"}) / "final"
    shards = sorted(final.glob("trainable-*.safetensors"))
    assert len(shards) > 2
    ids = torch.tensor([[1, 504, 2734, 314, 253, 1345]])
    with torch.no_grad():
        reloaded = lk.load_adapter(lk.tiny_generator(seed=0), final).model(input_ids=ids).logits
        torch.testing.assert_close(res.lm.model(input_ids=ids).logits, reloaded)


@pytest.mark.parametrize("method", ["lora", "full"])
def test_run_record_never_copies_the_model(method, monkeypatch, run_dir):
    """summary() and result.json read the numbers only: a deep copy of ``lm`` doubled the model in memory."""

    def no_copy(self, memo):
        raise AssertionError("a model weight was deep-copied")

    monkeypatch.setattr(torch.nn.Parameter, "__deepcopy__", no_copy)
    res = train_tiny(run_dir, {"method": method, "epochs": 1})  # writes result.json
    saved = json.loads((run_dir / str({"method": method, "epochs": 1}) / "final" / "result.json").read_text())
    assert saved == json.loads(json.dumps(res.numbers())) and "lm" not in saved
    assert res.summary()["final_loss"] == res.losses[-1] and res.summary()["steps"] == res.steps


@pytest.mark.parametrize("every", [1, 2, 4])
def test_recompute_every_nth_layer_is_exact_and_counted(every, run_dir):
    """Recomputing only every n-th layer changes memory and time, not the numbers; its FLOPs are counted."""
    from labkit.finetune import prepare_model

    kw = {"grad_checkpointing": True, "epochs": 1}
    ref = train_tiny(run_dir, kw, out_dir=run_dir / "all")  # every layer recomputed
    res = train_tiny(run_dir, {**kw, "recompute_every": every}, out_dir=run_dir / "some")
    assert res.losses == pytest.approx(ref.losses, rel=1e-5)
    tok = [lk.tokenize_example(ref.lm.tokenizer, e, 128) for e in lk.make_examples(REFUND_QA[:3])]
    row = lk.pack(tok, 128)[0]

    def hw(cfg_kw):
        lm = lk.tiny_generator(seed=0, n_layers=4)
        model = prepare_model(lm, lk.FinetuneConfig(**{**FAST, **cfg_kw}))
        flags = [layer.gradient_checkpointing for layer in model.get_base_model().model.layers]
        return lk.train_flops(model, row, "lora", hardware=True), flags

    none, _ = hw({"grad_checkpointing": False})
    every_layer, _ = hw({"grad_checkpointing": True})
    some, flags = hw({"grad_checkpointing": True, "recompute_every": every})
    assert flags == [i % every == 0 for i in range(4)]
    assert some - none == pytest.approx((every_layer - none) * sum(flags) / 4)


def test_the_training_code_key_leaves_out_generation_scoring_and_the_harness():
    """A run's cache key (and every shipped reference adapter) names the training code: the loop and what it
    imports. Generation, scoring and the evaluation harness change what is measured, not what is trained."""
    closure = lk.module_closure("labkit.finetune")
    assert {"finetune", "packing", "lora", "optim", "checkpoint", "models", "data"} <= set(closure)
    assert not {"generate", "evaluate", "protocol", "extractive", "stats", "rag", "hybrid"} & set(closure), closure
