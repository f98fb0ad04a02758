"""Deterministic starting frames of the Stiefel optimisations: PCA, fourth moments (FOBI), random.

* the principal frame (top-``d`` eigenvectors of the covariance): the exact
  answer for a Gaussian density;
* the fourth-moment frame of FOBI (Cardoso 1989): in whitened coordinates
  ``y`` the eigenvectors of ``E[|y|^2 y y^T]`` are the independent
  directions, with eigenvalue ``kappa_4 + k + 2`` (``kappa_4`` the excess
  kurtosis, ``k`` the whitened dimension); the ``d`` eigenvalues farthest
  from ``k + 2`` mark the least Gaussian directions, mapped back to the data
  space as mixing directions ``S^{1/2} u``.  Closed form, one pass over the
  data: it finds the basin of a non-Gaussian plane that the likelihood
  landscape -- flat around Gaussian directions, where the negentropy of a
  mixture grows like ``sin^8`` of the mixing angle -- hides from random starts;
* Haar-random frames from private generators.
"""

from __future__ import annotations

import torch

from .stiefel import qr_retraction, random_frame

__all__ = ["principal_frame", "fourth_moment_frame", "initial_frames"]

#: Eigenvalues of the covariance below this fraction of the largest are dropped before whitening.
WHITEN_RTOL = 1e-10


def principal_frame(cov: torch.Tensor, n_components: int) -> torch.Tensor:
    """Top-``d`` eigenvectors of ``cov``, by decreasing eigenvalue."""
    return torch.linalg.eigh(cov)[1][:, cov.shape[0] - int(n_components):].flip(-1)


def fourth_moment_frame(X: torch.Tensor, n_components: int) -> torch.Tensor:
    """FOBI's ``d`` least Gaussian mixing directions of the data ``X`` (n, D), orthonormalised."""
    xc = X - X.mean(0)
    evals, evecs = torch.linalg.eigh(xc.T @ xc / X.shape[0])
    keep = evals > WHITEN_RTOL * evals.max().clamp_min(1e-300)
    evals, evecs = evals[keep], evecs[:, keep]
    d = int(n_components)
    if evals.numel() < d:  # fewer non-degenerate directions than components: nothing to whiten
        return principal_frame(xc.T @ xc, d)
    y = (xc @ evecs) / evals.sqrt()
    moment = (y * (y**2).sum(1, keepdim=True)).T @ y / X.shape[0]
    lam, vecs = torch.linalg.eigh(0.5 * (moment + moment.T))
    order = torch.argsort(-(lam - (y.shape[1] + 2)).abs())[:d]
    mixing = (evecs * evals.sqrt()) @ vecs[:, order]
    return qr_retraction(torch.zeros_like(mixing), mixing)


def initial_frames(X: torch.Tensor, cov: torch.Tensor, n_components: int, n_frames: int, generators):
    """``n_frames`` starts: the principal frame, the fourth-moment frame, then random frames.

    Parameters
    ----------
    X : Tensor (n, D)
    cov : Tensor (D, D)
    n_components : int
    n_frames : int
    generators : list of torch.Generator
        Private CPU generators; frame ``k >= 2`` is drawn from ``generators[k]``.
    """
    dim, d = cov.shape[0], int(n_components)
    frames = [principal_frame(cov, d)]
    if n_frames > 1:
        frames.append(fourth_moment_frame(X, d))
    frames += [random_frame(dim, d, generators[k], dtype=cov.dtype, device=cov.device) for k in range(2, n_frames)]
    return frames
