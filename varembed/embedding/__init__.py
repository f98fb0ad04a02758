"""Manifold embeddings built on the variational functional.

Data flow of a fit: validate -> standardise -> density (``densities``) ->
initial map (``init``, ``maps``) -> train (``training``, on the Lagrangian
of ``functional``) -> polish -> gauge (``maps.gauge``) -> noise (``noise``)
-> store.  ``inference`` turns data into codes (posterior mode) and
likelihoods; ``_base`` holds the API both estimators share.
"""

from .densities import Density, GaussianDensity, GaussianKDE, MixtureDensity, make_density
from .functional import EmbeddingFunctional, EmbeddingLagrangian, half_logdet_gram
from .linear import LinearVariationalEmbedding
from .neural import VariationalEmbedding
from .priors import GaussianPrior, UniformBoxPrior, make_prior

__all__ = [
    "Density",
    "EmbeddingFunctional",
    "EmbeddingLagrangian",
    "GaussianDensity",
    "GaussianKDE",
    "GaussianPrior",
    "LinearVariationalEmbedding",
    "MixtureDensity",
    "UniformBoxPrior",
    "VariationalEmbedding",
    "half_logdet_gram",
    "make_density",
    "make_prior",
]
