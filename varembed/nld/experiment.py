"""Small reproducible NLD experiments: data, a BatchNorm MLP, a tracked SGD loop.

Used by the tests, ``examples/nld_batchnorm.py`` and ``python -m varembed nld``.
Every random choice flows from ``random_state`` through a private
``torch.Generator`` (no global seeding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional

import numpy as np
import torch
from torch import nn

from .predictors import predict_discrete, predict_modified_equation, predict_nld, relative_error
from .registry import verify_symmetries
from .tracker import ChargeHistory, NoetherTracker

__all__ = [
    "gaussian_mixture",
    "digits",
    "bn_mlp",
    "train",
    "BatchNormExperiment",
    "run_batchnorm_experiment",
    "plot_batchnorm_experiment",
]


def _generator(random_state) -> torch.Generator:
    return torch.Generator().manual_seed(int(random_state))


def gaussian_mixture(n_samples=4096, n_features=32, n_classes=5, noise=2.0, random_state=0,
                     dtype=torch.float64):
    """Overlapping Gaussian classes: means ``N(0, I)``, per-sample noise ``noise``.

    Returns
    -------
    X : Tensor (n_samples, n_features), y : LongTensor (n_samples,)
    """
    g = _generator(random_state)
    means = torch.randn(n_classes, n_features, generator=g, dtype=dtype)
    y = torch.randint(0, n_classes, (n_samples,), generator=g)
    X = means[y] + noise * torch.randn(n_samples, n_features, generator=g, dtype=dtype)
    return X, y


def digits(dtype=torch.float64):
    """``sklearn.datasets.load_digits``, standardised (constant pixels left at 0)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    sd = X.std(0)
    X = (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)
    return torch.as_tensor(X, dtype=dtype), torch.as_tensor(y, dtype=torch.long)


def bn_mlp(n_in, hidden, n_out, eps=1e-5, random_state=0, dtype=torch.float64) -> nn.Sequential:
    """``Linear(n_in, hidden, bias=False) -> BatchNorm1d(eps) -> ReLU -> Linear(hidden, n_out)``.

    Linear weights are drawn ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` from ``random_state``.
    """
    model = nn.Sequential(
        nn.Linear(n_in, hidden, bias=False), nn.BatchNorm1d(hidden, eps=eps), nn.ReLU(), nn.Linear(hidden, n_out)
    ).to(dtype)
    g = _generator(random_state)
    with torch.no_grad():
        for lin in (model[0], model[3]):
            bound = 1.0 / np.sqrt(lin.in_features)
            lin.weight.copy_((torch.rand(lin.weight.shape, generator=g, dtype=dtype) * 2 - 1) * bound)
            if lin.bias is not None:
                lin.bias.copy_((torch.rand(lin.bias.shape, generator=g, dtype=dtype) * 2 - 1) * bound)
    return model


def train(model, optimizer, X, y, steps, batch_size=None, random_state=0,
          loss_fn: Callable = nn.functional.cross_entropy) -> np.ndarray:
    """Plain training loop (minibatches drawn with replacement, or full batch).

    Returns
    -------
    ndarray (steps,) of the minibatch losses.
    """
    g = _generator(random_state)
    losses = np.empty(steps)
    for n in range(steps):
        if batch_size is None:
            xb, yb = X, y
        else:
            idx = torch.randint(0, X.shape[0], (batch_size,), generator=g)
            xb, yb = X[idx], y[idx]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses[n] = loss.item()
    return losses


@dataclass
class BatchNormExperiment:
    """Result of :func:`run_batchnorm_experiment`.

    Attributes
    ----------
    history : ChargeHistory
        The scale family of the BatchNorm layer.
    discrete, modified_equation, nld : ndarray (steps + 1, hidden)
        Predicted ``|w_i|^2`` per channel.
    kappa : ndarray (steps, hidden)
    errors : dict
        Max relative errors of the three predictions.
    report : str
        The symmetry verification summary.
    losses : ndarray
    """

    history: ChargeHistory
    discrete: np.ndarray
    modified_equation: np.ndarray
    nld: np.ndarray
    kappa: np.ndarray
    errors: dict
    report: str
    losses: np.ndarray
    params: dict


