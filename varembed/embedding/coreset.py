"""The coreset of a fit: a bounded set of training points that the fitted model keeps.

Every part of the objective that sums over data points -- the KDE density,
the codes prior and the anchor term -- runs over the coreset, a uniform
random subsample of at most ``max_centres`` training points.  Per-step cost
and the fitted model's size are therefore bounded whatever ``n``:
``O(batch x m x D)`` per step and about ``m (D + d)`` numbers stored, ``m``
the coreset size.  A KDE of a uniform subsample is an unbiased estimate of
the full KDE at every point (``E p_m(x) = p_n(x)``), with relative standard
deviation ``sqrt((E_j K_h(x - x_j)^2 / p_n(x)^2 - 1) / m)``; the estimator
records the measured value of that error on held-out training points
(``coreset_error_``).

:class:`StartIndex` finds, for new points, the coreset point nearest in the
space of the coreset's top principal directions: its code is where the
posterior-mode search of ``transform`` starts (a local search).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["coreset_size", "choose_coreset", "coreset_error", "StartIndex", "MAX_CENTRES", "MAX_STORED_NUMBERS", "START_DIMENSIONS"]

#: Largest coreset of ``max_centres="auto"``.
MAX_CENTRES = 20000
#: ``max_centres="auto"`` also keeps ``m (D + d)`` below this (8 MiB of float64).
MAX_STORED_NUMBERS = 2**20
#: Principal directions in which ``transform``'s start index searches.
START_DIMENSIONS = 16


def coreset_size(max_centres, n_samples: int, n_features: int, n_components: int) -> int:
    """``m``: all points up to the bound (``"auto"``: :data:`MAX_CENTRES` and :data:`MAX_STORED_NUMBERS`)."""
    if isinstance(max_centres, str):
        cap = min(MAX_CENTRES, MAX_STORED_NUMBERS // (n_features + n_components))
    else:
        cap = int(max_centres)
    return int(min(n_samples, max(cap, n_components + 2)))


def choose_coreset(n_samples: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a uniform random subsample (all indices when ``size >= n_samples``)."""
    if size >= n_samples:
        return np.arange(n_samples)
    return np.sort(np.random.default_rng(seed).choice(n_samples, size=size, replace=False))


#: Held-out training points on which ``coreset_error`` is measured.
ERROR_POINTS = 512


@torch.no_grad()
def coreset_error(X: np.ndarray, core: np.ndarray, centres: torch.Tensor, bandwidth: float, seed: int) -> float:
    """Median relative standard error of the coreset KDE at held-out training points (0 without a subsample).

    ``sqrt((mean_j K_j^2 / (mean_j K_j)^2 - 1) / m)`` with ``K_j`` the kernel
    values of a point against the ``m`` centres: the standard deviation of the
    subsampled KDE around the full one, relative to it.
    """
    rest = np.setdiff1d(np.arange(X.shape[0]), core)
    if rest.size == 0:
        return 0.0
    pick = np.random.default_rng(seed).choice(rest, size=min(ERROR_POINTS, rest.size), replace=False)
    x = torch.as_tensor(X[pick], dtype=centres.dtype, device=centres.device)
    d2 = torch.cdist(x, centres) ** 2
    logk = -0.5 * d2 / bandwidth**2
    logk = logk - logk.max(-1, keepdim=True).values  # the ratio is scale-free
    k = logk.exp()
    m = centres.shape[0]
    ratio = (k**2).mean(-1) / k.mean(-1) ** 2
    return float(torch.sqrt((ratio - 1.0).clamp_min(0.0) / m).median())


class StartIndex:
    """Nearest coreset point of new points, in the coreset's top principal directions.

    Parameters
    ----------
    points : Tensor of shape (m, D)
        The coreset (model coordinates).
    codes : Tensor of shape (m, d)
        Their codes.
    """

    def __init__(self, points: torch.Tensor, codes: torch.Tensor):
        centre = points.mean(0)
        k = min(START_DIMENSIONS, points.shape[1])
        if points.shape[1] > k:
            _, _, vt = torch.linalg.svd(points - centre, full_matrices=False)
            basis = vt[:k].T
        else:
            basis = torch.eye(points.shape[1], dtype=points.dtype, device=points.device)
        self.centre, self.basis = centre, basis
        self.reduced = (points - centre) @ basis
        self.codes = codes
        self._tree = None

    @torch.no_grad()
    def starts(self, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """The code of the nearest coreset point of each row of ``x``, shape ``(n, d)``.

        On the CPU a tree over the reduced coreset (``O(log m)`` per query);
        elsewhere one distance matmul per chunk.
        """
        y = (x - self.centre.to(x)) @ self.basis.to(x)
        if y.shape[0] == 0:
            return self.codes.to(x)[:0]
        if x.device.type == "cpu":
            if self._tree is None:
                from sklearn.neighbors import NearestNeighbors

                self._tree = NearestNeighbors(n_neighbors=1).fit(self.reduced.detach().cpu().double().numpy())
            idx = self._tree.kneighbors(y.detach().double().numpy(), return_distance=False)[:, 0]
            return self.codes.to(x)[torch.as_tensor(idx)]
        red = self.reduced.to(x)
        sq = (red**2).sum(-1)
        idx = torch.cat([torch.argmin(sq - 2.0 * y[i : i + chunk] @ red.T, dim=-1) for i in range(0, y.shape[0], chunk)])
        return self.codes.to(x)[idx]
