"""Forward-mode jets of smooth maps: values, Jacobians and second derivatives together.

For a map ``phi: R^d -> R^D`` evaluated on a batch, the embedding functional
needs ``phi(z)`` and the ``D x d`` Jacobian ``J(z)`` at every point, and a
smoothness (bending) penalty needs the second derivatives ``d_i d_j phi``.
``torch.func.vmap(jacrev(phi))`` builds ``J`` with ``D`` reverse passes per
point; ``jacfwd`` with ``d`` forward passes.  For a multilayer perceptron one
can do better still: propagate the *jet* ``[h, dh/dz_1, ..., dh/dz_d]`` (and
optionally the ``d (d + 1) / 2`` second derivatives) through each layer at
once, as a value ``(batch, width)`` and a stack of tangents ``(d, batch, width)``:

* a linear layer maps every tangent row with the same matrix (one matmul for
  all of them; the bias goes to the value only);
* an elementwise activation ``sigma`` maps the value row to ``sigma(a)``, a
  tangent row ``da_i`` to ``sigma'(a) da_i`` and a second-order row
  ``d2a_ij`` to ``sigma''(a) da_i da_j + sigma'(a) d2a_ij``.

A gradient step through the jet therefore costs about ``rows`` times a plain
forward and backward pass (``rows = 1 + d`` for first order), whatever ``D``.

The functions here are plain torch code: they run on CPU or GPU, in any
floating dtype, and are differentiable with respect to the parameters (the
training loop backpropagates through them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Jet",
    "get_activation",
    "unpack_hessian",
    "linear_jet",
    "activation_jet",
    "first_layer_jet",
    "mlp_jet",
    "mixed_second_jet",
    "split_jet",
    "second_order_pairs",
]


# --------------------------------------------------------------------- activations
@dataclass(frozen=True)
class Activation:
    """A smooth elementwise nonlinearity with its first two derivatives.

    The jets push values, tangents and second-order rows through it together.

    Attributes
    ----------
    name : str
    fn : callable
        ``sigma(a)``.
    derivatives : callable
        ``a -> (sigma(a), sigma'(a), sigma''(a))``; computed together because
        they share work (``tanh``: ``t``, ``1 - t^2``, ``-2 t (1 - t^2)``).
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    derivatives: Callable[[torch.Tensor], tuple]


def _tanh_derivs(a):
    t = torch.tanh(a)
    d1 = 1.0 - t * t
    return t, d1, -2.0 * t * d1


def _sin_derivs(a):
    s = torch.sin(a)
    return s, torch.cos(a), -s


def _softplus_derivs(a):
    sig = torch.sigmoid(a)
    return F.softplus(a), sig, sig * (1.0 - sig)


def _silu_derivs(a):
    sig = torch.sigmoid(a)
    d1 = sig * (1.0 + a * (1.0 - sig))
    d2 = sig * (1.0 - sig) * (2.0 + a * (1.0 - 2.0 * sig))
    return a * sig, d1, d2


ACTIVATIONS = {
    "tanh": Activation("tanh", torch.tanh, _tanh_derivs),
    "sin": Activation("sin", torch.sin, _sin_derivs),
    "softplus": Activation("softplus", F.softplus, _softplus_derivs),
    "silu": Activation("silu", F.silu, _silu_derivs),
}

_NOT_C2 = {"relu", "leaky_relu", "leakyrelu", "relu6", "hardtanh", "hardswish", "elu", "selu", "gelu_tanh_approx"}


def get_activation(name) -> Activation:
    """Look an activation up by name, rejecting ones without second derivatives.

    Raises
    ------
    ValueError
        For ReLU-type activations (their second derivative vanishes almost
        everywhere, so Euler-Lagrange residuals and the bending penalty would
        be meaningless) and for unknown names.
    """
    if isinstance(name, str) and name.lower() in _NOT_C2:
        raise ValueError(
            f"activation={name!r} is not twice continuously differentiable; the variational "
            f"embedding needs second derivatives of the map (Euler-Lagrange residuals, bending "
            f"penalty). Use one of {sorted(ACTIVATIONS)}"
        )
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


# ---------------------------------------------------------------------------- jets
@dataclass
class Jet:
    """Value, Jacobian and (optionally) second derivatives of a map on a batch.

    Attributes
    ----------
    value : Tensor of shape (batch, D)
    jacobian : Tensor of shape (batch, D, d)
        ``J[b, a, i] = d phi_a / d z_i``.
    hessian : Tensor of shape (batch, D, d (d + 1) / 2) or None
        ``d_i d_j phi_a`` for the pairs ``i <= j`` in the order of
        :func:`second_order_pairs`.
    """

    value: torch.Tensor
    jacobian: torch.Tensor
    hessian: Optional[torch.Tensor] = None


def second_order_pairs(d: int) -> list:
    """The index pairs ``(i, j)``, ``i <= j``, in the row order of a second-order jet."""
    return [(i, j) for i in range(d) for j in range(i, d)]


def unpack_hessian(packed: torch.Tensor, d: int) -> torch.Tensor:
    """``(B, D, d (d + 1) / 2)`` pair-packed second derivatives -> the symmetric ``(B, D, d, d)`` array."""
    n, dim = packed.shape[:2]
    full = packed.new_zeros((n, dim, d, d))
    for k, (i, j) in enumerate(second_order_pairs(d)):
        full[:, :, i, j] = packed[:, :, k]
        full[:, :, j, i] = packed[:, :, k]
    return full


def linear_jet(jet: tuple, weight: torch.Tensor, bias: Optional[torch.Tensor]) -> tuple:
    """Push a jet ``(h, dh, d2h)`` through ``a = W h + b``.

    The value takes the bias (one ``addmm``); the ``d`` tangent rows (and the
    second-order rows) share one matmul.  ``dh`` has shape ``(d, batch, width)``.
    """
    value, tangents, second = jet
    value = F.linear(value, weight, bias)
    tangents = F.linear(tangents, weight)
    if second is not None:
        second = F.linear(second, weight)
    return value, tangents, second


def activation_jet(jet: tuple, act: Activation) -> tuple:
    """Push a jet through an elementwise activation (chain rule up to second order)."""
    value, tangents, second = jet
    s0, s1, s2 = act.derivatives(value)
    new_t = s1 * tangents
    new_s = None
    if second is not None:
        d = tangents.shape[0]
        ii, jj = (list(a) for a in zip(*second_order_pairs(d)))
        new_s = s2 * tangents[ii] * tangents[jj] + s1 * second
    return s0, new_t, new_s


def first_layer_jet(z: torch.Tensor, layer: torch.nn.Linear, order: int = 1) -> tuple:
    """The jet of ``a = W z + b`` at the input: tangents are the columns of ``W``."""
    batch, d = z.shape
    value = F.linear(z, layer.weight, layer.bias)
    tangents = layer.weight.T.unsqueeze(1).expand(d, batch, layer.weight.shape[0])
    second = None
    if order >= 2:
        second = z.new_zeros((d * (d + 1) // 2, batch, layer.weight.shape[0]))
    return value, tangents, second


def split_jet(jet: tuple, order: int = 1) -> Jet:
    """Turn a jet ``(value (B, D), tangents (d, B, D), second)`` into a :class:`Jet`."""
    value, tangents, second = jet
    jac = tangents.permute(1, 2, 0)
    hess = second.permute(1, 2, 0) if (order >= 2 and second is not None) else None
    return Jet(value=value, jacobian=jac, hessian=hess)


def mlp_jet(
    z: torch.Tensor,
    layers: Sequence[torch.nn.Linear],
    act: Activation,
    order: int = 1,
) -> tuple:
    """Jet of ``Linear -> act -> ... -> Linear`` (activation between layers).

    Parameters
    ----------
    z : Tensor of shape (batch, d)
    layers : sequence of torch.nn.Linear
        The last layer is not followed by an activation.
    act : Activation
    order : {1, 2}

    Returns
    -------
    tuple ``(value (batch, out), tangents (d, batch, out), second or None)``
    """
    jet = first_layer_jet(z, layers[0], order)
    for layer in layers[1:]:
        jet = activation_jet(jet, act)
        jet = linear_jet(jet, layer.weight, layer.bias)
    return jet


def mixed_second_jet(z: torch.Tensor, layers: Sequence[torch.nn.Linear], act: Activation,
                     v: torch.Tensor, w: torch.Tensor) -> tuple:
    """Jet of an MLP with one *mixed* second-derivative row ``d^2 phi[v, w]`` per point.

    Instead of all ``d (d + 1) / 2`` second derivatives, carry the single row
    ``sum_ij v_i w_j d_i d_j h`` for per-point directions ``v, w`` (shape
    ``(batch, d)``): through an activation it becomes
    ``sigma''(a) (dh . v) (dh . w) + sigma'(a) d^2 a[v, w]`` (the directional
    tangents are weighted sums of the ``d`` tangent rows, no matmul).  With
    independent Rademacher ``v, w``, ``E |d^2 phi[v, w]|^2 = sum_ij |d_i d_j phi|^2``
    (Hutchinson): an unbiased bending energy for ``2 + d`` rows instead of
    ``1 + d + d (d + 1) / 2``.

    Returns
    -------
    tuple ``(value (batch, out), tangents (d, batch, out), mixed (batch, out))``
    """
    value, tangents, _ = first_layer_jet(z, layers[0], 1)
    mixed = torch.zeros_like(value)
    for layer in layers[1:]:
        s0, s1, s2 = act.derivatives(value)
        tv, tw = torch.einsum("kbw,bk->bw", tangents, v), torch.einsum("kbw,bk->bw", tangents, w)
        jet = (s0, s1 * tangents, s2 * tv * tw + s1 * mixed)
        value, tangents, mixed = linear_jet(jet, layer.weight, layer.bias)
    return value, tangents, mixed
