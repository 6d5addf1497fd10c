"""labkit: the helper package of the RAG vs Fine-Tuning Lab. Use it as ``import labkit as lk``.

Importing labkit loads no model: models load when a notebook asks for them.
Each function's docstring names the notebook that introduces it.
"""
from .data import (ABSTENTION, DataError, Document, QARecord, StyleCheck, check_house_style, load_kb,
                   load_qa)
from .env import (Env, artifact_dir, cache_dir, free_memory, limit_heap_slack, limit_kernel_cache, matmul_gflops,
                  peak_rss_mb, pick_device, seed_everything, setup, trim_heap)
from .evaluate import (Record, contains_gold, exact_match, is_abstention, normalize, score,
                       summarize, token_f1)
from .generate import ContextTooLongError, Generation, chat_generate, lora_autocast, lora_layers
from .models import LM, ModelNotFoundError, contiguous_head_input, load_embedder, load_generator, tiny_generator

from .rag import *  # noqa: F401,F403  (each module lists its exports in __all__)
from .finetune import *  # noqa: F401,F403
from .hybrid import *  # noqa: F401,F403
from .side_by_side import *  # noqa: F401,F403
from .cost import *  # noqa: F401,F403

__version__ = "0.1.0"
