"""The razor's printed report: a verdict in words, the table with its legend, and the figure."""

from __future__ import annotations

import numpy as np

__all__ = ["LEGEND", "verdict", "format_table", "plot_selection"]

LEGEND = """columns:
  rank      conserved quantities the arm reports (learned: selected by the bound, read from the posterior;
            map: selected by the MAP loss; oracle: the exact ones); true = the ground truth's
  par       smallest parallelness |P_true v| of a reported quantity (1 = inside the true conserved subspace)
  drift     largest drift of a reported quantity along held-out true trajectories: std over time along a
            trajectory / std across trajectories of its time average (0 = exactly conserved)
  -ELBO/N   negative ELBO per training transition = NLL + KL/N (lower is better)
  NLL       expected negative log-likelihood per training transition;  KL/N  posterior KL / N
  train     one-step MSE on the training trajectories
  test      one-step MSE on test trajectories from the training distribution of positions
  wider     one-step MSE on test trajectories whose positions are 3x wider
  moved     one-step MSE on test trajectories whose positions are shifted by +1
  cpu s     process CPU seconds of the fit"""


def _fmt(value, spec):
    width = int(spec.split(".")[0])
    return "-".rjust(width) if value is None or not np.isfinite(value) else format(value, spec)


def verdict(result) -> str:
    """One sentence on a learned arm: its rank against the truth and how well its quantities are conserved."""
    s = result.symmetries
    if s is None:
        return f"{result.system} / {result.arm}: no conserved quantities (vanilla)"
    relation = "=" if s.rank == result.true_dim else "!="
    text = f"{result.system} / {result.arm}: rank {s.rank} {relation} true rank {result.true_dim}"
    if s.rank:
        text += (f"; every reported quantity inside the true subspace to parallelness {s.min_parallelness:.4f} "
                 f"and conserved to {s.max_drift:.1e} of its spread on held-out trajectories")
    return text


def format_table(results) -> str:
    """The ablation table of :func:`varembed.razor.experiment.run_system` results."""
    head = (f"{'system':12s} {'arm':8s} {'rank':>4s} {'true':>4s} {'par':>6s} {'drift':>8s} {'-ELBO/N':>9s} "
            f"{'NLL':>9s} {'KL/N':>8s} {'train':>9s} {'test':>9s} {'wider':>9s} {'moved':>9s} {'cpu s':>6s}")
    lines = [head, "-" * len(head)]
    for r in results:
        s, t, m = r.symmetries, r.train, r.test_mse
        rank = "-" if s is None else str(s.rank)
        par = None if s is None else s.min_parallelness
        drift = None if s is None else s.max_drift
        lines.append(
            f"{r.system:12s} {r.arm:8s} {rank:>4s} {str(r.true_dim):>4s} {_fmt(par, '6.3f')} "
            f"{_fmt(drift, '8.1e')} {t['neg_elbo']:9.3f} {t['nll']:9.3f} {t['kl']:8.3f} {m['train']:9.2e} "
            f"{m['test']:9.2e} {m['test_wider']:9.2e} {m['test_moved']:9.2e} {r.seconds:6.0f}"
        )
    return "\n".join(lines)


def plot_selection(results, path, title=None, *, z_crit=3.0):
    """The selection of every arm that has one: the paired z-score of each hypothesis tried (PNG).

    One bar per hypothesis, labelled by the size of its (closed) span, green
    when the bound accepted it; the dashed lines are ``+-z_crit``.  The
    z-axis is symmetric-logarithmic: rejected wrong spans reach -100 and below.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    arms = [r for r in results if r.selection and r.selection.get("trials")]
    fig, axes = plt.subplots(1, max(1, len(arms)), figsize=(4.6 * max(1, len(arms)), 3.6), squeeze=False)
    for ax, r in zip(axes[0], arms):
        trials = r.selection["trials"]
        z = np.array([t["z"] if t["z"] is not None and np.isfinite(t["z"]) else -1e3 for t in trials])
        colors = ["tab:green" if t["accepted"] else "tab:red" for t in trials]
        idx = np.arange(1, len(trials) + 1)
        ax.bar(idx, np.clip(z, -1e3, 1e3), color=colors)
        ax.axhline(z_crit, color="k", ls="--", lw=1)
        ax.axhline(-z_crit, color="k", ls="--", lw=1)
        ax.set_yscale("symlog", linthresh=z_crit)
        ax.set_xticks(idx, [f"{t['n_symmetries']}" for t in trials])
        ax.set_xlabel("size of the hypothesis (closed span)")
        ax.set_ylabel("paired z of the bound's improvement")
        reported = r.symmetries.rank if r.symmetries is not None else 0
        ax.set_title(f"{r.arm}: reports {reported} (true {r.true_dim})")
        handles = [Patch(color="tab:green", label="accepted"), Patch(color="tab:red", label="rejected"),
                   plt.Line2D([], [], color="k", ls="--", label=f"z = +-{z_crit:g}")]
        # outside the axes: a legend inside can cover the only bar
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.22), ncol=3, frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
