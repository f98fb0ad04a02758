"""The density protocol of the embedding functional, and the score surrogate.

A data density ``p`` of :class:`~varembed.VariationalEmbedding` (and of the
diagnostics) is a :class:`Density`:

* ``log_prob(x)`` and ``score(x) = grad_x log p(x)`` on tensors with leading
  batch axes (a single point ``(D,)`` too), differentiable and usable inside
  :func:`torch.func.vmap`;
* ``log_prob_and_score(x)`` -- the batched, chunked fast path without
  autograd (``log_prob`` part ``None`` for a score-only model);
* ``sample(n, generator)`` -- draws from ``p`` with a private generator
  (diagnostics need samples of the density, never the training data);
* ``training_sample(generator)`` -- the data the density was built from (a
  KDE: its centres), or a sample of the same size drawn from it (a fitted
  parametric family); optional, the calibrated symmetry tests use it;
* ``to(device, dtype)`` -- a copy elsewhere;
* ``score_norm_sq()`` -- the reference scale ``E_{x~p} |s(x)|^2`` of the
  Euler-Lagrange residual.

To add a density family: subclass :class:`Density` in a new file of this
package, implement the abstract methods, and (optionally) give it a name in
:func:`~varembed.embedding.densities.make_density`.

:func:`log_prob_with_score` turns a density into a differentiable ``log p``
whose backward pass is the score: no autograd graph through the centres of a
KDE (memory ``O(B D)``), and a score-only model (a diffusion model's score
at a small noise level) can drive a fit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

__all__ = ["Density", "log_prob_with_score", "SCORE_NORM_SAMPLES"]

#: Monte-Carlo sample size (fixed seed) of the reference score scale ``E_p |s|^2``.
SCORE_NORM_SAMPLES = 4096


class Density(ABC):
    """A data density ``p(x)`` on ``R^D`` with its score.

    Attributes
    ----------
    name : str
        Short family name (``"gaussian"``, ``"kde"``, ``"gmm"``, ``"user"``).
    dim : int
        ``D``.
    has_log_prob : bool
        False for score-only models: ``log_prob`` then raises and the
        objective can be trained but not reported.
    """

    name = "density"
    has_log_prob = True

    @abstractmethod
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x)`` over the last axis; differentiable and vmappable."""

    @abstractmethod
    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``grad_x log p(x)``, same shape as ``x``; differentiable and vmappable."""

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` draws ``(n, D)`` on the density's device and dtype, from a private CPU generator."""

    @abstractmethod
    def to(self, device=None, dtype=None) -> "Density":
        """A copy of the density on another device and/or dtype."""

    #: Name of the tensor attribute whose dtype and device are the density's.
    _tensor_attr = "mean"

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the density's tensors."""
        return getattr(self, self._tensor_attr).dtype

    @property
    def device(self) -> torch.device:
        """Device of the density's tensors."""
        return getattr(self, self._tensor_attr).device

    def training_sample(self, generator: torch.Generator) -> torch.Tensor:
        """The data it was built from, or as many draws from itself; ``NotImplementedError`` if unknown."""
        n = getattr(self, "n_samples", None)
        if n is None:
            raise NotImplementedError(f"{type(self).__name__} does not know the size of the data it was built from")
        return self.sample(int(n), generator)

    @torch.no_grad()
    def log_prob_and_score(self, x: torch.Tensor, chunk: int = 65536):
        """``(log p(x) or None, s(x))`` for a batch ``(B, D)`` without autograd, in chunks."""
        lps, scores = [], []
        for start in range(0, x.shape[0], chunk):
            xc = x[start : start + chunk]
            lps.append(self.log_prob(xc) if self.has_log_prob else None)
            scores.append(self.score(xc))
        lp = torch.cat(lps) if self.has_log_prob and lps else None
        return lp, (torch.cat(scores) if scores else x.new_zeros(x.shape))

    def score_norm_sq(self, n_samples: int = SCORE_NORM_SAMPLES, seed: int = 0) -> float:
        """Monte-Carlo ``E_{x~p} |s(x)|^2`` on ``n_samples`` draws with a fixed seed (deterministic)."""
        gen = torch.Generator().manual_seed(seed)
        x = self.sample(n_samples, gen)
        _, s = self.log_prob_and_score(x)
        return float((s.double() ** 2).sum(-1).mean())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={getattr(self, 'dim', '?')})"


class _LogProbWithScore(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, density):
        lp, s = density.log_prob_and_score(x.detach())
        ctx.save_for_backward(s)
        if lp is None:
            lp = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
        return lp

    @staticmethod
    def backward(ctx, grad_out):
        (s,) = ctx.saved_tensors
        return grad_out.unsqueeze(-1) * s, None


def log_prob_with_score(density: Density, x: torch.Tensor) -> torch.Tensor:
    """``log p(x)`` for a batch ``(B, D)`` whose gradient is the score ``s(x)`` (memory ``O(B D)``).

    For a score-only density the value is zero but the gradient is still the
    score, so the training loss has the right gradient (the score-only
    surrogate ``stopgrad(s) . phi``).
    """
    return _LogProbWithScore.apply(x, density)
