"""The workbook's knowledge base (a fictional company's documentation) and its QA set.

``lk.load_kb("v1")`` returns the documents, ``lk.load_qa()`` the questions; both validate every record
and name the file, line and field of anything malformed. ``lk.check_house_style`` is the checker for
the house answer style that the behaviour fine-tune teaches.

Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .files import DataError, check_unique, front_matter, read_jsonl, read_user_text, where

__all__ = [
    "PHRASINGS",
    "TRAIN_WORDINGS",
    "EVAL_WORDING",
    "wordings",
    "CLOSED_BOOK_SYSTEM",
    "ABSTENTION",
    "WORKBOOK_CORPUS",
    "abstention_sentence",
    "Document",
    "QARecord",
    "StyleCheck",
    "check_house_style",
    "house_style",
    "doc_tags",
    "load_kb",
    "load_qa",
]

REPO_ROOT = Path(__file__).resolve().parent.parent  # here, not from env: this module needs no torch

DOC_TYPES = {"product", "policy", "pricing", "release-notes", "faq", "howto", "company", "glossary"}
KB_VERSIONS = ("v1", "v2")
WORKBOOK_CORPUS = "Tessavik"  # the fictional company's name as the workbook's trained answers say it

# Wordings of each question (``lk.split_qa``'s protocol, notebook 00): the canonical one and two training
# paraphrases are what a fine-tune may learn from; the two held-out paraphrases are what every approach is
# scored on. Here, beside the records, so the training code depends on them without the evaluation harness.
PHRASINGS = ("question", "train", "heldout")
TRAIN_WORDINGS = ("question", "train")  # what a fine-tune may train on
EVAL_WORDING = "heldout"  # what every approach is scored on

# The closed-book prompt: the base model and the closed-book fine-tune use exactly this one, so they differ
# only in their weights. Short on purpose (11 tokens): the fine-tune trains on it in every example. It
# allows declining, as RAG's prompt does, so abstention rates compare like for like.
CLOSED_BOOK_SYSTEM = "Answer briefly, or say: I don't know."


def abstention_sentence(corpus: str) -> str:
    """The house answer when a corpus's documents are silent; the corpus's name is a parameter.

    >>> abstention_sentence("Acme")
    "I don't know based on the Acme documentation."

    Introduced in 06_your_own_documents.ipynb (the workbook's own sentence: ``ABSTENTION``).
    """
    if not isinstance(corpus, str) or not corpus.strip():
        raise ValueError(f"abstention_sentence: the corpus name must be a non-empty string, got {corpus!r}")
    return f"I don't know based on the {corpus.strip()} documentation."


ABSTENTION = abstention_sentence(WORKBOOK_CORPUS)  # the workbook's house answer when its docs are silent


def data_dir() -> Path:
    """``$LABKIT_DATA`` or the repository's ``data/`` folder. Introduced in 00_setup_and_tour.ipynb."""
    return Path(os.environ.get("LABKIT_DATA", REPO_ROOT / "data"))


@dataclass(frozen=True)
class Document:
    """One documentation page: ``id`` is its file name without ``.md``.

    Introduced in 00_setup_and_tour.ipynb.
    """

    id: str
    title: str
    type: str
    text: str  # the markdown body, front matter removed
    path: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return f"Document({self.id!r}, {self.type}, {len(self.text.split())} words)"


def parse_document(path: Path) -> Document:
    """Read one ``.md`` file with an ``id/title/type`` front matter block.

    Introduced in 00_setup_and_tour.ipynb.
    """
    fm = front_matter(read_user_text(path))
    if fm.found == "no":
        raise DataError(
            f"{where(path, 1)}: missing front matter: the file must start with a '---' line, then "
            f"'id:', 'title:', 'type:' lines and a closing '---'."
        )
    if fm.found == "open":
        raise DataError(f"{where(path, 1)}: front matter is not closed: add a '---' line after 'type:'.")
    bad = fm.loose[:1] + [(line, key) for key, (line, _) in fm.fields.items() if key not in ("id", "title", "type")]
    for lineno, key in sorted(bad)[:1]:
        raise DataError(
            f"{where(path, lineno, key)}: front matter allows only 'id: ...', 'title: ...', 'type: ...' lines."
        )
    meta = {key: value for key, (_, value) in fm.fields.items()}
    for key in ("id", "title", "type"):
        if not meta.get(key):
            raise DataError(f"{where(path, fm.body_line - 1, key)}: missing or empty in the front matter; add it.")
    if meta["id"] != path.stem:
        raise DataError(
            f"{where(path, fm.fields['id'][0], 'id')}: is {meta['id']!r} but the file is named {path.name!r}: "
            "rename one so they match."
        )
    if meta["type"] not in DOC_TYPES:
        raise DataError(
            f"{where(path, fm.fields['type'][0], 'type')}: is {meta['type']!r}; use one of {sorted(DOC_TYPES)}."
        )
    body = fm.body.strip()
    if not body:
        raise DataError(f"{where(path, fm.body_line)}: the document has no text after its front matter; add some.")
    return Document(id=meta["id"], title=meta["title"], type=meta["type"], text=body, path=str(path))


def load_kb(version: str = "v1", root: Path | str | None = None) -> list[Document]:
    """All documents of one knowledge-base version, sorted by id.

    >>> docs = load_kb("v1")
    >>> docs[0].id < docs[1].id
    True

    Introduced in 00_setup_and_tour.ipynb.
    """
    if version not in KB_VERSIONS:
        raise ValueError(f"version must be one of {KB_VERSIONS}, got {version!r}")
    folder = Path(root) if root is not None else data_dir() / "kb" / version
    files = sorted(folder.glob("*.md"))
    if not files:
        raise DataError(f"{folder}: no .md documents found; run `python data/make_kb.py` to build them.")
    return [parse_document(f) for f in files]


@dataclass(frozen=True)
class QARecord:
    """One question with its gold answers for both knowledge-base versions (schema: data/README.md).

    Introduced in 00_setup_and_tour.ipynb.
    """

    id: str
    question: str
    answer: str | None  # short gold answer in v1; None when the v1 corpus cannot answer it
    aliases: tuple[str, ...]
    doc_ids: tuple[str, ...]
    paraphrases_train: tuple[str, ...]  # other phrasings a fine-tune may see
    paraphrases_heldout: tuple[str, ...]  # phrasings no training ever sees
    answerable: bool
    category: str
    changed_in_v2: bool
    answer_v2: str | None
    aliases_v2: tuple[str, ...]
    doc_ids_v2: tuple[str, ...]
    answerable_v2: bool
    styled_answer: str  # the v1 answer in house style (or the abstention sentence)
    styled_answer_v2: str | None

    def gold(self, version: str = "v1") -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
        """(answer, aliases, doc_ids) under a knowledge-base version."""
        if version == "v2":
            return self.answer_v2, self.aliases_v2, self.doc_ids_v2
        return self.answer, self.aliases, self.doc_ids

    def is_answerable(self, version: str = "v1") -> bool:
        return self.answerable_v2 if version == "v2" else self.answerable

    def house_answer(self, version: str = "v1") -> str:
        """The house-style answer under ``version``: one sentence + ``[doc-id]``, or the abstention."""
        if not self.is_answerable(version):
            return ABSTENTION
        styled = self.styled_answer_v2 if version == "v2" else self.styled_answer
        if not styled:
            raise DataError(
                f"QA record {self.id!r}: field 'styled_answer{'_v2' if version == 'v2' else ''}' "
                f"is empty although the question is answerable in {version}."
            )
        return styled


_STR, _BOOL, _LIST = "a string", "true or false", "a list of strings"
_SCHEMA = {  # field -> (kind, may be null), in the order data/make_kb.py writes them
    "id": (_STR, False),
    "question": (_STR, False),
    "answer": (_STR, True),
    "aliases": (_LIST, False),
    "doc_ids": (_LIST, False),
    "paraphrases_train": (_LIST, False),
    "paraphrases_heldout": (_LIST, False),
    "answerable": (_BOOL, False),
    "category": (_STR, False),
    "changed_in_v2": (_BOOL, False),
    "answer_v2": (_STR, True),
    "aliases_v2": (_LIST, False),
    "doc_ids_v2": (_LIST, False),
    "answerable_v2": (_BOOL, False),
    "styled_answer": (_STR, False),
    "styled_answer_v2": (_STR, True),
}
QA_FIELDS = tuple(_SCHEMA)  # a QA record's fields, in file order


def _check_field(obj: dict, key: str, path, line: int | None) -> None:
    kind, nullable = _SCHEMA[key]
    if key not in obj:
        raise DataError(f"{where(path, line, key)}: missing; every record needs {sorted(_SCHEMA)}.")
    value = obj[key]
    if value is None and nullable:
        return
    ok = {
        _STR: lambda v: isinstance(v, str) and v.strip() != "",
        _BOOL: lambda v: isinstance(v, bool),
        _LIST: lambda v: isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v),
    }[kind]
    if not ok(value):
        raise DataError(f"{where(path, line, key)}: must be {kind}{' or null' if nullable else ''}, got {value!r}.")


