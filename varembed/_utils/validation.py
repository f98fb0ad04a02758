"""Parameter and input checks shared by the estimators.

Every message names the offending parameter or property of the input, so a
user never sees a torch or pymanopt traceback for bad input.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_array

__all__ = [
    "check_choice",
    "check_int",
    "check_real",
    "check_latent_array",
]


def check_choice(name: str, value, choices) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def check_int(name: str, value, *, low=None, high=None, high_label=None) -> int:
    """Check an integer parameter, with inclusive bounds.

    Raises ``TypeError`` for a non-integer and ``ValueError`` out of range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name}={value} must be >= {low}")
    if high is not None and value > high:
        label = high_label or str(high)
        raise ValueError(f"{name}={value} must be <= {label}")
    return value


def check_real(name: str, value, *, low=None, strict=False, allow_none=False) -> float:
    """Check a finite real parameter with an optional lower bound.

    ``strict=True`` requires ``value > low``, otherwise ``value >= low``.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None:
        if strict and not value > low:
            raise ValueError(f"{name} must be > {low}, got {value}")
        if not strict and not value >= low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    return value


def check_latent_array(Z, n_components: int, *, name: str = "Z") -> np.ndarray:
    """Validate latent codes for ``inverse_transform``: finite, 2-D, ``n_components`` wide."""
    Z = check_array(Z, dtype=[np.float64, np.float32], input_name=name)
    if Z.shape[1] != n_components:
        raise ValueError(
            f"{name} has {Z.shape[1]} columns, but this estimator has "
            f"n_components={n_components}: inverse_transform expects latent codes of that width"
        )
    return Z
