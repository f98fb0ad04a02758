"""Gaussian kernel density estimate of the data: ``p(x) = (1/N) sum_k N(x; x_k, h^2 I)``.

This is the density of the paper's Figure 1 (an equal-weight mixture of
isotropic Gaussians centred on the data points) and the perturbed data
distribution of a variance-exploding diffusion model at noise level ``h``.
Its score has the closed form (Tweedie)

    s(x) = (sum_k w_k(x) x_k - x) / h^2,   w = softmax_k(-|x - x_k|^2 / (2 h^2)),

which is all the gradient of the embedding functional needs.

Memory stays bounded: the batched evaluation (:meth:`KernelDensity.log_prob_and_score`)
works on chunks of queries so that at most ``max_elements`` query--centre
distances exist at once (``2^22`` by default, 32 MiB in float64), whatever the
number of centres.  50 000 centres in 64 dimensions take 25 MiB; a batch of
1024 queries then runs in about 13 chunks.  With ``n_neighbors=k`` the sum is
truncated to the ``k`` nearest centres of each query (found with a KD/ball
tree on CPU, by chunked top-k on GPU), which approximates ``log p`` from below
(the dropped terms are at least ``k``-th-neighbour far) and the score by the
local mean shift.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import torch

__all__ = ["KernelDensity", "resolve_bandwidth", "median_nn_distance", "BANDWIDTH_RULES"]

BANDWIDTH_RULES = ("auto", "scott", "silverman")


def resolve_bandwidth(bandwidth, X: np.ndarray, intrinsic_dim: int | None = None) -> float:
    """Turn ``bandwidth`` (float, ``"auto"``, ``"scott"`` or ``"silverman"``) into a number.

    The rules are the isotropic versions of scipy's ``gaussian_kde`` factors,
    times the root-mean per-feature standard deviation ``sigma`` of ``X``:

    * scott: ``h = n^(-1/(D+4)) sigma``
    * silverman: ``h = (n (D + 2) / 4)^(-1/(D+4)) sigma``
    * auto: ``max(n^(-1/(d+4)) sigma, median distance to the 5th nearest
      neighbour)`` with ``d = intrinsic_dim`` (the latent dimension; ``D``
      when not given).  Data near a ``d``-dimensional manifold have a KDE
      whose bias-variance trade-off follows ``d``, not ``D`` (submanifold
      density estimation, Ozakin and Gray 2009), so Scott's exponent uses
      ``d``; this keeps the kernel narrower than the gap between sheets of a
      rolled manifold (swiss roll, 1000 points: ``D``-Scott 0.37 bridges the
      sheets and the fit fails, geodesic Spearman 0.23; the ``d``-rule gives
      0.32 and 0.85-0.95 over three seeds).  In high dimension the data are
      far apart compared with either width (load_digits: median
      nearest-neighbour distance 3.6 in standardised units), and a kernel
      narrower than the spacing breaks the density into one bump per point;
      the neighbour distance keeps the ridges of a sampled manifold connected.

    Parameters
    ----------
    bandwidth : float or {"auto", "scott", "silverman"}
        A positive width or the name of a rule.
    X : ndarray of shape (n, D)
        The (standardised) data.
    intrinsic_dim : int, optional
        Dimension ``d`` of the manifold the data are assumed to lie near;
        used by ``"auto"`` only.

    Returns
    -------
    float
        The kernel width ``h``.

    Raises
    ------
    ValueError
        For ``bandwidth <= 0``, a non-finite value, or an unknown rule.
    """
    n, dim = X.shape
    if isinstance(bandwidth, str):
        if bandwidth not in BANDWIDTH_RULES:
            raise ValueError(f"bandwidth must be a positive float or one of {list(BANDWIDTH_RULES)}, got {bandwidth!r}")
        sigma = math.sqrt(max(float(np.mean(np.var(X, axis=0))), np.finfo(float).tiny))
        if bandwidth == "scott":
            return float(n ** (-1.0 / (dim + 4)) * sigma)
        if bandwidth == "auto":
            d = dim if intrinsic_dim is None else min(int(intrinsic_dim), dim)
            return max(float(n ** (-1.0 / (d + 4)) * sigma), kth_nn_distance(X, min(5, n - 1)))
        return float((n * (dim + 2) / 4.0) ** (-1.0 / (dim + 4)) * sigma)
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, numbers.Real):
        raise TypeError(f"bandwidth must be a positive float or one of {list(BANDWIDTH_RULES)}, got {bandwidth!r}")
    h = float(bandwidth)
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"bandwidth must be > 0, got {bandwidth!r}")
    return h


def kth_nn_distance(X: np.ndarray, k: int = 1, max_queries: int = 2000, seed: int = 0) -> float:
    """Median distance from a point to its ``k``-th nearest other data point (subsampled queries)."""
    from sklearn.neighbors import NearestNeighbors

    n = X.shape[0]
    if n < 2 or k < 1:
        return 0.0
    k = min(k, n - 1)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, size=min(n, max_queries), replace=False)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    dist, _ = nn.kneighbors(X[idx])
    return float(np.median(dist[:, k]))


def median_nn_distance(X: np.ndarray, max_queries: int = 2000, seed: int = 0) -> float:
    """Median distance from a point to its nearest other data point (subsampled queries)."""
    return kth_nn_distance(X, 1, max_queries, seed)


class KernelDensity:
    """Isotropic Gaussian KDE with a closed-form score, chunked and optionally truncated.

    Parameters
    ----------
    centres : Tensor of shape (N, D)
        The data points (mixture centres).
    bandwidth : float
        Kernel standard deviation ``h``.
    n_neighbors : int or None, default=None
        If set, the batched evaluation uses only the ``n_neighbors`` nearest
        centres of each query.  The per-point :meth:`log_prob` and
        :meth:`score` (used inside :func:`torch.func.vmap` by the diagnostics)
        are always exact.
    max_elements : int, default=2**22
        Largest number of query--centre pairs held in memory at once.

    Notes
    -----
    ``score_norm_sq()`` returns the reference scale ``E_{x~p} |s(x)|^2``,
    estimated on the centres jittered by the kernel (deterministic seed); for
    data on a ``d``-dimensional manifold it is about ``(D - d) / h^2``.
    """

    name = "kde"
    has_log_prob = True
    has_score = True

    def __init__(self, centres: torch.Tensor, bandwidth: float, n_neighbors=None, max_elements: int = 2**22):
        self.centres = centres
        self.bandwidth = float(bandwidth)
        self.n_neighbors = None if n_neighbors is None else int(min(n_neighbors, centres.shape[0]))
        self.max_elements = int(max_elements)
        self.dim = centres.shape[1]
        self._sq = (centres**2).sum(-1)
        self._prepare()
        self._const = -math.log(centres.shape[0]) - 0.5 * self.dim * math.log(2 * math.pi * self.bandwidth**2)
        self._tree = None

    # --------------------------------------------------------------- placement
    def to(self, device=None, dtype=None) -> "KernelDensity":
        """A copy of the density on another device / dtype."""
        out = KernelDensity.__new__(KernelDensity)
        out.__dict__.update(self.__dict__)
        out.centres = self.centres.to(device=device, dtype=dtype)
        out._sq = (out.centres**2).sum(-1)
        out._prepare()
        return out

    def _prepare(self):
        inv_h2 = 1.0 / self.bandwidth**2
        self._scaled_t = (self.centres * inv_h2).T.contiguous()
        self._half_sq_scaled = (-0.5 * inv_h2) * self._sq

    # -------------------------------------------------------- per-point (vmap)
    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        x2 = (x**2).sum(-1, keepdim=True)
        d2 = (x2 - 2.0 * x @ self.centres.T + self._sq).clamp_min(0.0)
        return -0.5 * d2 / self.bandwidth**2

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x)`` over the last axis; differentiable, vmappable, exact."""
        return torch.logsumexp(self._logits(x), -1) + self._const

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``grad_x log p(x) = (E_w[x_k] - x) / h^2``; differentiable, vmappable, exact."""
        w = torch.softmax(self._logits(x), -1)
        return (w @ self.centres - x) / self.bandwidth**2

    # ------------------------------------------------------------ fast batched
    def _neighbours(self, x: torch.Tensor) -> torch.Tensor:
        k = self.n_neighbors
        if x.device.type == "cpu":
            if self._tree is None:
                from sklearn.neighbors import NearestNeighbors

                self._tree = NearestNeighbors(n_neighbors=k).fit(self.centres.detach().cpu().numpy())
            idx = self._tree.kneighbors(x.detach().cpu().numpy(), return_distance=False)
            return torch.as_tensor(idx, device=x.device)
        d2 = -self._logits(x)
        return torch.topk(d2, k, dim=-1, largest=False).indices

    @torch.no_grad()
    def log_prob_and_score(self, x: torch.Tensor):
        """``(log p(x), s(x))`` for a batch ``(B, D)``, chunked, without autograd.

        Returns
        -------
        log_prob : Tensor of shape (B,)
        score : Tensor of shape (B, D)
        """
        n_centres = self.centres.shape[0] if self.n_neighbors is None else self.n_neighbors
        chunk = max(1, self.max_elements // max(n_centres, 1))
        logps, scores = [], []
        inv_h2 = 1.0 / self.bandwidth**2
        for start in range(0, x.shape[0], chunk):
            xc = x[start : start + chunk]
            if self.n_neighbors is None:
                # logits up to the per-query constant -|x|^2 / (2 h^2): one addmm
                logits = torch.addmm(self._half_sq_scaled, xc, self._scaled_t)
                m = logits.max(-1, keepdim=True).values
                w = logits.sub_(m).exp_()
                total = w.sum(-1, keepdim=True)
                mean = (w @ self.centres) / total
                m = m - 0.5 * (xc**2).sum(-1, keepdim=True) * inv_h2
            else:
                idx = self._neighbours(xc)
                cen = self.centres[idx]  # (b, k, D)
                d2 = ((xc.unsqueeze(1) - cen) ** 2).sum(-1)
                logits = -0.5 * d2 * inv_h2
                m = logits.max(-1, keepdim=True).values
                w = torch.exp(logits - m)
                total = w.sum(-1, keepdim=True)
                mean = (w.unsqueeze(-1) * cen).sum(1) / total
            logps.append((m + torch.log(total)).squeeze(-1) + self._const)
            scores.append((mean - xc) * inv_h2)
        return torch.cat(logps), torch.cat(scores)

    # ------------------------------------------------------------- reference
    def score_norm_sq(self, n_samples: int = 4096, seed: int = 0) -> float:
        """Monte-Carlo ``E_{x~p} |s(x)|^2`` (fixed seed, so deterministic)."""
        gen = torch.Generator(device="cpu").manual_seed(seed)
        n = self.centres.shape[0]
        idx = torch.randint(0, n, (n_samples,), generator=gen)
        eps = torch.randn(n_samples, self.dim, generator=gen, dtype=torch.float64)
        centres = self.centres.detach().cpu().to(torch.float64)
        x = centres[idx] + self.bandwidth * eps
        cpu = self.to("cpu", torch.float64)
        cpu.n_neighbors = None
        _, s = cpu.log_prob_and_score(x)
        return float((s**2).sum(-1).mean())

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_tree"] = None
        return state


def warn_small_bandwidth(h: float, X: np.ndarray) -> None:
    """Warn when ``h`` is below the median nearest-neighbour distance of ``X``."""
    med = median_nn_distance(X)
    if h < med:
        warnings.warn(
            f"the KDE bandwidth {h:.3g} is below the median nearest-neighbour distance "
            f"{med:.3g} of the (standardised) data: the density breaks into separate bumps "
            f"('beads') and the embedding collapses onto single points; use a larger bandwidth",
            UserWarning,
            stacklevel=3,
        )
