"""Riemannian Adam on the Stiefel manifold ``St(D, d) = {V : V^T V = I}``, torch-native (CPU or CUDA).

pymanopt's torch backend works on NumPy arrays on the CPU; this module keeps
the iterate, its gradient and the optimiser state on the tensor's own device,
so the same code (and, for the same Monte-Carlo batches, the same numbers up
to round-off) runs on a CPU or a GPU.

Geometry (embedded metric):

* tangent projection ``P_V(G) = G - V sym(V^T G)``;
* QR retraction ``R_V(X) = qf(V + X)`` with the signs of ``R``'s diagonal
  made positive (a smooth, unique choice);
* vector transport by projection onto the tangent space of the new point.

:class:`StiefelAdam` is the Riemannian Adam of Becigneul and Ganea (2019,
"Riemannian adaptive optimization methods") with element-wise second
moments in the ambient coordinates and the first moment transported by
projection (as geoopt's ``RiemannianAdam``).
"""

from __future__ import annotations

import torch

__all__ = ["tangent_projection", "qr_retraction", "random_frame", "StiefelAdam"]


def _sym(a: torch.Tensor) -> torch.Tensor:
    return 0.5 * (a + a.transpose(-1, -2))


def tangent_projection(frame: torch.Tensor, ambient: torch.Tensor) -> torch.Tensor:
    """Project an ambient ``(D, d)`` matrix onto the tangent space of ``St(D, d)`` at ``frame``."""
    return ambient - frame @ _sym(frame.transpose(-1, -2) @ ambient)


def qr_retraction(frame: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """``qf(frame + step)``: the Q factor with a positive diagonal of R."""
    q, r = torch.linalg.qr(frame + step)
    signs = torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return q * signs.unsqueeze(-2)


def random_frame(n_features: int, n_components: int, generator: torch.Generator, dtype=torch.float64,
                 device="cpu") -> torch.Tensor:
    """A Haar-random orthonormal ``(D, d)`` frame drawn with a private (CPU) generator, then moved."""
    g = torch.randn(n_features, n_components, generator=generator, dtype=torch.float64)
    return qr_retraction(torch.zeros_like(g), g).to(dtype=dtype, device=device)


class StiefelAdam:
    """Adam for one point on ``St(D, d)`` plus Euclidean parameters.

    Parameters
    ----------
    frame : Tensor of shape (D, d)
        Initial orthonormal frame (updated in place by :meth:`step`).
    euclidean : list of Tensor
        Unconstrained parameters updated by plain Adam (in place).
    lr : float
        Step size of the frame (radians per step, roughly).
    lr_euclidean : float, optional
        Step size of the Euclidean parameters (default ``lr``).
    betas : (float, float), default=(0.9, 0.999)
    eps : float, default=1e-8
    """

    def __init__(self, frame, euclidean=(), lr: float = 0.05, lr_euclidean=None, betas=(0.9, 0.999),
                 eps: float = 1e-8):
        self.frame = frame
        self.euclidean = list(euclidean)
        self.lr = float(lr)
        self.lr_euclidean = float(lr if lr_euclidean is None else lr_euclidean)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.t = 0
        params = [frame] + self.euclidean
        self._m = [torch.zeros_like(p) for p in params]
        self._v = [torch.zeros_like(p) for p in params]

    def _moments(self, i: int, grad: torch.Tensor) -> torch.Tensor:
        b1, b2 = self.betas
        self._m[i].mul_(b1).add_(grad, alpha=1 - b1)
        self._v[i].mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat = self._m[i] / (1 - b1**self.t)
        v_hat = self._v[i] / (1 - b2**self.t)
        return m_hat / (v_hat.sqrt() + self.eps)

    @torch.no_grad()
    def step(self, frame_grad: torch.Tensor, euclidean_grads=(), scale: float = 1.0) -> None:
        """One descent step from Euclidean gradients (of a cost to *minimise*).

        Parameters
        ----------
        frame_grad : Tensor of shape (D, d)
            Euclidean gradient with respect to the frame; projected here.
        euclidean_grads : list of Tensor
            Gradients of the Euclidean parameters, in their order.
        scale : float, default=1.0
            Multiplies both step sizes (a learning-rate schedule).
        """
        self.t += 1
        rgrad = tangent_projection(self.frame, frame_grad)
        direction = tangent_projection(self.frame, self._moments(0, rgrad))
        new = qr_retraction(self.frame, -self.lr * scale * direction)
        self._m[0].copy_(tangent_projection(new, self._m[0]))  # transport by projection
        self.frame.copy_(new)
        for i, (p, g) in enumerate(zip(self.euclidean, euclidean_grads), start=1):
            p.sub_(self.lr_euclidean * scale * self._moments(i, g))
