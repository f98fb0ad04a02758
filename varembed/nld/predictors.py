"""Predict the recorded charges of a :class:`~varembed.nld.tracker.ChargeHistory`.

Four predictors, from exact to approximate:

1. :func:`predict_discrete` -- exact discrete recursions (round-off only).
2. :func:`predict_modified_equation` -- the charge balance
   ``Q'' + 2 gamma Q' + omega^2 Q = s |q'|^2`` of the modified equation,
   driven by the *measured* update ``|v_n|^2`` (or, without momentum, its
   overdamped reduction driven by ``|g_n|^2``: Neural Mechanics' formula);
   error O(eta).
3. :func:`predict_nld` -- the NLD Bernoulli closed form for ``r^2`` (the
   overdamped balance with the coherent velocity ``|g| / (1 - beta)``), with
   the coherence diagnostic ``kappa = (1-beta)^2 |v|^2 / |g|^2`` (the closed
   form assumes ``kappa ~ 1``; minibatch noise with momentum makes it over-predict).
4. :func:`steady_state` -- equilibrium angular update and ``r^2`` of that
   balance, against the measured values.

Predictors 2-4 take every coefficient from
:func:`~varembed.nld.balance.charge_balance`, i.e. from the core's Noether
current of the learning-rule Lagrangian; :mod:`.closed_forms` only integrates.
Every predictor refuses (``TypeError``) a history whose optimiser it cannot
model, and (``ValueError``) a family kind it does not apply to.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import closed_forms as cf
from .balance import charge_balance
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
    """Continuous prediction from the charge balance with the measured source.

    Parameters
    ----------
    h : ChargeHistory
    source : {"update", "gradient"}, default="update"
        ``"update"``: the balance ``Q'' + 2 gamma Q' + omega^2 Q = s |v|^2``
        (any momentum; a translation has no source).  ``"gradient"``: its
        overdamped reduction with ``|g|^2`` (Neural Mechanics' SGD formula;
        ``beta = 0`` only).

    Returns
    -------
    ndarray (n_steps + 1, n_groups)
    """
    r = _rule(h)
    b = charge_balance(r, h.family)
    if source not in ("update", "gradient"):
        raise ValueError(f"source must be 'update' or 'gradient', got {source!r}")
    if source == "gradient" and r.momentum != 0.0:
        raise ValueError("source='gradient' is the momentum-free SGD formula; use source='update'")
    measured = h.grad_sq if source == "gradient" else h.update_sq
    if b.gain == 0.0:
        measured = np.zeros((h.n_steps, h.family.n_groups))
    elif not np.all(np.isfinite(measured)):
        raise TypeError("the update |v|^2 was not recorded (optimiser not modelled)")
    if source == "gradient":
        rate, gain = b.overdamped()
        return cf.linear_relaxation(h.charge[0], gain * measured, r.lr, rate)
    return cf.oscillator(h.charge[0], b.source_gain * measured, r.lr, b.gamma, b.omega2)


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

    ``(r^4)' = -rate r^4 + amplitude |g_hat|^2`` with the coefficients of
    :meth:`ChargeBalance.coherent_r4 <varembed.nld.balance.ChargeBalance.coherent_r4>`
    and ``|g_hat_n|^2 = Q_n |g_n|^2`` from the record.  Warns when the
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
    rate, amplitude = charge_balance(r, h.family).coherent_r4()
    r2 = np.sqrt(cf.linear_relaxation(h.charge[0] ** 2, amplitude * ghat, r.lr, rate))
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
        Mean angular update per step over the window, and the balance's
        equilibrium ``sqrt(2 eta k/(1+beta))``.
    r2_measured, r2_predicted : ndarray (n_groups,)
        Mean ``r^2`` over the window, and the coherent equilibrium with the
        mean measured ``|g_hat|^2``.
    relaxation_steps : float
        Relaxation time of ``r^4`` in steps, ``(1 - beta) / (4 eta k)``.
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
    b = charge_balance(r, h.family)
    n_relax = 1.0 / (b.coherent_r4()[0] * r.lr)
    if h.n_steps < 3 * n_relax:
        warnings.warn(f"{h.n_steps} steps < 3 relaxation times ({3 * n_relax:.0f}): not yet in equilibrium",
                      UserWarning, stacklevel=2)
    w = slice(max(h.n_steps - window, 0), h.n_steps)
    angle = measured_angular_update(h)[w]
    ghat = (h.charge[:-1] * h.grad_sq)[w].mean(0)
    return SteadyState(
        angle_measured=float(angle.mean()),
        angle_predicted=b.steady_angle(),
        r2_measured=h.charge[:-1][w].mean(0),
        r2_predicted=np.sqrt(b.steady_r4(ghat)),
        relaxation_steps=n_relax,
    )
