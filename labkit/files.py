"""Reading the files a user gives (text, JSON lines, CSV, front matter), every error located: it names the file,
the line and the field, and says what to do. Standard library only (``data/make_kb.py`` loads it without torch).

* ``read_user_text``: UTF-8, a block at a time; ``read_jsonl`` / ``read_csv``: numbered rows; ``check_unique``.
* ``front_matter``: an optional ``---`` block of ``key: value`` lines, each with its line number.
* ``LabkitInputError``: the base of every input error (``DataError``, ``IngestError``, ``PriceSheetError``).

Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import codecs
import csv
import json
from dataclasses import dataclass
from pathlib import Path

_READ_BLOCK = 1 << 20  # text files are decoded 1 MiB at a time

__all__ = [
    "LabkitInputError",
    "DataError",
    "where",
    "read_user_text",
    "read_jsonl",
    "read_csv",
    "check_unique",
    "FrontMatter",
    "front_matter",
]


class LabkitInputError(ValueError):
    """Something the user gave (a file, a folder, an option) cannot be used; the message names it and says what
    to do. The base of ``DataError``, ``IngestError`` and ``PriceSheetError``: ``labkit compare`` turns any of
    them into one line and exit status 2. A ``ValueError``, so ``except ValueError`` still catches them.

    Introduced in 06_your_own_documents.ipynb.
    """


class DataError(LabkitInputError):
    """A malformed data file: the message names the file, line and field, and what to do.

    Introduced in 00_setup_and_tour.ipynb.
    """


def where(path, line: int | None = None, field: str | None = None) -> str:
    """The start of an input error message: the file, then its line and field when known.

    >>> where("q.csv", 3, "answer")
    "q.csv line 3, field 'answer'"

    Introduced in 00_setup_and_tour.ipynb.
    """
    return f"{path}" + (f" line {line}" if line is not None else "") + (f", field {field!r}" if field else "")


def read_user_text(path: Path, missing: str = "no such file.", error: type[ValueError] = DataError) -> str:
    """A file the user gave, as UTF-8 text (a BOM is dropped), decoded 1 MiB at a time so a large file never
    needs two copies. A missing or non-UTF-8 file raises ``error`` naming the file (and the byte); ``missing``
    says what to do when it does not exist. Introduced in 05_cost_and_scale.ipynb.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    parts, offset = [], 0
    try:
        with Path(path).open("rb") as f:
            while block := f.read(_READ_BLOCK):
                parts.append(decoder.decode(block))
                offset += len(block)
            parts.append(decoder.decode(b"", final=True))
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except UnicodeDecodeError as e:
        byte = offset + e.start
        raise error(f"{path}: not UTF-8 text ({e.reason} at byte {byte}); save it as UTF-8.") from None
    return "".join(parts)


def read_jsonl(path: Path, missing: str, error: type[ValueError] = DataError) -> list[tuple[int, dict]]:
    """Every non-blank line of a JSON-lines file as ``(line number, object)``; a line that is not one JSON
    object raises ``error`` naming the file and line. Introduced in 00_setup_and_tour.ipynb.
    """
    out = []
    for line, raw in enumerate(read_user_text(path, missing, error).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise error(
                f"{where(path, line)}: not valid JSON ({e.msg} at column {e.colno}); fix or remove it."
            ) from None
        if not isinstance(obj, dict):
            raise error(f"{where(path, line)}: each line must be one JSON object {{...}}, got {type(obj).__name__}.")
        out.append((line, obj))
    return out


def read_csv(
    path: Path, missing: str, error: type[ValueError] = DataError, comment: str | None = None, short_ok: bool = False
) -> tuple[int, list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV file with a header: ``(header line, header names, [(line number, {name: cell})])``, names and cells
    stripped, blank lines (and lines starting with ``comment``) skipped, each row numbered by the line it
    starts on. A row with more cells than the header (or fewer, unless ``short_ok``: missing cells are "")
    raises ``error`` naming its line. An empty file gives ``(0, [], [])``. Introduced in 05_cost_and_scale.ipynb.
    """
    lines = read_user_text(path, missing, error).splitlines(keepends=True)  # a quoted cell may hold a newline
    lines = ["\n" if comment and s.lstrip().startswith(comment) else s for s in lines]  # keeps the numbering
    reader, header, head_line, rows, start = csv.reader(lines), [], 0, [], 1
    for cells in reader:
        line, start = start, reader.line_num + 1  # the line this record starts on; the next one's
        if len(cells) <= 1 and not "".join(cells).strip():
            continue
        cells = [c.strip() for c in cells]
        if not header:
            head_line, header = line, cells
        elif len(cells) > len(header) or (len(cells) < len(header) and not short_ok):
            raise error(
                f"{where(path, line)}: {len(cells)} columns, the header has {len(header)} ({','.join(header)}); "
                "quote a cell that contains commas."
            )
        else:
            rows.append((line, dict(zip(header, cells + [""] * (len(header) - len(cells))))))
    return head_line, header, rows


def check_unique(path, values: list[tuple[int, str]], field: str = "id", error: type[ValueError] = DataError) -> None:
    """Each ``(line, value)``'s value at most once; a repeat raises ``error`` naming its line and the first's.

    Introduced in 00_setup_and_tour.ipynb.
    """
    first: dict[str, int] = {}
    for line, value in values:
        if value in first:
            raise error(
                f"{where(path, line, field)}: {value!r} is already used on line {first[value]}; "
                f"each {field} must be unique, change one."
            )
        first[value] = line


FRONT_MATTER_LINES = 60  # a '---' further down closes no front matter (it is a horizontal rule, say)


@dataclass(frozen=True)
class FrontMatter:
    """What ``front_matter`` found at the top of a text.

    Introduced in 00_setup_and_tour.ipynb.
    """

    found: str  # "yes"; "no": the text does not start with '---'; "open": no closing '---' follows soon
    fields: dict[str, tuple[int, str]]  # key as written -> (line number, value), both stripped
    loose: list[tuple[int, str]]  # (line number, text) of block lines that are not 'key: value'
    body: str  # the text after the closing '---' (the whole text when found is not "yes")
    body_line: int  # the line number of the body's first line


def front_matter(text: str) -> FrontMatter:
    """An optional ``---`` block of ``key: value`` lines at the top of ``text``, closed by ``---`` within
    ``FRONT_MATTER_LINES`` lines; every key and line kept, so a caller can name the line of a bad one.

    >>> fm = front_matter("---\\ntitle: Start\\n---\\nBody")
    >>> fm.fields, fm.body, fm.body_line
    ({'title': (2, 'Start')}, 'Body', 4)

    Introduced in 00_setup_and_tour.ipynb.
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return FrontMatter("no", {}, [], text, 1)
    close = next((i for i in range(1, min(len(lines), FRONT_MATTER_LINES)) if lines[i].strip() == "---"), None)
    if close is None:
        return FrontMatter("open", {}, [], text, 1)
    fields, loose = {}, []
    for lineno, line in enumerate(lines[1:close], start=2):
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = (lineno, value.strip())
        else:
            loose.append((lineno, line.strip()))
    return FrontMatter("yes", fields, loose, "\n".join(lines[close + 1 :]), close + 2)
