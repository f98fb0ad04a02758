"""Record Noether charges of symmetry groups during training.

:class:`NoetherTracker` registers one hook that runs after every
``optimizer.step()``.  There it sees the new parameters ``q_{n+1}``, the
minibatch gradient ``g_n`` the step used and the update direction ``v_n`` it
applied (PyTorch's momentum buffer, or for plain SGD ``g_n + k q_n =
(g_n + k q_{n+1}) / (1 - eta k)``), and records per group

* the charge ``Q_{n+1}`` (``Q_0`` is read when the tracker is created),
* ``|g_n|^2``, ``|v_n|^2`` and ``<v_n, q_{n+1}>``,
* the gradient identity ``<g_n, xi(q_n)>`` with ``q_n = q_{n+1} + eta v_n``.

Quadratic quantities are signed per group (``|.|_A1^2 - |.|_A2^2`` for a
rescale pair).  Per step the hook only copies ``(q, g, v)`` of the tracked
parameters, laid out group by group; every ``chunk`` steps one batched
Gram-matrix product per (parameter, group axis), shared by all families,
turns the buffer into per-group sums; everything stays on the parameters' device until
:meth:`NoetherTracker.history` is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from .groups import SymmetryFamily
from .lagrangian import LearningRule

__all__ = ["NoetherTracker", "ChargeHistory"]


@dataclass(frozen=True)
class ChargeHistory:
    """What a tracker recorded for one family over ``n`` steps.

    Attributes
    ----------
    family : SymmetryFamily
    rule : LearningRule or None
        The SGD rule shared by the family's parameters (``None`` when the
        optimiser or the parameter groups cannot be modelled; see ``why``).
    charge : ndarray (n + 1, n_groups)
        ``Q_0 .. Q_n`` (the last row: the parameters when ``history`` was called).
    grad_sq : ndarray (n, n_groups)
        Signed ``|g_A|^2`` of the minibatch gradient.
    update_sq : ndarray (n, n_groups)
        Signed ``|v_A|^2`` of the applied update direction (NaN if unknown).
    update_dot_next : ndarray (n, n_groups)
        Signed ``<v_A, q_{A, n+1}>`` (NaN if unknown).
    identity : ndarray (n, n_groups)
        ``<g_n, xi(q_n)>``.
    why : str
        Why ``rule`` is ``None``.
    """

    family: SymmetryFamily
    rule: Optional[LearningRule]
    charge: np.ndarray
    grad_sq: np.ndarray
    update_sq: np.ndarray
    update_dot_next: np.ndarray
    identity: np.ndarray
    why: str = ""

    @property
    def n_steps(self) -> int:
        return self.grad_sq.shape[0]


def _rule_for(optimizer, names: Sequence[str], params: Dict[str, torch.nn.Parameter]):
    """The SGD rule shared by all named parameters, or (None, reason)."""
    index = {}
    for gi, pg in enumerate(optimizer.param_groups):
        for p in pg["params"]:
            index[id(p)] = gi
    groups = set()
    for n in names:
        if id(params[n]) not in index:
            raise ValueError(f"parameter {n!r} of a symmetry group is not optimised by this optimiser")
        groups.add(index[id(params[n])])
    try:
        rules = {LearningRule.from_optimizer(optimizer, group=g) for g in groups}
    except TypeError as exc:
        return None, str(exc)
    if len(rules) > 1:
        return None, "the group's parameters sit in optimiser param_groups with different lr/momentum/weight_decay"
    return rules.pop(), ""


_QUAD = {"q": 0, "g": 1, "v": 2}


class _Slot:
    """One (parameter, group axis) layout: buffered steps and their per-group reductions."""

    def __init__(self, name, param, axis):
        self.name, self.param, self.axis = name, param, axis
        self.n_groups = 1 if axis is None else param.shape[axis]
        self.buffer, self.quad, self.lin = [], [], []

    def push(self, tensors):
        """Buffer one step: ``tensors`` (q, g[, v]) stacked as (groups, c, ...)."""
        if self.axis is None:
            self.buffer.append(torch.stack(tensors).unsqueeze(0))
        elif self.axis == 0:
            self.buffer.append(torch.stack(tensors, 1))
        else:
            self.buffer.append(torch.stack([t.movedim(self.axis, 0) for t in tensors], 1))

    def flush(self):
        """Per-group Gram matrices ``(steps, groups, c, c)`` and sums ``(steps, groups, c)``."""
        if not self.buffer:
            return
        x = torch.stack(self.buffer)
        self.buffer = []
        x = x.reshape(x.shape[0], x.shape[1], x.shape[2], -1)
        self.quad.append(x @ x.transpose(-1, -2))
        self.lin.append(x.sum(-1))


def _combine(family, slots, fn, steps):
    """Signed per-group sums (NumPy) of a per-slot statistic ``fn(slot_arrays) -> (steps, groups)``."""
    out = np.zeros((steps, family.n_groups))
    for part in family.parts:
        x = fn(slots[(part.name, part.axis)])
        if part.block > 1:
            x = x.reshape(x.shape[0], -1, part.block).sum(-1)
        out += part.sign * x
    return out


class NoetherTracker:
    """Per-group charges, ``|g|^2``, ``|v|^2`` and ``<g, xi>`` recorded after ``optimizer.step()``.

    Parameters
    ----------
    model : nn.Module
    optimizer : torch.optim.Optimizer
        Any optimiser records charges and ``|g|^2``; ``update_sq``, the
        identity and ``rule`` need ``torch.optim.SGD`` (dampening 0, no
        Nesterov).
    families : sequence of SymmetryFamily
        From :func:`~varembed.nld.registry.find_symmetries` (ideally verified).

    chunk : int, default=16
        Steps buffered (one copy of ``q, g, v`` each) before their reductions
        are computed together; bounds memory to ``chunk`` copies.

    Notes
    -----
    Create the tracker before the first step; call :meth:`remove` to detach.
    A learning-rate schedule makes constant-rule predictions invalid: they
    then refuse.
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 families: Sequence[SymmetryFamily], chunk: int = 16):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        families = list(families)
        if not families:
            raise ValueError("families is empty: nothing to track (find_symmetries found no group?)")
        if not (isinstance(chunk, int) and chunk >= 1):
            raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
        self.chunk = chunk
        self.model, self.optimizer, self.families = model, optimizer, families
        self._params = dict(model.named_parameters())
        self._rules, self._why = [], []
        self._slots: Dict[tuple, _Slot] = {}
        for f in families:
            names = [p.name for p in f.parts]
            missing = [n for n in names if n not in self._params]
            if missing:
                raise ValueError(f"family {f.name!r} refers to unknown parameters {missing}")
            rule, why = _rule_for(optimizer, names, self._params)
            self._rules.append(rule)
            self._why.append(why)
            for p in f.parts:
                self._slots.setdefault((p.name, p.axis), _Slot(p.name, self._params[p.name], p.axis))
        self._by_param: Dict[str, list] = {}
        for slot in self._slots.values():
            self._by_param.setdefault(slot.name, []).append(slot)
        # the update is known for SGD whose every tracked parameter has a modelled rule
        self._decay = {}
        self._sgd = isinstance(optimizer, torch.optim.SGD)
        for name in self._by_param:
            rule, _ = _rule_for(optimizer, [name], self._params)  # the parameter's own group
            self._sgd = self._sgd and rule is not None
            self._decay[name] = (rule.weight_decay, rule.lr) if rule is not None else (0.0, 0.0)
        with torch.no_grad():
            self._charge0 = [f.charge({p.name: self._params[p.name].detach() for p in f.parts})
                             .to("cpu", torch.float64).numpy() for f in families]
        self._lr0 = [pg["lr"] for pg in optimizer.param_groups]
        self._n = 0
        self._pending = 0
        self._handles = [optimizer.register_step_post_hook(self._post)]

    @torch.no_grad()
    def _post(self, optimizer, args, kwargs):
        for name, slots in self._by_param.items():
            p = self._params[name]
            q = p.detach()
            g = p.grad if p.grad is not None else torch.zeros_like(q)
            tensors = [q, g]
            if self._sgd:
                v = optimizer.state.get(p, {}).get("momentum_buffer")
                if v is None:
                    k, lr = self._decay[name]
                    v = (g + k * q) / (1.0 - lr * k) if k else g
                tensors.append(v)
            for slot in slots:
                slot.push(tensors)
        self._n += 1
        self._pending += 1
        if self._pending >= self.chunk:
            self._flush()

    def _flush(self):
        for slot in self._slots.values():
            slot.flush()
        self._pending = 0

    def remove(self) -> None:
        """Detach the hook."""
        for h in self._handles:
            h.remove()
        self._handles = []

    @torch.no_grad()
    def history(self) -> List[ChargeHistory]:
        """Recorded quantities as NumPy arrays, one :class:`ChargeHistory` per family."""
        lr_now = [pg["lr"] for pg in self.optimizer.param_groups]
        schedule = lr_now != self._lr0
        self._flush()
        n = self._n
        arrays = {}
        for key, slot in self._slots.items():
            if n:
                slot.quad, slot.lin = [torch.cat(slot.quad)], [torch.cat(slot.lin)]
                quad = slot.quad[0].to("cpu", torch.float64).numpy()
                lin = slot.lin[0].to("cpu", torch.float64).numpy()
            else:
                quad = lin = None
            arrays[key] = (quad, lin, self._decay[slot.name][1])
        qi, gi, vi = _QUAD["q"], _QUAD["g"], _QUAD["v"]
        out = []
        for f, rule, why, q0 in zip(self.families, self._rules, self._why, self._charge0):
            nan = np.full((n, f.n_groups), np.nan)
            if n == 0:
                charge, identity, grad_sq, update_sq, update_dot = np.zeros((0, f.n_groups)), nan, nan, nan, nan
            else:
                grad_sq = _combine(f, arrays, lambda a: a[0][:, :, gi, gi], n)
                if f.proportional:
                    charge = _combine(f, arrays, lambda a: a[0][:, :, qi, qi], n)
                else:
                    charge = _combine(f, arrays, lambda a: a[1][:, :, qi], n)
                if self._sgd:
                    update_sq = _combine(f, arrays, lambda a: a[0][:, :, vi, vi], n)
                    update_dot = _combine(f, arrays, lambda a: a[0][:, :, vi, qi], n)
                    if f.proportional:  # <g_n, q_n> with q_n = q_{n+1} + eta v_n
                        identity = _combine(f, arrays, lambda a: a[0][:, :, gi, qi] + a[2] * a[0][:, :, gi, vi], n)
                    else:
                        identity = _combine(f, arrays, lambda a: a[1][:, :, gi], n)
                else:
                    update_sq = update_dot = nan
                    identity = nan if f.proportional else _combine(f, arrays, lambda a: a[1][:, :, gi], n)
            if schedule:
                rule, why = None, ("the learning rate changed during training (schedule): "
                                   "constant-rule predictions do not apply")
            out.append(ChargeHistory(
                family=f, rule=rule, charge=np.concatenate([q0[None], charge]), grad_sq=grad_sq,
                update_sq=update_sq, update_dot_next=update_dot, identity=identity, why=why,
            ))
        return out
