"""The side-by-side panel: one question, four systems (base, RAG, fine-tuned, hybrid), their answers,
passages, latency, tokens and cost.

Plain functions do the work (``compare`` -> Records, ``render_html`` -> an escaped HTML string,
``static_table`` -> a DataFrame); :class:`Panel` is a thin ipywidgets layer over them, so the logic is
tested without a browser and the results still show where widgets cannot render.

Introduced in 04_side_by_side.ipynb.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from .cost import CostModel, cost_per_1k
from .data import PHRASINGS, QARecord, check_house_style, doc_tags, wordings
from .evaluate import Record, is_abstention, score
from .protocol import Approach

__all__ = ["System", "find_qa", "compare", "highlight", "render_html", "static_table", "Panel"]


@dataclass
class System:
    """A named question-answering system: the approach it uses with each knowledge-base version.

    ``v1`` / ``v2`` are ``lk.Approach`` objects (``lk.ClosedBook``, ``lk.RAGPipeline``,
    ``lk.HybridPipeline``, ...). ``v2=None`` means the v2 update never reaches the system (a closed-book
    model answers from its weights whatever the documents say).

    >>> base = System("base", lk.ClosedBook(lm))                        # doctest: +SKIP
    >>> base.answer(["Who founded Tessavik?"], "v2")[0].text              # doctest: +SKIP

    Introduced in 04_side_by_side.ipynb.
    """

    name: str
    v1: Approach  # used with the v1 knowledge base
    v2: Approach | None = None  # used with v2; None = the same as v1 (stale by construction)
    upfront_s: float = 0.0  # measured seconds of machine time before the first query (index, training)
    absorb_s: float | None = None  # measured seconds to absorb the v2 update; None = not applicable

    def __post_init__(self):
        for version, approach in (("v1", self.v1), ("v2", self.v2)):
            if approach is not None and not isinstance(approach, Approach):
                raise TypeError(
                    f"System {self.name!r}: its {version} approach is a {type(approach).__name__}, "
                    f"not an lk.Approach (.name, .answer(questions), .fingerprint())."
                )

    def approach(self, version: str = "v1") -> Approach:
        if version not in ("v1", "v2"):
            raise ValueError(f"version must be 'v1' or 'v2', got {version!r}")
        return self.v2 if version == "v2" and self.v2 is not None else self.v1

    def answer(self, questions: list[str], version: str = "v1") -> list:
        out = self.approach(version).answer(list(questions))
        if len(out) != len(questions):
            raise RuntimeError(f"system {self.name!r} returned {len(out)} answers for {len(questions)} questions")
        return out

    def passage_texts(self, version: str = "v1") -> dict[str, str]:
        """Passage id -> text for the passages this system can retrieve (empty for closed book)."""
        retriever = getattr(self.approach(version), "retriever", None)
        return {c.id: c.search_text for c in getattr(retriever, "chunks", [])}


def find_qa(question: str, qa: list[QARecord] | None) -> tuple[QARecord | None, str]:
    """The QA record whose canonical or paraphrased wording is ``question`` (case/space-insensitive).

    Returns (record, phrasing) with phrasing "question", "train" or "heldout"; (None, "typed") when the
    question is not in the set, so it cannot be scored.

    Introduced in 04_side_by_side.ipynb.
    """
    key = " ".join(question.lower().split())
    for rec in qa or []:
        for phrasing in PHRASINGS:
            if any(" ".join(t.lower().split()) == key for t in wordings(rec, phrasing)):
                return rec, phrasing
    return None, "typed"


def _cited(answer) -> list[str]:
    """Doc ids the answer cites: what the approach reported, plus any [doc-id] tags in its text."""
    cited = list(getattr(answer, "cited", []) or [])
    return cited + [t for t in doc_tags(answer.text) if t not in cited]


def _unscored(approach: str, question: str, answer, version: str) -> Record:
    """A Record for a typed question without gold: correctness fields stay at their defaults."""
    return Record(
        approach=approach,
        qid="typed",
        phrasing="typed",
        version=version,
        question=question,
        answer=answer.text,
        answerable=False,
        abstained=is_abstention(answer.text),
        cited=_cited(answer),
        style_ok=check_house_style(answer.text).ok,
        passages=list(answer.passages),
        **answer.costs(),
    )


def compare(
    question: str,
    systems: list[System],
    qa: list[QARecord] | QARecord | None = None,
    version: str = "v1",
    texts: dict | None = None,
) -> list[Record]:
    """Ask every system one question; one Record per system, scored when the question is in ``qa``.

    ``qa`` is the QA set (the question is looked up by wording) or one QARecord. ``texts``, when given,
    is filled with passage id -> passage text for ``render_html``.

    >>> recs = compare("What is the refund window?", systems, qa=lk.load_qa())   # doctest: +SKIP
    >>> [r.approach for r in recs]                                              # doctest: +SKIP
    ['base', 'rag', 'ft', 'hybrid']

    Introduced in 04_side_by_side.ipynb.
    """
    if version not in ("v1", "v2"):
        raise ValueError(f"version must be 'v1' or 'v2', got {version!r}")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("compare() needs a non-empty question string")
    if isinstance(qa, QARecord):
        rec, phrasing = qa, "question" if qa.question == question else "typed"
    else:
        rec, phrasing = find_qa(question, qa)
    records = []
    for system in systems:
        ans = system.answer([question], version)[0]
        if texts is not None and ans.passages:
            known = {**system.passage_texts(version), **dict(zip(ans.passages, ans.context))}  # as shown
            texts.update({pid: known.get(pid, "(passage text not available)") for pid in ans.passages})
        if rec is None:
            records.append(_unscored(system.name, question, ans, version))
        else:
            records.append(
                score(
                    system.name,
                    rec,
                    ans.text,
                    phrasing=phrasing,
                    question=question,
                    version=version,
                    cited=_cited(ans),
                    passages=list(ans.passages),
                    context=list(ans.context),
                    confidence=ans.confidence,
                    **ans.costs(),
                )
            )
    return records


def _answer_core(answer: str) -> str:
    """The answer without its source tag and final full stop: the part worth finding in a passage."""
    return re.sub(r"\s*\[[^\]]*\]\s*\.?\s*$", "", answer).strip().rstrip(".").strip()


def highlight(text: str, needles: list[str]) -> str:
    """HTML-escape ``text`` and wrap every (case-insensitive) occurrence of a needle in ``<mark>``.

    Spans are found in the raw text, merged when they overlap, and each piece is escaped on its own,
    so a needle can never match inside an HTML entity and nothing unescaped reaches the page.

    >>> highlight("Refunds within 23 days <b>", ["23 days"])
    'Refunds within <mark>23 days</mark> &lt;b&gt;'

    Introduced in 04_side_by_side.ipynb.
    """
    spans = []
    low = text.lower()
    for needle in {n.strip().lower() for n in needles if n and len(n.strip()) >= 2}:
        start = low.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = low.find(needle, start + 1)
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        out += [html.escape(text[pos:a]), "<mark>", html.escape(text[a:b]), "</mark>"]
        pos = b
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _needles(record: Record, qa: QARecord | None) -> list[str]:
    """What to highlight in a passage: the gold answer and aliases, the answer, numbers in the answer."""
    needles = [_answer_core(record.answer)]
    needles += re.findall(r"\d[\d.,:]*\d(?:\s?%)?", record.answer)  # '23', '47.80', '07:30'
    if qa is not None and qa.is_answerable(record.version):
        gold, aliases, _ = qa.gold(record.version)
        needles += [gold, *aliases]
    return [n for n in needles if n]


def _verdict(record: Record) -> str:
    if record.qid == "typed":
        return "— (no gold)"
    if not record.answerable:
        return "✓ declined" if record.abstained else "✗ answered an unanswerable question"
    return "✓ correct" if record.contains else ("✗ declined" if record.abstained else "✗ wrong")


def render_html(
    records: list[Record], texts: dict | None = None, qa: QARecord | None = None, cost: CostModel | None = None
) -> str:
    """One HTML table, a row per system; every model output and typed text is escaped.

    ``texts`` maps passage id -> text (filled by ``compare``); passages show with the answer/gold
    highlighted. ``qa`` is the question's QA record when known (for the gold and the highlight).

    >>> "&lt;script&gt;" in render_html([lk.Record("x", "q", "typed", "v1", "<script>", "", False)])  # doctest: +SKIP
    True

    Introduced in 04_side_by_side.ipynb.
    """
    if not records:
        return "<p>No answers yet.</p>"
    texts, cost, esc = texts or {}, cost or CostModel(), html.escape
    head = f"<p><b>Question</b> ({esc(records[0].version)}): {esc(records[0].question)}</p>"
    if qa is not None and qa.is_answerable(records[0].version):
        head += f"<p><b>Gold</b>: {esc(qa.gold(records[0].version)[0])}</p>"
    rows = []
    for r in records:
        passages = (
            "".join(
                f"<details><summary>{esc(pid)}</summary>"
                f"<div>{highlight(texts.get(pid, '(text not kept)'), _needles(r, qa))}</div></details>"
                for pid in r.passages
            )
            or "<i>none (closed book)</i>"
        )
        split = (
            f"embed {r.t_embed:.3f} + search {r.t_search:.3f} + prefill {r.t_prefill:.2f} + "
            f"decode {r.t_decode:.2f} = <b>{r.latency:.2f} s</b>"
        )
        usd = cost_per_1k(r.latency, r.prompt_tokens, r.completion_tokens, cost)
        rows.append(
            f"<tr><td><b>{esc(r.approach)}</b></td><td>{esc(r.answer)}</td><td>{esc(_verdict(r))}</td>"
            f"<td>{passages}</td><td>{split}</td><td>{r.prompt_tokens} + {r.completion_tokens}</td>"
            f"<td>${usd:.4f}</td></tr>"
        )
    header = (
        "<tr><th>system</th><th>answer</th><th>verdict</th><th>passages</th><th>latency (s)</th>"
        "<th>tokens (prompt + answer)</th><th>USD / 1k queries like this one, batch 1</th></tr>"
    )
    return f"{head}<table>{header}{''.join(rows)}</table>"


def static_table(records: list[Record], cost: CostModel | None = None):
    """The panel's content as a DataFrame: what shows where widgets cannot (GitHub, CI, nbconvert).

    Introduced in 04_side_by_side.ipynb.
    """
    import pandas as pd

    cost = cost or CostModel()
    return pd.DataFrame(
        [
            {
                "system": r.approach,
                "answer": r.answer,
                "verdict": _verdict(r),
                "passages": ", ".join(r.passages),
                "latency_s": round(r.latency, 3),
                "prefill_s": round(r.t_prefill, 3),
                "decode_s": round(r.t_decode, 3),
                "retrieval_s": round(r.t_embed + r.t_search, 4),
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "usd_per_1k_batch1": round(cost_per_1k(r.latency, r.prompt_tokens, r.completion_tokens, cost), 5),
            }
            for r in records
        ]
    ).set_index("system")


class Panel:
    """ipywidgets panel: pick a QA question or type one, pick v1/v2, run the systems, see them side by side.

    >>> panel = Panel(systems, lk.load_qa())      # doctest: +SKIP
    >>> panel.widget                              # doctest: +SKIP

    ``panel.run()`` is the button's callback; it works without a browser and keeps the last Records
    in ``panel.records`` and the HTML in ``panel.html.value``.

    Introduced in 04_side_by_side.ipynb.
    """

    def __init__(
        self, systems: list[System], qa: list[QARecord], cost: CostModel | None = None, max_questions: int = 200
    ):
        import ipywidgets as w

        self.systems, self.qa, self.cost = systems, list(qa), cost or CostModel()
        options = [(f"{q.id}: {q.question}"[:110], q.question) for q in self.qa[:max_questions]]
        self.pick = w.Dropdown(options=options, description="Question", layout=w.Layout(width="95%"))
        self.typed = w.Text(
            placeholder="...or type your own question (overrides the list)", layout=w.Layout(width="95%")
        )
        self.version = w.ToggleButtons(options=["v1", "v2"], value="v1", description="Knowledge base")
        self.button = w.Button(
            description=f"Ask all {len(systems)} systems", button_style="primary", layout=w.Layout(width="auto")
        )  # auto: the label is never cut off
        self.html = w.HTML()
        self.records: list[Record] = []
        self.button.on_click(self.run)
        self.widget = w.VBox([self.pick, self.typed, self.version, self.button, self.html])

    def question(self) -> str:
        return self.typed.value.strip() or self.pick.value

    def run(self, _button=None) -> list[Record]:
        """The callback: compare() then render_html(); errors show in the panel, escaped."""
        question, texts = self.question(), {}
        try:
            self.records = compare(question, self.systems, self.qa, self.version.value, texts)
        except Exception as err:  # show the problem where the learner looks, and keep the panel alive
            self.html.value = f"<pre>{html.escape(type(err).__name__ + ': ' + str(err))}</pre>"
            raise
        rec, _ = find_qa(question, self.qa)
        self.html.value = render_html(self.records, texts, rec, self.cost)
        return self.records

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
