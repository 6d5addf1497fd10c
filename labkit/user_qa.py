"""Your own questions: a JSONL or CSV file of questions, optional gold answers and aliases, checked line by
line (a malformed line names its line and field), turned into the ``QARecord``s the run harness scores.

JSONL: one object per line, ``{"question": "...", "answer": "...", "aliases": ["..."]}``; ``"answer": null``
marks a question the documents cannot answer (the right reply is to decline); no ``answer`` key at all
means no gold: the question is asked and shown, but not scored. CSV: a header with ``question`` and
optionally ``answer`` and ``aliases`` (aliases separated by ``|``); an empty answer cell means no gold,
the cell ``<unanswerable>`` a question the documents cannot answer. Other fields (an evaluation set's
``source`` or ``evidence``) are ignored, with one ``IgnoredFieldsWarning`` naming them.

Introduced in 06_your_own_documents.ipynb.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from .data import QARecord
from .files import DataError, check_unique, read_csv, read_jsonl, where

__all__ = ["UserQuestion", "UNANSWERABLE", "IgnoredFieldsWarning", "load_questions", "as_qa_records"]

UNANSWERABLE = "<unanswerable>"  # the CSV cell for a question the documents cannot answer
_FIELDS = {"id", "question", "answer", "aliases"}  # what is read; any other field (source, evidence) is ignored
_NO_GOLD = object()
_MISSING = "no such questions file."


class IgnoredFieldsWarning(UserWarning):
    """A questions file has fields labkit does not read (evaluation sets often carry ``source`` or ``evidence``):
    they are ignored, and this one notice names the file and the fields, so a misspelt ``answer`` is seen.

    Introduced in 06_your_own_documents.ipynb.
    """

    def __init__(self, path, fields: list[str]):
        self.path, self.fields = path, fields
        names = ", ".join(repr(f) for f in fields)
        super().__init__(f"{path}: ignored field(s) {names}; labkit reads only id, question, answer, aliases.")


@dataclass(frozen=True)
class UserQuestion:
    """One question from the user's file. ``answer`` None + ``scored`` True: the right reply is to decline.

    Introduced in 06_your_own_documents.ipynb.
    """

    id: str
    question: str
    answer: str | None
    aliases: tuple[str, ...]
    scored: bool  # False: no gold answer given, asked and shown only
    line: int


def _check(path, line, question, answer, aliases) -> None:
    if not isinstance(question, str) or not question.strip():
        raise DataError(f"{where(path, line, 'question')}: a non-empty question is required.")
    if answer is not _NO_GOLD and answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise DataError(f"{where(path, line, 'answer')}: a non-empty string, null (unanswerable) or no key (no gold).")
    if not isinstance(aliases, (list, tuple)) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise DataError(f"{where(path, line, 'aliases')}: a list of non-empty strings.")
    if aliases and answer in (None, _NO_GOLD):
        raise DataError(f"{where(path, line, 'aliases')}: aliases need an answer to be aliases of.")


def _jsonl(path: Path, ignored: set) -> list[UserQuestion]:
    out = []
    for line, obj in read_jsonl(path, _MISSING):
        ignored.update(set(obj) - _FIELDS)
        answer = obj.get("answer", _NO_GOLD)
        aliases = obj.get("aliases", [])
        _check(path, line, obj.get("question"), answer, aliases)
        out.append(_make(obj.get("id"), obj["question"], answer, aliases, line))
    return out


def _csv(path: Path, ignored: set) -> list[UserQuestion]:
    head_line, header, rows = read_csv(path, _MISSING, short_ok=True)
    if header and "question" not in header:
        raise DataError(f"{where(path, head_line)}: the header needs a 'question' column (optional: answer, aliases).")
    ignored.update(h or "(unnamed column)" for h in set(header) - _FIELDS)  # a trailing comma: an unnamed one
    out = []
    for line, row in rows:
        cell = row.get("answer", "")
        answer = None if cell == UNANSWERABLE else (cell or _NO_GOLD)
        aliases = [a.strip() for a in row.get("aliases", "").split("|") if a.strip()]
        _check(path, line, row["question"], answer, aliases)
        out.append(_make(row.get("id") or None, row["question"], answer, aliases, line))
    return out


def _make(qid, question, answer, aliases, line) -> UserQuestion:
    scored = answer is not _NO_GOLD
    return UserQuestion(str(qid or f"q{line:04d}"), question.strip(), None if not scored else answer,
                        tuple(aliases), scored, line)  # fmt: skip


def load_questions(path: str | Path) -> list[UserQuestion]:
    """Read a ``.jsonl`` or ``.csv`` questions file; every line is checked before anything is returned.

    Introduced in 06_your_own_documents.ipynb.
    """
    path = Path(path)
    if path.suffix.lower() not in (".jsonl", ".csv"):
        raise DataError(f"{path}: questions come as .jsonl or .csv (see labkit/user_qa.py for the fields).")
    ignored = set()
    out = (_jsonl if path.suffix.lower() == ".jsonl" else _csv)(path, ignored)
    if not out:
        raise DataError(f"{path}: no questions in the file; add one per line.")
    check_unique(path, [(q.line, q.id) for q in out])
    if ignored:  # once per file, after every line passed: a notice, not one per line
        warnings.warn(IgnoredFieldsWarning(path, sorted(ignored)), stacklevel=2)
    return out


def as_qa_records(questions: list[UserQuestion]) -> list[QARecord]:
    """The scored questions as ``QARecord``s for ``lk.run_approach`` (phrasing ``"question"``: the user's own
    wording is the only one). Unscored questions are left out.

    Introduced in 06_your_own_documents.ipynb.
    """
    out = []
    for q in questions:
        if not q.scored:
            continue
        ok = q.answer is not None
        out.append(QARecord(
            id=q.id, question=q.question, answer=q.answer, aliases=q.aliases, doc_ids=(),
            paraphrases_train=(), paraphrases_heldout=(q.question,), answerable=ok, category="user",
            changed_in_v2=False, answer_v2=q.answer, aliases_v2=q.aliases, doc_ids_v2=(), answerable_v2=ok,
            styled_answer=None, styled_answer_v2=None,
        ))  # fmt: skip
    return out
