"""Your own documents: a folder of ``.md``, ``.txt``, ``.html`` and ``.pdf`` files -> ``Document``s, plus a list
of every file that was skipped and why.

Text comes through maintained parsers (selectolax for HTML, pypdf for PDF); front matter is optional; ids
come from relative paths, titles from the first heading (or the HTML title, the PDF's metadata, the file
name). Files are only read: nothing in the folder is written, moved or renamed.

>>> folder = load_folder("my-docs")                          # doctest: +SKIP
>>> folder.docs[0], folder.skipped[:1]                       # doctest: +SKIP

Introduced in 06_your_own_documents.ipynb.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .data import Document
from .files import LabkitInputError, front_matter, read_user_text

__all__ = ["IngestError", "Skipped", "Folder", "SUPPORTED", "MAX_FILE_MB", "load_folder", "doc_id_for"]

SUPPORTED = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html", ".pdf": "pdf"}
MAX_FILE_MB = 50  # larger files are skipped with a reason: split them first


class IngestError(LabkitInputError):
    """The folder cannot give any documents; the message says why and what to do.

    Introduced in 06_your_own_documents.ipynb.
    """


@dataclass(frozen=True)
class Skipped:
    """A file that gave no document: its path relative to the folder, and why.

    Introduced in 06_your_own_documents.ipynb.
    """

    path: str
    reason: str


@dataclass
class Folder:
    """What ``load_folder`` found: the documents, and the files skipped with their reasons.

    Introduced in 06_your_own_documents.ipynb.
    """

    root: Path
    docs: list[Document]
    skipped: list[Skipped] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Folder({str(self.root)!r}: {len(self.docs)} documents, {len(self.skipped)} skipped)"


def doc_id_for(relative: str) -> str:
    """A stable id from a relative path: lower case, one dash between words, no suffix.

    >>> doc_id_for("Guides/Getting Started.md")
    'guides-getting-started'

    Introduced in 06_your_own_documents.ipynb.
    """
    stem = relative.rsplit(".", 1)[0] if "." in Path(relative).name else relative
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "document"


def _read_text(path: Path) -> str:
    return read_user_text(path, "no such file.", IngestError)


def _first_heading(text: str) -> str | None:
    m = re.search(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return m.group(1).strip() if m else None


def _markdown(path: Path) -> tuple[str, str | None]:
    fm = front_matter(_read_text(path))  # optional here: any keys, only the title is read
    title = next((value for key, (_, value) in fm.fields.items() if key.lower() == "title"), None)
    return fm.body.strip(), title or _first_heading(fm.body)


def _html(path: Path) -> tuple[str, str | None]:
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(_read_text(path))
    title = tree.css_first("title")
    h1 = tree.css_first("h1")
    tree.strip_tags(["script", "style", "noscript", "template", "svg"])
    root = tree.body or tree.root
    text = root.text(separator="\n") if root is not None else ""
    text = re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()
    name = (title.text(strip=True) if title else "") or (h1.text(strip=True) if h1 else "")
    return text, name or None


def _pdf(path: Path) -> tuple[str, str | None]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        raise ValueError("encrypted PDF: save an unencrypted copy")
    text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()
    meta = reader.metadata
    return text, (meta.title if meta and meta.title else None)


_READERS = {"markdown": _markdown, "text": lambda p: (_read_text(p).strip(), None), "html": _html, "pdf": _pdf}


def _pretty(name: str) -> str:
    return re.sub(r"[_\-]+", " ", name).strip().capitalize() or name


def _load_one(path: Path, rel: str) -> tuple[Document | None, str | None]:
    """(document, None) or (None, why it was skipped)."""
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        return None, f"unsupported file type {path.suffix or '(no suffix)'}; supported: {', '.join(sorted(SUPPORTED))}"
    size_mb = path.stat().st_size / 2**20
    if size_mb > MAX_FILE_MB:
        return None, f"too large ({size_mb:.0f} MB > {MAX_FILE_MB} MB): split it into smaller files"
    try:
        text, title = _READERS[kind](path)
    except PermissionError:
        return None, "unreadable: permission denied (check the file's permissions)"
    except IngestError as e:  # not UTF-8: read_user_text's message, less the path the skip list shows anyway
        return None, str(e).removeprefix(f"{path}: ").rstrip(".")
    except OSError as e:
        return None, f"unreadable: {e.strerror or e}"
    except Exception as e:  # a parser's own error on a damaged file (pypdf raises several kinds)
        return None, f"could not parse the {kind} file: {type(e).__name__}: {str(e)[:120]}"
    if not text:
        why = "no text layer (a scan? run OCR first)" if kind == "pdf" else "no text"
        return None, f"empty: {why}"
    return Document(doc_id_for(rel), title or _pretty(path.stem), kind, text, path=str(path)), None


def _unique_id(doc_id: str, rel: str, seen: dict) -> str:
    """``doc_id``, or when an earlier file took it, the id with the file's suffix (``a.md``, ``a.txt``: ``a``,
    ``a-txt``), then with a number until no file has it. Every candidate is checked against every id given
    so far: ``a-txt.md`` already holds ``a-txt``, and two equal ids would stop the chunker after training."""
    if doc_id not in seen:
        return doc_id
    base = doc_id_for(rel.replace(".", "-"))
    candidate, n = base, 2
    while candidate in seen:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def load_folder(root: str | Path) -> Folder:
    """Every supported file under ``root`` (sub-folders included, hidden ones not) as a ``Document``.

    Raises ``IngestError`` when the folder is missing, empty, or gives no text at all; otherwise returns the
    documents and, in ``skipped``, every other file with its reason. Ids are unique: a file whose id an
    earlier one took keeps its suffix in the id (``a.md`` and ``a.txt``), and a number after it if that is
    taken too.

    Introduced in 06_your_own_documents.ipynb.
    """
    root = Path(root)
    if not root.exists():
        raise IngestError(f"{root}: no such folder. Give the folder that holds your documents.")
    if not root.is_dir():
        raise IngestError(f"{root} is a file: give the folder that holds it.")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise IngestError(
            f"{root}: the folder is empty (hidden files are ignored). Put .md, .txt, .html or .pdf files in it."
        )
    docs, skipped, seen = [], [], {}
    for path in files:
        rel = path.relative_to(root).as_posix()
        doc, why = _load_one(path, rel)
        if doc is None:
            skipped.append(Skipped(rel, why))
            continue
        doc_id = _unique_id(doc.id, rel, seen)
        if doc_id != doc.id:
            doc = Document(doc_id, doc.title, doc.type, doc.text, doc.path)
        seen[doc.id] = rel
        docs.append(doc)
    if not docs:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5])
        raise IngestError(
            f"{root}: none of its {len(files)} files gave text ({reasons}{' ...' if len(skipped) > 5 else ''})."
        )
    return Folder(root, docs, skipped)
