"""Smooth maps ``phi: R^d -> R^D`` for the nonlinear embedding.

:class:`SmoothMLPMap` is ``phi(z) = W z + b + g(z)``: an affine part (started at
the linear variational solution, i.e. PCA) plus a smooth multilayer
perceptron ``g`` whose output layer starts at zero, so a fit starts exactly at
the linear answer.  With ``hidden=()`` the map is affine.

Two ways to evaluate it:

* :meth:`SmoothMLPMap.forward` -- the plain map on ``(..., d)`` inputs,
  including a single point ``(d,)``; usable inside :func:`torch.func.vmap`,
  ``jacfwd`` and ``hessian`` (what the diagnostics use);
* :meth:`SmoothMLPMap.jet` -- value, Jacobian and optionally second
  derivatives of a batch in one forward-mode pass
  (:mod:`varembed.embedding.maps.jets`), what training uses.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .jets import Jet, get_activation, mixed_second_jet, mlp_jet, split_jet

__all__ = ["SmoothMLPMap"]


class SmoothMLPMap(nn.Module):
    """``phi(z) = W z + b + g(z)`` with ``g`` a smooth MLP (zero at initialisation).

    Parameters
    ----------
    n_components : int
        Latent dimension ``d``.
    n_features : int
        Data dimension ``D``.
    hidden : sequence of int
        Widths of the hidden layers of ``g``; empty for an affine map.
    activation : {"tanh", "sin", "softplus", "silu"}
        ``sin`` uses a SIREN-style initialisation.
    weight, bias : Tensor, optional
        Initial affine part (``(D, d)`` and ``(D,)``); default a random
        orthonormal frame and zero.
    generator : torch.Generator, optional
        Private generator for the initialisation.
    random_residual : bool, default=False
        Initialise the output layer of ``g`` randomly (``U(-sqrt(6/n),
        sqrt(6/n))``, as in the paper's code) instead of at zero: the initial
        map is then a random smooth, folded curve or sheet.
    dtype, device :
        Of the parameters.
    """

    def __init__(
        self,
        n_components: int,
        n_features: int,
        hidden: Sequence[int] = (128, 128, 128),
        activation: str = "tanh",
        weight: Optional[torch.Tensor] = None,
        bias: Optional[torch.Tensor] = None,
        generator: Optional[torch.Generator] = None,
        random_residual: bool = False,
        dtype=torch.float64,
        device="cpu",
    ):
        super().__init__()
        self.n_components = int(n_components)
        self.n_features = int(n_features)
        self.hidden = tuple(int(h) for h in hidden)
        self.activation = activation
        self._act = get_activation(activation)
        d, D = self.n_components, self.n_features
        if weight is None:
            g = torch.randn(D, d, generator=generator, dtype=torch.float64)
            weight = torch.linalg.qr(g)[0]
        if bias is None:
            bias = torch.zeros(D, dtype=torch.float64)
        self.weight = nn.Parameter(torch.as_tensor(weight, dtype=dtype).to(device).clone())
        self.bias = nn.Parameter(torch.as_tensor(bias, dtype=dtype).to(device).clone())
        widths = (d,) + self.hidden
        layers = []
        for k, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            layer = nn.Linear(fan_in, fan_out, dtype=dtype, device=device)
            self._init_hidden(layer, k, generator)
            layers.append(layer)
        if self.hidden:
            out = nn.Linear(widths[-1], D, dtype=dtype, device=device)
            with torch.no_grad():
                if random_residual:  # the paper's "light" init U(-sqrt(6/n), sqrt(6/n)): a wiggly curve
                    bound = math.sqrt(6.0 / widths[-1])
                    w = (torch.rand(D, widths[-1], generator=generator, dtype=torch.float64) * 2 - 1) * bound
                    out.weight.copy_(w.to(out.weight))
                else:
                    out.weight.zero_()
                out.bias.zero_()
            layers.append(out)
        self.layers = nn.ModuleList(layers)

    def _init_hidden(self, layer: nn.Linear, k: int, generator):
        fan_in, fan_out = layer.in_features, layer.out_features
        if self._act.name == "sin":
            # SIREN: first layer U(-1/n, 1/n) * omega0, later U(-sqrt(6/n), sqrt(6/n)) / omega0,
            # with a low omega0 (smooth maps, not high-frequency signals).
            omega0 = 1.0
            bound = omega0 / math.sqrt(fan_in) if k == 0 else math.sqrt(6.0 / fan_in) / omega0
        else:
            bound = math.sqrt(6.0 / (fan_in + fan_out))  # Xavier / Glorot uniform
            if self._act.name in ("softplus", "silu"):
                bound *= math.sqrt(2.0)
        w = (torch.rand(fan_out, fan_in, generator=generator, dtype=torch.float64) * 2 - 1) * bound
        with torch.no_grad():
            layer.weight.copy_(w.to(layer.weight))
            layer.bias.zero_()

    # ----------------------------------------------------------------- evaluation
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``phi(z)`` for ``z`` of shape ``(..., d)`` (a single point ``(d,)`` too)."""
        out = F.linear(z, self.weight, self.bias)
        if self.layers:
            h = z
            for k, layer in enumerate(self.layers):
                h = layer(h)
                if k < len(self.layers) - 1:
                    h = self._act.fn(h)
            out = out + h
        return out

    def jet(self, z: torch.Tensor, order: int = 1) -> Jet:
        """Value, Jacobian (and second derivatives) on a batch ``z`` of shape ``(B, d)``.

        One forward-mode pass of ``1 + d`` (or ``1 + d + d (d + 1) / 2``)
        stacked rows; see :mod:`varembed.embedding.maps.jets`.
        """
        d = self.n_components
        value = F.linear(z, self.weight, self.bias)
        jac = self.weight.unsqueeze(0).expand(z.shape[0], -1, -1)
        hess = None
        if self.layers:
            g = split_jet(mlp_jet(z, self.layers, self._act, order), order)
            value = value + g.value
            jac = jac + g.jacobian
            hess = g.hessian
        elif order >= 2:
            hess = z.new_zeros((z.shape[0], self.n_features, d * (d + 1) // 2))
        return Jet(value=value, jacobian=jac, hessian=hess)

    def mixed_jet(self, z: torch.Tensor, v: torch.Tensor, w: torch.Tensor) -> Jet:
        """Value, Jacobian and the mixed second derivative ``d^2 phi[v, w]`` (per-point directions).

        ``hessian`` has shape ``(B, D, 1)``; ``2 + d`` stacked rows.  With
        Rademacher ``v, w`` its squared norm is an unbiased estimate of the
        bending energy ``sum_ij |d_i d_j phi|^2`` (see
        :func:`varembed.embedding.maps.jets.mixed_second_jet`).
        """
        value = F.linear(z, self.weight, self.bias)
        jac = self.weight.unsqueeze(0).expand(z.shape[0], -1, -1)
        if not self.layers:
            return Jet(value=value, jacobian=jac, hessian=z.new_zeros((z.shape[0], self.n_features, 1)))
        g_value, g_tan, g_mixed = mixed_second_jet(z, self.layers, self._act, v, w)
        return Jet(value=value + g_value, jacobian=jac + g_tan.permute(1, 2, 0), hessian=g_mixed.unsqueeze(-1))

    @torch.no_grad()
    def rotate_latent(self, rotation: torch.Tensor) -> None:
        """Reparameterise in place: ``phi_new(z) = phi_old(R z)``.

        Used to fix the latent gauge (rotation/sign) after training.
        """
        rotation = rotation.to(self.weight)
        self.weight.copy_(self.weight @ rotation)
        if self.layers:
            first = self.layers[0]
            first.weight.copy_(first.weight @ rotation)
