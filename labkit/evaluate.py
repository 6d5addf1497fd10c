"""Answer scoring and the one per-query record every approach reports (base, RAG, fine-tuned, hybrid).

No judge model: exact match, contains-gold and token F1 against the gold answer and its aliases;
abstention, hallucination and citation checks by rule. ``summarize`` turns records into the table
that notebook 04 puts side by side.

Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from .data import ABSTENTION, QARecord, check_house_style, doc_tags

__all__ = [
    "METRICS",
    "Record",
    "STAGES",
    "claim",
    "contains_gold",
    "exact_match",
    "is_abstention",
    "latency_breakdown",
    "normalize",
    "outcome",
    "paired",
    "plot_latency",
    "rate_table",
    "rates",
    "score",
    "summarize",
    "token_f1",
]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_P = re.escape(string.punctuation)
_PUNCT = re.compile(rf"(?<!\d)[{_P}]|[{_P}](?!\d)")
# Source tags like [refund-policy] or passage numbers like [2, 3], also garbled ones a small model writes
# ("[refund- [refund-policy]"). Only id-like text: a markdown link's text ("[Permission Model](x.md)",
# "[Server Name Indication][sni]", "[`URL`]") is part of the answer, and dropping it lost gold answers.
_TAG_ID = r"[a-z0-9][a-z0-9._/&-]*"  # a document id, or what a model made of one: no spaces, no backticks
_TAGS = re.compile(rf"\s*\[(?:[^\[\]\s]*\s*\[)?(?:{_TAG_ID}|\d+(?:\s*,\s*\d+)*)?\](?![(\[])")


def normalize(text: str) -> str:
    """Lower-case; drop source tags, articles and punctuation (but keep '47.80' and '07:30'); squash spaces.

    >>> normalize("The fee is 47.80 EUR [pricing].")
    'fee is 47.80 eur'
    >>> normalize("See [Permission Model](permissions.md) [1, 2].")  # link text is text, [1, 2] a tag
    'see permission model permissions md'

    Introduced in 01_rag.ipynb.
    """
    text = _TAGS.sub(" ", text.lower())
    text = _PUNCT.sub(" ", text)  # punctuation goes unless it sits between two digits
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: list[str]) -> bool:
    """Normalised prediction equals a normalised gold answer or alias.

    >>> exact_match("23 days.", ["23 days", "twenty-three days"])
    True
    >>> exact_match("About 23 days", ["23 days"])
    False

    Introduced in 01_rag.ipynb.
    """
    pred = normalize(prediction)
    return any(pred == normalize(g) for g in golds if g)


def contains_gold(prediction: str, golds: list[str]) -> bool:
    """A normalised gold answer or alias occurs in the prediction as whole words.

    >>> contains_gold("You have 23 days to ask.", ["23 days"])
    True
    >>> contains_gold("You have 123 days.", ["23 days"])
    False

    Introduced in 01_rag.ipynb.
    """
    pred = f" {normalize(prediction)} "
    return any(f" {normalize(g)} " in pred for g in golds if g and normalize(g))


def token_f1(prediction: str, golds: list[str]) -> float:
    """Best SQuAD-style token F1 over the gold answer and aliases.

    >>> round(token_f1("23 days total", ["23 days"]), 3)
    0.8

    Introduced in 01_rag.ipynb.
    """
    pred = normalize(prediction).split()
    best = 0.0
    for gold in golds:
        ref = normalize(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


_ABSTAIN_PATTERNS = re.compile(  # ' and the typographic apostrophe; "not available" alone is an answer
    r"i (?:don['’]?t|do not) know|not (?:mentioned|stated|specified)|not (?:provided|available|found|given) in "
    r"the (?:documentation|context|passages?|text|documents?)|no information|"
    r"(?:cannot|can['’]?t|unable to) (?:find|answer|determine)|(?:does|do) not (?:say|mention|specify)",
    re.IGNORECASE,
)


def is_abstention(answer: str) -> bool:
    """Did the system decline to answer? The house abstention sentence or a common paraphrase of it.

    >>> is_abstention("I don't know based on the documentation."), is_abstention("It is 23 days.")
    (True, False)
    >>> is_abstention("Export is not available on the Basic plan.")   # an answer, not a refusal
    False

    Introduced in 01_rag.ipynb.
    """
    return answer.strip() == ABSTENTION or bool(_ABSTAIN_PATTERNS.search(answer))


@dataclass
class Record:
    """One question answered by one approach: what was said, whether it was right, and what it cost.

    Times are seconds per query. For batched generation they are the batch's time divided by its size.

    Introduced in 00_setup_and_tour.ipynb.
    """

    approach: str  # the approach's name (lk.Approach.name), e.g. "base", "rag", "ft", "hybrid"
    qid: str
    phrasing: str  # "question", "train" or "heldout": which wording was asked
    version: str  # "v1" or "v2": whose gold answer it is scored against
    question: str
    answer: str
    answerable: bool
    em: bool = False
    contains: bool = False
    f1: float = 0.0
    abstained: bool = False
    hallucinated: bool = False  # answered (no abstention) but unanswerable, or answered wrongly
    cited: list[str] = field(default_factory=list)  # doc ids the answer cites
    citation_ok: bool | None = None  # all cited docs support the gold; None when nothing was cited
    style_ok: bool = False  # house style: one sentence + [doc-id] tag, or the abstention sentence
    passages: list[str] = field(default_factory=list)  # chunk ids put in the prompt
    context: list[str] = field(default_factory=list)  # the passage texts the reader was shown
    confidence: float | None = None  # retrieval's top-1 score, what an abstention threshold compares
    t_embed: float = 0.0  # seconds: embedding the query
    t_search: float = 0.0  # seconds: the index search
    t_prefill: float = 0.0  # seconds: reading the prompt, up to the first answer token
    t_decode: float = 0.0  # seconds: the remaining answer tokens
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def latency(self) -> float:
        return self.t_embed + self.t_search + self.t_prefill + self.t_decode

    def as_dict(self) -> dict:
        row = asdict(self)
        row["latency"] = self.latency
        return row


def score(
    approach: str,
    qa: QARecord,
    answer: str,
    *,
    phrasing: str = "question",
    question: str | None = None,
    version: str = "v1",
    cited: list[str] | None = None,
    **costs,
) -> Record:
    """Score one answer against the gold of ``qa`` under knowledge-base ``version`` into a Record.

    >>> r = score("rag", qa, "Refunds can be requested within 23 days [refund-policy].")  # doctest: +SKIP
    >>> r.contains, r.citation_ok                                                          # doctest: +SKIP
    (True, True)

    ``cited`` defaults to the ``[doc-id]`` tags in the answer. ``costs`` are the Record's timing and
    token fields.

    Introduced in 01_rag.ipynb.
    """
    gold, aliases, doc_ids = qa.gold(version)
    answerable = qa.is_answerable(version)
    golds = [gold, *aliases] if answerable else []
    abstained = is_abstention(answer)
    if cited is None:
        cited = doc_tags(answer)
    contains = contains_gold(answer, golds) if answerable else False
    return Record(
        approach=approach,
        qid=qa.id,
        phrasing=phrasing,
        version=version,
        question=question if question is not None else qa.question,
        answer=answer,
        answerable=answerable,
        em=exact_match(answer, golds) if answerable else False,
        contains=contains,
        f1=token_f1(answer, golds) if answerable else 0.0,
        abstained=abstained,
        hallucinated=not abstained and (not answerable or not contains),
        cited=list(cited),
        citation_ok=(all(c in doc_ids for c in cited) if cited and answerable else None),
        style_ok=check_house_style(answer).ok,
        **costs,
    )


# Each rate is defined once, here: per record an outcome (True/False) or None where it does not apply.
METRICS = {
    "accuracy": ("answerable", lambda r: r.contains),  # the gold answer (or an alias) is in the reply
    "exact": ("answerable", lambda r: r.em),  # the reply *is* the gold answer, after normalisation
    "confidently_wrong": ("answerable", lambda r: not r.abstained and not r.contains),
    "over_abstention": ("answerable", lambda r: r.abstained),  # declined a question the docs answer
    "correct_abstention": ("unanswerable", lambda r: r.abstained),
    "answered_unanswerable": ("unanswerable", lambda r: not r.abstained),
    "hallucination": ("all", lambda r: r.hallucinated),  # confidently_wrong + answered_unanswerable, pooled
    "coverage": ("answerable", lambda r: not r.abstained),  # answered at all (1 - over_abstention)
    "selective_accuracy": ("answered_answerable", lambda r: r.contains),  # correct among those it answered
    "citation_accuracy": ("cited", lambda r: r.citation_ok),  # every cited document holds the answer
    "style_answered": ("answered", lambda r: r.style_ok),  # house style, among the questions it answered
    "style": ("all", lambda r: r.style_ok),
}
_APPLIES = {
    "answerable": lambda r: r.answerable,
    "unanswerable": lambda r: not r.answerable,
    "all": lambda r: True,
    "answered": lambda r: not r.abstained,
    "answered_answerable": lambda r: r.answerable and not r.abstained,
    "cited": lambda r: r.answerable and not r.abstained and r.citation_ok is not None,
}


def outcome(record: Record, metric: str) -> bool | None:
    """One record's outcome for ``metric`` (see ``METRICS``); None when the metric does not apply.

    >>> r = Record("x", "q1", "heldout", "v1", "?", "I don't know.", answerable=True, abstained=True)
    >>> outcome(r, "over_abstention"), outcome(r, "correct_abstention")
    (True, None)

    Introduced in 01_rag.ipynb.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {sorted(METRICS)}")
    applies, fn = METRICS[metric]
    return bool(fn(record)) if _APPLIES[applies](record) else None


