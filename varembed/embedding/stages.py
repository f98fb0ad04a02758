"""The stages of a nonlinear fit that are not the optimisation: checks, standardisation, prior, anchor.

:meth:`VariationalEmbedding.fit` reads as the data flow (validate ->
standardise -> coreset -> density -> codes -> prior -> initial map -> anchor ->
train -> polish -> gauge -> noise -> store); the helpers here hold the
decisions of the stages that are bookkeeping rather than mathematics.
"""

from __future__ import annotations

import copy
from numbers import Integral

import numpy as np
import torch

from .code_prior import CodesPrior
from .coreset import coreset_error
from .densities import make_density
from .functional import AnchorTerm
from .init import initial_codes, initial_map, normalised_codes, pca_codes, regression_residual
from .maps import get_activation
from .priors import GaussianPrior, make_prior

__all__ = ["check_params", "standardization", "codes_bandwidth", "fitted_prior", "anchor_term", "density_stage",
           "start_stage", "summary_line",
           "AUTO_SMOOTHNESS", "AUTO_SMOOTHNESS_MIN_DIM"]

#: ``smoothness="auto"``: the bending weight of the paper's functional (``anchor=0``) above
#: ``AUTO_SMOOTHNESS_MIN_DIM`` latent dimensions (load_digits, see the user guide); 0 with the anchor.
AUTO_SMOOTHNESS, AUTO_SMOOTHNESS_MIN_DIM = 0.1, 4


def check_params(est, n_features: int):
    """Checks the declarative constraints cannot express; returns ``hidden`` as a tuple."""
    if int(est.n_components) > n_features:
        raise ValueError(f"n_components={est.n_components} must be <= n_features={n_features}")
    hidden = (est.hidden,) if isinstance(est.hidden, Integral) else tuple(est.hidden)
    if not all(isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in hidden):
        raise ValueError(f"hidden must be a tuple of positive integers (or () for an affine map), got {est.hidden!r}")
    get_activation(est.activation)
    if not isinstance(est.init, str):
        codes = np.asarray(est.init)
        if codes.ndim != 2 or codes.shape[1] != est.n_components or not np.all(np.isfinite(codes)):
            raise ValueError("init must be 'auto', 'isomap', 'neighbors', 'linear', 'random' or a finite array of "
                             f"shape (n_samples, n_components={est.n_components}), got shape {codes.shape}")
    if not isinstance(est.prior_scale, str) and np.ndim(est.prior_scale):
        arr = np.asarray(est.prior_scale, dtype=float)
        if arr.shape != (int(est.n_components),) or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
            raise ValueError(f"prior_scale must be a positive float or {est.n_components} positive floats, "
                             f"got {est.prior_scale!r}")
        if est.prior != "gaussian":
            raise ValueError("per-axis prior scales need prior='gaussian'")
    return tuple(int(h) for h in hidden)


def standardization(mode, X: np.ndarray):
    """``(mean, scale)`` of ``standardize``: one scale for all features, one per feature, or none."""
    mean = X.mean(0) if mode is not None else np.zeros(X.shape[1])
    if mode == "scalar":
        s = float(np.sqrt(np.mean(X.var(0))))
        scale = np.full(X.shape[1], s if s > 0 else 1.0)
    elif mode == "feature":
        scale = X.std(0)
        scale = np.where(scale > 0, scale, 1.0)
    else:
        scale = np.ones(X.shape[1])
    return mean, scale


def codes_bandwidth(prior_scale, n: int, d: int) -> float:
    """The codes prior's kernel width: ``"auto"`` is Scott's factor ``n^(-1/(d+4))`` (codes at RMS 1)."""
    return float(n ** (-1.0 / (d + 4))) if isinstance(prior_scale, str) else float(prior_scale)


def fitted_prior(name: str, prior_scale, d: int, codes, *, dtype, device):
    """The prior: the codes prior (KDE of normalised codes), a Gaussian (per-axis from the codes for
    ``prior_scale="auto"``) or the box.  ``codes``: normalised codes or ``None``."""
    if name == "codes":
        if codes is None:
            raise ValueError("prior='codes' needs initial codes (init='auto', 'isomap', 'neighbors' or an array)")
        return CodesPrior(torch.as_tensor(codes, dtype=dtype, device=device), codes_bandwidth(prior_scale, *codes.shape))
    if isinstance(prior_scale, str):
        if codes is None or name != "gaussian":
            return make_prior(name, d, 1.0)
        std = codes.std(0)
        std = np.where(std > 0, std, std.max() if std.max() > 0 else 1.0)
        return GaussianPrior(d, std / np.sqrt(np.mean(std**2)))
    return make_prior(name, d, np.asarray(prior_scale, dtype=float) if np.ndim(prior_scale) else float(prior_scale))


