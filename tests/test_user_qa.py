"""Your own questions: JSONL and CSV read the same; every malformed line is named by line and field."""

import hashlib

import pytest

import labkit as lk


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


JSONL = """{"question": "When does the first ferry leave?", "answer": "06:40", "aliases": ["6:40"]}
{"question": "Who owns the ferry company?", "answer": null}

{"id": "bikes", "question": "Do bicycles cost extra?"}
"""
CSV = """question,answer,aliases
When does the first ferry leave?,06:40,6:40
Who owns the ferry company?,<unanswerable>,
Do bicycles cost extra?,,
"""


@pytest.mark.parametrize("name, text", [("q.jsonl", JSONL), ("q.csv", CSV)])
def test_jsonl_and_csv_give_the_same_questions(tmp_path, name, text):
    qs = lk.load_questions(write(tmp_path, name, text))
    assert [(q.question, q.answer, q.aliases, q.scored) for q in qs] == [
        ("When does the first ferry leave?", "06:40", ("6:40",), True),
        ("Who owns the ferry company?", None, (), True),
        ("Do bicycles cost extra?", None, (), False),
    ]
    recs = lk.as_qa_records(qs)
    assert [r.answerable for r in recs] == [True, False]  # the unscored question is not scored
    assert recs[0].paraphrases_heldout == ("When does the first ferry leave?",)


@pytest.mark.parametrize(
    "name, text, where",
    [
        ("q.jsonl", '{"question": "ok?", "answer": "a"}\n{"question": ""}\n', "line 2, field 'question'"),
        ("q.jsonl", '{"question": "ok?"}\n{"question": "x?", "answer": 3}\n', "line 2, field 'answer'"),
        ("q.jsonl", '{"question": "x?", "answer": "a", "aliases": "b"}\n', "line 1, field 'aliases'"),
        ("q.jsonl", '{"question": "x?", "aliases": ["b"]}\n', "line 1, field 'aliases'"),
        ("q.jsonl", '{"source": "x.md", "answer": "a"}\n', "line 1, field 'question'"),  # ignored: not required
        ("q.jsonl", '{"question": "x?"}\n{"question": "y?"\n', "line 2: not valid JSON"),
        ("q.jsonl", '["x?"]\n', "line 1: each line must be one JSON object"),
        ("q.jsonl", '{"id": "a", "question": "x?"}\n{"id": "a", "question": "y?"}\n', "line 2, field 'id': 'a' is"),
        ("q.csv", "prompt,answer\nx?,a\n", "line 1: the header needs a 'question'"),
        ("q.csv", "question,answer\nx?,a\n,b\n", "line 3, field 'question'"),
        ("q.csv", "question,answer\nx?,a,extra\n", "line 2: 3 columns, the header has 2"),
        ("q.txt", "x?\n", "as .jsonl or .csv"),
        ("q.jsonl", "\n\n", "no questions"),
    ],
)
def test_a_malformed_file_names_its_line_and_field(tmp_path, name, text, where):
    path = write(tmp_path, name, text)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(lk.DataError, match=where.replace("(", r"\(")):
        lk.load_questions(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    "name, text",
    [
        ("q.jsonl", JSONL.replace('"answer": null}', '"answer": null, "source": "x.md", "evidence": "..."}')),
        ("q.csv", CSV.replace("aliases\n", "aliases,source,evidence\n").replace("6:40\n", "6:40,x.md,...\n")),
    ],
)
def test_extra_fields_are_ignored_with_one_notice(tmp_path, name, text):
    path = write(tmp_path, name, text)
    with pytest.warns(lk.user_qa.IgnoredFieldsWarning) as notices:
        qs = lk.load_questions(path)
    assert len(notices) == 1 and notices[0].message.fields == ["evidence", "source"]
    assert str(notices[0].message).startswith(f"{path}: ignored field(s) 'evidence', 'source';")
    assert qs == lk.load_questions(write(tmp_path, "plain" + name[1:], JSONL if name.endswith("jsonl") else CSV))


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(lk.DataError, match="no such questions file"):
        lk.load_questions(tmp_path / "none.jsonl")
    path = tmp_path / "q.csv"
    path.write_bytes("question\nCaf\xe9?\n".encode("latin-1"))
    with pytest.raises(lk.DataError, match="not UTF-8"):
        lk.load_questions(path)
