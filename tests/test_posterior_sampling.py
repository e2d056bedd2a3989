"""course_lib.posterior_sampling: restoring with a diffusion prior, checked against a Gaussian mixture's
exact posterior."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from course_lib import diffusion_theory as theory
from course_lib import posterior_sampling as ps

STRAIGHT = theory.Schedule("straight")
MIXTURE = theory.GaussianMixture(weights=[0.5, 0.25, 0.25], means=[[-2.0, 0.0], [2.0, 2.0], [2.0, -2.0]],
                                 stds=[0.5, 0.4, 0.6])


sliced_wasserstein = ps.sliced_wasserstein


def test_sliced_wasserstein_is_zero_for_one_set_positive_for_a_shift_and_checks_shapes():
    points = np.random.default_rng(0).standard_normal((500, 2))
    assert ps.sliced_wasserstein(points, points) == 0.0
    shifted = ps.sliced_wasserstein(points, points + np.array([1.0, 0.0]), num_directions=2000)
    assert abs(shifted - 2 / np.pi) < 0.02          # E|cos(angle)| of a unit shift over random directions
    with pytest.raises(ValueError, match="same shape"):
        ps.sliced_wasserstein(points, points[:10])


def posterior_reference(matrix, measured_point, noise_std, count, seed=0):
    """Exact draws from the posterior given one measurement, and the distance two such draws are apart."""
    posterior = ps.exact_posterior(MIXTURE, matrix, measured_point[None], noise_std)
    reference = posterior.sample(count, seed=seed)[0]
    floor = sliced_wasserstein(posterior.sample(count, seed=seed + 1)[0], reference)
    return posterior, reference, floor


# ------------------------------------------------------------------------------ the exact posterior

def test_one_gaussian_conditions_as_the_textbook_joint_gaussian():
    rng = np.random.default_rng(0)
    mean, std, noise_std = rng.standard_normal(3), 0.7, 0.3
    matrix = rng.standard_normal((2, 3))
    measured = rng.standard_normal((4, 2))
    posterior = ps.exact_posterior(theory.GaussianMixture([1.0], [mean], [std]), matrix, measured, noise_std)
    cross = std ** 2 * matrix.T                                                # Cov(x, y)
    covariance_y = std ** 2 * matrix @ matrix.T + noise_std ** 2 * np.eye(2)
    expected_means = mean + (measured - mean @ matrix.T) @ np.linalg.inv(covariance_y) @ cross.T
    np.testing.assert_allclose(posterior.means[:, 0], expected_means, atol=1e-12)
    np.testing.assert_allclose(posterior.covariances[0], std ** 2 * np.eye(3) - cross @ np.linalg.inv(covariance_y)
                               @ cross.T, atol=1e-12)
    np.testing.assert_allclose(posterior.weights, 1.0)


def test_component_weights_follow_bayes_rule():
    matrix, noise_std = np.array([[0.5, 0.5]]), 0.2
    measured = np.array([[0.0], [1.0], [-1.5]])
    posterior = ps.exact_posterior(MIXTURE, matrix, measured, noise_std)
    evidence = np.stack([weight * stats.multivariate_normal(matrix @ mean, std ** 2 * matrix @ matrix.T
                                                            + noise_std ** 2).pdf(measured[:, 0])
                         for weight, mean, std in zip(MIXTURE.weights, MIXTURE.means, MIXTURE.stds)], axis=1)
    np.testing.assert_allclose(posterior.weights, evidence / evidence.sum(axis=1, keepdims=True), rtol=1e-9)


def test_component_weights_follow_bayes_rule_for_a_two_dimensional_measurement():
    rng = np.random.default_rng(11)
    matrix, noise_std = rng.standard_normal((2, 2)), 0.4
    measured = rng.standard_normal((5, 2))
    posterior = ps.exact_posterior(MIXTURE, matrix, measured, noise_std)
    evidence = np.stack([weight * stats.multivariate_normal(matrix @ mean, std ** 2 * matrix @ matrix.T
                                                            + noise_std ** 2 * np.eye(2)).pdf(measured)
                         for weight, mean, std in zip(MIXTURE.weights, MIXTURE.means, MIXTURE.stds)], axis=1)
    np.testing.assert_allclose(posterior.weights, evidence / evidence.sum(axis=1, keepdims=True), rtol=1e-9)


def test_one_sample_has_twice_the_minimum_error_and_the_mean_of_k_one_plus_one_over_k():
    rng = np.random.default_rng(1)
    matrix, noise_std = np.array([[0.5, 0.5]]), 0.5
    clean, _ = MIXTURE.sample(20_000, seed=2)
    measured = clean @ matrix.T + noise_std * rng.standard_normal((len(clean), 1))
    posterior = ps.exact_posterior(MIXTURE, matrix, measured, noise_std)
    draws = posterior.sample(4, seed=3)                                        # (N, 4, 2)
    mmse = posterior.expected_squared_error().mean()
    for estimate, ratio in ((posterior.mean(), 1.0), (draws[:, 0], ps.sample_mean_error_ratio(1)),
                            (draws.mean(axis=1), ps.sample_mean_error_ratio(4))):
        errors = ((estimate - clean) ** 2).sum(axis=1)
        assert errors.mean() == pytest.approx(ratio * mmse, abs=4 * errors.std() / np.sqrt(len(errors)))
    assert ps.sample_mean_error_ratio(1) == 2.0 and ps.sample_mean_error_ratio(4) == 1.25


def test_the_psnr_gain_of_averaging_samples_tends_to_three_decibels():
    assert ps.sample_mean_psnr_gain(1) == 0.0
    assert ps.sample_mean_psnr_gain(16) == pytest.approx(2.747, abs=0.001)
    assert ps.sample_mean_psnr_gain(10 ** 9) == pytest.approx(10 * np.log10(2), abs=1e-6)


# ------------------------------------------------------------------------------ the samplers

@pytest.mark.parametrize("name", theory.SCHEDULES)
def test_the_matching_time_has_the_noise_to_signal_ratio_asked_for(name):
    schedule = theory.Schedule(name)
    for noise_std in (0.05, 0.3, 1.0):
        alpha, sigma = schedule.coefficients(ps.matching_time(noise_std, schedule))[:2]
        assert sigma / alpha == pytest.approx(noise_std, rel=1e-8)
    assert ps.matching_time(0.0, schedule) == 0.0


def test_denoising_from_the_matching_time_samples_the_exact_posterior():
    noise_std, count = 0.8, 3000
    measured = np.array([0.5, 0.8])
    posterior, reference, floor = posterior_reference(np.eye(2), measured, noise_std, count)
    restored = ps.posterior_denoise(MIXTURE.denoiser(STRAIGHT), np.tile(measured, (count, 1)), noise_std, STRAIGHT,
                                    num_steps=200, seed=4)
    assert sliced_wasserstein(restored, reference) < 2.0 * floor + 0.01
    prior, _ = MIXTURE.sample(count, seed=5)
    assert sliced_wasserstein(prior, reference) > 10 * floor                 # the test can tell them apart
    spread = np.sqrt(posterior.expected_squared_error()[0] / count)
    np.testing.assert_allclose(restored.mean(axis=0), posterior.mean()[0], atol=4 * spread)


def test_inpainting_follows_known_pixels_that_decide_the_component():
    # two well-separated components: a known first coordinate of 1.5 makes the (2, 2) one certain
    mixture = theory.GaussianMixture([0.5, 0.5], [[-2.0, -2.0], [2.0, 2.0]], [0.3, 0.3])
    count = 3000
    posterior = ps.exact_posterior(mixture, np.array([[1.0, 0.0]]), np.array([[1.5]]), 0.0)
    assert posterior.weights[0, 1] > 1 - 1e-12
    reference = posterior.sample(count, seed=0)[0]
    filled = ps.inpaint(mixture.denoiser(STRAIGHT), np.tile([1.5, 0.0], (count, 1)), np.array([[1.0, 0.0]]),
                        STRAIGHT, num_steps=50, seed=6)
    np.testing.assert_array_equal(filled[:, 0], 1.5)                          # known pixels kept exactly
    assert np.mean(filled[:, 1] > 0) > 0.9                                    # the prior alone gives 0.5
    assert sliced_wasserstein(filled, reference) < 0.25                      # the prior alone: about 1.3


def test_resampling_moves_inpainting_towards_the_conditional_the_known_pixels_imply():
    # here the known second coordinate (1.0) makes the left component 83% likely, against 67% a priori
    # relative to the right one; replacement sees the known pixels only noised, and resampling helps
    count = 3000
    _, reference, floor = posterior_reference(np.array([[0.0, 1.0]]), np.array([1.0]), 0.0, count)
    known, mask = np.tile([0.0, 1.0], (count, 1)), np.array([[0.0, 1.0]])
    distances = {}
    for resample, jump in ((1, 1), (16, 10)):
        filled = ps.inpaint(MIXTURE.denoiser(STRAIGHT), known, mask, STRAIGHT, num_steps=50, resample=resample,
                            jump=jump, seed=6)
        np.testing.assert_array_equal(filled[:, 1], 1.0)
        distances[resample] = sliced_wasserstein(filled, reference)
    assert distances[16] < 0.9 * distances[1] and distances[16] - floor > 5 * floor


def test_the_mixture_vector_jacobian_product_matches_finite_differences():
    rng = np.random.default_rng(7)
    x, v, t, step = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), 0.4, 1e-6
    x0_hat, eps_hat, product = ps.mixture_denoiser_vjp(MIXTURE, STRAIGHT)(x, t, lambda _: v)
    expected_x0, expected_eps = MIXTURE.denoiser(STRAIGHT)(x, t)
    np.testing.assert_allclose(x0_hat, expected_x0, atol=1e-12)
    np.testing.assert_allclose(eps_hat, expected_eps, atol=1e-12)
    jacobian = np.stack([(MIXTURE.denoise(x + step * unit, t, STRAIGHT) - MIXTURE.denoise(x - step * unit, t, STRAIGHT))
                         / (2 * step) for unit in np.eye(2)], axis=2)           # (N, D_out, D_in)
    np.testing.assert_allclose(product, np.einsum("noi,no->ni", jacobian, v), atol=1e-6)


def test_dps_pulls_samples_to_the_measurement_and_towards_the_posterior():
    count, noise_std = 3000, 0.1
    matrix = np.array([[0.5, 0.5]])
    measured = np.array([1.0])
    _, reference, floor = posterior_reference(matrix, measured, noise_std, count)
    measurement = ps.matrix_measurement(matrix)
    denoiser_vjp = ps.mixture_denoiser_vjp(MIXTURE, STRAIGHT)
    runs = {step: ps.dps(denoiser_vjp, measurement, np.tile(measured, (count, 1)), STRAIGHT, num_steps=100,
                         step_size=step, seed=8) for step in (0.0, 0.3)}
    unguided, guided = runs[0.0], runs[0.3]
    assert sliced_wasserstein(unguided, MIXTURE.sample(count, seed=9)[0]) < 0.1      # no guidance: the prior
    residual = {step: np.abs(points @ matrix.T - measured).mean() for step, points in runs.items()}
    assert residual[0.3] < 3 * noise_std < residual[0.0]
    assert sliced_wasserstein(guided, reference) < 0.3 * sliced_wasserstein(unguided, reference)
    assert floor < 0.05


def test_mean_and_spread_are_the_sample_mean_and_standard_deviation():
    samples = np.random.default_rng(10).standard_normal((3, 5, 4, 4, 1))
    mean, spread = ps.mean_and_spread(samples)
    np.testing.assert_allclose(mean, samples.mean(axis=1))
    np.testing.assert_allclose(spread, samples.std(axis=1, ddof=1))
    assert mean.shape == spread.shape == (3, 4, 4, 1)


# ------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("call, error, message", [
    (lambda: ps.inpaint(MIXTURE.denoiser(STRAIGHT), np.zeros((2, 2)), np.array([[0.5, 1.0]]), STRAIGHT,
                        num_steps=2), ValueError, r"1 \(known pixel\) or 0"),
    (lambda: ps.inpaint(MIXTURE.denoiser(STRAIGHT), np.zeros((2, 2)), np.ones((3, 2)), STRAIGHT, num_steps=2),
     ValueError, "does not fit the images"),
    (lambda: ps.inpaint(MIXTURE.denoiser(STRAIGHT), np.full((2, 2), np.nan), np.ones((1, 2)), STRAIGHT,
                        num_steps=2), ValueError, "NaN or infinity"),
    (lambda: ps.inpaint(MIXTURE.denoiser(STRAIGHT), np.zeros((2, 2)), np.ones((1, 2)), STRAIGHT, num_steps=2,
                        method="heun"), ValueError, "Unknown restoration sampler 'heun'"),
    (lambda: ps.inpaint(MIXTURE.denoiser(STRAIGHT), np.zeros((2, 2)), np.ones((1, 2)), STRAIGHT, num_steps=2,
                        resample=0), ValueError, "resample"),
    (lambda: ps.inpaint(MIXTURE.denoiser(STRAIGHT), np.zeros((2, 2)), np.ones((1, 2)), STRAIGHT, num_steps=2,
                        jump=1.5), ValueError, "jump"),
    (lambda: ps.posterior_denoise(MIXTURE.denoiser(STRAIGHT), np.zeros((2, 2)), -0.1, STRAIGHT, num_steps=2),
     ValueError, "noise_std"),
    (lambda: ps.matching_time(500.0, theory.Schedule("cosine")), ValueError, "largest noise-to-signal ratio"),
    (lambda: ps.dps(ps.mixture_denoiser_vjp(MIXTURE, STRAIGHT), ps.matrix_measurement(np.eye(2)), np.zeros((2, 2)),
                    STRAIGHT, num_steps=2, step_size=-1.0), ValueError, "step_size"),
    (lambda: ps.dps(ps.mixture_denoiser_vjp(MIXTURE, STRAIGHT), np.eye(2), np.zeros((2, 2)), STRAIGHT, num_steps=2,
                    step_size=1.0), TypeError, "LinearMeasurement"),
    (lambda: ps.exact_posterior(MIXTURE, np.ones((1, 3)), np.zeros((2, 1)), 0.1), ValueError, "3 columns"),
    (lambda: ps.exact_posterior(MIXTURE, np.eye(2), np.zeros((2, 3)), 0.1), ValueError, r"shape \(N, 2\)"),
    (lambda: ps.exact_posterior(MIXTURE, np.array([[1.0, 0.0], [2.0, 0.0]]), np.zeros((1, 2)), 0.0), ValueError,
     "independent rows"),
    (lambda: ps.matrix_measurement(np.ones(3)), ValueError, "2-D array"),
    (lambda: ps.forward_transition(np.zeros(2), 0.5, 0.2, STRAIGHT, np.zeros(2)), ValueError, "s < t"),
    (lambda: ps.mean_and_spread(np.zeros((3, 1, 2))), ValueError, "at least 2 restorations"),
])
def test_bad_input_is_refused_with_a_message_naming_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_mean_and_spread_refuses_nan_a_missing_axis_and_a_single_sample():
    samples = np.random.default_rng(0).random((2, 3, 4))
    mean, spread = ps.mean_and_spread(samples)
    np.testing.assert_allclose(spread, samples.std(axis=1, ddof=1))
    np.testing.assert_allclose(mean, samples.mean(axis=1))
    samples[0, 1, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        ps.mean_and_spread(samples)
    with pytest.raises(ValueError, match="axis must be"):
        ps.mean_and_spread(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="at least 2 restorations"):
        ps.mean_and_spread(np.zeros((2, 1, 4)))
