"""Test-local helpers for the diagnostics tests: small densities and stub estimators."""

import math

import numpy as np
import torch

from varembed.embedding import EmbeddingFunctional
from varembed.embedding.densities import Density


class MixtureOfIsotropic(Density):
    """Equal-or-weighted isotropic Gaussian mixture (a KDE when weights are equal).

    Per-point ``log_prob`` by logsumexp and the closed-form score; exposes
    ``centres`` and ``bandwidth`` (a common width) like a KDE.
    """

    name = "mixture"

    def __init__(self, centres, bandwidth, weights=None):
        self.centres = torch.as_tensor(np.asarray(centres, dtype=np.float64))
        self.bandwidth = float(bandwidth)
        self.dim = self.centres.shape[1]
        n = self.centres.shape[0]
        w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)
        self.log_w = torch.log(torch.as_tensor(w))

    dtype = torch.float64
    device = torch.device("cpu")

    def to(self, device=None, dtype=None):
        return self

    def sample(self, n, generator):
        comp = torch.multinomial(self.log_w.exp(), n, replacement=True, generator=generator)
        return self.centres[comp] + self.bandwidth * torch.randn(n, self.dim, generator=generator, dtype=torch.float64)

    def _logits(self, x):
        d2 = ((x.unsqueeze(-2) - self.centres) ** 2).sum(-1)
        return self.log_w - 0.5 * d2 / self.bandwidth**2

    def log_prob(self, x):
        return torch.logsumexp(self._logits(x), -1) - 0.5 * self.dim * math.log(2 * math.pi * self.bandwidth**2)

    def score(self, x):
        w = torch.softmax(self._logits(x), -1)
        return (w @ self.centres - x) / self.bandwidth**2


class StubEmbedding:
    """A 'fitted estimator' with a given functional and map (the diagnostics protocol)."""

    def __init__(self, prior, density, field, continuity=0.0):
        self._functional = EmbeddingFunctional(prior, density, continuity)
        self._field = field

    def functional(self):
        return self._functional

    def field(self):
        return self._field


def random_mlp(d, D, width=16, seed=0, scale=0.5):
    """A random smooth (tanh) map R^d -> R^D with an affine part (an immersion)."""
    g = torch.Generator().manual_seed(seed)
    w0 = torch.randn(D, d, generator=g, dtype=torch.float64)
    w1 = torch.randn(width, d, generator=g, dtype=torch.float64)
    b1 = torch.randn(width, generator=g, dtype=torch.float64)
    w2 = scale * torch.randn(D, width, generator=g, dtype=torch.float64) / math.sqrt(width)
    return lambda z: w0 @ z + w2 @ torch.tanh(w1 @ z + b1)
