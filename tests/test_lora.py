"""LoRA adapters: save/reload, shared bases and views, attach, autocast, bad targets (tiny model)."""

import pytest
import torch
from factories import FAST, REFUND_QA, train_tiny

import labkit as lk

pytestmark = pytest.mark.usefixtures("one_thread")


def test_adapter_saves_as_safetensors_and_reloads_to_identical_outputs(run_dir):
    res = train_tiny(run_dir)
    folder = f"{res.ckpt_dir}/final/adapter"
    import os

    files = os.listdir(folder)
    assert "adapter_model.safetensors" in files and not any(f.endswith((".bin", ".pt")) for f in files)
    ids = torch.tensor([[1, 504, 2734, 314, 253, 1345]])
    with torch.no_grad():
        trained = res.lm.model(input_ids=ids).logits
        reloaded = lk.load_adapter(lk.tiny_generator(seed=0), folder).model(input_ids=ids).logits
        base = lk.tiny_generator(seed=0).model(input_ids=ids).logits
    torch.testing.assert_close(trained, reloaded)
    assert not torch.allclose(trained, base)  # the adapter changed something


def test_bad_lora_target_module_is_a_clear_error(run_dir):
    with pytest.raises(ValueError, match=r"target_modules \['qkv_proj'\].*q_proj"):
        train_tiny(run_dir, {"target_modules": ("q_proj", "qkv_proj")})


def _answer_logits(lm: lk.models.LM, ids) -> torch.Tensor:
    """Logits as lk.chat_generate sees them: inside the view's adapter scope."""
    from labkit.lora import adapter_scope

    with torch.no_grad(), adapter_scope(lm):
        return lm.model(input_ids=ids).logits


def test_attached_adapters_share_one_base_and_each_view_answers_as_its_own_model(run_dir):
    ids = torch.tensor([[1, 504, 2734, 314, 253, 1345]])
    run_a = train_tiny(run_dir, seed=0, out_dir=run_dir / "a")
    run_b = train_tiny(run_dir, {"lr": 3e-2}, seed=0, out_dir=run_dir / "b")
    alone_a, alone_b = _answer_logits(run_a.lm, ids), _answer_logits(run_b.lm, ids)
    assert not torch.allclose(alone_a, alone_b)  # two different fine-tunes
    base = lk.tiny_generator(seed=0)
    plain = _answer_logits(base, ids)
    assert not torch.allclose(alone_a, plain)
    a, b = lk.attach(base, run_a, "a"), lk.attach(base, run_b, "b")
    assert run_a.lm is None and run_b.lm is None  # the trained copies were dropped
    assert a.model is b.model and (a.adapter, b.adapter, base.adapter) == ("a", "b", None)
    for _ in range(2):  # switching back and forth is exact
        torch.testing.assert_close(_answer_logits(a, ids), alone_a)
        torch.testing.assert_close(_answer_logits(b, ids), alone_b)
        torch.testing.assert_close(_answer_logits(base, ids), plain)  # the base view: adapters off
    n_base = sum(p.numel() for n, p in a.model.named_parameters() if "lora_" not in n)
    assert n_base == base.n_params() - sum(p.numel() for n, p in a.model.named_parameters() if "lora_" in n)


