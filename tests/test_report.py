"""What notebooks show: the results box escapes text, the answers table lines up, the rate chart has intervals,
an exercise check says done or not yet and never raises."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
from factories import load_rows, qa_row  # noqa: E402

import labkit as lk  # noqa: E402


def test_results_box_escapes_labels_and_values():
    box = lk.results_box("run <1>", {"<script>x</script>": "1 & 2"})
    assert "<script>" not in box and "&lt;script&gt;" in box and "1 &amp; 2" in box and "run &lt;1&gt;" in box


def test_answers_table_lines_up_gold_and_each_approach(tmp_path):
    qa = load_rows(
        [
            qa_row("q1", "How long?", "23 days", ["d"]),
            qa_row("u1", "Who?", None),
            qa_row("q2", "How much?", "5 EUR", ["d"]),
        ],
        tmp_path,
    )
    recs = [
        lk.evaluate.score(a, q, text, phrasing="heldout", question=q.paraphrases_heldout[0])
        for a, text in (("base", "no idea"), ("rag", "23 days"))
        for q in qa
    ]
    table = lk.answers_table(recs, qa)
    assert list(table.columns) == ["gold", "base", "rag"]
    assert list(table.index) == [qa[0].paraphrases_heldout[0], qa[2].paraphrases_heldout[0]]  # answerable only
    assert table.loc[qa[0].paraphrases_heldout[0], "rag"] == "23 days" and len(lk.answers_table(recs, qa, n=1)) == 1


def test_plot_rates_draws_one_bar_per_approach_and_metric_with_intervals(tmp_path):
    qa = load_rows([qa_row(f"q{i}", f"Q{i}?", f"{i} days", ["d"]) for i in range(10)], tmp_path)
    recs = [lk.evaluate.score(a, q, f"{q.answer}" if a == "good" else "x") for a in ("good", "bad") for q in qa]
    ax = lk.plot_rates(recs, ["accuracy", "confidently_wrong"])
    assert len(ax.patches) == 4 and [round(p.get_height(), 2) for p in ax.patches] == [1.0, 0.0, 0.0, 1.0]
    from matplotlib.container import ErrorbarContainer

    errorbars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(errorbars) == 2 and all(c.has_yerr for c in errorbars)  # the 95% intervals, one set per approach


def _raises():
    raise KeyError("not computed yet")


@pytest.mark.parametrize(
    "condition, hint, printed, expected",
    [
        (True, "", "✓ top_k is 5\n", True),
        (False, "set top_k=5", "✗ not yet: set top_k=5\n", False),
        (False, "", "✗ not yet: top_k is 5\n", False),  # no hint: the goal itself
        (np.bool_(True), "", "✓ top_k is 5\n", True),
        (lambda: 5 == 5, "", "✓ top_k is 5\n", True),
        (lambda: [], "set top_k=5", "✗ not yet: set top_k=5\n", False),  # an empty result is not yet
        (_raises, "set top_k=5", "✗ not yet: set top_k=5 (KeyError)\n", False),  # a check that fails never raises
    ],
)
def test_check_prints_done_or_not_yet_and_returns_the_bool(capsys, condition, hint, printed, expected):
    assert lk.check(condition, "top_k is 5", hint=hint) is expected
    assert capsys.readouterr().out == printed
