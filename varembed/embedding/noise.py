"""The observation-noise level of the fitted model ``x = phi(z) + eps`` (what ``score`` and ``transform`` use)."""

from __future__ import annotations

import numpy as np
import torch

from .inference import project

__all__ = ["residual_noise_variance", "NOISE_SUBSAMPLE", "NOISE_FLOOR"]

#: Training points on which the residual noise is measured.
NOISE_SUBSAMPLE = 500
#: Noise variance floor, relative to the mean per-feature variance (exactly fitted data stay finite).
NOISE_FLOOR = 1e-6


def residual_noise_variance(module, prior, X: np.ndarray, start_noise: float, *, seed: int, dtype, device,
                            starts=None) -> float:
    """Mean squared residual per normal direction, ``E |x - phi(z*(x))|^2 / (D - d)``.

    Measured on at most :data:`NOISE_SUBSAMPLE` training points, with the codes
    ``z*`` projected first with ``start_noise`` (the kernel width) and then with
    the residual noise itself.  ``starts``: optional ``x -> codes`` giving
    local starting codes of the search (the nearest coreset point's code).
    """
    n, dim = X.shape
    d = prior.dim
    sub = X if n <= NOISE_SUBSAMPLE else X[np.random.default_rng(seed).choice(n, NOISE_SUBSAMPLE, replace=False)]
    xs = torch.as_tensor(sub, dtype=dtype, device=device)
    scale, noise = float(start_noise), 0.0
    local = None if starts is None else starts(xs)
    for _ in range(2):
        codes = project(module, prior, xs, scale, starts=local)
        with torch.no_grad():
            resid = float(((module(codes) - xs) ** 2).sum(-1).mean())
        noise = resid / max(dim - d, 1)
        scale = float(np.sqrt(max(noise, 1e-12)))
    floor = NOISE_FLOOR * float(np.mean(X.var(0)) or 1.0)
    return float(max(noise, floor))
