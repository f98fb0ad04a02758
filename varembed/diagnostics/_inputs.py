"""Reading a fitted estimator and choosing latent sample points."""

from __future__ import annotations

import numbers

import numpy as np
import torch

__all__ = [
    "resolve_estimator", "latent_points", "torch_generator", "reference_score_scale", "density_samples",
    "box_faces", "batched_field_jet",
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


def batched_field_jet(estimator):
    """The estimator's own batched second-order jet of its map, or ``None``.

    Estimators whose fitted map (``module_``) has a forward-mode
    ``jet(z, order=2)`` (:class:`~varembed.embedding.maps.SmoothMLPMap`) get a
    function ``z (n, d) -> (phi, J, H)`` with ``H`` of shape ``(n, D, d, d)``;
    it is an order of magnitude faster than nested ``torch.func.jacfwd`` and
    gives the same numbers (tested).
    """
    module = getattr(estimator, "module_", None)
    if module is None or not callable(getattr(module, "jet", None)):
        return None
    from ..embedding.jets import second_order_pairs

    def field_jet(z):
        with torch.no_grad():
            jet = module.jet(z, order=2)
        n, dim, d = jet.jacobian.shape
        hess = z.new_zeros((n, dim, d, d))
        for k, (i, j) in enumerate(second_order_pairs(d)):
            hess[:, :, i, j] = jet.hessian[:, :, k]
            hess[:, :, j, i] = jet.hessian[:, :, k]
        return jet.value, jet.jacobian, hess

    return field_jet


def torch_generator(random_state) -> torch.Generator:
    """A private CPU ``torch.Generator`` from ``random_state`` (never the global RNG)."""
    gen = torch.Generator()
    if random_state is None:
        gen.seed()
    elif isinstance(random_state, torch.Generator):
        return random_state
    elif isinstance(random_state, np.random.RandomState):
        gen.manual_seed(int(random_state.randint(0, 2**31 - 1)))
    elif isinstance(random_state, np.random.Generator):
        gen.manual_seed(int(random_state.integers(0, 2**63 - 1)))
    elif isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        gen.manual_seed(int(random_state))
    else:
        raise TypeError(
            "random_state must be None, an int, a numpy Generator/RandomState or a torch.Generator, "
            f"got {type(random_state).__name__}"
        )
    return gen


def _dtype_device(functional):
    """Where the latent points go: the functional's own ``dtype`` / ``device`` (set by the
    estimators), else the first tensor held by the density, else float64 on the CPU."""
    dtype, device = getattr(functional, "dtype", None), getattr(functional, "device", None)
    if dtype is not None and device is not None:
        return dtype, device
    dens = functional.density
    named = [getattr(dens, name, None) for name in ("mean", "centres", "centers", "points", "means")]
    for t in named + list(vars(dens).values() if hasattr(dens, "__dict__") else []):
        if isinstance(t, torch.Tensor) and t.is_floating_point():
            return dtype or t.dtype, device or t.device
    return dtype or torch.float64, device or torch.device("cpu")


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


def reference_score_scale(density, n_samples: int = 4096, random_state=0) -> float:
    """``S_ref = sqrt(E_{x~p} |s(x)|^2)``, the fixed score scale of ``rho_EL``.

    Uses ``density.score_norm_sq()`` when it is finite (Gaussian: ``tr C^{-1}``
    in closed form), otherwise a Monte Carlo mean over
    :func:`density_samples`; ``nan`` for a density that can be neither asked
    nor sampled (a bare score model).
    """
    if callable(getattr(density, "score_norm_sq", None)):
        value = float(density.score_norm_sq())
        if np.isfinite(value):
            return float(np.sqrt(value))
    x = density_samples(density, int(n_samples), torch_generator(random_state))
    if x is None:
        return float("nan")
    from .jet import score_and_log_prob

    _, s = score_and_log_prob(density, x, False, 1024)
    return float(torch.sqrt((s**2).sum(-1).mean()))


def density_samples(density, n: int, generator: torch.Generator):
    """Draw ``n`` points from a data density of a known kind, or ``None``.

    Understands densities with ``sample(n, generator)``, Gaussian KDEs
    (``centres``, ``bandwidth``), Gaussians (``mean``, ``cholesky_``), Gaussian
    mixtures (``weights``, ``means``, ``precision_cholesky``) and standardised
    wrappers (``base``, ``mean``, ``scale``).
    """
    if callable(getattr(density, "sample", None)):
        return density.sample(n, generator)
    base = getattr(density, "base", None)
    if base is not None and hasattr(density, "scale") and hasattr(density, "mean"):
        x = density_samples(base, n, generator)
        return None if x is None else (x - density.mean.to(x)) / density.scale.to(x)
    if hasattr(density, "centres") and hasattr(density, "bandwidth"):
        cen = density.centres.detach().cpu().to(torch.float64)
        idx = torch.randint(0, cen.shape[0], (n,), generator=generator)
        eps = torch.randn(n, cen.shape[1], generator=generator, dtype=torch.float64)
        return (cen[idx] + density.bandwidth * eps).to(density.centres)
    if hasattr(density, "cholesky_") and hasattr(density, "mean"):
        chol = density.cholesky_.detach().cpu().to(torch.float64)
        eps = torch.randn(n, chol.shape[0], generator=generator, dtype=torch.float64)
        return (density.mean.detach().cpu().to(torch.float64) + eps @ chol.T).to(density.mean)
    if all(hasattr(density, a) for a in ("weights", "means", "precision_cholesky")):
        w = density.weights.detach().cpu().to(torch.float64)
        comp = torch.multinomial(w, n, replacement=True, generator=generator)
        eps = torch.randn(n, density.means.shape[1], 1, generator=generator, dtype=torch.float64)
        lt = density.precision_cholesky.detach().cpu().to(torch.float64)[comp].transpose(-1, -2)
        mu = density.means.detach().cpu().to(torch.float64)[comp]
        return (mu + torch.linalg.solve_triangular(lt, eps, upper=True).squeeze(-1)).to(density.means)
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