def run_batchnorm_experiment(steps=2000, lr=0.05, momentum=0.9, weight_decay=1e-3, hidden=32,
                             batch_size=128, eps=1e-5, random_state=0) -> BatchNormExperiment:
    """Train a BatchNorm MLP on ``load_digits`` with SGD and predict ``|w_i|^2`` per channel.

    The scale family is checked with :func:`~varembed.nld.registry.verify_symmetries`;
    with BatchNorm ``eps > 0`` it is violated at O(eps/var) (listed in ``report``)
    and tracked anyway, since the predictions stay accurate at that level.
    """
    import warnings

    X, y = digits()
    model = bn_mlp(X.shape[1], hidden, 10, eps=eps, random_state=random_state)
    g = _generator(random_state + 1)
    probe = [(X[idx], y[idx]) for idx in (torch.randperm(X.shape[0], generator=g)[:batch_size] for _ in range(4))]
    rep = verify_symmetries(model, probe)
    scale = [f for f in rep.families if f.kind == "scale"]
    if not scale:
        raise ValueError("the model has no scale family")
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    tracker = NoetherTracker(model, opt, scale)
    losses = train(model, opt, X, y, steps, batch_size=batch_size, random_state=random_state + 2)
    tracker.remove()
    h = tracker.history()[0]
    disc, me = predict_discrete(h), predict_modified_equation(h)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        nld = predict_nld(h)
    errors = {name: relative_error(p, h.charge) for name, p in
              (("discrete", disc), ("modified_equation", me), ("nld", nld.r2))}
    return BatchNormExperiment(history=h, discrete=disc, modified_equation=me, nld=nld.r2, kappa=nld.kappa,
                               errors=errors, report="\n".join([rep.summary()] + rep.violations()), losses=losses,
                               params=dict(steps=steps, lr=lr, momentum=momentum, weight_decay=weight_decay,
                                           hidden=hidden, batch_size=batch_size, eps=eps))


def plot_batchnorm_experiment(result: BatchNormExperiment, path, channels: Optional[List[int]] = None):
    """Measured against predicted ``|w_i|^2`` for a few channels, written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h, p = result.history, result.params
    t = p["lr"] * np.arange(h.charge.shape[0])
    channels = channels if channels is not None else list(range(min(6, h.charge.shape[1])))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, c in enumerate(channels):
        col = f"C{i}"
        axes[0].plot(t, h.charge[:, c], color=col, lw=2.2, alpha=0.45, label="measured" if i == 0 else None)
        axes[0].plot(t, result.modified_equation[:, c], color=col, lw=0.9, ls="--",
                     label="modified equation (measured |v|$^2$)" if i == 0 else None)
        axes[0].plot(t, result.nld[:, c], color=col, lw=0.8, ls=":", label="NLD closed form" if i == 0 else None)
    axes[0].set_xlabel("t = n $\\eta$")
    axes[0].set_ylabel("$|w_i|^2$ (scale charge per BN channel)")
    axes[0].set_title(f"SGD $\\eta$={p['lr']}, $\\beta$={p['momentum']}, k={p['weight_decay']}")
    axes[0].legend(fontsize=8)
    rel = np.abs(result.modified_equation - h.charge) / np.abs(h.charge)
    axes[1].semilogy(t, rel.max(1), label="modified equation")
    axes[1].semilogy(t, (np.abs(result.discrete - h.charge) / np.abs(h.charge)).max(1) + 1e-17,
                     label="exact recursion")
    axes[1].semilogy(t, (np.abs(result.nld - h.charge) / np.abs(h.charge)).max(1), label="NLD closed form")
    axes[1].set_xlabel("t = n $\\eta$")
    axes[1].set_ylabel("max relative error over channels")
    axes[1].set_title(f"median coherence $\\kappa$ = {np.nanmedian(result.kappa):.2f}")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