def anchor_term(est, prior, codes, module, X_core: torch.Tensor, *, dtype, device):
    """The anchor of the objective, or ``None`` (``anchor=0`` or no codes).

    Its responsibilities come from the codes prior (the prior itself when
    ``prior="codes"``); its noise ``sigma^2`` is, for ``anchor_noise="auto"``,
    the residual of the initial map's regression onto the codes.
    """
    if float(est.anchor) <= 0 or codes is None:
        return None
    kernel = prior if isinstance(prior, CodesPrior) else CodesPrior(
        torch.as_tensor(normalised_codes(codes), dtype=dtype, device=device), codes_bandwidth("auto", *codes.shape))
    if isinstance(est.anchor_noise, str):
        noise = max(regression_residual(module, kernel.codes, X_core), 1e-6 * float(X_core.var(0).mean()))
    else:
        noise = float(est.anchor_noise) ** 2
    return AnchorTerm(float(est.anchor), noise, X_core, kernel)


def density_stage(est, Xs: np.ndarray, core: np.ndarray, seed: int, core_seed: int, opts) -> dict:
    """Coreset and data density: sets ``coreset_``, ``density_``, ``bandwidth_``, ``coreset_error_``."""
    d = int(est.n_components)
    est.coreset_ = torch.as_tensor(Xs[core], **opts)
    est.density_, info = make_density(
        est.density, Xs[core], n_components=d, bandwidth=est.bandwidth, kde_neighbors=est.kde_neighbors,
        data_mean=est.mean_, data_scale=est.scale_, random_state=seed, **opts)
    est.bandwidth_ = float(info["bandwidth"])
    centres = getattr(est.density_, "centres", None)
    if isinstance(centres, torch.Tensor) and centres.shape == est.coreset_.shape and torch.equal(centres, est.coreset_):
        est.coreset_ = centres  # one tensor: the fitted model stores the coreset once
    subsampled = len(core) < len(Xs) and isinstance(est.density, str) and est.density == "kde"
    est.coreset_error_ = coreset_error(Xs, core, est.coreset_, est.bandwidth_, core_seed) if subsampled else 0.0
    return info


def _init_rows(init, core: np.ndarray, n: int) -> np.ndarray:
    codes = np.asarray(init, dtype=np.float64)
    if codes.shape[0] != n:
        raise ValueError(f"init has {codes.shape[0]} rows but X has {n} samples")
    return codes[core]


def start_stage(est, Xs: np.ndarray, core: np.ndarray, hidden, seed: int, gen, opts):
    """Codes, prior and initial map: sets ``init_kind_``, ``prior_``, ``codes_``; returns ``(map, codes)``.

    A linear or random start has no layout codes; the codes prior and the
    anchor then use principal-component codes.
    """
    d, X = int(est.n_components), Xs[core]
    init = est.init if isinstance(est.init, str) else _init_rows(est.init, core, len(Xs))
    codes, est.init_kind_ = initial_codes(init, X, d, n_neighbors=int(est.n_neighbors), seed=seed)
    start_codes = codes is not None
    if codes is None and (est.prior == "codes" or float(est.anchor) > 0):
        codes = pca_codes(X, d)
    codes = None if codes is None else normalised_codes(codes)
    est.prior_ = fitted_prior(est.prior, est.prior_scale, d, codes, **opts)
    linear_on_codes = isinstance(est.init, str) and est.init == "linear" and est.prior_.name == "codes"
    keep_aspect = isinstance(est.prior_scale, str) and est.prior in ("gaussian", "codes")
    module = initial_map(est.init, codes if (start_codes or linear_on_codes) else None, X, est.prior_,
                         hidden=hidden, activation=est.activation, continuity=float(est.continuity),
                         keep_aspect=keep_aspect, max_iter=int(est.max_iter), learning_rate=float(est.learning_rate),
                         seed=seed, generator=gen, fit_residual=start_codes, **opts)
    est.codes_ = None if codes is None else torch.as_tensor(codes, **opts)
    est._initial_state = copy.deepcopy(module.state_dict())
    return module, codes


def summary_line(est, shape, n_core: int) -> str:
    """The closing line of a verbose fit."""
    return (f"[VariationalEmbedding] {shape[0]} x {shape[1]} -> d={est.n_components} on {est.device_} (init "
            f"{est.init_kind_}, coreset {n_core}): objective {est.initial_objective_:.4f} -> {est.objective_:.4f} "
            f"in {est.n_iter_} iterations ({'converged' if est.converged_ else 'max_iter reached'}), "
            f"{est.fit_time_:.1f} s")
