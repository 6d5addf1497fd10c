"""labkit: the helper package of the RAG vs Fine-Tuning Lab. Use it as ``import labkit as lk``.

Importing labkit loads no model: models load when a notebook asks for them.
Each function's docstring names the notebook that introduces it.
"""
from .data import (ABSTENTION, DataError, Document, QARecord, StyleCheck, check_house_style, doc_tags, load_kb,
                   load_qa)
from .env import (Env, artifact_dir, cache_dir, code_digest, free_memory, limit_heap_slack, limit_kernel_cache,
                  matmul_gflops, peak_rss_mb, pick_device, seed_everything, setup, trim_heap)
from .evaluate import (METRICS, Record, claim, contains_gold, exact_match, is_abstention, latency_breakdown,
                       normalize, outcome, paired, plot_latency, rate_table, rates, score, summarize, token_f1)
from .generate import ContextTooLongError, Generation, chat_generate, lora_autocast, lora_layers
from .models import LM, ModelNotFoundError, contiguous_head_input, load_embedder, load_generator, tiny_generator
from .stats import *  # each module below lists its exports in __all__
from .protocol import *
from .rag import *
from .finetune import *
from .hybrid import *
from .side_by_side import *
from .cost import *
from .workbook import *
from .report import *

__version__ = "0.1.0"
