"""The hybrid: a model fine-tuned to answer from retrieved passages (RAFT), then used with retrieval.

RAFT (Zhang et al. 2024, arXiv 2403.10131): each training example is a question with a handful of
retrieved passages. In a share ``p_oracle`` of the examples one of them is the *oracle* (the passage
holding the answer), the rest are *distractors*; otherwise all are distractors. The target is the house-style cited
answer. The model learns to find the answer among noise, to cite it, and to keep the style; at inference
the same prompt is filled by the RAG retriever.

Introduced in 03_hybrid.ipynb.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .data import TRAIN_WORDINGS, WORKBOOK_CORPUS, QARecord, abstention_sentence, doc_tags, wordings
from .evaluate import contains_gold
from .generate import BATCH_SIZE
from .rag import RAGConfig, RAGPipeline, build_prompt, right_over_all

__all__ = [
    "HYBRID_SYSTEM",
    "hybrid_system",
    "RAFTConfig",
    "RAFTExample",
    "oracle_chunk",
    "pick_distractors",
    "make_raft_examples",
    "raft_messages",
    "train_raft",
    "HybridPipeline",
    "DECLINE_BIASES",
    "tune_decline_bias",
]


def hybrid_system(corpus: str) -> str:
    """The hybrid's system prompt for a corpus: the same in training and at inference, so the model is
    trained on exactly what it will see. Short on purpose: it is in every training example, and every
    token of it costs training time.

    >>> hybrid_system("Acme").endswith("reply: I don't know based on the Acme documentation.")
    True

    Introduced in 03_hybrid.ipynb (the corpus name as a parameter: 06_your_own_documents.ipynb).
    """
    return (
        "Answer from the passages in one sentence ending with the source id, e.g. [refund-policy]. "
        f"If they do not say, reply: {abstention_sentence(corpus)}"
    )


HYBRID_SYSTEM = hybrid_system(WORKBOOK_CORPUS)  # the workbook's own
DISTRACTOR_KINDS = ("retrieved", "random")


@dataclass(frozen=True)
class RAFTConfig:
    """The RAFT recipe's knobs.

    >>> RAFTConfig(p_oracle=0.8, n_distractors=2).k      # passages per prompt, train and inference
    3

    The ablation "no distractors" is ``RAFTConfig(p_oracle=1.0, n_distractors=0)``: the oracle alone.

    Introduced in 03_hybrid.ipynb.
    """

    p_oracle: float = 0.8  # share of examples whose passages include the oracle (paper: 0.4 to 1.0)
    n_distractors: int = 2  # irrelevant passages per example (paper: 4); prompt length grows with it
    distractors: str = "retrieved"  # "retrieved": the retriever's top non-gold hits (hard); "random"
    phrasings: tuple[str, ...] = TRAIN_WORDINGS  # which wordings of each question become examples
    include_unanswerable: bool = True  # unanswerable questions -> abstention over distractors only
    seed: int = 0  # RNG seed: which examples lose the oracle, distractor order, passage order

    def __post_init__(self):
        if not isinstance(self.p_oracle, (int, float)) or not 0.0 <= self.p_oracle <= 1.0:
            raise ValueError(f"RAFTConfig.p_oracle must be a probability in [0, 1], got {self.p_oracle!r}")
        if not isinstance(self.n_distractors, int) or self.n_distractors < 0:
            raise ValueError(f"RAFTConfig.n_distractors must be an int >= 0, got {self.n_distractors!r}")
        if self.n_distractors == 0 and self.p_oracle < 1.0:
            raise ValueError(
                "RAFTConfig: with n_distractors=0 an example without the oracle would have no "
                "passage at all; set p_oracle=1.0 (oracle-only ablation) or n_distractors >= 1."
            )
        if self.distractors not in DISTRACTOR_KINDS:
            raise ValueError(f"RAFTConfig.distractors must be one of {DISTRACTOR_KINDS}, got {self.distractors!r}")
        bad = set(self.phrasings) - set(TRAIN_WORDINGS)
        if not self.phrasings or bad:
            raise ValueError(
                f"RAFTConfig.phrasings must be a non-empty subset of {TRAIN_WORDINGS}, got "
                f"{self.phrasings!r} (held-out paraphrases are kept for evaluation)"
            )

    @property
    def k(self) -> int:
        """Passages per prompt: the oracle's slot plus the distractors."""
        return 1 + self.n_distractors


