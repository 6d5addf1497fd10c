"""The whole comparison on your own documents: base, RAG, a fine-tune and the hybrid, one report.

``compare_documents(CompareConfig(docs="my_docs", questions="qs.jsonl"))`` does what notebooks 00-05 do on the
workbook's company, on any folder of ``.md``/``.txt``/``.html``/``.pdf`` files, with the same protocol:

* **questions**: yours (every one is a test question: nothing trains or tunes on them), plus questions
  generated from the documents (``lk.generate_qa``), which are the fine-tune's fact cards and the dev set
  every choice is made on (RAG's k, the fine-tune's epoch). Without a questions file the generated ones
  are split train / dev / test and the report says the numbers come from generated questions.
* **approaches**: ``base`` (closed book), ``rag`` (the workbook's retriever and prompt, k chosen on dev;
  no retrieval threshold: without unanswerable dev questions there is nothing to set it on), ``ft`` (LoRA
  on the generated fact cards, epoch chosen on dev) and ``hybrid`` (``lk.train_reader``'s reader, trained
  once on the workbook's own train questions, how readily it declines chosen once on its dev questions,
  reading your passages).
* **stages**: each finished stage is stored in the run's folder (``work_dir``); a second run, or one
  after an interrupt, reuses them (trainings resume from their checkpoints).

>>> cfg = CompareConfig(docs="data/own_docs/founding-documents", questions="data/own_docs/questions.jsonl")
>>> res = compare_documents(cfg)                                                   # doctest: +SKIP
>>> res.table                                                                      # doctest: +SKIP

Introduced in 06_your_own_documents.ipynb.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .data import abstention_sentence, load_kb
from .evaluate import Record, claim, rate_table
from .files import DataError, LabkitInputError
from .gen_qa import generate_qa
from .ingest import Folder, IngestError, load_folder
from .prices import read_price_sheet
from .protocol import ClosedBook, Split, run_approach, split_qa
from .rag import RAGConfig, RAGPipeline, tune_reader_and_k
from .reader import reader_decline_bias, reader_pipeline, train_reader
from .reference import trained_where
from .user_qa import as_qa_records, load_questions
from .workbook import KNOWLEDGE_FT, build_retriever, knowledge_ft, workbook_split

__all__ = ["CompareConfig", "Comparison", "check_inputs", "compare_documents", "APPROACHES", "COMPARE_FT", "MIN_DEV",
           "MIN_GENERATED", "READER_BIAS"]  # fmt: skip

APPROACHES = ("base", "rag", "ft", "hybrid")
# The workbook's knowledge LoRA, 2 epochs to choose from on dev; checkpointing every layer keeps the run
# under 1.5 GB (see READER_FT).
COMPARE_FT = replace(KNOWLEDGE_FT, epochs=2, recompute_every=1)
# Dev questions that RAG's k and the fine-tune's epoch are chosen on: with fewer, one question moves a
# choice by more than 3 points, and the report says the choices are unreliable.
MIN_DEV = 30
# Generated questions a run needs at all (fact cards and a dev set); with fewer it stops, in the input check.
MIN_GENERATED = 20
READER_BIAS = "reader decline bias (chosen on the workbook's dev questions)"  # a settings key
_CLAIMS = (  # (a, b, metric, higher is better): the article's claims that this run can test
    ("rag", "base", "accuracy", True),
    ("ft", "base", "accuracy", True),
    ("rag", "ft", "accuracy", True),
    ("hybrid", "rag", "accuracy", True),
    ("rag", "ft", "hallucination", False),
    ("hybrid", "rag", "hallucination", False),
)


@dataclass(frozen=True)
class CompareConfig:
    """What ``compare_documents`` runs on, and where it keeps its stages.

    >>> CompareConfig(docs="my_docs").corpus_name
    'my docs'

    Introduced in 06_your_own_documents.ipynb.
    """

    docs: str  # the folder of documents (read only: nothing in it is written or changed)
    questions: str | None = None  # .jsonl or .csv (see lk.load_questions); None: generated questions only
    out: str = "report.html"  # the HTML report (must not lie inside the documents folder)
    corpus: str | None = None  # the corpus's name in prompts ("... based on the <corpus> documentation")
    n_generated: int = 120  # generated cloze questions: fact cards and dev set (and test without a file)
    seed: int = 0  # the generated questions' choice and split
    work_dir: str | None = None  # where finished stages are kept; None: the labkit cache, keyed by the inputs

    def __post_init__(self):  # LabkitInputError: the CLI shows these as one line, like a bad file
        if not isinstance(self.docs, (str, Path)) or not str(self.docs):
            raise LabkitInputError(f"CompareConfig.docs must name a folder, got {self.docs!r}")
        if not isinstance(self.n_generated, int) or self.n_generated < MIN_GENERATED:
            raise LabkitInputError(f"--generated (CompareConfig.n_generated) must be a whole number >= {MIN_GENERATED}"
                                   f" (the dev set needs questions), got {self.n_generated!r}")  # fmt: skip
        if self.corpus is not None and (not isinstance(self.corpus, str) or not self.corpus.strip()):
            raise LabkitInputError(f"CompareConfig.corpus must be a non-empty name or None, got {self.corpus!r}")
        docs = Path(self.docs).resolve()
        for option, path in (("--out", self.out), ("--work-dir", self.work_dir)):
            if path is not None and _inside(Path(path).resolve(), docs):  # the user's folder is only read
                raise LabkitInputError(f"{path}: {option} lies inside the documents folder {self.docs}, which is "
                                       f"never written to; choose {option} elsewhere.")  # fmt: skip

    @property
    def corpus_name(self) -> str:
        return self.corpus or Path(self.docs).resolve().name.replace("_", " ").replace("-", " ")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


@dataclass
class Comparison:
    """What ``compare_documents`` measured: the records of every approach on the same test questions, and how.

    Introduced in 06_your_own_documents.ipynb.
    """

    cfg: CompareConfig
    folder: Folder
    questions_kind: str  # "hand-written" or "generated"
    split: Split  # train / dev: generated; test: yours (or generated)
    n_unscored: int  # questions in your file without an answer field: asked nowhere, scored nowhere
    records: list[Record]
    settings: dict  # what was chosen on dev, and the fixed choices
    stages: dict  # stage -> {"seconds": measured when it ran, "peak_mb": the process's peak by its end, "reused": bool}
    upfront_s: dict  # approach -> machine seconds before its first answer (index, training)
    verdicts: list = field(default_factory=list)  # (claim text, lk.Verdict)
    passages: dict = field(default_factory=dict)  # chunk id -> text, for every passage a prompt showed

    @property
    def table(self):
        """Rates with 95% intervals, one row per approach (``lk.rate_table``)."""
        return rate_table(self.records)


def check_inputs(cfg: CompareConfig):
    """Check every input before any model loads: every problem the run would meet is found here, first.

    The report's and the stages' places (``out``, ``work_dir``), the price sheet the report's cost projection
    reads, the folder (unique document ids, enough sentences for the generated questions) and the questions
    file (at least one question with an answer field). Nothing needs a model: the generated questions are
    templates. Returns (``Folder``, your questions or None). Raises an ``lk.LabkitInputError``
    (``lk.IngestError``, ``lk.DataError``, ``lk.PriceSheetError``) naming the file or option.

    Introduced in 06_your_own_documents.ipynb.
    """
    _check_writable(cfg.out, "--out", file=True)
    if cfg.work_dir is not None:
        _check_writable(cfg.work_dir, "--work-dir", file=False)
    read_price_sheet()  # the sheet render_report prices with: a bad one fails now, not after the run
    folder = load_folder(cfg.docs)
    _check_unique_ids(folder)
    _generated(folder, cfg)  # the same questions the run makes (cheap: no model), to count them
    questions = load_questions(cfg.questions) if cfg.questions else None
    _scored(questions, cfg)
    return folder, questions


def _check_writable(path: str, option: str, file: bool) -> None:
    """``path`` can be made where it is: a file (``--out``) that is no folder, a folder (``--work-dir``) that is
    no file, under a folder this process may write (a missing one is made, as write_report does)."""
    p = Path(path)
    if file and p.is_dir():
        raise LabkitInputError(f"{path}: {option} is a folder; give the report's file name, e.g. {p / 'report.html'}.")
    if not file and p.exists() and not p.is_dir():
        raise LabkitInputError(f"{path}: {option} is a file; give a folder for the finished stages.")
    folder = p.resolve().parent if file else p.resolve()  # where the new files go
    while not folder.exists():  # the folders that write_report or the stages would make
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise LabkitInputError(f"{path}: {option} cannot be written: {folder} is not a folder you may write to; "
                               f"choose {option} elsewhere.")  # fmt: skip


def _check_unique_ids(folder: Folder) -> None:
    """Two documents with one id would stop the chunker only after the reader has trained."""
    seen = {}
    for d in folder.docs:
        if d.id in seen:
            raise IngestError(f"{d.path}: its document id {d.id!r} is also {seen[d.id]}'s; rename one of the files.")
        seen[d.id] = d.path


def _generated(folder: Folder, cfg: CompareConfig) -> list:
    """The generated questions (fact cards, dev set); too few for a dev set stops the run before it starts."""
    generated = generate_qa(folder.docs, n=cfg.n_generated, seed=cfg.seed)
    if len(generated) < MIN_GENERATED:
        raise DataError(f"{cfg.docs}: only {len(generated)} sentences could become generated questions "
                        f"({MIN_GENERATED} are needed for a dev set: sentences of 6 to 45 words with a number or "
                        "a name in them); add documents with more running text.")  # fmt: skip
    return generated


def _scored(mine: list | None, cfg: CompareConfig) -> list | None:
    """Your questions that have an answer field, as QARecords; a file with none of them has no test set."""
    scored = as_qa_records(mine) if mine else None
    if mine and not scored:
        raise DataError(f"{cfg.questions}: no question has an answer field, so none can be scored; add answers "
                        "(null for a question the documents cannot answer).")  # fmt: skip
    return scored


def _digest(folder: Folder, cfg: CompareConfig, lm, embedder) -> dict:
    """The stages' key: the documents' text, the questions file, the settings, the models and the code of
    this module and what it imports (an edit to the report or the cost model keeps the finished stages)."""
    h = hashlib.sha256()
    for d in folder.docs:
        h.update(f"{d.id}\0{d.title}\0{d.text}\0".encode())
    q = hashlib.sha256(Path(cfg.questions).read_bytes()).hexdigest()[:16] if cfg.questions else None
    from .env import module_digest

    models = {"lm": lm.fingerprint(), "embedder": embedder.fingerprint()}
    return {"docs": h.hexdigest()[:16], "questions": q, "corpus": cfg.corpus_name, "n": cfg.n_generated,
            "seed": cfg.seed, **models, "code": module_digest(__name__)}  # fmt: skip


def _split(generated: list, mine: list | None, seed: int) -> Split:
    """Generated questions: train / dev (at least ``MIN_DEV`` when there are enough); the test set is yours,
    or a generated 40%."""
    dev = min(0.4, max(0.2, (MIN_DEV + 1) / len(generated)))  # 20% of them, raised to MIN_DEV (+1: rounding)
    if mine is None:
        return split_qa(
            generated, test=0.4, dev=min(dev, 0.35), seed=seed, min_test_answerable=min(30, len(generated) // 3)
        )
    s = split_qa(generated, test=0.01, dev=dev, seed=seed, min_test_answerable=0)
    return Split(s.train + s.test, s.dev, tuple(mine), seed=seed)


class _Stages:
    """Finished stages as JSON files in ``folder``; ``run`` reuses a stored one instead of redoing it."""

    def __init__(self, folder: Path, progress: bool):
        self.folder, self.log, self.bar = folder, {}, None
        folder.mkdir(parents=True, exist_ok=True)
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=len(APPROACHES) + 2, desc="compare", unit="stage")  # reader, index, each approach

    def run(self, name: str, fn, seconds: float | None = None):
        """The stored value of stage ``name``, or ``fn()`` stored with its time (``seconds``: a time the
        caller measured itself, e.g. an index rebuilt on every run but timed once)."""
        from .memory import free_memory

        path = self.folder / f"{name}.json"
        if self.bar is not None:
            self.bar.set_postfix_str(name)
        if path.exists():
            stored = json.loads(path.read_text(encoding="utf-8"))
            self.log[name] = {"seconds": stored["seconds"], "peak_mb": stored.get("peak_mb"), "reused": True}
            value = stored["value"]
        else:
            t0 = time.perf_counter()
            value = fn()
            took = time.perf_counter() - t0 if seconds is None else seconds
            from .checkpoint import write_atomic
            from .memory import peak_rss_mb

            # The process's peak so far (it only grows): the stage where it jumps is the run's memory peak.
            peak = round(peak_rss_mb())
            write_atomic(path, json.dumps({"seconds": took, "peak_mb": peak, "value": value}))
            self.log[name] = {"seconds": took, "peak_mb": peak, "reused": False}
        free_memory()  # a stage's buffers go back to the OS before the next one peaks on top of them
        if self.bar is not None:
            self.bar.update(1)
        return value

    def close(self):
        if self.bar is not None:
            self.bar.close()


def compare_documents(
    cfg: CompareConfig, lm=None, embedder=None, progress: bool = True, inputs: tuple | None = None
) -> Comparison:
    """Run the four approaches on the same questions and return a ``Comparison`` (``lk.write_report`` writes
    the HTML). ``lm`` / ``embedder`` default to the offline models.

    Introduced in 06_your_own_documents.ipynb.
    """
    from .embedder import load_embedder
    from .env import artifact_dir
    from .models import load_generator

    folder, mine = inputs or check_inputs(cfg)  # ``inputs``: check_inputs(cfg) already called (the CLI does)
    scored = _scored(mine, cfg)  # the checks check_inputs made; they cost nothing to repeat
    generated = _generated(folder, cfg)
    split = _split(generated, scored, cfg.seed)
    corpus = cfg.corpus_name
    lm = lm or load_generator()
    embedder = embedder or load_embedder()
    where = Path(cfg.work_dir) if cfg.work_dir else artifact_dir("compare", _digest(folder, cfg, lm, embedder))
    stages = _Stages(where, progress)

    reader = {}  # the reader's run when this process trained or loaded it

    def reader_stage():  # first, while the process is small: training is the run's memory peak
        reader["run"] = train_reader(lm, list(workbook_split().train), load_kb("v1"), embedder)
        bias, _ = reader_decline_bias(reader["run"].lm, embedder)  # once, on the workbook's dev questions
        return {"train_s": reader["run"].wall_s, "decline_bias": bias, "weights": trained_where(reader["run"])}

    reader_info = stages.run("reader", reader_stage)
    reader_s = reader_info["train_s"]

    t0 = time.perf_counter()
    retriever = build_retriever(folder.docs, embedder, cache=False)  # rebuilt each run (seconds), timed once:
    t_index = time.perf_counter() - t0
    t_index = stages.run("index", lambda: t_index, seconds=t_index)  # the stored time is the first run's
    records, settings, upfront = [], {"retriever": "MiniLM + BM25 (RRF), 60-word passages"}, {"base": 0.0}

    def ask(approach) -> list[dict]:
        return [asdict(r) for r in run_approach(approach, list(split.test))]

    records += stages.run("base", lambda: ask(ClosedBook(lm, name="base")))

    def rag_stage():
        cfg_rag, _ = tune_reader_and_k(
            lm,
            retriever,
            list(split.dev),
            RAGConfig(min_score=-1.0, abstention=abstention_sentence(corpus)),
            readers=["sentences, extractive"],  # notebook 01's dev choice; k is chosen here
        )
        return {"top_k": cfg_rag.top_k, "records": ask(RAGPipeline(lm, retriever, cfg_rag, name="rag"))}

    rag = stages.run("rag", rag_stage)
    records += rag["records"]
    settings["rag top_k (chosen on dev)"] = rag["top_k"]
    n_dev = len(split.dev)
    settings["generated questions (asked for; made)"] = f"{cfg.n_generated}; {len(generated)}"
    settings["dev questions (generated)"] = (
        n_dev if n_dev >= MIN_DEV else f"{n_dev}: fewer than {MIN_DEV}, so the dev choices are unreliable"
    )
    upfront["rag"] = t_index

    def ft_stage():
        ft, run, choice = knowledge_ft(lm, generated, split, name="ft", cfg=COMPARE_FT)
        return {"epoch": choice.epoch, "train_s": run.wall_s, "weights": trained_where(run), "records": ask(ft)}

    ft = stages.run("ft", ft_stage)
    records += ft["records"]
    settings["fine-tune epoch (chosen on dev)"] = ft["epoch"]
    settings["fine-tune weights"] = ft.get("weights", "trained here")  # stages stored before this field: trained here
    upfront["ft"] = ft["train_s"]

    def hybrid_stage():
        run = reader.get("run") or train_reader(lm, list(workbook_split().train), load_kb("v1"), embedder)
        return ask(reader_pipeline(run.lm, retriever, corpus, decline_bias=reader_info["decline_bias"]))

    records += stages.run("hybrid", hybrid_stage)
    settings["reader training (once, for any corpus), s"] = round(reader_s, 1)
    settings["reader weights"] = reader_info.get("weights", "trained here")
    settings[READER_BIAS] = reader_info["decline_bias"]
    upfront["hybrid"] = t_index  # the reader is trained once for every corpus: per corpus, only the index
    stages.close()
    recs = [Record(**r) for r in records]
    shown = {p for r in recs for p in r.passages}
    passages = {c.id: c.text for c in retriever.chunks if c.id in shown}
    passages.update({p: t for r in recs for p, t in zip(r.passages, r.context)})  # sentences: as shown
    verdicts = [(f"{a} beats {b} on {m.replace('_', ' ')}", claim(recs, a, b, m, hi)) for a, b, m, hi in _CLAIMS]
    n_unscored = len(mine) - len(scored) if mine else 0
    kind = "hand-written" if scored else "generated"
    return Comparison(cfg, folder, kind, split, n_unscored, recs, settings, stages.log, upfront, verdicts, passages)
