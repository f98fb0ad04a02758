"""Train and test trajectories of a system: the splits of the razor experiments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .systems import HamiltonianSystem

__all__ = ["Splits", "make_splits"]


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
    p_train=0.5,
    seed=0,
) -> Splits:
    """Train / test / test_wider / test_moved data with independent seeds.

    Training states start from ``q ~ N(0, 1)``, ``p ~ N(0, p_train^2)`` (the
    paper's 0.5 by default); the test
    sets use ``p_scale = 0.2`` with ``q_scale = 1`` (``test``), ``q_scale = 3``
    (``test_wider``) and positions shifted by ``+1`` (``test_moved``).  Each
    split draws from its own child of ``numpy.random.SeedSequence(seed)``.
    """
    seeds = np.random.SeedSequence(seed).spawn(4)
    rngs = [np.random.default_rng(s) for s in seeds]
    x_train = system.initial_conditions(n_train, q_scale=1.0, p_scale=p_train, seed=rngs[0])
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
