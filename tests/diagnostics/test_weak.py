"""The weak-form Euler-Lagrange residual: test-field calculus and its zero at an exact solution."""

import numpy as np
import pytest
import torch

from varembed import VariationalEmbedding
from varembed.diagnostics import diagnose
from varembed.diagnostics.weak import _monomials


def test_monomial_gradients_and_hessians_match_autograd():
    z = torch.randn(7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    vals, grads, hess = _monomials(z, 2)
    assert vals.shape == (7, 10, ) and grads.shape == (7, 10, 3) and hess.shape == (7, 10, 3, 3)

    def f(x):
        return _monomials(x.unsqueeze(0), 2)[0][0]

    for i in range(7):
        jac = torch.autograd.functional.jacobian(f, z[i])
        hes = torch.stack([torch.autograd.functional.hessian(lambda x, m=m: f(x)[m], z[i]) for m in range(10)])
        torch.testing.assert_close(grads[i], jac, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(hess[i], hes, rtol=1e-12, atol=1e-12)


def test_weak_residual_of_an_affine_gaussian_map_is_all_of_the_residual():
    """Gaussian prior and density, affine map: r is affine in z, so its smooth part is all of it
    (rho_weak = rho_EL), near zero at the polished solution and large at the random start."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4)) * [3.0, 2.0, 0.5, 0.2]
    kw = dict(hidden=(), density="gaussian", prior="gaussian", prior_scale=1.0, anchor=0.0, init="random",
              random_state=0)
    solved = VariationalEmbedding(max_iter=300, learning_rate=1e-2, polish_iter=100, **kw).fit(X)
    start = VariationalEmbedding(max_iter=1, learning_rate=1e-9, **kw).fit(X)
    good = diagnose(solved, n_samples=2048, spaces=(), random_state=0)
    bad = diagnose(start, n_samples=2048, spaces=(), random_state=0)
    for rep in (good, bad):
        assert rep.rho_weak == pytest.approx(rep.rho_el, rel=1e-8)
    assert good.rho_weak < 0.01 and bad.rho_weak > 0.1, (good.rho_weak, bad.rho_weak)
    assert good.to_dict()["rho_weak"] == good.rho_weak and "rho_weak" in str(good)


def test_weak_residual_ignores_rough_residuals():
    """A residual that oscillates faster than the test fields has (almost) no smooth part."""
    from types import SimpleNamespace

    z = torch.randn(20000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    rough = torch.sin(25.0 * z[:, :1]) * torch.ones(1, 3, dtype=torch.float64)
    smooth = (1.0 + z[:, :1] * z[:, 1:]) * torch.ones(1, 3, dtype=torch.float64)
    from varembed.diagnostics.weak import weak_residual

    w_rough = weak_residual(SimpleNamespace(z=z, residual=rough, hess=None), 1.0)
    w_smooth = weak_residual(SimpleNamespace(z=z, residual=smooth, hess=None), 1.0)
    rms = lambda r: float(r.pow(2).sum(-1).mean().sqrt())  # noqa: E731
    assert w_rough.rho < 0.05 * rms(rough)
    assert w_smooth.rho == pytest.approx(rms(smooth), rel=1e-9)
