"""Noether's Learning Dynamics (Tanaka & Kunin, NeurIPS 2021) for PyTorch models.

Gradient descent is the Euler-Lagrange equation of a damped Lagrangian whose
kinetic energy is set by the learning rule and whose potential is the loss.
A loss symmetry that the kinetic energy breaks makes its Noether charge move
predictably (kinetic symmetry breaking).  This package

* builds the learning-rule Lagrangian on :mod:`varembed.core.lagrangian`
  (:mod:`.lagrangian`) and reads each symmetry group's charge balance off the
  core's Noether current (:mod:`.balance`),
* finds and numerically verifies scale / translation / rescale groups of an
  ``nn.Module`` with the core's invariant-subspace discovery and rank rule
  (:mod:`.registry`),
* records per-group charges around ``optimizer.step()`` (:mod:`.tracker`),
* predicts them (:mod:`.predictors`): exact discrete recursions
  (:mod:`.closed_forms`), and, from the core-derived balance, the
  modified-equation ODE with the measured source, the NLD closed form and
  steady states; the implicit-RMSProp shadow optimiser (:mod:`.shadow`),
* says in words whether each prediction's assumptions hold in a run
  (:mod:`.verdicts`).

Typical use::

    families = verify_symmetries(model, batches).verified_families()
    tracker = NoetherTracker(model, optimizer, families)
    ... train ...
    for h in tracker.history():
        print("\n".join(v.line() for v in assess(h).verdicts))
"""

from .balance import ChargeBalance, charge_balance
from .closed_forms import rmsprop_equivalent, steady_angular_update, steady_r2
from .groups import Part, SymmetryFamily
from .lagrangian import (
    ChargeDynamics,
    LearningRule,
    kinetic_symmetry_breaking,
    learning_density,
    modified_equation_residual,
    noether_charge,
)
from .predictors import (
    NLDPrediction,
    SteadyState,
    measured_angular_update,
    predict_discrete,
    predict_modified_equation,
    predict_nld,
    relative_error,
    steady_state,
)
from .registry import SymmetryReport, find_symmetries, verify_symmetries
from .shadow import ImplicitRMSProp
from .tracker import ChargeHistory, NoetherTracker
from .verdicts import Assessment, Verdict, assess

__all__ = [
    "ChargeBalance",
    "charge_balance",
    "rmsprop_equivalent",
    "steady_angular_update",
    "steady_r2",
    "Part",
    "SymmetryFamily",
    "ChargeDynamics",
    "LearningRule",
    "kinetic_symmetry_breaking",
    "learning_density",
    "modified_equation_residual",
    "noether_charge",
    "NLDPrediction",
    "SteadyState",
    "measured_angular_update",
    "predict_discrete",
    "predict_modified_equation",
    "predict_nld",
    "relative_error",
    "steady_state",
    "SymmetryReport",
    "find_symmetries",
    "verify_symmetries",
    "ImplicitRMSProp",
    "ChargeHistory",
    "NoetherTracker",
    "Assessment",
    "Verdict",
    "assess",
]
