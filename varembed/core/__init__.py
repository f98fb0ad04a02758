"""The variational core shared by the embedding diagnostics, NLD and Noether's Razor.

* :mod:`varembed.core.fields` -- values, Jacobians and Hessians of per-point
  fields by forward mode, mapped over batches in chunks.
* :mod:`varembed.core.lagrangian` -- Euler-Lagrange expressions and Noether
  currents of any Lagrangian density ``L(x, u, du)`` by autodiff (embedding
  diagnostics, NLD's learning-rule Lagrangian).
* :mod:`varembed.core.symmetry` -- generator bases, invariant-subspace
  discovery and THE rank rule :func:`count_zero` (embedding diagnostics, NLD
  parameter symmetries, Razor conserved quantities).
* :mod:`varembed.core.flows` -- residuals of affine flows against a gradient
  field (symmetries of a density; conserved quadratics of a Hamiltonian).
"""

from .fields import chunked, map_points, value_and_jacobian, value_jacobian_hessian
from .flows import affine_flow_residuals, affine_generator_basis
from .lagrangian import FieldJet, Generator, NoetherCurrent, euler_lagrange, field_jet, noether_current
from .symmetry import (
    InvariantSubspace,
    RankDecision,
    antisymmetric_basis,
    count_zero,
    invariant_subspace,
    quadratic_form_basis,
    symmetric_basis,
    translation_basis,
)

__all__ = [
    "chunked",
    "map_points",
    "value_and_jacobian",
    "value_jacobian_hessian",
    "affine_flow_residuals",
    "affine_generator_basis",
    "FieldJet",
    "Generator",
    "NoetherCurrent",
    "euler_lagrange",
    "field_jet",
    "noether_current",
    "InvariantSubspace",
    "RankDecision",
    "antisymmetric_basis",
    "count_zero",
    "invariant_subspace",
    "quadratic_form_basis",
    "symmetric_basis",
    "translation_basis",
]