@dataclass
class RAFTExample:
    """One training example and how it was made (for inspection and for the ablation's bookkeeping).

    Introduced in 03_hybrid.ipynb.
    """

    qid: str
    question: str
    passages: list  # lk.Chunk objects in prompt order
    has_oracle: bool
    target: str  # the assistant turn: house-style cited answer or the abstention sentence
    system: str = HYBRID_SYSTEM  # the system prompt (hybrid_system of the corpus the example speaks for)

    @property
    def messages(self) -> list[dict]:
        """The chat the fine-tune trains on: system, user (passages + question), assistant (target)."""
        return raft_messages(self.question, self.passages, self.target, self.system)


def raft_messages(question: str, passages: list, target: str | None = None, system: str = HYBRID_SYSTEM) -> list[dict]:
    """The hybrid's chat: the training prompt and the inference prompt are this same function.

    >>> from labkit.chunking import Chunk
    >>> m = raft_messages("Why?", [Chunk("faq#0", "faq", "FAQ", "Because.")], "Because [faq].")
    >>> [t["role"] for t in m]
    ['system', 'user', 'assistant']

    Introduced in 03_hybrid.ipynb.
    """
    msgs = [{"role": "system", "content": system}, {"role": "user", "content": build_prompt(question, passages)}]
    if target is not None:
        msgs.append({"role": "assistant", "content": target})
    return msgs


def oracle_chunk(qa: QARecord, chunks: list, version: str = "v1"):
    """The passage that answers ``qa``: a chunk of a gold document that contains the gold answer.

    Falls back to the first chunk of the first gold document (the answer may be worded differently).
    Returns None for an unanswerable question.

    Introduced in 03_hybrid.ipynb.
    """
    if not qa.is_answerable(version):
        return None
    gold, aliases, doc_ids = qa.gold(version)
    gold_chunks = [c for c in chunks if c.doc_id in doc_ids]
    if not gold_chunks:
        raise ValueError(
            f"oracle_chunk: question {qa.id!r} cites {list(doc_ids)} but no chunk comes from "
            f"those documents; index the {version} knowledge base the QA set refers to."
        )
    return next((c for c in gold_chunks if contains_gold(c.text, [gold, *aliases])), gold_chunks[0])


def pick_distractors(question: str, avoid_docs: set[str], retriever, n: int, kind: str, rng: random.Random) -> list:
    """``n`` passages from documents outside ``avoid_docs``: the retriever's best (hard) or random ones.

    Hard distractors are what retrieval really puts next to the answer, so training on them matches
    inference; random ones are easier to ignore.

    Introduced in 03_hybrid.ipynb.
    """
    if n == 0:
        return []
    pool = [c for c in retriever.chunks if c.doc_id not in avoid_docs]
    if len(pool) < n:
        raise ValueError(
            f"pick_distractors: only {len(pool)} passages lie outside the gold documents, "
            f"{n} requested; lower RAFTConfig.n_distractors."
        )
    if kind == "random":
        return rng.sample(pool, n)
    by_id = {c.id: c for c in retriever.chunks}
    hits = retriever.search([question], k=min(len(retriever.chunks), n + 12)).chunk_ids[0]
    hard = [by_id[h] for h in hits if by_id[h].doc_id not in avoid_docs][:n]
    rest = [c for c in pool if c not in hard]
    return hard + rng.sample(rest, n - len(hard))  # rare: too few hits outside the gold documents


