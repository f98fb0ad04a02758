"""Hamiltonian systems of the Noether's Razor experiments: oscillators (n-body in :mod:`.nbody`).

Phase space is ``x = (q, p)`` with all positions first; for n-body systems the
positions are ordered body-major, ``q = (q_1x, q_1y, q_2x, ...)``.
Trajectories are integrated with :func:`scipy.integrate.solve_ivp` (DOP853,
``rtol = atol = 1e-10``) on the grid ``t_k = k dt`` and returned as arrays of
shape ``(n_trajectories, n_steps + 1, M)``.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from .._utils.validation import check_int, check_real
from .phase_space import poisson_matrix

__all__ = ["HamiltonianSystem", "QuadraticOscillators", "HarmonicOscillators", "coupled_oscillators",
           "anisotropic_oscillator"]


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
        return self.grad(x) @ poisson_matrix(self.dim).T

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


class QuadraticOscillators(HamiltonianSystem):
    """Linear oscillators ``H = 1/2 |p|^2 + 1/2 q^T K q`` with a symmetric positive definite stiffness ``K``.

    The conserved quadratics are the energies of the normal modes (the
    eigenvectors of ``K``) and, within each group of equal normal-mode
    frequencies, the ``u(m)`` that mixes them: ``sum_f m_f^2`` in all.

    Parameters
    ----------
    stiffness : array-like of shape (n, n)
    name : str, optional
    """

    def __init__(self, stiffness, name=None):
        k = np.asarray(stiffness, dtype=np.float64)
        if k.ndim != 2 or k.shape[0] != k.shape[1] or not np.allclose(k, k.T) or not np.all(np.isfinite(k)):
            raise ValueError(f"stiffness must be a finite symmetric (n, n) matrix, got shape {k.shape}")
        if np.linalg.eigvalsh(k).min() <= 0:
            raise ValueError("stiffness must be positive definite (a stable oscillator)")
        self.stiffness = k
        self.n_dof = k.shape[0]
        self.name = name or f"quadratic{self.n_dof}"

    @property
    def frequencies(self) -> np.ndarray:
        """Normal-mode angular frequencies, ascending."""
        return np.sqrt(np.linalg.eigvalsh(self.stiffness))

    def hamiltonian(self, x):
        x = np.asarray(x, dtype=np.float64)
        q, p = x[..., : self.n_dof], x[..., self.n_dof :]
        return 0.5 * np.sum(p**2, axis=-1) + 0.5 * np.einsum("...i,ij,...j->...", q, self.stiffness, q)

    def grad(self, x):
        x = np.asarray(x, dtype=np.float64)
        q, p = x[..., : self.n_dof], x[..., self.n_dof :]
        return np.concatenate([q @ self.stiffness, p], axis=-1)


class HarmonicOscillators(QuadraticOscillators):
    """``n`` uncoupled oscillators, ``H = 1/2 sum_i (omega_i^2 q_i^2 + p_i^2)``.

    With equal frequencies (the default: all ones) the symmetry group is
    ``U(n)`` (``n^2`` conserved quadratics); pairwise distinct frequencies
    leave the ``n`` individual energies.

    Parameters
    ----------
    n : int, default=1
    frequencies : array-like of shape (n,), optional
        Angular frequencies ``omega_i > 0`` (default all ones).
    """

    def __init__(self, n=1, frequencies=None):
        n = check_int("n", n, low=1)
        w = np.ones(n) if frequencies is None else np.asarray(frequencies, dtype=np.float64).ravel()
        if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"frequencies must be {n} positive finite numbers, got {frequencies!r}")
        super().__init__(np.diag(w**2), name=f"nharm{n}")
        self._omegas = w

    @property
    def frequencies(self) -> np.ndarray:
        """The oscillators' angular frequencies, in the given order."""
        return self._omegas


def coupled_oscillators(n=3, coupling=0.5):
    """A chain of ``n`` unit oscillators with springs ``coupling`` between neighbours.

    ``K = I + coupling * L`` with ``L`` the path-graph Laplacian: the normal
    modes are delocalised and their frequencies distinct, so the ``n``
    normal-mode energies (not the individual ones) are conserved.
    """
    n = check_int("n", n, low=2)
    coupling = check_real("coupling", coupling, low=0.0, strict=True)
    lap = np.diag(np.r_[1.0, 2.0 * np.ones(n - 2), 1.0]) - np.eye(n, k=1) - np.eye(n, k=-1)
    return QuadraticOscillators(np.eye(n) + coupling * lap, name=f"coupled{n}")


def anisotropic_oscillator(frequencies=(1.0, 1.6), angle=np.pi / 6):
    """One particle in a plane, ``H = 1/2 |p|^2 + 1/2 q^T R diag(omega^2) R^T q`` (axes turned by ``angle``).

    Distinct frequencies: the energies along the two principal axes are
    conserved, the angular momentum is not.
    """
    w = np.asarray(frequencies, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return QuadraticOscillators(rot @ np.diag(w**2) @ rot.T, name="aniso2d")


