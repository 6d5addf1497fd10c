"""The evaluation protocol: a disjoint, stratified, stable split; the one harness and its cache; one closed book."""

import inspect
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from factories import Fixed, load_rows, numbered, qa_row

import labkit as lk


@pytest.fixture()
def qa(tmp_path):
    return load_rows(numbered(165, 49, n_changed=45), tmp_path)


@pytest.fixture(autouse=True)
def _cache(cache):
    return cache


def test_split_is_disjoint_and_covers_every_question(qa):
    s = lk.split_qa(qa)
    ids = [[q.id for q in part] for part in (s.train, s.dev, s.test)]
    assert sum(map(len, ids)) == len(qa) and len(set().union(*map(set, ids))) == len(qa)
    assert not (set(ids[0]) & set(ids[1]) or set(ids[0]) & set(ids[2]) or set(ids[1]) & set(ids[2]))


def test_split_is_stratified(qa):
    s = lk.split_qa(qa)
    mix = lambda part: Counter((q.answerable, q.changed_in_v2) for q in part)  # noqa: E731
    whole = mix(qa)
    for part, share in ((s.test, 0.62), (s.dev, 0.16)):
        for stratum, n in whole.items():
            assert abs(mix(part)[stratum] - share * n) <= 1, (stratum, mix(part))
    assert sum(q.answerable for q in s.test) >= 100


def test_split_is_stable_and_seeded(qa, tmp_path):
    a, b = lk.split_qa(qa), lk.split_qa(list(reversed(qa)))  # input order does not matter
    assert {q.id for q in a.test} == {q.id for q in b.test} and {q.id for q in a.dev} == {q.id for q in b.dev}
    assert lk.split_qa(qa).test == a.test  # same call, same split
    assert {q.id for q in lk.split_qa(qa, seed=1).test} != {q.id for q in a.test}


def test_split_refuses_a_test_set_too_small_to_resolve_ten_points(tmp_path):
    small = load_rows(numbered(40, 10), tmp_path)
    with pytest.raises(ValueError, match="answerable test questions"):
        lk.split_qa(small)
    assert len(lk.split_qa(small, min_test_answerable=20).test) > 0
    with pytest.raises(ValueError, match="shares"):
        lk.split_qa(small, test=0.9, dev=0.2)


def test_the_real_split_has_the_promised_sizes():
    s = lk.split_qa(lk.load_qa())
    assert sum(q.answerable for q in s.test) >= 100
    assert sum(not q.answerable for q in s.test) >= 25  # every unanswerable test question is scored too
    assert s.counts().loc["test", "questions"] == len(s.test)


def test_wordings_and_questions(qa):
    q = qa[0]
    assert lk.wordings(q, "question") == [q.question]
    assert lk.wordings(q, "heldout") == list(q.paraphrases_heldout)
    assert [w for _, w in lk.questions(qa[:2], "train", per_record=None)] == [
        *qa[0].paraphrases_train,
        *qa[1].paraphrases_train,
    ]
    assert len(lk.questions(qa[:3], "train")) == 3  # default: one wording per question
    with pytest.raises(ValueError, match="phrasing"):
        lk.wordings(q, "other")
    with pytest.raises(TypeError, match="QARecord"):
        lk.questions([{"id": "q1"}])


@pytest.mark.parametrize("per_record", [1, 2, None])
def test_questions_per_record_keeps_the_first_wordings_of_each_record(per_record):
    qa = lk.load_qa()[:5]
    capped = lk.questions(qa, "train", per_record=per_record)
    assert [(r.id, q) for r, q in capped] == [(r.id, q) for r in qa for q in r.paraphrases_train[:per_record]]
    with pytest.raises(ValueError, match="per_record"):
        lk.questions(qa, "train", per_record=0)


def test_harness_scores_and_caches(tmp_path):
    qa = load_rows([qa_row("q1", "How long?", "23 days", ["refund"]), qa_row("u1", "Who?", None)], tmp_path)
    calls = []
    right = Fixed("sys", "It is 23 days.", calls=calls)
    first = lk.run_approach(right, qa)
    assert [r.question for r in first] == [q.paraphrases_heldout[0] for q in qa]  # held-out wording by default
    assert [r.contains for r in first] == [True, False] and first[1].hallucinated
    again = lk.run_approach(Fixed("sys", "It is 23 days.", calls=calls), qa)
    assert again == first and len(calls) == 1  # second call: from the cache, nothing generated
    lk.run_approach(Fixed("sys", "Something else."), qa)  # another fingerprint: answered afresh
    assert len(calls) == 1
    lk.run_approach(right, qa, cache=False)
    assert len(calls) == 2


