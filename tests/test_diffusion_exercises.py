"""The exercises of notebook 06: each reference solution agrees with course_lib.diffusion_theory,
an untouched stub is "not attempted", and each common mistake is rejected on every seed."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import diffusion_theory as theory
from course_lib import exercises, solutions


def test_forward_process_sample_is_the_library_forward_process():
    schedule = theory.Schedule("cosine")
    rng = np.random.default_rng(0)
    x_0, eps, t = rng.normal(size=(6, 3)), rng.standard_normal((6, 3)), rng.uniform(0, 1, 6)
    alpha, sigma = schedule.coefficients(t)[:2]
    np.testing.assert_allclose(solutions.forward_process_sample(x_0, alpha, sigma, eps),
                               theory.forward_sample(x_0, t, schedule, eps), rtol=1e-12)


@pytest.mark.parametrize("step", [1, 2, 37, 1000])
def test_ddpm_posterior_variance_is_the_library_posterior_variance(step):
    betas = theory.ddpm_betas(1000)
    _, variance = theory.ddpm_posterior(np.zeros(2), np.zeros(2), step, betas)
    assert solutions.ddpm_posterior_variance(betas, step) == pytest.approx(variance, rel=1e-12, abs=1e-15)


def test_tweedie_solution_recovers_the_exact_posterior_mean_of_a_mixture():
    mixture = theory.GaussianMixture([0.4, 0.6], [[-1.0, 0.5], [1.0, -0.5]], [0.3, 0.5])
    schedule = theory.Schedule("linear")
    x = np.random.default_rng(1).standard_normal((5, 2))
    alpha, sigma = schedule.coefficients(0.3)[:2]
    np.testing.assert_allclose(solutions.tweedie_denoise(x, mixture.score(x, 0.3, schedule), alpha, sigma),
                               mixture.denoise(x, 0.3, schedule), rtol=1e-9, atol=1e-12)


def test_ddim_solution_is_the_library_ddim_step():
    schedule = theory.Schedule("cosine")
    rng = np.random.default_rng(2)
    x0_hat, eps_hat = rng.normal(size=(2, 4, 2))
    alpha_t, sigma_t = schedule.coefficients(0.7)[:2]
    alpha_s, sigma_s = schedule.coefficients(0.4)[:2]
    x_t = alpha_t * x0_hat + sigma_t * eps_hat
    np.testing.assert_allclose(solutions.ddim_step(x_t, eps_hat, alpha_t, sigma_t, alpha_s, sigma_s),
                               theory.ddim_step(x_t, x0_hat, eps_hat, 0.7, 0.4, schedule), rtol=1e-10)


MISTAKES = {
    "forward_process_sample": {
        "the variance for the standard deviation": lambda x_0, alpha, sigma, eps: (
            alpha[:, None] * x_0 + sigma[:, None] ** 2 * eps),
        "no axis for broadcasting": lambda x_0, alpha, sigma, eps: alpha * x_0 + sigma * eps,
        "square roots of alpha and sigma": lambda x_0, alpha, sigma, eps: (
            np.sqrt(alpha)[:, None] * x_0 + np.sqrt(sigma)[:, None] * eps),
    },
    "ddpm_posterior_variance": {
        "beta_t itself (DDPM's other choice)": lambda betas, step: float(betas[step - 1]),
        "abar[step - 2] also at step 1 (wraps to the last step)": lambda betas, step: float(
            (1 - np.cumprod(1 - betas)[step - 2]) / (1 - np.cumprod(1 - betas)[step - 1]) * betas[step - 1]),
        "abar indexed from 0 (one step late)": lambda betas, step: float(
            (1 - np.cumprod(1 - betas)[step - 1]) / (1 - np.cumprod(1 - betas)[min(step, len(betas) - 1)])
            * betas[step - 1]),
    },
    "tweedie_denoise": {
        "sigma for sigma squared": lambda x_t, score, alpha, sigma: (x_t + sigma * score) / alpha,
        "no division by alpha": lambda x_t, score, alpha, sigma: x_t + sigma ** 2 * score,
        "minus the score": lambda x_t, score, alpha, sigma: (x_t - sigma ** 2 * score) / alpha,
    },
    "ddim_step": {
        "x_t used as the denoised estimate": lambda x_t, eps_hat, alpha_t, sigma_t, alpha_s, sigma_s: (
            alpha_s * x_t + sigma_s * eps_hat),
        "the noise level of t kept": lambda x_t, eps_hat, alpha_t, sigma_t, alpha_s, sigma_s: (
            alpha_s * (x_t - sigma_t * eps_hat) / alpha_t + sigma_t * eps_hat),
        "alpha_t and alpha_s swapped": lambda x_t, eps_hat, alpha_t, sigma_t, alpha_s, sigma_s: (
            alpha_t * (x_t - sigma_t * eps_hat) / alpha_s + sigma_s * eps_hat),
    },
}


@pytest.mark.parametrize("name, mistake", [(name, mistake) for name in MISTAKES for mistake in MISTAKES[name]])
def test_each_common_mistake_is_rejected_on_every_seed(name, mistake):
    function = MISTAKES[name][mistake]
    with np.errstate(all="ignore"):
        verdicts = [exercises.check(name, function, seed=seed, verbose=False).status for seed in range(20)]
    assert verdicts == ["wrong"] * 20, f"{name}, {mistake}: {verdicts}"


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_reference_passes_and_an_untouched_stub_is_not_attempted(name):
    assert exercises.EXERCISES[name].notebook == "06_diffusion_theory"
    assert all(exercises.check(name, getattr(solutions, name), seed=seed, verbose=False).passed for seed in range(20))

    def stub(*arguments):
        raise NotImplementedError

    assert exercises.check(name, stub, verbose=False).status == "not attempted"
