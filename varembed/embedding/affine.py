"""The embedding functional restricted to affine maps, for any data density.

For ``phi(z) = W z + b`` the Jacobian is ``W`` everywhere, so

    F(W, b) = E_q[log p(W z + b)] + 1/2 log det(W^T W) - lam tr(W^T W),

and its gradient is the weak form of the Euler-Lagrange equations against
the affine test fields ``eta = e_a`` and ``eta = e_a z_i`` (the stress
``P = W G^{-1} - 2 lam W`` is constant, so ``div P = 0``):

    dF/db = E_q[s(phi)],    dF/dW = E_q[s(phi) z^T] + W (W^T W)^{-1} - 2 lam W,

with ``s = grad log p`` the density's score.  Both come from one call of
``density.log_prob_and_score`` per batch: no autograd graph through the
density.  :func:`affine_residual` normalises the gradient into the
dimensionless residual ``rho_aff`` (see there).
"""

from __future__ import annotations

import math

import torch

__all__ = ["AffineFunctional", "affine_residual", "affine_residual_gaussian"]


class AffineFunctional:
    """``F(W, b)`` and its exact gradient on weighted latent point sets.

    Parameters
    ----------
    density : Density
        Data density (model coordinates) with ``log_prob_and_score``.
    continuity : float
        ``lam >= 0``.
    """

    def __init__(self, density, continuity: float = 0.0):
        self.density = density
        self.continuity = float(continuity)

    def value_and_grad(self, weight: torch.Tensor, bias: torch.Tensor, z: torch.Tensor, weights=None):
        """``(F, dF/dW, dF/db)`` with ``E_q`` the (weighted) mean over ``z``.

        ``F`` is ``nan`` for a score-only density (the gradient is still exact).

        Parameters
        ----------
        weight : Tensor (D, d)
        bias : Tensor (D,)
        z : Tensor (n, d)
        weights : Tensor (n,), optional
            Quadrature weights summing to one (default: equal).
        """
        if weights is None:
            weights = torch.full(z.shape[:1], 1.0 / z.shape[0], dtype=z.dtype, device=z.device)
        x = torch.addmm(bias, z, weight.T)
        log_p, score = self.density.log_prob_and_score(x)
        gram = weight.T @ weight
        chol = torch.linalg.cholesky(gram)
        lam = self.continuity
        half_logdet = torch.log(torch.diagonal(chol)).sum()
        mean_lp = (weights * log_p).sum() if log_p is not None else torch.full_like(half_logdet, math.nan)
        value = mean_lp + half_logdet - lam * torch.trace(gram)
        ws = score * weights[:, None]
        stress = torch.cholesky_solve(weight.T, chol).T - 2.0 * lam * weight
        return value, ws.T @ z + stress, ws.sum(0)


def affine_residual(grad_weight: torch.Tensor, grad_bias: torch.Tensor, prior_variances, s_ref: float) -> float:
    """Dimensionless weak-form Euler-Lagrange residual in the affine class.

    The first variation of ``F`` along the test field ``eta`` is
    ``dF[eta] = E_q[s . eta + P : grad eta]``; over the ``L^2(q)``-unit test
    fields ``e_a`` and ``e_a z_i / sigma_i`` (``sigma_i^2`` the prior's
    variance of ``z_i``) it is ``dF/db_a`` and ``dF/dW_ai / sigma_i``, so::

        rho_aff = sqrt(|dF/db|^2 + sum_i |dF/dW_{:, i}|^2 / sigma_i^2) / S_ref,

    with ``S_ref = sqrt(E_p |s|^2)`` the data score scale of the pointwise
    residual ``rho_EL`` (by Bessel's inequality ``rho_aff <= rho_EL`` for a
    Gaussian prior: the affine test fields are orthonormal in ``L^2(q)``).
    Zero exactly at a stationary point of ``F`` over affine maps.
    """
    sig = torch.as_tensor(prior_variances, dtype=grad_weight.dtype, device=grad_weight.device).sqrt()
    total = (grad_bias**2).sum() + ((grad_weight / sig) ** 2).sum()
    return float(total.sqrt()) / max(float(s_ref), 1e-300)


def affine_residual_gaussian(weight, bias, mean, cov, prior_variances, continuity: float) -> float:
    """:func:`affine_residual` in closed form for a Gaussian density ``N(mean, cov)`` (exact ``E_q``).

    ``E_q s = -C^{-1} (b - mu)``, ``E_q[s z^T] = -C^{-1} W Sigma_q``, ``S_ref^2 = tr C^{-1}``.
    """
    chol = torch.linalg.cholesky(cov)
    var = torch.as_tensor(prior_variances, dtype=weight.dtype, device=weight.device)
    g_b = -torch.cholesky_solve((bias - mean)[:, None], chol)[:, 0]
    gram = weight.T @ weight
    g_w = -torch.cholesky_solve(weight * var, chol) + torch.linalg.solve(gram, weight.T).T - 2.0 * continuity * weight
    s_ref = float(torch.cholesky_inverse(chol).trace().sqrt())
    return affine_residual(g_w, g_b, var, s_ref)
