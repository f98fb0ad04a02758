"""Latent codes of data points and their likelihood under the noisy-manifold model.

For a fitted map ``phi`` and observation noise ``eps ~ N(0, s^2 I)`` (the KDE
bandwidth by default), the code of ``x`` is

    z*(x) = argmin_z  E(z),   E(z) = |x - phi(z)|^2 / (2 s^2) - log q(z),

found by a batched Levenberg-Marquardt (damped Gauss-Newton) iteration with
deterministic multi-start:

1. candidate starts: the least-squares code of the affine part of the map,
   ``W^+ (x - b)``, and the best ``n_grid_starts`` of the prior's fixed
   candidate codes (``prior.start_points()``: a grid for ``d <= 3``, Sobol
   points otherwise), ranked by ``E`` evaluated at every candidate;
2. a fixed number of damped Gauss-Newton steps from every start, with a
   per-sample damping factor and per-sample accept/reject;
3. the start with the lowest final ``E`` wins.

Every sample is processed independently of the others (no shared
line-search, no batch statistics), so ``project(X)[i] == project(X[i:i+1])``
up to floating-point round-off: ``transform`` is sample-wise.

With ``noise_scale=None`` the prior term is dropped: ``z*`` is then the foot
point of ``x`` on the manifold (the nearest point ``phi(z)``).

``score_samples`` uses the *tube* model of the data: ``x = phi(z) + eps``
with ``z ~ q`` and ``eps ~ N(0, sigma^2)`` in the ``D - d`` directions normal
to the manifold at ``phi(z)``.  Its log density at ``x`` with foot point ``z*``
is (:func:`tube_log_likelihood`, a change of variables)

    log q(z*) - 1/2 log det G(z*) - |x - phi(z*)|^2 / (2 sigma^2) - (D - d)/2 log(2 pi sigma^2),

exact for an affine map (where it is PPCA's likelihood for the PCA
solution), and for a curved map up to curvature corrections of order
``sigma / radius of curvature``.  It is the model whose reverse KL the
functional's pull-back density ``p(phi) sqrt(det G)`` refers to.
"""

from __future__ import annotations

import math

import torch

__all__ = ["project", "tube_log_likelihood"]


#: A search stops when a step changes the energy by less than this (relative): nothing left to resolve.
ENERGY_RTOL = 1e-12
#: Centres of a mixture prior kept per search (nearest to its start): the search is local.
LOCAL_CENTRES = 32


class _PriorTerms:
    """``(-log q, -grad log q, PSD -hess log q)`` of the prior, times ``weight``, for rows of the working set.

    Priors with ``neg_log_prob_terms`` (the codes prior, a mixture) give their
    own, truncated to the :data:`LOCAL_CENTRES` centres nearest each search's
    start; the others are Gaussian-like, with the constant Hessian
    ``diag(inverse_variances)``.
    """

    def __init__(self, prior, weight: float, starts=None):
        self.prior, self.weight = prior, float(weight)
        self.local = hasattr(prior, "neg_log_prob_terms")
        self.neighbours = prior.nearest(starts, LOCAL_CENTRES) if (self.local and starts is not None
                                                                    and self.weight) else None

    def __call__(self, z, rows=None):
        if self.weight == 0.0:
            zero = torch.zeros_like(z[..., 0])
            return zero, torch.zeros_like(z), torch.zeros(z.shape[-1], z.shape[-1], dtype=z.dtype, device=z.device)
        if self.local:
            nbr = None if self.neighbours is None else (self.neighbours if rows is None else self.neighbours[rows])
            value, grad, hess = self.prior.neg_log_prob_terms(z, nbr)
            return self.weight * value, self.weight * grad, self.weight * hess
        inv_var = self.weight * self.prior.inverse_variances(z)
        return 0.5 * (z**2 * inv_var).sum(-1), z * inv_var, torch.diag(inv_var)


@torch.no_grad()
def _energy(module, terms, x, z, inv_s2, rows=None):
    phi = module(z)
    return 0.5 * inv_s2 * ((x - phi) ** 2).sum(-1) + terms(z, rows)[0]


@torch.no_grad()
def _lm(module, prior, terms, x, z, inv_s2, n_iter, tol):
    """Batched Levenberg-Marquardt from starts ``z`` for targets ``x`` (same leading shape).

    Converged samples are dropped from the working set, which changes no
    result (every sample has its own damping and accept/reject).
    """
    d = z.shape[-1]
    eye = torch.eye(d, dtype=z.dtype, device=z.device)
    z = z.clone()
    energy = _energy(module, terms, x, z, inv_s2)
    damping = torch.full(z.shape[:1], 1e-3, dtype=z.dtype, device=z.device)
    idx = torch.arange(z.shape[0], device=z.device)
    for _ in range(n_iter):
        if idx.numel() == 0:
            break
        za, xa, ea, da = z[idx], x[idx], energy[idx], damping[idx]
        jet = module.jet(za, order=1)
        r = jet.value - xa
        jac = jet.jacobian
        _, grad_prior, hess_prior = terms(za, idx)
        g = inv_s2 * (jac.transpose(-1, -2) @ r.unsqueeze(-1)).squeeze(-1) + grad_prior
        h = inv_s2 * jac.transpose(-1, -2) @ jac + hess_prior
        scale = torch.diagonal(h, dim1=-2, dim2=-1).mean(-1).clamp_min(1e-12)
        a = h + (da * scale)[:, None, None] * eye
        chol, info = torch.linalg.cholesky_ex(a)
        step = -torch.cholesky_solve(g.unsqueeze(-1), chol).squeeze(-1)
        step = torch.where((info == 0)[:, None], step, -g / (scale * (1 + da))[:, None])
        z_new = prior.clamp(za + step)
        e_new = _energy(module, terms, xa, z_new, inv_s2, idx)
        accept = (e_new <= ea) & torch.isfinite(e_new)
        za = torch.where(accept[:, None], z_new, za)
        small = step.abs().amax(-1) <= tol * (1.0 + za.abs().amax(-1))
        z[idx] = za
        energy[idx] = torch.where(accept, e_new, ea)
        da = torch.where(accept, (da / 3.0).clamp_min(1e-12), da * 4.0)
        damping[idx] = da
        # converged: an accepted small step, or no energy change left to resolve (a rejected step at the minimum)
        flat = (e_new - ea).abs() <= ENERGY_RTOL * (1.0 + ea.abs())
        keep = ~((accept & small) | flat | (da >= 1e12))
        idx = idx[keep]
    return z, energy


