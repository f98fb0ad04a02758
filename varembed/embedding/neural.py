"""VariationalEmbedding: smooth nonlinear manifold embeddings (PyTorch, CPU or GPU)."""

from __future__ import annotations

import copy
import time
import weakref
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._utils.device import resolve_device, resolve_dtype
from .._utils.random import resolve_seed, spawn_seeds, torch_generator
from .._utils.threads import torch_threads
from ._base import BaseVariationalEmbedding
from .coreset import StartIndex, choose_coreset, coreset_size
from .densities import BANDWIDTH_RULES, DENSITY_NAMES, Density
from .functional import EmbeddingFunctional, jitter_for
from .inference import project
from .maps import fix_gauge
from .noise import residual_noise_variance
from .priors import PRIORS
from .stages import (AUTO_SMOOTHNESS, AUTO_SMOOTHNESS_MIN_DIM, anchor_term, check_params, density_stage, standardization,
                     start_stage, summary_line)
from .training import SCHEDULES, TrainingObjective, polish_lbfgs, train_adam

__all__ = ["VariationalEmbedding"]

#: Fixed held-out latent sample of the convergence check and of ``objective_``.
VALIDATION_SIZE = 1024
#: Steps between evaluations of the convergence check (fewer for tiny budgets).
EVAL_EVERY = 25
#: Quadrature points of the L-BFGS polish (d = 1, d >= 2).
POLISH_POINTS_1D, POLISH_POINTS = 512, 2304
#: Nearest-code indices of the local transform starts, one per fitted map (rebuilt after unpickling).
_START_INDEX = weakref.WeakKeyDictionary()


