"""The identities of notebook 04_vae_theory, checked on the linear-Gaussian model whose log p(x) is exact."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from course_lib import vae_theory as theory


@pytest.fixture(scope="module")
def model_and_data():
    model = theory.random_linear_gaussian(data_dim=5, latent_dim=2, noise_std=0.5, seed=0)
    return model, theory.sample_data(model, 6, seed=1)


def perturbed_posterior(model, x, shift=0.4, scale=1.8):
    means, covariance = theory.true_posterior(model, x)
    return means + shift, covariance * scale


def test_log_marginal_matches_scipy_multivariate_normal(model_and_data):
    model, x = model_and_data
    covariance = model.weights @ model.weights.T + model.noise_std ** 2 * np.eye(model.data_dim)
    expected = stats.multivariate_normal(model.bias, covariance).logpdf(x)
    np.testing.assert_allclose(theory.log_marginal(model, x), expected, rtol=1e-12)


def test_true_posterior_is_bayes_rule(model_and_data):
    """log p(z|x) = log p(x, z) - log p(x) at arbitrary z."""
    model, x = model_and_data
    means, covariance = theory.true_posterior(model, x)
    z = np.random.default_rng(2).normal(size=(len(x), model.latent_dim))
    posterior = np.array([stats.multivariate_normal(mean, covariance).logpdf(point) for mean, point in zip(means, z)])
    np.testing.assert_allclose(posterior, theory.log_joint(model, x, z) - theory.log_marginal(model, x), rtol=1e-10)


def test_elbo_is_below_log_p_and_the_gap_is_the_kl_to_the_true_posterior(model_and_data):
    model, x = model_and_data
    q_means, q_covariance = perturbed_posterior(model, x)
    gap = theory.log_marginal(model, x) - theory.elbo(model, x, q_means, q_covariance)
    assert np.all(gap > 0)
    true_means, true_covariance = theory.true_posterior(model, x)
    kl = np.array([theory.kl_gaussians(mean[None], q_covariance, true_mean, true_covariance)[0]
                   for mean, true_mean in zip(q_means, true_means)])
    np.testing.assert_allclose(gap, kl, rtol=1e-10)


def test_elbo_equals_log_p_at_the_true_posterior(model_and_data):
    model, x = model_and_data
    means, covariance = theory.true_posterior(model, x)
    np.testing.assert_allclose(theory.elbo(model, x, means, covariance), theory.log_marginal(model, x), atol=1e-10)


def test_closed_form_elbo_matches_its_monte_carlo_definition(model_and_data):
    """ELBO = E_q[log p(x, z) - log q(z|x)], estimated with 200,000 samples (L_1 averaged)."""
    model, x = model_and_data
    q_means, q_covariance = perturbed_posterior(model, x)
    estimate = theory.importance_weighted_bound(model, x, q_means, q_covariance, 1, seed=3, num_repeats=200_000)
    np.testing.assert_allclose(estimate, theory.elbo(model, x, q_means, q_covariance), atol=0.03)


def test_importance_weighted_bound_rises_with_k_towards_log_p(model_and_data):
    model, x = model_and_data
    q_means, q_covariance = perturbed_posterior(model, x)
    exact = theory.log_marginal(model, x)
    bounds = [theory.importance_weighted_bound(model, x, q_means, q_covariance, k, seed=4, num_repeats=400).mean()
              for k in (1, 10, 100, 1000)]
    assert bounds[0] < bounds[1] < bounds[2] < bounds[3]
    assert exact.mean() - bounds[3] < 0.02 < exact.mean() - bounds[0]


def test_importance_weights_are_constant_at_the_true_posterior(model_and_data):
    """With q = p(z|x), p(x, z) / q(z|x) = p(x) for every z: every L_k is log p(x) exactly."""
    model, x = model_and_data
    means, covariance = theory.true_posterior(model, x)
    np.testing.assert_allclose(theory.importance_weighted_bound(model, x, means, covariance, 7, seed=5),
                               theory.log_marginal(model, x), atol=1e-9)


def test_diagonal_kl_matches_the_general_formula_and_monte_carlo():
    rng = np.random.default_rng(6)
    mean, log_var = rng.normal(size=4), rng.normal(size=4)
    closed = theory.kl_diagonal_standard_normal(mean[None], log_var[None])[0]
    general = theory.kl_gaussians(mean[None], np.diag(np.exp(log_var)), np.zeros(4), np.eye(4))[0]
    estimate, standard_error = theory.kl_monte_carlo(mean, log_var, num_samples=200_000, seed=7)
    assert closed == pytest.approx(general, rel=1e-12)
    assert abs(estimate - closed) < 4 * standard_error


def test_kl_is_zero_only_when_q_is_the_prior():
    assert theory.kl_diagonal_standard_normal(np.zeros((1, 3)), np.zeros((1, 3)))[0] == 0.0
    for mean, log_var in [([0.1, 0, 0], [0, 0, 0]), ([0, 0, 0], [0, -0.1, 0]), ([0, 0, 0], [0, 0, 0.1])]:
        assert theory.kl_diagonal_standard_normal(np.array([mean]), np.array([log_var]))[0] > 0


def test_kl_is_asymmetric_and_breaks_the_triangle_inequality():
    assert theory.kl_univariate(0, 1, 0, 2) != pytest.approx(theory.kl_univariate(0, 2, 0, 1))
    # P = N(0, 1), Q = N(1, 1), R = N(2, 1): KL(P||R) = 2 > KL(P||Q) + KL(Q||R) = 1
    direct = theory.kl_univariate(0, 1, 2, 1)
    via = theory.kl_univariate(0, 1, 1, 1) + theory.kl_univariate(1, 1, 2, 1)
    assert direct == pytest.approx(2.0) and via == pytest.approx(1.0)


def test_both_gradient_estimators_are_unbiased_and_reparameterisation_has_lower_variance():
    reparameterised, score = theory.gradient_estimates(1.5, 1.0, 200_000, seed=8)  # f = z^2: gradient 2 * mean = 3
    for estimates in (reparameterised, score):
        assert abs(estimates.mean() - 3.0) < 4 * estimates.std() / np.sqrt(len(estimates))
    assert score.var() > 5 * reparameterised.var()
    np.testing.assert_allclose(reparameterised.var(), 4.0, rtol=0.02)  # Var(2 z) = 4 std^2


def test_bad_theory_inputs_raise_clear_errors(model_and_data):
    model, x = model_and_data
    with pytest.raises(ValueError, match="shape"):
        theory.log_marginal(model, x[:, :3])
    with pytest.raises(ValueError, match="positive definite"):
        theory.elbo(model, x, np.zeros((len(x), 2)), -np.eye(2))
    with pytest.raises(ValueError, match="latent_dim"):
        theory.random_linear_gaussian(data_dim=2, latent_dim=3)
    with pytest.raises(ValueError, match="noise_std"):
        theory.LinearGaussianModel(np.ones((3, 2)), np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="same shape"):
        theory.kl_diagonal_standard_normal(np.zeros(3), np.zeros(2))
