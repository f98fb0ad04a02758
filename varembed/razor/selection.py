"""How many symmetries: selection of full-orbit symmetry algebras by the bound.

With the ``full`` measure every slot is an exact symmetry of the model, so the
set of slots is a discrete model choice, and the bound makes it (Noether's
Razor proper).  The hypotheses are Poisson-closed spans of quadratics (the
conserved quantities of any Hamiltonian are closed under the bracket, and a
model symmetric under ``C_a`` and ``C_b`` is symmetric under ``{C_a, C_b}``):

1. the candidates (:mod:`varembed.razor.proposals`) are taken best-conserved
   first: hypothesis ``k`` is the closure (:func:`~varembed.razor.readout.lie_closure`)
   of the first ``k`` candidates (prefixes, so that quantities that help only
   together, such as the generic combinations of translations, rotations and
   their products that the n-body candidates are, are tried together); a
   prefix whose closure is a span already tried is skipped;
2. every hypothesis is a fresh model, from the *same* initial network and
   trained on the *same* stream of minibatches and noise for
   ``selection_iter`` steps, so two hypotheses differ only in their symmetry
   (adding a symmetry to an already trained model is no test: its new orbits
   reach states the old network never had to fit);
3. the per-transition ``-ELBO`` shares (fixed evaluation streams) of the
   best hypothesis so far and the new one give the paired improvement
   ``d_i``; the new one becomes the best when the improvement is
   significant, ``mean(d) / (std(d) / sqrt(N)) > Z_CRIT`` (the data's own
   spread decides, not a tuned margin); the search stops after ``PATIENCE``
   rejections in a row;
4. the selected model is trained for ``max_iter`` more steps.

Under the MAP objective the criterion is the MAP loss, which has no Occam
term: the ablation compares the two.
"""

from __future__ import annotations

import numpy as np

from .._utils.random import spawn_seeds, torch_generator
from .evaluation import transition_criterion
from .proposals import conservation_candidates
from .readout import lie_closure
from .training import fit_hnn

__all__ = ["PATIENCE", "Z_CRIT", "select_symmetries"]

#: Rejections in a row after which the search stops.
PATIENCE = 3
#: Significance of a paired improvement (the z-score of THE rank rule's statistical mode).
Z_CRIT = 3.0


def _paired_z(current, new) -> tuple:
    d = current - new
    if not np.all(np.isfinite(d)):
        return -np.inf, -np.inf
    if d.size < 2:
        return float(d.mean()), float(d.mean())
    return float(d.mean()), float(d.mean() / max(d.std(ddof=1) / np.sqrt(d.size), 1e-300))


def _outside(span, vector) -> float:
    if not span.shape[0]:
        return float(np.linalg.norm(vector))
    return float(np.linalg.norm(vector - (span @ vector) @ span))


def _same_span(a, b) -> bool:
    if a.shape != b.shape:
        return False
    return bool(np.allclose(a.T @ a, b.T @ b, atol=1e-6))  # equal orthogonal projectors


def select_symmetries(est, x, y, dt, seed):
    """Run the selection (module docstring); returns ``(module, history, selection)``.

    ``seed`` fixes the initial network and the training stream shared by every hypothesis.
    """
    m = est.n_states_
    cand, change = conservation_candidates(x.cpu().double().numpy(), y.cpu().double().numpy(), est.n_conserved)
    init_seed, train_seed, final_seed = spawn_seeds(seed, 3)
    scale = 2.0 * est.conserved_init_std / np.sqrt(cand.shape[1])  # posterior std of a fresh unit slot, twice

    def hypothesis(span):
        module = est._build(m, torch_generator(init_seed), n_slots=span.shape[0], initial=span)
        try:
            hist = fit_hnn(est, module, x, y, dt, torch_generator(train_seed), est.selection_iter,
                           desc=f"razor {span.shape[0]} symmetries")
        except FloatingPointError:  # a wrong (hyperbolic) symmetry can blow the orbits up: the worst fit there is
            return module, None, np.full(min(x.shape[0], 1024), np.inf)
        crit = transition_criterion(est, module, x, y, dt)
        return module, hist, np.where(np.isfinite(crit), crit, np.inf)

    span = np.zeros((0, cand.shape[1]))
    current, history, crit = hypothesis(span)
    trials, rejections, tried = [], 0, [span]
    prefix = span
    for k, candidate in enumerate(cand):
        if _outside(prefix, candidate) <= 3.0 * scale:  # already inside the prefix's closure
            continue
        prefix = lie_closure(np.vstack([prefix, candidate]), m, scale=scale / 2.0)
        if any(_same_span(prefix, old) for old in tried):  # the same hypothesis again (e.g. everything)
            continue
        tried.append(prefix)
        module, hist, new_crit = hypothesis(prefix)
        improvement, z = _paired_z(crit, new_crit)
        accepted = z > Z_CRIT
        trials.append({"candidate": k, "n_symmetries": int(prefix.shape[0]), "improvement": improvement,
                       "z": z, "accepted": bool(accepted)})
        if accepted:
            span, current, history, crit, rejections = prefix, module, hist, new_crit, 0
        else:
            rejections += 1
            if rejections >= PATIENCE:
                break
    final = fit_hnn(est, current, x, y, dt, torch_generator(final_seed), est.max_iter,
                    desc=f"razor final ({span.shape[0]} symmetries)")
    history = {key: history[key] + final[key] for key in history}
    selection = {"trials": trials, "selected": int(span.shape[0]), "candidate_change": change.tolist()}
    return current, history, selection
