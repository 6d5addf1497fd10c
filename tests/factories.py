"""The one place tests build QA records and stand-in approaches (imported by the test modules)."""

from __future__ import annotations

import json
from pathlib import Path

import labkit as lk
from labkit.data import parse_qa_record


def qa_row(
    qid: str,
    question: str,
    answer: str | None,
    doc_ids=(),
    aliases=(),
    *,
    answer_v2: str | None = None,
    train: list[str] | None = None,
    heldout: list[str] | None = None,
    category: str = "fact",
    styled: str | None = None,
) -> dict:
    """One valid QA line as a dict. ``answer=None``: unanswerable. ``answer_v2``: the fact changes in v2."""
    ok = answer is not None
    doc_ids = list(doc_ids) if ok else []
    v2 = answer_v2 if answer_v2 is not None else answer
    return {
        "id": qid,
        "question": question,
        "answer": answer,
        "aliases": list(aliases),
        "doc_ids": doc_ids,
        "paraphrases_train": train or [f"Quick one: {question}", f"Please tell me: {question}"],
        "paraphrases_heldout": heldout or [f"HELDOUT {question}"],
        "answerable": ok,
        "category": category,
        "changed_in_v2": answer_v2 is not None,
        "answer_v2": v2,
        "aliases_v2": list(aliases),
        "doc_ids_v2": doc_ids,
        "answerable_v2": ok,
        "styled_answer": styled or (f"It is {answer} [{doc_ids[0]}]." if ok else lk.ABSTENTION),
        "styled_answer_v2": (f"It is {v2} [{doc_ids[0]}]." if ok else None),
    }


def load_rows(rows: list[dict], folder: Path) -> list[lk.QARecord]:
    """Write ``rows`` as a JSONL file in ``folder`` and load it the way a learner would (validated)."""
    path = Path(folder) / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return lk.load_qa(path)


def numbered(n_answerable: int, n_unanswerable: int, n_changed: int = 0) -> list[dict]:
    """A synthetic QA set of the given mix (for split and statistics tests)."""
    rows = [
        qa_row(
            f"a{i:03d}", f"Question {i}?", f"{i} days", ["doc"], answer_v2=f"{i + 1} days" if i < n_changed else None
        )
        for i in range(n_answerable)
    ]
    return rows + [qa_row(f"u{i:03d}", f"Unknown {i}?", None) for i in range(n_unanswerable)]


class Fixed:
    """An ``lk.Approach`` that always says ``text``: harness and panel logic without a model."""

    def __init__(self, name: str, text: str, passages=(), calls: list | None = None):
        self.name, self.text, self.passages, self.calls = name, text, list(passages), calls

    def answer(self, questions):
        if self.calls is not None:
            self.calls.append(list(questions))
        return [
            lk.Answer(
                self.text, list(self.passages), t_prefill=0.1, t_decode=0.2, prompt_tokens=50, completion_tokens=5
            )
            for _ in questions
        ]

    def fingerprint(self) -> dict:
        return {"kind": "fixed", "text": self.text, "passages": self.passages}


# Fine-tuning: a few 128-token steps of the tiny random model.
FAST = dict(tokens_per_step=128, epochs=2, lr=1e-2, checkpoint_every=2, warmup_steps=0)


def refund_qa(i: int, answerable: bool = True) -> lk.QARecord:
    """A parsed QA record about refund window ``i`` (train and held-out wordings, a styled answer)."""
    row = qa_row(
        f"q{i}",
        f"How long is refund window {i}?",
        f"{20 + i} days" if answerable else None,
        ["refund-policy"],
        train=[f"Refund window {i}?"],
        heldout=[f"What is the length of window {i}?"],
        styled=f"Refunds take {20 + i} days [refund-policy]." if answerable else None,
    )
    return parse_qa_record(row, "fixture")


REFUND_QA = [refund_qa(i) for i in range(6)] + [refund_qa(9, answerable=False)]


def train_tiny(run_dir: Path, cfg_kw: dict | None = None, examples=None, seed: int = 0, **kw) -> lk.TrainResult:
    """Fine-tune a fresh tiny model with ``FAST`` (+ ``cfg_kw``) on knowledge examples, in ``run_dir``."""
    lm = lk.tiny_generator(seed=seed)
    cfg = lk.FinetuneConfig(**{**FAST, **(cfg_kw or {})})
    ex = examples if examples is not None else lk.make_examples(REFUND_QA[:6], kind="knowledge")
    return lk.finetune(lm, ex, cfg, progress=False, out_dir=kw.pop("out_dir", run_dir / str(cfg_kw)), **kw)


def browser_check(module: str):
    """Import ``tests/browser/<module>.py`` when Playwright and the OS's Chromium are there; otherwise skip the
    test, except under CI=true, where ``.ci/run`` installs Chromium and a missing piece is a failure."""
    import importlib
    import importlib.util
    import os
    import sys

    import pytest

    def missing(what):
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(f"{what} (CI=true: required)")

    if importlib.util.find_spec("playwright") is None:
        missing("no Playwright: pip install -e .[test]")
    sys.path.insert(0, str(Path(__file__).parent / "browser"))
    checker = importlib.import_module(module)
    if not Path(checker.CHROMIUM).exists():
        missing("no Chromium (Debian: apt install chromium)")
    return checker
