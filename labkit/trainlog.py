"""What a training run counts and reports: its running numbers (``TrainLog``) and its result (``TrainResult``).

The training loop (``lk.train_loop``) calls ``TrainLog.record`` once per step: that one line is all the
accounting inside the loop. The log is also what a checkpoint saves, so a resumed run continues its
counts (``TrainLog.resume``); ``TrainLog.result`` turns it into the ``TrainResult`` a notebook reads:
time, tokens, FLOPs against the machine's matmul peak, memory.

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch

from .checkpoint import load_checkpoint
from .flops import matmul_peak, train_flops
from .memory import peak_rss_mb
from .models import LM
from .packing import Row

__all__ = ["TrainLog", "TrainResult"]


@dataclass
class TrainLog:
    """The running numbers of a training run: loss per step, time, tokens, FLOPs (what a checkpoint keeps).

    >>> log = TrainLog()
    >>> log.step, log.losses, sorted(log.snapshot())[:3]
    (0, [], ['epoch_ends', 'flops', 'hw_flops'])

    Introduced in 02_finetune.ipynb.
    """

    step: int = 0  # optimizer steps done
    losses: list[float] = field(default_factory=list)  # mean answer-token loss per step
    epoch_ends: list[int] = field(default_factory=list)  # step number at the end of each epoch
    wall_s: float = 0.0  # the loop, checkpoint writes included, seconds; summed over resumed pieces
    train_s: float = 0.0  # forward + backward + step only, seconds
    tokens: int = 0  # tokens processed, padding excluded
    target_tokens: int = 0  # tokens with a loss (answers)
    flops: float = 0.0  # useful matmul FLOPs (``train_flops``)
    hw_flops: float = 0.0  # the same with padding and recompute counted

    @classmethod
    def resume(cls, last: Path, model, opt, method: str) -> TrainLog:
        """The log saved in checkpoint ``last``, with its weights, optimizer state and torch RNG put back
        into ``model`` and ``opt``; a fresh log when there is no checkpoint. Introduced in 02_finetune.ipynb.
        """
        if not (Path(last) / "trainer_state.json").exists():
            return cls()
        meta = load_checkpoint(Path(last), model, opt, method)
        return cls(**{f.name: meta.get(f.name, 0.0) for f in fields(cls)})

    def __post_init__(self):
        self._t_run = None  # perf_counter() when the loop started; None: the clock is not running

    def start(self, model, method: str) -> None:
        """Start the wall clock and say which model's FLOPs ``record`` counts: call right before the loop."""
        self._model, self._method = model, method
        device = next(model.parameters()).device
        if device.type == "cuda":  # TrainResult.peak_cuda_mb: this run's peak, not an earlier phase's
            torch.cuda.reset_peak_memory_stats(device)
        self._wall0, self._t_run = self.wall_s, time.perf_counter()

    def stop(self) -> None:
        """Stop the wall clock: call right after the loop (the final save is not part of the run's time)."""
        self.snapshot()
        self._t_run = None

    def record(self, step: int, loss: float, row: Row, t0: float, epoch_end: bool) -> None:
        """Count step ``step`` on ``row``, begun at ``time.perf_counter()`` == ``t0``, with its ``loss``."""
        self.train_s += time.perf_counter() - t0  # first: the counting below is not training time
        self.step = step
        self.losses.append(loss)
        self.tokens += row.input_ids.numel() - row.n_pad
        self.target_tokens += int((row.labels != -100).sum())
        self.flops += train_flops(self._model, row, self._method)
        self.hw_flops += train_flops(self._model, row, self._method, hardware=True)
        if epoch_end:
            self.epoch_ends.append(step)

    def snapshot(self) -> dict:
        """The numbers as plain values, wall time up to now: what a checkpoint saves."""
        if self._t_run is not None:
            self.wall_s = self._wall0 + time.perf_counter() - self._t_run
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def result(self, lm: LM, model, method: str, ckpt: Path, completed: bool, resumed_from: int) -> TrainResult:
        """The run's ``TrainResult`` (``lm`` left None: the caller hands the model over for inference)."""
        device = lm.device
        peak = matmul_peak(lm.dtype, device)  # a GEMM probe, once per dtype and device
        train_s = max(self.train_s, 1e-9)
        gflops = self.flops / 1e9
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        # The model: base weights + this run's trainable ones (other adapters sharing the base not counted).
        total = sum(p.numel() for n, p in model.named_parameters() if p.requires_grad or "lora_" not in n)
        return TrainResult(
            method=method,
            steps=self.step,
            losses=list(self.losses),
            epoch_ends=list(self.epoch_ends),
            trainable_params=trainable,
            total_params=total,
            wall_s=self.wall_s,
            train_s=self.train_s,
            tokens=self.tokens,
            target_tokens=self.target_tokens,
            tokens_per_s=self.tokens / train_s,
            gflops=gflops,
            gflops_per_s=gflops / train_s,
            peak_gflops=peak,
            frac_peak=gflops / train_s / peak,
            hw_frac_peak=self.hw_flops / 1e9 / train_s / peak,
            peak_rss_mb=peak_rss_mb(),
            peak_cuda_mb=torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else 0.0,
            dtype=str(lm.dtype).split(".")[-1],
            ckpt_dir=str(ckpt),
            completed=completed,
            resumed_from=resumed_from,
        )


@dataclass
class TrainResult:
    """What a run cost and how its loss went. ``lm`` is the trained model (not saved to JSON).

    Introduced in 02_finetune.ipynb.
    """

    method: str
    steps: int  # optimizer steps done
    losses: list[float]  # mean answer-token loss per step
    epoch_ends: list[int]  # step number at the end of each epoch
    trainable_params: int
    total_params: int
    wall_s: float  # whole run (incl. checkpoint writes), seconds; summed over resumed pieces
    train_s: float  # forward + backward + step only, seconds
    tokens: int  # tokens processed (prompt + answer; no padding exists)
    target_tokens: int  # tokens with a loss (answers)
    tokens_per_s: float
    gflops: float  # matmul GFLOP done (see train_flops)
    gflops_per_s: float
    peak_gflops: float  # GEMM probe of this dtype and device
    frac_peak: float  # gflops_per_s / peak_gflops: useful work ("model FLOPs utilisation")
    hw_frac_peak: float  # the same with padding and checkpoint recompute counted ("hardware FLOPs")
    peak_rss_mb: float  # process peak resident memory at the end of training
    peak_cuda_mb: float  # 0 on CPU
    dtype: str
    ckpt_dir: str
    completed: bool = True
    reused: bool = False  # loaded from a finished run in the cache, nothing trained
    resumed_from: int = 0  # step the run continued from (0: started fresh)
    lm: LM | None = field(default=None, repr=False)

    def numbers(self) -> dict:
        """Every field but ``lm``, as plain values (what ``result.json`` stores).

        Not ``dataclasses.asdict``: it deep-copies every field, ``lm`` too, i.e. the whole model. That
        copy (plus a reference cycle between peft's wrapper and the base model, so only the garbage
        collector frees it) was the unexplained +350 MB in notebook 02's full fine-tune.
        """
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), list) else v
            for f in fields(self)
            if f.name != "lm"
        }

    def summary(self) -> dict:
        """The run's figures for a table: no per-step lists, no cache path (it is this machine's)."""
        d = {k: v for k, v in self.numbers().items() if k not in ("losses", "epoch_ends", "ckpt_dir")}
        d["final_loss"] = self.losses[-1] if self.losses else float("nan")
        return d
