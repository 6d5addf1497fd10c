"""labkit: the helper package of the RAG vs Fine-Tuning Lab. Use it as ``import labkit as lk``.

Importing labkit loads no model: models load when a notebook asks for them.

* **Top level, ``lk.<name>``**: what the notebooks, the README and labkit's own messages name (``lk.load_kb``,
  ``lk.tuned_rag``, ``lk.rates`` ...), imported below module by module, in dependency order.
* **By module, ``lk.<module>.<name>``**: every other public name (each module lists its own in ``__all__``),
  e.g. ``lk.evaluate.exact_match``. One exception: ``lk.finetune`` is notebook 02's training function, so the
  rest of that module is ``labkit.finetune``. The README's Layout section says what lives in which module.

``tests/test_namespace.py`` keeps the two apart: a name the notebooks start using joins the top level, and one
they stop using leaves it. Each function's docstring names the notebook that introduces it.
"""

from types import ModuleType as _ModuleType

from . import (
    ann,
    checkpoint,
    chunking,
    claims,
    cost,
    data,
    decide,
    decide_measures,
    deploy,
    docstrings,
    embedder,
    env,
    error_analysis,
    evaluate,
    extractive,
    files,
    flops,
    gen_qa,
    generate,
    hybrid,
    ingest,
    lid,
    lora,
    memory,
    models,
    optim,
    own_docs,
    own_docs_report,
    packing,
    prices,
    protocol,
    rag,
    reader,
    reference,
    report,
    retrieval,
    retrieval_eval,
    sentences,
    scale,
    side_by_side,
    stats,
    trainlog,
    user_qa,
    vectordb,
    workbook,
)  # noqa: F401  (lk.<module>.<name>)
from .files import LabkitInputError, DataError
from .data import (
    PHRASINGS,
    TRAIN_WORDINGS,
    wordings,
    CLOSED_BOOK_SYSTEM,
    ABSTENTION,
    WORKBOOK_CORPUS,
    abstention_sentence,
    QARecord,
    check_house_style,
    load_kb,
    load_qa,
)
from .memory import limit_heap_slack, free_memory
from .env import setup, auto_dtype, matmul_gflops, artifact_dir, module_closure, module_digest
from .models import load_generator, tiny_generator
from .embedder import Embedder, load_embedder
from .stats import Rate, rate, bootstrap_interval, Verdict, verdict, verdict_once
from .evaluate import (
    METRICS,
    Record,
    claim,
    contains_gold,
    is_abstention,
    latency_breakdown,
    paired,
    plot_latency,
    rate_table,
    rates,
    summarize,
)
from .extractive import CopyConstraint
from .generate import BATCH_SIZE, Generation, chat_generate
from .protocol import split_qa, questions, Answer, Approach, ClosedBook, run_approach, latency_batch1
from .chunking import Chunk, ChunkConfig, chunk_corpus
from .ann import ANN_KINDS, IndexConfig, UsearchIndex, make_index, train_cells
from .retrieval import embed_texts, DenseIndex, BM25Index, HybridIndex, rrf
from .retrieval_eval import retrieval_metrics, retrieval_latency, pick_threshold
from .sentences import split_sentences, passage_sentences, best_sentences
from .rag import (
    RAGConfig,
    few_shot_turns,
    build_prompt,
    READERS,
    query_embedder,
    attribute,
    RAGPipeline,
    abstain_below,
    tune_threshold,
)
from .error_analysis import ERROR_KINDS, error_kind, error_breakdown, plot_error_breakdown, GoldPassages, risk_coverage
from .lora import adapter_scope, load_adapter, attach
from .packing import Example, make_examples, tokenize_example, row_mask, shared_prompt_len, pack
from .flops import train_flops
from .optim import StepInBackward
from .trainlog import TrainResult
from .finetune import FinetuneConfig, train_loop, finetune
from .reference import train_or_reuse, trained_where
from .hybrid import (
    hybrid_system,
    RAFTConfig,
    RAFTExample,
    oracle_chunk,
    make_raft_examples,
    HybridPipeline,
    tune_decline_bias,
)
from .side_by_side import System, static_table, Panel
from .claims import SEED_CLAIMS, seed_claim, decided_elsewhere
from .cost import (
    CostModel,
    upfront_cost,
    per_query_cost,
    break_even_queries,
    cost_table,
    Usage,
    monthly_cost,
    cost_over_time,
    cheapest_plane,
    cost_profiles,
)
from .prices import PriceSheetError, read_price_sheet, load_prices
from .workbook import (
    CHUNKS,
    RAG_KS,
    RAG_KEEPS,
    KNOWLEDGE_FT,
    RAFT,
    RAFT_FT,
    workbook_split,
    build_retriever,
    LATENCY_PROBES,
    latency_probe,
    rag_thresholds,
    threshold_scores,
    tuned_rag,
    knowledge_examples,
    pick_epoch,
    knowledge_ft,
    document_cards,
    document_examples,
    document_ft,
    knowledge_update,
    forgetting,
    behaviour_ft,
    raft_hybrid,
)
from .scale import (
    fit_gaussian,
    synthetic_vectors,
    index_bytes,
    recall_low,
    measure_ann,
    fit_power,
    SCALE_CONFIGS,
    fastest_index,
    best_under,
    load_scale_results,
)
from .docstrings import scale_passages, embed_cached, shipped_vectors
from .lid import lid_mle, fit_local, sample_local, calibration_verdict
from .vectordb import MilvusServer, MilvusIndex
from .deploy import first_correct
from .decide import COST_RATIO, RUN_SPREAD, Scenario, Evidence, recommend, DecisionGuide
from .ingest import IngestError, load_folder
from .user_qa import load_questions, as_qa_records
from .gen_qa import generate_qa
from .reader import train_reader, reader_pipeline, reader_decline_bias
from .own_docs import CompareConfig, Comparison, compare_documents, APPROACHES, READER_BIAS
from .own_docs_report import write_report
from .report import results_box, say, check, plot_rates, run_report, answers_table

# The top level, for `from labkit import *` and the tests: every name imported above that is not a module.
__all__ = sorted(n for n, v in globals().items() if not n.startswith("_") and not isinstance(v, _ModuleType))

__version__ = "0.1.0"
