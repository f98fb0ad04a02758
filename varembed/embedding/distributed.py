"""Data-parallel training over the latent Monte-Carlo batch with ``torch.distributed``.

Every process (rank) holds the whole model and a replica of the density; each
draws its own latent batch from its own random stream, and the gradients are
averaged across ranks after every backward pass (one all-reduce of the
flattened gradient), so all ranks take identical optimiser steps: one fit with
``world_size`` times the batch.  Launch one process per device with
``torchrun --nproc_per_node=N your_script.py`` (``backend="nccl"`` on GPUs,
``"gloo"`` on CPUs), call ``torch.distributed.init_process_group`` in the
script, and fit with ``VariationalEmbedding(distributed=True)`` on every rank;
see the user guide.
"""

from __future__ import annotations

import torch

__all__ = ["world", "GradientAverager", "broadcast_parameters"]


def world():
    """``(rank, world_size)`` of the initialised default process group.

    Raises
    ------
    RuntimeError
        When ``torch.distributed`` is not initialised (``init_process_group`` first).
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError("distributed=True needs an initialised torch.distributed process group: launch with "
                           "torchrun and call torch.distributed.init_process_group(backend) before fit")
    return dist.get_rank(), dist.get_world_size()


class GradientAverager:
    """Average the ``.grad`` of ``params`` over all ranks in one all-reduce (call after ``backward``)."""

    def __init__(self, params):
        self.params = [p for p in params if p.requires_grad]

    def __call__(self) -> None:
        import torch.distributed as dist

        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat /= dist.get_world_size()
        offset = 0
        for p, g in zip(self.params, grads):
            n = g.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n


@torch.no_grad()
def broadcast_parameters(module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers to every rank."""
    import torch.distributed as dist

    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=src)
