"""Find the parameter symmetries of an ``nn.Module`` and verify them numerically.

Detection reads the module graph (``torch.fx``) and matches the patterns that
imply a symmetry of the training loss (research note nld.md, section 3):

* **scale** -- a Linear/Conv whose output feeds a normalisation, possibly
  through channel-wise positively homogeneous ops (ReLU, pooling, dropout):
  BatchNorm (one group per channel: filter and bias), GroupNorm (one group per
  channel group), LayerNorm (the whole layer).  A residual addition or any
  other branching before the norm breaks the pattern.
* **translation** -- the last Linear into softmax cross-entropy (its columns
  and its bias); the bias of a Linear/Conv feeding BatchNorm directly (per
  channel, zero gradient); the columns and bias of a Linear feeding LayerNorm.
* **rescale** -- Linear/Conv -> homogeneous activation -> Linear/Conv (unit
  ``i``: incoming filter and bias against outgoing column ``i``), and
  BatchNorm affine -> homogeneous activation -> Linear/Conv.

Verification stacks the gradient identity ``<grad L_b, xi_k>`` (relative to
``|g_A| |xi_A|``) over minibatches ``b`` and groups ``k`` and hands the matrix
to the core's :func:`~varembed.core.symmetry.invariant_subspace`: verified
groups span its null space; per group, the same rank rule
(:func:`~varembed.core.symmetry.count_zero`) decides, and groups with a
residual above the tolerance are reported as violations with the likely cause (e.g. BatchNorm ``eps``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ..core.symmetry import InvariantSubspace, count_zero, invariant_subspace
from .groups import Part, SymmetryFamily

__all__ = ["find_symmetries", "verify_symmetries", "SymmetryReport"]

_LINEAR = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_HOMOGENEOUS_MODULES = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.Identity,
    nn.Dropout,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.MaxPool3d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AvgPool3d,
)
_HOMOGENEOUS_FUNCTIONS = {"relu", "leaky_relu", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
                          "avg_pool2d", "avg_pool3d", "dropout"}
_SOFTMAX = {"log_softmax", "softmax"}


def _trace(model: nn.Module):
    try:
        return torch.fx.symbolic_trace(model)
    except Exception as exc:  # noqa: BLE001 - any tracing failure means "cannot read the graph"
        raise ValueError(
            f"cannot read the graph of {type(model).__name__} with torch.fx ({type(exc).__name__}: {exc}); "
            "symmetry detection needs a traceable model (no data-dependent control flow)"
        ) from None


def _fn_name(node) -> Optional[str]:
    if node.op == "call_function":
        return getattr(node.target, "__name__", None)
    if node.op == "call_method":
        return str(node.target)
    return None


def _is_homogeneous(node, modules) -> bool:
    if node.op == "call_module":
        return isinstance(modules[node.target], _HOMOGENEOUS_MODULES)
    name = _fn_name(node)
    return name in _HOMOGENEOUS_FUNCTIONS


def _is_softmax(node, modules) -> bool:
    if node.op == "call_module":
        return isinstance(modules[node.target], (nn.LogSoftmax, nn.Softmax))
    return _fn_name(node) in _SOFTMAX


def _follow(node, modules):
    """Walk single-user chains of homogeneous channel-wise ops after ``node``."""
    passed = []
    while len(node.users) == 1:
        nxt = next(iter(node.users))
        if len(nxt.all_input_nodes) != 1:
            return passed, nxt
        if _is_homogeneous(nxt, modules):
            passed.append(nxt)
            node = nxt
            continue
        return passed, nxt
    return passed, None


def _out_channels(m) -> int:
    return m.out_features if isinstance(m, nn.Linear) else m.out_channels


def _in_channels(m) -> int:
    return m.in_features if isinstance(m, nn.Linear) else m.in_channels


def _has(m, attr) -> bool:
    return getattr(m, attr, None) is not None and isinstance(getattr(m, attr), nn.Parameter)


def _families_after_linear(node, modules, loss) -> List[SymmetryFamily]:
    name = node.target
    mod = modules[name]
    w, b = f"{name}.weight", f"{name}.bias"
    bias = _has(mod, "bias")
    c_out = _out_channels(mod)
    passed, nxt = _follow(node, modules)
    fams: List[SymmetryFamily] = []
    if nxt is None:
        return fams
    nxt_mod = modules.get(nxt.target) if nxt.op == "call_module" else None
    label = type(nxt_mod).__name__ if nxt_mod is not None else str(nxt.target)
    rows = (Part(w, 0),) + ((Part(b, 0),) if bias else ())
    if isinstance(nxt_mod, _BATCHNORM) and nxt_mod.num_features == c_out:
        note = f"BatchNorm eps={nxt_mod.eps:g} breaks it at O(eps/var)" if nxt_mod.eps > 0 else ""
        if not nxt_mod.training:
            note += "; BatchNorm in eval mode is not scale invariant"
        fams.append(SymmetryFamily("scale", f"scale {name} -> {nxt.target} ({label})", rows, c_out,
                                   "normalised per channel by BatchNorm. " + note))
        if bias and not passed:
            fams.append(SymmetryFamily("translation", f"translation {b} -> {nxt.target} ({label})",
                                       (Part(b, 0),), c_out,
                                       "pre-BatchNorm bias: BatchNorm removes the channel mean"))
    elif isinstance(nxt_mod, nn.GroupNorm) and nxt_mod.num_channels == c_out:
        per = c_out // nxt_mod.num_groups
        parts = tuple(Part(p.name, 0, block=per) for p in rows)
        fams.append(SymmetryFamily("scale", f"scale {name} -> {nxt.target} ({label})", parts,
                                   nxt_mod.num_groups, f"normalised per group by GroupNorm (eps={nxt_mod.eps:g})"))
    elif isinstance(nxt_mod, nn.LayerNorm):
        whole = (Part(w, None),) + ((Part(b, None),) if bias else ())
        fams.append(SymmetryFamily("scale", f"scale {name} -> {nxt.target} ({label})", whole, 1,
                                   f"the whole layer is normalised by LayerNorm (eps={nxt_mod.eps:g})"))
        if isinstance(mod, nn.Linear) and not passed and tuple(nxt_mod.normalized_shape) == (c_out,):
            fams.append(SymmetryFamily("translation", f"translation columns {w} -> {nxt.target} ({label})",
                                       (Part(w, 1),), mod.in_features,
                                       "LayerNorm removes the feature mean"))
            if bias:
                fams.append(SymmetryFamily("translation", f"translation {b} -> {nxt.target} ({label})",
                                           (Part(b, None),), 1, "LayerNorm removes the feature mean"))
    elif isinstance(nxt_mod, _LINEAR) and _in_channels(nxt_mod) == c_out:
        fams.append(SymmetryFamily(
            "rescale", f"rescale {name} -> {nxt.target}",
            rows + (Part(f"{nxt.target}.weight", 1, sign=-1.0),), c_out,
            "positively homogeneous map between the layers: unit i's incoming weights "
            "against its outgoing column"))
    else:
        out_node = nxt
        if _is_softmax(nxt, modules) and len(nxt.users) == 1:
            out_node = next(iter(nxt.users))
        if (out_node.op == "output" and not passed and isinstance(mod, nn.Linear)
                and loss in ("cross_entropy", "nll")):
            fams.append(SymmetryFamily("translation", f"translation columns {w} (softmax)",
                                       (Part(w, 1),), mod.in_features,
                                       "softmax cross-entropy is invariant to adding a constant to all logits"))
            if bias:
                fams.append(SymmetryFamily("translation", f"translation {b} (softmax)", (Part(b, None),), 1,
                                           "softmax cross-entropy is invariant to a common logit shift"))
    return fams


def _families_after_norm(node, modules) -> List[SymmetryFamily]:
    name = node.target
    mod = modules[name]
    if not (isinstance(mod, _BATCHNORM) and mod.affine):
        return []
    passed, nxt = _follow(node, modules)
    if nxt is None or nxt.op != "call_module":
        return []
    nxt_mod = modules[nxt.target]
    if not (isinstance(nxt_mod, _LINEAR) and _in_channels(nxt_mod) == mod.num_features):
        return []
    parts = (Part(f"{name}.weight", 0), Part(f"{name}.bias", 0), Part(f"{nxt.target}.weight", 1, sign=-1.0))
    return [SymmetryFamily("rescale", f"rescale {name} (affine) -> {nxt.target}", parts, mod.num_features,
                           "BatchNorm affine output is positively homogeneous in (gamma_i, beta_i)")]


def find_symmetries(model: nn.Module, loss: str = "cross_entropy") -> List[SymmetryFamily]:
    """Detect the scale, translation and rescale groups of a model.

    Parameters
    ----------
    model : nn.Module
        A ``torch.fx``-traceable model producing logits.
    loss : {"cross_entropy", "nll", "other"}, default="cross_entropy"
        The training loss; translation of the last layer needs softmax
        cross-entropy (or NLL on log-softmax outputs).

    Returns
    -------
    list of SymmetryFamily

    Raises
    ------
    TypeError
        If ``model`` is not an ``nn.Module``.
    ValueError
        If the graph cannot be read or no symmetry is detected.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if loss not in ("cross_entropy", "nll", "other"):
        raise ValueError(f"loss must be 'cross_entropy', 'nll' or 'other', got {loss!r}")
    gm = _trace(model)
    modules = dict(gm.named_modules())
    fams: List[SymmetryFamily] = []
    for node in gm.graph.nodes:
        if node.op != "call_module":
            continue
        mod = modules[node.target]
        if isinstance(mod, _LINEAR):
            fams += _families_after_linear(node, modules, loss)
        elif isinstance(mod, _BATCHNORM):
            fams += _families_after_norm(node, modules)
    if not fams:
        raise ValueError(
            f"no parameter symmetry detected in {type(model).__name__}: expected a Linear/Conv feeding a "
            "normalisation layer (scale), a last Linear into softmax cross-entropy (translation), or "
            "Linear -> ReLU -> Linear (rescale)"
        )
    return fams


