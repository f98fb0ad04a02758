"""The charge balance read off the core's Noether current equals the NLD equations of the note."""

import numpy as np
import pytest
import torch

from varembed.nld import (
    LearningRule,
    charge_balance,
    find_symmetries,
    rmsprop_equivalent,
    steady_angular_update,
    steady_r2,
)
from varembed.nld.experiment import bn_mlp

RULES = [(0.05, 0.9, 1e-3), (0.1, 0.0, 5e-3), (0.05, 0.0, 5e-3)]  # the rules of the momentum, sgd, sgd_half runs


@pytest.fixture(scope="module")
def families():
    return {f.kind: f for f in find_symmetries(bn_mlp(6, 4, 3))}


@pytest.mark.parametrize("lr, beta, k", RULES)
def test_balance_is_the_modified_equation_charge_law(families, lr, beta, k):
    """Q'' + 2 gamma Q' + omega^2 Q = s |q'|^2: gamma = (1-beta)/(eta(1+beta)), omega^2 = 4k/(eta(1+beta)), s = 2
    for scale and rescale; omega^2 = 2k/(eta(1+beta)), s = 0 for translation (nld.md 3.1-3.3)."""
    rule = LearningRule(lr=lr, momentum=beta, weight_decay=k)
    gamma = (1 - beta) / (lr * (1 + beta))
    for kind, spring, gain in (("scale", 4, 2.0), ("rescale", 4, 2.0), ("translation", 2, 0.0)):
        b = charge_balance(rule, families[kind])
        assert b.kind == kind and b.fit_residual < 1e-12
        assert b.gamma == pytest.approx(gamma, rel=1e-10)
        assert b.omega2 == pytest.approx(spring * k / (lr * (1 + beta)), rel=1e-10, abs=1e-12 * gamma**2)
        assert b.source_gain == pytest.approx(gain, abs=1e-12)
        assert b.mass == pytest.approx(lr * (1 + beta) / 2, rel=1e-10)
        assert b.friction == pytest.approx(1 - beta, rel=1e-10)
        assert b.dt == lr


@pytest.mark.parametrize("lr, beta, k", RULES[:2])
def test_reductions_match_the_hyperparameter_closed_forms(families, lr, beta, k):
    """The overdamped, coherent and steady reductions of the core's balance are V1-Eq.17 and its maps."""
    b = charge_balance(LearningRule(lr=lr, momentum=beta, weight_decay=k), families["scale"])
    rate, gain = b.overdamped()
    assert rate == pytest.approx(2 * k / (1 - beta)) and gain == pytest.approx(lr * (1 + beta) / (1 - beta))
    rate4, amplitude = b.coherent_r4()
    assert rate4 == pytest.approx(4 * k / (1 - beta))
    assert amplitude == pytest.approx(2 * lr * (1 + beta) / (1 - beta) ** 3)
    assert b.steady_angle() == pytest.approx(steady_angular_update(lr, beta, k), rel=1e-10)
    assert np.sqrt(b.steady_r4(0.7)) == pytest.approx(steady_r2(0.7, lr, beta, k), rel=1e-10)
    eq = rmsprop_equivalent(1.0, lr, beta, k)
    assert 1 - rate4 * lr == pytest.approx(eq.rho, rel=1e-10)  # RMSProp's per-step discount
    assert amplitude / rate4 == pytest.approx(eq.scale, rel=1e-10)


def test_balance_refuses_a_frozen_metric(families):
    rule = LearningRule(lr=0.1, metric=torch.ones(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="Euclidean"):
        charge_balance(rule, families["scale"])
    with pytest.raises(TypeError, match="LearningRule"):
        charge_balance("sgd", families["scale"])
