"""varembed: dimensionality reduction as a variational problem.

A smooth map ``phi: R^d -> R^D`` with latent prior ``q`` is fitted to data of
density ``p`` by maximising

    F[phi] = E_q[ log p(phi(z)) + 1/2 log det(J^T J) - lam tr(J^T J) ].

Estimators
----------
LinearVariationalEmbedding
    Affine maps on the Grassmann manifold (pymanopt); exactly PCA for a
    Gaussian prior and density.
"""

from .embedding.linear import LinearVariationalEmbedding
from .embedding.neural import VariationalEmbedding

__version__ = "0.2.0"

__all__ = ["LinearVariationalEmbedding", "VariationalEmbedding", "__version__"]
