"""The implicit-RMSProp "shadow optimiser" of SGD on scale-invariant groups.

For a scale group ``A`` (``f(c q_A) = f(q_A)``) and SGD with coupled weight
decay ``k`` and no momentum, write ``q = r q_hat`` with ``|q_hat| = 1``; the
gradient at the unit-norm point is ``g_hat = r g``.  One SGD step is exactly
(nld.md 3.1(i))::

    q_hat_{n+1} = normalise( q_hat_n - eta / ((1 - eta k) r_n^2) g_hat_n )
    r_{n+1}^2   = (1 - eta k)^2 r_n^2 + eta^2 |g_hat_n|^2 / r_n^2

i.e. a normalised-gradient step on the sphere whose learning rate is divided
by the group's running "second moment" ``r^2`` (an RMSProp/AdaGrad-like
accumulator of ``|g_hat|^2``).  :class:`ImplicitRMSProp` runs this form on a
model whose scale groups are kept at unit norm; it reproduces SGD's function
trajectory to round-off.
"""

from __future__ import annotations

from typing import Sequence

import torch

from .groups import SymmetryFamily

__all__ = ["ImplicitRMSProp"]


class ImplicitRMSProp(torch.optim.Optimizer):
    """Shadow of ``SGD(lr, weight_decay)`` with unit-norm scale groups.

    Parameters
    ----------
    model : nn.Module
        Its scale groups are normalised in place at construction.
    families : sequence of SymmetryFamily
        Only ``scale`` families are used (must not share parameters).
    lr : float
    weight_decay : float, default=0.0

    Attributes
    ----------
    radius_sq : list of Tensor
        ``r^2`` per group of each scale family (the implicit second moment).
    """

    def __init__(self, model: torch.nn.Module, families: Sequence[SymmetryFamily], lr: float,
                 weight_decay: float = 0.0):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        if not (0 <= weight_decay and lr * weight_decay < 1):
            raise ValueError(f"need 0 <= weight_decay < 1/lr, got {weight_decay!r}")
        self.scale_families = [f for f in families if f.kind == "scale"]
        if not self.scale_families:
            raise ValueError("ImplicitRMSProp needs at least one scale family (a layer feeding a normalisation)")
        named = dict(model.named_parameters())
        owned = [p.name for f in self.scale_families for p in f.parts]
        if len(owned) != len(set(owned)):
            raise ValueError("scale families share parameters; the shadow needs disjoint groups")
        super().__init__(list(model.parameters()), dict(lr=lr, weight_decay=weight_decay))
        self._named = named
        self._owned = set(owned)
        self.radius_sq = []
        with torch.no_grad():
            for f in self.scale_families:
                q = {p.name: named[p.name] for p in f.parts}
                r2 = f.charge(q)
                if torch.any(r2 <= 0):
                    raise ValueError(f"a group of {f.name} has zero norm; it has no direction")
                self._rescale(f, 1.0 / torch.sqrt(r2))
                self.radius_sq.append(r2.clone())

    def _rescale(self, family, factor):
        for part in family.parts:
            p = self._named[part.name]
            p.mul_(family.expand(factor, part, p.shape))

    @torch.no_grad()
    def step(self, closure=None):
        """One shadow step (scale groups) and one plain SGD step (everything else)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        lr, k = self.defaults["lr"], self.defaults["weight_decay"]
        shrink = 1.0 - lr * k
        for i, f in enumerate(self.scale_families):
            r2 = self.radius_sq[i]
            g = {p.name: (self._named[p.name].grad if self._named[p.name].grad is not None
                          else torch.zeros_like(self._named[p.name])) for p in f.parts}
            gh2 = f.pairing(g, g)
            coef = lr / (shrink * r2)
            for part in f.parts:
                p = self._named[part.name]
                p.sub_(f.expand(coef, part, p.shape) * g[part.name])
            n2 = f.charge({p.name: self._named[p.name] for p in f.parts})
            self._rescale(f, 1.0 / torch.sqrt(n2))
            self.radius_sq[i] = shrink**2 * r2 + lr**2 * gh2 / r2
        for name, p in self._named.items():
            if name in self._owned or p.grad is None:
                continue
            p.sub_(lr * (p.grad + k * p))
        return loss
