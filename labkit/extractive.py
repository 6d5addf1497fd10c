"""Extractive (copy-constrained) decoding: the answer must be a span copied from the passages.

A 135M reader given the right passage often writes something else: a number from the wrong passage, a
paraphrase that drops the fact, or text it invents ("LTE-USB" for a radio the passage names). Extractive
decoding keeps the model's own choice of *which* words to say, but at every step only allows tokens that
continue some span of the passages (or of an allowed fixed reply such as the abstention sentence), and the
end token once a span has started. The greedy answer is then the model's most likely span.

``CopyConstraint`` is a ``transformers`` logits processor; ``lk.chat_generate(..., sources=...)`` applies
it, one list of source texts per prompt.

>>> from labkit.models import tiny_generator
>>> tok = tiny_generator().tokenizer
>>> cc = CopyConstraint(tok, [["The gate opens daily at noon."]], prompt_width=0, end_ids={2})
>>> said = tok(" gate opens", add_special_tokens=False)["input_ids"]
>>> [tok.decode([t]) for t in cc.allowed(0, said) - {2}]        # only the passage's next token, or the end
[' daily']

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import torch

__all__ = ["CopyConstraint", "source_ids"]


def source_ids(tokenizer, texts: list[str]) -> list[int]:
    """The texts as one token sequence, each with a leading space (as inside a prompt), ``-1`` between them.

    ``-1`` is no token id, so no span runs across two texts.

    Introduced in 01_rag.ipynb.
    """
    out: list[int] = []
    for t in texts:
        out += tokenizer(" " + t.strip(), add_special_tokens=False)["input_ids"] + [-1]
    return out


class CopyConstraint:
    """Logits processor: each row may only continue a span of its own source texts, or end.

    ``sources[i]``: the texts row ``i`` may copy from. ``prompt_width``: the columns of ``input_ids``
    before the answer (``generate`` passes prompt + answer so far). ``end_ids``: tokens that end an
    answer (allowed once at least one token is out). A span may start at any source token, or at the
    same token without its leading space (a reply's first word has none).

    Introduced in 01_rag.ipynb.
    """

    def __init__(self, tokenizer, sources: list[list[str]], prompt_width: int, end_ids: set[int]):
        self.src = [source_ids(tokenizer, s) for s in sources]  # per row: flat ids, -1 between texts
        self.width, self.end = prompt_width, set(end_ids)
        self.bare = {}  # token with a leading space -> the same word without it, when one token
        vocab = tokenizer.get_vocab()
        pieces = {t: tokenizer.convert_ids_to_tokens(t) for ids in self.src for t in set(ids) - {-1}}
        for t, piece in pieces.items():
            if piece.startswith(("Ġ", "▁")) and piece[1:] in vocab:
                self.bare[t] = vocab[piece[1:]]

        def word_start(ids: list[int], p: int) -> bool:  # after a text break, a space, or punctuation
            if ids[p] < 0 or pieces[ids[p]] in ("Ġ", "▁"):
                return False
            before = " " if p == 0 or ids[p - 1] < 0 else pieces[ids[p - 1]].replace("Ġ", " ").replace("▁", " ")
            return pieces[ids[p]][0] in "Ġ▁" or not before[-1].isalnum()  # ("Ġ" itself counts as a letter)

        self.starts = [[p for p in range(len(ids)) if word_start(ids, p)] for ids in self.src]

    def _matches(self, row: int, answer: list[int]) -> list[int]:
        """Positions in row's source right after every occurrence of ``answer`` (empty: no occurrence)."""
        src = self.src[row]
        first, rest = answer[0], answer[1:]
        starts = [p for p in self.starts[row] if src[p] == first or self.bare.get(src[p]) == first]
        return [p + 1 + len(rest) for p in starts if src[p + 1 : p + 1 + len(rest)] == rest]

    def allowed(self, row: int, answer: list[int]) -> set[int]:
        """Token ids row ``row`` may produce next, given its answer so far."""
        src = self.src[row]
        if not answer:
            firsts = {src[p] for p in self.starts[row]}
            return firsts | {self.bare[t] for t in firsts if t in self.bare}
        if answer[-1] in self.end:  # finished rows are padded by generate: let it pad
            return set(self.end)
        nxt = {src[p] for p in self._matches(row, answer) if p < len(src) and src[p] >= 0}
        return nxt | self.end

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        mask = torch.full_like(scores, float("-inf"))  # (batch, vocab)
        for row, ids in enumerate(input_ids[:, self.width :].tolist()):
            mask[row, sorted(self.allowed(row, ids))] = 0.0
        return scores + mask