def make_raft_examples(
    qa: list[QARecord], retriever, cfg: RAFTConfig | None = None, version: str = "v1"
) -> list[RAFTExample]:
    """RAFT training examples: each wording of each question, with oracle + distractors, shuffled.

    In a seeded random ``1 - p_oracle`` share of the examples the oracle is replaced by one more
    distractor and the target stays the same (RAFT: the model must also remember, not only copy).
    Unanswerable questions get distractors only and the abstention sentence. Seeded: the same config
    gives the same examples.

    >>> ex = make_raft_examples(qa, index, RAFTConfig(n_distractors=2))   # doctest: +SKIP
    >>> len(ex[0].passages), ex[0].target                                # doctest: +SKIP
    (3, 'Refunds can be requested within 23 days [refund-policy].')

    Introduced in 03_hybrid.ipynb.
    """
    cfg = cfg or RAFTConfig()
    rng = random.Random(cfg.seed)
    slots = []  # (record, wording, oracle chunk or None, gold documents)
    for rec in qa:
        if not rec.is_answerable(version) and not cfg.include_unanswerable:
            continue
        oracle = oracle_chunk(rec, retriever.chunks, version)
        gold_docs = set(rec.gold(version)[2])
        slots += [(rec, w, oracle, gold_docs) for p in cfg.phrasings for w in wordings(rec, p)]
    # Exactly round(p_oracle * n) of the n examples that have an oracle keep it (a seeded choice), so
    # the share is what the config says, not a coin-flip count that wanders with few examples.
    with_oracle = [i for i, (_, _, oracle, _) in enumerate(slots) if oracle is not None]
    keeps = set(rng.sample(with_oracle, round(cfg.p_oracle * len(with_oracle))))
    examples = []
    for i, (rec, wording, oracle, gold_docs) in enumerate(slots):
        keep = i in keeps
        n_extra = cfg.k - (1 if keep else 0)  # always k passages: the inference prompt has k too
        passages = ([oracle] if keep else []) + pick_distractors(
            wording, gold_docs, retriever, n_extra, cfg.distractors, rng
        )
        rng.shuffle(passages)  # the oracle's position must carry no signal
        examples.append(RAFTExample(rec.id, wording, passages, keep, rec.house_answer(version)))
    if not examples:
        raise ValueError(
            "make_raft_examples: no examples (empty QA list, or only unanswerable questions "
            "with include_unanswerable=False)."
        )
    return examples


def train_raft(lm, examples: list[RAFTExample], ft_cfg=None, progress: bool = True, adapter: str = "default"):
    """Fine-tune ``lm`` on RAFT examples with the fine-tune module's trainer (LoRA by default).

    A thin adapter: RAFT examples become ``lk.Example`` chats; ``lk.finetune`` does the training and
    caches the adapter under ``lk.artifact_dir`` keyed by the data, the config and the training code, so a
    rerun reloads it.
    ``adapter`` names the LoRA adapter (see ``lk.finetune``: it may join others on a shared base).

    >>> res = train_raft(lm, make_raft_examples(train_qa, index), lk.FinetuneConfig(epochs=1))  # doctest: +SKIP

    Introduced in 03_hybrid.ipynb.
    """
    from .finetune import FinetuneConfig
    from .packing import Example
    from .reference import train_or_reuse

    if not examples:
        raise ValueError("train_raft got no examples: build them with make_raft_examples().")
    chats = [Example(e.messages, e.qid, "raft" if e.has_oracle else "raft-no-oracle") for e in examples]
    return train_or_reuse(lm, chats, ft_cfg or FinetuneConfig(), progress=progress, adapter=adapter)


