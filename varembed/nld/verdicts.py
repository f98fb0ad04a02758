"""Plain-language verdicts: does each predictor's assumption hold in a recorded run?

:func:`assess` runs the three predictors of :mod:`.predictors` on one
:class:`~varembed.nld.tracker.ChargeHistory`, measures their errors against
the recorded charges, and says in words whether each one works here and, if
not, which of its assumptions fails:

* the exact recursion assumes an exact symmetry (``<g, xi> = 0`` every step);
* the modified equation is first order in ``eta`` (its error is O(eta));
* the NLD closed form also assumes coherent gradients, ``kappa ~ 1``, where
  ``kappa = (1 - beta)^2 |v|^2 / |g|^2`` (minibatch noise that cancels in the
  momentum buffer makes ``kappa << 1`` and the closed form over-predict).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from .predictors import predict_discrete, predict_modified_equation, predict_nld, relative_error
from .tracker import ChargeHistory

__all__ = ["Verdict", "Assessment", "assess", "format_error", "TERMS"]

#: One-line definition of every term a verdict uses.
TERMS = {
    "exact recursion": "Q_{n+1} = Q_n - 2 eta c_n + eta^2 |v_n|^2 from the recorded updates v_n "
                       "(c_n = <q_n, v_n>); exact whenever <g, xi> = 0",
    "modified equation": "the charge balance Q'' + 2 gamma Q' + omega^2 Q = 2 |q'|^2, read off the core's "
                         "Noether current of the learning Lagrangian, driven by the measured |v|^2",
    "NLD closed form": "Tanaka & Kunin's r^2(t) (V1-Eq.17): that balance without inertia and with the coherent "
                       "velocity |q'| = |g|/(1-beta); a group-wise RMSProp",
    "kappa": "(1-beta)^2 |v|^2 / |g|^2, the coherence of the gradients: 1 when they add up in the momentum "
             "buffer, << 1 when noise cancels there",
    "error": "max |predicted - measured| / max |measured| of |w_i|^2 over all steps and channels",
}

_ROUND_OFF = 1e-9  # relative error of a recursion limited by float64 round-off
_IDENTITY_ZERO = 1e-10  # relative gradient identity |<g, xi>| / (|g| |xi|) that counts as an exact symmetry
_FIRST_ORDER = 5e-2  # largest relative error still called a first-order (O(eta)) discretisation error
_CLOSED_FORM_ROUGH = 0.2  # up to this error a coherent-gradient closed form is "approximate", beyond it "fails"


@dataclass(frozen=True)
class Verdict:
    """Whether one predictor works on a run, and why (not).

    ``status`` is the one-word verdict, ``reason`` the sentence a user reads.

    Attributes
    ----------
    predictor : str
        ``"exact recursion"``, ``"modified equation"`` or ``"NLD closed form"``.
    error : float
        Max relative error against the measured charges.
    status : {"holds", "approximate", "fails"}
        ``holds``: its assumptions hold and the error is at the expected
        level; ``approximate``: an assumption is mildly broken; ``fails``.
    reason : str
        The explanation in words.
    """

    predictor: str
    error: float
    status: str
    reason: str

    def line(self, width: int = 110) -> str:
        """``"  name  error  status: reason"``, the reason wrapped to ``width`` columns."""
        head = f"  {self.predictor:<18s} {format_error(self.error):<11s} "
        text = f"{self.status}: {self.reason}".replace(" = ", "\xa0=\xa0")  # never break "a = b"
        return textwrap.fill(text, width=width, initial_indent=head,
                             subsequent_indent=" " * len(head)).replace("\xa0", " ")


@dataclass(frozen=True)
class Assessment:
    """Predictions, errors and verdicts for one recorded family.

    Attributes
    ----------
    history : ChargeHistory
    predictions : dict str -> ndarray (n_steps + 1, n_groups)
    kappa : ndarray (n_steps, n_groups) or None
        Coherence per step (scale groups only).
    violation : float
        Max relative gradient identity ``|<g, xi>| / (|g| |xi|)`` over the run.
    verdicts : list of Verdict
    """

    history: ChargeHistory
    predictions: Dict[str, np.ndarray]
    kappa: np.ndarray
    violation: float
    verdicts: List[Verdict] = field(default_factory=list)

    @property
    def errors(self) -> Dict[str, float]:
        """Max relative error per predictor."""
        return {v.predictor: v.error for v in self.verdicts}

    def verdict(self, predictor: str) -> Verdict:
        """The verdict of one predictor."""
        for v in self.verdicts:
            if v.predictor == predictor:
                return v
        raise KeyError(f"no verdict for {predictor!r}; have {[v.predictor for v in self.verdicts]}")


def format_error(err: float) -> str:
    """``1.2e-04`` below 1 %, ``0.048 (4.8%)`` or ``2.2 (222%)`` above."""
    if err < 1e-2:
        return f"{err:.1e}"
    return f"{err:.2g} ({100 * err:.{0 if err >= 0.1 else 1}f}%)"


def _violation(h: ChargeHistory) -> float:
    if h.family.proportional:
        scale = np.sqrt(np.abs(h.grad_sq) * np.abs(h.charge[:-1]))
    else:
        scale = np.sqrt(np.abs(h.grad_sq))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(h.identity) / np.maximum(scale, np.finfo(float).tiny)
    return float(np.nanmax(rel)) if rel.size else 0.0


def _known_breaking(h: ChargeHistory) -> str:
    notes = [s.strip() for s in h.family.reason.split(". ") if "break" in s or "eval mode" in s]
    return "; ".join(notes) if notes else "a breaking the registry does not know of"


def _recursion(err: float, h: ChargeHistory, violation: float) -> Verdict:
    name = "exact recursion"
    if err <= _ROUND_OFF:
        return Verdict(name, err, "holds", "matches to round-off - the symmetry holds exactly")
    if violation > _IDENTITY_ZERO and err <= _FIRST_ORDER:
        return Verdict(name, err, "approximate",
                       f"limited by the symmetry, not the recursion: <g, xi> = 0 holds only to {violation:.1e} "
                       f"per step here ({_known_breaking(h)}"
                       + ("; the residual shrinks in proportion to eps" if "eps" in h.family.reason else "") + ")")
    return Verdict(name, err, "fails", f"off although <g, xi> = 0 holds to {violation:.0e}: the optimiser applied "
                                       "another update than modelled (clipping, per-parameter options?)")


def _modified(err: float, lr: float) -> Verdict:
    name = "modified equation"
    if err <= _FIRST_ORDER:
        return Verdict(name, err, "holds", f"O(eta) discretisation error of a first-order continuous model "
                                           f"(eta = {lr:g}), as expected; it shrinks about in proportion to eta")
    return Verdict(name, err, "fails", f"eta = {lr:g} is too large for a first-order continuous model; "
                                       "use the exact recursion")


def _closed_form(err: float, kappa: np.ndarray, momentum: float, kappa_min: float) -> Verdict:
    name = "NLD closed form"
    k_med = float(np.nanmedian(kappa))
    if k_med <= kappa_min:
        if momentum > 0:
            bound = np.sqrt((1 + momentum) / (1 - momentum))
            why = (f"minibatch noise cancels in the momentum buffer, so |v| << |g|/(1-beta) and the closed form "
                   f"over-predicts r^2 (by up to sqrt((1+beta)/(1-beta)) = {bound:.1f} for pure noise); "
                   "it holds without momentum or for full-batch / small-lr runs")
        else:
            why = "the update is not the gradient (oscillation at a large effective learning rate eta/r^2?)"
        return Verdict(name, err, "fails", f"its assumption of coherent gradients (kappa ~ 1) fails here: "
                                           f"median kappa = {k_med:.2f}; {why}")
    if err <= _FIRST_ORDER:
        return Verdict(name, err, "holds", f"its assumption of coherent gradients holds (median kappa = {k_med:.2f})")
    return Verdict(name, err, "approximate" if err <= _CLOSED_FORM_ROUGH else "fails",
                   f"gradients are coherent (median kappa = {k_med:.2f}), but it also drops the inertia term: it "
                   "assumes the terminal velocity |g|/(1-beta) from step 0 (momentum builds up over 1/(1-beta) "
                   "steps) and a small angular step eta/r^2; the modified equation keeps both")


def assess(h: ChargeHistory, kappa_min: float = 0.5) -> Assessment:
    """Run the predictors on ``h`` and judge each.

    Parameters
    ----------
    h : ChargeHistory
        From :meth:`NoetherTracker.history <varembed.nld.tracker.NoetherTracker.history>`
        under a modelled SGD rule.  The NLD closed form is judged for scale
        families only.
    kappa_min : float, default=0.5
        Median coherence below which the closed form's assumption counts as failed.

    Returns
    -------
    Assessment
    """
    import warnings

    predictions = {"exact recursion": predict_discrete(h), "modified equation": predict_modified_equation(h)}
    kappa = None
    if h.family.kind == "scale":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the verdict says it in words
            nld = predict_nld(h, kappa_min=kappa_min)
        predictions["NLD closed form"], kappa = nld.r2, nld.kappa
    err = {k: relative_error(p, h.charge) for k, p in predictions.items()}
    violation = _violation(h)
    verdicts = [_recursion(err["exact recursion"], h, violation), _modified(err["modified equation"], h.rule.lr)]
    if kappa is not None:
        verdicts.append(_closed_form(err["NLD closed form"], kappa, h.rule.momentum, kappa_min))
    return Assessment(history=h, predictions=predictions, kappa=kappa, violation=violation, verdicts=verdicts)
