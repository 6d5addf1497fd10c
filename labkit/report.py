"""What a notebook shows a learner: the results box at the end, rate charts with their intervals, prose.

Every number a notebook states comes from its own run: ``say`` renders a sentence built from variables
as Markdown, ``results_box`` collects a run's headline numbers, ``plot_rates`` draws rates with their 95%
intervals, ``check`` tells a learner whether an exercise's change did what was asked. Text is HTML-escaped
before it reaches the page.

Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import html

__all__ = ["results_box", "say", "check", "plot_rates", "run_report", "answers_table"]


def say(text: str):
    """Show ``text`` (Markdown, usually an f-string of measured numbers) as prose in the notebook.

    Introduced in 00_setup_and_tour.ipynb.
    """
    from IPython.display import Markdown, display

    display(Markdown(text))


def check(condition, what: str, hint: str = "") -> bool:
    """An exercise's check: print ``✓ what`` when ``condition`` holds, else ``✗ not yet: hint``; return the bool.

    ``condition`` is a value, or a function of no arguments called here: a check that needs something the
    learner has not written yet (a name, a result) then says "not yet" instead of stopping the cell with
    an error. It never raises, so an exercise cell runs as shipped, before the learner's change.

    >>> check(2 + 2 == 4, "two and two make four")
    ✓ two and two make four
    True
    >>> check(lambda: undefined_name > 0, "the result is positive", hint="compute the result first")
    ✗ not yet: compute the result first (NameError)
    False

    Introduced in 00_setup_and_tour.ipynb.
    """
    error = ""
    if callable(condition):
        try:
            condition = condition()
        except Exception as err:  # the learner's code is not there yet, or not right yet: say so
            condition, error = False, f" ({type(err).__name__})"
    ok = bool(condition)
    print(f"✓ {what}" if ok else f"✗ not yet: {hint or what}{error}")
    return ok


def results_box(title: str, items: dict[str, object]) -> str:
    """An HTML box listing a run's headline numbers (``items``: label -> value already formatted).

    >>> "&lt;b&gt;" in results_box("Run", {"<b>": "1 s"})
    True

    Introduced in 00_setup_and_tour.ipynb.
    """
    rows = "".join(
        f"<tr><td style='text-align:left;padding-right:1em'>{html.escape(str(k))}</td>"
        f"<td style='text-align:left'><b>{html.escape(str(v))}</b></td></tr>"
        for k, v in items.items()
    )
    return (
        f"<div style='border:2px solid #4c72b0;border-radius:6px;padding:8px 12px;margin:8px 0'>"
        f"<div style='font-weight:bold;margin-bottom:4px'>{html.escape(title)}</div>"
        f"<table>{rows}</table></div>"
    )


def run_report(env) -> dict[str, str]:
    """This run's wall time and peak memory, for the results box. Introduced in 00_setup_and_tour.ipynb."""
    from .memory import peak_rss_mb

    return {
        "wall time": f"{env.elapsed():.0f} s",
        "peak memory (RSS)": f"{peak_rss_mb():.0f} MB",
        "dtype / device": f"{str(env.dtype).split('.')[-1]} / {env.device.type}",
    }


def plot_rates(
    records,
    metrics=("accuracy", "correct_abstention", "confidently_wrong"),
    approaches=None,
    ax=None,
    title: str | None = None,
):
    """Grouped bars, one group per metric, one bar per approach, each with its 95% Wilson interval.

    Introduced in 01_rag.ipynb.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .evaluate import rates

    approaches = approaches or list(dict.fromkeys(r.approach for r in records))
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.5 * len(metrics) * max(1, len(approaches)) / 2, 3.2))
    width = 0.8 / len(approaches)
    for i, name in enumerate(approaches):
        mine = [r for r in records if r.approach == name]
        rs = [rates(mine, m) for m in metrics]
        vals = np.array([r.value for r in rs])
        err = np.array([[r.value - r.low for r in rs], [r.high - r.value for r in rs]])
        x = np.arange(len(metrics)) + (i - (len(approaches) - 1) / 2) * width
        ax.bar(x, vals, width, yerr=err, capsize=3, label=name)
    ax.set_xticks(range(len(metrics)), [m.replace("_", " ") for m in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share (95% interval)")
    ax.legend(fontsize=8, ncol=min(4, len(approaches)))
    if title:
        ax.set_title(title)
    return ax


def answers_table(records, questions, approaches=None, n: int = 8):
    """The first ``n`` answerable questions with the gold answer and each approach's reply, side by side.

    ``questions`` are the QA records that were asked (for the gold). Show it with
    ``HTML(table.to_html(escape=True))``: model text is then HTML-escaped.

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    approaches = approaches or list(dict.fromkeys(r.approach for r in records))
    gold = {q.id: q.answer for q in questions if q.answerable}
    rows: dict[str, dict] = {}
    for r in records:
        if r.qid in gold and r.approach in approaches:
            row = rows.setdefault(r.qid, {"question": r.question, "gold": gold[r.qid]})
            row[r.approach] = r.answer
    table = pd.DataFrame(list(rows.values())[:n], columns=["question", "gold", *approaches])
    return table.set_index("question")
