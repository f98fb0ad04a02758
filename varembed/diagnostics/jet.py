"""The second-order jet of a fitted embedding: the fast diagnostic path.

Every diagnostic of an embedding ``phi`` with Lagrangian density
``q(z) L(phi, J)``, ``L = log p(phi) + g(J)``, ``g = 1/2 log det G - lam tr G``,
is an algebraic function of

* ``phi``, ``J = d phi / dz``, ``H = d^2 phi / dz^2`` (forward over forward mode),
* the stress ``P = J G^{-1} - 2 lam J`` and its divergence ``div_z P``,
* the prior ``q``, ``grad log q`` and the data score ``s(phi)`` (one batched call).

Autodiff is used only for ``(phi, J, H)`` of the map (forward over forward
mode); the stress, its divergence and the geometric Lagrangian follow from
them algebraically, and the data density (a KDE over thousands of points in
hundreds of dimensions) is evaluated once per point, never differentiated.
The generic path (:func:`varembed.core.lagrangian.euler_lagrange` and
:func:`~varembed.core.lagrangian.noether_current` on ``q L``) gives the same
numbers at a higher cost; the tests compare both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from ..core.fields import map_points, value_jacobian_hessian

__all__ = [
    "EmbeddingJet", "embedding_jet", "check_immersion", "batched", "score_and_log_prob",
]


def batched(fn, x: torch.Tensor, chunk_size: Optional[int]) -> torch.Tensor:
    """Apply a batched function (e.g. a density's score) to ``x`` in row chunks."""
    if chunk_size is None or x.shape[0] <= chunk_size:
        return fn(x)
    return torch.cat([fn(x[i : i + chunk_size]) for i in range(0, x.shape[0], chunk_size)])


def check_immersion(stress: torch.Tensor, z: torch.Tensor) -> None:
    """Raise ``ValueError`` naming the latent points where ``J^T J`` is singular."""
    bad = ~torch.isfinite(stress).flatten(1).all(-1)
    if bool(bad.any()):
        first = z[bad][0].detach().cpu().numpy()
        raise ValueError(
            f"the fitted map is not an immersion at {int(bad.sum())} of {z.shape[0]} latent points "
            f"(J^T J singular, e.g. at z = {first}); the Euler-Lagrange diagnostics need full-rank Jacobians"
        )


@torch.no_grad()
def score_and_log_prob(density, x: torch.Tensor, log_prob: bool, chunk_size: Optional[int]):
    """``(log p(x) or None, s(x))`` on a batch through the density's fastest path.

    Densities with a chunked ``log_prob_and_score`` (KDE, mixtures) use it;
    others get ``score`` (and ``log_prob``) in chunks of ``chunk_size`` rows.
    """
    fast = getattr(density, "log_prob_and_score", None)
    if fast is not None:
        lp, s = fast(x)
        return (lp if log_prob else None), s
    s = batched(density.score, x, chunk_size)
    return (batched(density.log_prob, x, chunk_size) if log_prob else None), s


@dataclass(frozen=True)
class EmbeddingJet:
    """Second-order jet of a map with the functional's ingredients, on a batch.

    Attributes
    ----------
    z : Tensor (n, d)
    phi : Tensor (n, D)
    jac : Tensor (n, D, d)
    hess : Tensor (n, D, d, d)
        ``hess[:, a, i, k] = d^2 phi_a / dz_i dz_k``.
    stress : Tensor (n, D, d)
        ``P = J G^{-1} - 2 lam J`` (with the functional's jitter in ``G``).
    div_stress : Tensor (n, D)
        ``sum_i d P_{ai} / dz_i``.
    geometric : Tensor (n,)
        ``g = 1/2 log det G - lam tr G``.
    grad_geometric : Tensor (n, d)
    q : Tensor (n,)
        Prior density.
    grad_log_q : Tensor (n, d)
    score : Tensor (n, D)
        ``s(phi)``.
    log_p : Tensor (n,) or None
        ``log p(phi)`` when requested.
    continuity : float
    jitter : float
    """

    z: torch.Tensor
    phi: torch.Tensor
    jac: torch.Tensor
    hess: torch.Tensor
    stress: torch.Tensor
    div_stress: torch.Tensor
    geometric: torch.Tensor
    grad_geometric: torch.Tensor
    q: torch.Tensor
    grad_log_q: torch.Tensor
    score: torch.Tensor
    log_p: Optional[torch.Tensor]
    continuity: float
    jitter: float = 0.0

    @property
    def residual(self) -> torch.Tensor:
        """``r = s(phi) - P grad log q - div_z P`` (``= EL / q``), shape (n, D)."""
        return self.score - (self.stress @ self.grad_log_q.unsqueeze(-1)).squeeze(-1) - self.div_stress

    @property
    def euler_lagrange(self) -> torch.Tensor:
        """``EL = q s - div_z(q P)``, shape (n, D)."""
        return self.q.unsqueeze(-1) * self.residual

    @property
    def gram(self) -> torch.Tensor:
        """``G = J^T J``, shape (n, d, d)."""
        return self.jac.transpose(-1, -2) @ self.jac

    @property
    def lagrangian(self) -> torch.Tensor:
        """``L = log p(phi) + g``; needs ``log_p``."""
        if self.log_p is None:
            raise ValueError("this jet was computed without log p(phi); pass log_prob=True")
        return self.log_p + self.geometric


def embedding_jet(functional, field, z: torch.Tensor, *, log_prob: bool = False,
                  chunk_size: Optional[int] = 1024, field_jet=None) -> EmbeddingJet:
    """Compute the :class:`EmbeddingJet` of ``field`` at latent points ``z``.

    ``phi``, ``J`` and ``H`` come from forward-over-forward differentiation
    of ``field`` (or from ``field_jet``); the stress, its divergence and the
    geometric Lagrangian then follow algebraically (:func:`stress_jet`).

    Parameters
    ----------
    functional : EmbeddingFunctional
        Prior, density and continuity weight.
    field : callable
        Per-point map ``z (d,) -> phi (D,)``, twice differentiable.
    z : Tensor of shape (n, d)
    log_prob : bool, default=False
        Also evaluate ``log p(phi)`` (needed for currents of latent generators).
    chunk_size : int or None
        Points per vectorised call.
    field_jet : callable, optional
        Batched ``z (n, d) -> (phi (n, D), J (n, D, d), H (n, D, d, d))``, e.g.
        an estimator's own forward-mode jet; used instead of ``torch.func``.

    Returns
    -------
    EmbeddingJet
    """
    lam, jitter = functional.continuity, functional.jitter
    if field_jet is None:
        phi, jac, hess = map_points(value_jacobian_hessian(field), z, chunk_size)
    else:
        phi, jac, hess = field_jet(z)
    stress, div_stress, geo, d_geo = functional.lagrangian.stress_jet(jac, hess)
    check_immersion(stress, z)
    prior, density = functional.prior, functional.density
    log_p, score = score_and_log_prob(density, phi, log_prob, chunk_size)
    q = torch.exp(prior.log_prob(z))
    return EmbeddingJet(
        z=z, phi=phi, jac=jac, hess=hess, stress=stress, div_stress=div_stress,
        geometric=geo, grad_geometric=d_geo, q=q, grad_log_q=prior.grad_log_prob(z),
        score=score, log_p=log_p, continuity=lam, jitter=jitter,
    )
