"""Fine-tuning: label masking, packing, training, checkpoints/resume, adapters, bad input (tiny model)."""
import json

import pytest
import torch
from factories import qa_row

import labkit as lk
from labkit.data import parse_qa_line

# Fast settings for the tiny random model: a few 128-token steps.
FAST = dict(tokens_per_step=128, epochs=2, lr=1e-2, checkpoint_every=2, warmup_steps=0)


def _qa(i, answerable=True):
    row = qa_row(f"q{i}", f"How long is refund window {i}?", f"{20 + i} days" if answerable else None,
                 ["refund-policy"], train=[f"Refund window {i}?"], heldout=[f"What is the length of window {i}?"],
                 styled=f"Refunds take {20 + i} days [refund-policy]." if answerable else None)
    return parse_qa_line(json.dumps(row), "fixture")


QA = [_qa(i) for i in range(6)] + [_qa(9, answerable=False)]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny matmuls: one thread is as fast, and far faster when other jobs share the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _run_dir(tmp_path, monkeypatch):
    global RUN_DIR
    RUN_DIR = tmp_path / "run"  # every test trains from scratch in its own folder


def _run(cfg_kw=None, examples=None, seed=0, **kw):
    lm = lk.tiny_generator(seed=seed)
    cfg = lk.FinetuneConfig(**{**FAST, **(cfg_kw or {})})
    ex = examples if examples is not None else lk.make_examples(QA[:6], kind="knowledge")
    return lk.finetune(lm, ex, cfg, progress=False, out_dir=kw.pop("out_dir", RUN_DIR / str(cfg_kw)), **kw)


def test_labels_mask_the_prompt_and_keep_the_answer(tiny_lm):
    ex = lk.make_examples(QA[:1], kind="knowledge", phrasings=("question",))[0]
    ids, labels = lk.tokenize_example(tiny_lm.tokenizer, ex, 512)
    assert len(ids) == len(labels)
    targets = [l for l in labels if l != -100]
    tok = tiny_lm.tokenizer
    assert tok.decode(targets) == "20 days<|im_end|>"
    # labels are next-token targets: wherever set, they equal the following input id
    assert all(l == ids[t + 1] for t, l in enumerate(labels) if l != -100)
    prompt = tok.apply_chat_template(ex.messages[:-1], add_generation_prompt=True, tokenize=False)
    n_prompt = len(tok(prompt, add_special_tokens=False)["input_ids"])
    assert all(l == -100 for l in labels[:n_prompt - 1]) and labels[-1] == -100
    # and the ids are exactly what the chat template renders for the whole conversation
    full = tok(tok.apply_chat_template(ex.messages, tokenize=False), add_special_tokens=False)["input_ids"]
    assert full[:len(ids)] == ids


@pytest.mark.parametrize("row_len", [40, 64, 128])
def test_pack_keeps_every_token_and_restarts_positions(tiny_lm, row_len):
    tok = [lk.tokenize_example(tiny_lm.tokenizer, e, row_len) for e in lk.make_examples(QA[:6])]
    rows = lk.pack(tok, row_len)
    assert all(r.input_ids.numel() <= row_len for r in rows)
    assert sum(r.n_examples for r in rows) == len(tok)
    assert torch.cat([r.input_ids for r in rows]).tolist() == [t for ids, _ in tok for t in ids]
    assert torch.cat([r.labels for r in rows]).tolist() == [t for _, lab in tok for t in lab]
    starts = sum(int((r.position_ids == 0).sum()) for r in rows)
    assert starts == len(tok)


