"""Text report, JSON summary and figure of :func:`~varembed.nld.experiment.run_batchnorm_experiment` runs.

The text opens with the verdicts (one line per predictor and run), then
defines every term in one line and points to the docs; the symmetry check
follows.  The figure shows, per run, measured against predicted charges of a
few channels and the relative error of each predictor over time.
"""

from __future__ import annotations

import textwrap
from typing import Sequence

import numpy as np

from .balance import charge_balance
from .verdicts import TERMS, format_error

__all__ = ["format_report", "summary", "plot_experiments"]

DOCS = "docs/nld.rst (the theory, the measured regimes and what each predictor assumes)"


def _settings(p: dict) -> str:
    batch = "full batch" if p["batch_size"] is None else f"batch {p['batch_size']}"
    return f"eta={p['lr']:g}, beta={p['momentum']:g}, k={p['weight_decay']:g}, {batch}, {p['steps']} steps"


def _balance_line(result) -> str:
    h = result.history
    b = charge_balance(h.rule, h.family)
    return (f"  (charge balance from the core: Q'' + {2 * b.gamma:.4g} Q' + {b.omega2:.4g} Q = "
            f"{b.source_gain:.4g} |q'|^2; fit residual {b.fit_residual:.0e})")


def format_report(results: Sequence) -> str:
    """The CLI's text: verdicts first, then the terms, the docs and the symmetry check."""
    first = results[0]
    p = first.params
    lines = [f"Noether's Learning Dynamics on load_digits: the squared norm |w_i|^2 of each of the {p['hidden']} "
             f"filters feeding BatchNorm (eps={p['eps']:g}), measured against three predictions.", ""]
    for r in results:
        lines.append(f"{r.regime} regime: {r.description}; {_settings(r.params)}")
        lines += [v.line() for v in r.assessment.verdicts]
        lines.append(_balance_line(r))
    lines += ["", "Terms:"]
    lines += [textwrap.fill(text, width=110, initial_indent=f"  {name:<18s} ", subsequent_indent=" " * 21)
              for name, text in TERMS.items()]
    lines += [f"Docs: {DOCS}", "", "Symmetry check before training (gradient identity <grad L, xi> = 0 on 4 "
              "minibatches; THE rank rule of varembed.core.symmetry):", first.symmetry.summary()]
    lines += first.symmetry.violations()
    return "\n".join(lines)


def summary(results: Sequence) -> dict:
    """JSON-ready summary: settings, errors, verdicts, coherence and final charges per run."""
    out = {}
    for r in results:
        a = r.assessment
        b = charge_balance(a.history.rule, a.history.family)
        out[r.regime] = {
            "description": r.description,
            "params": r.params,
            "verdicts": {v.predictor: {"error": v.error, "status": v.status, "reason": v.reason}
                         for v in a.verdicts},
            "median_kappa": float(np.nanmedian(a.kappa)),
            "identity_violation": a.violation,
            "charge_balance": {"gamma": b.gamma, "omega2": b.omega2, "source_gain": b.source_gain,
                               "mass": b.mass, "friction": b.friction, "fit_residual": b.fit_residual},
            "final_charge": a.history.charge[-1],
            "final_loss": float(r.losses[-1]),
        }
    return out


_STYLE = {"exact recursion": dict(ls="-", lw=1.0), "modified equation": dict(ls="--", lw=1.0),
          "NLD closed form": dict(ls=":", lw=1.3)}


def _tex_settings(p: dict) -> str:
    batch = "full batch" if p["batch_size"] is None else f"batch {p['batch_size']}"
    return (rf"$\eta$={p['lr']:g}, $\beta$={p['momentum']:g}, $k$={p['weight_decay']:g}, {batch}, "
            f"{p['steps']} steps")


def plot_experiments(results: Sequence, path, channels: int = 4):
    """One row per run: predicted against measured ``|w_i|^2``, and the errors over time (PNG at ``path``)."""
    from matplotlib.figure import Figure  # no pyplot: the user's backend is never touched

    rows = len(results)
    fig = Figure(figsize=(12, 4.6 * rows))
    axes = fig.subplots(rows, 2, squeeze=False)
    # fixed margins (tight_layout measures every tick label and costs more than the drawing)
    height = 4.6 * rows
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.55 / height, top=1 - 0.62 / height, wspace=0.24,
                        hspace=1.3 / 4.6)
    for row, r in zip(axes, results):
        a, h = r.assessment, r.history
        t = r.params["lr"] * np.arange(h.charge.shape[0])
        shown = min(channels, h.charge.shape[1])
        for c in range(shown):
            col = f"C{c}"
            row[0].plot(t, h.charge[:, c], color=col, lw=2.6, alpha=0.35, label="measured" if c == 0 else None)
            for name in ("modified equation", "NLD closed form"):
                row[0].plot(t, a.predictions[name][:, c], color=col, **_STYLE[name],
                            label=f"{name} (predicted)" if c == 0 else None)
        row[0].set(xlabel=r"time $t = n\eta$", ylabel=r"$|w_i|^2$ (scale charge of BatchNorm channel $i$)",
                   title=f"{r.regime}: measured vs predicted $|w_i|^2$ of channels 0-{shown - 1}\n"
                         f"{_tex_settings(r.params)}")
        row[0].legend(fontsize=8, loc="upper right")
        scale = np.abs(h.charge).max(1)
        for v in a.verdicts:  # from step 1: at step 0 every prediction starts at the measured value
            err = np.abs(a.predictions[v.predictor] - h.charge).max(1) / scale
            row[1].semilogy(t[1:], err[1:], color="k" if v.predictor == "exact recursion" else None,
                            **_STYLE[v.predictor], label=f"{v.predictor}: {v.status}, max {format_error(v.error)}")
        row[1].set(xlabel=r"time $t = n\eta$", ylabel="relative error of $|w_i|^2$ (max over channels)",
                   title=f"{r.regime}: error of each prediction over time\n"
                         rf"median coherence $\kappa$ = {np.nanmedian(a.kappa):.2f}")
        row[1].legend(fontsize=8, loc="lower right")
    fig.savefig(path, dpi=100)
    return path
