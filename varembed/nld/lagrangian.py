"""The learning-rule Lagrangian of gradient descent, on the shared variational core.

A step of ``torch.optim.SGD`` (learning rate ``eta``, heavy-ball momentum
``beta``, coupled weight decay ``k``) is, to first order in ``eta``, the
Euler-Lagrange equation of the Bateman-Caldirola-Kanai Lagrangian in time
``t = n eta`` (Tanaka & Kunin 2021, V1-Eq.3-4)::

    L(t, q, q') = e^{t / tau} [ (m / 2) q'^T G q' - f(q) - (k / 2) |q|^2 ]
    m = eta (1 + beta) / 2   (mass: the finite learning rate)
    mu = 1 - beta            (friction),   tau = m / mu

with ``G = I`` for Euclidean rules and a *frozen* metric ``G = P`` for a
preconditioned rule ``q <- q - eta P^{-1} g`` (RMSProp, Adam in the adiabatic
approximation).  The Noether charge of a vertical generator ``xi(q)`` is the
momentum along it, ``J = <dL/dq', xi> e^{-t/tau} = m <G q', xi>``; the core's
explicit breaking term is ``e^{t/tau} (delta_xi T - <grad V, xi>)``, so the
NLD equation ``dJ/dt + J / tau = delta_xi T - <grad V, xi>`` is the core's
off-shell Noether identity on a solution.

Everything here is a call into :mod:`varembed.core.lagrangian` with one
independent variable (time).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from ..core.lagrangian import Generator, NoetherCurrent, euler_lagrange, noether_current

__all__ = [
    "LearningRule",
    "learning_density",
    "modified_equation_residual",
    "noether_charge",
    "ChargeDynamics",
    "kinetic_symmetry_breaking",
]


@dataclass(frozen=True)
class LearningRule:
    """Hyperparameters of a learning rule seen as a damped mechanical system.

    Mass ``m``, friction ``mu`` and damping time ``tau`` follow from them (properties).

    Parameters
    ----------
    lr : float
        Learning rate ``eta > 0``.
    momentum : float, default=0.0
        Heavy-ball momentum ``beta`` in ``[0, 1)`` (PyTorch SGD, dampening 0).
    weight_decay : float, default=0.0
        Coupled L2 coefficient ``k >= 0`` (PyTorch's ``weight_decay``).
    metric : Tensor, optional
        Frozen metric ``G``: a vector (diagonal) or a square matrix.  ``None``
        is the Euclidean metric of plain SGD.
    """

    lr: float
    momentum: float = 0.0
    weight_decay: float = 0.0
    metric: Optional[torch.Tensor] = None

    def __post_init__(self):
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not (0.0 <= self.momentum < 1.0):
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum!r}")
        if not (self.weight_decay >= 0.0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"weight_decay must be finite and >= 0, got {self.weight_decay!r}")

    @property
    def mass(self) -> float:
        """``m = eta (1 + beta) / 2``."""
        return self.lr * (1.0 + self.momentum) / 2.0

    @property
    def friction(self) -> float:
        """``mu = 1 - beta``."""
        return 1.0 - self.momentum

    @property
    def tau(self) -> float:
        """Damping time ``m / mu``."""
        return self.mass / self.friction

    @property
    def euclidean(self) -> bool:
        """True when the kinetic energy is ``(m/2)|q'|^2``."""
        return self.metric is None

    def kinetic(self, dq: torch.Tensor) -> torch.Tensor:
        """Kinetic energy ``(m/2) q'^T G q'`` (without the time factor)."""
        if self.metric is None:
            quad = (dq * dq).sum()
        elif self.metric.dim() == 1:
            quad = (self.metric * dq * dq).sum()
        else:
            quad = dq @ (self.metric @ dq)
        return 0.5 * self.mass * quad

    @classmethod
    def from_optimizer(cls, optimizer, *, group: int = 0, allow_frozen_metric: bool = False):
        """The rule of one parameter group of a PyTorch optimiser.

        Parameters
        ----------
        optimizer : torch.optim.Optimizer
            ``SGD`` (dampening 0, no Nesterov, not maximising) is modelled
            exactly.  ``RMSprop``/``Adam``/``AdamW`` are only representable as a
            frozen metric and require ``allow_frozen_metric=True``; their metric
            is left to the caller (``metric=None`` here) and a warning says so.
        group : int, default=0
            Index into ``optimizer.param_groups``.
        allow_frozen_metric : bool, default=False

        Raises
        ------
        TypeError
            For an optimiser (or option) the Lagrangian cannot model.
        """
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        pg = optimizer.param_groups[group]
        name = type(optimizer).__name__
        if isinstance(optimizer, torch.optim.SGD):
            if pg.get("nesterov", False):
                raise TypeError("SGD with nesterov=True is not modelled (it changes mass and friction)")
            if pg.get("dampening", 0.0) != 0.0:
                raise TypeError(f"SGD with dampening={pg['dampening']} is not modelled; use dampening=0")
            if pg.get("maximize", False):
                raise TypeError("SGD with maximize=True is not modelled")
            return cls(lr=_float(pg["lr"]), momentum=float(pg.get("momentum", 0.0)),
                       weight_decay=float(pg["weight_decay"]))
        if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop)) and allow_frozen_metric:
            warnings.warn(
                f"{name} is modelled only as a frozen (adiabatic) metric G = diag(sqrt(v)+eps) "
                "with no momentum; Euclidean predictions do not apply to it",
                UserWarning,
                stacklevel=2,
            )
            return cls(lr=_float(pg["lr"]))
        raise TypeError(
            f"optimizer {name} cannot be modelled: NLD predictions are exact for torch.optim.SGD "
            "(momentum, coupled weight_decay, dampening=0, nesterov=False); adaptive optimisers "
            "(Adam, AdamW, RMSprop) only as a frozen metric (allow_frozen_metric=True)"
        )


