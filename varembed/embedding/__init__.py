"""Manifold embeddings built on the variational functional."""

from .densities import GaussianDensity
from .functional import EmbeddingFunctional, half_logdet_gram
from .linear import LinearVariationalEmbedding
from .neural import VariationalEmbedding
from .priors import GaussianPrior, UniformBoxPrior, make_prior

__all__ = [
    "EmbeddingFunctional",
    "GaussianDensity",
    "GaussianPrior",
    "LinearVariationalEmbedding",
    "UniformBoxPrior",
    "VariationalEmbedding",
    "half_logdet_gram",
    "make_prior",
]
