"""The non-symmetrised Hamiltonian network ``F_theta: R^M -> R``.

An MLP with ELU activations whose weight matrices all carry a matrix-normal
posterior (:class:`MatrixNormalWeight`); hidden biases (initialised
``U(0, 2 pi)``) and a first-layer scale are point estimates; the scalar output
has no bias.  Weights are passed explicitly so that ``R`` Monte Carlo samples
are evaluated in one batched call.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .posterior import MatrixNormalWeight

__all__ = ["HamiltonianMLP"]


class HamiltonianMLP(nn.Module):
    """Variational MLP ``F_theta``.

    Parameters
    ----------
    dim : int
        Phase-space dimension ``M``.
    hidden : tuple of int
        Widths of the hidden layers (the paper uses two).
    alpha : float
        ELU parameter (2 for the single oscillator in the paper, else 1).
    generator : torch.Generator
    dtype : torch.dtype
    """

    def __init__(self, dim, hidden, alpha, *, generator, dtype=torch.float32):
        super().__init__()
        self.alpha = float(alpha)
        widths = [dim] + [int(h) for h in hidden] + [1]
        layers, biases = [], []
        n_layers = len(widths) - 1
        for i, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
            if i == 0:
                mean_std, fac = 1.0, d_out**-0.25
            elif i == n_layers - 1:
                mean_std, fac = (d_in + 1) ** -0.5, 4.0 * math.sqrt(2.0) * (d_in + 1) ** -0.5
            else:
                mean_std, fac = (2.0 * d_in) ** -0.5, (2.0 * d_in) ** -0.5
            layers.append(
                MatrixNormalWeight(
                    d_in, d_out, mean_std=mean_std, posterior_std=1.6 * fac**2, generator=generator, dtype=dtype
                )
            )
            if i < n_layers - 1:
                b = torch.rand(d_out, generator=generator, dtype=torch.float64) * 2.0 * math.pi
                biases.append(nn.Parameter(b.to(dtype)))
        self.layers = nn.ModuleList(layers)
        self.biases = nn.ParameterList(biases)
        self.scale = nn.Parameter(torch.ones((), dtype=dtype))

    def sample_weights(self, n_samples: int, generator=None) -> list:
        """``n_samples`` weight draws per layer, each ``(n_samples, d_out, d_in)``."""
        return [layer.sample(n_samples, generator) for layer in self.layers]

    def mean_weights(self) -> list:
        """Posterior-mean weights with a leading sample axis of length 1."""
        return [layer.mean[None] for layer in self.layers]

    def forward(self, x: torch.Tensor, weights: list) -> torch.Tensor:
        """Evaluate ``F`` for inputs ``(R, N, M)`` and weights with leading axis ``R`` (or 1).

        Returns
        -------
        Tensor of shape (R, N)
        """
        h = x
        for i, w in enumerate(weights):
            h = h @ w.transpose(-1, -2)
            if i == 0:
                h = self.scale * h
            if i < len(weights) - 1:
                h = nn.functional.elu(h + self.biases[i], alpha=self.alpha)
        return h[..., 0]

    def kl(self, prior_precision: float = 1.0) -> torch.Tensor:
        """Sum of the layer KL divergences."""
        return sum(layer.kl(prior_precision) for layer in self.layers)

    def log_prior(self, prior_precision: float = 1.0) -> torch.Tensor:
        """Log prior of the mean weights (MAP objective)."""
        return sum(layer.log_prior(prior_precision) for layer in self.layers)
