"""Optimizers for fine-tuning: AdamW for LoRA, Adafactor stepped inside backward for full fine-tuning.

Full fine-tuning steps each weight as soon as its gradient is complete, so the gradients of all the
model's weights never exist at once (``StepInBackward``).

Introduced in 02_finetune.ipynb.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from .finetune import FinetuneConfig

__all__ = ["StepInBackward", "make_optimizer", "lr_at"]


class StepInBackward:
    """An optimizer whose step runs inside ``loss.backward()``, one weight at a time (full fine-tuning).

    Why: as soon as backward has finished a weight's gradient, a hook applies the optimizer to that weight
    and frees the gradient, so the gradients of all 106M block weights (203 MB in bf16) never exist at
    once (PyTorch's "optimizer step in backward" recipe). The price: no global gradient-norm clipping,
    which needs every gradient at once; Adafactor's own update clipping bounds each step instead.
    To the training loop and the checkpoints it looks like one optimizer (``param_groups``,
    ``state_dict``, ``load_state_dict``); the hooks exist only inside ``with opt.hooked():``.

    >>> import torch
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = StepInBackward([w], lambda ps: torch.optim.SGD(ps, lr=0.25))
    >>> with opt.hooked():
    ...     (w * w).sum().backward()  # the gradient 2w = 2 is applied here: w = 1 - 0.25 * 2
    >>> w.tolist(), w.grad  # updated, and no gradient left behind
    ([0.5, 0.5], None)

    Introduced in 02_finetune.ipynb.
    """

    def __init__(self, params: list, make_optimizer):
        self.params = list(params)
        self.opts = [make_optimizer([p]) for p in self.params]  # one per weight: each steps on its own
        self.param_groups = [o.param_groups[0] for o in self.opts]  # the loop sets the lr here

    @contextlib.contextmanager
    def hooked(self):
        def hook(opt):
            def step(param):  # called once the weight's gradient is complete
                opt.step()
                opt.zero_grad(set_to_none=True)

            return step

        handles = [p.register_post_accumulate_grad_hook(hook(o)) for p, o in zip(self.params, self.opts)]
        try:
            yield self
        finally:
            for h in handles:
                h.remove()

    def step(self) -> None:  # nothing left to do: backward stepped every weight
        pass

    def zero_grad(self, set_to_none: bool = True) -> None:
        pass

    def state_dict(self) -> dict:
        sds = [o.state_dict() for o in self.opts]  # each: state {0: ...}, one group with params [0]
        return {
            "state": {i: sd["state"][0] for i, sd in enumerate(sds) if 0 in sd["state"]},
            "param_groups": [{**sd["param_groups"][0], "params": [i]} for i, sd in enumerate(sds)],
        }

    def load_state_dict(self, sd: dict) -> None:
        for i, o in enumerate(self.opts):
            o.load_state_dict(
                {
                    "state": {0: sd["state"][i]} if i in sd["state"] else {},
                    "param_groups": [{**sd["param_groups"][i], "params": [0]}],
                }
            )


def make_optimizer(model, cfg: FinetuneConfig):
    """The optimizer of a run: AdamW for LoRA's few weights, Adafactor stepped in backward for full.

    Introduced in 02_finetune.ipynb.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.method == "lora":  # few params: AdamW's two fp32 moments cost nothing
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    # Full: AdamW would need 8 more bytes per trained weight (0.85 GB here). Adafactor keeps only row
    # and column averages of the squared gradient per matrix: a few MB. Its update clipping (each
    # update's RMS <= 1) bounds the steps, so the step can run inside backward (no global norm needed).
    from transformers.optimization import Adafactor

    return StepInBackward(
        params,
        lambda ps: Adafactor(
            ps, lr=cfg.lr, scale_parameter=False, relative_step=False, warmup_init=False, beta1=None, weight_decay=0.0
        ),
    )


def lr_at(step: int, cfg: FinetuneConfig) -> float:
    """The learning rate at ``step`` (0-based): linear warm-up over ``cfg.warmup_steps``, then constant.

    Introduced in 02_finetune.ipynb.
    """
    return cfg.lr * min(1.0, (step + 1) / (cfg.warmup_steps + 1))  # warm-up, then constant
