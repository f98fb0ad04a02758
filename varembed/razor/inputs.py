"""The data layouts of :class:`~varembed.razor.NoetherRazor` and their checks.

The unit of the likelihood is one *transition*, a state ``x_t`` and the state
``x_{t+1}`` a time ``dt`` later, so a 2-D ``X`` holds one transition per row
and rows are independent samples (they can be shuffled, split and
cross-validated like any scikit-learn data):

* an even number of columns ``2 M``: ``(x_t, x_{t+1})``, the time step is the
  estimator's ``dt``;
* an odd number ``2 M + 1``: ``(x_t, x_{t+1}, dt_i)``, each row with its own
  time step (irregular sampling; a pair of equal-size states always has an
  even width, so the extra column can only be this);
* a 3-D array ``(n_trajectories, n_steps + 1, M)`` of trajectories sampled
  every ``dt`` is cut into its transitions (:func:`transitions`).

A state ``x = (q, p[, c])`` has ``M // 2`` positions and as many momenta; an
odd ``M`` ends with one Casimir coordinate, which the dynamics keep constant
(see :mod:`varembed.razor.phase_space`).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["transitions", "split_rows", "is_trajectory_array", "check_trajectories", "check_states",
           "check_generators"]


def _finite_array(a, name):
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(a).__name__}") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def is_trajectory_array(X) -> bool:
    """Whether ``X`` is a 3-D array (trajectories) rather than 2-D transition rows."""
    ndim = getattr(X, "ndim", None)
    if ndim is None and isinstance(X, (list, tuple)):
        try:
            ndim = np.ndim(np.asarray(X, dtype=object))
        except ValueError:  # ragged nesting
            return False
    return ndim == 3


def check_trajectories(trajectories, dim=None) -> np.ndarray:
    """``(n_trajectories, n_steps + 1, M)`` with ``n_steps >= 1`` and finite values."""
    traj = _finite_array(trajectories, "trajectories")
    if traj.ndim != 3:
        raise ValueError(
            f"trajectories must have shape (n_trajectories, n_steps + 1, M), got an array of shape {traj.shape}"
        )
    if traj.shape[0] < 1 or traj.shape[1] < 2 or traj.shape[2] < 1:
        raise ValueError(f"trajectories need at least one trajectory of two states, got shape {traj.shape}")
    if dim is not None and traj.shape[2] != dim:
        raise ValueError(f"trajectories have states of size M = {traj.shape[2]} but the model was fitted "
                         f"with M = {dim}")
    return traj


def transitions(trajectories, times=None) -> np.ndarray:
    """Cut trajectories into transition rows, the 2-D layout of :class:`NoetherRazor`.

    Parameters
    ----------
    trajectories : array-like of shape (n_trajectories, n_steps + 1, M)
    times : array-like of shape (n_steps + 1,) or (n_trajectories, n_steps + 1), optional
        Sampling times; when given, each row ends with its own time step
        (width ``2 M + 1``), otherwise the estimator's ``dt`` applies (width
        ``2 M``).

    Returns
    -------
    ndarray of shape (n_trajectories * n_steps, 2 M [+ 1])
        Rows ``(x_t, x_{t+1}[, t_{t+1} - t_t])``, trajectory by trajectory.
    """
    traj = check_trajectories(trajectories)
    n, t1, m = traj.shape
    rows = np.concatenate([traj[:, :-1], traj[:, 1:]], axis=2).reshape(n * (t1 - 1), 2 * m)
    if times is None:
        return rows
    t = _finite_array(times, "times")
    t = np.broadcast_to(t, (n, t1)) if t.ndim == 1 and t.shape == (t1,) else t
    if t.shape != (n, t1):
        raise ValueError(f"times must have shape ({t1},) or ({n}, {t1}), got {np.shape(times)}")
    return np.concatenate([rows, np.diff(t, axis=1).reshape(-1, 1)], axis=1)


def split_rows(rows: np.ndarray):
    """``(x_t, x_{t+1}, dt or None)`` from validated 2-D rows (see the module docstring)."""
    width = rows.shape[1]
    m = width // 2
    if m < 1:
        raise ValueError(f"a transition row holds two states (x_t, x_{{t+1}}); {width} column(s) cannot")
    dt = rows[:, 2 * m] if width % 2 else None
    return rows[:, :m], rows[:, m : 2 * m], dt


def check_states(x, dim) -> np.ndarray:
    """States of shape ``(n, dim)`` (a single state ``(dim,)`` is promoted)."""
    arr = _finite_array(x, "states")
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


def check_hidden(hidden) -> tuple:
    """Hidden widths: a non-empty tuple of positive integers."""
    widths = tuple(hidden)
    if not widths or not all(isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1
                             for h in widths):
        raise ValueError(f"hidden must be a non-empty tuple of positive integer widths, got {hidden!r}")
    return tuple(int(h) for h in widths)
