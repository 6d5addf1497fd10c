"""Your own documents: every supported format gives text, every bad file gets one clear reason, and the
folder is never modified."""

import hashlib
from pathlib import Path

import pytest

import labkit as lk

HTML = """<html><head><title>Ferry timetable</title><style>p {color: red}</style>
<script>alert("x")</script></head><body><h1>Timetable</h1><p>The first ferry leaves at 06:40.</p>
<nav>Home</nav><p>Bicycles travel free.</p></body></html>"""


def checksums(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def make_pdf(path: Path, text: str, title: str | None = None) -> None:
    """A one-page PDF with ``text`` in its text layer, written with pypdf (no other tool needed)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})  # fmt: skip
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    if title:
        writer.add_metadata({"/Title": title})
    with path.open("wb") as f:
        writer.write(f)


@pytest.fixture()
def folder(tmp_path):
    root = tmp_path / "docs"
    (root / "guides").mkdir(parents=True)
    (root / "guides" / "Getting Started.md").write_text(
        "---\ntitle: Start here\n---\n# Ignored\nInstall it with pip.\n"
    )
    (root / "notes.txt").write_text("Plain notes: the office closes at 17:00.\n")
    (root / "readme.md").write_text("# Read me\n\nNo front matter here.\n")
    (root / "ferry.html").write_text(HTML)
    make_pdf(root / "manual.pdf", "The warranty lasts 18 months.", title="Manual")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (root / "latin1.txt").write_bytes("Caf\xe9 opens at nine.".encode("latin-1"))
    (root / "empty.md").write_text("   \n")
    (root / ".hidden.md").write_text("# hidden\nnot read")
    return root


def test_every_format_gives_text_and_skips_are_explained(folder):
    before = checksums(folder)
    got = lk.load_folder(folder)
    docs = {d.id: d for d in got.docs}
    assert set(docs) == {"guides-getting-started", "notes", "readme", "ferry", "manual"}
    assert docs["guides-getting-started"].title == "Start here"  # front matter wins over the heading
    assert docs["readme"].title == "Read me" and docs["notes"].title == "Notes"
    assert docs["ferry"].title == "Ferry timetable" and "06:40" in docs["ferry"].text
    assert "alert" not in docs["ferry"].text and "color" not in docs["ferry"].text  # scripts and styles dropped
    assert docs["manual"].title == "Manual" and "18 months" in docs["manual"].text
    reasons = {s.path: s.reason for s in got.skipped}
    assert set(reasons) == {"logo.png", "latin1.txt", "empty.md"}
    assert "unsupported file type .png" in reasons["logo.png"]
    assert "not UTF-8" in reasons["latin1.txt"] and "byte 3" in reasons["latin1.txt"]
    assert reasons["empty.md"].startswith("empty")
    assert checksums(folder) == before  # nothing in the user's folder changed


def test_documents_chunk_like_the_workbook_corpus(folder):
    chunks = lk.chunk_corpus(lk.load_folder(folder).docs, lk.CHUNKS)
    assert {c.doc_id for c in chunks} >= {"notes", "manual", "ferry"}


@pytest.mark.parametrize(
    "setup, words",
    [
        (lambda root: None, "no such folder"),
        (lambda root: root.mkdir(), "folder is empty"),
        (lambda root: (root.mkdir(), (root / "a.bin").write_bytes(b"\0\1")), "none of its 1 files gave text"),
        (lambda root: root.write_text("x"), "is a file"),
    ],
)
def test_bad_folders_get_one_clear_message(tmp_path, setup, words):
    root = tmp_path / "docs"
    setup(root)
    with pytest.raises(lk.IngestError, match=words):
        lk.load_folder(root)


def test_an_unreadable_file_is_skipped_with_its_reason(folder, monkeypatch):
    real_open = Path.open

    def deny(self, *a, **kw):  # as root every file is readable: refuse this one as the OS would
        if self.name == "notes.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *a, **kw)

    monkeypatch.setattr(Path, "open", deny)
    got = lk.load_folder(folder)
    assert {s.path: s.reason for s in got.skipped}["notes.txt"].startswith("unreadable: permission denied")


def test_same_stem_files_keep_distinct_ids(tmp_path):
    (tmp_path / "a.md").write_text("# A\nmarkdown")
    (tmp_path / "a.txt").write_text("text")
    ids = [d.id for d in lk.load_folder(tmp_path).docs]
    assert len(set(ids)) == 2 and "a" in ids


@pytest.mark.parametrize(
    "names, ids",
    [
        (["a.md", "a.txt", "a-txt.md"], ["a-txt", "a", "a-txt-2"]),  # a-txt.md holds a-txt before a.txt asks
        (["a.md", "a.txt", "a-txt.md", "a-txt-2.md"], ["a-txt-2", "a-txt", "a", "a-txt-3"]),
    ],
)
def test_a_renamed_id_is_renamed_until_no_file_has_it(tmp_path, names, ids):
    for name in names:
        (tmp_path / name).write_text(f"The text of {name}.")
    docs = lk.load_folder(tmp_path).docs
    assert [Path(d.path).name for d in docs] == sorted(names) and [d.id for d in docs] == ids
    assert {c.doc_id for c in lk.chunk_corpus(docs, lk.CHUNKS)} == set(ids)  # the chunker refuses equal ids


def test_large_text_is_decoded_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr("labkit.files._READ_BLOCK", 7)  # a multi-byte character split between blocks
    (tmp_path / "u.txt").write_text("é" * 50 + " done", encoding="utf-8")
    assert lk.load_folder(tmp_path).docs[0].text == "é" * 50 + " done"
