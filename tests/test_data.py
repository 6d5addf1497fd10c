import json
import subprocess
import sys
from pathlib import Path

import pytest

import labkit as lk
from labkit.data import data_dir


@pytest.fixture(scope="module")
def qa():
    return lk.load_qa()


@pytest.fixture(scope="module")
def kb():
    return {v: {d.id: d for d in lk.load_kb(v)} for v in ("v1", "v2")}


# --- the real knowledge base meets the data card's promises ------------------------------------------
def test_corpus_sizes(kb):
    assert 40 <= len(kb["v1"]) <= 80
    assert len(kb["v2"]) >= len(kb["v1"])  # v2 adds a product


def test_qa_counts(qa):
    answerable = [q for q in qa if q.answerable]
    assert len(answerable) >= 150
    assert sum(not q.answerable for q in qa) >= 30
    assert sum(q.changed_in_v2 for q in answerable) >= 0.2 * len(answerable)
    for q in qa:
        assert len(q.paraphrases_train) >= 2 and len(q.paraphrases_heldout) >= 1, q.id
        phrasings = [q.question, *q.paraphrases_train, *q.paraphrases_heldout]
        assert len(set(phrasings)) == len(phrasings), f"{q.id}: repeated phrasing"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_gold_answer_is_in_a_supporting_document(qa, kb, version):
    for q in qa:
        if not q.is_answerable(version):
            continue
        answer, _, doc_ids = q.gold(version)
        assert all(d in kb[version] for d in doc_ids), f"{q.id}: unknown doc in {doc_ids}"
        texts = " ".join(kb[version][d].text.lower() for d in doc_ids)
        assert answer.lower() in texts, f"{q.id} ({version}): {answer!r} not in {doc_ids}"


def test_house_style_answers_pass_the_checker(qa, kb):
    for q in qa:
        check = lk.check_house_style(q.styled_answer, doc_ids=set(kb["v1"]))
        assert check.ok, f"{q.id}: {check.reason}: {q.styled_answer}"
        if not q.answerable:
            assert q.styled_answer == lk.ABSTENTION


def test_generator_reproduces_the_files():
    script = data_dir() / "make_kb.py"
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# --- validation: bad input names file, line and field ------------------------------------------------
def _good_record(qa):
    return json.loads(Path(data_dir() / "qa.jsonl").read_text().splitlines()[0])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("answer", None, "field 'answer'"),
        ("aliases", "not-a-list", "field 'aliases': must be a list"),
        ("answerable", "yes", "field 'answerable': must be true or false"),
        ("question", "", "field 'question': must be a string"),
        ("doc_ids", [], "field 'answer'"),  # answerable but no supporting doc
    ],
)
def test_malformed_qa_record_is_named(tmp_path, qa, field, value, message):
    rec = _good_record(qa)
    rec[field] = value
    path = tmp_path / "qa.jsonl"
    good = json.dumps(_good_record(qa) | {"id": "q999"})
    path.write_text(good + "\n" + json.dumps(rec) + "\n")
    with pytest.raises(lk.DataError) as err:
        lk.load_qa(path)
    assert f"{path} line 2, field " in str(err.value) and message in str(err.value)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r.pop("styled_answer"), "field 'styled_answer': missing"),
        (lambda r: r.update(extra=1), "unknown field(s) ['extra']"),
    ],
)
def test_missing_and_unknown_fields(tmp_path, qa, mutate, message):
    rec = _good_record(qa)
    mutate(rec)
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    with pytest.raises(lk.DataError, match=r"qa\.jsonl line 1"):
        lk.load_qa(path)
    with pytest.raises(lk.DataError) as err:
        lk.load_qa(path)
    assert message in str(err.value)


def test_invalid_json_and_duplicate_ids(tmp_path, qa):
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps(_good_record(qa)) + "\n{not json\n")
    with pytest.raises(lk.DataError, match=r"qa\.jsonl line 2: not valid JSON"):
        lk.load_qa(path)
    path.write_text(json.dumps(_good_record(qa)) + "\n" + json.dumps(_good_record(qa)) + "\n")
    with pytest.raises(lk.DataError, match=r"qa\.jsonl line 2, field 'id': 'q\d+' is already used on line 1"):
        lk.load_qa(path)


def test_loading_does_not_modify_the_file(tmp_path, qa):
    path = tmp_path / "qa.jsonl"
    text = json.dumps(_good_record(qa)) + "\n{broken\n"
    path.write_text(text)
    with pytest.raises(lk.DataError):
        lk.load_qa(path)
    assert path.read_text() == text  # bad input loses nothing


GOOD_DOC = "---\nid: {id}\ntitle: A title\ntype: {type}\n---\n# A title\nSome text.\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("# no front matter\n", "line 1: missing front matter"),
        ("---\nid: doc\ntitle: T\ntype: policy\n", "line 1: front matter is not closed"),
        (GOOD_DOC.format(id="other", type="policy"), "line 2, field 'id': is 'other'"),
        (GOOD_DOC.format(id="doc", type="memo"), "line 4, field 'type': is 'memo'"),
        ("---\ntype: memo\nid: doc\ntitle: T\n---\nx\n", "line 2, field 'type': is 'memo'"),  # its own line
        ("---\nid: doc\ntitle: T\ntype: policy\nauthor: me\n---\nx\n", "line 5, field 'author'"),
        ("---\nid: doc\ntitle: T\n---\nx\n", "line 4, field 'type': missing or empty"),
        ("---\nid: doc\ntitle: T\ntype: policy\n---\n\n", "line 6: the document has no text"),
    ],
)
def test_malformed_document_is_named(tmp_path, text, message):
    (tmp_path / "doc.md").write_text(text)
    with pytest.raises(lk.DataError) as err:
        lk.load_kb("v1", root=tmp_path)
    assert str(tmp_path / "doc.md") in str(err.value) and message in str(err.value)


def test_empty_corpus_folder(tmp_path):
    with pytest.raises(lk.DataError, match="no .md documents"):
        lk.load_kb("v1", root=tmp_path)


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Refunds are possible for 23 days [refund-policy].", True),
        (lk.ABSTENTION, True),
        ("The fee is 47.80 EUR per month [pricing-plans].", True),  # a decimal point is not a sentence break
        ("Refunds are possible for 23 days.", False),
        ("Refunds are possible. Ask support [refund-policy].", False),
        ("23 days [Refund Policy].", False),
    ],
)
def test_house_style_checker(answer, ok):
    assert lk.check_house_style(answer).ok is ok


def test_house_style_checker_knows_real_documents():
    check = lk.check_house_style("It is 23 days [made-up-doc].", doc_ids={"refund-policy"})
    assert not check.ok and "made-up-doc" in check.reason


@pytest.mark.parametrize("name", ["", "   ", None, 3])
def test_the_abstention_sentence_needs_a_corpus_name(name):
    with pytest.raises(ValueError, match="corpus name"):
        lk.abstention_sentence(name)


def test_the_workbook_keeps_its_trained_abstention_sentence():
    assert (
        lk.ABSTENTION
        == lk.abstention_sentence(lk.WORKBOOK_CORPUS)
        == "I don't know based on the Tessavik documentation."
    )
    assert lk.hybrid_system("Acme") != lk.hybrid.HYBRID_SYSTEM and "Tessavik" not in lk.hybrid_system("Acme")
