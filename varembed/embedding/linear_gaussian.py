"""The Gaussian-density case of the linear embedding, solved exactly on the Grassmann manifold.

For an affine map ``phi(z) = W z + b``, a Gaussian data density ``N(mu, C)`` and
an isotropic prior of per-coordinate variance ``v`` (``prior_scale^2`` for the
Gaussian prior, ``L^2/3`` for the box ``[-L, L]^d``), the functional is exactly

    F(W, b) = log N(b; mu, C) + 1/2 log det(W^T W) - 1/2 tr(W^T M W),
    M = v C^{-1} + 2 lam I.

``b = mu`` in closed form.  Writing ``W = V A`` with ``V`` an orthonormal
frame, the optimal ``A`` satisfies ``A A^T = (V^T M V)^{-1}`` in closed form,
and what remains is

    max_V  -1/2 log det(V^T M V) - d/2,

a function of the subspace ``span V`` only: a cost on the Grassmann manifold
``Gr(D, d)``, minimised here with pymanopt (torch autodiff backend).  Its
minimisers span the top-``d`` eigenvectors of ``C``: PCA.

The data density is PPCA's Gaussian (Tipping and Bishop 1999):
``C = U diag(l) U^T + sigma^2 (I - U U^T)`` with ``l`` the top-``d`` eigenvalues
of the unbiased covariance ``S`` (as ``sklearn.decomposition.PCA``),
``U`` their eigenvectors and ``sigma^2`` the mean discarded eigenvalue (floored at
``1e-12 tr(S)/D``).  With ``continuity=0`` the fitted map pushes the prior
onto the principal part of ``C`` and ``score`` is PPCA's log-likelihood,
``PCA.score``.  Conditioning: since adding a multiple of ``I`` changes no
eigenvector, the fit first solves the problem for ``S + tr(S)/D I`` (a
Riemannian Hessian with condition number at most about ``D``, whatever the
conditioning of ``S``), then builds ``C`` from that subspace and polishes on
it.  Without this continuation trust regions stall on ill-conditioned
covariances.
"""

from __future__ import annotations

import numpy as np
import torch
from pymanopt.manifolds import Grassmann
from sklearn.utils.extmath import svd_flip

from .affine import affine_residual_gaussian
from .densities import GaussianDensity
from .functional import EmbeddingFunctional
from .linear_fit import FLOOR_RTOL
from .maps import SmoothMLPMap
from .riemannian import minimize_on_manifold

__all__ = ["fit_gaussian", "solve_gaussian", "reduced_metric"]


def _grassmann_cost(cov: np.ndarray, prior_variance: float, continuity: float):
    """Cost ``V -> 1/2 log det(V^T M V)``, ``M = v C^{-1} + 2 lam I``, with its derivatives.

    Returns torch functions ``(cost, euclidean_gradient, euclidean_hessian)``:
    ``grad = M V K^{-1}`` and ``hess[X] = M X K^{-1} - M V K^{-1} (X^T M V + V^T M X) K^{-1}``
    with ``K = V^T M V``.  Closed-form derivatives avoid autodiff's double backward
    in every Hessian-vector product of the trust-region inner solver (tested
    against autodiff in the test suite).
    """
    c = torch.as_tensor(cov, dtype=torch.float64)
    eye = torch.eye(c.shape[0], dtype=torch.float64)
    m = prior_variance * torch.cholesky_solve(eye, torch.linalg.cholesky(c)) + 2.0 * continuity * eye
    m = 0.5 * (m + m.T)

    def cost(frame):
        k = frame.T @ m @ frame
        return torch.log(torch.diagonal(torch.linalg.cholesky(k))).sum()

    def _mv_kinv(frame):
        mv = m @ frame
        kinv = torch.linalg.inv(frame.T @ mv)
        return mv, kinv

    def euclidean_gradient(frame):
        mv, kinv = _mv_kinv(frame)
        return mv @ kinv

    def euclidean_hessian(frame, direction):
        mv, kinv = _mv_kinv(frame)
        sym = direction.T @ mv
        return m @ direction @ kinv - mv @ kinv @ (sym + sym.T) @ kinv

    return cost, euclidean_gradient, euclidean_hessian


def reduced_metric(frame: np.ndarray, cov: np.ndarray, prior_variance: float, continuity: float):
    """``V^T M V`` (d x d) for an orthonormal frame, without forming ``C^{-1}``."""
    from scipy.linalg import cho_factor, cho_solve

    factor = cho_factor(cov, lower=True)
    k = prior_variance * frame.T @ cho_solve(factor, frame) + 2.0 * continuity * np.eye(frame.shape[1])
    return 0.5 * (k + k.T)


