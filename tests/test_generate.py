import pytest

import labkit as lk
from labkit.generate import as_messages


def test_as_messages_adds_system_turn_once():
    msgs = as_messages("Hi", system="Be brief.")
    assert msgs == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert as_messages(msgs, system="Other") == msgs  # an existing system turn is kept


def test_generation_reports_tokens_and_times(tiny_lm):
    out = lk.chat_generate(tiny_lm, ["one", "a much longer second prompt here"], max_new_tokens=5)
    assert len(out) == 2
    assert out[0].prompt_tokens < out[1].prompt_tokens
    for g in out:
        assert 1 <= g.completion_tokens <= 5
        assert g.t_prefill >= 0 and g.t_decode >= 0


def test_too_long_prompt_raises_a_clear_error(tiny_lm):
    long_question = "word " * 600  # tiny model's context is 512 tokens
    with pytest.raises(lk.models.ContextTooLongError, match=r"prompt 1 is \d+ tokens.*context of 512"):
        lk.chat_generate(tiny_lm, ["short", long_question], max_new_tokens=8)


@pytest.mark.parametrize("kwargs", [{"max_new_tokens": 0}, {"batch_size": 0}])
def test_bad_generation_arguments(tiny_lm, kwargs):
    with pytest.raises(ValueError):
        lk.chat_generate(tiny_lm, ["hi"], **kwargs)


def test_greedy_generation_repeats_exactly(tiny_lm):
    prompts = ["alpha", "beta gamma"]
    a = [g.text for g in lk.chat_generate(tiny_lm, prompts, max_new_tokens=6)]
    b = [g.text for g in lk.chat_generate(tiny_lm, prompts, max_new_tokens=6)]
    assert a == b


def test_answers_come_back_in_the_order_asked(tiny_lm):
    """chat_generate batches prompts by length; each answer must still land at its prompt's index."""
    prompts = [
        "a much longer prompt than the others, with many more words in it",
        "one",
        "a middle-sized prompt",
        "two words",
    ]
    tok = tiny_lm.tokenizer
    expected = [
        len(
            tok(
                tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False),
                add_special_tokens=False,
            )["input_ids"]
        )
        for p in prompts
    ]
    out = lk.chat_generate(tiny_lm, prompts, max_new_tokens=3, batch_size=2)
    assert [g.prompt_tokens for g in out] == expected
    assert expected != sorted(expected)  # the test would not notice a lost order otherwise


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_batched_answers_equal_each_prompt_generated_alone(tiny_lm, batch_size):
    """Shared-prefix cache, per-prompt prefill and left-padded batch decode change nothing but speed."""
    prompts = ["one", "a much longer second prompt with many more words", "three words here", "x y", "the fifth prompt"]
    system = "A shared system prompt that every prompt starts with."
    out = lk.chat_generate(tiny_lm, prompts, max_new_tokens=7, batch_size=batch_size, system=system)
    tok, model = tiny_lm.tokenizer, tiny_lm.model
    for p, g in zip(prompts, out):
        ids = tok.apply_chat_template(
            as_messages(p, system), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )["input_ids"]
        ref = model.generate(ids, max_new_tokens=7, do_sample=False, pad_token_id=tok.pad_token_id)[0, ids.shape[1] :]
        stops = [i for i, t in enumerate(ref.tolist()) if t in (tok.eos_token_id, tok.pad_token_id)]
        assert g.text == tok.decode(ref[: stops[0]] if stops else ref, skip_special_tokens=True).strip()
        assert g.prompt_tokens == ids.shape[1]


def test_shared_prefix_is_prefilled_once_and_own_tokens_once(tiny_lm, monkeypatch):
    """The common start (system prompt) runs once; each prompt's own tokens once; then decode steps."""
    seen = []
    real = tiny_lm.model.forward

    def recording(*args, **kwargs):
        seen.append(tuple(kwargs["input_ids"].shape))
        return real(*args, **kwargs)

    monkeypatch.setattr(tiny_lm.model, "forward", recording)
    system = "A long shared system prompt: " + "word " * 30
    prompts = ["first question", "second, longer question here"]
    out = lk.chat_generate(tiny_lm, prompts, max_new_tokens=3, batch_size=2, system=system)
    n_prefix, group = seen[0][1], seen[1]
    assert seen[0][0] == 1 and n_prefix > 30  # the shared prefix, one row
    longest_own = max(g.prompt_tokens for g in out) - n_prefix - 1  # the last token is left for generate
    assert group == (2, longest_own)  # both prompts' own tokens in one forward: they are short
    assert set(seen[2:]) == {(2, 1)} and 1 <= len(seen[2:]) <= 3  # decode: one token per step


@pytest.mark.parametrize("bucket", [1, 8])
@pytest.mark.parametrize("budget", [1, 64, 4096])
def test_prefill_groups_and_padding_do_not_change_answers(tiny_lm, monkeypatch, budget, bucket):
    from labkit import generate

    prompts = ["one", "a much longer second prompt with many more words", "three words here", "x y"]
    ref = [g.text for g in lk.chat_generate(tiny_lm, prompts, max_new_tokens=6, batch_size=4)]
    monkeypatch.setattr(generate, "PREFILL_TOKENS", budget)
    monkeypatch.setattr(generate, "PREFILL_BUCKET", bucket)
    assert [g.text for g in lk.chat_generate(tiny_lm, prompts, max_new_tokens=6, batch_size=4)] == ref


def test_decode_writes_into_the_room_prefill_left_and_grows_only_when_out_of_room(tiny_lm):
    """Each decode step writes its column in place (no copy of the cache); out of room, the layer grows."""
    import torch

    from labkit.generate import _prefill

    rows = [[5, 6, 7, 8, 9], [10, 11, 12]]
    cache, mask = _prefill(tiny_lm.model, rows, None, 0, room=2)
    layer = cache.layers[0]
    width = mask.shape[1] - 1  # prompt columns in the cache (the last token is generate's)
    assert layer.keys.shape[2] == width and layer.room_k.shape[2] == width + 2
    kept = layer.keys.clone()
    buffer = layer.room_k.data_ptr()
    for step in range(3):  # two fit in the room; the third does not
        k = torch.full((2, layer.keys.shape[1], 1, layer.keys.shape[3]), float(step + 1))
        keys, values = layer.update(k, k.clone())
        assert keys.shape[2] == width + step + 1 and torch.equal(keys[:, :, :width], kept)
        assert torch.equal(keys[:, :, -1:], k) and cache.get_seq_length() == width + step + 1
        assert (layer.room_k.data_ptr() == buffer) == (step < 2)  # in place until the room runs out


@pytest.mark.parametrize("room", [0, 1])
def test_answers_do_not_depend_on_the_room_left_for_decoding(tiny_lm, monkeypatch, room):
    """No room (every step grows the cache by copying, as DynamicLayer does) gives the same answers."""
    from labkit import generate

    prompts = ["one", "a much longer second prompt with many more words", "three words here"]
    ref = [g.text for g in lk.chat_generate(tiny_lm, prompts, max_new_tokens=6, batch_size=3)]
    real = generate._prefill
    monkeypatch.setattr(generate, "_prefill", lambda *a, **k: real(*a, **{**k, "room": room}))
    assert [g.text for g in lk.chat_generate(tiny_lm, prompts, max_new_tokens=6, batch_size=3)] == ref
