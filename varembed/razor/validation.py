"""Input checks for trajectories, states and oracle generators (clear messages)."""

from __future__ import annotations

import numpy as np

__all__ = ["check_trajectories", "check_states", "check_generators"]


def _finite_array(a, name):
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(a).__name__}") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def check_trajectories(trajectories, dim=None) -> np.ndarray:
    """``(n_trajectories, n_steps + 1, M)`` with ``n_steps >= 1``, ``M`` even and finite values."""
    traj = _finite_array(trajectories, "trajectories")
    if traj.ndim != 3:
        raise ValueError(
            f"trajectories must have shape (n_trajectories, n_steps + 1, M), got an array of shape {traj.shape}"
        )
    if traj.shape[0] < 1 or traj.shape[1] < 2:
        raise ValueError(f"trajectories need at least one trajectory of two states, got shape {traj.shape}")
    if traj.shape[2] < 2 or traj.shape[2] % 2:
        raise ValueError(f"the phase-space dimension M = {traj.shape[2]} must be even (x = (q, p))")
    if dim is not None and traj.shape[2] != dim:
        raise ValueError(f"trajectories have M = {traj.shape[2]} but the model was fitted with M = {dim}")
    return traj


def check_states(x, dim) -> np.ndarray:
    """States of shape ``(n, dim)`` (a single state ``(dim,)`` is promoted)."""
    arr = _finite_array(x, "x0")
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"states must have shape (n, {dim}), got {arr.shape}")
    return arr


def check_generators(generators, dim):
    """Oracle ``(A (K, M, M), b (K, M))`` with symmetric ``A``."""
    try:
        a, b = generators
    except (TypeError, ValueError) as exc:
        raise TypeError("generators must be a pair (A, b) of arrays") from exc
    a = _finite_array(a, "generators A")
    b = _finite_array(b, "generators b")
    if a.ndim != 3 or a.shape[1:] != (dim, dim) or b.shape != (a.shape[0], dim):
        raise ValueError(f"generators must be A (K, {dim}, {dim}) and b (K, {dim}), got {a.shape} and {b.shape}")
    if not np.allclose(a, np.swapaxes(a, 1, 2)):
        raise ValueError("generators A must be symmetric")
    return a, b
