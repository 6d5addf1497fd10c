"""FLOP accounting: how much matmul work a training step does, and how much the machine could do.

``train_flops`` counts a step's useful matmul FLOPs from the shapes (forward 2 x tokens x weights, backward
twice that for full fine-tuning; LoRA skips the frozen weights' gradients); ``matmul_peak`` measures the
machine's matmul throughput once per dtype. Their ratio is the share of the machine a run used
(``TrainResult.frac_peak``), which notebook 02 reports.

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import functools

import torch

from .env import matmul_gflops
from .packing import Row, bucket_len

__all__ = ["train_flops", "matmul_peak"]


def train_flops(model, row: Row, method: str, hardware: bool = False) -> float:
    """Matmul FLOPs of one training step on ``row`` (the useful work; no recompute, no elementwise ops).

    ``hardware=True`` counts what the CPU actually multiplied: the filler tokens of a padded row, the
    lm_head rows padded to a multiple of 64 targets, and the forward recomputed under gradient
    checkpointing (PaLM's "hardware FLOPs utilisation" vs "model FLOPs utilisation").

    Counted: the block Linears (2 FLOP per weight per token forward), attention scores and mixing
    (4 * d * context per token per layer, causal within each example), the lm_head only at target
    positions (we only compute logits there), LoRA adapters. Backward = activation gradients (same
    as forward; 2x for attention) + weight gradients of trainable matmuls (full: the block Linears).
    Not counted: the embedding lookup (a gather, no FLOPs), recompute under gradient checkpointing.

    Introduced in 02_finetune.ipynb.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    T = row.input_ids.numel() - (0 if hardware else row.n_pad)
    n_tgt = int((row.labels != -100).sum())
    if hardware:
        n_tgt = bucket_len(n_tgt)
    blocks = base.model.layers
    p_lin = sum(
        m.weight.numel() for n, m in blocks.named_modules() if isinstance(m, torch.nn.Linear) and "lora_" not in n
    )
    active = f".{model.active_adapter}." if hasattr(model, "peft_config") else ".default."
    p_lora = sum(p.numel() for n, p in blocks.named_parameters() if "lora_" in n and active in n)
    cfg = base.config
    d_attn = cfg.num_attention_heads * getattr(cfg, "head_dim", cfg.hidden_size // cfg.num_attention_heads)
    pos = row.position_ids if hardware else row.position_ids[:T]
    ctx = float((pos + 1).sum())  # keys each query attends to, summed over the row
    attn = 4 * d_attn * ctx * len(blocks)
    head = 2 * base.get_output_embeddings().weight.numel() * n_tgt
    fwd = 2 * (p_lin + p_lora) * T + attn + head
    weight_grads = 2 * (p_lin if method == "full" else p_lora) * T
    share = sum(bool(getattr(b, "gradient_checkpointing", False)) for b in blocks) / len(blocks)  # recomputed
    recompute = (fwd - head) * share if hardware and getattr(base, "is_activation_checkpointing", False) else 0.0
    return fwd + (fwd + attn) + weight_grads + recompute


def matmul_peak(dtype: torch.dtype, device: torch.device | str = "cpu") -> float:
    """The machine's practical matmul peak (GFLOP/s) from a 2048^3 GEMM probe, measured once per dtype.

    Introduced in 02_finetune.ipynb.
    """
    return _matmul_peak(str(dtype).split(".")[-1], str(device))


@functools.cache
def _matmul_peak(dtype: str, device: str) -> float:  # strings: hashable, one probe per (dtype, device)
    return matmul_gflops(getattr(torch, dtype), n=2048, repeats=4, device=device)
