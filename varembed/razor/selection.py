"""How many symmetries: forward selection of full-orbit symmetries by the bound.

With the ``full`` measure every active slot is an exact symmetry of the
model, so the number of slots is a discrete model choice, and the bound makes
it (Noether's Razor proper):

1. a base network is trained without symmetry for ``n_warmup`` steps;
2. the candidate quadratics (:mod:`varembed.razor.proposals`) are added one at
   a time, best-conserved first: the model with the first ``k`` of them
   starts from the base network and is trained for ``selection_iter`` steps,
   so every ``k`` gets the same budget;
3. each model's ``-ELBO / N`` on the training transitions (fixed evaluation
   streams, so the comparison is not between random draws) is recorded; the
   search stops after two consecutive models that do not improve on the best;
4. the best model is trained for ``max_iter`` more steps.

A correct symmetry lowers the bound's KL (the posterior over weights relaxes
in the directions the symmetry makes irrelevant) at no cost in fit; a wrong
one is an exact constraint the data contradict.  Under the MAP objective the
criterion is the log posterior, which has no Occam term: a correct symmetry
does not improve it, which is what the ablation shows.
"""

from __future__ import annotations

import copy

from .evaluation import selection_criterion
from .hnn import SymmetricHNN
from .proposals import conservation_candidates
from .training import fit_hnn

__all__ = ["PATIENCE", "select_symmetries"]

#: Consecutive non-improving models after which the forward search stops.
PATIENCE = 2


def select_symmetries(est, x, y, dt, generator):
    """Run the forward selection (module docstring); returns ``(module, history, selection)``."""
    dim = est.n_states_
    cand, change = conservation_candidates(x.cpu().double().numpy(), y.cpu().double().numpy(), est.n_conserved)
    base = est._build(dim, generator, n_slots=0)
    history = {"loss": [], "nll": [], "kl": []}
    if est.n_warmup:
        history = fit_hnn(est, base, x, y, dt, generator, est.n_warmup, desc="razor base")
    scores = [selection_criterion(est, base, x, y, dt)]
    best, best_k, best_hist = base, 0, {key: [] for key in history}
    worse = 0
    for k in range(1, cand.shape[0] + 1):
        conserved = est._build(dim, generator, n_slots=k, initial=cand[:k]).conserved
        model = SymmetricHNN(copy.deepcopy(base.network), conserved)
        hist = fit_hnn(est, model, x, y, dt, generator, est.selection_iter, desc=f"razor k={k}")
        scores.append(selection_criterion(est, model, x, y, dt))
        if scores[-1] < scores[best_k]:
            best, best_k, best_hist, worse = model, k, hist, 0
        else:
            worse += 1
            if worse >= PATIENCE:
                break
    final = fit_hnn(est, best, x, y, dt, generator, est.max_iter, desc=f"razor final k={best_k}")
    for key in history:
        history[key] = history[key] + best_hist[key] + final[key]
    selection = {"n_slots": list(range(len(scores))), "criterion": scores, "selected": best_k,
                 "candidate_change": change.tolist()}
    return best, history, selection
