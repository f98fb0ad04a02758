"""Hamiltonian systems of the Noether's Razor experiments and their data.

Phase space is ``x = (q, p)`` with all positions first; for n-body systems the
positions are ordered body-major, ``q = (q_1x, q_1y, q_2x, ...)``.
Trajectories are integrated with :func:`scipy.integrate.solve_ivp` (DOP853,
``rtol = atol = 1e-10``) on the grid ``t_k = k dt`` and returned as arrays of
shape ``(n_trajectories, n_steps + 1, M)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .._utils.validation import check_int, check_real
from ..core.hamiltonian import symplectic_matrix

__all__ = ["HamiltonianSystem", "HarmonicOscillators", "NBody", "Splits", "make_splits"]


class HamiltonianSystem:
    """Base class: a Hamiltonian ``H(x)`` on ``R^M`` with its gradient.

    Subclasses set ``n_dof`` and implement :meth:`hamiltonian` and
    :meth:`grad`, both vectorised over a leading batch axis.
    """

    n_dof: int
    name: str = "system"

    @property
    def dim(self) -> int:
        """Phase-space dimension ``M = 2 n_dof``."""
        return 2 * self.n_dof

    def hamiltonian(self, x) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def grad(self, x) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def vector_field(self, x) -> np.ndarray:
        """``J grad H(x)`` for states of shape ``(..., M)``."""
        return self.grad(x) @ symplectic_matrix(self.n_dof).T

    def initial_conditions(self, n, *, q_scale=1.0, p_scale=0.5, q_shift=0.0, seed=None) -> np.ndarray:
        """Draw ``q ~ N(q_shift, q_scale^2)``, ``p ~ N(0, p_scale^2)`` i.i.d. per coordinate.

        Parameters
        ----------
        n : int
            Number of initial states.
        q_scale, p_scale : float
            Standard deviations of positions and momenta.
        q_shift : float
            Added to every position coordinate (the ``test_moved`` set).
        seed : int or numpy Generator, optional

        Returns
        -------
        ndarray of shape (n, M)
        """
        n = check_int("n", n, low=1)
        rng = np.random.default_rng(seed)
        q = q_shift + check_real("q_scale", q_scale, low=0.0) * rng.standard_normal((n, self.n_dof))
        p = check_real("p_scale", p_scale, low=0.0) * rng.standard_normal((n, self.n_dof))
        return np.concatenate([q, p], axis=1)

    def trajectories(self, x0, n_steps, dt, *, rtol=1e-10, atol=1e-10) -> np.ndarray:
        """Integrate Hamilton's equations from each initial state.

        Parameters
        ----------
        x0 : array-like of shape (n, M)
        n_steps : int
            Number of transitions; ``n_steps + 1`` states are returned.
        dt : float
            Time step of the output grid.

        Returns
        -------
        ndarray of shape (n, n_steps + 1, M)
        """
        x0 = np.atleast_2d(np.asarray(x0, dtype=np.float64))
        if x0.ndim != 2 or x0.shape[1] != self.dim:
            raise ValueError(f"x0 must have shape (n, {self.dim}), got {x0.shape}")
        n_steps = check_int("n_steps", n_steps, low=1)
        dt = check_real("dt", dt, low=0.0, strict=True)
        t_eval = dt * np.arange(n_steps + 1)
        out = np.empty((x0.shape[0], n_steps + 1, self.dim))

        def rhs(_t, x):
            return self.vector_field(x[None])[0]

        for i, start in enumerate(x0):
            sol = solve_ivp(rhs, (0.0, t_eval[-1]), start, method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol)
            if not sol.success:  # pragma: no cover - smooth systems
                raise RuntimeError(f"solve_ivp failed: {sol.message}")
            out[i] = sol.y.T
        return out


class HarmonicOscillators(HamiltonianSystem):
    """``n`` uncoupled oscillators, ``H = 1/2 sum_i (omega_i^2 q_i^2 + p_i^2)``.

    With unit frequencies (the default) the symmetry group is ``U(n)`` and the
    conserved quadratics span an ``n^2``-dimensional space.

    Parameters
    ----------
    n : int, default=1
    frequencies : array-like of shape (n,), optional
        Angular frequencies ``omega_i > 0`` (default all ones).
    """

    def __init__(self, n=1, frequencies=None):
        self.n_dof = check_int("n", n, low=1)
        if frequencies is None:
            frequencies = np.ones(self.n_dof)
        w = np.asarray(frequencies, dtype=np.float64).ravel()
        if w.shape != (self.n_dof,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"frequencies must be {self.n_dof} positive finite numbers, got {frequencies!r}")
        self.frequencies = w
        self.name = f"nharm{self.n_dof}"

    def hamiltonian(self, x):
        x = np.asarray(x, dtype=np.float64)
        q, p = x[..., : self.n_dof], x[..., self.n_dof :]
        return 0.5 * np.sum(self.frequencies**2 * q**2 + p**2, axis=-1)

    def grad(self, x):
        x = np.asarray(x, dtype=np.float64)
        q, p = x[..., : self.n_dof], x[..., self.n_dof :]
        return np.concatenate([self.frequencies**2 * q, p], axis=-1)


class NBody(HamiltonianSystem):
    """Gravitational n-body problem with unit masses, ``G = 1`` and Plummer softening.

    ``H = sum_i |p_i|^2 / 2 - sum_{i<j} 1 / sqrt(|q_i - q_j|^2 + softening^2)``.

    Parameters
    ----------
    dim : int, default=2
        Spatial dimension.
    n_bodies : int, default=3
    softening : float, default=1.0
    """

    def __init__(self, dim=2, n_bodies=3, softening=1.0):
        self.spatial_dim = check_int("dim", dim, low=1)
        self.n_bodies = check_int("n_bodies", n_bodies, low=2)
        self.softening = check_real("softening", softening, low=0.0, strict=True)
        self.n_dof = self.spatial_dim * self.n_bodies
        self.name = f"nbody{self.spatial_dim}d{self.n_bodies}b"

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
        return kinetic - np.sum(inv[..., iu[0], iu[1]], axis=-1)

    def grad(self, x):
        x, q = self._positions(x)
        diff = q[..., :, None, :] - q[..., None, :, :]  # q_i - q_j
        r2 = np.sum(diff**2, axis=-1) + self.softening**2
        force = np.sum(diff * r2[..., None] ** -1.5, axis=-2)  # dV/dq_i with V = -sum 1/r
        dq = force.reshape(x.shape[:-1] + (self.n_dof,))
        return np.concatenate([dq, x[..., self.n_dof :]], axis=-1)


@dataclass(frozen=True)
class Splits:
    """Train and test trajectories of one system, each ``(n, T + 1, M)``."""

    train: np.ndarray
    test: np.ndarray
    test_wider: np.ndarray
    test_moved: np.ndarray
    dt: float

    def tests(self) -> dict:
        """The three test sets by name."""
        return {"test": self.test, "test_wider": self.test_wider, "test_moved": self.test_moved}


def make_splits(
    system: HamiltonianSystem,
    *,
    n_train=7,
    n_train_steps=4,
    n_test=100,
    n_test_steps=20,
    dt=0.2,
    seed=0,
) -> Splits:
    """Train / test / test_wider / test_moved data with independent seeds.

    Training states start from ``q ~ N(0, 1)``, ``p ~ N(0, 0.5^2)``; the test
    sets use ``p_scale = 0.2`` with ``q_scale = 1`` (``test``), ``q_scale = 3``
    (``test_wider``) and positions shifted by ``+1`` (``test_moved``).  Each
    split draws from its own child of ``numpy.random.SeedSequence(seed)``.
    """
    seeds = np.random.SeedSequence(seed).spawn(4)
    rngs = [np.random.default_rng(s) for s in seeds]
    x_train = system.initial_conditions(n_train, q_scale=1.0, p_scale=0.5, seed=rngs[0])
    x_test = system.initial_conditions(n_test, q_scale=1.0, p_scale=0.2, seed=rngs[1])
    x_wide = system.initial_conditions(n_test, q_scale=3.0, p_scale=0.2, seed=rngs[2])
    x_moved = system.initial_conditions(n_test, q_scale=1.0, p_scale=0.2, q_shift=1.0, seed=rngs[3])
    return Splits(
        train=system.trajectories(x_train, n_train_steps, dt),
        test=system.trajectories(x_test, n_test_steps, dt),
        test_wider=system.trajectories(x_wide, n_test_steps, dt),
        test_moved=system.trajectories(x_moved, n_test_steps, dt),
        dt=float(dt),
    )
