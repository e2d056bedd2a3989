"""course_lib.gan_theory helpers added for notebook 02_gan_theory, and its exercises' references."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import gan_theory, solutions


def test_ring_centres_lie_on_the_circle_evenly_spaced_where_the_samples_are():
    centres = gan_theory.ring_centres(8, radius=2.0)
    assert centres.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2.0)
    np.testing.assert_allclose(centres[0], [2.0, 0.0], atol=1e-12)
    neighbours = np.linalg.norm(centres - np.roll(centres, 1, axis=0), axis=1)
    np.testing.assert_allclose(neighbours, 2 * 2.0 * np.sin(np.pi / 8))  # equal chords
    points = gan_theory.ring_of_gaussians(4000, num_modes=8, radius=2.0, std=0.05, seed=3)
    nearest = np.linalg.norm(points[:, None] - centres[None], axis=-1).min(axis=1)
    assert nearest.max() < 6 * 0.05  # every sample sits next to one of these centres
    assert gan_theory.mode_coverage(np.repeat(centres, 10, axis=0))[0] == 8


def test_ring_centres_reject_bad_arguments():
    with pytest.raises(ValueError, match="num_modes"):
        gan_theory.ring_centres(0)
    with pytest.raises(ValueError, match="radius"):
        gan_theory.ring_centres(8, radius=-1.0)


def test_optimal_discriminator_reference_matches_the_library_and_handles_empty_places():
    p_data, p_generator = np.array([0.2, 0.0, 0.0, 0.5]), np.array([0.2, 0.3, 0.0, 0.0])
    np.testing.assert_allclose(solutions.optimal_discriminator(p_data, p_generator), [0.5, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(solutions.optimal_discriminator(p_data, p_generator),
                               gan_theory.optimal_discriminator(p_data, p_generator))


def test_monte_carlo_value_is_minus_log_4_for_an_undecided_discriminator():
    undecided = np.full(10, 0.5)
    assert solutions.value_function_monte_carlo(undecided, undecided[:3]) == pytest.approx(-np.log(4))
    sure = solutions.value_function_monte_carlo(np.array([1 - 1e-9]), np.array([1e-9]))
    assert sure == pytest.approx(0.0, abs=1e-8)  # a perfect discriminator reaches V = 0


def test_discrete_jensen_shannon_bounds_and_agreement_with_the_grid_version():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.0, 1.0])
    assert solutions.jensen_shannon(p, q) == pytest.approx(np.log(2))  # disjoint supports
    assert solutions.jensen_shannon(p, p) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    a, b = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    assert solutions.jensen_shannon(a, b) == pytest.approx(solutions.jensen_shannon(b, a))
    grid = np.linspace(-12, 12, 24001)
    density_p, density_q = gan_theory.gaussian_density(grid, 0, 1), gan_theory.gaussian_density(grid, 1.5, 0.7)
    cell = grid[1] - grid[0]  # a fine histogram of two densities has (almost) their JSD
    assert solutions.jensen_shannon(density_p * cell, density_q * cell) == pytest.approx(
        gan_theory.jensen_shannon_divergence(density_p, density_q, grid), rel=1e-4)
