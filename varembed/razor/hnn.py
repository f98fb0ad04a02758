"""The symmetrised Hamiltonian neural network: ``F_theta`` plus conserved quantities.

One forward pass draws ``R`` weight samples (or uses the posterior mean) and,
per weight sample, one draw of the conserved quantities' coordinates and
``S`` group elements, shared across the batch and all integrator stages; the
one-step prediction integrates ``J grad H`` over ``dt``.
"""

from __future__ import annotations

import torch
from torch import nn

from .integrators import integrate
from .model import HamiltonianMLP
from .phase_space import poisson_tensor
from .symmetrisation import hamiltonian_vector_field, symmetrised_hamiltonian

__all__ = ["SymmetricHNN"]


class SymmetricHNN(nn.Module):
    """Variational HNN symmetrised over the flows of quadratic conserved quantities.

    Parameters
    ----------
    network : HamiltonianMLP
    conserved : ConservedQuantities or None
        ``None`` (or zero slots) gives the vanilla HNN.
    """

    def __init__(self, network: HamiltonianMLP, conserved=None):
        super().__init__()
        self.network = network
        if conserved is not None and conserved.n_conserved == 0:
            conserved = None
        self.conserved = conserved
        dim = network.layers[0].d_in
        self.register_buffer("J", poisson_tensor(dim, dtype=network.scale.dtype))

    def draw(self, n_mc, n_sym, generator=None, *, mean=False):
        """Weights (``R`` samples or the posterior mean) and group elements ``(R, S, M+1, M+1)``."""
        weights = self.network.mean_weights() if mean else self.network.sample_weights(n_mc, generator)
        r = 1 if mean else n_mc
        if self.conserved is None:
            return weights, None
        coords = self.conserved.sample(r, generator, mean=mean)
        eps = self.conserved.coordinates(r, n_sym, generator)
        return weights, self.conserved.group_elements(coords, eps)

    def hamiltonian(self, x, weights, group):
        """``H(x)`` for ``x (R, B, M)``; returns ``(R, B)``."""
        return symmetrised_hamiltonian(self.network, weights, x, group)

    def step(self, x, dt, weights, group, *, n_substeps=1, method="rk4", create_graph=True):
        """Integrate the learned dynamics from ``x (R, B, M)`` over ``dt`` (a float or ``(B, 1)``)."""
        field = hamiltonian_vector_field(self.network, weights, group, self.J, create_graph=create_graph)
        return integrate(field, x, dt, n_substeps, method)

    def kl(self, prior_precision=1.0) -> torch.Tensor:
        """KL divergence of the weights' posterior plus that of the conserved quantities'."""
        kl = self.network.kl(prior_precision)
        if self.conserved is not None:
            kl = kl + self.conserved.kl()
        return kl
