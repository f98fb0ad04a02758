"""Fixed-step one-step integrators used inside the likelihood.

The learned dynamics are integrated over one data interval ``dt`` with
``n_substeps`` steps of either the classical Runge-Kutta method (default;
one-step error ``O(h^5)``) or explicit Euler (the public code's choice, 20
sub-steps per ``dt``).  Gradients flow through every stage.
"""

from __future__ import annotations

__all__ = ["INTEGRATORS", "euler_step", "rk4_step", "integrate"]


def euler_step(field, x, h):
    """One explicit Euler step ``x + h f(x)``."""
    return x + h * field(x)


def rk4_step(field, x, h):
    """One classical fourth-order Runge-Kutta step."""
    k1 = field(x)
    k2 = field(x + 0.5 * h * k1)
    k3 = field(x + 0.5 * h * k2)
    k4 = field(x + h * k3)
    return x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


INTEGRATORS = {"euler": euler_step, "rk4": rk4_step}


def integrate(field, x, dt, n_substeps=1, method="rk4"):
    """Advance ``x`` by ``dt`` with ``n_substeps`` equal steps of ``method``."""
    step = INTEGRATORS[method]
    h = dt / n_substeps
    for _ in range(n_substeps):
        x = step(field, x, h)
    return x
