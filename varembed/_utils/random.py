"""The one policy from ``random_state`` to private random generators.

Every random choice in varembed flows from an estimator's or function's
``random_state`` through :func:`resolve_seed` (one integer) and
:func:`spawn_seeds` (independent streams derived from it), into private
``torch.Generator`` / ``numpy.random.Generator`` objects.  Global random number
generators are never seeded; ``random_state=None`` draws the seed from the
global NumPy generator (scikit-learn's convention), so a user who seeds NumPy
gets reproducible fits.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["resolve_seed", "spawn_seeds", "torch_generator", "numpy_generator"]

_MAX_SEED = 2**31 - 1


def resolve_seed(random_state) -> int:
    """An integer seed from ``random_state``.

    Parameters
    ----------
    random_state : None, int, numpy RandomState or Generator, or torch.Generator
        scikit-learn's semantics: ``int`` is equivalent to
        ``numpy.random.RandomState(int)``, ``None`` to NumPy's global
        generator; the seed is one draw from that generator.  A NumPy
        ``Generator``: one draw from it.  A ``torch.Generator``: its initial seed.

    Returns
    -------
    int in ``[0, 2**31 - 1)``

    Raises
    ------
    TypeError
        For any other type.
    """
    if random_state is None or isinstance(random_state, np.random.RandomState) or (
        isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    ):
        return int(check_random_state(random_state).randint(0, _MAX_SEED))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, _MAX_SEED))
    if isinstance(random_state, torch.Generator):
        return int(random_state.initial_seed()) % _MAX_SEED
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState/Generator or a torch.Generator, "
        f"got {type(random_state).__name__}"
    )


def spawn_seeds(seed: int, n: int) -> list:
    """``n`` independent child seeds of ``seed`` (NumPy's ``SeedSequence``), deterministic."""
    state = np.random.SeedSequence(int(seed)).generate_state(int(n), dtype=np.uint32)
    return [int(s) % _MAX_SEED for s in state]


def torch_generator(random_state, device="cpu") -> torch.Generator:
    """A private ``torch.Generator`` on ``device`` seeded by :func:`resolve_seed`.

    A ``torch.Generator`` on the requested device is returned as it is (so a
    caller can thread one stream through several functions).
    """
    dev = torch.device(device)
    if isinstance(random_state, torch.Generator) and random_state.device.type == dev.type:
        return random_state
    return torch.Generator(device=dev).manual_seed(resolve_seed(random_state))


def numpy_generator(random_state) -> np.random.Generator:
    """A private ``numpy.random.Generator`` seeded by :func:`resolve_seed`."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(resolve_seed(random_state))