def parse_qa_record(obj: dict, path, line: int | None = None) -> QARecord:
    """Validate one record (a JSON line's object) of the QA set; errors name ``path``, ``line`` and the field.

    Introduced in 00_setup_and_tour.ipynb.
    """
    unknown = set(obj) - set(_SCHEMA)
    if unknown:
        raise DataError(f"{where(path, line)}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_SCHEMA)}.")
    for key in _SCHEMA:
        _check_field(obj, key, path, line)
    for flag, ans, docs in (("answerable", "answer", "doc_ids"), ("answerable_v2", "answer_v2", "doc_ids_v2")):
        if obj[flag] and (obj[ans] is None or not obj[docs]):
            raise DataError(
                f"{where(path, line, ans)}: a record with {flag}=true needs an answer and at least one id in {docs!r}."
            )
        if not obj[flag] and obj[ans] is not None:
            raise DataError(f"{where(path, line, ans)}: must be null when {flag} is false.")
    for key in ("paraphrases_train", "paraphrases_heldout"):
        if not obj[key]:
            raise DataError(f"{where(path, line, key)}: needs at least one phrasing.")
    return QARecord(**{k: tuple(v) if isinstance(v, list) else v for k, v in obj.items()})


def load_qa(path: Path | str | None = None) -> list[QARecord]:
    """The QA set, every line validated; ids must be unique.

    >>> qa = load_qa()
    >>> sum(q.answerable for q in qa) >= 150
    True

    Introduced in 00_setup_and_tour.ipynb.
    """
    path = Path(path) if path is not None else data_dir() / "qa.jsonl"
    rows = read_jsonl(path, "QA file not found; run `python data/make_kb.py` to build it.")
    records = [parse_qa_record(obj, path, line) for line, obj in rows]
    check_unique(path, [(line, rec.id) for (line, _), rec in zip(rows, records)])
    if not records:
        raise DataError(f"{path}: the QA file has no records; run `python data/make_kb.py` to build it.")
    return records


