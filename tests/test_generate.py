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
    with pytest.raises(lk.ContextTooLongError, match=r"prompt 1 is \d+ tokens.*context of 512"):
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
    prompts = ["a much longer prompt than the others, with many more words in it", "one",
               "a middle-sized prompt", "two words"]
    tok = tiny_lm.tokenizer
    expected = [len(tok(tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                                tokenize=False), add_special_tokens=False)["input_ids"])
                for p in prompts]
    out = lk.chat_generate(tiny_lm, prompts, max_new_tokens=3, batch_size=2)
    assert [g.prompt_tokens for g in out] == expected
    assert expected != sorted(expected)  # the test would not notice a lost order otherwise
