"""Numerical companions to VAE theory (notebook 04_vae_theory), in NumPy, float64.

The workhorse is the **linear-Gaussian model** (probabilistic PCA, Tipping and Bishop, 1999):

    z ~ N(0, I_d),   x | z ~ N(W z + b, s^2 I_D),   so   x ~ N(b, W W^T + s^2 I_D)

whose log p(x) and true posterior p(z|x) = N(S W^T (x - b) / s^2, S), S = (I + W^T W / s^2)^-1,
are exact. For a Gaussian q(z|x) = N(m, C) the ELBO has a closed form too, so the notebook and
the tests can check, to machine precision, that

    log p(x) - ELBO(q) = KL(q(z|x) || p(z|x))  >= 0,   with equality iff q is the true posterior,

and, by Monte Carlo, that the importance-weighted bound L_k climbs from the ELBO (k = 1)
towards log p(x). The module also holds the closed-form KL between Gaussians (and its Monte
Carlo check), the KL counterexamples showing it is not a distance, and the two gradient
estimators of E_q[f(z)]: reparameterisation and score function (REINFORCE).
Trained VAEs live in ``course_lib.vae``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from course_lib._checks import positive_int

LOG_2PI = np.log(2.0 * np.pi)


# ------------------------------------------------------------------ the linear-Gaussian model

@dataclasses.dataclass(frozen=True)
class LinearGaussianModel:
    """z ~ N(0, I_d), x|z ~ N(weights @ z + bias, noise_std^2 I_D): weights (D, d), bias (D,).

    Introduced in notebook 04_vae_theory.
    """

    weights: np.ndarray
    bias: np.ndarray
    noise_std: float

    def __post_init__(self):
        weights = np.asarray(self.weights, dtype=np.float64)
        bias = np.asarray(self.bias, dtype=np.float64)
        if weights.ndim != 2:
            raise ValueError(f"weights must be a (data_dim, latent_dim) matrix, got shape {weights.shape}.")
        if bias.shape != (weights.shape[0],):
            raise ValueError(f"bias must have shape ({weights.shape[0]},), got {bias.shape}.")
        if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(bias))):
            raise ValueError("weights and bias must be finite (no NaN or inf).")
        if not (self.noise_std > 0 and np.isfinite(self.noise_std)):
            raise ValueError(f"noise_std must be positive and finite, got {self.noise_std}.")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "bias", bias)

    @property
    def data_dim(self) -> int:
        return self.weights.shape[0]

    @property
    def latent_dim(self) -> int:
        return self.weights.shape[1]


def random_linear_gaussian(data_dim: int = 5, latent_dim: int = 2, noise_std: float = 0.5, seed: int = 0,
                           orthogonal: bool = False) -> LinearGaussianModel:
    """A random linear-Gaussian model. ``orthogonal=True`` gives W orthogonal columns, so the
    true posterior covariance is diagonal (a VAE's diagonal q can then match it exactly).

    Introduced in notebook 04_vae_theory.
    """
    data_dim, latent_dim = positive_int(data_dim, "data_dim"), positive_int(latent_dim, "latent_dim")
    if latent_dim > data_dim:
        raise ValueError(f"latent_dim ({latent_dim}) must not exceed data_dim ({data_dim}).")
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(data_dim, latent_dim))
    if orthogonal:
        basis, _ = np.linalg.qr(weights)                                   # orthonormal columns
        weights = basis * rng.uniform(0.5, 2.0, size=latent_dim)           # W^T W = diag(scales^2)
    return LinearGaussianModel(weights, rng.normal(size=data_dim), noise_std)


def _check_data(model: LinearGaussianModel, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != model.data_dim or not len(x):
        raise ValueError(f"x must have shape (batch, {model.data_dim}) with batch >= 1, got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values.")
    return x


def _finite(values, name: str) -> np.ndarray:
    """``values`` as a float64 array, or ``ValueError`` if they hold NaN or infinite entries."""
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return array


def _covariance(matrix, name: str, dimension: int) -> np.ndarray:
    """``matrix`` if it is a finite, symmetric, positive definite (dimension, dimension) matrix."""
    matrix = _finite(matrix, name)
    if matrix.shape != (dimension, dimension) or not np.allclose(matrix, matrix.T):
        raise ValueError(f"{name} must be a symmetric ({dimension}, {dimension}) matrix, got shape {matrix.shape}.")
    if np.any(np.linalg.eigvalsh(matrix) <= 0):
        raise ValueError(f"{name} must be positive definite (every variance > 0), but it has an eigenvalue "
                         f"{np.linalg.eigvalsh(matrix).min():.4g} <= 0.")
    return matrix


def sample_data(model: LinearGaussianModel, num_samples: int, seed: int = 0) -> np.ndarray:
    """x = W z + b + s * noise for z ~ N(0, I): (num_samples, D).

    Introduced in notebook 04_vae_theory.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((positive_int(num_samples, "num_samples"), model.latent_dim))
    return z @ model.weights.T + model.bias + model.noise_std * rng.standard_normal((len(z), model.data_dim))


def log_marginal(model: LinearGaussianModel, x) -> np.ndarray:
    """Exact log p(x) = log N(x; b, W W^T + s^2 I) per row: (batch, D) -> (batch,).

    Introduced in notebook 04_vae_theory.
    """
    x = _check_data(model, x)
    covariance = model.weights @ model.weights.T + model.noise_std ** 2 * np.eye(model.data_dim)  # (D, D)
    return multivariate_log_normal(x, model.bias, covariance)


def multivariate_log_normal(x, mean, covariance) -> np.ndarray:
    """log N(x; mean, covariance) per row: -1/2 (D log 2 pi + log det C + (x - m)^T C^-1 (x - m)).

    Introduced in notebook 04_vae_theory.
    """
    x = np.atleast_2d(_finite(x, "x"))
    if x.ndim != 2:
        raise ValueError(f"x must be one point (D,) or a batch (batch, D), got shape {x.shape}.")
    mean = _finite(mean, "mean")
    if mean.shape != (x.shape[1],):
        raise ValueError(f"mean must have shape ({x.shape[1]},) like each row of x, got {mean.shape}.")
    covariance = _covariance(covariance, "covariance", x.shape[1])
    cholesky = np.linalg.cholesky(covariance)                                # C = L L^T
    whitened = np.linalg.solve(cholesky, (x - mean).T)                       # L^-1 (x - m): (D, batch)
    log_determinant = 2.0 * np.sum(np.log(np.diag(cholesky)))
    return -0.5 * (x.shape[1] * LOG_2PI + log_determinant + np.sum(whitened ** 2, axis=0))


def true_posterior(model: LinearGaussianModel, x):
    """p(z|x) = N(S W^T (x - b) / s^2, S), S = (I + W^T W / s^2)^-1: means (batch, d), covariance (d, d).

    Introduced in notebook 04_vae_theory.
    """
    x = _check_data(model, x)
    precision = np.eye(model.latent_dim) + model.weights.T @ model.weights / model.noise_std ** 2   # S^-1
    covariance = np.linalg.inv(precision)
    means = (x - model.bias) @ model.weights @ covariance / model.noise_std ** 2   # covariance is symmetric
    return means, covariance


def elbo(model: LinearGaussianModel, x, q_means, q_covariance) -> np.ndarray:
    """Closed-form ELBO of q(z|x) = N(q_means[i], q_covariance) for each row x[i]: (batch,).

    E_q log p(x|z) = -D/2 log(2 pi s^2) - (|x - W m - b|^2 + tr(W C W^T)) / (2 s^2)
    ELBO = E_q log p(x|z) - KL(N(m, C) || N(0, I))

    Introduced in notebook 04_vae_theory.
    """
    x = _check_data(model, x)
    q_means, q_covariance = _check_gaussian(q_means, q_covariance, len(x), model.latent_dim)
    residual = x - q_means @ model.weights.T - model.bias                                  # (batch, D)
    variance = model.noise_std ** 2
    expected_log_likelihood = (-0.5 * model.data_dim * np.log(2 * np.pi * variance)
                               - (np.sum(residual ** 2, axis=1)
                                  + np.trace(model.weights @ q_covariance @ model.weights.T)) / (2 * variance))
    kl_to_prior = kl_gaussians(q_means, q_covariance, np.zeros(model.latent_dim), np.eye(model.latent_dim))
    return expected_log_likelihood - kl_to_prior


def _check_gaussian(means, covariance, batch: int, latent_dim: int):
    means = _finite(means, "q_means")
    if means.shape != (batch, latent_dim):
        raise ValueError(f"q_means must have shape ({batch}, {latent_dim}), got {means.shape}.")
    return means, _covariance(covariance, "q_covariance", latent_dim)


def log_joint(model: LinearGaussianModel, x, z) -> np.ndarray:
    """log p(x, z) = log N(x; W z + b, s^2 I) + log N(z; 0, I): x (batch, D), z (..., batch, d) -> (..., batch).

    Introduced in notebook 04_vae_theory.
    """
    x, z = _check_data(model, x), _finite(z, "z")
    if z.ndim < 2 or z.shape[-2:] != (len(x), model.latent_dim):
        raise ValueError(f"z must have shape (..., {len(x)}, {model.latent_dim}) (one code per row of x), "
                         f"got {z.shape}.")
    predicted = z @ model.weights.T + model.bias                                           # (..., batch, D)
    variance = model.noise_std ** 2
    log_likelihood = -0.5 * np.sum((x - predicted) ** 2 / variance + np.log(2 * np.pi * variance), axis=-1)
    log_prior = -0.5 * np.sum(z ** 2 + LOG_2PI, axis=-1)
    return log_likelihood + log_prior


def importance_weighted_bound(model: LinearGaussianModel, x, q_means, q_covariance, num_samples: int,
                              seed: int = 0, num_repeats: int = 1, return_standard_error: bool = False):
    """Monte Carlo L_k = log (1/k) sum_k p(x, z_k) / q(z_k|x), z_k ~ q, averaged over ``num_repeats``: (batch,).

    E[L_1] is the ELBO; E[L_k] rises with k towards log p(x) (Burda et al., 2016). With
    ``return_standard_error`` also the Monte Carlo standard error of each average (needs
    ``num_repeats >= 2``).

    Introduced in notebook 04_vae_theory.
    """
    x = _check_data(model, x)
    q_means, q_covariance = _check_gaussian(q_means, q_covariance, len(x), model.latent_dim)
    num_samples, num_repeats = positive_int(num_samples, "num_samples"), positive_int(num_repeats, "num_repeats")
    rng = np.random.default_rng(seed)
    cholesky = np.linalg.cholesky(q_covariance)
    eps = rng.standard_normal((num_repeats, num_samples, len(x), model.latent_dim))
    z = q_means + eps @ cholesky.T                                                         # (r, k, batch, d)
    log_determinant = 2.0 * np.sum(np.log(np.diag(cholesky)))
    # z = m + L eps  =>  log q(z|x) = -1/2 (d log 2 pi + log det C + |eps|^2)
    log_q = -0.5 * (model.latent_dim * LOG_2PI + log_determinant + np.sum(eps ** 2, axis=-1))  # (r, k, batch)
    log_weights = log_joint(model, x, z) - log_q                                           # (r, k, batch)
    largest = log_weights.max(axis=1, keepdims=True)
    bound = largest[:, 0] + np.log(np.mean(np.exp(log_weights - largest), axis=1))         # (r, batch)
    if return_standard_error:
        if num_repeats < 2:
            raise ValueError("a standard error needs num_repeats >= 2.")
        return bound.mean(axis=0), bound.std(axis=0, ddof=1) / np.sqrt(num_repeats)
    return bound.mean(axis=0)


# ------------------------------------------------------------------------------------ KL

def kl_gaussians(mean_q, covariance_q, mean_p, covariance_p) -> np.ndarray:
    """KL(N(mean_q, C_q) || N(mean_p, C_p)) in nats, closed form; mean_q may be (batch, d) -> (batch,).

    KL = 1/2 (tr(C_p^-1 C_q) + (m_p - m_q)^T C_p^-1 (m_p - m_q) - d + log det C_p - log det C_q)

    Introduced in notebook 04_vae_theory.
    """
    mean_q = np.atleast_2d(_finite(mean_q, "mean_q"))
    if mean_q.ndim != 2 or mean_q.shape[1] == 0:
        raise ValueError(f"mean_q must have shape (d,) or (batch, d), got {mean_q.shape}.")
    dimension = mean_q.shape[1]
    mean_p = _finite(mean_p, "mean_p")
    if mean_p.shape not in ((dimension,), mean_q.shape):
        raise ValueError(f"mean_p must have shape ({dimension},) or {mean_q.shape} like mean_q, got {mean_p.shape}.")
    covariance_q = _covariance(covariance_q, "covariance_q", dimension)
    covariance_p = _covariance(covariance_p, "covariance_p", dimension)
    precision_p = np.linalg.inv(covariance_p)
    difference = mean_p - mean_q                                                            # (batch, d)
    mahalanobis = np.einsum("bi,ij,bj->b", difference, precision_p, difference)
    log_det_p, log_det_q = np.linalg.slogdet(covariance_p)[1], np.linalg.slogdet(covariance_q)[1]
    return 0.5 * (np.trace(precision_p @ covariance_q) + mahalanobis - dimension + log_det_p - log_det_q)


def kl_diagonal_standard_normal(mean, log_var) -> np.ndarray:
    """KL(N(mean, diag(exp(log_var))) || N(0, I)) = -1/2 sum (1 + log_var - mean^2 - exp(log_var)): (batch,).

    Introduced in notebook 04_vae_theory.
    """
    mean, log_var = _finite(mean, "mean"), _finite(log_var, "log_var")
    if mean.shape != log_var.shape or mean.ndim == 0:
        raise ValueError(f"mean and log_var must have the same shape (d,) or (batch, d), got {mean.shape} and "
                         f"{log_var.shape}.")
    return -0.5 * np.sum(1.0 + log_var - mean ** 2 - np.exp(log_var), axis=-1)


def kl_monte_carlo(mean, log_var, num_samples: int = 100_000, seed: int = 0):
    """Monte Carlo KL(q || N(0, I)) = E_q[log q(z) - log p(z)], q = N(mean, diag(exp(log_var))), one row.

    Returns (estimate, standard error), both in nats.

    Introduced in notebook 04_vae_theory.
    """
    mean, log_var = _finite(mean, "mean"), _finite(log_var, "log_var")
    if mean.ndim != 1 or mean.shape != log_var.shape or not len(mean):
        raise ValueError(f"mean and log_var must be 1-D of the same length, got {mean.shape} and {log_var.shape}.")
    eps = np.random.default_rng(seed).standard_normal((positive_int(num_samples, "num_samples"), len(mean)))
    z = mean + np.exp(0.5 * log_var) * eps                                    # reparameterised samples
    log_q = -0.5 * np.sum(LOG_2PI + log_var + eps ** 2, axis=1)
    log_p = -0.5 * np.sum(LOG_2PI + z ** 2, axis=1)
    values = log_q - log_p
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def kl_univariate(mean_q: float, std_q: float, mean_p: float, std_p: float) -> float:
    """KL(N(mean_q, std_q^2) || N(mean_p, std_p^2)) = log(s_p/s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2.

    Introduced in notebook 04_vae_theory.
    """
    if not (std_q > 0 and std_p > 0 and np.isfinite(std_q) and np.isfinite(std_p)):
        raise ValueError(f"standard deviations must be positive and finite, got {std_q} and {std_p}.")
    if not (np.isfinite(mean_q) and np.isfinite(mean_p)):
        raise ValueError(f"means must be finite, got {mean_q} and {mean_p}.")
    return float(np.log(std_p / std_q) + (std_q ** 2 + (mean_q - mean_p) ** 2) / (2 * std_p ** 2) - 0.5)


# ------------------------------------------------------------------------ gradient estimators

def gradient_estimates(mean: float, std: float, num_samples: int, seed: int = 0, function=np.square):
    """Per-sample estimates of d/d mean E_{z ~ N(mean, std^2)}[f(z)] by two estimators: (k,), (k,).

    reparameterisation: z = mean + std * eps,  g = f'(z)                 (f must be differentiable)
    score function:     g = f(z) * d/d mean log N(z; mean, std^2) = f(z) (z - mean) / std^2
    Both are unbiased; the reparameterised one has far lower variance. The default f(z) = z^2 has
    the exact gradient 2 * mean.

    Introduced in notebook 04_vae_theory.
    """
    if not (std > 0 and np.isfinite(std)) or not np.isfinite(mean):
        raise ValueError(f"mean must be finite and std positive and finite, got mean={mean}, std={std}.")
    if not callable(function):
        raise TypeError(f"function must be a callable f(z), got {type(function).__name__}.")
    eps = np.random.default_rng(seed).standard_normal(positive_int(num_samples, "num_samples"))
    z = mean + std * eps
    step = 1e-5
    reparameterised = (function(z + step) - function(z - step)) / (2 * step)   # f'(z), central difference
    score_function = function(z) * (z - mean) / std ** 2
    return reparameterised, score_function
