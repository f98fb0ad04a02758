"""Infinitesimal isometries of the data space and of the latent space.

* :class:`DataIsometry` ``eta(x) = B x + c`` with ``B`` antisymmetric (``D x D``):
  a vertical transformation of the embedding ``phi -> phi + eps (B phi + c)``.
* :class:`LatentIsometry` ``xi(z) = A z + b`` with ``A`` antisymmetric (``d x d``):
  a horizontal transformation (reparameterisation) ``z -> z + eps (A z + b)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DataIsometry", "LatentIsometry", "as_generator", "generator_angle", "SPACES"]

SPACES = ("data", "latent")


def _check_matrix(name: str, mat, n: int, atol: float) -> np.ndarray:
    try:
        m = np.asarray(mat, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real {n} x {n} matrix, got {type(mat).__name__}") from exc
    if m.shape != (n, n):
        raise ValueError(f"{name} must have shape ({n}, {n}), got {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} contains NaN or inf")
    scale = max(float(np.abs(m).max()), 1.0)
    if np.abs(m + m.T).max() > atol * scale:
        raise ValueError(f"{name} must be antisymmetric (an isometry generator): max |{name} + {name}^T| = "
                         f"{np.abs(m + m.T).max():.3g}")
    return m


def _check_vector(name: str, vec, n: int) -> np.ndarray:
    v = np.zeros(n) if vec is None else np.asarray(vec, dtype=np.float64)
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or inf")
    return v


@dataclass(frozen=True)
class _Isometry:
    """An affine Killing field ``v(x) = matrix @ x + shift`` (``matrix`` antisymmetric)."""

    matrix: np.ndarray
    shift: np.ndarray

    space = ""
    _names = ("M", "m")

    @classmethod
    def make(cls, matrix, shift=None, dim=None, atol=1e-10):
        """Validated construction; ``dim`` defaults to the matrix's size."""
        dim = np.shape(matrix)[0] if dim is None else dim
        mat_name, shift_name = cls._names
        return cls(_check_matrix(mat_name, matrix, dim, atol), _check_vector(shift_name, shift, dim))


class DataIsometry(_Isometry):
    """Data-space Killing field ``eta(x) = B x + c`` (``B^T = -B``)."""

    space = "data"
    _names = ("B", "c")

    @property
    def B(self) -> np.ndarray:  # noqa: N802 (the research note's symbol)
        """The antisymmetric ``D x D`` part."""
        return self.matrix

    @property
    def c(self) -> np.ndarray:
        """The translation."""
        return self.shift


class LatentIsometry(_Isometry):
    """Latent Killing field ``xi(z) = A z + b`` (``A^T = -A``)."""

    space = "latent"
    _names = ("A", "b")

    @property
    def A(self) -> np.ndarray:  # noqa: N802
        """The antisymmetric ``d x d`` part."""
        return self.matrix

    @property
    def b(self) -> np.ndarray:
        """The translation."""
        return self.shift


def as_generator(generator, space: str, data_dim: int, latent_dim: int):
    """Normalise a user's generator to a validated isometry of ``space``.

    Parameters
    ----------
    generator : DataIsometry, LatentIsometry, ndarray or tuple
        A matrix (``B`` or ``A``), a pair ``(matrix, shift)``, or an isometry object.
    space : {"data", "latent"}
    data_dim, latent_dim : int
        ``D`` and ``d``.

    Returns
    -------
    DataIsometry or LatentIsometry

    Raises
    ------
    ValueError
        Unknown space, wrong shape, non-antisymmetric matrix, or an isometry of the other space.
    """
    if space not in SPACES:
        raise ValueError(f"space must be one of {list(SPACES)}, got {space!r}")
    cls, dim = (DataIsometry, data_dim) if space == "data" else (LatentIsometry, latent_dim)
    if isinstance(generator, _Isometry):
        if generator.space != space:
            raise ValueError(f"got a {generator.space}-space generator for space={space!r}")
        matrix, shift = generator.matrix, generator.shift
    elif isinstance(generator, tuple):
        if len(generator) != 2:
            raise ValueError("a generator tuple must be (matrix, shift)")
        matrix, shift = generator
    else:
        matrix, shift = generator, None
    return cls.make(matrix, shift, dim=dim)


def generator_angle(a, b) -> float:
    """Angle (radians, in ``[0, pi/2]``) between two generators as vectors (Frobenius; the sign is irrelevant)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    cos = abs(np.sum(a * b)) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300)
    return float(np.arccos(min(1.0, cos)))
