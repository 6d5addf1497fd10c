"""Optimizer steps inside backward: same updates as a normal step, no gradients left behind."""

import pytest
import torch

import labkit as lk

pytestmark = pytest.mark.usefixtures("one_thread")


def test_step_in_backward_equals_stepping_after_backward_and_frees_every_gradient():
    """Full fine-tuning's optimizer runs inside backward: same weights as the classic loop, no .grad kept."""
    from transformers.optimization import Adafactor

    def adafactor(params):
        return Adafactor(params, lr=1e-2, scale_parameter=False, relative_step=False, warmup_init=False)

    torch.manual_seed(0)
    classic = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    fused = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    fused.load_state_dict(classic.state_dict())
    x = torch.randn(5, 8)
    opt_classic = adafactor(list(classic.parameters()))
    opt_fused = lk.StepInBackward(list(fused.parameters()), adafactor)
    for _ in range(3):
        classic(x).square().mean().backward()
        opt_classic.step()
        opt_classic.zero_grad(set_to_none=True)
        with opt_fused.hooked():
            fused(x).square().mean().backward()
        assert all(p.grad is None for p in fused.parameters())  # each freed right after its step
    for a, b in zip(classic.parameters(), fused.parameters()):
        torch.testing.assert_close(a, b)
    # Outside `hooked()` backward only computes gradients.
    before = [p.detach().clone() for p in fused.parameters()]
    fused(x).sum().backward()
    assert all(torch.equal(a, b) and b.grad is not None for a, b in zip(before, fused.parameters()))
    # Its state survives a checkpoint: a new instance loaded from state_dict() holds the same moments.
    again = lk.StepInBackward(list(fused.parameters()), adafactor)
    again.load_state_dict(opt_fused.state_dict())
    for o1, o2 in zip(opt_fused.opts, again.opts):
        s1, s2 = o1.state_dict()["state"][0], o2.state_dict()["state"][0]
        assert s1.keys() == s2.keys() and all(torch.equal(s1[k], s2[k]) for k in s1 if torch.is_tensor(s1[k]))
