"""The ``labkit compare`` report: one self-contained HTML file (Jinja2, autoescaped; charts as inline PNG).

Every text that comes from your documents, your questions or the models is escaped by the template
engine, never pasted in as HTML; the page loads nothing from anywhere (no script, no font, no image file).

>>> html = render_report(comparison)              # doctest: +SKIP
>>> write_report(comparison, "report.html")       # doctest: +SKIP

Introduced in 06_your_own_documents.ipynb.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import platform
from pathlib import Path

from .cost import Usage, cheapest, cost_over_time, cost_profiles
from .evaluate import rates

__all__ = ["REPORT_METRICS", "REPORT_USAGE", "machine_name", "report_prices", "render_report", "write_report"]

REPORT_METRICS = ("accuracy", "confidently_wrong", "over_abstention", "correct_abstention", "hallucination")
REPORT_USAGE = Usage(queries_per_month=1000, updates_per_month=1, months=24)  # the projection's deployment
_TEMPLATES = Path(__file__).resolve().parent / "templates"


def machine_name() -> str:
    """The CPU's model name (Linux), else the platform's processor string. Introduced in 06_your_own_documents.ipynb."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _examples(res, approaches: list[str], n: int = 8) -> list[dict]:
    """The first ``n`` test questions, each approach's answer beside the passages it was shown."""
    by = {(r.approach, r.qid): r for r in res.records}
    gold = {q.id: (q.answer if q.answerable else "(not in the documents)") for q in res.split.test}
    out = []
    for q in list(res.split.test)[:n]:
        answers = []
        for a in approaches:
            r = by[(a, q.id)]
            correct = r.contains if r.answerable else r.abstained
            shown = [{"id": p, "text": res.passages.get(p, "")} for p in r.passages]
            answers.append({"text": r.answer, "correct": correct, "passages": shown})
        out.append({"question": by[(approaches[0], q.id)].question, "gold": gold[q.id], "answers": answers})
    return out


def report_prices(managed_vector_db: bool = False):
    """The ``CostModel`` a report prices with: the price sheet, with the index held in the serving process
    (no hosting fee) unless ``managed_vector_db``, then at the sheet's monthly minimum.

    A folder of a few dozen pages fits in memory many times over; a managed database's monthly minimum
    would be most of RAG's bill (1,200 USD over 24 months against cents for the fine-tune on 15 pages).

    >>> report_prices().vector_db_usd_per_month, report_prices(True).vector_db_usd_per_month > 0
    (0, True)

    Introduced in 06_your_own_documents.ipynb.
    """
    from .prices import load_prices

    return load_prices() if managed_vector_db else load_prices(vector_db_usd_per_month=0)


def render_report(res, cm=None) -> str:
    """The report's HTML for a ``lk.Comparison``; ``cm`` is the price sheet (default ``report_prices()``:
    the index in the serving process).

    Introduced in 06_your_own_documents.ipynb.
    """
    import jinja2
    import matplotlib.pyplot as plt

    from . import __version__
    from .report import plot_rates

    cm = cm or report_prices()
    approaches = list(dict.fromkeys(r.approach for r in res.records))
    results = []
    for a in approaches:
        mine = [r for r in res.records if r.approach == a]
        cells = [str(rates(mine, m)) for m in REPORT_METRICS]
        results.append({"approach": a, "cells": cells, "seconds": f"{sum(r.latency for r in mine) / len(mine):.2f}"})
    fig, ax = plt.subplots(figsize=(8, 3.2))
    plot_rates(res.records, ("accuracy", "correct_abstention", "confidently_wrong"), approaches, ax=ax)
    rates_png = _png(fig)
    profiles = cost_profiles(res.records, res.upfront_s, res.upfront_s, {a: a in ("rag", "hybrid") for a in approaches})
    curve = cost_over_time(profiles, REPORT_USAGE, cm)
    fig, ax = plt.subplots(figsize=(6, 3))
    curve.plot(ax=ax, ylabel="cumulative USD (log)", title="cost over time")
    ax.set_yscale("symlog", linthresh=0.01)  # one approach can cost 1000x another: keep every line visible
    cost_png = _png(fig)
    u = REPORT_USAGE
    test = list(res.split.test)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("compare_report.html.j2").render(
        corpus=res.cfg.corpus_name, version=__version__, when=dt.date.today().isoformat(), machine=machine_name(),
        docs=Path(res.cfg.docs).name, n_docs=len(res.folder.docs), questions_kind=res.questions_kind,
        n_test=len(test), n_answerable=sum(q.answerable for q in test),
        n_unanswerable=sum(not q.answerable for q in test), n_unscored=res.n_unscored, n_dev=len(res.split.dev),
        metrics=[m.replace("_", " ") for m in REPORT_METRICS], results=results, rates_png=rates_png,
        claims=[{"claim": c, "verdict": v.text, "diff": str(v.diff)} for c, v in res.verdicts],
        usage=f"{u.queries_per_month:,.0f} questions a month, {u.updates_per_month:g} document update a month "
              f"(re-index for RAG and the hybrid, retraining for the fine-tune)",
        hosting=(f"a managed vector database at {cm.vector_db_usd_per_month:g} USD a month for RAG and the hybrid"
                 if cm.vector_db_usd_per_month else "the index held in the serving process (no hosting fee; "
                 "labkit compare --managed-vector-db prices a managed vector database)"),
        upfront=[(a, f"{s:.1f}") for a, s in res.upfront_s.items()], months=u.months,
        cheapest=cheapest(profiles, u, cm), cost_cols=list(curve.columns),
        cost_rows=[{"month": m, "cells": [f"{v:.4f}" for v in curve.loc[m]]} for m in (0, 1, 6, 12, u.months)],
        cost_png=cost_png, approaches=approaches, examples=_examples(res, approaches),
        settings=list(res.settings.items()),
        stages=[(k, {"seconds": f"{v['seconds']:.1f}", "reused": v["reused"],
                     "peak_mb": "" if v.get("peak_mb") is None else f"{v['peak_mb']:,}"})  # None: stored before it
                for k, v in res.stages.items()],  # fmt: skip
        skipped=res.folder.skipped,
        documents=[{"id": d.id, "title": d.title, "words": len(d.text.split())} for d in res.folder.docs],
    )  # fmt: skip


def write_report(res, path: str | Path | None = None, cm=None) -> Path:
    """Write ``render_report`` to ``path`` (default: the config's ``out``), atomically. Returns the path.

    Introduced in 06_your_own_documents.ipynb.
    """
    from .checkpoint import write_atomic

    path = Path(path or res.cfg.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render_report(res, cm))
    return path
