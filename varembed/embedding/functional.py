"""The embedding functional as a Lagrangian density.

For a latent prior ``q``, a data density ``p`` with score ``s`` and the
continuity weight ``lam``, a smooth map ``phi: R^d -> R^D`` with Jacobian ``J``
and pull-back metric ``G = J^T J`` is scored by

    F[phi] = E_q[ L(phi, J) ],   L = log p(phi) + 1/2 log det G - lam tr G,

i.e. ``F = int q(z) L dz``: a field theory over the ``d`` latent coordinates with
the Lagrangian density ``q L``.  Maximising ``F`` is minimising
``KL(q || p(phi) sqrt(det G)) + lam E_q tr G``.  The conjugate momentum (stress)
is ``q P`` with ``P = dL/dJ = J G^{-1} - 2 lam J``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["EmbeddingFunctional", "half_logdet_gram"]


def half_logdet_gram(jac: torch.Tensor, jitter: float = 0.0) -> torch.Tensor:
    """``1/2 log det(J^T J + jitter I)`` by Cholesky, over leading batch axes.

    Parameters
    ----------
    jac : Tensor of shape (..., D, d)
    jitter : float
        Added to the diagonal of ``J^T J`` (keeps folded maps finite).

    Returns
    -------
    Tensor of shape (...)
    """
    gram = jac.transpose(-1, -2) @ jac
    if jitter:
        gram = gram + jitter * torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    chol = torch.linalg.cholesky(gram)
    return torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)


class EmbeddingFunctional:
    """``F[phi] = E_q[log p(phi) + 1/2 log det J^T J - lam tr J^T J]``.

    Parameters
    ----------
    prior : GaussianPrior or UniformBoxPrior
        Latent prior ``q``.
    density : object
        Data density with ``log_prob(x)`` and ``score(x)``.
    continuity : float
        The continuity weight ``lam >= 0``.
    jitter : float, default=0.0
        Diagonal jitter in the Cholesky factor of ``G``.
    dtype, device : torch dtype and device, optional
        Where the map lives (a fitted estimator sets them); diagnostics put
        their latent points there.  ``None``: read off the density's tensors.
    """

    def __init__(self, prior, density, continuity: float = 0.0, jitter: float = 0.0, *, dtype=None, device=None):
        self.prior = prior
        self.density = density
        self.continuity = float(continuity)
        self.jitter = float(jitter)
        self.dtype = dtype
        self.device = None if device is None else torch.device(device)

    # ----------------------------------------------------------- pointwise L
    def pointwise(self, phi: torch.Tensor, jac: torch.Tensor) -> torch.Tensor:
        """``L(phi, J)`` on a batch: shapes ``(..., D)`` and ``(..., D, d)``."""
        trace_g = (jac**2).sum((-1, -2))
        return (
            self.density.log_prob(phi)
            + half_logdet_gram(jac, self.jitter)
            - self.continuity * trace_g
        )

    def lagrangian_density(self, z: torch.Tensor, phi: torch.Tensor, jac: torch.Tensor) -> torch.Tensor:
        """``q(z) L(phi, J)`` for one point: the density for :mod:`varembed.core.lagrangian`."""
        return torch.exp(self.prior.log_prob(z)) * self.pointwise(phi, jac)

    def stress(self, jac: torch.Tensor) -> torch.Tensor:
        """``P = J G^{-1} - 2 lam J`` without explicit inverses, shape ``(..., D, d)``."""
        gram = jac.transpose(-1, -2) @ jac
        chol = torch.linalg.cholesky(gram)
        jg = torch.cholesky_solve(jac.transpose(-1, -2), chol).transpose(-1, -2)
        return jg - 2 * self.continuity * jac

    # ------------------------------------------------------- affine closed form
    def affine_gaussian(self, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Exact ``F`` for ``phi(z) = W z + b`` and a Gaussian density.

        ``E_q log p(Wz + b) = log p(b) - 1/2 var_q tr(W^T C^{-1} W)`` with
        ``var_q`` the prior's per-coordinate variance (``L^2/3`` for a box).

        Parameters
        ----------
        weight : Tensor of shape (D, d)
        bias : Tensor of shape (D,)
        """
        dens = self.density
        gram = weight.T @ weight
        return (
            dens.log_prob(bias)
            - 0.5 * self.prior.variance * dens.precision_quadratic(weight)
            + half_logdet_gram(weight)
            - self.continuity * torch.trace(gram)
        )

    def affine_gaussian_upper(self, eigenvalues, n_components: int) -> float:
        """Closed-form optimum ``F*`` over affine maps for a Gaussian density.

        ``F* = -(D/2) log 2 pi - 1/2 sum_{k>d} log l_k
        - 1/2 sum_{k<=d} log(var_q + 2 lam l_k) - d/2`` with ``l`` the
        eigenvalues of the density's covariance in decreasing order.
        """
        lk = sorted((float(v) for v in eigenvalues), reverse=True)
        d, dim = n_components, len(lk)
        var_q, lam = self.prior.variance, self.continuity
        return (
            -0.5 * dim * math.log(2 * math.pi)
            - 0.5 * sum(math.log(v) for v in lk[d:])
            - 0.5 * sum(math.log(var_q + 2 * lam * v) for v in lk[:d])
            - 0.5 * d
        )
