"""The latent gauge of a fitted map: principal axes, order and signs.

The objective is invariant under the isometries of the prior, so a fitted
latent space is defined only up to them: any rotation for an isotropic
Gaussian prior, axis reflections for a per-axis one, signed permutations of
the axes for a uniform box.  :func:`fix_gauge` picks one representative,
reproducibly: the principal axes of ``E_q G`` in decreasing order (where
rotations are symmetries), otherwise the axes ordered by ``E_q G_ii`` (box),
and signs such that the largest-magnitude entry of ``E_q[z_k phi(z)]`` is
positive (scikit-learn's convention for PCA).
"""

from __future__ import annotations

import torch

__all__ = ["fix_gauge"]


@torch.no_grad()
def fix_gauge(module, prior, z: torch.Tensor) -> torch.Tensor:
    """Reparameterise ``module`` in place, ``phi_new(z) = phi_old(R z)``; returns the ``d x d`` matrix ``R``.

    Parameters
    ----------
    module : SmoothMLPMap
    prior : GaussianPrior or UniformBoxPrior
    z : Tensor of shape (n, d)
        Fixed latent samples of the prior on which ``E_q`` is estimated.
    """
    d = prior.dim
    jac = module.jet(z, order=1).jacobian
    gram = (jac.transpose(-1, -2) @ jac).mean(0)
    eye = torch.eye(d, dtype=gram.dtype, device=gram.device)
    if prior.name == "gaussian" and prior.isotropic:
        rot = torch.linalg.eigh(gram)[1].flip(-1)
    elif prior.name == "gaussian":  # per-axis scales: only reflections are symmetries
        rot = eye
    else:
        rot = eye[:, torch.argsort(torch.diagonal(gram), descending=True)]
    module.rotate_latent(rot)
    phi = module(z)
    phi = phi - phi.mean(0)
    corr = (z.unsqueeze(-1) * phi.unsqueeze(1)).mean(0)  # (d, D)
    signs = torch.sign(corr[torch.arange(d), corr.abs().argmax(-1)])
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    module.rotate_latent(torch.diag(signs))
    return rot @ torch.diag(signs)
