"""The optimisation loop shared by every arm (vanilla, oracle, learned, MAP)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .objective import negative_elbo

__all__ = ["resolve_device", "transitions", "fit_hnn"]


def resolve_device(device) -> torch.device:
    """``"auto"`` picks CUDA when available; ``"cuda"`` without CUDA is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not (isinstance(device, str) and device.startswith("cuda:")):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available")
    return torch.device(device)


def transitions(traj: np.ndarray, dtype, device):
    """One-step pairs ``(x_t, x_{t+1})`` of every trajectory, each ``(N, M)``."""
    m = traj.shape[2]
    x = torch.as_tensor(traj[:, :-1].reshape(-1, m), dtype=dtype, device=device)
    y = torch.as_tensor(traj[:, 1:].reshape(-1, m), dtype=dtype, device=device)
    return x, y


def fit_hnn(est, hnn, x, y, generator, n_iter=None):
    """Adam with cosine decay on ``-ELBO / N`` (or the MAP loss); returns the history.

    ``est`` supplies the hyperparameters (a :class:`NoetherRazor`);
    ``n_iter`` defaults to ``est.n_iter``.
    """
    n_iter = est.n_iter if n_iter is None else int(n_iter)
    groups = [{"params": list(hnn.network.parameters()), "lr": est.lr}]
    conserved = hnn.conserved
    if conserved is not None and isinstance(conserved.weight, torch.nn.Parameter):
        groups.append({"params": [conserved.weight, conserved.bias], "lr": est.lr_conserved})
    opt = torch.optim.Adam(groups, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1.0 + math.cos(math.pi * t / n_iter)))
    n = x.shape[0]
    noise_std = math.sqrt(est.target_noise)
    history = {"loss": [], "nll": [], "kl": []}
    for it in range(n_iter):
        if est.batch_size < n:
            idx = torch.randperm(n, generator=generator)[: est.batch_size].to(x.device)
            xb, yb = x[idx], y[idx]
        else:
            xb, yb = x, y
        if noise_std > 0:
            yb = yb + noise_std * torch.randn(yb.shape, generator=generator, dtype=yb.dtype).to(yb.device)
        terms = negative_elbo(
            hnn, xb, yb, est.dt_, n, n_mc=est.n_mc_samples, n_sym=est.n_symmetry_samples,
            output_var=est.output_var, prior_precision=1.0 / est.prior_var, objective=est.objective,
            n_substeps=est.n_substeps, method=est.integrator, generator=generator,
        )
        opt.zero_grad(set_to_none=True)
        terms.loss.backward()
        opt.step()
        sched.step()
        history["loss"].append(float(terms.loss.detach()))
        history["nll"].append(float(terms.nll.detach()))
        history["kl"].append(float(terms.kl.detach()))
        if est.verbose and (it % max(1, n_iter // 10) == 0 or it == n_iter - 1):
            print(f"[razor] step {it:5d}  -elbo/N {history['loss'][-1]:.4f}  nll {history['nll'][-1]:.4f}  "
                  f"kl/N {history['kl'][-1]:.4f}")
    return history