def learning_density(rule: LearningRule, loss: Optional[Callable] = None) -> Callable:
    """The per-point density ``L(x, u, du)`` for :mod:`varembed.core.lagrangian`.

    Parameters
    ----------
    rule : LearningRule
    loss : callable, optional
        ``f(q) -> scalar`` (torch, differentiable by ``torch.func``).  ``None``
        drops the loss: the density then holds the kinetic energy and weight
        decay only (for networks whose loss is verified symmetric, see
        :mod:`varembed.nld.registry`).

    Returns
    -------
    callable
        ``L(x (1,), u (N,), du (N, 1)) -> scalar`` with ``x = (t,)``.
    """
    inv_tau = 1.0 / rule.tau
    k = rule.weight_decay

    def density(x, u, du):
        v = rule.kinetic(du[:, 0]) - 0.5 * k * (u * u).sum()
        if loss is not None:
            v = v - loss(u)
        return torch.exp(x[0] * inv_tau) * v

    return density


def modified_equation_residual(
    rule: LearningRule, loss: Callable, trajectory: Callable, t: torch.Tensor
) -> torch.Tensor:
    """Residual of the modified equation ``m G q'' + mu G q' + grad f + k q`` along a path.

    Computed as ``-e^{-t/tau} EL`` with the core's Euler-Lagrange expression
    (exact for the Euclidean and the frozen-metric Lagrangian).

    Parameters
    ----------
    rule : LearningRule
    loss : callable
        ``f(q) -> scalar``.
    trajectory : callable
        Smooth path ``t (1,) -> q (N,)`` (a closed-form solution, an interpolant
        of iterates).
    t : Tensor of shape (batch,) or (batch, 1)

    Returns
    -------
    Tensor of shape (batch, N)
    """
    x = _as_times(t)
    el = euler_lagrange(learning_density(rule, loss), trajectory, x)
    return -el * torch.exp(-x / rule.tau)


@dataclass(frozen=True)
class ChargeDynamics:
    """Noether charge of a generator along a path, and its balance.

    Attributes
    ----------
    charge : Tensor (batch,)
        ``J = m <G q', xi>`` (time factor removed).
    source : Tensor (batch,)
        ``delta_xi T - <grad V, xi>``: kinetic breaking minus potential breaking.
    balance : Tensor (batch,)
        ``dJ/dt + J / tau - source``; equals ``-<EL, xi> e^{-t/tau}``, so it
        vanishes on a solution of the modified equation (NLD, V1-Eq.8).
    current : NoetherCurrent
        The core's result (time-weighted).
    """

    charge: torch.Tensor
    source: torch.Tensor
    balance: torch.Tensor
    current: NoetherCurrent


def noether_charge(
    rule: LearningRule,
    generator: Callable,
    trajectory: Callable,
    t: torch.Tensor,
    loss: Optional[Callable] = None,
) -> ChargeDynamics:
    """Noether charge ``<dL/dq', xi>`` of a vertical generator, by the core.

    Parameters
    ----------
    rule : LearningRule
    generator : callable
        ``xi(q) -> (N,)``, e.g. ``q * mask`` (scale), ``mask`` (translation).
    trajectory : callable
        ``t (1,) -> q (N,)``.
    t : Tensor of shape (batch,) or (batch, 1)
    loss : callable, optional
        Include ``f`` in the Lagrangian (otherwise the source omits ``<grad f, xi>``,
        which is zero for a verified symmetry).

    Returns
    -------
    ChargeDynamics
    """
    x = _as_times(t)
    gen = Generator(vertical=lambda x_, u_: generator(u_))
    cur = noether_current(learning_density(rule, loss), trajectory, gen, x)
    w = torch.exp(-x[:, 0] / rule.tau)
    charge = cur.current[:, 0] * w
    source = cur.breaking * w
    balance = (cur.divergence - cur.breaking) * w
    return ChargeDynamics(charge=charge, source=source, balance=balance, current=cur)


def kinetic_symmetry_breaking(
    rule: LearningRule, generator: Callable, trajectory: Callable, t: torch.Tensor
) -> torch.Tensor:
    """The kinetic-symmetry-breaking source ``delta_xi T`` along a path.

    The core's breaking term of the kinetic-only Lagrangian ``e^{t/tau} T``.
    Euclidean: ``m q'^T (d xi/dq) q'`` (``m |q'_A|^2`` for scale, ``0`` for
    translations and rotations).

    Returns
    -------
    Tensor of shape (batch,)
    """
    kinetic_only = LearningRule(lr=rule.lr, momentum=rule.momentum, metric=rule.metric)
    return noether_charge(kinetic_only, generator, trajectory, t).source


def _float(x) -> float:
    return float(x.item()) if isinstance(x, torch.Tensor) else float(x)


def _as_times(t) -> torch.Tensor:
    t = torch.as_tensor(t)
    if t.dim() == 1:
        t = t[:, None]
    if t.dim() != 2 or t.shape[1] != 1:
        raise ValueError(f"t must have shape (batch,) or (batch, 1), got {tuple(t.shape)}")
    return t
