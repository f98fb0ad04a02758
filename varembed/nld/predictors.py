"""Predict the recorded charges of a :class:`~varembed.nld.tracker.ChargeHistory`.

Four predictors, from exact to approximate:

1. :func:`predict_discrete` -- exact discrete recursions (round-off only).
2. :func:`predict_modified_equation` -- the modified-equation (NLD) ODE
   ``(m/2) Q'' + (mu/2) Q' + k Q = m |q'|^2`` driven by the *measured*
   source ``|v_n|^2`` (or Neural Mechanics' first-order SGD formula driven by
   ``|g_n|^2``); error O(eta).
3. :func:`predict_nld` -- the NLD Bernoulli closed form for ``r^2`` with the
   coherence diagnostic ``kappa = (1-beta)^2 |v|^2 / |g|^2`` (the closed form
   assumes ``kappa ~ 1``; minibatch noise with momentum makes it over-predict).
4. :func:`steady_state` -- equilibrium angular update and ``r^2``, against the
   measured values.

Every predictor refuses (``TypeError``) a history whose optimiser it cannot
model, and (``ValueError``) a family kind it does not apply to.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import closed_forms as cf
from .tracker import ChargeHistory

__all__ = [
    "predict_discrete",
    "predict_modified_equation",
    "predict_nld",
    "NLDPrediction",
    "measured_angular_update",
    "steady_state",
    "SteadyState",
    "relative_error",
]


def _rule(h: ChargeHistory):
    if not isinstance(h, ChargeHistory):
        raise TypeError(f"expected a ChargeHistory (from NoetherTracker.history()), got {type(h).__name__}")
    if h.rule is None:
        raise TypeError(f"cannot predict {h.family.name!r}: {h.why}")
    if not h.rule.euclidean:
        raise TypeError("predictions need a Euclidean (SGD) learning rule, got a frozen metric")
    return h.rule


def _need_kind(h: ChargeHistory, kinds, what):
    if h.family.kind not in kinds:
        raise ValueError(f"{what} applies to {' / '.join(kinds)} groups, not {h.family.kind} ({h.family.name})")


def relative_error(pred, meas) -> float:
    """``max |pred - meas| / max |meas|`` over steps and groups (absolute if meas = 0)."""
    pred, meas = np.asarray(pred), np.asarray(meas)
    scale = np.max(np.abs(meas))
    return float(np.max(np.abs(pred - meas)) / (scale if scale > 0 else 1.0))


def predict_discrete(h: ChargeHistory) -> np.ndarray:
    """Exact discrete recursion of the charges (``(n+1, n_groups)``).

    Scale / rescale: from ``Q_0`` and the recorded ``|v_n|^2``; translation:
    from ``C_0`` alone.
    """
    r = _rule(h)
    if h.family.kind == "translation":
        return cf.discrete_translation_charge(h.charge[0], h.n_steps, r.lr, r.momentum, r.weight_decay)
    return cf.discrete_quadratic_charge(h.charge[0], h.update_sq, r.lr, r.momentum, r.weight_decay)


def predict_modified_equation(h: ChargeHistory, source: str = "update") -> np.ndarray:
    """Continuous prediction from the modified equation with the measured source.

    Parameters
    ----------
    h : ChargeHistory
    source : {"update", "gradient"}, default="update"
        ``"update"``: the NLD oscillator ``Q'' + 2 gamma Q' + omega^2 Q = 2 |v|^2``
        (any momentum; translation groups have no source and
        ``omega^2 = 2k/(eta(1+beta))``).  ``"gradient"``: Neural Mechanics'
        first-order SGD formula with ``|g|^2`` (``beta = 0`` only).

    Returns
    -------
    ndarray (n_steps + 1, n_groups)
    """
    r = _rule(h)
    eta, beta, k = r.lr, r.momentum, r.weight_decay
    gamma = (1.0 - beta) / (eta * (1.0 + beta))
    if source == "gradient":
        if beta != 0.0:
            raise ValueError("source='gradient' is the momentum-free SGD formula; use source='update'")
        if h.family.kind == "translation":
            return h.charge[0] * np.exp(-k * eta * np.arange(h.n_steps + 1))[:, None]
        return cf.first_order_sgd(h.charge[0], h.grad_sq, eta, k)
    if source != "update":
        raise ValueError(f"source must be 'update' or 'gradient', got {source!r}")
    if h.family.kind == "translation":
        zero = np.zeros((h.n_steps, h.family.n_groups))
        return cf.oscillator(h.charge[0], zero, eta, gamma, 2.0 * k / (eta * (1.0 + beta)))
    if not np.all(np.isfinite(h.update_sq)):
        raise TypeError("the update |v|^2 was not recorded (optimiser not modelled)")
    return cf.oscillator(h.charge[0], 2.0 * h.update_sq, eta, gamma, 4.0 * k / (eta * (1.0 + beta)))


@dataclass(frozen=True)
class NLDPrediction:
    """NLD closed-form prediction of ``r^2`` with its validity diagnostic.

    Attributes
    ----------
    r2 : ndarray (n_steps + 1, n_groups)
    kappa : ndarray (n_steps, n_groups)
        Coherence ``(1-beta)^2 |v|^2 / |g|^2`` per step (1 for coherent
        gradients; much less than 1 when noise or oscillation dominate).
    coherent : ndarray of bool (n_groups,)
        Median ``kappa`` above ``kappa_min``.
    """

    r2: np.ndarray
    kappa: np.ndarray
    coherent: np.ndarray


def predict_nld(h: ChargeHistory, kappa_min: float = 0.5) -> NLDPrediction:
    """The NLD Bernoulli / RMSProp closed form (V1-Eq.17) for a scale group.

    Uses ``|g_hat_n|^2 = Q_n |g_n|^2`` from the record.  Warns when the
    coherence flag is off for some group (the closed form then over-predicts,
    up to ``sqrt((1+beta)/(1-beta))`` for white minibatch noise).
    """
    r = _rule(h)
    _need_kind(h, ("scale",), "the NLD closed form")
    ghat = h.charge[:-1] * h.grad_sq
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (1.0 - r.momentum) ** 2 * h.update_sq / h.grad_sq
    coherent = np.nanmedian(kappa, axis=0) > kappa_min
    if not np.all(coherent):
        warnings.warn(
            f"{int(np.sum(~coherent))}/{coherent.size} groups of {h.family.name} are incoherent "
            f"(median kappa <= {kappa_min}): the NLD closed form over-predicts there; "
            "prefer predict_modified_equation",
            UserWarning,
            stacklevel=2,
        )
    r2 = cf.bernoulli_r2(h.charge[0], ghat, r.lr, r.momentum, r.weight_decay)
    return NLDPrediction(r2=r2, kappa=kappa, coherent=coherent)


def measured_angular_update(h: ChargeHistory) -> np.ndarray:
    """Angle between ``q_n`` and ``q_{n+1}`` per step and scale group (radians).

    From ``q_n = q_{n+1} + eta v_n``: ``atan2(eta |q_{n+1} x v_n|, Q_{n+1} + eta <v_n, q_{n+1}>)``
    (no ``arccos`` near 1).
    """
    r = _rule(h)
    _need_kind(h, ("scale",), "the angular update")
    q1, v2, vq = h.charge[1:], h.update_sq, h.update_dot_next
    cross = np.sqrt(np.clip(q1 * v2 - vq**2, 0.0, None))
    return np.arctan2(r.lr * cross, q1 + r.lr * vq)


@dataclass(frozen=True)
class SteadyState:
    """Measured against predicted equilibrium of scale groups.

    Attributes
    ----------
    angle_measured, angle_predicted : float
        Mean angular update per step over the window, and ``sqrt(2 eta k/(1+beta))``.
    r2_measured, r2_predicted : ndarray (n_groups,)
        Mean ``r^2`` over the window, and the coherent formula with the mean
        measured ``|g_hat|^2``.
    relaxation_steps : float
    """

    angle_measured: float
    angle_predicted: float
    r2_measured: np.ndarray
    r2_predicted: np.ndarray
    relaxation_steps: float


def steady_state(h: ChargeHistory, window: int = 500) -> SteadyState:
    """Compare the last ``window`` steps with the equilibrium formulas.

    Warns if the run is shorter than three relaxation times ``(1-beta)/(4 eta k)``.
    """
    r = _rule(h)
    _need_kind(h, ("scale",), "the steady state")
    if r.weight_decay <= 0:
        raise ValueError("no steady state without weight decay")
    n_relax = cf.relaxation_steps(r.lr, r.momentum, r.weight_decay)
    if h.n_steps < 3 * n_relax:
        warnings.warn(f"{h.n_steps} steps < 3 relaxation times ({3 * n_relax:.0f}): not yet in equilibrium",
                      UserWarning, stacklevel=2)
    w = slice(max(h.n_steps - window, 0), h.n_steps)
    angle = measured_angular_update(h)[w]
    ghat = (h.charge[:-1] * h.grad_sq)[w].mean(0)
    r2_pred = np.array([cf.steady_r2(g, r.lr, r.momentum, r.weight_decay) for g in ghat])
    return SteadyState(
        angle_measured=float(angle.mean()),
        angle_predicted=cf.steady_angular_update(r.lr, r.momentum, r.weight_decay),
        r2_measured=h.charge[:-1][w].mean(0),
        r2_predicted=r2_pred,
        relaxation_steps=n_relax,
    )
