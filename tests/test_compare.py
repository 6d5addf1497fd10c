"""labkit compare: input errors are one line and no traceback, the user's files are never changed, the
stages resume, and the report escapes every text it shows."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import labkit as lk

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "data" / "own_docs"
SENTENCES = [
    "The ferry to {p} leaves at {n} minutes past each hour from the North Pier.",
    "A return ticket to {p} costs {n} crowns and is valid for seven days after the first trip.",
    "Bicycles travel free on the {p} line, but dogs need a ticket for {n} crowns.",
    "The {p} harbour office opens at {n} in the morning and closes at Harbour Master Hall at dusk.",
]


def checksums(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "labkit", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def make_folder(root: Path, n_docs: int = 8) -> Path:
    root.mkdir(parents=True)
    for i in range(n_docs):
        place = f"Isle{i}"
        text = " ".join(s.format(p=place, n=10 + i) for s in SENTENCES)
        (root / f"isle-{i}.md").write_text(f"# Ferries to {place}\n\n{text}\n")
    (root / "evil.html").write_text("<title>Evil <script>alert(1)</script></title><p>The <b>Evil</b> ferry "
                                    "never sails on Sundays, said the Harbour Master of Evil Island.</p>")  # fmt: skip
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    return root


@pytest.mark.parametrize(
    "setup, words",
    [
        (lambda d: None, "no such folder"),
        (lambda d: d.mkdir(), "the folder is empty"),
        (lambda d: (d.mkdir(), (d / "a.bin").write_bytes(b"\x00\x01")), "none of its 1 files gave text"),
        (lambda d: (d.mkdir(), (d / "a.txt").write_bytes(b"caf\xe9 \xff\xfe")), "not UTF-8"),
    ],
    ids=["missing", "empty", "only-binaries", "non-utf8"],
)
def test_a_bad_folder_is_one_line_and_no_traceback(tmp_path, setup, words):
    docs = tmp_path / "docs"
    setup(docs)
    before = checksums(docs) if docs.exists() else None
    got = cli("compare", "--docs", docs, "--out", tmp_path / "r.html")
    assert got.returncode == 2 and "Traceback" not in got.stderr
    assert words in got.stderr and got.stderr.count("\n") == 1
    assert (checksums(docs) if docs.exists() else None) == before
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "text, words",
    [
        ('{"question": "Why?", "answer": 3}\n', "line 1, field 'answer'"),
        ('{"question": "Why?"}\nnot json\n', "line 2"),
        ('{"answer": "x"}\n', "line 1, field 'question'"),
    ],
)
def test_a_bad_questions_file_names_its_line_and_field(tmp_path, text, words):
    docs = make_folder(tmp_path / "docs")
    qs = tmp_path / "qs.jsonl"
    qs.write_text(text)
    before = checksums(tmp_path)
    got = cli("compare", "--docs", docs, "--questions", qs, "--out", tmp_path / "r.html")
    assert got.returncode == 2 and "Traceback" not in got.stderr and words in got.stderr, got.stderr
    assert checksums(tmp_path) == before


def test_check_lists_skipped_files_and_changes_nothing(tmp_path):
    docs = make_folder(tmp_path / "docs")
    before = checksums(docs)
    got = cli("compare", "--docs", docs, "--check")
    assert got.returncode == 0, got.stderr
    assert "9 documents, 1 skipped" in got.stderr and "skipped photo.jpg: unsupported" in got.stderr
    assert checksums(docs) == before


def test_the_report_may_not_go_inside_the_documents_folder(tmp_path):
    docs = make_folder(tmp_path / "docs")
    got = cli("compare", "--docs", docs, "--out", docs / "report.html")
    assert got.returncode == 2 and "inside the documents folder" in got.stderr
    assert not (docs / "report.html").exists()


class ModelLoaded(Exception):
    """A model loader was called: the input check let the run start."""


@pytest.fixture()
def no_models(monkeypatch):
    """Every model loader raises ``ModelLoaded``; the run's process-wide ``setup`` does nothing."""

    def refuse(*args, **kwargs):
        raise ModelLoaded

    for loader in ("labkit.models.load_generator", "labkit.models.prepare_generator", "labkit.embedder.load_embedder"):
        monkeypatch.setattr(loader, refuse)
    monkeypatch.setattr("labkit.env.setup", lambda **kwargs: None)  # seeds and threads: not under test here


