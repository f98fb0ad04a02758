"""Exact recursions, integrators and hyperparameter closed forms for Noether charges under SGD.

Notation (research note nld.md): learning rate ``eta``, momentum ``beta``,
coupled weight decay ``k``, time ``t = n eta``.  All functions are vectorised
over groups (last axis) and take per-step measured sources as arrays of shape
``(n_steps, n_groups)``.

* :func:`discrete_quadratic_charge` -- exact recursion of ``|q_A|^2`` (or a
  rescale difference) given ``|v_n|^2``: ``Q_{n+1} = Q_n - 2 eta c_n + eta^2 |v_n|^2``,
  ``c_n = beta (c_{n-1} - eta |v_{n-1}|^2) + k Q_n``.
* :func:`discrete_translation_charge` -- exact ``C_{n+1} = (1+beta-eta k) C_n - beta C_{n-1}``.
* :func:`oscillator` and :func:`linear_relaxation` -- exact step propagators of
  the second- and first-order linear ODEs with a source held constant over
  each step; the predictors feed them the coefficients of the core-derived
  :func:`~varembed.nld.balance.charge_balance`.
* :func:`steady_angular_update`, :func:`steady_r2`, :func:`rmsprop_equivalent`
  -- equilibrium and RMSProp maps written in the hyperparameters (the tests
  check them against the core-derived balance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

__all__ = [
    "discrete_quadratic_charge",
    "discrete_translation_charge",
    "oscillator",
    "linear_relaxation",
    "steady_angular_update",
    "steady_r2",
    "RMSPropEquivalent",
    "rmsprop_equivalent",
]


def discrete_quadratic_charge(q0, update_sq, lr, momentum=0.0, weight_decay=0.0):
    """Exact charge ``Q_n`` of a scale group (or rescale pair) under PyTorch SGD.

    Uses only ``<g_n, xi(q_n)> = 0`` (the symmetry) and the SGD update
    ``q_{n+1} = q_n - eta v_n``, ``v_n = beta v_{n-1} + g_n + k q_n``.

    Parameters
    ----------
    q0 : array (n_groups,)
        Initial charge.
    update_sq : array (n_steps, n_groups)
        Signed ``|v_n|^2`` per group (for ``beta = 0``: ``|g_n + k q_n|^2``).
    lr, momentum, weight_decay : float

    Returns
    -------
    ndarray (n_steps + 1, n_groups)
    """
    v2 = np.atleast_2d(np.asarray(update_sq, dtype=np.float64))
    out = np.empty((v2.shape[0] + 1, v2.shape[1]))
    out[0] = q = np.asarray(q0, dtype=np.float64)
    c = weight_decay * q
    for n in range(v2.shape[0]):
        q_next = q - 2.0 * lr * c + lr * lr * v2[n]
        c = momentum * (c - lr * v2[n]) + weight_decay * q_next
        out[n + 1] = q = q_next
    return out


def discrete_translation_charge(c0, n_steps, lr, momentum=0.0, weight_decay=0.0):
    """Exact translation charge ``C_n`` (data-free) under PyTorch SGD.

    Returns
    -------
    ndarray (n_steps + 1, n_groups)
    """
    c = np.asarray(c0, dtype=np.float64).reshape(-1)
    out = np.empty((n_steps + 1, c.size))
    out[0] = c
    s = np.zeros_like(c)
    for n in range(n_steps):
        s = momentum * s + weight_decay * c
        c = c - lr * s
        out[n + 1] = c
    return out


def _zoh(gamma, omega2, dt):
    """Exact one-step propagator ``(Phi, Gamma)`` of y' = A y + (0, s) with s held constant."""
    aug = np.zeros((3, 3))
    aug[0, 1] = 1.0
    aug[1, 0] = -omega2
    aug[1, 1] = -2.0 * gamma
    aug[1, 2] = 1.0
    e = expm(aug * dt)
    return e[:2, :2], e[:2, 2]


def _propagate(phi, gam, y0, source):
    """Iterate ``y <- phi y + gam s_n``; returns the first state component per step."""
    s = np.atleast_2d(np.asarray(source, dtype=np.float64))
    y = y0
    out = np.empty((s.shape[0] + 1, s.shape[1]))
    out[0] = y[0]
    for n in range(s.shape[0]):
        y = phi @ y + np.outer(gam, s[n])
        out[n + 1] = y[0]
    return out


