"""The side-by-side panel without a browser: compare() -> Records, escaping, highlighting, the callback."""

import pytest
from factories import Fixed, load_rows, qa_row

import labkit as lk
from labkit.chunking import chunk_corpus
from labkit.data import Document
from labkit.rag import RAGConfig, RAGPipeline
from labkit.retrieval import BM25Index
from labkit.side_by_side import Panel, System, compare, find_qa, highlight, render_html, static_table

XSS = "<script>alert(1)</script>"
DOCS = {
    "refund-policy": ("Refund policy", "Customers can request a refund within 23 days of purchase."),
    "pricing": ("Pricing", "The Team plan costs 47.80 EUR per seat per month."),
}


@pytest.fixture()
def qa(tmp_path):
    return load_rows(
        [
            qa_row(
                "q1",
                "How many days do I have to request a refund?",
                "23 days",
                ["refund-policy"],
                answer_v2="30 days",
                train=["Quick one: How many days do I have to request a refund?"],
                heldout=["Tell me: How many days do I have to request a refund?"],
            ),
            qa_row("q2", "What does the Team plan cost per seat?", "47.80 EUR", ["pricing"]),
        ],
        tmp_path,
    )


@pytest.fixture()
def index():
    return BM25Index(chunk_corpus([Document(i, t, "faq", b) for i, (t, b) in DOCS.items()]))


def four_systems(index):
    rag = Fixed("rag", "23 days [refund-policy].", ["refund-policy#0"])
    rag.retriever = index  # passage_texts reads the retriever's chunks
    return [
        System("base", Fixed("base", "I think 14 days.")),
        System("rag", rag),
        System("ft", Fixed("ft", "23 days [refund-policy].")),
        System("hybrid", Fixed("hybrid", XSS)),
    ]


def test_compare_scores_each_system_against_the_gold(qa, index):
    texts = {}
    recs = compare(qa[0].question, four_systems(index), qa, "v1", texts)
    assert [r.approach for r in recs] == ["base", "rag", "ft", "hybrid"]
    assert [r.contains for r in recs] == [False, True, True, False]
    assert recs[1].passages == ["refund-policy#0"] and "23 days" in texts["refund-policy#0"]
    assert recs[1].cited == ["refund-policy"] and recs[1].citation_ok is True


def test_version_toggle_scores_against_v2_gold(qa, index):
    recs = compare(qa[0].question, four_systems(index), qa, "v2")
    assert all(r.version == "v2" for r in recs)
    assert not any(r.contains for r in recs)  # gold is now 30 days; every fixed answer says 23


@pytest.mark.parametrize(
    "question, phrasing",
    [
        ("quick one: how many days do I have to request a refund?", "train"),
        ("Tell me: How many days do I have to request a refund?", "heldout"),
        ("Something else entirely?", "typed"),
    ],
)
def test_find_qa_matches_every_wording(qa, question, phrasing):
    rec, got = find_qa(question, qa)
    assert got == phrasing and (rec is None) == (phrasing == "typed")


def test_typed_question_is_unscored_and_everything_is_escaped(qa, index):
    texts = {}
    recs = compare(f"What is {XSS}?", four_systems(index), qa, "v1", texts)
    assert all(r.qid == "typed" and not r.em for r in recs)
    page = render_html(recs, texts)
    assert XSS not in page and "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # the question once, the answer once
    assert "no gold" in page


@pytest.mark.parametrize(
    "text, needles, expected",
    [
        ("Refunds within 23 days <b>", ["23 days"], "Refunds within <mark>23 days</mark> &lt;b&gt;"),
        ("a&b costs 47.80 EUR", ["47.80 EUR", "47.80"], "a&amp;b costs <mark>47.80 EUR</mark>"),  # overlaps merge
        ("AMP amp", ["amp"], "<mark>AMP</mark> <mark>amp</mark>"),  # case-insensitive, every occurrence
        ("x <script>", ["script"], "x &lt;<mark>script</mark>&gt;"),  # escaped around the mark, never raw
        ("nothing here", ["zzz", ""], "nothing here"),
    ],
)
def test_highlight_escapes_then_marks(text, needles, expected):
    assert highlight(text, needles) == expected


