"""The Euler-Lagrange residual projected on smooth variations (the weak form).

At a stationary map the first variation of ``F`` vanishes along every
variation ``delta phi = eta``::

    dF[eta] = E_q[ f . eta + tr(P^T grad_z eta) - 2 mu sum_ij d_i d_j phi . d_i d_j eta ]
            = E_q[ r . eta - 2 mu sum_ij d_i d_j phi . d_i d_j eta ]

(``f = dL/dphi``: the data score plus the anchor's force; ``P`` the stress;
``r`` the pointwise residual; the second line integrates by parts, which
removes the Monte-Carlo noise of the first at a solution).  With test fields
``eta = e_a h_m(z)``, ``h_m`` the latent monomials up to degree 2
orthonormalised in ``L^2(q)`` (on the sample), ``dF`` is the coefficient
matrix ``c_am`` of the residual's smooth part and

    rho_weak = |c|_F / S_ref  (<= rho_EL by Bessel's inequality when mu = 0):

the share of the Euler-Lagrange residual that a smooth variation of the map
could remove.  A trained network is stationary against its own tangent
directions (degree <= 1 exactly: the map's affine part); what ``rho_EL``
shows beyond ``rho_weak`` is rough -- in directions a smooth map does not
take.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
import torch

__all__ = ["WeakResidual", "weak_residual", "WEAK_DEGREE"]

@dataclass(frozen=True)
class WeakResidual:
    """The residual's components along the orthonormal test fields ``e_a h_m``.

    Attributes
    ----------
    coefficients : ndarray of shape (D, n_monomials)
        ``dF[e_a h_m] / S_ref``.
    rho : float
        ``|coefficients|_F``: the number to read (0 at a solution).
    noise : float
        Monte-Carlo standard error of ``rho`` (``rho_EL sqrt(M / n)``).
    """

    coefficients: np.ndarray
    rho: float
    noise: float

    @property
    def max(self) -> float:
        """Same as ``rho`` (kept for reading as "the" weak residual)."""
        return self.rho


#: Highest degree of the latent monomials of the test fields.
WEAK_DEGREE = 2


def _product(z: torch.Tensor, idx) -> torch.Tensor:
    """``prod_{i in idx} z_i`` per row (1 for an empty index)."""
    out = torch.ones(z.shape[0], dtype=z.dtype, device=z.device)
    for i in idx:
        out = out * z[:, i]
    return out


def _monomials(z: torch.Tensor, degree: int):
    """Values ``(n, M)``, gradients ``(n, M, d)`` and Hessians ``(n, M, d, d)`` of ``1, z_i, z_i z_j, ...``."""
    n, d = z.shape
    terms = [()]
    for k in range(1, degree + 1):
        terms += list(combinations_with_replacement(range(d), k))
    zero = torch.zeros(n, dtype=z.dtype, device=z.device)
    vals, grads, hess = [], [], []
    for term in terms:
        vals.append(_product(z, term))
        g = [zero] * d
        h = [[zero] * d for _ in range(d)]
        for pos, i in enumerate(term):
            rest = term[:pos] + term[pos + 1:]
            g[i] = g[i] + _product(z, rest)
            for pos2, j in enumerate(rest):
                h[i][j] = h[i][j] + _product(z, rest[:pos2] + rest[pos2 + 1:])
        grads.append(torch.stack(g, -1))
        hess.append(torch.stack([torch.stack(row, -1) for row in h], -2))
    return torch.stack(vals, 1), torch.stack(grads, 1), torch.stack(hess, 1)


def weak_residual(jet, s_ref: float, smoothness: float = 0.0, degree: int = WEAK_DEGREE) -> WeakResidual:
    """Project a jet's Euler-Lagrange residual on the smooth test fields (see the module docstring).

    Parameters
    ----------
    jet : EmbeddingJet
        On latent points drawn from the prior (expectations are sample means).
    s_ref : float
        The data score scale (the unit of ``rho_EL``).
    smoothness : float, default=0.0
        The bending weight ``mu`` of the functional.
    degree : int, default=2

    Returns
    -------
    WeakResidual
    """
    z, r = jet.z, jet.residual
    n = z.shape[0]
    scale = z.std(0).clamp_min(1e-12)
    h, _, d2h = _monomials((z - z.mean(0)) / scale, degree)
    # orthonormalise the monomials under the sample measure: h~ = h R^{-1}, (1/n) h~^T h~ = I
    _, rmat = torch.linalg.qr(h / np.sqrt(n))
    inv = torch.linalg.inv(rmat)
    coef = (r.transpose(0, 1) @ (h @ inv)) / n  # (D, M)
    if smoothness > 0:
        d2h = torch.einsum("nkij,km->nmij", d2h, inv) / (scale[:, None] * scale[None, :])
        coef = coef - 2.0 * smoothness * torch.einsum("naij,nmij->am", jet.hess, d2h) / n
    scale_ref = max(float(s_ref), 1e-300)
    coef = coef.detach().cpu().numpy() / scale_ref
    rho_el = float(np.sqrt(float((r**2).sum(-1).mean()))) / scale_ref
    return WeakResidual(coefficients=coef, rho=float(np.linalg.norm(coef)),
                        noise=rho_el * float(np.sqrt(h.shape[1] / n)))
