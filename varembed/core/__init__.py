"""The variational core shared by every varembed module.

* :mod:`varembed.core.lagrangian` -- Euler-Lagrange expressions and Noether
  currents of any Lagrangian density ``L(x, u, du)`` by autodiff.
* :mod:`varembed.core.symmetry` -- generator bases and invariant-subspace
  discovery (null space of stacked residuals).
* :mod:`varembed.core.manifolds` -- Riemannian optimisation with pymanopt.
"""

from .lagrangian import (
    FieldJet,
    Generator,
    NoetherCurrent,
    euler_lagrange,
    field_jet,
    noether_current,
)
from .symmetry import (
    InvariantSubspace,
    antisymmetric_basis,
    invariant_subspace,
    quadratic_form_basis,
    residual_matrix,
    symmetric_basis,
    translation_basis,
)

__all__ = [
    "FieldJet",
    "Generator",
    "NoetherCurrent",
    "euler_lagrange",
    "field_jet",
    "noether_current",
    "InvariantSubspace",
    "antisymmetric_basis",
    "invariant_subspace",
    "quadratic_form_basis",
    "residual_matrix",
    "symmetric_basis",
    "translation_basis",
]