@dataclass(frozen=True)
class SymmetryReport:
    """Numerical verification of detected symmetry groups.

    Attributes
    ----------
    families : list of SymmetryFamily
    violation : list of ndarray
        Per family, per group: ``max_b |<g_b, xi>| / (|g_A| |xi_A|)`` over the
        batches.
    verified : list of ndarray of bool
        The groups whose violation :func:`~varembed.core.symmetry.count_zero`
        counts as zero (exact mode, ``tol``).
    subspace : InvariantSubspace
        The core's null space of the stacked, normalised residual matrix
        (batches x all groups): its singular values are the evidence.  With at
        least as many batches as generators its rank counts the independent
        symmetries among the candidates (combinations included); with fewer
        batches the null space is under-determined and only the per-group
        ``violation`` decides.
    tol : float
    """

    families: List[SymmetryFamily]
    violation: List[np.ndarray]
    verified: List[np.ndarray]
    subspace: InvariantSubspace
    tol: float

    def verified_families(self) -> List[SymmetryFamily]:
        """Families whose every group passed."""
        return [f for f, ok in zip(self.families, self.verified) if bool(np.all(ok))]

    def violations(self) -> List[str]:
        """One line per family with a violated group, with the structural note."""
        lines = []
        for f, v, ok in zip(self.families, self.violation, self.verified):
            if not np.all(ok):
                lines.append(f"{f.name}: {int(np.sum(~ok))}/{f.n_groups} groups violate the identity "
                             f"(max relative residual {float(np.max(v)):.2e} > tol {self.tol:.1e}); {f.reason}")
        return lines

    def summary(self) -> str:
        """Readable table of families, violations and the null-space evidence."""
        lines = [f"{'family':60s} groups  max violation  verified"]
        for f, v, ok in zip(self.families, self.violation, self.verified):
            lines.append(f"{f.name[:60]:60s} {f.n_groups:6d}  {float(np.max(v)):13.2e}  {int(ok.sum())}/{ok.size}")
        s = self.subspace
        lines.append(f"invariant subspace rank {s.rank}/{s.singular_values.size}, gap {s.gap:.2e}")
        return "\n".join(lines)


