"""Gaussian mixture with full covariances (scikit-learn's ``GaussianMixture``).

Soft membership: a customer's confidence is the posterior probability of its segment.
The fit's BIC and AIC (on the fitting sample) are recorded in ``info``. Above
:data:`SAMPLE` customers the mixture is fitted on a random sample and every customer
gets its posterior from the fitted mixture.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture

from segmint.algorithms.base import Fitted, GaussianAssigner, draw_sample, finish

SAMPLE = 50_000
N_INIT = 2
REG_COVAR = 1e-6


def mixture(X: np.ndarray, k: int, seed: int, *, n_init: int = N_INIT) -> GaussianMixture:
    """A fitted full-covariance mixture (k-means initialisation)."""
    # One-hot columns make covariances singular; a ridge relative to the data's scale
    # keeps them invertible whatever the units.
    scale = float(X.var(axis=0).mean()) if len(X) > 1 else 1.0
    return GaussianMixture(
        n_components=k, covariance_type="full", n_init=n_init, random_state=seed,
        reg_covar=REG_COVAR * (scale if scale > 0 else 1.0),
    ).fit(X)  # fmt: skip


def fit(X: np.ndarray, k: int, rng: np.random.Generator) -> Fitted:
    """Gaussian mixture with ``k`` components on ``X`` (on a sample when larger)."""
    idx = draw_sample(len(X), SAMPLE, rng)
    model = mixture(X[idx], k, int(rng.integers(2**31 - 1)))
    assigner = GaussianAssigner(model.means_, model.covariances_, model.weights_)
    info = {
        "sample_size": len(idx),
        "bic": float(model.bic(X[idx])),
        "aic": float(model.aic(X[idx])),
        "converged": bool(model.converged_),
    }
    return finish("gmm", X, assigner, k, info)
