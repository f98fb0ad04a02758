"""Noether's Razor: Hamiltonian networks that learn their conserved quantities.

A variational Hamiltonian network ``F_theta`` is symmetrised over the flows of
``K`` learnable quadratic conserved quantities ``C_k(x) = 1/2 x^T A_k x +
b_k^T x``; the quantities are chosen by maximising the ELBO, whose Occam
effect keeps them from collapsing to constants (van der Ouderaa, van der Wilk
and de Haan, NeurIPS 2024).

Modules
-------
systems         harmonic oscillators and n-body systems, trajectory data
posterior       matrix-normal weight posterior and its KL
model           the variational MLP ``F_theta``
symmetrisation  conserved quantities, group elements, orbit-averaged ``H``
hnn             ``F_theta`` plus conserved quantities, one-step predictions
integrators     RK4 and explicit Euler
objective       ``-ELBO / N`` and the MAP ablation
training        the Adam + cosine optimisation loop
validation      input checks
oracles         SO(2), U(n) and SE(2) generators
analysis        learned vs. true conserved subspaces (on the shared core)
estimator       :class:`NoetherRazor`
experiment      the vanilla / oracle / learned / MAP comparison
command         ``python -m varembed razor``
"""

from .estimator import NoetherRazor
from .oracles import oracle_generators
from .systems import HarmonicOscillators, NBody, make_splits

__all__ = ["NoetherRazor", "HarmonicOscillators", "NBody", "make_splits", "oracle_generators"]
