"""Predictions and scores of a fitted :class:`~varembed.razor.NoetherRazor`.

Every evaluation draws its posterior samples and group elements from fixed
streams derived from :data:`EVALUATION_SEED` (not from ``random_state``): a
fitted model's :meth:`score` is then a deterministic function of the model --
repeated calls and pickled copies agree -- and every model is scored with the
same random numbers, so differences between arms or hyperparameters are not
differences between evaluation draws.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._utils.random import spawn_seeds, torch_generator
from .._utils.threads import torch_threads
from .inputs import check_states, is_trajectory_array
from .objective import per_transition_nll

__all__ = ["EVALUATION_SEED", "EvaluationMixin", "transition_criterion"]

#: Root of the evaluation streams (see the module docstring).
EVALUATION_SEED = 20241012
_GROUP_STREAM, _SAMPLE_STREAM = spawn_seeds(EVALUATION_SEED, 2)
_CHUNK = 8  # posterior samples per evaluation pass (bounds memory)
_SELECT_MC, _SELECT_SYM = 8, 32  # samples of the selection criterion (a cheaper estimate than score)
_SELECT_ROWS = 1024  # transitions of the selection criterion


def transition_criterion(est, module, x, y, dt) -> np.ndarray:
    """Per-transition ``-ELBO`` share ``NLL_i + KL / N`` (or the MAP loss) from the fixed evaluation streams.

    The ELBO's NLL averages ``8`` posterior samples, each with ``32`` group
    elements; the MAP loss uses the point estimates.  Every model sees the
    same random numbers, so differences between models are paired.
    """
    gen = torch_generator(_SAMPLE_STREAM)
    n_total = x.shape[0]
    if x.shape[0] > _SELECT_ROWS:  # a fixed subset: the paired comparison needs no more
        rows = torch.randperm(x.shape[0], generator=torch_generator(_GROUP_STREAM))[:_SELECT_ROWS].to(x.device)
        x, y = x[rows], y[rows]
        dt = dt[rows] if torch.is_tensor(dt) else dt
    mean = est.objective == "map"
    n_mc = 1 if mean else _SELECT_MC
    with torch.no_grad():
        penalty = (-module.network.log_prior(1.0 / est.prior_var) if mean
                   else module.kl(1.0 / est.prior_var))
    weights, group = module.draw(n_mc, _SELECT_SYM, gen, mean=mean)
    start = x.expand(len(weights[0]), *x.shape)
    pred = module.step(start, dt, weights, group, n_substeps=est.n_substeps, method=est.integrator,
                       create_graph=False).detach()
    nll = per_transition_nll(y, pred, est.output_var).mean(dim=0)
    return (nll + float(penalty) / n_total).cpu().numpy().astype(np.float64)


class EvaluationMixin:
    """``predict``, ``score``, ``score_samples``, ``evaluate``, ``mse``, ``rollout`` and ``hamiltonian``."""

    def _draw_eval_group(self):
        gen = torch_generator(_GROUP_STREAM)
        _, group = self.module_.draw(1, self.eval_symmetry_samples, gen, mean=True)
        self._eval_group = None if group is None else group.detach()

    def _tensor(self, a):
        return torch.as_tensor(a, dtype=self.dtype_, device=self.device_)

    def _mean_step(self, x, dt):
        weights = self.module_.network.mean_weights()
        out = self.module_.step(x[None], dt, weights, self._eval_group, n_substeps=self.n_substeps,
                                method=self.integrator, create_graph=False)
        return out[0].detach()

    def _threads(self, n_rows):
        return torch_threads(self.n_jobs, self._work(n_rows) * max(1, self.eval_symmetry_samples // 8))

    def predict(self, X):
        """One-step predictions of the posterior-mean model.

        Parameters
        ----------
        X : array-like, a layout accepted by :meth:`fit`
            Only each transition's first state (and time step) is used.

        Returns
        -------
        ndarray of shape (n_transitions, M), or (n_trajectories, n_steps, M) for trajectories
        """
        check_is_fitted(self, "module_")
        shape = np.shape(X) if is_trajectory_array(X) else None
        x, _, dt = self._tensors(X)
        with self._threads(x.shape[0]):
            pred = self._mean_step(x, dt).cpu().numpy().astype(np.float64)
        if shape is not None:
            pred = pred.reshape(shape[0], shape[1] - 1, shape[2])
        return pred

    def mse(self, X):
        """One-step prediction MSE of the posterior-mean model, per coordinate and transition."""
        check_is_fitted(self, "module_")
        x, y, dt = self._tensors(X)
        with self._threads(x.shape[0]):
            return float(((self._mean_step(x, dt) - y) ** 2).mean())

    def _sample_nll(self, x, y, dt):
        """Per-transition NLL averaged over ``eval_mc_samples`` posterior samples, ``(n,)``."""
        gen = torch_generator(_SAMPLE_STREAM)
        total, done = torch.zeros(x.shape[0], dtype=self.dtype_, device=self.device_), 0
        while done < self.eval_mc_samples:
            chunk = min(_CHUNK, self.eval_mc_samples - done)
            weights, group = self.module_.draw(chunk, self.eval_symmetry_samples, gen)
            start = x.expand(chunk, *x.shape)
            pred = self.module_.step(start, dt, weights, group, n_substeps=self.n_substeps,
                                     method=self.integrator, create_graph=False).detach()
            total += chunk * per_transition_nll(y, pred, self.output_var).mean(dim=0)
            done += chunk
        return total / self.eval_mc_samples

    def _kl_per_transition(self):
        with torch.no_grad():
            return float(self.module_.kl(1.0 / self.prior_var)) / self.n_transitions_

    def score_samples(self, X):
        """Each transition's share of the ELBO: ``E_q[log p(x_{t+1} | x_t)] - KL / N``.

        Their sum over the ``N`` training transitions is the ELBO.

        Returns
        -------
        ndarray of shape (n_transitions,)
        """
        check_is_fitted(self, "module_")
        x, y, dt = self._tensors(X)
        with self._threads(x.shape[0]):
            nll = self._sample_nll(x, y, dt).cpu().numpy().astype(np.float64)
        return -(nll + self._kl_per_transition())

    def score(self, X, y=None):
        """ELBO per transition, ``-(NLL + KL / N)`` (higher is better); ``y`` is ignored."""
        return float(np.mean(self.score_samples(X)))

    def evaluate(self, X):
        """``nll``, ``kl`` (per training transition), ``neg_elbo`` and ``mse`` of the posterior-mean model."""
        check_is_fitted(self, "module_")
        x, y, dt = self._tensors(X)
        with self._threads(x.shape[0]):
            nll = float(self._sample_nll(x, y, dt).mean())
            mse = float(((self._mean_step(x, dt) - y) ** 2).mean())
        kl = self._kl_per_transition()
        return {"nll": nll, "kl": kl, "neg_elbo": nll + kl, "mse": mse}

    def rollout(self, x0, n_steps=1, dt=None):
        """Roll the posterior-mean model out from states ``x0``.

        Parameters
        ----------
        x0 : array-like of shape (n, M)
        n_steps : int, default=1
        dt : float, optional
            Time step (default: the estimator's ``dt``).

        Returns
        -------
        ndarray of shape (n, n_steps + 1, M)
            The trajectories, ``x0`` first.
        """
        check_is_fitted(self, "module_")
        start = check_states(x0, self.n_states_)
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
        step = float(self.dt if dt is None else dt)
        x = self._tensor(start)
        out = [x]
        with self._threads(x.shape[0]):
            for _ in range(int(n_steps)):
                x = self._mean_step(x, step)
                out.append(x)
        roll = torch.stack(out, dim=1).cpu().numpy().astype(np.float64)
        roll[:, 0] = start
        return roll

    def hamiltonian(self, states):
        """The symmetrised posterior-mean Hamiltonian ``H(x)`` of states ``(n, M)``, shape ``(n,)``."""
        check_is_fitted(self, "module_")
        x = self._tensor(check_states(states, self.n_states_))
        with torch.no_grad():
            h = self.module_.hamiltonian(x[None], self.module_.network.mean_weights(), self._eval_group)
        return h[0].cpu().numpy().astype(np.float64)