def listing(folder: Path) -> dict:
    """Every entry under ``folder``: a file's sha256, a folder's "/" (so a new empty folder shows too)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "/"
            for p in sorted(folder.rglob("*"))}  # fmt: skip


def bad_prices(user, tmp, mp):
    data = tmp / "data"
    data.mkdir()
    (data / "prices.csv").write_text("field,value,unit,source,date\nmachine_usd_per_hour,-1,USD,x,2025-01\n")
    mp.setenv("LABKIT_DATA", str(data))  # the sheet the report's cost projection would read
    return []


def no_answer_field(user, tmp, mp):
    (user / "qs.jsonl").write_text('{"question": "Who owns the ferries?"}\n{"question": "Is it windy?"}\n')
    return ["--questions", user / "qs.jsonl"]


def too_few_sentences(user, tmp, mp):
    (user / "short").mkdir()
    (user / "short" / "a.md").write_text("# Ferries\n\nThe ferry to Isle1 leaves at 10 minutes past each hour.\n")
    return ["--docs", user / "short"]


def duplicate_ids(user, tmp, mp):
    real = lk.load_folder  # gives unique ids (test_ingest): the check also stops two equal ids from anywhere else

    def twice(root):
        f = real(root)
        d = f.docs[0]
        return lk.ingest.Folder(
            f.root, [*f.docs, lk.data.Document(d.id, "Copy", d.type, d.text, d.path + ".copy")], f.skipped
        )

    mp.setattr("labkit.own_docs.load_folder", twice)
    return []


def read_only_out(user, tmp, mp):
    (tmp / "ro").mkdir()
    real = os.access  # as root every folder is writable: refuse this one as the OS would for a user
    mp.setattr(os, "access", lambda p, mode, **kw: Path(p) != tmp / "ro" and real(p, mode, **kw))
    return ["--out", tmp / "ro" / "r.html"]


def work_dir_is_a_file(user, tmp, mp):
    (tmp / "w").write_text("")
    return ["--work-dir", tmp / "w"]


def out_is_a_folder(user, tmp, mp):
    (tmp / "r").mkdir()
    return ["--out", tmp / "r"]


BAD_INPUTS = {  # id: (what makes the input bad, the words of the one line that says so; {tmp}: tmp_path)
    "price-sheet": (bad_prices, "prices.csv line 2, field 'value': machine_usd_per_hour = -1 is not a price"),
    "no-answer-field": (no_answer_field, "qs.jsonl: no question has an answer field"),
    "too-few-sentences": (too_few_sentences, "only 1 sentences could become generated questions (20 are needed"),
    "duplicate-ids": (duplicate_ids, "its document id 'evil' is also"),
    "work-dir-in-docs": (lambda u, t, m: ["--work-dir", u / "docs" / "stages"], "--work-dir lies inside the documents"),
    "work-dir-is-a-file": (work_dir_is_a_file, "--work-dir is a file"),
    "out-is-a-folder": (out_is_a_folder, "--out is a folder"),
    "too-few-generated": (lambda u, t, m: ["--generated", "5"], "--generated (CompareConfig.n_generated) must be"),
    "zero-generated": (lambda u, t, m: ["--generated", "0"], "must be a whole number >= 20 (the dev set needs"),
    "out-folder-missing": (lambda u, t, m: ["--out", t / "no" / "r.html"], "--out's folder {tmp}/no does not exist"),
    "out-folder-read-only": (read_only_out, "{tmp}/ro is not a folder you may write to"),
}


@pytest.mark.parametrize("make, words", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_check_and_run_refuse_the_same_inputs_before_any_model_loads(tmp_path, monkeypatch, capsys, no_models,
                                                                     make, words):  # fmt: skip
    from labkit.cli import main

    user = tmp_path / "user"
    make_folder(user / "docs")
    argv = ["compare", "--docs", user / "docs", "--out", tmp_path / "report.html", *make(user, tmp_path, monkeypatch)]
    before, seen = listing(user), []
    for check in (["--check"], []):  # the same check, the same line: --check agrees with the full run
        assert main([*map(str, argv), *check]) == 2  # and ModelLoaded was not raised: no model loaded
        seen.append(capsys.readouterr().err)
    assert seen[0] == seen[1] and seen[0].count("\n") == 1 and seen[0].startswith("labkit compare: error: ")
    assert words.format(tmp=tmp_path) in seen[0], seen[0]
    assert listing(user) == before  # nothing in the user's folders was written or changed
    assert not (tmp_path / "report.html").exists()


def test_check_passes_what_the_run_starts_on(tmp_path, monkeypatch, capsys, no_models):
    """Inputs --check accepts get the run to its first model load: the extra field is one notice, and
    a.md, a.txt, a-txt.md (two a-txt ids once) are three documents."""
    from labkit.cli import main

    user = tmp_path / "user"
    docs = make_folder(user / "docs")
    for name in ("a.md", "a.txt", "a-txt.md"):
        (docs / name).write_text(f"The ferry to Isle{len(name)} leaves from the pier called {name}.\n")
    qs = user / "qs.jsonl"
    qs.write_text('{"question": "Who owns the ferries?", "answer": null, "evidence": "none"}\n')
    argv = list(map(str, ["compare", "--docs", docs, "--questions", qs, "--out", tmp_path / "report.html"]))
    before = listing(user)
    assert main([*argv, "--check"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and f"{qs}: ignored field(s) 'evidence'" in err
    assert "12 documents, 1 skipped" in err
    with pytest.raises(ModelLoaded):  # every check passed: the run went on to load the generator
        main(argv)
    assert listing(user) == before


def test_bare_labkit_prints_the_help_and_prepares_nothing(capsys, no_models):
    from labkit.cli import main

    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: labkit") and "prepare" in err and "compare" in err


def test_generated_defaults_to_the_configs_and_reaches_it(capsys):
    from labkit.cli import _parser

    p = _parser()
    args = p.parse_args(["compare", "--docs", "d"])
    assert args.generated is None  # CompareConfig's own default applies
    with pytest.raises(SystemExit):
        p.parse_args(["compare", "--help"])  # the help a user reads states that default
    assert f"default {lk.CompareConfig('d').n_generated}," in " ".join(capsys.readouterr().out.split())
    assert p.parse_args(["compare", "--docs", "d", "--generated", "40"]).generated == 40


@pytest.mark.parametrize("flag, managed", [([], False), (["--managed-vector-db"], True)])
def test_the_report_prices_the_index_in_process_unless_asked(flag, managed):
    from labkit.cli import _parser

    args = _parser().parse_args(["compare", "--docs", "d", *flag])
    assert args.managed_vector_db is managed
    fee = lk.own_docs_report.report_prices(args.managed_vector_db).vector_db_usd_per_month
    assert (fee > 0) is managed and fee in (0, lk.load_prices().vector_db_usd_per_month)


def test_input_errors_are_one_family():
    from labkit.cli import InputError

    for error in (lk.DataError, lk.IngestError, lk.PriceSheetError, InputError):
        assert issubclass(error, lk.LabkitInputError)
    assert issubclass(lk.LabkitInputError, ValueError)  # code that catches ValueError still catches them


def test_the_fixture_folder_reads_as_shipped():
    folder, questions = lk.own_docs.check_inputs(
        lk.CompareConfig(FIXTURE / "founding-documents", FIXTURE / "questions.jsonl")
    )
    assert len(folder.docs) >= 10 and [s.path for s in folder.skipped] == ["scan.png"]
    assert {d.path.rsplit(".", 1)[-1] for d in folder.docs} == {"md", "txt", "html", "pdf"}
    records = lk.as_qa_records(questions)
    assert sum(q.answerable for q in records) >= 20 and sum(not q.answerable for q in records) >= 5
    text = " ".join(d.text for d in folder.docs)
    assert all(lk.contains_gold(text, [q.answer, *q.aliases]) for q in records if q.answerable)


@pytest.mark.slow
def test_compare_runs_resumes_and_escapes_on_a_tiny_model(tmp_path, cache, embedder, one_thread):
    tiny_lm = lk.tiny_generator(seed=0, max_context=1024)
    user = tmp_path / "user"
    docs = make_folder(user / "docs")
    qs = user / "qs.jsonl"
    rows = [{"id": "q1", "question": "What does the ferry to Isle3 cost <script>x</script>?", "answer": "13 crowns"},
            {"id": "q2", "question": "Who owns the ferries?", "answer": None},
            {"id": "q3", "question": "Is it windy?"}]  # fmt: skip
    qs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = checksums(user)
    cfg = lk.CompareConfig(docs, qs, out=tmp_path / "out" / "report.html", n_generated=40, work_dir=tmp_path / "work")
    res = lk.compare_documents(cfg, lm=tiny_lm, embedder=embedder, progress=False)
    assert checksums(user) == before  # nothing of the user's is written or changed
    assert [r.approach for r in res.records] == ["base"] * 2 + ["rag"] * 2 + ["ft"] * 2 + ["hybrid"] * 2
    assert res.questions_kind == "hand-written" and res.n_unscored == 1 and len(res.split.test) == 2
    assert not set(q.id for q in res.split.test) & {q.id for q in res.split.train + res.split.dev}
    assert all(not s["reused"] for s in res.stages.values()) and set(res.stages) == {"reader", "index", *lk.APPROACHES}
    again = lk.compare_documents(cfg, lm=tiny_lm, embedder=embedder, progress=False)
    assert all(s["reused"] for s in again.stages.values()) and again.records == res.records
    peaks = [s["peak_mb"] for s in res.stages.values()]  # the process's peak at each stage's end: it only grows
    assert peaks == sorted(peaks) and peaks[0] > 0 and [s["peak_mb"] for s in again.stages.values()] == peaks
    html = lk.write_report(res).read_text()
    assert f"<td>{res.stages['ft']['peak_mb']:,}</td>" in html  # the stage table shows each stage's peak
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    # evil.html's <title> is raw text: the document list shows it, escaped, as the title it is
    assert "<td>Evil &lt;script&gt;alert(1)&lt;/script&gt;</td>" in html
    assert "photo.jpg" in html and "unsupported" in html and 'id="results"' in html
    assert "http://" not in html and "https://" not in html  # self-contained: nothing to fetch
    assert "no hosting fee" in html  # the index in the serving process unless the user picks a managed database
    managed = lk.own_docs_report.render_report(res, cm=lk.own_docs_report.report_prices(managed_vector_db=True))
    assert "managed vector database at" in managed and "no hosting fee" not in managed


@pytest.mark.slow
@pytest.mark.browser
def test_the_fixture_report_opens_in_chromium_without_errors(tmp_path):
    """`labkit compare` on the shipped fixture with the real models, then the report in headless Chromium.

    `make test` runs it after the notebooks: notebook 06 ran the same comparison, so its stages are reused
    from the cache (from an empty cache it trains the fine-tune and the reader first: minutes).
    """
    from factories import browser_check

    report_check = browser_check("report_check")
    docs, before = FIXTURE / "founding-documents", checksums(FIXTURE)
    report = tmp_path / "report.html"
    got = cli("compare", "--docs", docs, "--questions", FIXTURE / "questions.jsonl", "--out", report, "--quiet")
    assert got.returncode == 0, got.stderr[-2000:]
    assert checksums(FIXTURE) == before
    out = ROOT / "build" / "report-check"
    out.mkdir(parents=True, exist_ok=True)
    seen = report_check.check(report, screenshot=out / "report.png")
    assert seen["errors"] == [] and seen["remote_requests"] == [] and seen["scripts"] == 0
    assert seen["tables"]["results"] == 1 + len(lk.APPROACHES) and seen["tables"]["examples"] > 1
    assert seen["tables"]["skipped"] == 2 and all(seen["images"]) and len(seen["images"]) == 2
    assert seen["title"] == "RAG vs fine-tuning on founding documents"


def test_stored_stages_are_keyed_by_documents_questions_and_models(tmp_path):
    from faq_fixtures import HashBow

    from labkit.own_docs import _digest

    docs = make_folder(tmp_path / "docs")
    folder, emb = lk.load_folder(docs), lk.Embedder(HashBow(), "hash-bow-64", "test")
    cfg = lk.CompareConfig(docs)
    a, b = lk.tiny_generator(seed=0), lk.tiny_generator(seed=1)
    key = _digest(folder, cfg, a, emb)
    assert key == _digest(lk.load_folder(docs), cfg, a, emb)
    assert key != _digest(folder, cfg, b, emb)  # another model never reuses these answers
    assert key != _digest(folder, lk.CompareConfig(docs, corpus="ferries"), a, emb)
    (docs / "isle-0.md").write_text("# Changed\n\nThe ferry to Isle0 now leaves at dawn from the South Pier.\n")
    assert key != _digest(lk.load_folder(docs), cfg, a, emb)


@pytest.mark.parametrize("n, mine", [(120, None), (120, ["yours"]), (95, ["yours"]), (95, None)])
def test_the_dev_set_has_enough_questions_to_choose_on(n, mine):
    from labkit.own_docs import MIN_DEV, _split

    generated = lk.generate_qa(lk.load_folder(FIXTURE / "founding-documents").docs, n=n)
    split = _split(generated, mine, seed=0)
    assert len(split.dev) >= MIN_DEV, (len(generated), len(split.dev))
    assert not {q.id for q in split.dev} & {q.id for q in split.train}  # dev is never trained on
    if mine:
        assert list(split.test) == mine and len(split.train) + len(split.dev) == len(generated)