@pytest.mark.parametrize("shared_start", [False, True])
def test_packed_row_gives_every_example_the_logits_it_has_alone(tiny_lm, shared_start):
    """The row's mask and positions: packing, with or without the shared prompt start once, changes no logit."""
    tok = [lk.tokenize_example(tiny_lm.tokenizer, e, 256) for e in lk.make_examples(QA[:3], phrasings=("question",))]
    prefix = lk.shared_prompt_len(tok) if shared_start else 0
    assert (prefix > 10) == shared_start  # the system prompt and chat markup
    row = lk.pad_row(lk.pack(tok, 256, prefix)[0], 192)  # with a filler block, as in training
    assert row.n_examples == 3 and row.input_ids.numel() == 192
    assert row.input_ids.numel() - row.n_pad == sum(len(ids) for ids, _ in tok) - 2 * prefix
    with torch.no_grad():
        packed = tiny_lm.model(input_ids=row.input_ids[None], position_ids=row.position_ids[None],
                               attention_mask=lk.row_mask(row), use_cache=False).logits[0]
        for k, (ids, labels) in enumerate(tok):
            alone = tiny_lm.model(input_ids=torch.tensor([ids])).logits[0]
            mine = (row.segments == k).nonzero().squeeze(1)  # this example's own tokens in the row
            torch.testing.assert_close(packed[mine], alone[prefix:], atol=1e-4, rtol=1e-4)
            assert row.labels[mine].tolist() == labels[prefix:]  # same targets at the same tokens
        if prefix:
            alone = tiny_lm.model(input_ids=torch.tensor([tok[0][0]])).logits[0]
            torch.testing.assert_close(packed[:prefix], alone[:prefix], atol=1e-4, rtol=1e-4)


def test_shared_start_packing_refuses_examples_that_do_not_share_it():
    tok = [([9, 9, 1], [-100, -100, 5]), ([8, 9, 2], [-100, -100, 6])]
    assert lk.shared_prompt_len(tok) == 0
    with pytest.raises(ValueError, match="shared_prompt_len"):
        lk.pack(tok, 8, prefix=2)
    assert lk.shared_prompt_len([([9, 9, 1], [-100, 4, 5]), ([9, 9, 2], [-100, -100, 6])]) == 1  # never a target


@pytest.mark.parametrize("method", ["lora", "full"])
def test_loss_decreases_on_a_tiny_overfit(method):
    lm = lk.tiny_generator(seed=0)
    with torch.no_grad():  # random init (std 0.02) caps logits at ~1 after the final norm: widen the range
        lm.model.model.embed_tokens.weight.mul_(50)
    ex = lk.make_examples(QA[:2], phrasings=("question",))  # 2 examples, one row per step
    cfg = lk.FinetuneConfig(method=method, epochs=8, lr=1e-2, checkpoint_every=100, tokens_per_step=128,
                            warmup_steps=0)
    res = lk.finetune(lm, ex, cfg, progress=False, out_dir=RUN_DIR)
    assert res.completed and res.steps == len(res.losses) == 8
    first, last = sum(res.losses[:2]) / 2, sum(res.losses[-2:]) / 2
    assert last < 0.5 * first
    assert 0 < res.trainable_params < res.total_params
    assert res.tokens_per_s > 0 and res.gflops > 0 and 0 < res.frac_peak
    assert res.peak_rss_mb > 0


def test_lora_trains_only_adapters_and_full_freezes_the_embedding():
    lora = _run({"epochs": 1})
    names = [n for n, p in lora.lm.model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n for n in names)
    full = _run({"method": "full", "epochs": 1, "lr": 1e-3})
    frozen = [n for n, p in full.lm.model.named_parameters() if not p.requires_grad]
    assert frozen == ["model.embed_tokens.weight"]


def test_same_seed_same_run_different_seed_different_run():
    a, b = _run(out_dir=RUN_DIR / "a"), _run(out_dir=RUN_DIR / "b")
    assert a.losses == b.losses
    c = _run({"seed": 1})
    assert c.losses != a.losses


def test_adapter_saves_as_safetensors_and_reloads_to_identical_outputs():
    res = _run()
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


def test_finished_run_is_reused_from_the_cache():
    first = _run(out_dir=RUN_DIR / "same")
    again = _run(out_dir=RUN_DIR / "same")
    assert again.reused and not first.reused and again.losses == first.losses
    ids = torch.tensor([[1, 504, 2734]])
    with torch.no_grad():
        torch.testing.assert_close(first.lm.model(input_ids=ids).logits, again.lm.model(input_ids=ids).logits)


