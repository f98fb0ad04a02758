"""Pointwise Euler-Lagrange residual of a fitted embedding.

``r(z) = s(phi(z)) - P(z) grad log q(z) - div_z P(z)`` is ``EL / q``, the
variational derivative of ``F`` per unit prior mass; it vanishes on a
stationary map.  Its size is reported relative to the fixed data score scale
``S_ref = sqrt(E_{x~p} |s(x)|^2)``:

    rho_EL = sqrt(E_q |r|^2) / S_ref.

(Normalising by ``|s| + |div P|`` on the curve is degenerate: both vanish in
the constant-speed regime of a converged fit.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core.lagrangian import euler_lagrange
from ..core.fields import map_points, value_and_jacobian
from ._inputs import _dtype_device, batched_field_jet, box_faces, prepare, reference_score_scale
from .jet import EmbeddingJet, check_immersion, embedding_jet

__all__ = ["ELResidual", "euler_lagrange_residual", "residual_from_jet", "boundary_residual"]

METHODS = ("fast", "generic")


@dataclass(frozen=True)
class ELResidual:
    """Euler-Lagrange residual on latent sample points.

    ``rho`` is the one number to read: ``sqrt(mean |r|^2)`` in units of ``s_ref``.

    Attributes
    ----------
    z : ndarray (n, d)
    residual : ndarray (n, D)
        ``r(z) = EL(z) / q(z)``.
    rho : float
        ``sqrt(mean |r|^2) / s_ref``.
    s_ref : float
        ``sqrt(E_{x~p} |s(x)|^2)``.
    """

    z: np.ndarray
    residual: np.ndarray
    rho: float
    s_ref: float

    @property
    def norms(self) -> np.ndarray:
        """``|r(z)|`` per point."""
        return np.linalg.norm(self.residual, axis=-1)


def residual_from_jet(jet: EmbeddingJet, s_ref: float) -> ELResidual:
    """:class:`ELResidual` from a precomputed jet."""
    return _package(jet.z, jet.residual, s_ref)


def _package(z, r, s_ref):
    r = r.detach().cpu().numpy()
    rho = float(np.sqrt(np.mean(np.sum(r**2, -1)))) / max(float(s_ref), np.finfo(float).tiny)
    return ELResidual(z=z.detach().cpu().numpy(), residual=r, rho=rho, s_ref=float(s_ref))


def euler_lagrange_residual(estimator, n_samples: int = 1024, random_state=None, *, z=None,
                            method: str = "fast", s_ref=None, chunk_size=1024) -> ELResidual:
    """Euler-Lagrange residual ``r = s(phi) - P grad log q - div_z P`` and ``rho_EL``.

    Parameters
    ----------
    estimator : fitted embedding estimator
        Offers ``functional()`` and ``field()``.
    n_samples : int, default=1024
        Latent points drawn from the prior (ignored when ``z`` is given).
    random_state : int, Generator or None
        Seeds the latent sample (private generator).
    z : array-like of shape (n, d), optional
        Evaluate at these latent points instead.
    method : {"fast", "generic"}, default="fast"
        ``"fast"``: embedding jet (density evaluated once per point; the
        estimator's own forward-mode jet of its map when it has one);
        ``"generic"``: :func:`varembed.core.lagrangian.euler_lagrange` on ``q L``
        divided by ``q``.
    s_ref : float, optional
        Reference score scale; by default from the density (closed form or
        Monte Carlo over its samples).
    chunk_size : int or None

    Returns
    -------
    ELResidual
    """
    functional, field, zt = prepare(estimator, method, METHODS, z, n_samples, random_state)
    if s_ref is None:
        s_ref = reference_score_scale(functional.density)
    if method == "fast":
        jet = embedding_jet(functional, field, zt, chunk_size=chunk_size, field_jet=batched_field_jet(estimator))
        return residual_from_jet(jet, s_ref)
    el = euler_lagrange(functional.lagrangian_density, field, zt, chunk_size=chunk_size)
    q = torch.exp(functional.prior.log_prob(zt))
    return _package(zt, el / q.unsqueeze(-1), s_ref)


def boundary_residual(functional, field, n_points: int = 256, generator=None, like=None, chunk_size=1024) -> float:
    """Natural boundary condition ``q P n = 0`` on the faces of a uniform box prior.

    On the face ``z_i = +-L`` column ``i`` of the stress must vanish
    (``G e_i = e_i / (2 lam)``).  Returns the root mean square over random
    face points of ``|P e_i| / (|J G^{-1} e_i| + 2 lam |J e_i|)``: 0 when the
    boundary conditions hold, about 1 when they are ignored; ``nan`` for a
    prior without faces.

    Parameters
    ----------
    functional : EmbeddingFunctional
    field : callable
    n_points : int, default=256
    generator : torch.Generator, optional
    like : Tensor, optional
        Face points take its dtype and device (default: the functional's, see
        :func:`~varembed.diagnostics._inputs.latent_points`).
    """
    prior = functional.prior
    if getattr(prior, "name", None) != "uniform":
        return float("nan")
    z, normal = box_faces(prior, n_points, generator if generator is not None else torch.Generator())
    if like is None:
        dtype, device = _dtype_device(functional)
        like = torch.empty(0, dtype=dtype, device=device)
    _, jac = map_points(value_and_jacobian(field), z.to(like), chunk_size)
    col = torch.argmax(normal.abs(), -1)
    rows = torch.arange(z.shape[0])
    lam = functional.continuity
    full = functional.lagrangian.stress(jac)
    check_immersion(full, z)
    stress, jcol = full[rows, :, col], jac[rows, :, col]
    scale = (stress + 2 * lam * jcol).norm(dim=-1) + 2 * lam * jcol.norm(dim=-1)
    return float(torch.sqrt(torch.mean((stress.norm(dim=-1) / scale) ** 2)))
