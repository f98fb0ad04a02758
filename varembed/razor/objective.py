"""The training objective: negative ELBO per transition (or its MAP ablation).

For one-step pairs ``(x_t, x_{t+1})`` the likelihood is
``N(x_{t+1} | ODESolve(x_t, J grad H, dt), sigma^2 I)``, so

    -ELBO / N = E_q[ (M/2) ln(2 pi sigma^2) + |x_{t+1} - x_hat|^2 / (2 sigma^2) ]
                + KL(q(theta) || p(theta)) / N,

estimated with ``R`` weight samples, each with its own ``S`` group elements.
The MAP ablation replaces the expectation by the posterior mean and the KL by
the negative log prior of the mean weights (the Occam term removed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["ObjectiveTerms", "per_transition_nll", "gaussian_nll", "negative_elbo"]


@dataclass
class ObjectiveTerms:
    """The loss and its parts (per transition)."""

    loss: torch.Tensor
    nll: torch.Tensor
    kl: torch.Tensor
    mse: torch.Tensor


def per_transition_nll(target, prediction, var) -> torch.Tensor:
    """``-log N(target | prediction, var I)`` per pair (the last axis is the state)."""
    m = target.shape[-1]
    sq = ((target - prediction) ** 2).sum(dim=-1)
    return 0.5 * m * math.log(2.0 * math.pi * var) + sq / (2.0 * var)


def gaussian_nll(target, prediction, var) -> torch.Tensor:
    """Mean over samples and pairs of ``-log N(target | prediction, var I)``."""
    return per_transition_nll(target, prediction, var).mean()


def negative_elbo(
    hnn,
    x,
    y,
    dt,
    n_total,
    *,
    n_mc=1,
    n_sym=16,
    output_var=1e-3,
    prior_precision=1.0,
    objective="elbo",
    n_substeps=1,
    method="rk4",
    generator=None,
    create_graph=True,
) -> ObjectiveTerms:
    """``-ELBO / N`` on a batch of transitions ``x -> y`` (each ``(B, M)``).

    Parameters
    ----------
    hnn : SymmetricHNN
    x, y : Tensor of shape (B, M)
    dt : float or Tensor of shape (B, 1)
    n_total : int
        Number ``N`` of training transitions (scales the KL).
    objective : {"elbo", "map"}
    """
    mean = objective == "map"
    weights, group = hnn.draw(n_mc, n_sym, generator, mean=mean)
    r = weights[0].shape[0]
    start = x.expand(r, *x.shape)
    pred = hnn.step(start, dt, weights, group, n_substeps=n_substeps, method=method, create_graph=create_graph)
    nll = gaussian_nll(y, pred, output_var)
    mse = ((y - pred) ** 2).mean()
    if mean:
        kl = -hnn.network.log_prior(prior_precision)
    else:
        kl = hnn.kl(prior_precision)
    kl = kl / n_total
    return ObjectiveTerms(loss=nll + kl, nll=nll, kl=kl, mse=mse)
