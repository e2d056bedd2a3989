"""The reference solutions of notebooks 04 and 05 against independent references."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from course_lib import solutions, vae_theory


def test_kl_solution_matches_the_general_gaussian_kl():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    expected = [vae_theory.kl_gaussians(row[None], np.diag(np.exp(variance)), np.zeros(4), np.eye(4))[0]
                for row, variance in zip(mean, log_var)]
    np.testing.assert_allclose(solutions.gaussian_kl_closed_form(mean, log_var), expected, rtol=1e-10)


def test_reparameterised_samples_follow_the_requested_normal():
    rng = np.random.default_rng(1)
    mean, log_var = np.full((200_000, 1), 2.0), np.full((200_000, 1), np.log(9.0))
    z = solutions.reparameterize(mean, log_var, rng.standard_normal(mean.shape))
    assert stats.kstest(z[:, 0], stats.norm(2.0, 3.0).cdf).pvalue > 0.01


def test_importance_weighted_bound_solution_is_logsumexp_minus_log_k():
    log_weights = np.random.default_rng(2).normal(-1000.0, 5.0, size=(50, 3))
    expected = special.logsumexp(log_weights, axis=0) - np.log(50)
    np.testing.assert_allclose(solutions.importance_weighted_bound(log_weights), expected, rtol=1e-12)


def test_bits_per_dimension_of_the_coin_flip_model_is_one():
    assert solutions.bits_per_dimension(np.array([784 * np.log(2.0)]), 784)[0] == 1.0


def test_quantile_grid_has_equal_prior_mass_per_cell():
    grid = solutions.gaussian_quantile_grid(4)
    assert grid.shape == (16, 2)
    np.testing.assert_allclose(stats.norm.cdf(grid[:4, 0]), [0.125, 0.375, 0.625, 0.875])
    assert np.all(grid[:4, 1] == grid[0, 1])                               # z_1 varies fastest


def test_active_units_counts_the_used_dimensions():
    rng = np.random.default_rng(3)
    means = np.concatenate([rng.normal(size=(500, 3)), 0.01 * rng.normal(size=(500, 2))], axis=1)
    assert solutions.active_units(means) == 3