def test_finetune_on_a_shared_base_trains_one_more_adapter_exactly_as_alone(run_dir):
    """Training on a base that carries adapters: no copy of the base, the same adapter as on a fresh base."""
    from pathlib import Path

    ids = torch.tensor([[1, 504, 2734, 314, 253, 1345]])
    ex, cfg = lk.make_examples(REFUND_QA[:6], kind="knowledge"), lk.FinetuneConfig(**{**FAST, "lr": 3e-2})
    alone = lk.finetune(lk.tiny_generator(seed=0), ex, cfg, progress=False, out_dir=run_dir / "alone")
    run_a = train_tiny(run_dir, seed=0, out_dir=run_dir / "a")
    logits_alone, logits_a = _answer_logits(alone.lm, ids), _answer_logits(run_a.lm, ids)
    base = lk.tiny_generator(seed=0)
    plain = _answer_logits(base, ids)
    a = lk.attach(base, run_a, "a")
    weight = base.model.model.layers[0].self_attn.q_proj.base_layer.weight
    run_c = lk.finetune(base, ex, cfg, progress=False, out_dir=run_dir / "shared", adapter="c")
    c = run_c.lm
    assert not run_c.reused and c.model is a.model and c.adapter == "c"
    assert c.model.get_base_model().model.layers[0].self_attn.q_proj.base_layer.weight is weight  # no copy
    torch.testing.assert_close(_answer_logits(c, ids), logits_alone)  # same init, same steps, same model
    torch.testing.assert_close(_answer_logits(a, ids), logits_a)  # the other adapter did not train
    torch.testing.assert_close(_answer_logits(base, ids), plain)  # the base view: adapters off
    assert (run_c.trainable_params, run_c.total_params) == (alone.trainable_params, alone.total_params)
    assert run_c.losses == pytest.approx(alone.losses)
    assert (Path(run_c.ckpt_dir) / "final" / "adapter" / "adapter_config.json").exists()  # whatever its name
    assert lk.attach(base, run_c, "c") is c
    with pytest.raises(ValueError, match="use run.lm"):
        lk.attach(base, run_c, "other")
    again = lk.finetune(base, ex, cfg, progress=False, out_dir=run_dir / "shared", adapter="c")  # a re-run
    assert again.reused and sorted(again.lm.model.peft_config) == ["a", "c"]  # replaced, not added
    torch.testing.assert_close(_answer_logits(again.lm, ids), logits_alone)
    with pytest.raises(ValueError, match="fresh base"):
        lk.finetune(base, ex, lk.FinetuneConfig(**{**FAST, "method": "full"}), progress=False, out_dir=run_dir / "f")
    with pytest.raises(ValueError, match="base view"):
        lk.finetune(c, ex, cfg, progress=False, out_dir=run_dir / "v")


@pytest.mark.parametrize("case", ["full", "same-name", "adapter-view"])
def test_attach_refuses_what_it_cannot_share(case, run_dir):
    run = train_tiny(run_dir, {"method": "full"} if case == "full" else None, out_dir=run_dir / case)
    base = lk.tiny_generator(seed=0)
    if case == "same-name":
        lk.attach(base, train_tiny(run_dir, out_dir=run_dir / "other"), "x")
        with pytest.raises(ValueError, match="already has an adapter named 'x'"):
            lk.attach(base, run, "x")
    elif case == "adapter-view":
        view = lk.attach(base, train_tiny(run_dir, out_dir=run_dir / "other"), "x")
        with pytest.raises(ValueError, match="base view"):
            lk.attach(view, run, "y")
    else:
        with pytest.raises(ValueError, match="needs a LoRA run"):
            lk.attach(base, run, "x")


def test_lora_autocast_runs_fp32_adapters_in_bf16_and_restores_peft(run_dir, monkeypatch):
    """Mixed precision for LoRA on a bf16 base: bf16 matmuls, fp32 weights and gradients, flags restored."""
    from labkit.lora import lora_autocast, lora_layers

    # The run's report probes the bf16 GEMM peak: minutes where bf16 is emulated, and not what is tested here
    monkeypatch.setattr("labkit.trainlog.matmul_peak", lambda dtype, device="cpu": 1e12)

    lm = lk.tiny_generator(seed=0)
    lm.model.to(torch.bfloat16)
    # 2 examples, one wording: bf16 matmuls are emulated (slowly) on CPUs without bf16 units
    ex = lk.make_examples(REFUND_QA[:2], phrasings=("question",))
    res = lk.finetune(lm, ex, lk.FinetuneConfig(**{**FAST, "epochs": 3}), progress=False, out_dir=run_dir)
    model, layers = res.lm.model, lora_layers(res.lm.model)
    lora = [p for n, p in model.named_parameters() if "lora_" in n]
    assert layers and lora and all(p.dtype == torch.float32 for p in lora)  # master weights stay fp32
    assert res.losses[-1] < res.losses[0]
    ids = torch.tensor([[1, 504, 2734, 314, 253, 1345]])
    with torch.no_grad():
        plain = model(input_ids=ids).logits  # peft's own path: adapter inputs cast to fp32
        with lora_autocast(layers, torch.bfloat16, "cpu"):
            assert not any(m.cast_input_dtype_enabled for m in layers)
            mixed = model(input_ids=ids).logits
    assert all(m.cast_input_dtype_enabled for m in layers)  # restored on exit
    torch.testing.assert_close(mixed.float(), plain.float(), atol=0.05, rtol=0.05)  # bf16 rounding only
    with lora_autocast(layers, torch.float32, "cpu"):  # fp32 models: nothing changes
        assert all(m.cast_input_dtype_enabled for m in layers) and not torch.is_autocast_enabled("cpu")
