"""Reading a fitted estimator and choosing latent sample points."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .._utils.random import torch_generator

__all__ = [
    "resolve_estimator", "latent_points", "torch_generator", "reference_score_scale", "density_samples",
    "box_faces", "batched_field_jet", "prepare",
]


def resolve_estimator(estimator):
    """``(functional, field)`` of a fitted embedding estimator.

    Raises
    ------
    TypeError
        If ``estimator`` does not offer ``functional()`` and ``field()``.
    sklearn.exceptions.NotFittedError
        (a ``ValueError``) if it is not fitted.
    """
    if not (callable(getattr(estimator, "functional", None)) and callable(getattr(estimator, "field", None))):
        raise TypeError(
            "diagnostics need a fitted embedding estimator with functional() and field() methods "
            f"(e.g. LinearVariationalEmbedding or VariationalEmbedding), got {type(estimator).__name__}"
        )
    functional = estimator.functional()
    field = estimator.field()
    return functional, field


def prepare(estimator, method: str, methods, z, n_samples, random_state):
    """Check ``method`` and return ``(functional, field, latent points)`` of a fitted estimator."""
    if method not in methods:
        raise ValueError(f"method must be one of {list(methods)}, got {method!r}")
    functional, field = resolve_estimator(estimator)
    return functional, field, latent_points(functional, z, n_samples, random_state)


def batched_field_jet(estimator):
    """The estimator's own batched second-order jet of its map, or ``None``.

    Estimators whose fitted map (``map_``) has a forward-mode ``jet(z, order=2)``
    (:class:`~varembed.embedding.maps.SmoothMLPMap`) get a function
    ``z (n, d) -> (phi, J, H)`` with ``H`` of shape ``(n, D, d, d)``; it is an
    order of magnitude faster than nested ``torch.func.jacfwd`` and gives the
    same numbers (tested).
    """
    module = getattr(estimator, "map_", None)
    if module is None or not callable(getattr(module, "jet", None)):
        return None
    from ..embedding.maps import unpack_hessian

    def field_jet(z):
        with torch.no_grad():
            jet = module.jet(z, order=2)
        return jet.value, jet.jacobian, unpack_hessian(jet.hessian, z.shape[-1])

    return field_jet


def _dtype_device(functional):
    """Where the latent points go: the functional's ``dtype`` / ``device`` (float64 on the CPU if unset)."""
    dtype = getattr(functional, "dtype", None) or torch.float64
    device = getattr(functional, "device", None) or torch.device("cpu")
    return dtype, device


def latent_points(functional, z=None, n_samples: int = 1024, random_state=None) -> torch.Tensor:
    """Latent points: the given ``z`` (validated) or ``n_samples`` draws from the prior.

    Parameters
    ----------
    functional : EmbeddingFunctional
    z : array-like of shape (n, d), optional
    n_samples : int
    random_state : int, Generator or None

    Returns
    -------
    Tensor of shape (n, d)
    """
    d = functional.prior.dim
    dtype, device = _dtype_device(functional)
    if z is not None:
        zt = torch.as_tensor(np.asarray(z, dtype=np.float64) if not isinstance(z, torch.Tensor) else z)
        if zt.ndim != 2 or zt.shape[1] != d:
            raise ValueError(f"z must have shape (n_points, {d}) for this {d}-dimensional latent space, "
                             f"got {tuple(zt.shape)}")
        if zt.shape[0] == 0 or not bool(torch.isfinite(zt).all()):
            raise ValueError("z must contain at least one point and only finite values")
        return zt.to(dtype=dtype, device=device)
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    gen = torch_generator(random_state)
    return functional.prior.sample(int(n_samples), gen, dtype=dtype).to(device)


def reference_score_scale(density) -> float:
    """``S_ref = sqrt(E_{x~p} |s(x)|^2)``, the fixed score scale of ``rho_EL``.

    From ``density.score_norm_sq()`` (closed form for a Gaussian, Monte Carlo
    over the density's own samples otherwise); ``nan`` for a density that can
    be neither asked nor sampled (a bare score model).
    """
    try:
        value = float(density.score_norm_sq())
    except (NotImplementedError, AttributeError):
        x = density_samples(density, 4096, torch.Generator().manual_seed(0))
        if x is None:
            return float("nan")
        from .jet import score_and_log_prob

        _, s = score_and_log_prob(density, x, False, 1024)
        value = float((s.double() ** 2).sum(-1).mean())
    return float(np.sqrt(value)) if np.isfinite(value) else float("nan")


def density_samples(density, n: int, generator: torch.Generator):
    """``n`` draws of the data density (``density.sample``), or ``None`` when it cannot be sampled."""
    try:
        return density.sample(n, generator)
    except (NotImplementedError, AttributeError):
        return None


def box_faces(prior, n_samples, gen):
    """Random points on the faces of a uniform box prior and their outward unit normals."""
    z = prior.sample(n_samples, gen)
    d = z.shape[1]
    axis = torch.randint(0, d, (n_samples,), generator=gen)
    sign = torch.where(torch.rand(n_samples, generator=gen, dtype=z.dtype) < 0.5, -1.0, 1.0).to(z.dtype)
    rows = torch.arange(n_samples)
    z[rows, axis] = sign * prior.scale
    normal = torch.zeros_like(z)
    normal[rows, axis] = sign
    return z, normal
