"""Record Noether charges of symmetry groups during training.

:class:`NoetherTracker` registers two hooks on a PyTorch optimiser:

* a step *pre*-hook (the state ``q_n`` and minibatch gradient ``g_n`` the
  step is about to use): the charge ``Q_n``, ``|g_n|^2`` and the gradient
  identity ``<g_n, xi(q_n)>`` per group;
* a step *post*-hook (after ``optimizer.step()``): the update direction
  ``v_n`` actually applied -- PyTorch's momentum buffer, or for plain SGD
  ``g_n + k q_n = (g_n + k q_{n+1}) / (1 - eta k)`` -- giving ``|v_n|^2`` and
  ``<v_n, q_{n+1}>``.

Quadratic quantities are signed per group (``|.|_A1^2 - |.|_A2^2`` for a
rescale pair).  Everything stays on the parameters' device until
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


class NoetherTracker:
    """Per-group charges, ``|g|^2``, ``|v|^2`` and ``<g, xi>`` recorded around ``optimizer.step()``.

    Parameters
    ----------
    model : nn.Module
    optimizer : torch.optim.Optimizer
        Any optimiser records charges; ``update_sq`` and ``rule`` need
        ``torch.optim.SGD`` (dampening 0, no Nesterov).
    families : sequence of SymmetryFamily
        From :func:`~varembed.nld.registry.find_symmetries` (ideally verified).

    Notes
    -----
    Create the tracker before the first step; call :meth:`remove` to detach.
    A learning-rate schedule makes the recorded ``rule`` (read at creation)
    stale: predictions then refuse (they check ``lr`` at :meth:`history`).
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 families: Sequence[SymmetryFamily]):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        families = list(families)
        if not families:
            raise ValueError("families is empty: nothing to track (find_symmetries found no group?)")
        self.model, self.optimizer, self.families = model, optimizer, families
        self._params = dict(model.named_parameters())
        self._rules, self._why = [], []
        for f in families:
            names = [p.name for p in f.parts]
            missing = [n for n in names if n not in self._params]
            if missing:
                raise ValueError(f"family {f.name!r} refers to unknown parameters {missing}")
            rule, why = _rule_for(optimizer, names, self._params)
            self._rules.append(rule)
            self._why.append(why)
        self._sgd = isinstance(optimizer, torch.optim.SGD)
        self._records: List[Dict[str, list]] = [
            {"charge": [], "grad_sq": [], "identity": [], "update_sq": [], "update_dot_next": []}
            for _ in families
        ]
        self._lr0 = [pg["lr"] for pg in optimizer.param_groups]
        self._handles = [
            optimizer.register_step_pre_hook(self._pre),
            optimizer.register_step_post_hook(self._post),
        ]

    def _tensors(self, names, attr=None):
        out = {}
        for n in names:
            p = self._params[n]
            if attr == "grad":
                out[n] = p.grad if p.grad is not None else torch.zeros_like(p)
            else:
                out[n] = p.detach()
        return out

    @torch.no_grad()
    def _pre(self, optimizer, args, kwargs):
        for f, rec in zip(self.families, self._records):
            names = [p.name for p in f.parts]
            q, g = self._tensors(names), self._tensors(names, "grad")
            rec["charge"].append(f.charge(q))
            rec["grad_sq"].append(f.pairing(g, g))
            rec["identity"].append(f.identity(g, q))

    @torch.no_grad()
    def _post(self, optimizer, args, kwargs):
        for f, rec, rule in zip(self.families, self._records, self._rules):
            if rule is None or not self._sgd:
                nan = torch.full((f.n_groups,), float("nan"))
                rec["update_sq"].append(nan)
                rec["update_dot_next"].append(nan)
                continue
            names = [p.name for p in f.parts]
            q = self._tensors(names)
            v = {}
            for n in names:
                buf = optimizer.state.get(self._params[n], {}).get("momentum_buffer")
                if buf is not None:
                    v[n] = buf
                else:
                    g = self._params[n].grad
                    g = torch.zeros_like(q[n]) if g is None else g
                    k, lr = rule.weight_decay, rule.lr
                    v[n] = (g + k * q[n]) / (1.0 - lr * k) if k else g
            rec["update_sq"].append(f.pairing(v, v))
            rec["update_dot_next"].append(f.pairing(v, q))

    def remove(self) -> None:
        """Detach the hooks."""
        for h in self._handles:
            h.remove()
        self._handles = []

    @torch.no_grad()
    def history(self) -> List[ChargeHistory]:
        """Recorded quantities as NumPy arrays, one :class:`ChargeHistory` per family."""
        lr_now = [pg["lr"] for pg in self.optimizer.param_groups]
        schedule = lr_now != self._lr0
        out = []
        for f, rec, rule, why in zip(self.families, self._records, self._rules, self._why):
            q = self._tensors([p.name for p in f.parts])
            charge = rec["charge"] + [f.charge(q)]

            def arr(xs, width=f.n_groups):
                if not xs:
                    return np.zeros((0, width))
                return torch.stack([x.detach().to("cpu", torch.float64) for x in xs]).numpy()

            if schedule:
                rule, why = None, "the learning rate changed during training (schedule): constant-rule predictions do not apply"
            out.append(ChargeHistory(
                family=f, rule=rule, charge=arr(charge), grad_sq=arr(rec["grad_sq"]),
                update_sq=arr(rec["update_sq"]), update_dot_next=arr(rec["update_dot_next"]),
                identity=arr(rec["identity"]), why=why,
            ))
        return out