def solve_gaussian(s, frame0, prior_variance, lam, tiny, n_samples, *, solver, max_iter, tol, verbose):
    """Two-stage Grassmann optimisation; returns (frame, noise variance, PPCA covariance, iterations)."""
    n_features, d = frame0.shape
    trace = float(np.trace(s))
    eye = np.eye(n_features)
    manifold = Grassmann(n_features, d)
    run = dict(solver=solver, max_iter=int(max_iter), tol=float(tol))
    # Stage 1: continuation floor tr(S)/D -- same optimal subspace, good conditioning.
    floor1 = max(trace / n_features, tiny)
    res1 = minimize_on_manifold(
        manifold, *_grassmann_cost(s + floor1 * eye, prior_variance, lam), frame0, **run
    )
    # Stage 2: PPCA's density on the fitted subspace (noise = mean discarded eigenvalue, as PCA)
    ritz, vecs = np.linalg.eigh(res1.point.T @ s @ res1.point)
    basis, ritz = res1.point @ vecs, np.maximum(ritz, tiny)
    n_kept = min(n_samples, n_features)
    noise = max((trace - float(ritz.sum())) / (n_kept - d), tiny) if n_kept > d else tiny
    cov = (basis * ritz) @ basis.T + noise * (eye - basis @ basis.T)
    cov = 0.5 * (cov + cov.T)
    res2 = minimize_on_manifold(
        manifold, *_grassmann_cost(cov, prior_variance, lam), res1.point, **run
    )
    if verbose:
        for tag, r in (("continuation", res1), ("final", res2)):
            print(
                f"[LinearVariationalEmbedding] {tag}: {r.n_iter} iterations, "
                f"|grad| = {r.gradient_norm:.2e} ({r.stopping_criterion.strip()})"
            )
    return res2.point, noise, cov, res1.n_iter + res2.n_iter



def fit_gaussian(moments, prior, lam, frame0, *, solver, max_iter, tol, verbose) -> dict:
    """The fitted attributes of the Gaussian case from the data's moments (:class:`.moments.StreamingMoments`)."""
    n_samples, n_features = moments.n, moments.mean.shape[0]
    d = prior.dim
    mean, s = moments.mean.copy(), moments.covariance()
    trace = float(np.trace(s))
    tiny = FLOOR_RTOL * trace / n_features if trace > 0 else 1.0
    if d == n_features:  # Gr(D, D) is a single point: nothing to optimise
        noise, n_iter, frame, cov = tiny, 0, np.eye(n_features), s + tiny * np.eye(n_features)
    else:
        frame, noise, cov, n_iter = solve_gaussian(s, frame0, prior.variance, lam, tiny, n_samples, solver=solver,
                                                    max_iter=max_iter, tol=tol, verbose=verbose)
    # Gauge: rotate to principal axes (eigenvectors of V^T M V), decreasing scale.
    m, rot = np.linalg.eigh(reduced_metric(frame, cov, prior.variance, lam))  # ascending = descending scales
    _, components = svd_flip(np.zeros((1, d)), (frame @ rot).T, u_based_decision=False)
    scales = 1.0 / np.sqrt(m)
    weight = components.T * scales
    density = GaussianDensity(torch.as_tensor(mean), torch.as_tensor(cov), n_samples=n_samples)
    objective = float(EmbeddingFunctional(prior, density, lam).affine_gaussian(torch.as_tensor(weight),
                                                                               torch.as_tensor(mean)))
    return dict(
        components_=components, scales_=scales, embedding_matrix_=weight, mean_=mean, covariance_=cov,
        # Ritz values of C on the subspace (C^{-1} restricted, inverted)
        explained_variance_=1.0 / np.diag(reduced_metric(components.T, cov, 1.0, 0.0)),
        noise_variance_=float(noise), n_iter_=n_iter, dtype_=torch.float64, device_=torch.device("cpu"),
        prior_=prior, density_=density,
        map_=SmoothMLPMap(d, n_features, (), weight=torch.as_tensor(weight),
                          bias=torch.as_tensor(mean)).requires_grad_(False),
        objective_=objective, bandwidth_=float(np.sqrt(noise)),
        affine_residual_=affine_residual_gaussian(torch.as_tensor(weight), torch.as_tensor(mean),
                                                  torch.as_tensor(mean), torch.as_tensor(cov), prior.variances, lam),
        restart_objectives_=[objective], best_restart_=0, _rotation=None,
    )
