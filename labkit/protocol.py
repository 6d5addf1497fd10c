"""The one evaluation protocol every approach goes through: split, wordings, approaches, the run harness.

**Split.** ``split_qa`` cuts the questions, seeded and stratified, into **train** (what a fine-tune that
learns a *skill* trains on: house style, abstention, reading passages), **dev** (where k, thresholds,
epochs and learning rates are chosen) and **test** (reported only; nothing is tuned on it).

**Wordings.** Each question comes as its canonical wording, two *training* paraphrases and two
*held-out* paraphrases. The canonical and training wordings with their answers are the fact cards a
fine-tune may learn from (the knowledge fine-tune's point is to put the facts into the weights, as RAG
puts the documents into the prompt). The held-out wordings are never trained on by anything: every
approach is scored on them (``EVAL_WORDING``). A score on a training wording is memorisation, and is
always labelled so.

**Approaches.** Base, RAG, fine-tuned and hybrid systems all answer a list of questions with a list of
``Answer``s and describe themselves with a ``fingerprint()``; ``run_approach`` asks, scores and caches.

>>> split = split_qa(load_qa())                                  # doctest: +SKIP
>>> recs = run_approach(ClosedBook(lm), split.test)               # doctest: +SKIP

Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

from .data import CLOSED_BOOK_SYSTEM, EVAL_WORDING, QARecord, wordings
from .env import artifact_dir, code_digest, module_digest
from .evaluate import STAGES, Record, score
from .generate import BATCH_SIZE, chat_generate
from .models import ContextTooLongError

__all__ = [
    "Split",
    "split_qa",
    "questions",
    "Answer",
    "Approach",
    "ClosedBook",
    "run_approach",
    "latency_batch1",
    "check_question_fits",
    "records_code",
]

HARNESS = ("protocol", "evaluate")  # asking and scoring: code every record depends on


# --- the split -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    """Three disjoint question sets. See the module docstring for what each may be used for.

    Introduced in 00_setup_and_tour.ipynb.
    """

    train: tuple[QARecord, ...]
    dev: tuple[QARecord, ...]
    test: tuple[QARecord, ...]
    seed: int = 0

    def counts(self):
        """A small table: answerable / unanswerable / changed-in-v2 questions per part."""
        import pandas as pd

        return pd.DataFrame(
            {
                name: {
                    "questions": len(part),
                    "answerable": sum(q.answerable for q in part),
                    "unanswerable": sum(not q.answerable for q in part),
                    "answer changes in v2": sum(q.changed_in_v2 for q in part),
                }
                for name, part in (("train", self.train), ("dev", self.dev), ("test", self.test))
            }
        ).T


def _stratum(q: QARecord) -> tuple:
    return (q.answerable, q.changed_in_v2)


def split_qa(
    qa: list[QARecord], test: float = 0.62, dev: float = 0.16, seed: int = 0, min_test_answerable: int = 100
) -> Split:
    """Seeded, stratified split into train / dev / test questions.

    Each stratum (answerable?, answer changes in v2?) is sorted by id, shuffled with ``seed`` and cut in
    the given shares, so every part keeps the set's mix and the same QA file always gives the same
    split. ``min_test_answerable`` guards the reported numbers: with fewer answerable test questions
    a 10-point difference could not be resolved.

    >>> s = split_qa(load_qa())                                    # doctest: +SKIP
    >>> len(s.train), len(s.dev), len(s.test)                      # doctest: +SKIP
    (48, 34, 132)

    Introduced in 00_setup_and_tour.ipynb.
    """
    if not (0 < test < 1 and 0 < dev < 1 and test + dev < 1):
        raise ValueError(f"split_qa: test={test} and dev={dev} must be shares in (0, 1) with test + dev < 1")
    ids = [q.id for q in qa]
    if len(set(ids)) != len(ids):
        raise ValueError("split_qa: question ids must be unique (load the set with lk.load_qa()).")
    strata: dict[tuple, list[QARecord]] = {}
    for q in qa:
        strata.setdefault(_stratum(q), []).append(q)
    parts = {"train": [], "dev": [], "test": []}
    for key in sorted(strata):
        members = sorted(strata[key], key=lambda q: q.id)
        random.Random(f"{seed}:{key}").shuffle(members)  # a string seed: stable across Python versions
        n_test, n_dev = round(test * len(members)), round(dev * len(members))
        parts["test"] += members[:n_test]
        parts["dev"] += members[n_test : n_test + n_dev]
        parts["train"] += members[n_test + n_dev :]
    n_ans = sum(q.answerable for q in parts["test"])
    if n_ans < min_test_answerable:
        raise ValueError(
            f"split_qa: only {n_ans} answerable test questions (< {min_test_answerable}); "
            f"raise `test` or add questions."
        )
    order = {q.id: i for i, q in enumerate(qa)}  # each part in file order
    return Split(*(tuple(sorted(parts[p], key=lambda q: order[q.id])) for p in ("train", "dev", "test")), seed=seed)


def questions(
    qa: list[QARecord], phrasing: str = EVAL_WORDING, per_record: int | None = 1
) -> list[tuple[QARecord, str]]:
    """(record, wording) pairs to ask: the first ``per_record`` wordings of the kind (None: all).

    One wording per question (the default) keeps every rate a count over distinct questions.

    Introduced in 00_setup_and_tour.ipynb.
    """
    if per_record is not None and per_record < 1:
        raise ValueError(f"per_record must be >= 1 (or None for every wording), got {per_record}")
    out = []
    for rec in qa:
        if not isinstance(rec, QARecord):
            raise TypeError(
                f"expected lk.QARecord items (from lk.load_qa()), got {type(rec).__name__}: {str(rec)[:80]!r}"
            )
        out += [(rec, w) for w in wordings(rec, phrasing)[:per_record]]
    return out


# --- approaches ------------------------------------------------------------------------------------
@dataclass
class Answer:
    """What an approach says to one question, which passages it read and cited, and the cost.

    Times are seconds per query; in a batch, the batch's time divided by its size.

    Introduced in 00_setup_and_tour.ipynb.
    """

    text: str
    passages: list[str] = field(default_factory=list)  # chunk ids in the prompt, in order [1]..[k]
    cited: list[str] = field(default_factory=list)  # doc ids the answer cites
    t_embed: float = 0.0
    t_search: float = 0.0
    t_prefill: float = 0.0
    t_decode: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    context: list[str] = field(default_factory=list)  # the passage texts the reader was shown
    confidence: float | None = None  # retrieval's top-1 score (what a threshold compares), if any

    def add_generation(self, gen) -> Answer:
        """Take the generation's cost (``lk.Generation``: prefill, decode, tokens); returns self.

        >>> from labkit.generate import Generation
        >>> Answer("x").add_generation(Generation("x", 40, 3, 0.2, 0.1)).prompt_tokens
        40
        """
        for k in ("t_prefill", "t_decode", "prompt_tokens", "completion_tokens"):
            setattr(self, k, getattr(gen, k))
        return self

    def costs(self) -> dict:
        """The Record's cost fields."""
        return {k: getattr(self, k) for k in (*STAGES, "prompt_tokens", "completion_tokens")}