def rates(records: list[Record], metric: str):
    """``lk.Rate`` (share with its 95% Wilson interval) of ``metric`` over the records where it applies.

    Introduced in 01_rag.ipynb.
    """
    from .stats import rate

    return rate([o for r in records if (o := outcome(r, metric)) is not None])


def _by_approach(records: list[Record]) -> dict[str, list[Record]]:
    if not records:
        raise ValueError("need at least one Record")
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(r.approach, []).append(r)
    return groups


def summarize(records: list[Record], metrics=tuple(METRICS)):
    """One row per approach: each rate with its 95% interval (``<metric>_lo``, ``<metric>_hi``), and cost.

    Rates are kept apart, never merged: ``accuracy`` and ``exact`` on answerable questions,
    ``confidently_wrong`` (answered wrongly) and ``over_abstention`` (declined) on answerable ones,
    ``correct_abstention`` on unanswerable ones; ``hallucination`` pools the two kinds of confident
    error over all questions and is shown beside its two parts. ``s_per_query`` is machine time per
    query as measured (amortised over the batch the answers were generated in).

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    rows = []
    for approach, group in _by_approach(records).items():
        row = {
            "approach": approach,
            "n": len(group),
            "n_answerable": sum(r.answerable for r in group),
            "n_unanswerable": sum(not r.answerable for r in group),
        }
        for m in metrics:
            rt = rates(group, m)
            row.update({m: rt.value, f"{m}_lo": rt.low, f"{m}_hi": rt.high})
        row.update(
            {
                "s_per_query": float(np.mean([r.latency for r in group])),
                "prompt_tokens": float(np.mean([r.prompt_tokens for r in group])),
                "completion_tokens": float(np.mean([r.completion_tokens for r in group])),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("approach")


def rate_table(
    records: list[Record],
    metrics=("accuracy", "confidently_wrong", "over_abstention", "correct_abstention", "hallucination"),
):
    """The rates as readable text, one cell per approach and metric: ``0.42 [0.33, 0.51] (43/102)``.

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    return pd.DataFrame(
        {approach: {m: str(rates(group, m)) for m in metrics} for approach, group in _by_approach(records).items()}
    ).T


