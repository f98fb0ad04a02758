"""The razor's printed report: a verdict in words, the table with its legend, and the figure."""

from __future__ import annotations

import numpy as np

__all__ = ["LEGEND", "verdict", "format_table", "plot_singular_values"]

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


def plot_singular_values(results, path, title=None):
    """Bar plot of every arm's normalised singular values with the true rank and parallelness (PNG)."""
    import matplotlib.pyplot as plt

    arms = [r for r in results if r.symmetries is not None and r.symmetries.singular_values.size]
    fig, axes = plt.subplots(1, max(1, len(arms)), figsize=(4.6 * max(1, len(arms)), 3.6), squeeze=False)
    for ax, r in zip(axes[0], arms):
        s = r.symmetries
        sv = s.singular_values / s.singular_values[0]
        idx = np.arange(1, sv.size + 1)
        kept = idx <= s.rank
        ax.bar(idx[kept], sv[kept], color="tab:blue", label="reported")
        ax.bar(idx[~kept], sv[~kept], color="tab:gray", label="dropped")
        ax.set_yscale("log")
        if r.true_dim is not None:
            ax.axvline(r.true_dim + 0.5, color="k", ls="--", lw=1, label=f"true rank {r.true_dim}")
        if s.rank and s.parallelness is not None:
            pos = np.arange(1, s.rank + 1)
            ax.plot(pos, s.parallelness, "o", color="tab:red", label="parallelness of reported quantities")
            idx = np.arange(1, max(sv.size, s.rank) + 1)
        ax.set_ylim(min(1e-3, 0.5 * max(sv.min(), 1e-12)), 3.0)
        ax.set_xticks(idx)
        ax.set_xlabel("singular value index")
        ax.set_ylabel("slot singular value / largest")
        ax.set_title(f"{r.arm}: reports {s.rank} (true {r.true_dim})")
        # outside the axes: a legend inside covered the only bar of a rank-1 spectrum
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.22), ncol=2, frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