@runtime_checkable
class Approach(Protocol):
    """Anything that answers questions: base, RAG, fine-tuned, hybrid, and any later system.

    ``fingerprint()`` returns a JSON-able dict of everything that decides its answers (model weights,
    adapter, prompt, retriever, settings): the harness's cache key.

    Introduced in 00_setup_and_tour.ipynb.
    """

    name: str

    def answer(self, questions: list[str]) -> list[Answer]: ...

    def fingerprint(self) -> dict: ...


def check_question_fits(lm, question: str, max_new_tokens: int) -> None:
    """Fail early, before retrieval or generation, when the question alone cannot fit the context.

    Introduced in 00_setup_and_tour.ipynb.
    """
    n = len(lm.tokenizer(question, add_special_tokens=False)["input_ids"])
    if n + max_new_tokens > lm.max_context:
        raise ContextTooLongError(
            f"the question is {n} tokens; with max_new_tokens={max_new_tokens} it exceeds the model's "
            f"context of {lm.max_context} tokens. Ask a shorter question."
        )


class ClosedBook:
    """A model answering from its weights alone: the base model, or a closed-book fine-tune.

    The one closed-book path of the workbook: "base" is ``ClosedBook(lm)`` in every notebook.

    >>> base = ClosedBook(lm)                                      # doctest: +SKIP
    >>> base.answer(["Who founded Tessavik?"])[0].text              # doctest: +SKIP

    Introduced in 00_setup_and_tour.ipynb.
    """

    def __init__(
        self,
        lm,
        name: str = "base",
        system: str = CLOSED_BOOK_SYSTEM,
        max_new_tokens: int = 32,
        batch_size: int = BATCH_SIZE,
    ):
        if max_new_tokens <= 0 or batch_size <= 0:
            raise ValueError("ClosedBook: max_new_tokens and batch_size must be positive ints")
        self.lm, self.name, self.system = lm, name, system
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size

    def answer(self, questions: list[str]) -> list[Answer]:
        for q in questions:
            check_question_fits(self.lm, q, self.max_new_tokens)
        gens = chat_generate(
            self.lm, list(questions), max_new_tokens=self.max_new_tokens, batch_size=self.batch_size, system=self.system
        )
        return [Answer(g.text).add_generation(g) for g in gens]

    def fingerprint(self) -> dict:
        return {
            "kind": "closed-book",
            "lm": self.lm.fingerprint(),
            "system": self.system,
            "max_new_tokens": self.max_new_tokens,
            "batch_size": self.batch_size,
        }

    def __repr__(self) -> str:
        return f"ClosedBook({self.name!r}, {self.lm!r})"


