"""Tears and folds of an embedding, read off neighbourhoods of the data and of the codes.

A smooth two-way map keeps neighbours neighbours in both directions.  Two
ways to break that are visible in a picture of the codes:

* a **tear**: data neighbours whose codes are far apart (the map cut the data
  manifold; a gap or a seam in the latent picture);
* a **fold** (or overlap): latent neighbours whose data points are far apart
  (two distinct parts of the data land on top of each other).

:func:`neighbourhood_defects` counts both among the ``k`` nearest neighbours,
"far" meaning more than ``factor`` times the median distance, in the other
space, of all such neighbour pairs (scale free, and independent of the two
dimensions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NeighbourhoodDefects", "neighbourhood_defects", "DEFECT_FACTOR"]

#: A neighbour pair counts as torn / folded beyond this many median neighbour distances.
DEFECT_FACTOR = 5.0


@dataclass(frozen=True)
class NeighbourhoodDefects:
    """Torn and folded neighbour pairs of an embedding.

    Attributes
    ----------
    tears : ndarray of shape (n_tears, 2)
        Index pairs ``(i, j)``: data neighbours whose codes are far apart.
    folds : ndarray of shape (n_folds, 2)
        Index pairs: code neighbours whose data points are far apart.
    tear_fraction, fold_fraction : float
        Of all ``k``-neighbour pairs.
    k, factor : int, float
    """

    tears: np.ndarray
    folds: np.ndarray
    tear_fraction: float
    fold_fraction: float
    k: int
    factor: float

    def describe(self) -> str:
        """One sentence for a report."""
        def part(name, frac, n, meaning):
            if n == 0:
                return f"no {name}s"
            return f"{name}s: {n} neighbour pairs ({100 * frac:.2g}%) {meaning}"

        return "; ".join([
            part("tear", self.tear_fraction, len(self.tears),
                 f"are data neighbours set more than {self.factor:g}x the typical distance apart in latent space"),
            part("fold", self.fold_fraction, len(self.folds),
                 f"are latent neighbours more than {self.factor:g}x the typical distance apart in data space"),
        ])


def _far_pairs(A: np.ndarray, B: np.ndarray, k: int, factor: float):
    """``k``-neighbour pairs of ``A`` whose distance in ``B`` exceeds ``factor`` x the median over those pairs."""
    from sklearn.neighbors import NearestNeighbors

    n = A.shape[0]
    k = min(k, n - 1)
    idx = NearestNeighbors(n_neighbors=k + 1).fit(A).kneighbors(A, return_distance=False)[:, 1:]
    rows = np.repeat(np.arange(n), k)
    cols = idx.ravel()
    dist = np.linalg.norm(B[rows] - B[cols], axis=1)
    far = dist > factor * max(float(np.median(dist)), np.finfo(float).tiny)
    pairs = np.unique(np.sort(np.stack([rows[far], cols[far]], 1), axis=1), axis=0) if far.any() else \
        np.zeros((0, 2), dtype=int)
    return pairs, float(far.mean())


def neighbourhood_defects(X, Z, k: int = 10, factor: float = DEFECT_FACTOR) -> NeighbourhoodDefects:
    """Tears (data neighbours far apart in latent space) and folds (the reverse) of codes ``Z`` of ``X``.

    Parameters
    ----------
    X : array-like of shape (n, D)
        Data (in the coordinates where distances mean something, e.g. the
        estimator's standardised space).
    Z : array-like of shape (n, d)
        Their codes (``transform(X)``).
    k : int, default=10
        Neighbours per point.
    factor : float, default=5.0
        How many median neighbour distances count as far.

    Returns
    -------
    NeighbourhoodDefects
    """
    X = np.asarray(X, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    if X.ndim != 2 or Z.ndim != 2 or X.shape[0] != Z.shape[0]:
        raise ValueError(f"X and Z must be 2-D with the same number of rows, got {X.shape} and {Z.shape}")
    if X.shape[0] < 3:
        raise ValueError("neighbourhood defects need at least 3 points")
    tears, tear_frac = _far_pairs(X, Z, k, factor)
    folds, fold_frac = _far_pairs(Z, X, k, factor)
    return NeighbourhoodDefects(tears, folds, tear_frac, fold_frac, int(min(k, X.shape[0] - 1)), float(factor))