def _default_loss(loss: str) -> Callable:
    if loss == "nll":
        return nn.functional.nll_loss
    return nn.functional.cross_entropy


def verify_symmetries(
    model: nn.Module,
    batches: Iterable,
    families: Optional[Sequence[SymmetryFamily]] = None,
    loss_fn: Optional[Callable] = None,
    tol: Optional[float] = None,
) -> SymmetryReport:
    """Check the gradient identity ``<grad L, xi> = 0`` of every group on minibatches.

    Parameters
    ----------
    model : nn.Module
        In training mode for normalisation layers to use batch statistics.
    batches : iterable of (X, y)
    families : sequence of SymmetryFamily, optional
        Default :func:`find_symmetries` ``(model)``.
    loss_fn : callable, optional
        ``loss_fn(model(X), y) -> scalar``; default cross-entropy.
    tol : float, optional
        Relative residual counted as zero; default ``1e4 * finfo(dtype).eps``
        (2.2e-12 in float64).

    Returns
    -------
    SymmetryReport
    """
    if families is None:
        families = find_symmetries(model)
    families = list(families)
    loss_fn = loss_fn or _default_loss("cross_entropy")
    params = dict(model.named_parameters())
    names = sorted({p.name for f in families for p in f.parts})
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"families refer to parameters the model does not have: {missing}")
    dtype = params[names[0]].dtype
    if tol is None:
        tol = 1e4 * float(torch.finfo(dtype).eps)
    rows = []
    for X, y in batches:
        loss = loss_fn(model(X), y)
        grads = torch.autograd.grad(loss, [params[n] for n in names], allow_unused=True)
        g = {n: (gi if gi is not None else torch.zeros_like(params[n])) for n, gi in zip(names, grads)}
        with torch.no_grad():
            n_all = sum(params[n].numel() for n in names)
            rms = float(torch.sqrt(sum((gi**2).sum() for gi in g.values()) / n_all))
            row = []
            for f in families:
                res = f.identity(g, params)
                scale = f.identity_scale(g, params, grad_rms=rms)
                row.append((res / (scale + torch.finfo(dtype).tiny)).detach().cpu().numpy())
            rows.append(np.concatenate(row))
    if not rows:
        raise ValueError("batches is empty: at least one (X, y) minibatch is needed")
    r = np.stack(rows)
    sub = invariant_subspace(r, tol=tol * np.sqrt(r.shape[0]))
    viol, ok, start = [], [], 0
    for f in families:
        v = np.max(np.abs(r[:, start:start + f.n_groups]), axis=0)
        viol.append(v)
        ok.append(v <= count_zero(v, tol=tol).threshold)  # THE rank rule, exact mode
        start += f.n_groups
    return SymmetryReport(families=families, violation=viol, verified=ok, subspace=sub, tol=float(tol))