class VariationalEmbedding(BaseVariationalEmbedding):
    """Nonlinear variational manifold embedding with a smooth neural map.

    Fits ``phi: R^d -> R^D`` by maximising::

        F[phi] = E_{z~q}[ log p(phi) + 1/2 log det(J^T J) - lam tr(J^T J)
                          + beta sum_i r_i(z) log N(x_i; phi(z), sigma^2 I) ]

    with ``p`` a density built from the training points, ``J`` the Jacobian of
    ``phi``, and by default the *codes prior* ``q`` (a KDE of initial codes
    ``c_i`` of the data, responsibilities ``r_i``) with the *anchor* term
    (``beta > 0``), which ties each latent region to its own data points; the
    paper's functional is ``anchor=0`` with a Gaussian or box prior.  The
    result is a parametric map in both directions (``inverse_transform =
    phi``; ``transform`` = posterior mode of the latent code) with a held-out
    likelihood (``score``) and diagnostics (``diagnose``).  ``docs/theory.rst``
    states the objective and its Euler-Lagrange equation; the user guide says
    what each knob does, with measurements.

    Parameters
    ----------
    n_components : int, default=2
        Latent dimension ``d``.
    prior : {"codes", "gaussian", "uniform"}, default="codes"
        Latent prior: the KDE of the initial codes (needs codes: ``init`` of
        ``"auto"``, ``"isomap"``, ``"neighbors"`` or an array), ``N(0,
        diag(prior_scale^2))``, or the box ``[-prior_scale, prior_scale]^d``.
    prior_scale : float, array of shape (n_components,), or "auto", default="auto"
        Codes prior: the kernel width (``"auto"``: Scott's ``n^(-1/(d+4))``,
        codes at root-mean-square 1).  Gaussian: standard deviation(s)
        (``"auto"``: per axis from the codes' spread).  Box: half-width.
    density : {"kde", "gaussian", "gmm"}, GaussianMixture, Density or object, default="kde"
        Data density ``p``: a Gaussian KDE of the coreset; the Gaussian PPCA
        fits; a 10-component ``GaussianMixture`` (or your own instance); or a
        model in data coordinates with torch ``log_prob(x)`` and/or
        ``score(x)`` (score-only models train, but report no objective).
    bandwidth : float or {"auto", "scott", "silverman"}, default="auto"
        Kernel width of the KDE (standardised units); ``"auto"``: the larger of
        Scott's width with the latent dimension in the exponent and the median
        5th-neighbour distance.  Raise it when the fit collapses onto beads.
    kde_neighbors : int or None, default=None
        Truncate the KDE to the nearest ``kde_neighbors`` centres per query.
    n_neighbors : int, default=10
        Neighbours of the Isomap graph of ``init="auto"`` / ``"isomap"``.
    max_centres : int or "auto", default="auto"
        Size bound of the coreset: the training points the density, the codes
        prior and the anchor sum over, and the fitted model keeps (``"auto"``:
        20 000, and fewer so that about ``2^20`` numbers are stored).  Per-step
        cost and model size do not grow with ``n`` beyond it.
    continuity : float, default=5e-2
        ``lam > 0`` (standardised units): sets the preferred speed ``1/sqrt(2 lam)``.
    anchor : float, default=1.0
        ``beta >= 0``, weight of the anchor term; 0 gives the paper's functional.
    anchor_noise : float or "auto", default="auto"
        ``sigma`` of the anchor; ``"auto"``: the residual of the initial map's
        regression onto the codes, per normal direction.
    smoothness : float or "auto", default=0.0
        ``mu >= 0``, weight of the bending penalty ``E_q |d^2 phi|^2``;
        ``"auto"``: 0.1 above 3 latent dimensions when ``anchor=0`` (it kept
        the paper's functional from folding noisy high-dimensional data), else 0.
    bending : {"auto", "exact", "hutchinson"}, default="auto"
        How Adam steps estimate the bending energy (``"auto"``: exact up to d = 3).
    hidden : tuple of int, default=(128, 128, 128)
        Hidden widths of the neural residual; ``()`` gives an affine map.
    activation : {"tanh", "sin", "softplus", "silu"}, default="tanh"
    init : {"auto", "isomap", "neighbors", "linear", "random"} or ndarray, default="auto"
        Initial codes: ``"auto"`` takes Isomap's on a near-isometric manifold
        and a neighbour-embedding layout otherwise (``varembed.embedding.layout``);
        ``"linear"``/``"random"`` start at PCA / a random folded map (no codes).
    standardize : {"scalar", "feature"} or None, default="scalar"
        Centre and divide by one number (keeps the geometry), per feature, or none.
    max_iter : int, default=1000
        Ceiling on the Adam steps (training stops at convergence first).
    batch_size : int, default=256
        Latent Monte-Carlo samples per step.
    learning_rate : float, default=2e-3
    lr_schedule : {"warmup", "cosine", "constant", "step"}, default="warmup"
        ``"warmup"`` is independent of the budget (a warm-up, then constant).
    clip_grad : float or None, default=10.0
    n_iter_no_change : int or None, default=4
        Convergence window: stop (after a short decay) when the mean objective
        of the last ``n_iter_no_change`` evaluations (every 25 steps, on a
        fixed latent sample) improves on the mean of the ones before by less
        than ``tol``; ``None`` runs ``max_iter`` steps.
    tol : float, default=5e-3
        Relative improvement that counts for the convergence check.
    polish_iter : int, default=0
        Final full-batch L-BFGS iterations on a fixed quadrature of the prior.
    transform_noise : {"bandwidth", "residual"} or float, default="bandwidth"
        Noise scale ``s`` of the posterior-mode ``transform``: the kernel width,
        the fitted residual ``sqrt(noise_variance_)``, or a number.
    callback : callable or None, default=None
        ``callback(iteration, objective, estimator)`` at every evaluation; ``True`` stops.
    distributed : bool, default=False
        Data-parallel training under ``torch.distributed`` (see the user guide).
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
    dtype : {None, "float32", "float64"}, default=None
        ``None`` is float64 on CPU and float32 on CUDA (float32 is about 1.7x
        faster on CPU with the same quality).
    n_jobs : int or None, default=None
        Torch intra-op threads; ``None`` picks one thread for small problems.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        ``>= 1``: a progress bar and a closing line.

    Attributes
    ----------
    map_ : SmoothMLPMap
        The fitted map in standardised coordinates.
    prior_ : CodesPrior, GaussianPrior or UniformBoxPrior
    density_ : Density
        The data density in standardised coordinates.
    coreset_ : Tensor of shape (m, n_features)
        The kept training points (standardised).
    coreset_error_ : float
        Median relative standard error of the coreset KDE against the KDE of
        all training points, at held-out training points (0 when all are kept).
    codes_ : Tensor of shape (m, n_components) or None
        Their initial codes (normalised), the centres of the codes prior.
    init_kind_ : str
        What made the codes (``"isomap"``, ``"neighbors"``, ``"array"``, ...).
    mean_, scale_ : ndarray of shape (n_features,)
        Standardisation ``x = mean_ + scale_ * u``.
    smoothness_, bandwidth_, anchor_noise_ : float
    noise_variance_ : float
        Observation noise of ``score_samples`` (standardised): the mean squared
        residual of training points per normal direction.
    objective_, initial_objective_ : float
        ``F`` on the fixed held-out latent sample after and before training.
    history_ : list of dict
    n_iter_ : int
    converged_ : bool
    fit_time_ : float
    device_, dtype_ :
    n_features_in_ : int
    feature_names_in_ : ndarray

    Examples
    --------
    >>> from sklearn.datasets import make_swiss_roll
    >>> from varembed import VariationalEmbedding
    >>> X, _ = make_swiss_roll(500, random_state=0)
    >>> emb = VariationalEmbedding(n_components=2, max_iter=50, random_state=0).fit(X)
    >>> emb.transform(X[:3]).shape
    (3, 2)
    """

    _TORCH_ATTRS = BaseVariationalEmbedding._TORCH_ATTRS + ("coreset_", "codes_", "anchor_")
    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIORS) | {"codes"})],
        "prior_scale": [Interval(Real, 0, None, closed="neither"), "array-like", StrOptions({"auto"})],
        "density": [StrOptions(set(DENSITY_NAMES)), GaussianMixture, Density, HasMethods(["log_prob"]),
                    HasMethods(["score"]), callable],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions(set(BANDWIDTH_RULES))],
        "kde_neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "max_centres": [Interval(Integral, 3, None, closed="left"), StrOptions({"auto"})],
        "continuity": [Interval(Real, 0, None, closed="neither")],
        "anchor": [Interval(Real, 0, None, closed="left")],
        "anchor_noise": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "smoothness": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "bending": [StrOptions({"auto", "exact", "hutchinson"})],
        "hidden": [tuple, list, Interval(Integral, 1, None, closed="left")],
        "activation": [str],
        "init": [StrOptions({"auto", "isomap", "neighbors", "linear", "random"}), "array-like"],
        "standardize": [StrOptions({"scalar", "feature"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(SCHEDULES))],
        "clip_grad": [Interval(Real, 0, None, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "polish_iter": [Interval(Integral, 0, None, closed="left")],
        "transform_noise": [StrOptions({"residual", "bandwidth"}), Interval(Real, 0, None, closed="neither")],
        "callback": [callable, None],
        "distributed": ["boolean"],
        "device": [str, torch.device, None],
        "dtype": [StrOptions({"float32", "float64"}), torch.dtype, type, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_components=2, *, prior="codes", prior_scale="auto", density="kde", bandwidth="auto",
                 kde_neighbors=None, n_neighbors=10, max_centres="auto", continuity=5e-2, anchor=1.0,
                 anchor_noise="auto", smoothness=0.0, bending="auto", hidden=(128, 128, 128), activation="tanh",
                 init="auto", standardize="scalar", max_iter=1000, batch_size=256, learning_rate=2e-3,
                 lr_schedule="warmup", clip_grad=10.0, n_iter_no_change=4, tol=5e-3, polish_iter=0,
                 transform_noise="bandwidth", callback=None, distributed=False, device="auto", dtype=None,
                 n_jobs=None, random_state=None, verbose=0):
        for name, value in list(locals().items()):
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # --------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit: validate, standardise, coreset, density, codes, prior, initial map, anchor, train, polish, gauge, store.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples whose density is embedded (at least 2; finite, real).
        y : None
            Ignored (scikit-learn API).

        Returns
        -------
        self : VariationalEmbedding
        """
        t0 = time.perf_counter()
        X = np.array(validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2), dtype=np.float64)
        hidden, d = check_params(self, X.shape[1]), int(self.n_components)
        self.device_ = resolve_device(self.device)
        self.dtype_ = resolve_dtype(self.dtype, self.device_)
        seed, train_seed, val_seed, core_seed = spawn_seeds(resolve_seed(self.random_state), 4)
        opts = dict(dtype=self.dtype_, device=self.device_)
        with torch_threads(self.n_jobs, work=self._step_work(X.shape[1], hidden)):
            self.mean_, self.scale_ = standardization(self.standardize, X)
            Xs = (X - self.mean_) / self.scale_
            core = choose_coreset(len(Xs), coreset_size(self.max_centres, *Xs.shape, d), core_seed)
            info = density_stage(self, Xs, core, seed, core_seed, opts)
            gen = torch_generator(train_seed, self.device_)
            module, codes = start_stage(self, Xs, core, hidden, seed, gen, opts)
            self.anchor_ = anchor_term(self, self.prior_, codes, module, self.coreset_, **opts)
            self.anchor_noise_ = float(np.sqrt(self.anchor_.noise_variance)) if self.anchor_ else float("nan")
            self.smoothness_ = self._resolved_smoothness(d)
            objective = TrainingObjective(module, self.functional(), self._bending_mode(d))
            z_val = self.prior_.sample(VALIDATION_SIZE, torch_generator(val_seed, self.device_), **opts)
            has_lp = bool(getattr(self.density_, "has_log_prob", True))
            self.initial_objective_ = objective.evaluate(z_val) if has_lp else float("nan")
            self.history_, n_iter, self.converged_ = self._train(objective, gen, z_val, has_lp)
            n_iter += self._polish(objective, z_val, n_iter, has_lp, t0)
            fix_gauge(module, self.prior_, z_val)
            self.map_ = module.eval().requires_grad_(False)
            self.objective_ = objective.evaluate(z_val) if has_lp else float("nan")
            self.n_iter_ = max(1, int(n_iter))
            self.noise_variance_ = float(info["noise_variance"]) if "noise_variance" in info else (
                residual_noise_variance(module, self.prior_, Xs[core], self.bandwidth_, seed=seed,
                                        starts=self._local_starts if self.codes_ is not None else None, **opts))
        self.fit_time_ = time.perf_counter() - t0
        if self.verbose:
            print(summary_line(self, X.shape, len(core)))
        return self

    # -------------------------------------------------------------- fit stages
    def _step_work(self, n_features: int, hidden) -> float:
        """Rough floating-point operations of one training step (for the thread count)."""
        widths = (int(self.n_components),) + tuple(hidden) + (n_features,)
        rows = 1 + int(self.n_components)
        return 6.0 * int(self.batch_size) * rows * sum(a * b for a, b in zip(widths[:-1], widths[1:]))

    def _standardization(self):
        return self.mean_, self.scale_

    def _resolved_smoothness(self, d: int) -> float:
        if isinstance(self.smoothness, str):
            return AUTO_SMOOTHNESS if (d >= AUTO_SMOOTHNESS_MIN_DIM and self.anchor_ is None) else 0.0
        return float(self.smoothness)

    def _bending_mode(self, d: int) -> str:
        if self.bending != "auto":
            return self.bending
        return "exact" if d < AUTO_SMOOTHNESS_MIN_DIM else "hutchinson"

    def functional(self) -> EmbeddingFunctional:
        """The functional the fit maximised (prior, density, continuity, bending, anchor), standardised space."""
        return EmbeddingFunctional(self.prior_, self.density_, float(self.continuity), jitter_for(self.dtype_),
                                   smoothness=self.smoothness_, anchor=self.anchor_, dtype=self.dtype_,
                                   device=self.device_)

    def _train(self, objective, gen, z_val, has_lp):
        max_iter = int(self.max_iter)
        callback = None if self.callback is None else (lambda it, val: self.callback(it, val, self))
        reduce = None
        if self.distributed:  # same start everywhere, one latent stream per rank, averaged gradients
            from .distributed import GradientAverager, broadcast_parameters, world

            rank, size = world()
            broadcast_parameters(objective.module)
            gen = torch_generator(spawn_seeds(int(gen.initial_seed()), size)[rank], self.device_)
            reduce = GradientAverager(objective.module.parameters())
        return train_adam(objective, max_iter=max_iter, batch_size=int(self.batch_size),
                          learning_rate=float(self.learning_rate), schedule=self.lr_schedule,
                          clip_grad=self.clip_grad, generator=gen, z_val=z_val,
                          eval_every=max(1, min(EVAL_EVERY, max_iter // 4)), n_iter_no_change=self.n_iter_no_change,
                          tol=float(self.tol), verbose=int(self.verbose), has_log_prob=has_lp, callback=callback,
                          reduce_gradients=reduce)

    def _polish(self, objective, z_val, n_iter, has_lp, t0) -> int:
        """Full-batch L-BFGS on the prior's quadrature; appends a ``stage="polish"`` entry to ``history_``."""
        if int(self.polish_iter) <= 0:
            return 0
        n_points = POLISH_POINTS_1D if self.prior_.dim == 1 else POLISH_POINTS
        zq, wq = (torch.as_tensor(a, dtype=self.dtype_, device=self.device_) for a in self.prior_.quadrature(n_points))
        n_eval, value = polish_lbfgs(objective, zq, wq, int(self.polish_iter))
        self.history_.append(dict(iter=n_iter + n_eval, objective=objective.evaluate(z_val) if has_lp else float("nan"),
                                  loss=-value, lr=float("nan"), grad_norm=float("nan"),
                                  time=time.perf_counter() - t0, stage="polish"))
        return n_eval

    # ------------------------------------------------------------------ hooks
    def _transform_noise_scale(self) -> float:
        if isinstance(self.transform_noise, str):
            return float(self.bandwidth_ if self.transform_noise == "bandwidth" else np.sqrt(self.noise_variance_))
        return float(self.transform_noise)

    def _local_starts(self, U):
        """The codes of the nearest coreset points (a local search), or ``None`` (global candidate starts)."""
        if self.codes_ is None or self.prior_.name != "codes":
            return None
        index = _START_INDEX.get(self.map_)  # cached per fitted map, outside the estimator's state
        if index is None:
            index = _START_INDEX[self.map_] = StartIndex(self.coreset_, self.codes_)
        return index.starts(U)

    def _encode(self, U):
        return project(self.map_, self.prior_, U, self._transform_noise_scale(), starts=self._local_starts(U))

    def _foot_points(self, U):
        return project(self.map_, self.prior_, U, None, starts=self._local_starts(U))

    def field(self, initial=False):
        """The map as a per-point torch function ``z (d,) -> phi(z) (D,)`` (standardised space).

        Vmappable and twice differentiable.  ``initial=True`` gives the map at
        initialisation (before training), for before/after comparisons.
        """
        if not initial:
            return super().field()
        module = copy.deepcopy(self.map_)
        module.load_state_dict(self._initial_state)
        return lambda z: module(z)
