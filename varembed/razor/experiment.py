"""The paper's comparison: vanilla, oracle, learned and MAP-ablation arms.

:func:`run_comparison` fits every arm on the same data with the same seed and
reports, per arm, the training ``-ELBO / N`` with its NLL and KL parts and the
one-step MSE on the train and the three test sets (a Table-1/2 analogue), and
for learned arms the SVD analysis of the generators (the Figure-3 analogue).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .estimator import NoetherRazor
from .oracles import oracle_generators
from .systems import HarmonicOscillators, NBody, make_splits

__all__ = ["PRESETS", "ArmResult", "make_system", "arm_settings", "run_comparison", "format_table", "plot_singular_values"]

#: Small CPU settings per system (data sizes and model), see the research notes §6.
PRESETS = {
    "nharm1": dict(n_train=7, n_train_steps=4, n_conserved=1, n_iter=1000, activation_alpha=2.0,
                   n_symmetry_samples=16),
    "nharm2": dict(n_train=40, n_train_steps=20, n_conserved=7, n_iter=4000, n_warmup=800, batch_size=128,
                   n_symmetry_samples=8, lr=2e-3, lr_conserved=2e-2),
    "nharm3": dict(n_train=40, n_train_steps=20, n_conserved=12, n_iter=6000, n_warmup=600, batch_size=128,
                   n_symmetry_samples=8, lr=2e-3, lr_conserved=2e-2),
    "nbody2d3b": dict(n_train=50, n_train_steps=10, n_conserved=10, n_iter=1500, batch_size=250, hidden=128,
                      conserved_init_std=0.01),
}

ARMS = ("vanilla", "oracle", "learned", "map")


def make_system(name: str):
    """``nharm<n>`` (unit-frequency oscillators) or ``nbody<d>d<n>b``."""
    if name.startswith("nharm") and name[5:].isdigit():
        return HarmonicOscillators(int(name[5:]))
    if name.startswith("nbody") and name.endswith("b") and "d" in name[5:]:
        dim, bodies = name[5:-1].split("d")
        if dim.isdigit() and bodies.isdigit():
            return NBody(int(dim), int(bodies))
    raise ValueError(f"unknown system {name!r}: use nharm<n> (e.g. nharm3) or nbody<d>d<n>b (e.g. nbody2d3b)")


def arm_settings(arm: str, system, n_conserved: int) -> dict:
    """Estimator keywords that define one arm."""
    if arm == "vanilla":
        return dict(n_conserved=0)
    if arm == "oracle":
        return dict(generators=oracle_generators(system))
    if arm == "learned":
        return dict(n_conserved=n_conserved)
    if arm == "map":
        return dict(n_conserved=n_conserved, objective="map")
    raise ValueError(f"unknown arm {arm!r}; choose from {ARMS}")


@dataclass
class ArmResult:
    """Metrics of one fitted arm."""

    arm: str
    train: dict
    test_mse: dict
    seconds: float  # CPU (process) time of fit, robust to other jobs sharing the cores
    symmetries: object = None
    estimator: object = field(default=None, repr=False)


def run_comparison(system_name, *, arms=ARMS, seed=0, n_test=100, dt=0.2, overrides=None, verbose=False):
    """Fit each arm on one dataset and collect the metrics.

    Parameters
    ----------
    system_name : str
        Key of :data:`PRESETS` or any name accepted by :func:`make_system`.
    arms : sequence of {"vanilla", "oracle", "learned", "map"}
    seed : int
        Seed of the data splits and of every estimator.
    n_test : int
        Trajectories per test set.
    dt : float
    overrides : dict, optional
        Replaces preset entries (data sizes or estimator parameters).

    Returns
    -------
    system, splits, list of ArmResult
    """
    system = make_system(system_name)
    cfg = dict(PRESETS.get(system_name, PRESETS["nharm2"]))
    cfg.update(overrides or {})
    n_train, n_steps, k = cfg.pop("n_train"), cfg.pop("n_train_steps"), cfg.pop("n_conserved")
    splits = make_splits(system, n_train=n_train, n_train_steps=n_steps, n_test=n_test, dt=dt, seed=seed)
    results = []
    for arm in arms:
        est = NoetherRazor(**arm_settings(arm, system, k), **cfg, random_state=seed, verbose=verbose)
        start = time.process_time()
        est.fit(splits.train, splits.dt)
        seconds = time.process_time() - start
        train = est.evaluate(splits.train)
        tests = {"train": train["mse_mean"]}
        tests.update({name: est.mse(traj) for name, traj in splits.tests().items()})
        sym = est.learned_symmetries(system) if arm in ("learned", "map") else None
        results.append(ArmResult(arm, train, tests, seconds, sym, est))
    return system, splits, results


def format_table(results) -> str:
    """A Table-1/2-style text table (train -ELBO/N, NLL, KL/N; one-step MSEs)."""
    head = f"{'arm':8s} {'-ELBO/N':>10s} {'NLL':>10s} {'KL/N':>10s} {'train':>9s} {'test':>9s} " \
           f"{'wider':>9s} {'moved':>9s} {'cpu s':>6s}"
    lines = [head, "-" * len(head)]
    for r in results:
        t, m = r.train, r.test_mse
        lines.append(
            f"{r.arm:8s} {t['neg_elbo']:10.3f} {t['nll']:10.3f} {t['kl']:10.3f} {m['train']:9.2e} "
            f"{m['test']:9.2e} {m['test_wider']:9.2e} {m['test_moved']:9.2e} {r.seconds:6.0f}"
        )
    for r in results:
        if r.symmetries is not None:
            s = r.symmetries
            lines.append(
                f"{r.arm}: singular values {np.array2string(s.singular_values, precision=3)}; rank {s.rank} "
                f"(true {s.true_dim}), gap {s.gap:.1f}, min parallelness "
                f"{(s.parallelness.min() if s.rank else float('nan')):.3f}, "
                f"max bracket residual of top slots {np.sort(s.bracket_residuals)[:max(s.rank, 1)].max():.3f}"
            )
    return "\n".join(lines)


def plot_singular_values(results, path, title=None):
    """Figure-3-style bar plot of normalised singular values with parallelness (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    learned = [r for r in results if r.symmetries is not None]
    fig, axes = plt.subplots(1, max(1, len(learned)), figsize=(4.5 * max(1, len(learned)), 3.4), squeeze=False)
    for ax, r in zip(axes[0], learned):
        s = r.symmetries
        sv = s.singular_values / s.singular_values[0]
        idx = np.arange(1, sv.size + 1)
        colors = ["tab:blue" if i < s.rank else "tab:gray" for i in range(sv.size)]
        ax.bar(idx, sv, color=colors)
        ax.set_yscale("log")
        ax.axvline(s.true_dim + 0.5, color="k", ls="--", lw=1, label=f"true dim {s.true_dim}")
        if s.rank:
            ax.plot(idx[: s.rank], s.parallelness, "o", color="tab:red", label="parallelness")
        ax.set_ylim(min(1e-3, 0.5 * sv.min()), 1.5)
        ax.set_xticks(idx)
        ax.set_xlabel("singular value index")
        ax.set_ylabel("normalised singular value")
        ax.set_title(f"{r.arm}: rank {s.rank}, gap {s.gap:.1f}")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
