"""Initial codes and maps of the nonlinear embedding.

Initial codes (``init="auto"``, ``"isomap"``, ``"neighbors"`` or an array;
see :mod:`.layout`) start the map at a given parameterisation: the map is
first regressed onto ``x_i ~ phi(c_i)`` by least squares (the affine part in
closed form, the neural residual by Adam), then the variational objective
takes over; the codes also define the codes prior and the anchor.
``init="linear"`` starts at the linear variational solution (PCA) with the
neural residual at zero; ``init="random"`` draws a random affine frame and a
random smooth residual (a random folded map, as in the paper's code).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .._utils.schedule import cosine_factor
from .layout import auto_codes, isomap_codes, neighbor_layout
from .maps import SmoothMLPMap

__all__ = ["initial_codes", "initial_map", "fit_map_to_codes", "normalised_codes", "pca_codes", "regression_residual"]

#: Adam steps (at most ``max_iter``), batch size and learning-rate factor of the regression onto codes.
REGRESSION_STEPS, REGRESSION_BATCH, REGRESSION_LR_FACTOR = 200, 256, 3.0
#: The regression's cosine schedule ends at this fraction of its learning rate.
REGRESSION_FINAL_LR = 0.05


def initial_codes(init, X: np.ndarray, n_components: int, *, n_neighbors: int, seed: int):
    """Codes of the training points that the map starts from, and how they were made.

    Returns ``(codes or None, kind)``: ``None`` for the linear / random starts,
    and also (with a warning) when a layout fails (e.g. too few distinct
    points), which then falls back to the linear start.
    """
    if isinstance(init, str):
        if init not in ("auto", "isomap", "neighbors"):
            return None, init
        try:
            if init == "auto":
                codes, kind, _ = auto_codes(X, n_components, n_neighbors=n_neighbors, seed=seed)
            elif init == "isomap":
                codes, kind = isomap_codes(X, n_components, n_neighbors=n_neighbors, seed=seed), "isomap"
            else:
                codes, kind = neighbor_layout(X, n_components, seed=seed), "neighbors"
            if not np.all(np.isfinite(codes)) or not np.any(codes.std(0) > 0):
                raise ValueError("degenerate codes")
            return codes, kind
        except (ValueError, np.linalg.LinAlgError) as exc:
            warnings.warn(f"init={init!r} failed ({exc}); starting from the linear solution instead",
                          UserWarning, stacklevel=3)
            return None, "linear"
    codes = np.asarray(init, dtype=np.float64)
    if codes.shape[0] != X.shape[0]:
        raise ValueError(f"init has {codes.shape[0]} rows but X has {X.shape[0]} samples")
    return codes - codes.mean(0), "array"


def pca_codes(X: np.ndarray, n_components: int) -> np.ndarray:
    """Principal-component codes of ``X`` (the codes of a linear start)."""
    xc = X - X.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    return xc @ vt[:n_components].T


def normalised_codes(codes: np.ndarray) -> np.ndarray:
    """Codes centred and scaled by one factor to root-mean-square 1 (the aspect kept)."""
    codes = codes - codes.mean(0)
    std = codes.std(0)
    return codes / max(float(np.sqrt(np.mean(std**2))), 1e-300)


def _codes_on_prior(codes: np.ndarray, prior, keep_aspect: bool) -> np.ndarray:
    """Rescale codes to the prior: one common factor (``keep_aspect``), per axis, or spread over the box."""
    if prior.name == "codes":  # the codes are the prior's centres already
        return codes
    std = codes.std(0)
    std = np.where(std > 0, std, 1.0)
    if keep_aspect:
        return normalised_codes(codes)
    if prior.name == "uniform":  # variance L^2 / 3 per axis
        return codes / std * (prior.scale / np.sqrt(3.0))
    return codes / std * prior.scales


def initial_map(init, codes, X: np.ndarray, prior, *, hidden, activation, continuity, keep_aspect: bool,
                max_iter: int, learning_rate: float, seed: int, generator: torch.Generator, dtype, device,
                fit_residual: bool = True):
    """The map the training starts from.

    Parameters
    ----------
    init : str or ndarray
        The estimator's ``init``.
    codes : ndarray or None
        From :func:`initial_codes`.
    X : ndarray (n, D)
        Standardised data.
    prior : GaussianPrior or UniformBoxPrior
    keep_aspect : bool
        Rescale the codes by one common factor (``prior_scale="auto"``, whose
        per-axis scales came from the codes) instead of per axis.
    generator : torch.Generator
        On ``device``; the regression's batches.
    fit_residual : bool
        Regress the neural residual onto the codes too; ``False`` keeps it at
        zero (a linear start whose codes are principal components).

    Returns
    -------
    SmoothMLPMap
    """
    n, dim = X.shape
    d = prior.dim
    cpu_gen = torch.Generator().manual_seed(seed)
    if codes is not None:
        codes = _codes_on_prior(codes, prior, keep_aspect)
        coef = np.linalg.lstsq(np.c_[codes, np.ones(n)], X, rcond=None)[0]
        weight, bias = torch.as_tensor(coef[:d].T.copy()), torch.as_tensor(coef[d].copy())
    elif init in ("linear", "isomap"):
        from .linear import LinearVariationalEmbedding

        lin = LinearVariationalEmbedding(n_components=d, prior=prior.name, prior_scale=float(prior.scale),
                                         continuity=continuity, random_state=seed).fit(X)
        weight = torch.as_tensor(lin.embedding_matrix_) * torch.as_tensor(prior.scale / prior.scales)
        bias = torch.as_tensor(lin.mean_)
    else:
        frame = torch.linalg.qr(torch.randn(dim, d, generator=cpu_gen, dtype=torch.float64))[0]
        weight, bias = frame * float(np.sqrt(np.mean(X.var(0))) or 1.0), torch.zeros(dim, dtype=torch.float64)
    module = SmoothMLPMap(d, dim, hidden, activation, weight=weight, bias=bias, generator=cpu_gen,
                          random_residual=isinstance(init, str) and init == "random", dtype=dtype, device=device)
    if codes is not None and hidden and fit_residual:
        fit_map_to_codes(module, torch.as_tensor(codes, dtype=dtype, device=device),
                         torch.as_tensor(X, dtype=dtype, device=device), n_steps=min(REGRESSION_STEPS, max_iter),
                         batch_size=REGRESSION_BATCH, learning_rate=learning_rate * REGRESSION_LR_FACTOR,
                         generator=generator)
    return module


@torch.no_grad()
def regression_residual(module, codes: torch.Tensor, X: torch.Tensor) -> float:
    """``mean_i |x_i - phi(c_i)|^2 / (D - d)``: the noise per normal direction of a map regressed onto codes."""
    d = codes.shape[1]
    return float(((module(codes) - X) ** 2).sum(-1).mean()) / max(X.shape[1] - d, 1)


def fit_map_to_codes(module, Z: torch.Tensor, X: torch.Tensor, *, n_steps: int, batch_size: int,
                     learning_rate: float, generator: torch.Generator) -> float:
    """Least-squares regression ``min E |phi(z_i) - x_i|^2`` with Adam (cosine decay); returns the final MSE."""
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=learning_rate, fused=Z.device.type == "cuda")
    n = Z.shape[0]
    for step in range(n_steps):
        for g in opt.param_groups:
            g["lr"] = learning_rate * cosine_factor(step, n_steps, floor=REGRESSION_FINAL_LR)
        idx = torch.randint(0, n, (min(batch_size, n),), generator=generator, device=generator.device).to(Z.device)
        opt.zero_grad(set_to_none=True)
        loss = ((module(Z[idx]) - X[idx]) ** 2).sum(-1).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(((module(Z) - X) ** 2).sum(-1).mean())
