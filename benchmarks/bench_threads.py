"""The demo fit on an idle machine and beside one busy process, with the thread policy and without.

Each configuration runs in a fresh subprocess: ``python -m varembed demo``'s fit
(``VariationalEmbedding`` on the 2000-point swiss roll) with the estimators' own thread
choice (``n_jobs=None``: one thread for a problem this small) and, for reference, with
every core (``n_jobs=-1``, what torch does by default).  The competing process is a
NumPy matrix-multiplication loop using every core.  Prints wall times and the ratio
busy / idle (target: <= 2 with the thread policy).

Run: ``python benchmarks/bench_threads.py [--repeat 3]`` on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time

import numpy as np

FIT = """
import time, torch
from varembed import VariationalEmbedding
from varembed.datasets import load_demo
demo = load_demo()
t0 = time.perf_counter()
VariationalEmbedding(**dict(demo.params, random_state=0, device="cpu", n_jobs={n_jobs})).fit(demo.data)
print(time.perf_counter() - t0)
"""

BUSY = """
import numpy as np
a = np.random.default_rng(0).normal(size=(1500, 1500))
while True:
    a = a @ a; a /= np.abs(a).max()
"""


def fit_seconds(n_jobs) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", FIT.format(n_jobs=n_jobs)], capture_output=True, text=True, env=env,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows = {}
    for setting in ("None", "-1"):
        idle = [fit_seconds(setting) for _ in range(args.repeat)]
        env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        busy_proc = subprocess.Popen([sys.executable, "-c", BUSY], env=env)
        try:
            time.sleep(2.0)
            busy = [fit_seconds(setting) for _ in range(args.repeat)]
        finally:
            busy_proc.kill()
        rows[setting] = (float(np.median(idle)), float(np.median(busy)))
    print(f"# Thread policy: demo fit idle vs beside one busy process ({datetime.date.today()}, "
          f"{platform.machine()}, {os.cpu_count()} cores, median of {args.repeat})\n")
    print("| n_jobs | idle s | beside a busy process s | busy / idle |")
    print("|---|---|---|---|")
    for setting, (idle, busy) in rows.items():
        label = "None (chosen: 1 thread here)" if setting == "None" else "-1 (all cores, torch's default)"
        print(f"| {label} | {idle:.1f} | {busy:.1f} | {busy / idle:.2f} |")


if __name__ == "__main__":
    main()
