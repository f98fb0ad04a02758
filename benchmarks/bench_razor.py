"""Training-step time of the razor integrator vs. the public code's 20 Euler sub-steps.

Both integrators train the same symmetrised variational HNN (3 oscillators,
K = 12 learnable conserved quantities, S = 16, 256 transitions).  Accuracy is
the one-step error on the true oscillator field over dt = 0.2 (the field a
trained model approximates; float64), judged against the exact data.  The
error on the untrained network's field (|f| ~ 10, much stiffer than any
trained one) against a 400-step RK4 reference is printed for information.
RK4 must be at least as accurate as Euler-20 on the true field; the printed
ratio is (Euler-20 step time) / (RK4 step time) measured in the same run.
Timings on a shared CPU are inflated by contention.

Usage: ``python benchmarks/bench_razor.py [--steps 10] [--n 3]``
"""

from __future__ import annotations

import argparse
import time

import torch

from varembed.razor import HarmonicOscillators, NoetherRazor, make_splits
from varembed.razor.integrators import integrate
from varembed.razor.objective import negative_elbo
from varembed.razor.symmetrisation import hamiltonian_vector_field
from varembed.razor.training import transitions


def one_step_error(field, x, dt, n_sub, method, reference):
    with torch.no_grad():
        return float((integrate(field, x, dt, n_sub, method) - reference).norm(dim=-1).max())


def time_steps(est, hnn, x, y, method, n_sub, n_steps, gen):
    opt = torch.optim.Adam(hnn.parameters(), lr=1e-3)
    def step():
        terms = negative_elbo(hnn, x, y, est.dt_, x.shape[0], n_sym=16, n_substeps=n_sub, method=method,
                              generator=gen)
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
    est = NoetherRazor(n_conserved=args.n**2 + 3, n_iter=1, random_state=0).fit(sp.train, sp.dt)
    hnn = est.module_
    x, y = transitions(sp.train, hnn.J.dtype, "cpu")
    gen = torch.Generator().manual_seed(0)
    weights, group = hnn.draw(1, 16, gen)
    weights = [w.detach() for w in weights]
    field = hamiltonian_vector_field(hnn.network, weights, group.detach(), hnn.J, create_graph=False)
    x3 = x[None]
    ref = integrate(field, x3, est.dt_, 400, "rk4").detach()
    true_field = lambda z: torch.as_tensor(system.vector_field(z.numpy()), dtype=z.dtype)
    true_ref = torch.as_tensor(sp.train[:, 1:].reshape(-1, system.dim), dtype=x.dtype)[None]
    settings = [("euler", 20), ("rk4", 1), ("rk4", 2)]
    print(f"{'integrator':12s} {'true err':>10s} {'init-net err':>12s} {'s/step':>8s}")
    results = {}
    for method, n_sub in settings:
        err = one_step_error(field, x3, est.dt_, n_sub, method, ref)
        terr = one_step_error(true_field, x3.double(), est.dt_, n_sub, method, true_ref.double())
        sec = time_steps(est, hnn, x, y, method, n_sub, args.steps, gen)
        results[(method, n_sub)] = (err, terr, sec)
        print(f"{method + '-' + str(n_sub):12s} {terr:10.2e} {err:12.2e} {sec:8.3f}")
    base = results[("euler", 20)]
    for key in (("rk4", 1), ("rk4", 2)):
        err, terr, sec = results[key]
        equal = terr <= base[1]
        print(f"ratio euler-20 / {key[0]}-{key[1]} training-step time: {base[2] / sec:.2f}x "
              f"({'at least as accurate' if equal else 'LESS accurate'}: true-field error {terr:.1e} "
              f"vs {base[1]:.1e})")


if __name__ == "__main__":
    main()