# --- the run harness -------------------------------------------------------------------------------
def check_approach(approach) -> None:
    """Raise a TypeError saying what an approach needs, for anything the harness cannot run
    (``run_approach``, ``latency_batch1``); documented, not exported to ``lk``.

    >>> check_approach("rag")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    TypeError: str is not an lk.Approach: it needs a .name, an .answer(questions) -> list[lk.Answer] and a ...

    Introduced in 00_setup_and_tour.ipynb.
    """
    if not isinstance(approach, Approach):
        raise TypeError(
            f"{type(approach).__name__} is not an lk.Approach: it needs a .name, an "
            f".answer(questions) -> list[lk.Answer] and a .fingerprint() -> dict "
            f"(see lk.ClosedBook for a small example)."
        )


def records_code(approach, folder=None) -> str:
    """The code digest in ``approach``'s records' key: the harness, the scoring and the approach's own code.

    Its own code: the labkit modules of its class and of the labkit objects it holds (its LM, retriever,
    reader layout ...), each with every labkit module it imports (``lk.module_closure``). An edit
    elsewhere (a plot, the cost model, the CLI) keeps its records. An approach whose class, or one of
    whose parts, is defined outside labkit (a notebook, a script) may call anything in labkit: all of
    labkit's code keys it. ``folder``: the modules' folder (default: labkit's; a test passes a copy).

    Introduced in 00_setup_and_tour.ipynb.
    """
    own = _labkit_modules(approach)
    if own is None:
        return code_digest(folder)
    return module_digest(*HARNESS, *sorted(own), folder=folder)


