"""User-supplied density models, and any density seen in standardised coordinates."""

from __future__ import annotations

import torch

from .base import Density

__all__ = ["UserDensity", "StandardizedDensity"]


class UserDensity(Density):
    """Adapter for a user's torch density model.

    Parameters
    ----------
    model : object or callable
        An object with ``log_prob(x)`` and/or ``score(x)`` methods taking and
        returning torch tensors (``(..., D) -> (...)`` and ``(..., D) ->
        (..., D)``), or a plain callable taken as ``log_prob``.  A missing
        score is obtained by autograd from ``log_prob``.
    dim : int
    """

    name = "user"

    def __init__(self, model, dim: int):
        self.model = model
        self.dim = int(dim)
        if callable(getattr(model, "log_prob", None)):
            self._log_prob = model.log_prob
        elif not callable(getattr(model, "score", None)) and callable(model):
            self._log_prob = model
        else:
            self._log_prob = None
        self._score = model.score if callable(getattr(model, "score", None)) else None
        if self._log_prob is None and self._score is None:
            raise ValueError("a density object needs a log_prob(x) or a score(x) method, or must be callable")
        self.has_log_prob = self._log_prob is not None

    @property
    def dtype(self):
        return getattr(self.model, "dtype", torch.float64)

    @property
    def device(self):
        return torch.device(getattr(self.model, "device", "cpu"))

    def to(self, device=None, dtype=None):
        """The user's model is not moved: it is used as it is."""
        return self

    def sample(self, n, generator):
        """The model's own ``sample(n, generator)`` if it has one."""
        if callable(getattr(self.model, "sample", None)):
            return self.model.sample(n, generator)
        raise NotImplementedError(
            "this density model has no sample(n, generator) method; diagnostics that need draws of "
            "p (symmetry search, the reference score scale) need one, or pass samples= / s_ref= explicitly"
        )

    def log_prob(self, x):
        if self._log_prob is None:
            raise NotImplementedError("this density model provides only a score; log p is unavailable")
        return self._log_prob(x)

    def score(self, x):
        if self._score is not None:
            return self._score(x)
        from torch.func import grad, vmap

        flat = x.reshape(-1, x.shape[-1])
        g = vmap(grad(lambda y: self._log_prob(y).sum()))(flat)
        return g.reshape(x.shape)

    def log_prob_and_score(self, x):
        if self._score is not None:
            with torch.no_grad():
                lp = self._log_prob(x) if self._log_prob is not None else None
                return lp, self._score(x)
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            lp = self._log_prob(xr)
            (g,) = torch.autograd.grad(lp.sum(), xr)
        return lp.detach(), g.detach()



class StandardizedDensity(Density):
    """A data-space density seen in standardised coordinates ``x = mean + scale * u``.

    ``log p_u(u) = log p(mean + scale u) + sum log scale`` and
    ``s_u(u) = scale * s(mean + scale u)``.
    """

    def __init__(self, base, mean: torch.Tensor, scale: torch.Tensor):
        self.base = base
        self.mean = mean
        self.scale = scale
        self.dim = base.dim
        self.name = getattr(base, "name", "user")
        self.has_log_prob = getattr(base, "has_log_prob", True)
        self._logjac = torch.log(scale).sum() if scale.ndim else self.dim * torch.log(scale)
        self._ref = None

    def to(self, device=None, dtype=None):
        return StandardizedDensity(
            self.base.to(device, dtype), self.mean.to(device=device, dtype=dtype), self.scale.to(device=device, dtype=dtype)
        )

    def _raw(self, u):
        return self.mean + self.scale * u

    def log_prob(self, u):
        return self.base.log_prob(self._raw(u)) + self._logjac

    def score(self, u):
        return self.scale * self.base.score(self._raw(u))

    def log_prob_and_score(self, u):
        lp, s = self.base.log_prob_and_score(self._raw(u))
        return (None if lp is None else lp + self._logjac), self.scale * s

    def training_sample(self, generator):
        """The base density's training sample, standardised."""
        x = self.base.training_sample(generator)
        return (x.to(self.mean) - self.mean) / self.scale

    def sample(self, n, generator):
        """Draws of the base density, standardised."""
        x = self.base.sample(n, generator)
        return (x.to(self.mean) - self.mean) / self.scale
