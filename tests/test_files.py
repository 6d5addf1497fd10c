"""The shared readers of the user's files: every row numbered by its own line, every error located."""

import pytest

import labkit as lk


def test_csv_rows_are_numbered_by_the_line_they_start_on(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('# a comment\nquestion,answer\n\n"two\nlines?",a\nshort?\n', encoding="utf-8")
    head_line, header, rows = lk.files.read_csv(path, "no file.", comment="#", short_ok=True)
    assert (head_line, header) == (2, ["question", "answer"])
    assert rows == [(4, {"question": "two\nlines?", "answer": "a"}), (6, {"question": "short?", "answer": ""})]
    with pytest.raises(lk.DataError, match=r"q\.csv line 6: 1 columns, the header has 2"):
        lk.files.read_csv(path, "no file.", comment="#")  # a short row is an error unless short_ok
    with pytest.raises(lk.DataError, match=r"q\.csv line 2: 2 columns, the header has 1"):
        lk.files.read_csv(path, "no file.")  # without comment="#" the comment line is the header


def test_jsonl_lines_and_repeated_ids_name_the_file_line_and_field(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a"}\n\n{"id": "a"}\n', encoding="utf-8")
    rows = lk.files.read_jsonl(path, "no file.")
    assert rows == [(1, {"id": "a"}), (3, {"id": "a"})]
    with pytest.raises(lk.DataError, match=r"q\.jsonl line 3, field 'id': 'a' is already used on line 1; each id"):
        lk.files.check_unique(path, [(line, obj["id"]) for line, obj in rows])
    with pytest.raises(lk.DataError, match=r"none\.jsonl: no file\."):
        lk.files.read_jsonl(tmp_path / "none.jsonl", "no file.")


def test_a_bad_byte_past_the_first_block_is_named_by_its_place_in_the_file(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * (1 << 20) + b"ok \xff")
    with pytest.raises(ValueError, match=rf"not UTF-8 text \(invalid start byte at byte {(1 << 20) + 3}\)"):
        lk.files.read_user_text(path, "no file.", ValueError)
    path.write_bytes("\ufeffé".encode())
    assert lk.files.read_user_text(path) == "é"  # the BOM is dropped


@pytest.mark.parametrize(
    "text, found, fields, body",
    [
        ("# Title\n", "no", {}, "# Title\n"),
        ("---\ntitle: x\n", "open", {}, "---\ntitle: x\n"),  # no closing line: a horizontal rule, kept as text
        ("---\nTitle: A: B\nloose\n---\nbody", "yes", {"Title": (2, "A: B")}, "body"),
    ],
)
def test_front_matter(text, found, fields, body):
    fm = lk.files.front_matter(text)
    assert (fm.found, fm.fields, fm.body) == (found, fields, body)
    assert fm.loose == ([(3, "loose")] if found == "yes" else [])
