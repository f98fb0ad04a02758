"""
Noether's Learning Dynamics: BatchNorm weight norms, predicted against measured
===============================================================================

Every filter feeding a BatchNorm layer is scale invariant, so gradient flow would
conserve its squared norm ``|w_i|^2``.  A finite learning rate (the mass of the
learning-rule Lagrangian) breaks that symmetry in the kinetic energy, and the charge
moves: ``(m/2) Q'' + (mu/2) Q' + k Q = m |q'|^2`` (Tanaka & Kunin 2021).  We train
``Linear -> BatchNorm -> ReLU -> Linear`` on load_digits with SGD (momentum 0.9,
weight decay), let :class:`varembed.nld.NoetherTracker` record the charges, and
compare them with

* the exact discrete recursion (limited here only by BatchNorm's ``eps = 1e-5``),
* the modified-equation ODE driven by the measured update ``|v|^2``,
* the NLD closed form (Bernoulli / RMSProp analogy), which assumes coherent
  gradients: with minibatch noise and momentum the coherence ``kappa`` is small and
  it over-predicts, as the research note documents.
"""

import os

from varembed.nld.experiment import plot_batchnorm_experiment, run_batchnorm_experiment

fast = os.environ.get("VAREMBED_DOCS_FAST") == "1"
result = run_batchnorm_experiment(steps=400 if fast else 2000, lr=0.05, momentum=0.9, weight_decay=1e-3)
print(result.report)
for name, err in result.errors.items():
    print(f"max relative error of |w_i|^2 ({name}): {err:.2e}")
plot_batchnorm_experiment(result, "nld_batchnorm.png")
