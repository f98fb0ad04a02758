"""The symmetrised Hamiltonian: the orbit average of ``F_theta`` and its vector field.

``H(x) = mean_s F(g_s x)`` over ``S`` group elements ``g_s`` of the conserved
quantities (:mod:`varembed.razor.conserved`).  One draw of the group elements
is shared by the whole batch and every integrator stage, so the learned
vector field is the exact Hamiltonian field ``J grad H`` of one function.
"""

from __future__ import annotations

import torch

__all__ = ["symmetrised_hamiltonian", "hamiltonian_vector_field"]


def symmetrised_hamiltonian(network, weights, x, group=None) -> torch.Tensor:
    """Orbit-averaged Hamiltonian ``mean_s F(g_s x)``.

    Parameters
    ----------
    network : HamiltonianMLP
    weights : list of tensors with leading axis ``R``
    x : Tensor of shape (R, B, M)
    group : Tensor of shape (R, S, M + 1, M + 1), optional
        Group elements; ``None`` means no symmetrisation.

    Returns
    -------
    Tensor of shape (R, B)
    """
    if group is None:
        return network(x, weights)
    m = x.shape[-1]
    moved = torch.einsum("rsij,rbj->rsbi", group[..., :m, :m], x) + group[:, :, None, :m, m]
    r, s, b, _ = moved.shape
    return network(moved.reshape(r, s * b, m), weights).reshape(r, s, b).mean(dim=1)


def hamiltonian_vector_field(network, weights, group, J, *, create_graph=True):
    """The vector field ``x -> J grad H(x)`` of the symmetrised Hamiltonian."""

    def field(x):
        with torch.enable_grad():
            if not x.requires_grad:
                x = x.detach().requires_grad_(True)
            h = symmetrised_hamiltonian(network, weights, x, group)
            (g,) = torch.autograd.grad(h.sum(), x, create_graph=create_graph)
        return g @ J.T

    return field