class HybridPipeline:
    """Inference for the hybrid: the RAG retriever's top-k passages, the RAFT-tuned model, the same prompt.

    >>> hyb = HybridPipeline(raft_lm, index, top_k=RAFTConfig().k)      # doctest: +SKIP
    >>> hyb.answer(["How long is the refund window?"])[0].text           # doctest: +SKIP
    'Refunds can be requested within 23 days [refund-policy].'

    No retrieval threshold: the model was trained to abstain when no passage answers. Use the
    ``top_k`` it was trained with (``RAFTConfig.k``) unless the point is to test another.

    Introduced in 03_hybrid.ipynb.
    """

    def __init__(
        self,
        lm,
        retriever,
        top_k: int = 3,
        max_new_tokens: int = 32,
        batch_size: int = BATCH_SIZE,
        name: str = "hybrid",
        corpus: str = WORKBOOK_CORPUS,
        decline_bias: float = 0.0,
    ):
        self.lm, self.retriever, self.top_k, self.name = lm, retriever, top_k, name
        self.corpus, self.decline_bias = corpus, decline_bias
        self.dev_table = None  # how the decline bias was chosen, when it was (lk.raft_hybrid)
        # RAGPipeline builds the prompt with build_prompt, as raft_messages does: same layout as training.
        # min_score=-1: never abstain on retrieval score (cosine >= -1); the model decides.
        self._rag = RAGPipeline(
            lm,
            retriever,
            RAGConfig(
                top_k=top_k,
                min_score=-1.0,
                max_new_tokens=max_new_tokens,
                batch_size=batch_size,
                system=hybrid_system(corpus),
                few_shot=False,
                context="passages",  # RAFT trains on whole passages, free answers in house style
                decoding="free",
                abstention=abstention_sentence(corpus),
                decline_bias=decline_bias,
            ),
            name=name,
        )  # trained without examples

    def fingerprint(self) -> dict:
        return {**self._rag.fingerprint(), "kind": "hybrid"}

    def first_token(self) -> int:
        """The abstention sentence's first token id: the logit ``decline_bias`` moves at the first step."""
        return self.lm.tokenizer(self._rag.cfg.abstention.strip(), add_special_tokens=False)["input_ids"][0]

    def answer(self, questions: list[str]) -> list:
        answers = self._rag.answer(questions)
        for a in answers:  # the model cites doc ids itself, not passage numbers
            a.cited = a.cited + [t for t in doc_tags(a.text) if t not in a.cited]
        return answers

    def replace(self, **changes) -> HybridPipeline:
        """The same hybrid with some settings changed, e.g. ``retriever=`` (a re-indexed knowledge base),
        ``top_k=``, ``name=``, ``decline_bias=``: nothing is retrained, the chosen settings carry over.

        Introduced in 03_hybrid.ipynb.
        """
        cfg = self._rag.cfg
        args = {"lm": self.lm, "retriever": self.retriever, "top_k": self.top_k, "name": self.name,
                "corpus": self.corpus, "max_new_tokens": cfg.max_new_tokens, "batch_size": cfg.batch_size,
                "decline_bias": self.decline_bias}  # fmt: skip
        unknown = set(changes) - set(args)
        if unknown:
            raise TypeError(f"HybridPipeline.replace: unknown settings {sorted(unknown)}; use some of {sorted(args)}")
        return HybridPipeline(**{**args, **changes})

    def __repr__(self) -> str:
        bias = f", decline_bias={self.decline_bias:g}" if self.decline_bias else ""
        return f"HybridPipeline({self.name!r}, {self.lm!r}, top_k={self.top_k}{bias})"


DECLINE_BIASES = (0.0, -1.0, -2.0, -3.0, -5.0)  # logit biases on the abstention's first token tried on dev


def tune_decline_bias(hybrid: HybridPipeline, dev: list[QARecord], biases=DECLINE_BIASES, version: str = "v1"):
    """Choose how readily the hybrid declines, on the dev questions: the ``decline_bias`` whose answers are
    right most often over *all* dev questions (answerable: the gold answer; unanswerable: a decline), so
    declining wins only where the documents have no answer. Ties go to the bias nearest 0.

    The bias moves one logit at the answer's first step only, so a negative bias can change only the answers
    whose first token was the abstention's at bias 0: those are asked again, every other answer is bias 0's
    (greedy decoding then follows the same path). Far fewer answers to generate, the same table.

    Returns (the hybrid with the chosen bias, the dev table indexed by bias). Introduced in 03_hybrid.ipynb.
    """
    import pandas as pd

    from .evaluate import rates
    from .protocol import run_approach

    rows, at_zero, order = {}, None, list(biases)
    if 0.0 in biases:  # bias 0 first: the others reuse its answers
        biases = [0.0, *(b for b in biases if b != 0.0)]
    first = hybrid.lm.tokenizer.decode([hybrid.first_token()]).strip()  # the abstention's first token, as text
    for b in biases:
        if at_zero is None or b > 0:
            recs = run_approach(hybrid.replace(decline_bias=b), dev, version=version)
        else:  # only the answers that began like the abstention can change (conservatively: by their text)
            redo = [q for q, r in zip(dev, at_zero) if r.abstained or r.answer.lstrip().startswith(first)]
            again = run_approach(hybrid.replace(decline_bias=b), redo, version=version) if redo else []
            new = {r.qid: r for r in again}
            recs = [new.get(r.qid, r) for r in at_zero]
        if b == 0.0:
            at_zero = recs
        rows[b] = {"right (all dev)": right_over_all(recs)}  # same denominator for every bias: exact ties
        rows[b].update({m: rates(recs, m).value for m in ("accuracy", "over_abstention", "correct_abstention")})
    table = pd.DataFrame(rows).T.rename_axis("decline_bias")  # nan where dev has no unanswerable question
    table = table.loc[order]  # the order asked for
    best = max(rows, key=lambda b: (rows[b]["right (all dev)"], -abs(b)))
    return hybrid.replace(decline_bias=best), table