def paired(records: list[Record], a: str, b: str, metric: str, common: bool = False) -> tuple[list[bool], list[bool]]:
    """The outcomes of approaches ``a`` and ``b`` on the same questions, in the same order.

    Both must have answered exactly the same (question, wording, version) set: a paired comparison
    of different questions would compare the questions, not the approaches. A metric that applies to
    what each one answered (``style_answered``) is refused, unless ``common=True``: then only the
    questions where it applies to both are paired (e.g. house style on the questions both answered).

    Introduced in 01_rag.ipynb.
    """

    def keyed(name):
        out = {(r.qid, r.question, r.version): outcome(r, metric) for r in records if r.approach == name}
        if not out:
            raise ValueError(f"no records of approach {name!r}; have {sorted({r.approach for r in records})}")
        return out

    ka, kb = keyed(a), keyed(b)
    if set(ka) != set(kb):
        raise ValueError(
            f"{a!r} and {b!r} answered different questions ({len(set(ka) ^ set(kb))} differ): "
            f"run both on the same list with the same wording."
        )
    keys = [k for k in sorted(ka) if ka[k] is not None and (kb[k] is not None or not common)]
    if common and not keys:
        raise ValueError(f"metric {metric!r} applies to no question for both {a!r} and {b!r}")
    if not common and (any(kb[k] is None for k in keys) or sum(v is not None for v in kb.values()) != len(keys)):
        raise ValueError(
            f"metric {metric!r} applies to different questions for {a!r} and {b!r} (it depends on "
            f"what each answered): pair a metric defined on the same questions, e.g. 'style', or pass "
            f"common=True to compare on the questions where it applies to both."
        )
    return [ka[k] for k in keys], [kb[k] for k in keys]


