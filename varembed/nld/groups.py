"""Parameter-symmetry groups of a network and their per-group reductions.

A *family* is a set of symmetry groups of one kind that share their parameter
layout, e.g. "every output channel of conv1 together with its bias" (one
scale group per channel).  Each family is a tuple of :class:`Part` objects,
one per parameter tensor involved; ``Part.axis`` is the tensor dimension that
indexes the groups (``None``: the whole tensor belongs to a single group) and
``Part.sign`` the sign with which it enters the generator.

Generators (Neural Mechanics / Tanaka & Kunin 2021):

* ``scale``: ``xi = q_A``; charge ``|q_A|^2``.
* ``rescale``: ``xi = (q_A1, -q_A2)``; charge ``|q_A1|^2 - |q_A2|^2``.
* ``translation``: ``xi = 1_A``; charge ``sum q_A``.

For a proportional generator (scale, rescale) every quadratic per-group
quantity is the signed sum ``sum_parts sign * sum_{group entries} x``; for a
translation the linear ones are.  These reductions are vectorised over all
groups of a family, which keeps the tracker cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch

__all__ = ["Part", "SymmetryFamily", "KINDS"]

KINDS = ("scale", "translation", "rescale")


@dataclass(frozen=True)
class Part:
    """One parameter tensor of a family.

    Parameters
    ----------
    name : str
        Qualified parameter name (as in ``model.named_parameters()``).
    axis : int or None
        Dimension that indexes the groups; ``None`` for a single group.
    sign : float, default=1.0
        ``+1`` or ``-1`` (the outgoing side of a rescale pair).
    block : int, default=1
        Consecutive indices along ``axis`` merged into one group (GroupNorm).
    """

    name: str
    axis: Optional[int]
    sign: float = 1.0
    block: int = 1


@dataclass(frozen=True)
class SymmetryFamily:
    """Symmetry groups of one kind sharing a parameter layout.

    Attributes
    ----------
    kind : {"scale", "translation", "rescale"}
    name : str
        Human-readable label (e.g. ``"scale 0.weight -> 1 (BatchNorm1d)"``).
    parts : tuple of Part
    n_groups : int
    reason : str
        Why the structure implies the symmetry (and known breakings).
    """

    kind: str
    name: str
    parts: Tuple[Part, ...]
    n_groups: int
    reason: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def proportional(self) -> bool:
        """True for scale / rescale (generator proportional to the parameters)."""
        return self.kind != "translation"

    # ----------------------------------------------------------------- reductions
    def reduce(self, tensors: Dict[str, torch.Tensor], signed: bool = True) -> torch.Tensor:
        """Per-group sums of elementwise tensors laid out like the parameters.

        Parameters
        ----------
        tensors : dict name -> Tensor
            One tensor per part (same shape as its parameter).
        signed : bool, default=True
            Weight each part by its sign.

        Returns
        -------
        Tensor of shape (n_groups,)
        """
        out = None
        for part in self.parts:
            x = tensors[part.name]
            if part.axis is None:
                r = x.sum().reshape(1)
            else:
                dims = [d for d in range(x.dim()) if d != part.axis]
                r = x.sum(dim=dims) if dims else x
                if part.block > 1:
                    r = r.reshape(-1, part.block).sum(1)
            if signed and part.sign != 1.0:
                r = part.sign * r
            out = r if out is None else out + r
        return out

    def expand(self, values: torch.Tensor, part: Part, shape) -> torch.Tensor:
        """Broadcast per-group values back to the layout of one part."""
        if part.axis is None:
            return values.reshape(()).expand(shape)
        v = values.repeat_interleave(part.block) if part.block > 1 else values
        view = [1] * len(shape)
        view[part.axis] = v.shape[0]
        return v.reshape(view).expand(shape)

    def generator(self, params: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The generator ``xi`` of every group, laid out like the parameters (signs applied)."""
        out = {}
        for part in self.parts:
            p = params[part.name]
            xi = p if self.proportional else torch.ones_like(p)
            out[part.name] = part.sign * xi
        return out

    def charge(self, params: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Charge per group: signed ``|q|^2`` (scale, rescale) or ``sum q`` (translation)."""
        if self.proportional:
            return self.reduce({p.name: params[p.name] ** 2 for p in self.parts})
        return self.reduce({p.name: params[p.name] for p in self.parts})

    def pairing(self, a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Signed per-group inner product ``sum_parts sign <a, b>``."""
        return self.reduce({p.name: a[p.name] * b[p.name] for p in self.parts})

    def identity(self, grads: Dict[str, torch.Tensor], params: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Gradient identity ``<grad L, xi>`` per group (zero for a symmetry)."""
        if self.proportional:
            return self.pairing(grads, params)
        return self.reduce({p.name: grads[p.name] for p in self.parts})

    def identity_scale(self, grads, params, grad_rms: float = 0.0) -> torch.Tensor:
        """``max(|g_A|, grad_rms sqrt|A|) |xi_A|`` per group: the scale of :meth:`identity`.

        ``grad_rms`` (the root-mean-square gradient entry of the model) keeps
        the scale meaningful for groups whose gradient vanishes identically
        (a pre-BatchNorm bias), where ``|g_A|`` is pure round-off.
        """
        g2 = self.reduce({p.name: grads[p.name] ** 2 for p in self.parts}, signed=False)
        n = self.reduce({p.name: torch.ones_like(params[p.name]) for p in self.parts}, signed=False)
        g2 = torch.maximum(g2, n * grad_rms**2)
        x2 = self.reduce({p.name: params[p.name] ** 2 for p in self.parts}, signed=False) if self.proportional else n
        return torch.sqrt(g2 * x2)

    def flat_generator(self, model: torch.nn.Module):
        """The generator as a function of the flattened parameter vector.

        Returns
        -------
        (xi, names) where ``xi(u (N,)) -> (N,)`` acts on
        ``torch.cat([p.flatten() for p in params])`` in the order of
        ``model.named_parameters()`` and generates *all* groups of the family
        at once (their sum).
        """
        named = list(model.named_parameters())
        mine = {p.name: p for p in self.parts}
        slices, start = [], 0
        for name, p in named:
            slices.append((name, start, start + p.numel(), p.shape))
            start += p.numel()

        def xi(u):
            chunks = []
            for name, a, b, shape in slices:
                if name in mine:
                    part = mine[name]
                    base = u[a:b] if self.proportional else torch.ones_like(u[a:b])
                    chunks.append(part.sign * base)
                else:
                    chunks.append(torch.zeros_like(u[a:b]))
            return torch.cat(chunks)

        return xi, [n for n, _ in named]
