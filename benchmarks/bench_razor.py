"""Training-step time of the razor integrator vs. the public code's 20 Euler sub-steps.

Both integrators train the same symmetrised variational HNN (3 oscillators,
the 9 exact conserved quantities as full-orbit symmetries, S = 16, 256
transitions).  Accuracy is the one-step error on the true oscillator field
over dt = 0.2 (the field a trained model approximates; float64), judged
against the exact data.  RK4 must be at least as accurate as Euler-20 on the
true field; the printed ratio is (Euler-20 step time) / (RK4 step time)
measured in the same run.  Timings on a shared CPU are inflated by contention.

Usage: ``python benchmarks/bench_razor.py [--steps 10] [--n 3]``
"""

from __future__ import annotations

import argparse
import time

import torch

from varembed.razor import HarmonicOscillators, NoetherRazor, make_splits, oracle_generators, transitions
from varembed.razor.integrators import integrate
from varembed.razor.objective import negative_elbo


def one_step_error(field, x, dt, n_sub, method, reference):
    with torch.no_grad():
        return float((integrate(field, x, dt, n_sub, method) - reference).norm(dim=-1).max())


def time_steps(hnn, x, y, dt, method, n_sub, n_steps, gen):
    opt = torch.optim.Adam(hnn.parameters(), lr=1e-3)

    def step():
        terms = negative_elbo(hnn, x, y, dt, x.shape[0], n_sym=16, n_substeps=n_sub, method=method, generator=gen)
        opt.zero_grad()
        terms.loss.backward()
        opt.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return (time.perf_counter() - start) / n_steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--n", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    system = HarmonicOscillators(args.n)
    sp = make_splits(system, n_train=16, n_train_steps=16, n_test=2, n_test_steps=2, seed=0)
    est = NoetherRazor(generators=oracle_generators(system), dt=sp.dt, max_iter=1, random_state=0,
                       device="cpu").fit(sp.train)
    hnn = est.module_
    rows = torch.as_tensor(transitions(sp.train), dtype=hnn.J.dtype)
    x, y = rows[:, : system.dim], rows[:, system.dim :]
    gen = torch.Generator().manual_seed(0)
    true_field = lambda z: torch.as_tensor(system.vector_field(z.numpy()), dtype=z.dtype)  # noqa: E731
    print(f"{'integrator':12s} {'true err':>10s} {'s/step':>8s}")
    results = {}
    for method, n_sub in [("euler", 20), ("rk4", 1), ("rk4", 2)]:
        terr = one_step_error(true_field, x[None], sp.dt, n_sub, method, y[None])
        sec = time_steps(hnn, x, y, sp.dt, method, n_sub, args.steps, gen)
        results[(method, n_sub)] = (terr, sec)
        print(f"{method + '-' + str(n_sub):12s} {terr:10.2e} {sec:8.3f}")
    base = results[("euler", 20)]
    for key in (("rk4", 1), ("rk4", 2)):
        terr, sec = results[key]
        label = "at least as accurate" if terr <= base[0] else "LESS accurate"
        print(f"ratio euler-20 / {key[0]}-{key[1]} training-step time: {base[1] / sec:.2f}x "
              f"({label}: true-field error {terr:.1e} vs {base[0]:.1e})")


if __name__ == "__main__":
    main()