@torch.no_grad()
def project(module, prior, x: torch.Tensor, noise_scale, *, n_iter: int = 50, n_grid_starts: int = 2,
            tol: float = 1e-10, chunk: int = 2048, starts=None):
    """Posterior-mode latent codes of a batch ``x`` (standardised coordinates).

    Parameters
    ----------
    module : SmoothMLPMap
    prior : GaussianPrior or UniformBoxPrior
    x : Tensor of shape (n, D)
    noise_scale : float or None
        ``s``; ``None``: no prior term, the foot point on the manifold.
    n_iter : int
        Maximum damped Gauss-Newton steps per start.
    n_grid_starts : int
        Grid points used as starts in addition to the affine least-squares code.
    tol : float
        Per-sample step tolerance.
    chunk : int
        Samples per batch (results do not depend on it).
    starts : Tensor of shape (n, d), optional
        One given start per sample instead of the candidate starts (a local
        search, e.g. from the code of the nearest training point).

    Returns
    -------
    Tensor of shape (n, d)
    """
    prior_weight = 0.0 if noise_scale is None else 1.0
    if starts is not None and starts.shape != (x.shape[0], prior.dim):
        raise ValueError(f"starts must have shape ({x.shape[0]}, {prior.dim}), got {tuple(starts.shape)}")
    inv_s2 = 1.0 if noise_scale is None else 1.0 / noise_scale**2
    grid = torch.as_tensor(prior.start_points(), dtype=x.dtype, device=x.device)
    grid_phi = module(grid)
    grid_terms = _PriorTerms(prior, prior_weight)(grid)
    w, b = module.weight, module.bias
    pinv = torch.linalg.pinv(w)
    out = []
    d = prior.dim
    for start in range(0, x.shape[0], chunk):
        xc = x[start : start + chunk]
        n = xc.shape[0]
        if starts is not None:
            begin = starts[start : start + chunk].to(x).unsqueeze(1)  # (n, 1, d)
        else:
            z_lin = prior.clamp((xc - b) @ pinv.T)
            d2 = (xc**2).sum(-1, keepdim=True) - 2 * xc @ grid_phi.T + (grid_phi**2).sum(-1)
            e_grid = 0.5 * inv_s2 * d2 + grid_terms[0]
            k = min(n_grid_starts, grid.shape[0])
            best = torch.topk(e_grid, k, dim=-1, largest=False).indices  # (n, k)
            begin = torch.cat([z_lin.unsqueeze(1), grid[best]], 1)  # (n, 1 + k, d)
        s = begin.shape[1]
        flat = begin.reshape(n * s, d)
        z, e = _lm(module, prior, _PriorTerms(prior, prior_weight, flat), xc.unsqueeze(1).expand(n, s, -1).reshape(
            n * s, -1), flat, inv_s2, n_iter, tol)
        z = z.reshape(n, s, d)
        e = e.reshape(n, s)
        idx = torch.argmin(e, dim=1)
        out.append(z[torch.arange(n, device=x.device), idx])
    return torch.cat(out, 0) if out else x.new_zeros((0, d))


@torch.no_grad()
def tube_log_likelihood(module, prior, x: torch.Tensor, z: torch.Tensor, noise_variance: float) -> torch.Tensor:
    """Log density of ``x`` under the tube model at foot points ``z`` (see the module docstring).

    Parameters
    ----------
    module : SmoothMLPMap
    prior : GaussianPrior or UniformBoxPrior
    x : Tensor (n, D)
    z : Tensor (n, d)
        Foot points (:func:`project` with ``noise_scale=None``).
    noise_variance : float
        ``sigma^2`` per normal direction.
    """
    dim, d = x.shape[-1], z.shape[-1]
    jet = module.jet(z, order=1)
    gram = jet.jacobian.transpose(-1, -2) @ jet.jacobian
    chol, info = torch.linalg.cholesky_ex(gram)
    half_logdet = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    half_logdet = torch.where(info == 0, half_logdet, torch.full_like(half_logdet, float("inf")))
    resid = ((x - jet.value) ** 2).sum(-1)
    normal = dim - d
    out = prior.log_prob(z) - half_logdet
    if normal:
        out = out - 0.5 * resid / noise_variance - 0.5 * normal * math.log(2 * math.pi * noise_variance)
    return out
