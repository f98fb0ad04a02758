"""Data densities ``p(x)`` of the embedding functional: one protocol, one file per family.

* :class:`Density` (``base``) -- the protocol: ``log_prob``, ``score``,
  ``log_prob_and_score``, ``sample``, ``to``, ``score_norm_sq``;
* :class:`GaussianDensity` (``gaussian``), :class:`GaussianKDE` (``kde``),
  :class:`MixtureDensity` (``mixture``), :class:`UserDensity` and
  :class:`StandardizedDensity` (``user``);
* :func:`make_density` (``factory``) -- an estimator's ``density`` parameter
  turned into a density of its standardised data; the bandwidth rules live
  in ``bandwidth``.
"""

from .bandwidth import BANDWIDTH_RULES, kth_nn_distance, median_nn_distance, resolve_bandwidth
from .base import Density, log_prob_with_score
from .factory import DENSITY_NAMES, make_density, ppca_gaussian
from .gaussian import GaussianDensity
from .kde import GaussianKDE
from .mixture import MixtureDensity
from .user import StandardizedDensity, UserDensity

__all__ = [
    "BANDWIDTH_RULES",
    "DENSITY_NAMES",
    "Density",
    "GaussianDensity",
    "GaussianKDE",
    "MixtureDensity",
    "StandardizedDensity",
    "UserDensity",
    "kth_nn_distance",
    "log_prob_with_score",
    "make_density",
    "median_nn_distance",
    "ppca_gaussian",
    "resolve_bandwidth",
]
