"""The charge balance of a symmetry group, read off the core Lagrangian.

For the learning-rule Lagrangian of :mod:`.lagrangian` and the generator
``xi`` of one group of a :class:`~varembed.nld.groups.SymmetryFamily`, the
core (:func:`varembed.core.lagrangian.noether_current`) gives the Noether
charge ``J`` and its balance ``dJ/dt + J/tau - (breaking)``, which is
``-<EL, xi>`` off shell and zero on a solution of the modified equation
(NLD, V1-Eq.8).  For the three kinds of group that balance is linear in the
group's charge ``Q`` (signed ``|q_A|^2`` or ``sum q_A``) and the kinetic
feature ``P = q'^T (d xi/dq) q'`` (signed ``|q'_A|^2``; zero for a
translation)::

    a Q'' + b Q' + c Q - d P = -<EL, xi>   ->   Q'' + 2 gamma Q' + omega^2 Q = s P  on shell

:func:`charge_balance` evaluates the core once per learning rule, along a
cubic probe path of a field with a rescale block (signs ``+1, +1, -1, -1``;
a scale group is the all-plus special case) and one translation coordinate
(``xi = 1``), and solves for ``(a, b, c, d)`` of both kinds:
``dJ/dt + J/tau`` on ``(Q'', Q')`` and the breaking source on ``(Q, P)``.
The fits must be exact (they prove the linear form; coefficients carry
round-off of about 1e-12 of the largest term).  The translation balance of
one coordinate is the modified equation ``m q'' + mu q' + k q = -grad f``
projected on ``1``, so it also gives the mass ``m`` and the friction ``mu``.
The predictors of :mod:`.predictors` integrate this balance and its
overdamped reductions; no coefficient of theirs is written by hand.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from .groups import SymmetryFamily
from .lagrangian import LearningRule, noether_charge

__all__ = ["ChargeBalance", "charge_balance"]

_N_TIMES = 12
_FIT_RTOL = 1e-8


@dataclass(frozen=True)
class ChargeBalance:
    """``inertia Q'' + damping Q' + stiffness Q = gain P`` for one kind of group.

    Read off the core's Noether current of the learning Lagrangian, not derived by hand.

    Attributes
    ----------
    kind : str
        ``"scale"``, ``"rescale"`` or ``"translation"``.
    inertia, damping, stiffness, gain : float
        The coefficients read off the core (``m/2, mu/2, k, m`` for a scale
        group; ``m, mu, k, 0`` for a translation).
    mass, friction : float
        ``m`` and ``mu`` of the modified equation ``m q'' + mu q' + k q = -grad f``.
    dt : float
        Time per optimiser step (the learning rate; ``t = n eta``).
    fit_residual : float
        Relative residual of the fits (round-off when the linear form holds).
    """

    kind: str
    inertia: float
    damping: float
    stiffness: float
    gain: float
    mass: float
    friction: float
    dt: float
    fit_residual: float

    @property
    def gamma(self) -> float:
        """Damping rate ``gamma`` of ``Q'' + 2 gamma Q' + omega^2 Q = s P``."""
        return self.damping / (2.0 * self.inertia)

    @property
    def omega2(self) -> float:
        """Squared natural frequency ``omega^2`` (weight decay's spring)."""
        return self.stiffness / self.inertia

    @property
    def source_gain(self) -> float:
        """``s``: the kinetic-symmetry-breaking source per unit of ``P`` (0 for translations)."""
        return self.gain / self.inertia

    def overdamped(self):
        """``(rate, gain)`` of ``Q' = -rate Q + gain P`` (inertia dropped)."""
        return self.stiffness / self.damping, self.gain / self.damping

    def coherent_r4(self):
        """``(rate, amplitude)`` of ``(r^4)' = -rate r^4 + amplitude |g_hat|^2`` (V1-Eq.17).

        The overdamped balance of a scale group with the coherent velocity
        ``|q'| = |g| / mu = |g_hat| / (mu r)``, written for ``u = r^4 = Q^2``.
        """
        rate, gain = self.overdamped()
        return 2.0 * rate, 2.0 * gain / self.friction**2

    def steady_angle(self) -> float:
        """Equilibrium angle per step, ``dt sqrt(omega^2 / s)`` (``Q' = Q'' = 0``: tangential motion)."""
        return self.dt * math.sqrt(max(self.omega2, 0.0) / self.source_gain)

    def steady_r4(self, ghat_sq):
        """Equilibrium ``r^4`` of the coherent form for a mean ``|g_hat|^2`` (needs weight decay)."""
        rate, amplitude = self.coherent_r4()
        return amplitude * np.asarray(ghat_sq, dtype=np.float64) / rate


