"""NoetherTracker: what it records per optimiser, per parameter group, and bad input (T7)."""

import numpy as np
import pytest
import torch
from torch import nn

from varembed.nld import NoetherTracker, find_symmetries, predict_discrete
from varembed.nld.experiment import bn_mlp, gaussian_mixture, train

from .conftest import D1

X, Y = gaussian_mixture(n_samples=512, random_state=0)


def test_adam_breaks_the_euclidean_translation_charge():
    """T7: under Adam the Euclidean translation charge drifts (metric effect); under SGD it is exact."""
    X1, y1 = D1
    drift = {}
    for name, make in (("adam", lambda p: torch.optim.Adam(p, lr=1e-3)), ("sgd", lambda p: torch.optim.SGD(p, lr=0.1))):
        model = bn_mlp(32, 24, 5, eps=1e-12, random_state=0)
        opt = make(model.parameters())
        fams = [f for f in find_symmetries(model) if f.kind == "translation"]
        tracker = NoetherTracker(model, opt, fams)
        train(model, opt, X1, y1, 200, batch_size=128, random_state=1)
        h = tracker.history()[0]
        drift[name] = np.max(np.abs(h.charge - h.charge[0]))
        if name == "adam":
            with pytest.raises(TypeError, match="Adam cannot be modelled"):
                predict_discrete(h)
    assert drift["sgd"] < 1e-13
    assert drift["adam"] > 1e6 * max(drift["sgd"], 1e-16)
    assert drift["adam"] > 1e-2


def test_weight_decay_per_param_group():
    """Different weight decay within one group cannot be modelled; the same decay can."""
    model = bn_mlp(32, 8, 5, eps=1e-12)
    fams = find_symmetries(model)
    head = list(model[3].parameters())
    opt = torch.optim.SGD([{"params": list(model[0].parameters()) + list(model[1].parameters()),
                            "weight_decay": 1e-3}, {"params": head, "weight_decay": 0.0}], lr=0.1)
    tracker = NoetherTracker(model, opt, fams)
    train(model, opt, X, Y, 20, batch_size=64)
    hist = {h.family.kind + str(h.family.n_groups): h for h in tracker.history()}
    assert hist["scale8"].rule.weight_decay == 1e-3 and hist["translation8"].rule.weight_decay == 0.0
    assert np.max(np.abs(predict_discrete(hist["scale8"]) / hist["scale8"].charge - 1)) < 1e-11
    assert hist["rescale8"].rule is None and "param_groups" in hist["rescale8"].why


def test_bad_arguments():
    model = bn_mlp(32, 3, 2)
    other = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="not optimised"):
        NoetherTracker(model, other, find_symmetries(model))
    with pytest.raises(ValueError, match="empty"):
        NoetherTracker(model, torch.optim.SGD(model.parameters(), lr=0.1), [])
    with pytest.raises(TypeError, match="Optimizer"):
        NoetherTracker(model, "sgd", find_symmetries(model))
