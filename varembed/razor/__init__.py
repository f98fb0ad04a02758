"""Noether's Razor: Hamiltonian networks that learn their conserved quantities.

A variational Hamiltonian network ``F_theta`` is averaged over the flows of
quadratic conserved quantities ``C_k(x) = 1/2 x^T A_k x + b_k^T x``; which
quantities are symmetries, and how many, is decided by the ELBO, whose Occam
effect prefers the model with every symmetry the data allow and no other
(van der Ouderaa, van der Wilk and de Haan, NeurIPS 2024).

Modules
-------
phase_space     Poisson matrix, brackets, conserved quadratics, drift ratios
systems, nbody  oscillators and n-body systems (the ground truth)
data            train / test / wider / moved trajectory splits
inputs          the transition layouts of the estimator
posterior       matrix-normal weight posterior and its KL
model           the variational MLP ``F_theta``
conserved       conserved-quantity slots, their posterior and group elements
symmetrisation  the orbit-averaged ``H`` and its vector field
hnn             ``F_theta`` plus conserved quantities, one-step predictions
integrators     RK4 and explicit Euler
objective       ``-ELBO / N`` and the MAP ablation
training        the Adam + cosine optimisation loop
proposals       candidate quantities from the likelihood's conservation constraint
selection       how many symmetries: forward selection by the bound
evaluation      predictions and scores (fixed evaluation streams)
readout         the reported quantities and their comparison with the truth
oracles         U(n), SE(2) and the exact ground truth
estimator       :class:`NoetherRazor`
experiment      the learned / MAP / vanilla / oracle ablation
report          tables, legends and figures
"""

from .data import Splits, make_splits
from .estimator import NoetherRazor
from .inputs import transitions
from .nbody import NBody
from .oracles import oracle_generators
from .readout import LearnedSymmetries, true_conserved_subspace
from .systems import HarmonicOscillators, QuadraticOscillators, anisotropic_oscillator, coupled_oscillators

__all__ = [
    "NoetherRazor",
    "transitions",
    "HarmonicOscillators",
    "QuadraticOscillators",
    "coupled_oscillators",
    "anisotropic_oscillator",
    "NBody",
    "Splits",
    "make_splits",
    "oracle_generators",
    "true_conserved_subspace",
    "LearnedSymmetries",
]
