"""Small reproducible NLD experiments: data, a BatchNorm MLP, a tracked SGD loop, two regimes.

Used by the tests, ``examples/nld_batchnorm.py`` and ``python -m varembed nld``.
Every random choice flows from ``random_state`` through
:mod:`varembed._utils.random` (no global seeding).

:data:`REGIMES` are the two settings the demo shows side by side (measured in
``docs/nld.rst``): SGD without momentum, where every predictor holds, and
momentum 0.9 with minibatch noise, where the NLD closed form's assumption of
coherent gradients fails while the exact recursion and the modified equation
still hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch
from torch import nn

from .._utils.random import resolve_seed, spawn_seeds, torch_generator
from .registry import SymmetryReport, verify_symmetries
from .tracker import ChargeHistory, NoetherTracker
from .verdicts import Assessment, assess

__all__ = [
    "gaussian_mixture",
    "digits",
    "bn_mlp",
    "train",
    "REGIMES",
    "BatchNormExperiment",
    "run_batchnorm_experiment",
]


def gaussian_mixture(n_samples=4096, n_features=32, n_classes=5, noise=2.0, random_state=0,
                     dtype=torch.float64):
    """Overlapping Gaussian classes: means ``N(0, I)``, per-sample noise ``noise``.

    Returns
    -------
    X : Tensor (n_samples, n_features), y : LongTensor (n_samples,)
    """
    g = torch_generator(random_state)
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
    g = torch_generator(random_state)
    with torch.no_grad():
        for lin in (model[0], model[3]):
            bound = 1.0 / np.sqrt(lin.in_features)
            lin.weight.copy_((torch.rand(lin.weight.shape, generator=g, dtype=dtype) * 2 - 1) * bound)
            if lin.bias is not None:
                lin.bias.copy_((torch.rand(lin.bias.shape, generator=g, dtype=dtype) * 2 - 1) * bound)
    return model


def train(model, optimizer, X, y, steps, batch_size=None, random_state=0,
          loss_fn: Callable = nn.functional.cross_entropy, progress: Optional[str] = None) -> np.ndarray:
    """Plain training loop (minibatches drawn with replacement, or full batch).

    Parameters
    ----------
    batch_size : int or None
        ``None``: full batch every step.
    random_state : int, Generator or None
        The minibatch stream.
    progress : str, optional
        Show a tqdm bar over the steps with this label (on stderr).

    Returns
    -------
    ndarray (steps,) of the minibatch losses.
    """
    g = torch_generator(random_state)
    losses = np.empty(steps)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=progress, unit="step", leave=False)
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
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return losses


#: The demo's two settings: name -> (description, SGD settings).  Both train the
#: same model on the same minibatch stream for the same number of steps.
REGIMES = {
    "coherent": ("SGD without momentum: every update is the minibatch gradient (kappa = 1)",
                 dict(lr=0.05, momentum=0.0, weight_decay=1e-3, batch_size=128)),
    "noisy": ("momentum 0.9 with minibatch noise: the noise cancels in the momentum buffer (kappa << 1)",
              dict(lr=0.05, momentum=0.9, weight_decay=1e-3, batch_size=128)),
}


@dataclass(frozen=True)
class BatchNormExperiment:
    """Result of :func:`run_batchnorm_experiment`.

    Attributes
    ----------
    regime : str
        Name in :data:`REGIMES` (``"custom"`` when settings were overridden).
    description : str
    params : dict
        Every setting of the run.
    symmetry : SymmetryReport
        The registry's check of the model before training.
    assessment : Assessment
        Predictions, errors and verdicts for the BatchNorm scale family
        (``assessment.history`` holds the record).
    losses : ndarray (steps,)
    """

    regime: str
    description: str
    params: dict
    symmetry: SymmetryReport
    assessment: Assessment
    losses: np.ndarray

    @property
    def history(self) -> ChargeHistory:
        """The recorded scale family."""
        return self.assessment.history


def run_batchnorm_experiment(regime: str = "coherent", *, steps: int = 2000, hidden: int = 32, eps: float = 1e-5,
                             random_state=0, progress: bool = False, **settings) -> BatchNormExperiment:
    """Train a BatchNorm MLP on ``load_digits`` with SGD and judge the predictions of ``|w_i|^2``.

    Parameters
    ----------
    regime : {"coherent", "noisy"}, default="coherent"
        Start from these settings of :data:`REGIMES`.
    steps : int, default=2000
        SGD steps (``t = steps * lr``).
    hidden : int, default=32
        BatchNorm channels, one scale group each.
    eps : float, default=1e-5
        BatchNorm ``eps``: it breaks the scale symmetry at O(eps/var), which
        limits the exact recursion (``1e-12`` makes it round-off exact).
    random_state : int, Generator or None, default=0
        Model, probe batches and minibatch stream (independent streams).
    progress : bool, default=False
        tqdm bar over the SGD steps.
    **settings
        Override ``lr``, ``momentum``, ``weight_decay`` or ``batch_size``
        (``None``: full batch) of the regime.

    Returns
    -------
    BatchNormExperiment

    Notes
    -----
    The scale family is checked with :func:`~varembed.nld.registry.verify_symmetries`;
    with BatchNorm ``eps > 0`` it is violated at O(eps/var) and tracked anyway.
    """
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {sorted(REGIMES)}, got {regime!r}")
    description, params = REGIMES[regime]
    unknown = set(settings) - set(params)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; can override {sorted(params)}")
    if any(settings[k] != params[k] for k in settings):
        regime, description = "custom", f"{regime} regime with {', '.join(f'{k}={v}' for k, v in settings.items())}"
    params = dict(params, **settings)
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    seed_model, seed_probe, seed_train = spawn_seeds(resolve_seed(random_state), 3)
    X, y = digits()
    model = bn_mlp(X.shape[1], hidden, 10, eps=eps, random_state=seed_model)
    g = torch_generator(seed_probe)
    probe = [(X[idx], y[idx]) for idx in (torch.randperm(X.shape[0], generator=g)[:128] for _ in range(4))]
    report = verify_symmetries(model, probe)
    scale = [f for f in report.families if f.kind == "scale"]
    opt = torch.optim.SGD(model.parameters(), lr=params["lr"], momentum=params["momentum"],
                          weight_decay=params["weight_decay"])
    tracker = NoetherTracker(model, opt, scale)
    losses = train(model, opt, X, y, steps, batch_size=params["batch_size"], random_state=seed_train,
                   progress=f"{regime}: SGD" if progress else None)
    tracker.remove()
    return BatchNormExperiment(regime=regime, description=description,
                               params=dict(params, steps=steps, hidden=hidden, eps=eps),
                               symmetry=report, assessment=assess(tracker.history()[0]), losses=losses)
