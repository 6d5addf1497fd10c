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

from .data import ABSTENTION, QARecord, check_house_style

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = re.compile(r"(?<!\d)[%s]|[%s](?!\d)" % (re.escape(string.punctuation), re.escape(string.punctuation)))
_TAGS = re.compile(r"\s*\[[^\]]*\]")  # source tags like [refund-policy] or passage numbers like [2]


def normalize(text: str) -> str:
    """Lower-case; drop source tags, articles and punctuation (but keep '47.80' and '07:30'); squash spaces.

    >>> normalize("The fee is 47.80 EUR [pricing].")
    'fee is 47.80 eur'

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
    re.IGNORECASE)


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
    """

    approach: str  # e.g. "base", "rag", "ft-lora", "hybrid"
    qid: str
    phrasing: str  # "question", "train" or "heldout": which wording was asked
    kb_version: str  # "v1" or "v2": whose gold answer it is scored against
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


_CITED = re.compile(r"\[([a-z0-9-]*[a-z][a-z0-9-]*)\]")  # [doc-id] tags; not passage numbers like [2]


def score(approach: str, qa: QARecord, answer: str, *, phrasing: str = "question", question: str | None = None,
          version: str = "v1", cited: list[str] | None = None, **costs) -> Record:
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
        cited = _CITED.findall(answer)
    contains = contains_gold(answer, golds) if answerable else False
    return Record(
        approach=approach, qid=qa.id, phrasing=phrasing, kb_version=version,
        question=question if question is not None else qa.question, answer=answer, answerable=answerable,
        em=exact_match(answer, golds) if answerable else False, contains=contains,
        f1=token_f1(answer, golds) if answerable else 0.0, abstained=abstained,
        hallucinated=not abstained and (not answerable or not contains),
        cited=list(cited), citation_ok=(all(c in doc_ids for c in cited) if cited and answerable else None),
        style_ok=check_house_style(answer).ok, **costs)


def summarize(records: list[Record]):
    """One row per approach: accuracy on answerable questions, behaviour on unanswerable ones, cost.

    Columns: ``em``, ``contains``, ``f1`` (answerable only); ``abstain_unans`` (share of unanswerable
    questions declined: higher is better); ``halluc_unans`` (unanswerable but answered);
    ``abstain_ans`` (answerable but declined); ``confident_wrong`` (answerable, answered wrongly without
    declining); ``hallucination`` (both, over
    all questions); ``citation_ok``; ``style_ok``; ``p50_latency_s``; mean prompt/completion tokens.

    Introduced in 01_rag.ipynb.
    """
    import pandas as pd

    if not records:
        raise ValueError("summarize() needs at least one Record")
    df = pd.DataFrame([r.as_dict() for r in records])
    rows = []
    for approach, g in df.groupby("approach", sort=False):
        ans, unans = g[g.answerable], g[~g.answerable]
        rows.append({
            "approach": approach, "n": len(g),
            "em": ans.em.mean(), "contains": ans.contains.mean(), "f1": ans.f1.mean(),
            "abstain_unans": unans.abstained.mean() if len(unans) else float("nan"),
            "halluc_unans": (~unans.abstained).mean() if len(unans) else float("nan"),
            "abstain_ans": ans.abstained.mean() if len(ans) else float("nan"),  # over-cautious refusals
            "confident_wrong": (ans.hallucinated).mean() if len(ans) else float("nan"),
            "hallucination": g.hallucinated.mean(),
            "citation_ok": g.citation_ok.dropna().astype(float).mean() if g.citation_ok.notna().any() else float("nan"),
            "style_ok": g.style_ok.mean(),
            "p50_latency_s": g.latency.median(),
            "prompt_tokens": g.prompt_tokens.mean(), "completion_tokens": g.completion_tokens.mean(),
        })
    return pd.DataFrame(rows).set_index("approach")


_STAGES = ("t_embed", "t_search", "t_prefill", "t_decode")


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
    out = df.groupby("approach", sort=False)[list(_STAGES)].mean() * 1e3
    out.columns = [c[2:] + "_ms" for c in _STAGES]
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
