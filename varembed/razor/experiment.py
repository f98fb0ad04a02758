"""The ablation that shows the razor: learned (ELBO) vs MAP vs vanilla vs oracle, per system.

Every arm of a system is fitted on the same data with the same seed and the
same number of optimiser steps; for each arm the table reports the rank of
the reported conserved subspace, its parallelness to the truth and the drift
of its quantities along held-out trajectories, the training ``-ELBO / N``
with its NLL and KL parts, and the one-step MSE on the train and the three
test sets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .data import make_splits
from .estimator import NoetherRazor
from .nbody import NBody
from .oracles import oracle_generators
from .systems import HarmonicOscillators, anisotropic_oscillator, coupled_oscillators

__all__ = ["SYSTEMS", "ARMS", "ArmResult", "make_system", "arm_settings", "run_system", "run_ablation"]

#: name -> (factory, preset).  Small CPU sizes: 40 x 20 training transitions (n-body 50 x 20), K slots.
SYSTEMS = {
    "distinct2": (lambda: HarmonicOscillators(2, [1.0, 1.7]), dict(n_conserved=6)),
    "equal2": (lambda: HarmonicOscillators(2), dict(n_conserved=6)),
    "aniso2d": (lambda: anisotropic_oscillator((1.0, 1.7)), dict(n_conserved=6)),
    "distinct3": (lambda: HarmonicOscillators(3, [1.0, 1.7, 2.4]), dict(n_conserved=11)),
    "partly3": (lambda: HarmonicOscillators(3, [1.0, 1.0, 1.7]), dict(n_conserved=11)),
    "equal3": (lambda: HarmonicOscillators(3), dict(n_conserved=11)),
    "coupled3": (lambda: coupled_oscillators(3, coupling=1.0), dict(n_conserved=11)),
    "nbody": (lambda: NBody(2, 3), dict(n_conserved=10, n_train=50, hidden=(96, 96))),
    "nbody_field": (lambda: NBody(2, 3, field=0.5), dict(n_conserved=10, n_train=50, hidden=(96, 96))),
}

#: Settings shared by every system and arm (the estimator's defaults otherwise).
COMMON = dict(dt=0.2, batch_size=128, learning_rate=2e-3, selection_iter=400, max_iter=300,
              eval_mc_samples=8, eval_symmetry_samples=32, dtype="float32")
DATA = dict(n_train=40, n_train_steps=20, n_test=50, n_test_steps=20, p_train=1.0)

ARMS = ("learned", "map", "vanilla", "oracle")


def make_system(name: str):
    """A system of :data:`SYSTEMS` by name."""
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")
    return SYSTEMS[name][0]()


def arm_settings(arm: str, system, n_conserved: int, budget: int) -> dict:
    """Estimator keywords of one arm; arms without a selection get its whole step ``budget``."""
    if arm == "learned":
        return dict(n_conserved=n_conserved)
    if arm == "map":
        return dict(n_conserved=n_conserved, objective="map")
    if arm == "vanilla":
        return dict(n_conserved=0, max_iter=budget)
    if arm == "oracle":
        return dict(generators=oracle_generators(system), max_iter=budget)
    raise ValueError(f"unknown arm {arm!r}; choose from {', '.join(ARMS)}")


@dataclass
class ArmResult:
    """Metrics of one fitted arm."""

    system: str
    arm: str
    train: dict
    test_mse: dict
    seconds: float  # CPU (process) time of the fit, robust to other jobs sharing the cores
    symmetries: object = None
    true_dim: int = None
    selection: dict = None
    estimator: object = field(default=None, repr=False)


def run_system(name, *, arms=ARMS, seed=0, overrides=None, verbose=0, n_jobs=1):
    """Fit every arm on one system's data; returns ``(system, splits, [ArmResult])``."""
    system = make_system(name)
    cfg = {**COMMON, **DATA, **SYSTEMS[name][1], **(overrides or {})}
    data = {k: cfg.pop(k) for k in DATA}
    k = cfg.pop("n_conserved")
    splits = make_splits(system, dt=cfg["dt"], seed=seed, **data)
    budget = cfg["selection_iter"] + cfg["max_iter"]  # the steps of the selected hypothesis
    true_dim = None
    results = []
    for arm in arms:
        settings = {**cfg, **arm_settings(arm, system, k, budget)}
        est = NoetherRazor(**settings, random_state=seed, verbose=verbose, n_jobs=n_jobs)
        start = time.process_time()
        est.fit(splits.train)
        seconds = time.process_time() - start
        train = est.evaluate(splits.train)
        tests = {"train": train["mse"], **{key: est.mse(traj) for key, traj in splits.tests().items()}}
        sym = est.learned_symmetries(system, splits.test)  # what the fitted model conserves (every arm)
        true_dim = sym.true_dim
        results.append(ArmResult(name, arm, train, tests, seconds, sym, None, est.selection_, est))
    for r in results:
        r.true_dim = true_dim
    return system, splits, results


def run_ablation(systems=tuple(SYSTEMS), *, arms=ARMS, seed=0, overrides=None, verbose=0, n_jobs=1,
                 callback=None):
    """:func:`run_system` for every system; ``callback(results)`` after each (e.g. to print)."""
    out = []
    for name in systems:
        _, _, results = run_system(name, arms=arms, seed=seed, overrides=overrides, verbose=verbose,
                                   n_jobs=n_jobs)
        out.extend(results)
        if callback is not None:
            callback(results)
    return out


def summary(results) -> list:
    """JSON-friendly rows (one per arm), for :func:`varembed.cli._common.write_json`."""
    rows = []
    for r in results:
        row = {"system": r.system, "arm": r.arm, "train": r.train, "mse": r.test_mse, "cpu_seconds": r.seconds,
               "true_rank": r.true_dim, "selection": r.selection}
        s = r.symmetries
        if s is not None:
            row["symmetries"] = {"rank": s.rank, "rule": s.rule, "singular_values": s.singular_values,
                                 "z_scores": s.z_scores, "parallelness": s.parallelness, "drift": s.drift,
                                 "principal_angles": s.principal_angles, "bracket_residuals": s.bracket_residuals}
        rows.append(row)
    return rows
