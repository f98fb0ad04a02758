"""
Noether's Learning Dynamics: BatchNorm weight norms, predicted against measured
===============================================================================

Every filter feeding a BatchNorm layer is scale invariant, so gradient flow would
conserve its squared norm ``|w_i|^2``.  A finite learning rate (the mass of the
learning-rule Lagrangian) breaks that symmetry in the kinetic energy, and the charge
moves: ``Q'' + 2 gamma Q' + omega^2 Q = 2 |q'|^2``, a balance that
:func:`varembed.nld.charge_balance` reads off the core's Noether current (Tanaka &
Kunin 2021).  We train ``Linear -> BatchNorm -> ReLU -> Linear`` on load_digits with
SGD in two regimes, let :class:`varembed.nld.NoetherTracker` record the charges, and
judge three predictions with :func:`varembed.nld.assess`:

* the exact discrete recursion (limited here only by BatchNorm's ``eps = 1e-5``),
* the modified-equation balance driven by the measured update ``|v|^2`` (O(eta)),
* the NLD closed form (Bernoulli / RMSProp analogy), which assumes coherent
  gradients: it holds without momentum, and over-predicts with momentum 0.9 and
  minibatch noise, where the coherence ``kappa`` is small.
"""

import os

from varembed.nld.experiment import run_batchnorm_experiment
from varembed.nld.report import format_report, plot_experiments

fast = os.environ.get("VAREMBED_DOCS_FAST") == "1"
results = [run_batchnorm_experiment(regime, steps=400 if fast else 2000) for regime in ("coherent", "noisy")]
print(format_report(results))
plot_experiments(results, "nld_batchnorm.png")
