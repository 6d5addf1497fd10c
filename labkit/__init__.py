"""labkit: the helper package of the RAG vs Fine-Tuning Lab. Use it as ``import labkit as lk``.

Importing labkit loads no model: models load when a notebook asks for them. Every module lists its
public names in ``__all__``; they are all here, as ``lk.<name>``. Each function's docstring names the
notebook that introduces it; the README's Layout section says what lives in which module.
"""

from .files import *
from .data import *
from .memory import *
from .env import *
from .checkpoint import *
from .models import *
from .embedder import *
from .stats import *
from .evaluate import *
from .extractive import *
from .generate import *
from .protocol import *
from .chunking import *
from .ann import *
from .retrieval import *
from .retrieval_eval import *
from .sentences import *
from .rag import *
from .error_analysis import *
from .lora import *
from .packing import *
from .flops import *
from .optim import *
from .trainlog import *
from .finetune import *
from .reference import *
from .hybrid import *
from .side_by_side import *
from .claims import *
from .cost import *
from .prices import *
from .workbook import *
from .scale import *
from .docstrings import *
from .lid import *
from .vectordb import *
from .deploy import *
from .decide import *
from .ingest import *
from .user_qa import *
from .gen_qa import *
from .reader import *
from .own_docs import *
from .own_docs_report import *
from .report import *

__version__ = "0.1.0"
