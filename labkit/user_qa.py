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

import csv
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from .data import DataError, QARecord, read_user_text

__all__ = ["UserQuestion", "UNANSWERABLE", "IgnoredFieldsWarning", "load_questions", "as_qa_records"]

UNANSWERABLE = "<unanswerable>"  # the CSV cell for a question the documents cannot answer
_FIELDS = {"id", "question", "answer", "aliases"}  # what is read; any other field (source, evidence) is ignored
_NO_GOLD = object()


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
    """One question from the user's file. ``answer`` None + ``scored`` True: the right reply is to decline."""

    id: str
    question: str
    answer: str | None
    aliases: tuple[str, ...]
    scored: bool  # False: no gold answer given, asked and shown only
    line: int


def _check(path, line, question, answer, aliases) -> None:
    where = f"{path} line {line}"
    if not isinstance(question, str) or not question.strip():
        raise DataError(f"{where}, field 'question': a non-empty question is required.")
    if answer is not _NO_GOLD and answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise DataError(f"{where}, field 'answer': a non-empty string, null (unanswerable) or no key (no gold).")
    if not isinstance(aliases, (list, tuple)) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise DataError(f"{where}, field 'aliases': a list of non-empty strings.")
    if aliases and answer in (None, _NO_GOLD):
        raise DataError(f"{where}, field 'aliases': aliases need an answer to be aliases of.")


def _jsonl(path: Path, text: str, ignored: set) -> list[UserQuestion]:
    out = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise DataError(f"{path} line {line}: not valid JSON ({e.msg} at column {e.colno}).") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path} line {line}: each line must be one JSON object with a 'question' field.")
        ignored.update(set(obj) - _FIELDS)
        answer = obj.get("answer", _NO_GOLD)
        aliases = obj.get("aliases", [])
        _check(path, line, obj.get("question"), answer, aliases)
        out.append(_make(obj.get("id"), obj["question"], answer, aliases, line))
    return out


def _csv(path: Path, text: str, ignored: set) -> list[UserQuestion]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "question" not in header:
        raise DataError(f"{path} line 1: the header needs a 'question' column (optional: answer, aliases).")
    ignored.update(h or "(unnamed column)" for h in set(header) - _FIELDS)  # a trailing comma: an unnamed one
    out = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise DataError(f"{path} line {line}: more cells than header columns; quote cells that contain commas.")
        row = {k.strip(): (v or "").strip() for k, v in row.items()}
        cell = row.get("answer", "")
        answer = None if cell == UNANSWERABLE else (cell or _NO_GOLD)
        aliases = [a.strip() for a in row.get("aliases", "").split("|") if a.strip()]
        _check(path, line, row.get("question", ""), answer, aliases)
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
    text = read_user_text(path, "no such questions file.")
    ignored = set()
    out = (_jsonl if path.suffix.lower() == ".jsonl" else _csv)(path, text, ignored)
    if not out:
        raise DataError(f"{path}: no questions in the file.")
    ids = [q.id for q in out]
    dup = next((q for q in out if ids.count(q.id) > 1), None)
    if dup:
        raise DataError(f"{path} line {dup.line}, field 'id': {dup.id!r} appears twice; ids must be unique.")
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
