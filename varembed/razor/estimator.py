"""``NoetherRazor``: a variational HNN that learns its conserved quantities (a scikit-learn estimator)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._utils.device import resolve_device, resolve_dtype
from .._utils.random import resolve_seed, spawn_seeds, torch_generator
from .._utils.threads import torch_threads
from .conserved import MEASURES, ConservedQuantities
from .evaluation import EvaluationMixin
from .hnn import SymmetricHNN
from .inputs import check_generators, check_hidden, is_trajectory_array, split_rows, transitions
from .model import HamiltonianMLP
from .readout import LearnedSymmetries
from .selection import select_symmetries
from .training import fit_hnn

__all__ = ["NoetherRazor"]


class NoetherRazor(EvaluationMixin, BaseEstimator):
    """Hamiltonian neural network with learned conserved quantities (Noether's Razor).

    A variational Hamiltonian network ``F_theta`` is averaged over the flows
    of quadratic conserved quantities ``C_k(x) = 1/2 x^T A_k x + b_k^T x``
    (exact, full-orbit symmetries by default), fitted by maximising the ELBO
    of one-step transitions.  Which quantities, and how many, is a model
    choice made by the same bound: Poisson-closed spans of candidate
    quantities are compared by their paired per-transition ELBO
    (:mod:`varembed.razor.selection`), whose Occam effect keeps the
    symmetries the data support and no other.  See :mod:`varembed.razor` and
    ``docs/razor.rst``.

    **Data.**  ``X`` holds one transition per row: ``(x_t, x_{t+1})`` (even
    width ``2 M``, time step ``dt``) or ``(x_t, x_{t+1}, dt_i)`` (odd width,
    a time step per row); a 3-D array of trajectories ``(n_trajectories,
    n_steps + 1, M)`` sampled every ``dt`` is accepted too (see
    :func:`varembed.razor.transitions`).  A state is ``x = (q, p)``, positions
    first; an odd ``M`` ends with one Casimir coordinate that the dynamics
    keep fixed.

    Parameters
    ----------
    n_conserved : int, default=10
        Number of candidate quantities the ``full`` selection offers (the
        selected span, closed under the Poisson bracket, may be larger; use
        at least the number of independent conserved quantities you expect),
        or the number ``K`` of learnable slots of the ``ball`` measure.
        ``0`` gives the vanilla variational HNN.  Ignored when
        ``generators`` is given.
    generators : tuple (A, b), optional
        Fixed (oracle) quantities ``A (K, M, M)``, ``b (K, M)``.
    dt : float, default=1.0
        Time between ``x_t`` and ``x_{t+1}`` (rows without a time column and
        trajectories).
    hidden : tuple of int, default=(64, 64)
        Hidden-layer widths of ``F_theta``.
    activation_alpha : float, default=1.0
        ELU parameter (the paper uses 2 for the single oscillator).
    measure : {"full", "ball"}, default="full"
        ``"full"``: every slot is an exact (full-orbit) symmetry and the bound
        selects how many (:mod:`varembed.razor.selection`); ``"ball"``: the
        public code's partial orbits with randomly initialised slots trained
        by gradient (which rewards smoothing along any direction, see the
        user guide).
    orbit_extent : float, default=12.0
        Standard deviation of the group coordinates of the ``full`` measure
        (in flow time of a unit-norm quantity; enough for several turns).
    conserved_prior : {"ard", "none"}, default="ard"
        ``"ard"``: Gaussian posterior over the coefficients with an ARD prior
        (the rank is read from the posterior: a slot whose mean does not
        stand out of its standard deviation does not count); ``"none"``:
        point estimates without a prior (the paper).
    n_symmetry_samples : int, default=8
        Group elements ``S`` per orbit average during training.
    n_mc_samples : int, default=1
        Posterior samples ``R`` per step.
    integrator : {"rk4", "euler"}, default="rk4"
    n_substeps : int, default=1
        Integrator steps per time step.
    output_var : float, default=1e-3
        Likelihood variance ``sigma^2``.
    target_noise : float, default=1e-3
        Variance of the Gaussian noise added afresh to the targets each step.
    prior_var : float, default=1.0
        Prior variance of every network weight.
    objective : {"elbo", "map"}, default="elbo"
        ``"map"``: point estimates of everything, no KL (Occam) term.
    max_iter : int, default=1000
        Optimiser steps (of the selected model, after its ``selection_iter``
        steps, for learnable slots with the ``full`` measure).
    n_warmup : int, default=0
        ``ball`` measure with learnable slots: symmetry-discovery steps, after
        which the network restarts with the discovered quantities kept (a
        network co-adapted to the early, small orbits stays in a worse optimum).
    selection_iter : int, default=400
        ``full`` measure with learnable slots: steps each hypothesis of the
        selection is trained for (:mod:`varembed.razor.selection`).
    batch_size : int, default=256
        Transitions per step (all of them when larger than the data).
    learning_rate : float, default=1e-3
        Adam learning rate of the network (cosine decay to zero).
    learning_rate_conserved : float, default=1e-5
        Adam learning rate of the conserved quantities.  The ``full``
        measure starts them at the candidates and an Adam walk on their
        directions costs precision (drift of the reported quantities
        0.04-0.09 at 1e-3, 0.01-0.04 at 1e-4 on two oscillators); the
        ``ball`` measure learns them from a random start and needs about 1e-2.
    conserved_init_std : float, default=0.05
        Standard deviation of the random initial coefficients.
    eval_symmetry_samples : int, default=64
        Group elements in evaluation (a fixed draw).
    eval_mc_samples : int, default=32
        Posterior samples of :meth:`score` and :meth:`evaluate`.
    verbose : int, default=0
        0 silent, 1 a progress bar per training phase, 2 also periodic lines.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    dtype : {"float32", "float64"}, optional
        Default: float64 on CPU, float32 on CUDA.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, optional
        Torch intra-op threads; ``None`` chooses by problem size.

    Attributes
    ----------
    module_ : SymmetricHNN
    n_features_in_ : int
        Width of the transition rows.
    n_states_ : int
        State dimension ``M``.
    time_column_ : bool
        Whether rows end with their own time step.
    n_transitions_ : int
    n_iter_ : int
        Optimiser steps taken (warm-up included).
    history_ : dict of lists
        ``loss``, ``nll``, ``kl`` per step.
    selection_ : dict or None
        ``full`` measure with learnable slots: ``trials`` (one dict per
        hypothesis tried: ``candidate``, ``n_symmetries``, ``improvement``
        in nats per transition, paired ``z``, ``accepted``), ``selected``
        (the dimension of the selected span) and ``candidate_change`` (the
        conservation residual of every candidate); ``None`` otherwise.
    """

    _parameter_constraints: dict = {
        "n_conserved": [Interval(Integral, 0, None, closed="left")],
        "generators": [tuple, list, None],
        "dt": [Interval(Real, 0, None, closed="neither")],
        "hidden": [tuple, list],
        "activation_alpha": [Interval(Real, 0, None, closed="neither")],
        "measure": [StrOptions(set(MEASURES))],
        "orbit_extent": [Interval(Real, 0, None, closed="neither")],
        "conserved_prior": [StrOptions({"ard", "none"})],
        "n_symmetry_samples": [Interval(Integral, 1, None, closed="left")],
        "n_mc_samples": [Interval(Integral, 1, None, closed="left")],
        "integrator": [StrOptions({"rk4", "euler"})],
        "n_substeps": [Interval(Integral, 1, None, closed="left")],
        "output_var": [Interval(Real, 0, None, closed="neither")],
        "target_noise": [Interval(Real, 0, None, closed="left")],
        "prior_var": [Interval(Real, 0, None, closed="neither")],
        "objective": [StrOptions({"elbo", "map"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_warmup": [Interval(Integral, 0, None, closed="left")],
        "selection_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_conserved": [Interval(Real, 0, None, closed="left")],
        "conserved_init_std": [Interval(Real, 0, None, closed="left")],
        "eval_symmetry_samples": [Interval(Integral, 1, None, closed="left")],
        "eval_mc_samples": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "device": [str, torch.device, None],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_conserved=10,
        *,
        generators=None,
        dt=1.0,
        hidden=(64, 64),
        activation_alpha=1.0,
        measure="full",
        orbit_extent=12.0,
        conserved_prior="ard",
        n_symmetry_samples=8,
        n_mc_samples=1,
        integrator="rk4",
        n_substeps=1,
        output_var=1e-3,
        target_noise=1e-3,
        prior_var=1.0,
        objective="elbo",
        max_iter=1000,
        n_warmup=0,
        selection_iter=400,
        batch_size=256,
        learning_rate=1e-3,
        learning_rate_conserved=1e-5,
        conserved_init_std=0.05,
        eval_symmetry_samples=64,
        eval_mc_samples=32,
        verbose=0,
        device="auto",
        dtype=None,
        random_state=None,
        n_jobs=None,
    ):
        self.n_conserved = n_conserved
        self.generators = generators
        self.dt = dt
        self.hidden = hidden
        self.activation_alpha = activation_alpha
        self.measure = measure
        self.orbit_extent = orbit_extent
        self.conserved_prior = conserved_prior
        self.n_symmetry_samples = n_symmetry_samples
        self.n_mc_samples = n_mc_samples
        self.integrator = integrator
        self.n_substeps = n_substeps
        self.output_var = output_var
        self.target_noise = target_noise
        self.prior_var = prior_var
        self.objective = objective
        self.max_iter = max_iter
        self.n_warmup = n_warmup
        self.selection_iter = selection_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_conserved = learning_rate_conserved
        self.conserved_init_std = conserved_init_std
        self.eval_symmetry_samples = eval_symmetry_samples
        self.eval_mc_samples = eval_mc_samples
        self.verbose = verbose
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # trajectories are accepted besides transition rows
        tags.target_tags.required = False
        return tags

    # ----------------------------------------------------------------- inputs
    def _rows(self, X, *, reset):
        """Validated transition rows ``(n, n_features_in_)`` from any accepted layout."""
        if is_trajectory_array(X):
            X = transitions(X)
            if not reset and getattr(self, "time_column_", False):
                X = np.concatenate([X, np.full((X.shape[0], 1), float(self.dt))], axis=1)
        # after fit the width check comes first, so a wrong width is reported as such
        return validate_data(self, X, reset=reset, dtype=np.float64, ensure_min_features=2 if reset else 1)

    def _tensors(self, X, *, reset=False):
        rows = self._rows(X, reset=reset)
        x, y, dt = split_rows(rows)
        t = lambda a: torch.tensor(a, dtype=self.dtype_, device=self.device_)  # noqa: E731 (a copy)
        return t(x), t(y), (float(self.dt) if dt is None else t(dt)[:, None])

    # ------------------------------------------------------------------ model
    def _build(self, dim, generator, *, n_slots=None, initial=None):
        network = HamiltonianMLP(dim, check_hidden(self.hidden), self.activation_alpha, generator=generator,
                                 dtype=self.dtype_)
        posterior = "point" if (self.conserved_prior == "none" or self.objective == "map") else "ard"
        k = self.n_conserved if n_slots is None else n_slots
        opts = dict(measure=self.measure, extent=self.orbit_extent, dtype=self.dtype_)
        if self.generators is not None and n_slots is None:
            fixed = check_generators(self.generators, dim)
            conserved = ConservedQuantities(dim, 0, fixed=fixed, **opts)
        elif k > 0:
            p = dim * (dim + 1) // 2 + dim
            init_std = self.conserved_init_std / np.sqrt(p) if initial is not None else self.conserved_init_std
            conserved = ConservedQuantities(dim, k, posterior=posterior, init_std=init_std, initial=initial,
                                            generator=generator, **opts)
        else:
            conserved = None
        return SymmetricHNN(network, conserved).to(self.device_)

    def _work(self, batch):
        """Rough floating-point operations of one optimiser step (for the thread count)."""
        widths = [self.n_states_] + list(check_hidden(self.hidden)) + [1]
        per_point = 12 * sum(a * b for a, b in zip(widths[:-1], widths[1:]))
        stages = (4 if self.integrator == "rk4" else 1) * self.n_substeps
        return float(per_point * batch * self.n_symmetry_samples * self.n_mc_samples * stages)

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit to transitions (or trajectories).

        Parameters
        ----------
        X : array-like of shape (n_transitions, 2 M [+ 1]) or (n_trajectories, n_steps + 1, M)
            See the class docstring for the layouts.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        rows = self._rows(X, reset=True)
        self.time_column_ = bool(rows.shape[1] % 2)
        self.n_states_ = rows.shape[1] // 2
        self.device_ = resolve_device(self.device)
        self.dtype_ = resolve_dtype(self.dtype, self.device_)
        check_hidden(self.hidden)
        seed = resolve_seed(self.random_state)
        generator = torch_generator(spawn_seeds(seed, 1)[0])
        x, y, dt = self._tensors(rows)
        self.n_transitions_ = x.shape[0]
        with torch_threads(self.n_jobs, self._work(min(self.batch_size, self.n_transitions_))):
            learnable = self.generators is None and self.n_conserved > 0
            self.selection_ = None
            if learnable and self.measure == "full":
                self.module_, self.history_, self.selection_ = select_symmetries(self, x, y, dt, seed)
            elif learnable and self.n_warmup > 0:
                self.module_ = self._build(self.n_states_, generator)
                warm = fit_hnn(self, self.module_, x, y, dt, generator, self.n_warmup, desc="razor warm-up")
                found = self.module_.conserved
                self.module_ = self._build(self.n_states_, generator)
                self.module_.conserved.load_state_dict(found.state_dict())
                main = fit_hnn(self, self.module_, x, y, dt, generator, self.max_iter)
                self.history_ = {k: warm[k] + main[k] for k in warm}
            else:
                self.module_ = self._build(self.n_states_, generator)
                self.history_ = fit_hnn(self, self.module_, x, y, dt, generator, self.max_iter)
            self._draw_eval_group()
        self.n_iter_ = len(self.history_["loss"])
        return self

    # --------------------------------------------------------------- analysis
    @property
    def conserved_(self):
        """The slots' posterior-mean quantities ``(A (K, M, M), b (K, M))``, or ``None`` (vanilla)."""
        check_is_fitted(self, "module_")
        if self.module_.conserved is None:
            return None
        return self.module_.conserved.quadratic()

    def learned_symmetries(self, system=None, trajectories=None, *, closure=False):
        """The conserved quantities the fitted model reports, checked against ``system``.

        The rank is read from the slots' posterior (:func:`~varembed.razor.readout.read_out`).
        The ``full`` selection already tests Poisson-closed spans; ``closure``
        completes any other set of slots by its brackets (everything a model
        symmetric under them conserves).

        Parameters
        ----------
        system : HamiltonianSystem, optional
            Ground truth: adds parallelness, principal angles and bracket residuals.
        trajectories : array-like of shape (n, T + 1, M), optional
            Held-out true trajectories: adds the drift ratio of every reported quantity.
        closure : bool, default=False

        Returns
        -------
        LearnedSymmetries
        """
        from .readout import compare, read_out

        check_is_fitted(self, "module_")
        if self.module_.conserved is None:
            empty = np.zeros((0, self.n_states_ * (self.n_states_ + 1) // 2 + self.n_states_))
            return LearnedSymmetries(rank=0, basis=empty, singular_values=np.zeros(0), z_scores=None,
                                     rule="none", gap=float("inf"), **compare(empty, system, trajectories))
        return read_out(self.module_.conserved, system=system, trajectories=trajectories, closure=closure)