# --- house style --------------------------------------------------------------------------------
DOC_ID = r"[a-z0-9][a-z0-9-]*"  # a document id: lower-case letters, digits, hyphens
_DOC_TAGS = re.compile(rf"\[({DOC_ID})\]")  # [doc-id] source tags anywhere in a text
_TAG = re.compile(rf"\s\[({DOC_ID})\]\.$")  # ' [doc-id].' at the very end: the house style's tag
_SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-Z]")  # a full stop followed by a new sentence


def doc_tags(text: str) -> list[str]:
    """The document ids an answer cites as ``[doc-id]`` tags, in order (passage numbers like [2] excluded).

    >>> doc_tags("23 days [refund-policy], see [2] and [faq-billing].")
    ['refund-policy', 'faq-billing']

    Introduced in 00_setup_and_tour.ipynb.
    """
    return [t for t in _DOC_TAGS.findall(text) if not t.isdigit()]


def house_style(answer: str, doc_id: str) -> str:
    """``answer`` in the house style, by template: its text without source tags, then `` [doc_id].``.

    >>> house_style("14 days [2]", "refund-policy")
    '14 days [refund-policy].'

    Introduced in 01_rag.ipynb.
    """
    body = " ".join(_DOC_TAGS.sub(" ", answer).split()).rstrip(" .;,:")  # [2] and [doc-id] alike
    return f"{body} [{doc_id}]."


@dataclass
class StyleCheck:
    """Whether one answer follows the house style (``check_house_style``): ``ok``, the reason when not, its tag.

    Introduced in 00_setup_and_tour.ipynb.
    """

    ok: bool
    reason: str  # empty when ok
    tag: str | None = None  # the doc id in the source tag

    def __bool__(self) -> bool:
        return self.ok


def check_house_style(text: str, doc_ids: set[str] | None = None) -> StyleCheck:
    """Is ``text`` in house style: one sentence ending with a ``[doc-id].`` tag, or the abstention?

    >>> check_house_style("Refunds are possible for 23 days [refund-policy].").ok
    True
    >>> check_house_style("Refunds are possible for 23 days.").reason
    'no source tag: end with " [doc-id]."'

    With ``doc_ids``, the tag must name a real document.

    Introduced in 00_setup_and_tour.ipynb.
    """
    text = text.strip()
    if text == ABSTENTION:
        return StyleCheck(True, "")
    m = _TAG.search(text)
    if not m:
        return StyleCheck(False, 'no source tag: end with " [doc-id]."')
    body = text[: m.start()]
    if not body or "\n" in body or _SENTENCE_BREAK.search(body):
        return StyleCheck(False, "more than one sentence", m.group(1))
    if doc_ids is not None and m.group(1) not in doc_ids:
        return StyleCheck(False, f"source tag names unknown document {m.group(1)!r}", m.group(1))
    return StyleCheck(True, "", m.group(1))


def wordings(q: QARecord, phrasing: str) -> list[str]:
    """The texts of one wording kind: ``question`` (canonical), ``train`` or ``heldout`` paraphrases.

    >>> wordings(load_qa()[0], "question")                        # doctest: +SKIP
    ['In what year was Tessavik Instruments founded?']

    Introduced in 00_setup_and_tour.ipynb.
    """
    if phrasing not in PHRASINGS:
        raise ValueError(f"phrasing must be one of {PHRASINGS}, got {phrasing!r}")
    return {"question": [q.question], "train": list(q.paraphrases_train), "heldout": list(q.paraphrases_heldout)}[
        phrasing
    ]
