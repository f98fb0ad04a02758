"""Integrators and hyperparameter closed forms of varembed.nld.closed_forms."""

import numpy as np
import pytest

from varembed.nld import predict_nld, relative_error, rmsprop_equivalent, steady_angular_update, steady_r2
from varembed.nld.closed_forms import discrete_translation_charge, linear_relaxation, oscillator


def test_steady_angle_formula_with_momentum():
    assert steady_angular_update(0.05, 0.9, 1e-3) == pytest.approx(np.sqrt(2 * 0.05 * 1e-3 / 1.9))


def test_steady_r2_noise_correction():
    """Coherent r^4 = eta (1+beta) g / (2k (1-beta)^2); noise adds (eta / 2k) tr Sigma / (1-beta)."""
    coherent = steady_r2(0.3, 0.05, 0.9, 1e-3)
    assert coherent**2 == pytest.approx(0.05 * 1.9 * 0.3 / (2e-3 * 0.01))
    noisy = steady_r2(0.3, 0.05, 0.9, 1e-3, noise_ghat_sq=2.0)
    assert noisy**2 - coherent**2 == pytest.approx(0.05 / 2e-3 * 2.0 / 0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        steady_r2(0.3, 0.05, 0.9, 0.0)


def test_closed_form_is_a_groupwise_rmsprop(sgd):
    """V1-Eq.17 against Eq.18: r^2 = sqrt(scale * G) with G RMSProp's EMA of |g_hat|^2."""
    h = sgd["scale"]
    ghat = h.charge[:-1] * h.grad_sq
    eq = rmsprop_equivalent(h.charge[0], 0.1, 0.0, 5e-3)
    assert eq.rho == pytest.approx(1 - 4 * 0.1 * 5e-3) and eq.lr == pytest.approx(np.sqrt(2 * 0.1 * 5e-3))
    G = [eq.second_moment_0]
    for g2 in ghat:  # discrete RMSProp second moment
        G.append(eq.rho * G[-1] + (1 - eq.rho) * g2)
    via_rmsprop = np.sqrt(eq.scale * np.array(G))
    closed = predict_nld(h).r2
    # equal up to the discretisation of the exponential (1 - x vs e^{-x}, x = 4 eta k = 2e-3)
    assert relative_error(via_rmsprop, closed) < 2e-3
    assert relative_error(via_rmsprop, h.charge) < 2e-3
    with pytest.raises(ValueError, match="weight_decay"):
        rmsprop_equivalent(h.charge[0], 0.1, 0.0, 0.0)


def test_linear_relaxation_is_exact_for_a_constant_source():
    t = 0.1 * np.arange(51)
    q = linear_relaxation(np.array([2.0, -1.0]), np.full((50, 2), 3.0), 0.1, 0.5)
    exact = 6.0 + (np.array([2.0, -1.0]) - 6.0) * np.exp(-0.5 * t)[:, None]
    assert np.max(np.abs(q - exact)) < 1e-13
    accumulate = linear_relaxation(np.zeros(1), np.ones((10, 1)), 0.1, 0.0)  # rate 0: plain sum
    assert accumulate[-1, 0] == pytest.approx(1.0, rel=1e-14)


def test_oscillator_is_exact_without_spring():
    """Q'' + 2 gamma Q' = s from rest: Q = s t / (2 gamma) - s (1 - e^{-2 gamma t}) / (4 gamma^2) (omega = 0)."""
    gamma, s, dt = 2.0, 3.0, 0.05
    q = oscillator(np.zeros(1), np.full((40, 1), s), dt, gamma, 0.0)[:, 0]
    t = dt * np.arange(41)
    exact = s * t / (2 * gamma) - s * (1 - np.exp(-2 * gamma * t)) / (4 * gamma**2)
    assert np.max(np.abs(q - exact)) < 1e-13


def test_discrete_translation_with_momentum_is_the_three_term_recursion():
    c = discrete_translation_charge(np.array([1.2]), 30, 0.05, 0.9, 1e-2)[:, 0]
    assert c[1] == pytest.approx((1 - 0.05 * 1e-2) * 1.2, rel=1e-15)
    for n in range(1, 30):
        assert c[n + 1] == pytest.approx((1 + 0.9 - 0.05 * 1e-2) * c[n] - 0.9 * c[n - 1], rel=1e-12)