def test_render_html_marks_the_gold_in_the_passage(qa, index):
    texts = {}
    recs = compare(qa[0].question, four_systems(index), qa, "v1", texts)
    page = render_html(recs, texts, qa[0])
    assert "<mark>23 days</mark>" in page and "none (closed book)" in page


def test_static_table_has_one_row_per_system(qa, index):
    table = static_table(compare(qa[1].question, four_systems(index), qa))
    assert list(table.index) == ["base", "rag", "ft", "hybrid"]
    assert (table.latency_s == 0.3).all() and (table.usd_per_1k_batch1 > 0).all()


def test_panel_callback_without_a_browser(qa, index):
    panel = Panel(four_systems(index), qa)
    panel.typed.value = f"{XSS} refund?"
    recs = panel.run()
    assert len(recs) == 4 and XSS not in panel.html.value and "&lt;script&gt;" in panel.html.value
    panel.typed.value, panel.version.value = "", "v2"
    panel.pick.value = qa[0].question
    recs = panel.run()
    assert [r.version for r in recs] == ["v2"] * 4 and recs[0].qid == "q1"


def test_system_v2_none_means_stale_and_bad_approach_is_refused(index):
    calls = []
    stale = System("ft", Fixed("ft", "x", calls=calls))
    assert stale.approach("v2") is stale.approach("v1")
    stale.answer(["a", "b"], "v2")
    assert calls == [["a", "b"]]
    with pytest.raises(TypeError, match="not an lk.Approach"):
        System("bad", lambda qs: [])

    class Short(Fixed):
        def answer(self, questions):
            return []

    with pytest.raises(RuntimeError, match="returned 0 answers"):
        System("short", Short("short", "x")).answer(["q"])


def test_real_pipelines_on_a_tiny_model(qa, index, tiny_lm):
    systems = [
        System("base", lk.ClosedBook(tiny_lm, max_new_tokens=4)),
        System("rag", RAGPipeline(tiny_lm, index, RAGConfig(top_k=1, max_new_tokens=4))),
    ]
    texts = {}
    recs = compare(qa[1].question, systems, qa, "v1", texts)
    assert [r.approach for r in recs] == ["base", "rag"]
    assert recs[0].passages == [] and len(recs[1].passages) == 1 and recs[1].passages[0] in texts
    assert all(r.prompt_tokens > 0 and r.t_prefill > 0 for r in recs)
    assert recs[1].prompt_tokens > recs[0].prompt_tokens  # the passage is in RAG's prompt


def test_panel_button_label_is_never_cut_off(qa, index):
    panel = Panel(four_systems(index), qa)
    assert panel.button.description == "Ask all 4 systems" and panel.button.layout.width == "auto"


@pytest.mark.slow
@pytest.mark.browser
def test_panel_renders_and_escapes_in_jupyterlab_in_a_real_browser():
    """Notebook 04's panel in JupyterLab, headless Chromium driven by Playwright (tests/browser/panel_check.py).

    Needs `pip install -e .[test]` (Playwright, no browser download) and Debian's `chromium`: skipped without
    them, except under CI=true, where .ci/run installs Chromium and a missing piece is a failure. The
    screenshot stays in build/panel-check/panel.png. `make test` runs this after the notebooks, so their
    adapters are in the cache; from an empty cache it trains them first (minutes).
    """
    from pathlib import Path

    from factories import browser_check

    panel_check = browser_check("panel_check")
    out = Path(__file__).resolve().parent.parent / "build" / "panel-check"
    out.mkdir(parents=True, exist_ok=True)
    seen = panel_check.check(screenshot=out / "panel.png")
    assert (out / "panel.png").stat().st_size > 10_000
    assert seen["systems"] == ["base", "rag", "ft", "ft (documents)", "hybrid"] and not seen["xss_ran"]
