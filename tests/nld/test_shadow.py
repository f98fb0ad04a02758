"""T6: the implicit-RMSProp shadow optimiser reproduces SGD on scale-invariant groups exactly."""

import copy

import pytest
import torch
from torch import nn

from varembed._utils.random import torch_generator
from varembed.nld import ImplicitRMSProp, find_symmetries
from varembed.nld.experiment import bn_mlp

from .conftest import D1


def test_implicit_rmsprop_shadow_is_exact():
    X, y = D1
    a = bn_mlp(32, 24, 5, eps=1e-12, random_state=0)
    b = copy.deepcopy(a)
    opt_a = torch.optim.SGD(a.parameters(), lr=0.1, weight_decay=5e-3)
    opt_b = ImplicitRMSProp(b, find_symmetries(b), lr=0.1, weight_decay=5e-3)
    g = torch_generator(3)
    worst = 0.0
    for _ in range(300):
        idx = torch.randint(0, X.shape[0], (128,), generator=g)
        la = nn.functional.cross_entropy(a(X[idx]), y[idx])
        lb = nn.functional.cross_entropy(b(X[idx]), y[idx])
        worst = max(worst, abs(la.item() - lb.item()))
        for opt, loss in ((opt_a, la), (opt_b, lb)):
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert worst < 1e-12
    r2 = (a[0].weight.detach() ** 2).sum(1)
    assert torch.max(torch.abs(opt_b.radius_sq[0] / r2 - 1)) < 1e-11
    # the shadow keeps unit-norm directions equal to SGD's
    w_hat = a[0].weight.detach() / torch.sqrt(r2)[:, None]
    assert torch.max(torch.abs(w_hat - b[0].weight.detach())) < 1e-12


def test_shadow_refuses_models_without_scale_groups():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).double()
    with pytest.raises(ValueError, match="scale family"):
        ImplicitRMSProp(model, find_symmetries(model), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        ImplicitRMSProp(bn_mlp(4, 3, 2), [], lr=0.0)
