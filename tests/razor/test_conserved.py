"""Conserved-quantity slots: generators, measures, posterior and its ARD KL."""

import math

import numpy as np
import torch

from varembed.razor import HarmonicOscillators, oracle_generators
from varembed.razor.conserved import ConservedQuantities, augmented_basis
from varembed.razor.hnn import SymmetricHNN
from varembed.razor.model import HamiltonianMLP
from varembed.razor.phase_space import poisson_matrix, quadratic_from_coordinates

F64 = torch.float64


def test_augmented_basis_acts_as_the_hamiltonian_vector_field():
    rng = np.random.default_rng(0)
    c = rng.normal(size=14)
    g = np.einsum("j,jab->ab", c, augmented_basis(4))
    a, b = quadratic_from_coordinates(c[None], 4)
    x = rng.normal(size=4)
    np.testing.assert_allclose(g @ np.r_[x, 1.0], np.r_[poisson_matrix(4) @ (a[0] @ x + b[0]), 0.0], atol=1e-12)


def test_ard_kl_is_zero_only_for_a_switched_off_slot_and_scale_free():
    cq = ConservedQuantities(4, 2, posterior="ard", init_std=0.1, generator=torch.Generator().manual_seed(0),
                             dtype=F64)
    with torch.no_grad():
        cq.mean.zero_()
    assert abs(float(cq.kl().detach())) < 1e-10
    with torch.no_grad():
        cq.mean.normal_(generator=torch.Generator().manual_seed(1))
    kl = float(cq.kl().detach())
    assert kl > 1.0
    with torch.no_grad():  # scaling means and standard deviations together changes nothing
        cq.mean.mul_(7.0)
        cq.log_std.add_(math.log(7.0))
    assert abs(float(cq.kl().detach()) - kl) < 1e-8
    point = ConservedQuantities(4, 2, posterior="point", generator=torch.Generator().manual_seed(0), dtype=F64)
    assert float(point.kl().detach()) == 0.0 and not point.std().any()


def test_full_measure_averages_over_whole_orbits():
    # the energy of a single oscillator: a wrapped normal of std L / sqrt(2) rad is uniform on the circle
    cq = ConservedQuantities(2, 0, fixed=oracle_generators(HarmonicOscillators(1)), measure="full", dtype=F64)
    net = HamiltonianMLP(2, (16, 16), 1.0, generator=torch.Generator().manual_seed(0), dtype=F64)
    hnn = SymmetricHNN(net, cq)
    weights, group = hnn.draw(1, 20000, torch.Generator().manual_seed(2), mean=True)
    ring = 0.8 * torch.stack([torch.cos(t := torch.linspace(0, 6.0, 7, dtype=F64)), torch.sin(t)], dim=1)[None]
    with torch.no_grad():
        h = hnn.hamiltonian(ring, weights, group)[0]
        raw = net(ring, weights)[0]
    assert float(h.max() - h.min()) < 0.02 * float(raw.max() - raw.min())


def test_ball_measure_is_inside_the_pi_ball_and_uniform_in_radius():
    cq = ConservedQuantities(4, 3, measure="ball", generator=torch.Generator().manual_seed(0), dtype=F64)
    r = cq.coordinates(2, 20000, torch.Generator().manual_seed(1)).norm(dim=-1) / math.pi
    assert float(r.max()) <= 1.0
    assert abs(float((r <= 0.5).double().mean()) - 0.125) < 0.01  # P(|eps| <= 1/2) = (1/2)^K


def test_initial_directions_and_posterior_moments():
    init = np.eye(14)[:2] * 3.0
    cq = ConservedQuantities(4, 2, initial=init, init_std=0.01, dtype=F64)
    mean, std = cq.posterior_moments()
    np.testing.assert_allclose(mean, np.eye(14)[:2])  # unit directions of the full measure
    np.testing.assert_allclose(std, 0.01 / 3.0)
    draws = cq.sample(3, torch.Generator().manual_seed(0))
    assert draws.shape == (3, 2, 14) and not torch.equal(draws[0], draws[1])
    assert torch.equal(cq.sample(2, mean=True)[1], cq.mean)
