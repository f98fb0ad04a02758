"""
PCA as an exact special case
============================

With a Gaussian prior, a Gaussian data density and an affine map, maximising the
variational functional is PCA.  ``LinearVariationalEmbedding`` finds it by Riemannian
trust regions on the Grassmann manifold; here we compare it with scikit-learn's PCA on
load_digits and show the continuity penalty's shrinkage
``s_k^2 = l_k / (1 + 2 lam l_k)`` against the closed form.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import subspace_angles
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from varembed import LinearVariationalEmbedding

X, y = load_digits(return_X_y=True)
emb = LinearVariationalEmbedding(n_components=2, random_state=0).fit(X)
pca = PCA(n_components=2).fit(X)
angle = subspace_angles(emb.components_.T, pca.components_.T).max()
print(f"largest principal angle to sklearn PCA: {angle:.2e} rad")
print(f"max |components_ - PCA.components_|: {np.abs(emb.components_ - pca.components_).max():.2e}")

lams = np.logspace(-4, 0, 9)
top = np.sort(np.linalg.eigvalsh(emb.covariance_))[::-1][:2]
fitted = np.array([LinearVariationalEmbedding(2, continuity=lam, random_state=0).fit(X).scales_ ** 2
                   for lam in lams])
closed = top[None, :] / (1.0 + 2 * lams[:, None] * top[None, :])
print(f"max relative error of s_k^2 against the closed form: {np.abs(fitted / closed - 1).max():.1e}")

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
Z = emb.transform(X)
points = axes[0].scatter(Z[:, 0], Z[:, 1], c=y, s=5, cmap="Spectral")
axes[0].set_xlabel("latent code $z_1$ (whitened PC 1)")
axes[0].set_ylabel("latent code $z_2$ (whitened PC 2)")
fig.colorbar(points, ax=axes[0], label="digit class")
axes[0].set_title(f"latent codes (angle to PCA {angle:.0e} rad)")
for k in range(2):
    axes[1].loglog(lams, fitted[:, k], "o", label=f"fitted $s_{k + 1}^2$")
    axes[1].loglog(lams, closed[:, k], "-", color="grey")
axes[1].set_xlabel("continuity $\\lambda$")
axes[1].set_ylabel("latent scale $s_k^2$")
axes[1].set_title("shrinkage: fitted (dots) vs closed form (lines)")
axes[1].legend()
fig.tight_layout()
fig.savefig("pca_special_case.png", dpi=100)