def _labkit_modules(approach) -> set[str] | None:
    """Modules of ``approach``'s class and of the labkit objects reachable through its attributes and
    containers; None when its class is not labkit's or a part's class was defined in ``__main__``."""
    if not type(approach).__module__.startswith("labkit."):
        return None
    found, seen, todo = set(), set(), [approach]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        module = type(obj).__module__
        if isinstance(obj, (list, tuple, set, frozenset)):
            todo += list(obj)
        elif isinstance(obj, dict):
            todo += list(obj.values())
        elif module == "__main__":  # notebook code: which labkit code it calls is not known
            return None
        elif module.startswith("labkit."):  # library objects (torch, faiss, tokenizers) are not followed
            found.add(module.removeprefix("labkit."))
            todo += list(getattr(obj, "__dict__", {}).values())
    return found


def run_approach(
    approach: Approach,
    qa: list[QARecord],
    phrasing: str = EVAL_WORDING,
    version: str = "v1",
    per_record: int | None = 1,
    cache: bool = True,
) -> list[Record]:
    """Ask ``approach`` every question of ``qa`` in one wording and score each answer into a ``Record``.

    The one run harness. Results are cached under a key made of the approach's fingerprint, the
    questions asked, the version and the code they depend on (``records_code``), so a notebook that asks
    again what an earlier notebook asked gets the identical records back in milliseconds (times included,
    as measured then).

    >>> recs = run_approach(ClosedBook(lm), split.test)            # doctest: +SKIP
    >>> lk.summarize(recs)                                          # doctest: +SKIP

    Introduced in 00_setup_and_tour.ipynb.
    """
    check_approach(approach)
    if version not in ("v1", "v2"):
        raise ValueError(f"version must be 'v1' or 'v2', got {version!r}")
    pairs = questions(qa, phrasing, per_record)
    if not pairs:
        raise ValueError("run_approach: no questions to ask (empty QA list).")
    key = {
        "approach": approach.fingerprint(),
        "name": approach.name,
        "version": version,
        "asked": [(rec.id, q) for rec, q in pairs],
        "code": records_code(approach),
    }
    path = artifact_dir("eval", key) / "records.json" if cache else None
    if path is not None and path.exists():
        return [Record(**r) for r in json.loads(path.read_text(encoding="utf-8"))]
    answers = approach.answer([q for _, q in pairs])
    if len(answers) != len(pairs):
        raise ValueError(f"approach {approach.name!r} returned {len(answers)} answers for {len(pairs)} questions")
    records = [
        score(
            approach.name,
            rec,
            a.text,
            phrasing=phrasing,
            question=q,
            version=version,
            cited=a.cited,
            passages=list(a.passages),
            context=list(a.context),
            confidence=a.confidence,
            **a.costs(),
        )
        for (rec, q), a in zip(pairs, answers)
    ]
    if path is not None:
        from .checkpoint import write_atomic

        write_atomic(path, json.dumps([asdict(r) for r in records]))
    return records


def latency_batch1(approach: Approach, texts: list[str], warmup: int = 2):
    """Each question asked alone (batch 1), as one user waits for one answer: a DataFrame, one row each.

    ``total_ms`` is the wall time around ``approach.answer([q])`` (retrieval, prompt building, prefill and
    decode); ``embed_ms``, ``search_ms``, ``prefill_ms`` and ``decode_ms`` split it by stage as the approach
    timed them (the rest is building the prompt); ``prompt_tokens`` and ``completion_tokens`` say why. The
    first ``warmup`` questions are asked once untimed (kernels and buffers are set up on first use).
    Volatile: another run on the same machine differs by a few percent.

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    check_approach(approach)
    if not texts:
        raise ValueError("latency_batch1 needs at least one question")
    for q in texts[:warmup]:
        approach.answer([q])
    rows = []
    for q in texts:
        t0 = time.perf_counter()
        a = approach.answer([q])[0]
        wall = time.perf_counter() - t0
        stages = {f"{k[2:]}_ms": getattr(a, k) * 1e3 for k in STAGES}
        rows.append({**stages, "total_ms": wall * 1e3, "prompt_tokens": a.prompt_tokens,
                     "completion_tokens": a.completion_tokens})  # fmt: skip
    return pd.DataFrame(rows)
