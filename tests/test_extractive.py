"""Extractive decoding: every answer is a span of its own sources (or ends), on a random tiny model."""

import pytest

import labkit as lk

SOURCES = ["The gate opens daily at noon.", "Refunds take twenty three days."]


@pytest.fixture
def constraint(tiny_lm):
    return lk.CopyConstraint(tiny_lm.tokenizer, [SOURCES], prompt_width=0, end_ids={2})


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_first_token_may_start_any_span_with_or_without_its_space(tiny_lm, constraint):
    tok = tiny_lm.tokenizer
    first = constraint.allowed(0, [])
    refunds = _ids(tok, " Refunds")
    assert len(refunds) > 1  # several tokens: a span starts at the first only, never inside the word
    assert _ids(tok, " gate")[0] in first and refunds[0] in first and not set(refunds[1:]) & first
    assert _ids(tok, "Refunds")[0] in first  # a reply's first word has no leading space
    assert 2 not in first  # no empty answer


@pytest.mark.parametrize(
    "said, nxt", [(" gate opens", " daily"), (" Refunds take", " twenty"), ("Refunds take twenty", " three")]
)
def test_after_a_span_only_its_continuation_or_the_end(tiny_lm, constraint, said, nxt):
    tok = tiny_lm.tokenizer
    assert constraint.allowed(0, _ids(tok, said)) == set(_ids(tok, nxt)) | {2}


def test_text_not_in_the_sources_has_no_continuation_and_an_ended_row_stays_ended(tiny_lm, constraint):
    tok = tiny_lm.tokenizer
    assert constraint.allowed(0, _ids(tok, " gate closes")) == {2}
    assert constraint.allowed(0, _ids(tok, " gate") + [2]) == {2}
    assert constraint.allowed(0, _ids(tok, " noon.")) == {2}  # no span runs across two sources


def test_chat_generate_copies_from_each_prompts_own_sources(tiny_lm):
    sources = [[SOURCES[0]], [SOURCES[1]], SOURCES]
    gens = lk.chat_generate(tiny_lm, ["a?", "b?", "c?"], max_new_tokens=6, batch_size=2, sources=sources)
    tok = tiny_lm.tokenizer
    for g, src in zip(gens, sources):
        ids = _ids(tok, " " + g.text) if g.text else []
        flat = [_ids(tok, " " + s) for s in src]
        assert g.completion_tokens >= 1
        assert not ids or any(
            any(f[i : i + len(ids)] == ids for i in range(len(f))) or g.text in s for f, s in zip(flat, src)
        ), (g.text, src)
    free = lk.chat_generate(tiny_lm, ["a?", "b?", "c?"], max_new_tokens=6, batch_size=2)
    assert [g.text for g in free] != [g.text for g in gens]  # the random model's free answers are no spans
    with pytest.raises(ValueError, match="one list of texts per prompt"):
        lk.chat_generate(tiny_lm, ["a?"], sources=[])


def test_a_number_starts_at_its_first_digit_not_inside(tiny_lm):
    tok = tiny_lm.tokenizer
    cc = lk.CopyConstraint(tok, [["a company of 212 employees"]], prompt_width=0, end_ids={2})
    digits = _ids(tok, "212")
    assert digits[0] in cc.allowed(0, [])  # digits are single tokens after a bare space token
    assert cc.allowed(0, [digits[0]]) == {digits[1], 2}
    assert digits[1] not in cc.allowed(0, [])  # "1" occurs only inside "212": no span starts there
