"""A reader that transfers: the hybrid's RAFT adapter, trained to read passages of documents it never saw.

Notebook 03's hybrid learns one layout (three 60-word passages), one abstention sentence naming the
workbook's company and one question wording. Pointed at other documents, part of that skill carries over,
part is the company's. The reader here is trained once, on the workbook's *train* questions only (dev and
test stay unseen), with what should make the skill general:

* each question in its canonical wording and its first training paraphrase, never a held-out one (two of
  its three training wordings: 96 examples, about 90 s of training on 2 cores);
* varied layouts: short passages three at a time, or long ones two at a time (``READER_LAYOUTS``);
* the corpus's name varied in the system prompt and the abstention sentence (``READER_CORPORA``), so the
  model copies the name it is given instead of a company's;
* RAFT's oracle / distractor mix, unanswerable questions answered by abstaining.

``lk.finetune`` caches the adapter by its data and config: the first call trains, every later one loads it.

Introduced in 06_your_own_documents.ipynb.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from .chunking import ChunkConfig, chunk_corpus
from .data import ABSTENTION, TRAIN_WORDINGS, WORKBOOK_CORPUS, abstention_sentence, load_kb
from .hybrid import HybridPipeline, RAFTConfig, hybrid_system, make_raft_examples, train_raft, tune_decline_bias
from .retrieval import DenseIndex
from .workbook import RAFT_FT

__all__ = ["READER_CORPORA", "ReaderLayout", "READER_LAYOUTS", "READER_FT", "reader_examples", "train_reader",
           "reader_pipeline", "reader_decline_bias"]  # fmt: skip

# Corpus names the system prompt and the abstention sentence take in training (seeded choice per example).
READER_CORPORA = ("Tessavik", "Acme", "city council", "museum", "project", "library")


@dataclass(frozen=True)
class ReaderLayout:
    """One way of showing passages: their length and how many go in a prompt.

    >>> ReaderLayout(ChunkConfig(size=120, overlap=30), n_passages=2).raft.k
    2

    Introduced in 06_your_own_documents.ipynb.
    """

    chunks: ChunkConfig  # passage length and overlap, words
    n_passages: int  # passages per prompt: the oracle's slot and n_passages - 1 distractors

    def __post_init__(self):
        if not isinstance(self.n_passages, int) or self.n_passages < 2:
            raise ValueError(
                f"ReaderLayout.n_passages must be an int >= 2 (oracle + distractors), got {self.n_passages!r}"
            )

    @property
    def raft(self) -> RAFTConfig:
        return RAFTConfig(p_oracle=0.8, n_distractors=self.n_passages - 1, phrasings=TRAIN_WORDINGS)


READER_LAYOUTS = (ReaderLayout(ChunkConfig(60, 15), 3), ReaderLayout(ChunkConfig(120, 30), 2))
# The workbook's RAFT recipe (lr chosen on dev in notebook 03), with gradient checkpointing on every layer:
# measured on 2 cores, peak RSS 1231 vs 1430 MB for 86 vs 77 s (recompute_every 1 vs 2).
READER_FT = replace(RAFT_FT, epochs=1, recompute_every=1)


def reader_examples(train_qa: list, docs: list, embedder, seed: int = 0) -> list:
    """RAFT examples for the transferring reader: questions dealt to layouts, corpus names varied.

    Each question goes to one layout (a seeded deal, so the two layouts get the same number), its canonical
    wording and first training paraphrase with it; each example then gets a corpus name for its system
    prompt and, when it abstains, its abstention sentence. Returns ``lk.RAFTExample``s.

    Introduced in 06_your_own_documents.ipynb.
    """
    rng = random.Random(seed)
    order = [replace(q, paraphrases_train=q.paraphrases_train[:1]) for q in sorted(train_qa, key=lambda q: q.id)]
    rng.shuffle(order)
    out = []
    for i, layout in enumerate(READER_LAYOUTS):
        mine = order[i :: len(READER_LAYOUTS)]
        index = DenseIndex.build(chunk_corpus(docs, layout.chunks), embedder, kind="flat")
        out += make_raft_examples(mine, index, replace(layout.raft, seed=seed + i))
    for e in out:
        name = rng.choice(READER_CORPORA)
        e.system = hybrid_system(name)
        if e.target == ABSTENTION:
            e.target = abstention_sentence(name)
    rng.shuffle(out)
    return out


def train_reader(lm, train_qa: list, docs: list, embedder, progress: bool = False, adapter: str = "reader"):
    """Train (or load from the cache) the transferring reader on ``lm``. Returns the ``lk.TrainResult``.

    >>> run = train_reader(lm, list(lk.workbook_split().train), lk.load_kb("v1"), emb)   # doctest: +SKIP

    Introduced in 06_your_own_documents.ipynb.
    """
    return train_raft(lm, reader_examples(train_qa, docs, embedder), READER_FT, progress=progress, adapter=adapter)


def reader_pipeline(
    reader_lm, retriever, corpus: str, name: str = "hybrid", decline_bias: float = 0.0
) -> HybridPipeline:
    """The hybrid on any documents: the reader with ``retriever``'s top 3, prompts naming ``corpus``, declining
    as readily as ``decline_bias`` says (``reader_decline_bias``).

    Introduced in 06_your_own_documents.ipynb.
    """
    return HybridPipeline(reader_lm, retriever, READER_LAYOUTS[0].n_passages, name=name, corpus=corpus,
                          decline_bias=decline_bias)  # fmt: skip


def reader_decline_bias(reader_lm, embedder, split=None):
    """How readily the transferring reader declines, chosen once on the workbook's dev questions over its own
    knowledge base (``lk.tune_decline_bias``): they include unanswerable questions, which the questions
    generated from a folder never do, so a folder's dev set could only ever push it to answer everything.

    Returns (the chosen decline bias, the dev table). Introduced in 06_your_own_documents.ipynb.
    """
    from .workbook import build_retriever, workbook_split

    split = split or workbook_split()
    hybrid = reader_pipeline(reader_lm, build_retriever(load_kb("v1"), embedder), WORKBOOK_CORPUS)
    tuned, table = tune_decline_bias(hybrid, list(split.dev))
    return tuned.decline_bias, table
