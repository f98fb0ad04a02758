"""Gravitational n-body systems, optionally in a central harmonic field."""

from __future__ import annotations

import numpy as np

from .._utils.validation import check_int, check_real
from .systems import HamiltonianSystem

__all__ = ["NBody"]


class NBody(HamiltonianSystem):
    """Gravitational n-body problem with unit masses, ``G = 1`` and Plummer softening.

    ``H = sum_i |p_i|^2 / 2 - sum_{i<j} 1 / sqrt(|q_i - q_j|^2 + softening^2)
    + field / 2 sum_i |q_i|^2``.  Without the field the conserved quadratics
    are the total momentum, the angular momentum and what they generate
    (``2 d + d (d - 1)`` in ``d`` dimensions: 7 in the plane); a central field
    breaks the translations, leaving the angular momentum and, since the
    centre of mass then moves as an isotropic oscillator, its ``u(d)``.

    Parameters
    ----------
    dim : int, default=2
        Spatial dimension.
    n_bodies : int, default=3
    softening : float, default=1.0
    field : float, default=0.0
        Strength of the central harmonic field.
    """

    def __init__(self, dim=2, n_bodies=3, softening=1.0, field=0.0):
        self.spatial_dim = check_int("dim", dim, low=1)
        self.n_bodies = check_int("n_bodies", n_bodies, low=2)
        self.softening = check_real("softening", softening, low=0.0, strict=True)
        self.field = check_real("field", field, low=0.0)
        self.n_dof = self.spatial_dim * self.n_bodies
        self.name = f"nbody{self.spatial_dim}d{self.n_bodies}b" + ("_field" if self.field else "")

    def _positions(self, x):
        x = np.asarray(x, dtype=np.float64)
        q = x[..., : self.n_dof].reshape(x.shape[:-1] + (self.n_bodies, self.spatial_dim))
        return x, q

    def hamiltonian(self, x):
        x, q = self._positions(x)
        kinetic = 0.5 * np.sum(x[..., self.n_dof :] ** 2, axis=-1)
        diff = q[..., :, None, :] - q[..., None, :, :]
        inv = 1.0 / np.sqrt(np.sum(diff**2, axis=-1) + self.softening**2)
        iu = np.triu_indices(self.n_bodies, k=1)
        external = 0.5 * self.field * np.sum(x[..., : self.n_dof] ** 2, axis=-1)
        return kinetic - np.sum(inv[..., iu[0], iu[1]], axis=-1) + external

    def grad(self, x):
        x, q = self._positions(x)
        diff = q[..., :, None, :] - q[..., None, :, :]  # q_i - q_j
        r2 = np.sum(diff**2, axis=-1) + self.softening**2
        force = np.sum(diff * r2[..., None] ** -1.5, axis=-2)  # dV/dq_i with V = -sum 1/r
        dq = force.reshape(x.shape[:-1] + (self.n_dof,)) + self.field * x[..., : self.n_dof]
        return np.concatenate([dq, x[..., self.n_dof :]], axis=-1)
