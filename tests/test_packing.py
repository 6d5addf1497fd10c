"""Training data: label masking, packing (shared start, masks), examples, bad input (tiny model)."""

import pytest
import torch
from factories import REFUND_QA, train_tiny

import labkit as lk

pytestmark = pytest.mark.usefixtures("one_thread")


def test_labels_mask_the_prompt_and_keep_the_answer(tiny_lm):
    ex = lk.make_examples(REFUND_QA[:1], kind="knowledge", phrasings=("question",))[0]
    ids, labels = lk.tokenize_example(tiny_lm.tokenizer, ex, 512)
    assert len(ids) == len(labels)
    targets = [l for l in labels if l != -100]
    tok = tiny_lm.tokenizer
    assert tok.decode(targets) == "20 days<|im_end|>"
    # labels are next-token targets: wherever set, they equal the following input id
    assert all(l == ids[t + 1] for t, l in enumerate(labels) if l != -100)
    prompt = tok.apply_chat_template(ex.messages[:-1], add_generation_prompt=True, tokenize=False)
    n_prompt = len(tok(prompt, add_special_tokens=False)["input_ids"])
    assert all(l == -100 for l in labels[: n_prompt - 1]) and labels[-1] == -100
    # and the ids are exactly what the chat template renders for the whole conversation
    full = tok(tok.apply_chat_template(ex.messages, tokenize=False), add_special_tokens=False)["input_ids"]
    assert full[: len(ids)] == ids


@pytest.mark.parametrize("row_len", [40, 64, 128])
def test_pack_keeps_every_token_and_restarts_positions(tiny_lm, row_len):
    tok = [lk.tokenize_example(tiny_lm.tokenizer, e, row_len) for e in lk.make_examples(REFUND_QA[:6])]
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
    examples = lk.make_examples(REFUND_QA[:3], phrasings=("question",))
    tok = [lk.tokenize_example(tiny_lm.tokenizer, e, 256) for e in examples]
    prefix = lk.shared_prompt_len(tok) if shared_start else 0
    assert (prefix > 10) == shared_start  # the system prompt and chat markup
    row = lk.packing.pad_row(lk.pack(tok, 256, prefix)[0], 192)  # with a filler block, as in training
    assert row.n_examples == 3 and row.input_ids.numel() == 192
    assert row.input_ids.numel() - row.n_pad == sum(len(ids) for ids, _ in tok) - 2 * prefix
    with torch.no_grad():
        packed = tiny_lm.model(
            input_ids=row.input_ids[None],
            position_ids=row.position_ids[None],
            attention_mask=lk.row_mask(row),
            use_cache=False,
        ).logits[0]
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


def test_empty_training_set_is_a_clear_error(run_dir):
    with pytest.raises(ValueError, match="training set is empty"):
        train_tiny(run_dir, examples=[])


def test_record_without_answer_is_a_clear_error(run_dir):
    with pytest.raises(ValueError, match="q9.*no answer"):
        lk.make_examples(REFUND_QA, kind="knowledge")
    bad = {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": ""}]}
    with pytest.raises(ValueError, match="example 0 .*has no answer"):
        train_tiny(run_dir, examples=[bad])


def test_behaviour_examples_use_house_style_and_abstention():
    ex = lk.make_examples(REFUND_QA, kind="behaviour", phrasings=("question",))
    answers = {e.qid: e.messages[-1]["content"] for e in ex}
    assert answers["q9"] == lk.ABSTENTION
    assert all(lk.check_house_style(a).ok for a in answers.values())


def test_sequence_longer_than_context_is_a_clear_error(run_dir):
    long = {"messages": [{"role": "user", "content": "word " * 300}, {"role": "assistant", "content": "ok"}]}
    with pytest.raises(lk.models.ContextTooLongError, match="longer than the 128-token row"):
        train_tiny(run_dir, examples=[long])
    with pytest.raises(lk.models.ContextTooLongError, match="context of 512"):
        train_tiny(run_dir, {"tokens_per_step": 1024})
