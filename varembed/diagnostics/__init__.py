"""Diagnostics of fitted embeddings: Euler-Lagrange residuals, Noether currents, symmetries.

Every function takes a fitted estimator that offers ``functional()`` and
``field()`` (``LinearVariationalEmbedding``, ``VariationalEmbedding``) and
reads it without refitting.  The numbers are calls into the variational core
(:mod:`varembed.core`): the fast path works on the second-order jet of the map
(:mod:`varembed.diagnostics.jet`) and agrees with the core's generic autodiff
Euler-Lagrange expression and Noether current (``method="generic"``).

* :func:`euler_lagrange_residual` -- ``r = s(phi) - P grad log q - div P`` and
  ``rho_EL = sqrt(E_q|r|^2) / S_ref``.
* :func:`noether_current` -- current, divergence and breaking of a data-space
  isometry ``B x + c`` or a latent isometry ``A z + b``.
* :func:`find_symmetries` -- invariant generator subspaces of the density
  (data space) or prior (latent space), with evidence and conservation.
* :func:`ward_identities` -- the global identities ``E_q s = 0``, the virial, ...
* :func:`diagnose` -- all of it in a :class:`DiagnosticsReport` (``str``,
  ``to_dict()``, ``plot()``).
"""

from .currents import CurrentField, noether_current
from .generators import DataIsometry, LatentIsometry
from .jet import EmbeddingJet, embedding_jet
from .report import DiagnosticsReport, diagnose
from .residual import ELResidual, euler_lagrange_residual
from .symmetries import Symmetry, SymmetrySearch, find_symmetries
from .ward import WardIdentities, ward_identities

__all__ = [
    "CurrentField",
    "DataIsometry",
    "DiagnosticsReport",
    "ELResidual",
    "EmbeddingJet",
    "LatentIsometry",
    "Symmetry",
    "SymmetrySearch",
    "WardIdentities",
    "diagnose",
    "embedding_jet",
    "euler_lagrange_residual",
    "find_symmetries",
    "noether_current",
    "ward_identities",
]