def test_harness_checks_the_approach(qa):
    with pytest.raises(TypeError, match="not an lk.Approach"):
        lk.run_approach(lambda qs: [], qa[:2])

    class Short(Fixed):
        def answer(self, questions):
            return super().answer(questions)[:1]

    with pytest.raises(ValueError, match="returned 1 answers for 2"):
        lk.run_approach(Short("short", "x"), qa[:2])


def test_one_closed_book_path():
    # One class, one prompt; the old helpers (ClosedBook in rag, run_closed_book, evaluate_closed_book,
    # closed_book) are gone from the package.
    for old in ("run_closed_book", "evaluate_closed_book", "closed_book", "FT_SYSTEM", "run_rag"):
        assert not hasattr(lk, old), old
    assert lk.ClosedBook.__module__ == "labkit.protocol"
    # the closed-book fine-tune trains on exactly the prompt the base model is asked with
    assert inspect.signature(lk.make_examples).parameters["system"].default == lk.CLOSED_BOOK_SYSTEM


def test_closed_book_sends_the_question_with_the_one_prompt(tiny_lm):
    base = lk.ClosedBook(tiny_lm, max_new_tokens=3)
    fp = base.fingerprint()
    assert fp["system"] == lk.CLOSED_BOOK_SYSTEM and tiny_lm.name in fp["lm"]["source"]
    out = base.answer(["How long is the refund window?", "Who founded it?"])
    assert len(out) == 2 and all(a.prompt_tokens > 0 and a.completion_tokens >= 1 for a in out)
    with pytest.raises(lk.models.ContextTooLongError):
        base.answer(["word " * 600])


class Sleepy(Fixed):
    """Fixed, but each call takes ``seconds`` of wall time that no stage reports (building a prompt, say)."""

    def __init__(self, seconds, **kw):
        super().__init__("x", "y", **kw)
        self.seconds = seconds

    def answer(self, questions):
        time.sleep(self.seconds)
        return super().answer(questions)


def test_latency_batch1_times_each_question_alone_and_splits_its_stages():
    calls = []
    df = lk.latency_batch1(Sleepy(0.03, calls=calls), ["a", "b", "c"], warmup=1)
    assert calls == [["a"], ["a"], ["b"], ["c"]]  # one warm-up, then each question alone
    assert len(df) == 3 and (df.total_ms >= 30).all()  # the wall time, not only what the stages reported
    assert df.prefill_ms.tolist() == pytest.approx([100.0] * 3) and df.decode_ms.tolist() == pytest.approx([200.0] * 3)
    assert df.embed_ms.tolist() == [0.0] * 3 and df.prompt_tokens.tolist() == [50] * 3
    with pytest.raises(ValueError, match="at least one question"):
        lk.latency_batch1(Fixed("x", "y"), [])


def edit(pkg: Path, module: str) -> None:
    """Change what ``module`` does (one more statement): a code edit, not a documentation one."""
    with (pkg / f"{module}.py").open("a") as f:
        f.write("\nEDITED = True\n")


def test_records_are_keyed_by_the_code_the_approach_runs(tmp_path, tiny_lm, index):
    pkg = Path(shutil.copytree(Path(lk.__file__).parent, tmp_path / "labkit", ignore=shutil.ignore_patterns("*.pyc")))
    rag, base = lk.RAGPipeline(tiny_lm, index), lk.ClosedBook(tiny_lm)
    before = {a: lk.protocol.records_code(a, folder=pkg) for a in (rag, base)}
    for unrelated in ("report", "scale", "cost", "cli"):
        edit(pkg, unrelated)
    edit(pkg, "rag")  # RAG's own module: not the closed book's
    assert lk.protocol.records_code(base, folder=pkg) == before[base]
    assert lk.protocol.records_code(rag, folder=pkg) != before[rag]
    rag_now = lk.protocol.records_code(rag, folder=pkg)
    edit(pkg, "generate")  # the generation loop: both
    assert (
        lk.protocol.records_code(rag, folder=pkg) != rag_now
        and lk.protocol.records_code(base, folder=pkg) != before[base]
    )


def test_records_of_an_approach_from_outside_labkit_are_keyed_by_all_of_it(tmp_path, tiny_lm):
    pkg = Path(shutil.copytree(Path(lk.__file__).parent, tmp_path / "labkit", ignore=shutil.ignore_patterns("*.pyc")))
    assert lk.protocol.records_code(Fixed("x", "y"), folder=pkg) == lk.env.code_digest(
        pkg
    )  # it may call anything in labkit

    class Notebook:  # a part defined in a notebook: which labkit code it calls is not known either
        pass

    Notebook.__module__ = "__main__"
    wrapped = lk.ClosedBook(tiny_lm)
    wrapped.helper = Notebook()
    assert lk.protocol.records_code(wrapped, folder=pkg) == lk.env.code_digest(pkg)
    assert lk.protocol.records_code(lk.ClosedBook(tiny_lm), folder=pkg) != lk.env.code_digest(pkg)
