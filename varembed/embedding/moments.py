"""Streaming first and second moments of data rows: the sufficient statistics of a Gaussian fit.

:class:`StreamingMoments` keeps the count, the mean and the centred scatter
matrix of everything seen so far and merges a new chunk exactly (the pairwise
update of Chan, Golub and LeVeque), so the moments of a data set read chunk by
chunk -- ``partial_fit`` calls, or a NumPy memmap read by
:func:`chunked_moments` -- equal the in-memory two-pass ones to round-off,
with memory ``O(D^2)`` whatever ``n``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StreamingMoments", "chunked_moments", "CHUNK_ROWS"]

#: Rows read per chunk by :func:`chunked_moments`.
CHUNK_ROWS = 65536


class StreamingMoments:
    """Count ``n``, ``mean`` and centred ``scatter = sum_i (x_i - mean)(x_i - mean)^T`` of a row stream."""

    def __init__(self, n_features: int):
        self.n = 0
        self.mean = np.zeros(n_features)
        self.scatter = np.zeros((n_features, n_features))

    def update(self, chunk: np.ndarray) -> "StreamingMoments":
        """Merge the rows of ``chunk`` (shape ``(m, D)``)."""
        chunk = np.asarray(chunk, dtype=np.float64)
        m = chunk.shape[0]
        if m == 0:
            return self
        c_mean = chunk.mean(0)
        centred = chunk - c_mean
        delta = c_mean - self.mean
        total = self.n + m
        self.scatter += centred.T @ centred + np.outer(delta, delta) * (self.n * m / total)
        self.mean = self.mean + delta * (m / total)
        self.n = total
        return self

    def covariance(self) -> np.ndarray:
        """The unbiased covariance ``scatter / (n - 1)`` (symmetrised); needs ``n >= 2``."""
        if self.n < 2:
            raise ValueError(f"a covariance needs at least 2 samples, got {self.n}")
        s = self.scatter / (self.n - 1)
        return 0.5 * (s + s.T)


def chunked_moments(X, chunk_rows: int = CHUNK_ROWS) -> StreamingMoments:
    """The moments of ``X`` (an array or memmap of shape ``(n, D)``) read ``chunk_rows`` rows at a time."""
    moments = StreamingMoments(X.shape[1])
    for start in range(0, X.shape[0], int(chunk_rows)):
        moments.update(X[start : start + int(chunk_rows)])
    return moments