@pytest.mark.parametrize("method", ["lora", "full"])
def test_interrupted_run_resumes_from_its_checkpoint(method):
    kw = {"method": method, "epochs": 3, "lr": 1e-2 if method == "lora" else 1e-3}
    whole = _run(kw)
    # a fresh cache: the same run stopped at step 3, then re-run
    part = _run(kw, stop_after=3, out_dir=RUN_DIR / "interrupted")
    assert not part.completed and part.steps == 3
    rest = _run(kw, out_dir=RUN_DIR / "interrupted")
    assert rest.resumed_from == 3 and rest.completed and rest.steps == whole.steps
    assert rest.losses == pytest.approx(whole.losses, rel=1e-5, abs=1e-6)
    ids = torch.tensor([[1, 504, 2734, 314]])
    with torch.no_grad():
        torch.testing.assert_close(rest.lm.model(input_ids=ids).logits, whole.lm.model(input_ids=ids).logits)


def test_empty_training_set_is_a_clear_error():
    with pytest.raises(ValueError, match="training set is empty"):
        _run(examples=[])


def test_record_without_answer_is_a_clear_error():
    with pytest.raises(ValueError, match="q9.*no answer"):
        lk.make_examples(QA, kind="knowledge")
    bad = {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": ""}]}
    with pytest.raises(ValueError, match="example 0 .*has no answer"):
        _run(examples=[bad])


def test_behaviour_examples_use_house_style_and_abstention():
    ex = lk.make_examples(QA, kind="behaviour", phrasings=("question",))
    answers = {e.qid: e.messages[-1]["content"] for e in ex}
    assert answers["q9"] == lk.ABSTENTION
    assert all(lk.check_house_style(a).ok for a in answers.values())


def test_bad_lora_target_module_is_a_clear_error():
    with pytest.raises(ValueError, match=r"target_modules \['qkv_proj'\].*q_proj"):
        _run({"target_modules": ("q_proj", "qkv_proj")})


def test_sequence_longer_than_context_is_a_clear_error():
    long = {"messages": [{"role": "user", "content": "word " * 300}, {"role": "assistant", "content": "ok"}]}
    with pytest.raises(lk.ContextTooLongError, match="longer than the 128-token row"):
        _run(examples=[long])
    with pytest.raises(lk.ContextTooLongError, match="context of 512"):
        _run({"tokens_per_step": 1024})


@pytest.mark.parametrize("field, value", [("method", "qlora"), ("r", 0), ("lr", 0.0), ("epochs", 0),
                                          ("dropout", 1.0), ("tokens_per_step", 4), ("recompute_every", 0)])
def test_config_validation(field, value):
    with pytest.raises(ValueError, match=field):
        lk.FinetuneConfig(**{field: value})


def test_train_flops_full_adds_exactly_the_weight_gradients(tiny_lm):
    tok = [lk.tokenize_example(tiny_lm.tokenizer, e, 128) for e in lk.make_examples(QA[:3])]
    row = lk.pack(tok, 128)[0]
    full = lk.train_flops(tiny_lm.model, row, "full")
    frozen = lk.train_flops(tiny_lm.model, row, "lora")  # no adapters attached: frozen weights only
    p_lin = sum(m.weight.numel() for m in tiny_lm.model.model.layers.modules() if isinstance(m, torch.nn.Linear))
    assert full - frozen == 2 * p_lin * row.input_ids.numel()
    n_tgt = int((row.labels != -100).sum())
    assert frozen > 4 * p_lin * row.input_ids.numel() + 4 * tiny_lm.model.lm_head.weight.numel() * n_tgt


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_runs_on_cuda_when_present():
    lm = lk.tiny_generator()
    lm.model.to("cuda")
    res = lk.finetune(lm, lk.make_examples(QA[:6]), lk.FinetuneConfig(**FAST), progress=False)
    assert res.lm.device.type == "cuda" and res.peak_cuda_mb > 0


def _answer_logits(lm: lk.LM, ids) -> torch.Tensor:
    """Logits as lk.chat_generate sees them: inside the view's adapter scope."""
    from labkit.generate import adapter_scope

    with torch.no_grad(), adapter_scope(lm):
        return lm.model(input_ids=ids).logits


def test_attached_adapters_share_one_base_and_each_view_answers_as_its_own_model():
    ids = torch.tensor([[1, 504, 2734, 314, 253, 1345]])
    run_a = _run(seed=0, out_dir=RUN_DIR / "a")
    run_b = _run({"lr": 3e-2}, seed=0, out_dir=RUN_DIR / "b")
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


def test_finetune_on_a_shared_base_trains_one_more_adapter_exactly_as_alone():
    """Training on a base that carries adapters: no copy of the base, the same adapter as on a fresh base."""
    from pathlib import Path

    ids = torch.tensor([[1, 504, 2734, 314, 253, 1345]])
    ex, cfg = lk.make_examples(QA[:6], kind="knowledge"), lk.FinetuneConfig(**{**FAST, "lr": 3e-2})
    alone = lk.finetune(lk.tiny_generator(seed=0), ex, cfg, progress=False, out_dir=RUN_DIR / "alone")
    run_a = _run(seed=0, out_dir=RUN_DIR / "a")
    logits_alone, logits_a = _answer_logits(alone.lm, ids), _answer_logits(run_a.lm, ids)
    base = lk.tiny_generator(seed=0)
    plain = _answer_logits(base, ids)
    a = lk.attach(base, run_a, "a")
    weight = base.model.model.layers[0].self_attn.q_proj.base_layer.weight
    run_c = lk.finetune(base, ex, cfg, progress=False, out_dir=RUN_DIR / "shared", adapter="c")
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
    again = lk.finetune(base, ex, cfg, progress=False, out_dir=RUN_DIR / "shared", adapter="c")  # a re-run
    assert again.reused and sorted(again.lm.model.peft_config) == ["a", "c"]  # replaced, not added
    torch.testing.assert_close(_answer_logits(again.lm, ids), logits_alone)
    with pytest.raises(ValueError, match="fresh base"):
        lk.finetune(base, ex, lk.FinetuneConfig(**{**FAST, "method": "full"}), progress=False, out_dir=RUN_DIR / "f")
    with pytest.raises(ValueError, match="base view"):
        lk.finetune(c, ex, cfg, progress=False, out_dir=RUN_DIR / "v")


@pytest.mark.parametrize("case", ["full", "same-name", "adapter-view"])
def test_attach_refuses_what_it_cannot_share(case):
    run = _run({"method": "full"} if case == "full" else None, out_dir=RUN_DIR / case)
    base = lk.tiny_generator(seed=0)
    if case == "same-name":
        lk.attach(base, _run(out_dir=RUN_DIR / "other"), "x")
        with pytest.raises(ValueError, match="already has an adapter named 'x'"):
            lk.attach(base, run, "x")
    elif case == "adapter-view":
        view = lk.attach(base, _run(out_dir=RUN_DIR / "other"), "x")
        with pytest.raises(ValueError, match="base view"):
            lk.attach(view, run, "y")
    else:
        with pytest.raises(ValueError, match="needs a LoRA run"):
            lk.attach(base, run, "x")


def test_full_run_saves_in_shards_and_reloads_identically(monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules["labkit.checkpoint"], "SHARD_BYTES", 2**14)  # 16 KB shards
    res = _run({"method": "full"})
    final = RUN_DIR / str({"method": "full"}) / "final"
    shards = sorted(final.glob("trainable-*.safetensors"))
    assert len(shards) > 2
    ids = torch.tensor([[1, 504, 2734, 314, 253, 1345]])
    with torch.no_grad():
        reloaded = lk.load_adapter(lk.tiny_generator(seed=0), final).model(input_ids=ids).logits
        torch.testing.assert_close(res.lm.model(input_ids=ids).logits, reloaded)


def test_lora_autocast_runs_fp32_adapters_in_bf16_and_restores_peft():
    """Mixed precision for LoRA on a bf16 base: bf16 matmuls, fp32 weights and gradients, flags restored."""
    from labkit.generate import lora_autocast, lora_layers

    lm = lk.tiny_generator(seed=0)
    lm.model.to(torch.bfloat16)
    res = lk.finetune(lm, lk.make_examples(QA[:6]), lk.FinetuneConfig(**FAST), progress=False, out_dir=RUN_DIR)
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


def test_step_in_backward_equals_stepping_after_backward_and_frees_every_gradient():
    """Full fine-tuning's optimizer runs inside backward: same weights as the classic loop, no .grad kept."""
    from transformers.optimization import Adafactor

    def adafactor(params):
        return Adafactor(params, lr=1e-2, scale_parameter=False, relative_step=False, warmup_init=False)

    torch.manual_seed(0)
    classic = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    fused = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    fused.load_state_dict(classic.state_dict())
    x = torch.randn(5, 8)
    opt_classic = adafactor(list(classic.parameters()))
    opt_fused = lk.StepInBackward(list(fused.parameters()), adafactor)
    for _ in range(3):
        classic(x).square().mean().backward()
        opt_classic.step()
        opt_classic.zero_grad(set_to_none=True)
        with opt_fused.hooked():
            fused(x).square().mean().backward()
        assert all(p.grad is None for p in fused.parameters())  # each freed right after its step
    for a, b in zip(classic.parameters(), fused.parameters()):
        torch.testing.assert_close(a, b)
    # Outside `hooked()` backward only computes gradients.
    before = [p.detach().clone() for p in fused.parameters()]
    fused(x).sum().backward()
    assert all(torch.equal(a, b) and b.grad is not None for a, b in zip(before, fused.parameters()))
    # Its state survives a checkpoint: a new instance loaded from state_dict() holds the same moments.
    again = lk.StepInBackward(list(fused.parameters()), adafactor)
    again.load_state_dict(opt_fused.state_dict())
    for o1, o2 in zip(opt_fused.opts, again.opts):
        s1, s2 = o1.state_dict()["state"][0], o2.state_dict()["state"][0]
        assert s1.keys() == s2.keys() and all(torch.equal(s1[k], s2[k]) for k in s1 if torch.is_tensor(s1[k]))


@pytest.mark.parametrize("method", ["lora", "full"])
def test_run_record_never_copies_the_model(method, monkeypatch):
    """summary() and result.json read the numbers only: a deep copy of ``lm`` doubled the model in memory."""
    def no_copy(self, memo):
        raise AssertionError("a model weight was deep-copied")

    monkeypatch.setattr(torch.nn.Parameter, "__deepcopy__", no_copy)
    res = _run({"method": method, "epochs": 1})  # writes result.json
    saved = json.loads((RUN_DIR / str({"method": method, "epochs": 1}) / "final" / "result.json").read_text())
    assert saved == json.loads(json.dumps(res.numbers())) and "lm" not in saved
    assert res.summary()["final_loss"] == res.losses[-1] and res.summary()["steps"] == res.steps


@pytest.mark.parametrize("every", [1, 2, 4])
def test_recompute_every_nth_layer_is_exact_and_counted(every):
    """Recomputing only every n-th layer changes memory and time, not the numbers; its FLOPs are counted."""
    from labkit.finetune import _prepare_model

    kw = {"grad_checkpointing": True, "epochs": 1}
    ref = _run(kw, out_dir=RUN_DIR / "all")  # every layer recomputed
    res = _run({**kw, "recompute_every": every}, out_dir=RUN_DIR / "some")
    assert res.losses == pytest.approx(ref.losses, rel=1e-5)
    tok = [lk.tokenize_example(ref.lm.tokenizer, e, 128) for e in lk.make_examples(QA[:3])]
    row = lk.pack(tok, 128)[0]

    def hw(cfg_kw):
        lm = lk.tiny_generator(seed=0, n_layers=4)
        model = _prepare_model(lm, lk.FinetuneConfig(**{**FAST, **cfg_kw}))
        flags = [layer.gradient_checkpointing for layer in model.get_base_model().model.layers]
        return lk.train_flops(model, row, "lora", hardware=True), flags

    none, _ = hw({"grad_checkpointing": False})
    every_layer, _ = hw({"grad_checkpointing": True})
    some, flags = hw({"grad_checkpointing": True, "recompute_every": every})
    assert flags == [i % every == 0 for i in range(4)]
    assert some - none == pytest.approx((every_layer - none) * sum(flags) / 4)