def claim(records: list[Record], a: str, b: str, metric: str, higher_is_better: bool = True, common: bool = False):
    """``lk.verdict`` of "approach ``a`` beats ``b`` on ``metric``", paired over the same questions
    (``common``: see ``paired``).

    >>> claim(records, "rag", "base", "accuracy").text                # doctest: +SKIP
    'holds'

    Introduced in 01_rag.ipynb.
    """
    from .stats import verdict

    return verdict(*paired(records, a, b, metric, common), higher_is_better=higher_is_better)


STAGES = ("t_embed", "t_search", "t_prefill", "t_decode")  # a Record's (and an Answer's) timed stages, seconds


def latency_breakdown(records: list[Record]):
    """Mean milliseconds per query in each stage (embed query, search, prefill, decode), per approach.

    >>> latency_breakdown([Record("rag", "q1", "question", "v1", "?", "x", True, t_prefill=0.2)])
    ... # doctest: +NORMALIZE_WHITESPACE
              embed_ms  search_ms  prefill_ms  decode_ms  total_ms
    approach
    rag            0.0        0.0       200.0        0.0     200.0

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    if not records:
        raise ValueError("latency_breakdown() needs at least one Record")
    df = pd.DataFrame([r.as_dict() for r in records])
    out = df.groupby("approach", sort=False)[list(STAGES)].mean() * 1e3
    out.columns = [c[2:] + "_ms" for c in STAGES]
    out["total_ms"] = out.sum(axis=1)
    return out


def plot_latency(records: list[Record], ax=None, title: str = "Latency per query, by stage"):
    """Stacked bars of ``latency_breakdown``: where each approach spends its time.

    Introduced in 01_rag.ipynb.
    """
    import matplotlib.pyplot as plt

    table = latency_breakdown(records).drop(columns="total_ms")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    table.plot.barh(stacked=True, ax=ax, color=["#4c72b0", "#55a868", "#c44e52", "#dd8452"])
    ax.set_xlabel("milliseconds per query (mean)")
    ax.set_ylabel("")
    ax.set_title(title)
    ax.legend([c.replace("_ms", "") for c in table.columns], loc="lower right", fontsize=8)
    return ax