def charge_balance(rule: LearningRule, family: SymmetryFamily) -> ChargeBalance:
    """The linear ODE of one group's charge, from the core's Noether current.

    Parameters
    ----------
    rule : LearningRule
        A Euclidean rule (``metric=None``): with a frozen metric the Euclidean
        charge is not the Noether charge and its balance is not closed.
    family : SymmetryFamily
        Only its kind matters (every group of every family of one kind obeys
        the same balance).

    Returns
    -------
    ChargeBalance

    Raises
    ------
    TypeError
        For a non-Euclidean rule.
    ValueError
        If the core's balance is not linear in ``(Q'', Q', Q, P)``.
    """
    if not isinstance(rule, LearningRule):
        raise TypeError(f"rule must be a LearningRule, got {type(rule).__name__}")
    if not rule.euclidean:
        raise TypeError("the charge balance needs a Euclidean (SGD) rule; a frozen metric changes the charge")
    kind = "translation" if family.kind == "translation" else "proportional"
    values = dict(_balances(float(rule.lr), float(rule.momentum), float(rule.weight_decay)))
    coef, resid = values[kind][0], max(v[1] for v in values.values())
    translation = values["translation"][0]
    return ChargeBalance(kind=family.kind, inertia=coef[0], damping=coef[1], stiffness=coef[2], gain=coef[3],
                         mass=translation[0], friction=translation[1], dt=float(rule.lr), fit_residual=resid)


def _probe(dim: int, horizon: float, seed: int):
    """A cubic path ``u(t)`` with fixed, well-conditioned coefficients over ``[0, horizon]``.

    Returns the torch path ``t (1,) -> u (dim,)`` for the core and
    ``jet(times) -> (u, u', u'')`` in NumPy, shape ``(len(times), dim)`` each.
    """
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.5, 1.5, (4, dim)) * rng.choice([-1.0, 1.0], (4, dim))
    c = c / (np.array([[1.0], [1.0], [2.0], [6.0]]) * horizon ** np.arange(4)[:, None])
    ct = torch.as_tensor(c, dtype=torch.float64)

    def path(t):
        return ct[0] + t * (ct[1] + t * (ct[2] + t * ct[3]))

    def jet(times):
        t = np.asarray(times, dtype=np.float64).reshape(-1, 1)
        return (c[0] + t * (c[1] + t * (c[2] + t * c[3])), c[1] + t * (2 * c[2] + 3 * t * c[3]),
                2 * c[2] + 6 * t * c[3])

    return path, jet


def _fit(features: np.ndarray, target: np.ndarray):
    """Least squares with normalised columns; returns (coefficients, relative residual)."""
    norms = np.linalg.norm(features, axis=0)
    coef, *_ = np.linalg.lstsq(features / norms, target, rcond=None)
    coef = coef / norms
    resid = np.linalg.norm(features @ coef - target) / max(np.linalg.norm(target), np.finfo(float).tiny)
    return coef, float(resid)


def _fitted(rule, horizon):
    """``{kind: ((a, b, c, d), residual)}`` of ``a Q'' + b Q' + c Q = d P`` from one core evaluation.

    The probe field has a rescale block ``x`` (``xi = S x``, ``S = diag(1, 1, -1, -1)``) and a
    translation coordinate ``z`` (``xi = 1``); the core's charge and breaking are then sums over
    the two, and the fits separate them by their features along the path: ``Q = x^T S x``,
    ``C = z``, their time derivatives, and ``P = x'^T S x'``.
    """
    times = torch.linspace(0.0, horizon, _N_TIMES, dtype=torch.float64)[:, None]
    sign = np.array([1.0, 1.0, -1.0, -1.0])
    path, jet = _probe(sign.size + 1, horizon, seed=0)
    u, du, ddu = jet(times.numpy())
    x, dx, ddx = u[:, :-1], du[:, :-1], ddu[:, :-1]
    q, dq, ddq = (x * x) @ sign, 2 * (x * dx) @ sign, 2 * (dx * dx + x * ddx) @ sign
    p = (dx * dx) @ sign
    c, dc, ddc = u[:, -1], du[:, -1], ddu[:, -1]
    scale = torch.as_tensor(np.append(sign, 0.0))
    shift = torch.as_tensor(np.append(np.zeros_like(sign), 1.0))

    def xi(v):
        return scale * v + shift

    dyn = noether_charge(rule, xi, path, times)
    source = dyn.source.numpy()  # kinetic minus potential breaking
    lhs, resid_l = _fit(np.stack([ddq, dq, ddc, dc], 1), dyn.balance.numpy() + source)  # dJ/dt + J/tau
    rhs, resid_r = _fit(np.stack([q, p, c], 1), source)
    resid = max(resid_l, resid_r)
    return {"proportional": ((float(lhs[0]), float(lhs[1]), -float(rhs[0]), float(rhs[1])), resid),
            "translation": ((float(lhs[2]), float(lhs[3]), -float(rhs[2]), 0.0), resid)}


@functools.lru_cache(maxsize=32)
def _balances(lr, momentum, weight_decay):
    rule = LearningRule(lr=lr, momentum=momentum, weight_decay=weight_decay)
    out = _fitted(rule, horizon=min(1.0, rule.tau))  # the time factor e^{t/tau} stays O(1) over the probe
    worst = max(v[1] for v in out.values())
    if not worst < _FIT_RTOL:
        raise ValueError("the core's charge balance is not linear in (Q'', Q', Q, P) "
                         f"(relative fit residual {worst:.1e})")
    return tuple(out.items())
