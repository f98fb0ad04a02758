"""Optimisation of the embedding functional for a neural map.

The objective, per latent sample ``z``, is the Lagrangian of
:mod:`varembed.embedding.functional` evaluated on one forward-mode jet of
the map (:meth:`SmoothMLPMap.jet`), with ``log p`` through
:func:`~varembed.embedding.densities.log_prob_with_score`, whose backward
pass is the score (no graph through the KDE centres).

Training (:func:`train_adam`):

* Adam on fresh Monte-Carlo batches ``z ~ q`` drawn from a private generator;
* learning-rate schedule ``"warmup"`` (a linear warm-up over
  :data:`WARMUP_STEPS` steps, then constant: independent of the budget,
  except that a fit which reaches ``max_iter`` unconverged decays linearly
  over its last :data:`DECAY_STEPS` steps),
  ``"cosine"`` (warm-up over 2% of the steps, cosine decay to 0.1%),
  ``"constant"`` or ``"step"``;
* global gradient-norm clipping;
* convergence: the objective on a *fixed* held-out Monte-Carlo set of latent
  points (common random numbers, so successive evaluations are comparable)
  is evaluated every ``eval_every`` steps; when the mean of the last
  ``window`` evaluations exceeds the mean of the ``window`` before by less
  than ``tol`` (relative), the fit has converged: the learning rate then
  decays linearly to zero over :data:`DECAY_STEPS` steps and training stops.
  ``max_iter`` is only a ceiling, so a larger budget gives the same fit;
* a tqdm progress bar when ``verbose`` and a user ``callback``.

Optional deterministic polish (:func:`polish_lbfgs`): full-batch L-BFGS with
strong-Wolfe line search on the prior's fixed quadrature set, which drives
the Euler-Lagrange residual much lower than stochastic training can.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch

from .._utils.schedule import cosine_factor
from .densities import log_prob_with_score

__all__ = ["TrainingObjective", "train_adam", "polish_lbfgs", "SCHEDULES", "WARMUP_FRACTION", "FINAL_LR_FACTOR",
           "WARMUP_STEPS", "DECAY_STEPS"]

SCHEDULES = ("warmup", "cosine", "constant", "step")
#: Warm-up steps of the ``"warmup"`` schedule (then constant).
WARMUP_STEPS = 50
#: Steps of linear learning-rate decay to zero once the convergence check fires.
DECAY_STEPS = 100
#: Fraction of the steps with a linear learning-rate warm-up (cosine schedule).
WARMUP_FRACTION = 0.02
#: The cosine schedule decays the rate to this fraction of ``learning_rate``.
FINAL_LR_FACTOR = 1e-3


@dataclass
class TrainingObjective:
    """The sample-wise objective of a map: the functional's Lagrangian on one jet.

    Parameters
    ----------
    module : SmoothMLPMap
    functional : EmbeddingFunctional
        Prior, density and the Lagrangian (continuity, bending, jitter).
    bending : {"exact", "hutchinson"}
        How training steps estimate the bending energy (when ``smoothness > 0``):
        all ``d (d + 1) / 2`` second derivatives, or one mixed second
        derivative along random sign vectors per point (unbiased, ``2 + d``
        jet rows instead of ``1 + d + d (d + 1) / 2``).  Evaluation and the
        L-BFGS polish always use the exact form.
    """

    module: torch.nn.Module
    functional: object
    bending: str = "exact"

    @property
    def prior(self):
        return self.functional.prior

    def bending_directions(self, batch: int, generator: torch.Generator, dtype, device):
        """Rademacher ``(v, w)`` of shape ``(batch, d)`` for a Hutchinson step, or ``None`` (exact bending)."""
        if self.functional.smoothness <= 0 or self.bending != "hutchinson":
            return None
        signs = torch.randint(0, 2, (2, batch, self.prior.dim), generator=generator, device=generator.device)
        signs = (2 * signs - 1).to(dtype=dtype, device=device)
        return signs[0], signs[1]

    def pointwise(self, z: torch.Tensor, directions=None) -> torch.Tensor:
        """``L(z)`` for a batch ``(B, d)``, differentiable w.r.t. the parameters.

        ``directions``: ``(v, w)`` from :meth:`bending_directions` for the
        unbiased one-row bending estimate; ``None`` for the exact bending.
        """
        lag = self.functional.lagrangian
        if lag.smoothness > 0 and directions is not None:
            jet, packed = self.module.mixed_jet(z, *directions), "mixed"
        else:
            jet, packed = self.module.jet(z, order=2 if lag.smoothness > 0 else 1), "pairs"
        log_p = log_prob_with_score(self.functional.density, jet.value)
        value = lag.value(log_p, jet.jacobian, jet.hessian, packed)
        if self.functional.anchor is not None:
            value = value + self.functional.anchor.value(z, jet.value)
        return value

    def mean(self, z: torch.Tensor, weights=None, directions=None) -> torch.Tensor:
        f = self.pointwise(z, directions)
        return f.mean() if weights is None else (f * weights).sum()

    @torch.no_grad()
    def evaluate(self, z: torch.Tensor, weights=None, chunk: int = 4096) -> float:
        """``E L`` on a fixed set of latent points, chunked, without autograd."""
        total = 0.0
        for start in range(0, z.shape[0], chunk):
            f = self.pointwise(z[start : start + chunk])
            if weights is None:
                total += float(f.sum()) / z.shape[0]
            else:
                total += float((f * weights[start : start + chunk]).sum())
        return total


def lr_factor(schedule: str, step: int, total: int) -> float:
    """Learning-rate multiplier of ``schedule`` at ``step`` of ``total``."""
    if schedule == "constant":
        return 1.0
    if schedule == "warmup":  # warm-up, constant, and a linear decay over the budget's last steps
        warm, tail = max(1, min(WARMUP_STEPS, total // 4)), max(1, min(DECAY_STEPS, total // 4))
        return min(1.0, (step + 1) / warm, (total - step) / tail)
    if schedule == "step":
        return 0.1 ** int(3 * step / max(total, 1))
    return cosine_factor(step, total, warmup=max(1, int(WARMUP_FRACTION * total)), floor=FINAL_LR_FACTOR)


def train_adam(objective: TrainingObjective, *, max_iter: int, batch_size: int, learning_rate: float,
               schedule: str, clip_grad, generator: torch.Generator, z_val: torch.Tensor, eval_every: int,
               n_iter_no_change, tol: float, verbose: int = 0, has_log_prob: bool = True, callback=None,
               reduce_gradients=None, desc: str = "VariationalEmbedding"):
    """Adam with schedule, clipping and the convergence check of the module docstring.

    Parameters
    ----------
    n_iter_no_change : int or None
        The ``window`` of the convergence check (evaluations per block); ``None``
        runs ``max_iter`` steps.
    callback : callable, optional
        ``callback(iteration, objective) -> bool`` at every evaluation; ``True`` stops.
    reduce_gradients : callable, optional
        Called after every backward pass (data-parallel training averages the
        gradients across ranks there; see :mod:`.distributed`).

    Returns
    -------
    history : list of dict
        One entry per evaluation: ``iter``, ``objective`` (held-out ``E L``),
        ``loss`` (mean training loss since the last evaluation), ``lr``,
        ``grad_norm``, ``time``.
    n_iter : int
        Adam steps taken.
    converged : bool
        Stopped by the convergence check (or the callback) before ``max_iter``.
    """
    module, prior = objective.module, objective.prior
    params = [p for p in module.parameters() if p.requires_grad]
    dtype, device = next(module.parameters()).dtype, next(module.parameters()).device
    # fused Adam on CUDA: one kernel per step instead of several per parameter (launch-bound there)
    opt = torch.optim.Adam(params, lr=learning_rate, fused=device.type == "cuda")
    start_time = time.perf_counter()
    first = objective.evaluate(z_val) if has_log_prob else float("nan")
    history = [dict(iter=0, objective=first, loss=float("nan"), lr=0.0, grad_norm=float("nan"), time=0.0)]
    values, converged, step, end, decay_from = [], False, 0, max_iter, None
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_iter, desc=desc, leave=False)
    losses, gnorms = [], []
    for step in range(1, max_iter + 1):
        factor = lr_factor(schedule, step - 1, max_iter)
        if decay_from is not None:
            factor *= max(0.0, (end - step + 1) / max(1, end - decay_from))
        for group in opt.param_groups:
            group["lr"] = learning_rate * factor
        z = prior.sample(batch_size, generator, dtype=dtype, device=device)
        directions = objective.bending_directions(batch_size, generator, dtype, device)
        opt.zero_grad(set_to_none=True)
        loss = -objective.mean(z, directions=directions)
        loss.backward()
        if reduce_gradients is not None:
            reduce_gradients()
        if clip_grad is not None:
            gnorm = torch.nn.utils.clip_grad_norm_(params, float(clip_grad))
        else:
            gnorm = torch.sqrt(sum((p.grad**2).sum() for p in params if p.grad is not None))
        opt.step()
        # kept on the device: a float() here would synchronise with the GPU every step
        losses.append(loss.detach())
        gnorms.append(gnorm.detach())
        if bar is not None:
            bar.update(1)
        if step >= end:
            break
        if step % eval_every:
            continue
        losses, gnorms = torch.stack(losses).cpu().numpy(), torch.stack(gnorms).cpu().numpy()
        if not np.all(np.isfinite(losses)):
            raise FloatingPointError("the objective became non-finite during training; lower learning_rate or "
                                     "raise continuity/bandwidth")
        val = objective.evaluate(z_val) if has_log_prob else -float(np.mean(losses))
        history.append(dict(iter=step, objective=val, loss=float(np.mean(losses)), lr=learning_rate * factor,
                            grad_norm=float(np.mean(gnorms)), time=time.perf_counter() - start_time))
        losses, gnorms = [], []
        if bar is not None:
            bar.set_postfix(objective=f"{val:.4f}")
        if callback is not None and callback(step, val):
            converged = True
            break
        values.append(val)
        w = n_iter_no_change
        if (w is not None and decay_from is None and has_log_prob and len(values) >= 2 * w
                and np.mean(values[-w:]) - np.mean(values[-2 * w:-w]) <= tol * max(1.0, abs(float(np.mean(values[-w:]))))):
            converged, decay_from, end = True, step, min(max_iter, step + DECAY_STEPS)
    if bar is not None:
        bar.close()
    if has_log_prob and history[-1]["iter"] != step:
        history.append(dict(iter=step, objective=objective.evaluate(z_val), loss=float("nan"), lr=0.0,
                            grad_norm=float("nan"), time=time.perf_counter() - start_time))
    return history, step, converged


def polish_lbfgs(objective: TrainingObjective, z: torch.Tensor, weights: torch.Tensor, max_iter: int,
                 tol: float = 1e-12):
    """Deterministic full-batch L-BFGS on a fixed quadrature set.

    Returns
    -------
    n_iter : int
        Function evaluations used.
    value : float
        The quadrature objective after polishing (the start is kept if it was better).
    """
    module = objective.module
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=max_iter, max_eval=int(max_iter * 1.25) + 1,
                            tolerance_grad=tol, tolerance_change=1e-15, history_size=50,
                            line_search_fn="strong_wolfe")
    count = [0]

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = -objective.mean(z, weights)
        loss.backward()
        for p in params:  # L-BFGS flattens gradients with .view
            if p.grad is not None and not p.grad.is_contiguous():
                p.grad = p.grad.contiguous()
        count[0] += 1
        return loss

    before = copy.deepcopy(module.state_dict())
    value_before = objective.evaluate(z, weights)
    opt.step(closure)
    value = objective.evaluate(z, weights)
    if not np.isfinite(value) or value < value_before:
        module.load_state_dict(before)
        value = value_before
    return count[0], value