def oscillator(q0, source, dt, gamma, omega2, dq0=None):
    """Propagate ``Q'' + 2 gamma Q' + omega2 Q = s`` with ``s`` constant per step.

    Parameters
    ----------
    q0 : array (n_groups,)
    source : array (n_steps, n_groups)
        ``s`` over ``[n dt, (n+1) dt)``.
    dt : float
        Step in time (``eta``).
    gamma, omega2 : float
    dq0 : array (n_groups,), optional
        Initial velocity; default 0 (as in Neural Mechanics).

    Returns
    -------
    ndarray (n_steps + 1, n_groups)
    """
    q0 = np.asarray(q0, dtype=np.float64)
    y = np.zeros((2, q0.size))
    y[0] = q0
    if dq0 is not None:
        y[1] = dq0
    return _propagate(*_zoh(gamma, omega2, dt), y, source)


def linear_relaxation(q0, source, dt, rate):
    """Propagate ``Q' = -rate Q + s`` exactly, ``s`` constant per step (arguments as :func:`oscillator`).

    ``rate = 0`` accumulates: ``Q_n = Q_0 + dt sum s``.  Returns an ndarray
    ``(n_steps + 1, n_groups)``.
    """
    x = rate * dt
    weight = dt * (-np.expm1(-x) / x) if x != 0 else dt  # int_0^dt e^{-rate u} du
    q0 = np.asarray(q0, dtype=np.float64).reshape(1, -1)
    return _propagate(np.array([[np.exp(-x)]]), np.array([weight]), q0, source)


def steady_angular_update(lr, momentum=0.0, weight_decay=0.0) -> float:
    """Equilibrium angular update per step ``sqrt(2 eta k / (1 + beta))`` (radians)."""
    return float(np.sqrt(2.0 * lr * weight_decay / (1.0 + momentum)))


def steady_r2(mean_ghat_sq, lr, momentum=0.0, weight_decay=0.0, noise_ghat_sq=None) -> float:
    """Equilibrium ``r^2`` of a scale group.

    Coherent form ``r^4 = eta (1+beta) <|g_hat|^2> / (2 k (1-beta)^2)``.  With
    ``noise_ghat_sq = tr Sigma_hat`` (minibatch noise at the unit-norm point)
    and ``mean_ghat_sq = |mean g_hat|^2`` the noise-corrected form
    ``r^4 = (eta/(2k)) [(1+beta)|g_bar|^2/(1-beta)^2 + tr Sigma/(1-beta)]`` (nld.md 3.1(h)).
    """
    if weight_decay <= 0:
        raise ValueError("a steady state needs weight_decay > 0 (with k = 0 the norm grows for ever)")
    mu = 1.0 - momentum
    r4 = (1.0 + momentum) * mean_ghat_sq / mu**2
    if noise_ghat_sq is not None:
        r4 = r4 + noise_ghat_sq / mu
    return float(np.sqrt(lr * r4 / (2.0 * weight_decay)))


@dataclass(frozen=True)
class RMSPropEquivalent:
    """Group-wise RMSProp that the NLD closed form is equivalent to (nld.md 3.1(f)).

    Attributes
    ----------
    rho : float
        Per-step discount ``1 - 4 eta k / (1 - beta)``.
    lr : float
        Step on the unit sphere per normalised gradient, ``sqrt(2 eta k / (1 + beta))``.
    second_moment_0 : ndarray
        Initial ``G(0) = r^4(0) 2 k (1-beta)^2 / (eta (1+beta))``.
    scale : float
        ``r^4 = scale * G`` with ``scale = eta (1+beta) / (2 k (1-beta)^2)``.
    """

    rho: float
    lr: float
    second_moment_0: np.ndarray
    scale: float


def rmsprop_equivalent(r2_0, lr, momentum=0.0, weight_decay=0.0) -> RMSPropEquivalent:
    """Map SGD on a scale group to the RMSProp whose ``sqrt(G)`` tracks ``r^2``.

    In continuous time RMSProp's ``eta dG/dt = (1 - rho)(|g|^2 - G)`` and the
    closed form ``u = r^4`` obey the same linear equation when ``rho`` and
    ``scale`` are as below (coherent, overdamped regime; ``k > 0``).
    """
    if weight_decay <= 0:
        raise ValueError("the RMSProp map needs weight_decay > 0 (k = 0 is AdaGrad-like: no discount)")
    mu = 1.0 - momentum
    scale = lr * (1.0 + momentum) / (2.0 * weight_decay * mu**2)
    return RMSPropEquivalent(
        rho=1.0 - 4.0 * lr * weight_decay / mu,
        lr=steady_angular_update(lr, momentum, weight_decay),
        second_moment_0=np.asarray(r2_0, dtype=np.float64) ** 2 / scale,
        scale=scale,
    )
