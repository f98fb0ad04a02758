"""Riemannian optimisation with pymanopt (torch autodiff backend).

A thin layer that builds a :class:`pymanopt.Problem` from a torch cost, picks
an optimiser by name, silences it, and always starts from an explicit initial
point (pymanopt's own random points use the global NumPy RNG).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pymanopt
from pymanopt.optimizers import ConjugateGradient, SteepestDescent, TrustRegions

__all__ = ["SOLVERS", "ManifoldResult", "minimize_on_manifold", "check_solver"]

SOLVERS = {
    "trust-regions": TrustRegions,
    "conjugate-gradient": ConjugateGradient,
    "steepest-descent": SteepestDescent,
}


@dataclass(frozen=True)
class ManifoldResult:
    """Outcome of a Riemannian optimisation.

    A frozen record, like pymanopt's own result, of what the optimiser reached.

    Attributes
    ----------
    point : ndarray
        The final point on the manifold.
    cost : float
        Cost at ``point``.
    n_iter : int
        Outer iterations taken.
    gradient_norm : float
        Norm of the Riemannian gradient at ``point``.
    stopping_criterion : str
        pymanopt's reason for stopping.
    """

    point: np.ndarray
    cost: float
    n_iter: int
    gradient_norm: float
    stopping_criterion: str


def check_solver(name) -> None:
    """Raise ``ValueError`` unless ``name`` is a known solver."""
    if not isinstance(name, str) or name not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {name!r}")


def minimize_on_manifold(
    manifold,
    cost: Callable,
    euclidean_gradient: Callable | None = None,
    euclidean_hessian: Callable | None = None,
    initial_point: np.ndarray | None = None,
    *,
    solver: str = "trust-regions",
    max_iter: int = 200,
    tol: float = 1e-10,
    verbose: int = 0,
) -> ManifoldResult:
    """Minimise a torch cost on a pymanopt manifold.

    Parameters
    ----------
    manifold : pymanopt.manifolds.manifold.Manifold
    cost : callable
        Torch function of the manifold point (a float64 tensor) returning a
        scalar.
    euclidean_gradient, euclidean_hessian : callable, optional
        Closed-form torch derivatives ``grad(x)`` and ``hess(x, direction)``;
        when omitted they come from torch autodiff.
    initial_point : ndarray
        Starting point on the manifold (never drawn from a global RNG).
    solver : {"trust-regions", "conjugate-gradient", "steepest-descent"}
    max_iter : int
    tol : float
        Stop when the Riemannian gradient norm falls below ``tol``.
    verbose : int
        pymanopt verbosity (0 = silent).

    Returns
    -------
    ManifoldResult
    """
    check_solver(solver)
    if initial_point is None:
        raise ValueError("initial_point is required (pymanopt's random points use the global RNG)")
    wrap = pymanopt.function.pytorch(manifold)
    problem = pymanopt.Problem(
        manifold,
        wrap(cost),
        euclidean_gradient=None if euclidean_gradient is None else wrap(euclidean_gradient),
        euclidean_hessian=None if euclidean_hessian is None else wrap(euclidean_hessian),
    )
    kwargs = dict(max_iterations=max_iter, min_gradient_norm=tol, verbosity=int(verbose))
    if solver == "trust-regions":
        kwargs["min_step_size"] = 0.0
    # pymanopt's trust regions divide 0/0 when started at a critical point: return it as is.
    grad_norm = manifold.norm(initial_point, problem.riemannian_gradient(initial_point))
    if grad_norm <= tol:
        return ManifoldResult(
            point=np.asarray(initial_point),
            cost=float(problem.cost(initial_point)),
            n_iter=0,
            gradient_norm=float(grad_norm),
            stopping_criterion="initial point is critical",
        )
    optimizer = SOLVERS[solver](**kwargs)
    result = optimizer.run(problem, initial_point=initial_point)
    return ManifoldResult(
        point=np.asarray(result.point),
        cost=float(result.cost),
        n_iter=int(result.iterations),
        gradient_norm=float(result.gradient_norm),
        stopping_criterion=str(result.stopping_criterion),
    )
