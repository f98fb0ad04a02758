"""Intra-op thread counts chosen for the problem at hand, restored afterwards.

The networks and batches of varembed are small: on a loaded machine torch's
default of one intra-op thread per core spends more in synchronisation than it
gains (a demo fit took 34 s instead of 6 s beside one busy process).  Every
estimator therefore runs its torch work inside :func:`torch_threads`, which
sets the thread count from the estimator's ``n_jobs`` and restores the
caller's setting on exit.
"""

from __future__ import annotations

import numbers
import os
from contextlib import contextmanager

import torch

__all__ = ["resolve_n_jobs", "torch_threads", "SMALL_WORK"]

#: Floating-point operations per optimiser step below which one thread is used
#: (``n_jobs=None``); above it, every available core.
SMALL_WORK = 2e9


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs, work: float | None = None) -> int:
    """The intra-op thread count for ``n_jobs``.

    Parameters
    ----------
    n_jobs : int or None
        ``None``: chosen for the problem -- one thread when ``work`` (floating
        point operations per step) is below :data:`SMALL_WORK` or unknown, else
        all available cores.  ``-1``: all available cores; ``-k``: all but
        ``k - 1``; a positive integer: that many threads.
    work : float, optional
        Estimated cost of one optimiser step.

    Raises
    ------
    ValueError
        For ``n_jobs=0``; ``TypeError`` for a non-integer.
    """
    cores = _available_cores()
    if n_jobs is None:
        return cores if (work is not None and work >= SMALL_WORK) else 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(f"n_jobs must be None or an integer, got {n_jobs!r}")
    if n_jobs == 0:
        raise ValueError("n_jobs=0 is not a thread count; use None, a positive integer or -1")
    return int(n_jobs) if n_jobs > 0 else max(1, cores + 1 + int(n_jobs))


@contextmanager
def torch_threads(n_jobs=None, work: float | None = None):
    """Run a block with :func:`resolve_n_jobs` intra-op threads; restore the caller's count after.

    The same limit applies to the BLAS / OpenMP pools of NumPy and SciPy
    (through ``threadpoolctl``, a scikit-learn dependency), which the
    initialisation (Isomap) and the linear algebra of a fit use.
    """
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    wanted = resolve_n_jobs(n_jobs, work)
    if wanted != previous:
        torch.set_num_threads(wanted)
    try:
        with threadpool_limits(limits=wanted):
            yield wanted
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
