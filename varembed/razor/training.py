"""The optimisation loop shared by every arm (vanilla, oracle, learned, MAP)."""

from __future__ import annotations

import math

import torch

from .objective import negative_elbo

__all__ = ["fit_hnn"]


def _progress(verbose, total, desc):
    if verbose < 1:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=True)


def fit_hnn(est, hnn, x, y, dt, generator, n_iter, *, desc="razor"):
    """Adam with cosine decay on ``-ELBO / N`` (or the MAP loss); returns the history.

    Parameters
    ----------
    est : NoetherRazor
        Supplies the hyperparameters.
    hnn : SymmetricHNN
    x, y : Tensor of shape (N, M)
        The training transitions.
    dt : float or Tensor of shape (N, 1)
        Their time steps.
    generator : torch.Generator
        The fit's private random stream (minibatches, noise, samples).
    n_iter : int
        Optimiser steps.
    desc : str
        Label of the progress bar (``verbose >= 1``).

    Returns
    -------
    dict of lists
        ``loss``, ``nll``, ``kl`` per step.
    """
    groups = [{"params": list(hnn.network.parameters()), "lr": est.learning_rate}]
    conserved = [p for p in (hnn.conserved.parameters() if hnn.conserved is not None else []) if p.requires_grad]
    if conserved:
        groups.append({"params": conserved, "lr": est.learning_rate_conserved})
    opt = torch.optim.Adam(groups, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1.0 + math.cos(math.pi * t / n_iter)))
    n = x.shape[0]
    per_row = torch.is_tensor(dt)
    noise_std = math.sqrt(est.target_noise)
    history = {"loss": [], "nll": [], "kl": []}
    bar = _progress(est.verbose, n_iter, desc)
    report_every = max(1, n_iter // 10)
    for it in range(n_iter):
        if est.batch_size < n:
            idx = torch.randperm(n, generator=generator)[: est.batch_size].to(x.device)
            xb, yb, dtb = x[idx], y[idx], (dt[idx] if per_row else dt)
        else:
            xb, yb, dtb = x, y, dt
        if noise_std > 0:
            yb = yb + noise_std * torch.randn(yb.shape, generator=generator, dtype=yb.dtype).to(yb.device)
        terms = negative_elbo(
            hnn, xb, yb, dtb, n, n_mc=est.n_mc_samples, n_sym=est.n_symmetry_samples,
            output_var=est.output_var, prior_precision=1.0 / est.prior_var, objective=est.objective,
            n_substeps=est.n_substeps, method=est.integrator, generator=generator,
        )
        opt.zero_grad(set_to_none=True)
        terms.loss.backward()
        opt.step()
        sched.step()
        loss = float(terms.loss.detach())
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"the razor objective became non-finite at step {it}; lower learning_rate or "
                "learning_rate_conserved, or rescale the data"
            )
        history["loss"].append(loss)
        history["nll"].append(float(terms.nll.detach()))
        history["kl"].append(float(terms.kl.detach()))
        if bar is not None:
            bar.update(1)
            if it % report_every == 0 or it == n_iter - 1:
                bar.set_postfix(neg_elbo=f"{loss:.3f}")
        if est.verbose >= 2 and (it % report_every == 0 or it == n_iter - 1):
            message = (f"[{desc}] step {it:5d}  -elbo/N {loss:.4f}  nll {history['nll'][-1]:.4f}  "
                       f"kl/N {history['kl'][-1]:.4f}")
            (bar.write if bar is not None else print)(message)
    if bar is not None:
        bar.close()
    return history
