"""The identities of diffusion and flow matching, checked on Gaussian mixtures whose score is exact."""

import numpy as np
import pytest

from course_lib import diffusion_theory as theory

MIXTURE_1D = theory.GaussianMixture([0.3, 0.7], [[-2.0], [1.5]], [0.4, 0.6])
MIXTURE_2D = theory.GaussianMixture([0.5, 0.25, 0.25], [[-1.0, -1.0], [1.5, 0.0], [0.0, 2.0]], [0.3, 0.2, 0.4])
ALL = [theory.Schedule(name) for name in theory.SCHEDULES]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
def test_schedules_run_from_data_to_noise(schedule):
    t = np.linspace(0, 1, 101)
    alpha, sigma, _, _ = schedule.coefficients(t)
    assert alpha[0] == pytest.approx(1.0) and sigma[0] == pytest.approx(0.0, abs=1e-12)
    assert alpha[-1] <= 0.011 and sigma[-1] >= 0.99
    assert np.all(np.diff(alpha) <= 1e-12) and np.all(np.diff(sigma) >= -1e-12)
    if schedule.name != "straight":
        np.testing.assert_allclose(alpha ** 2 + sigma ** 2, 1.0, atol=1e-12)   # variance preserving


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
def test_schedule_derivatives_match_finite_differences(schedule):
    t = np.linspace(0.05, 0.95, 19)
    h = 1e-6
    _, _, d_alpha, d_sigma = schedule.coefficients(t)
    np.testing.assert_allclose(d_alpha, (schedule.alpha(t + h) - schedule.alpha(t - h)) / (2 * h), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(d_sigma, (schedule.sigma(t + h) - schedule.sigma(t - h)) / (2 * h), rtol=1e-5, atol=1e-7)


def test_continuous_linear_schedule_is_the_limit_of_ddpm_betas():
    betas = theory.ddpm_betas(1000, "linear")
    assert betas[0] == pytest.approx(1e-4) and betas[-1] == pytest.approx(0.02)
    alpha_bar = np.cumprod(1 - betas)
    steps = np.array([100, 300, 600, 1000])
    np.testing.assert_allclose(np.log(theory.Schedule("linear").alpha(steps / 1000) ** 2), np.log(alpha_bar[steps - 1]),
                               rtol=1e-2)


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
def test_closed_form_marginal_matches_simulating_the_forward_process(schedule):
    points, _ = MIXTURE_1D.sample(200_000, seed=1)
    t = 0.4
    noisy = theory.forward_sample(points, np.full(len(points), t), schedule,
                                  np.random.default_rng(2).standard_normal(points.shape))
    marginal = MIXTURE_1D.marginal(t, schedule)
    mean = marginal.weights @ marginal.means[:, 0]
    variance = marginal.weights @ (marginal.stds ** 2 + marginal.means[:, 0] ** 2) - mean ** 2
    assert noisy.mean() == pytest.approx(mean, abs=0.01)
    assert noisy.var() == pytest.approx(variance, rel=0.01)
    histogram, edges = np.histogram(noisy[:, 0], bins=40, density=True)
    centres = (edges[:-1] + edges[1:]) / 2
    density = np.exp(MIXTURE_1D.log_density(centres[:, None], t, schedule))
    assert np.max(np.abs(histogram - density)) < 0.02


def test_general_posterior_is_ddpm_posterior_for_consecutive_steps():
    betas = theory.ddpm_betas(1000, "linear")
    alpha_bar = np.cumprod(1 - betas)
    rng = np.random.default_rng(0)
    x_t, x_0 = rng.standard_normal(5), rng.standard_normal(5)
    for step in (2, 10, 500, 1000):
        mean, variance = theory.ddpm_posterior(x_t, x_0, step, betas)
        general_mean, general_variance = theory.posterior(
            x_t, x_0, np.sqrt(alpha_bar[step - 1]), np.sqrt(1 - alpha_bar[step - 1]),
            np.sqrt(alpha_bar[step - 2]), np.sqrt(1 - alpha_bar[step - 2]))
        np.testing.assert_allclose(mean, general_mean, rtol=1e-10)
        assert variance == pytest.approx(general_variance, rel=1e-10)


def test_ddpm_posterior_matches_bayes_rule_by_simulation():
    """Draw (x_0, x_s, x_t) from the chain; among draws with x_t near a value and a fixed x_0, x_s
    has the posterior's mean and variance (here checked by regression, which is exact for Gaussians)."""
    schedule = theory.Schedule("cosine")
    s, t = 0.3, 0.5
    alpha_s, sigma_s = schedule.coefficients(s)[:2]
    alpha_t, sigma_t = schedule.coefficients(t)[:2]
    rng = np.random.default_rng(3)
    n, x_0 = 400_000, 0.7
    x_s = alpha_s * x_0 + sigma_s * rng.standard_normal(n)
    alpha_ts = alpha_t / alpha_s
    x_t = alpha_ts * x_s + np.sqrt(sigma_t ** 2 - alpha_ts ** 2 * sigma_s ** 2) * rng.standard_normal(n)
    slope, intercept = np.polyfit(x_t, x_s, 1)
    residual = x_s - (slope * x_t + intercept)
    mean_at_zero, variance = theory.posterior(0.0, x_0, alpha_t, sigma_t, alpha_s, sigma_s)
    mean_at_one, _ = theory.posterior(1.0, x_0, alpha_t, sigma_t, alpha_s, sigma_s)
    assert intercept == pytest.approx(mean_at_zero, abs=3e-3)
    assert slope == pytest.approx(mean_at_one - mean_at_zero, abs=3e-3)
    assert residual.var() == pytest.approx(variance, rel=1e-2)


def test_ddpm_posterior_matches_simulating_the_discrete_chain():
    """Run the discrete chain from a fixed x_0 to step t - 1 and one more step; the least-squares line of
    x_{t-1} on x_t is the posterior mean, its residual variance the posterior variance."""
    betas = theory.ddpm_betas(1000, "linear")
    alpha_bar = np.cumprod(1 - betas)
    rng = np.random.default_rng(15)
    n, x_0, step = 400_000, 0.7, 500
    before = np.sqrt(alpha_bar[step - 2]) * x_0 + np.sqrt(1 - alpha_bar[step - 2]) * rng.standard_normal(n)
    after = np.sqrt(1 - betas[step - 1]) * before + np.sqrt(betas[step - 1]) * rng.standard_normal(n)
    slope, intercept = np.polyfit(after, before, 1)
    mean_at_zero, variance = theory.ddpm_posterior(0.0, x_0, step, betas)
    mean_at_one, _ = theory.ddpm_posterior(1.0, x_0, step, betas)
    assert intercept == pytest.approx(mean_at_zero, abs=1e-3)
    assert slope == pytest.approx(mean_at_one - mean_at_zero, abs=1e-3)
    assert (before - slope * after - intercept).var() == pytest.approx(variance, rel=1e-2)


@pytest.mark.parametrize("step", [2, 10, 100, 500, 1000])
def test_kl_between_posteriors_of_equal_variance_is_the_weighted_noise_error(step):
    """KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t)) with p_theta's mean from a predicted noise is
    beta_t^2 / (2 beta~_t alpha_t (1 - abar_t)) |eps - eps_hat|^2 (Ho et al., 2020)."""
    betas = theory.ddpm_betas(1000, "linear")
    alpha_bar = np.cumprod(1 - betas)
    rng = np.random.default_rng(16)
    x_0, eps, eps_hat = rng.standard_normal((3, 4))
    x_t = np.sqrt(alpha_bar[step - 1]) * x_0 + np.sqrt(1 - alpha_bar[step - 1]) * eps
    x0_hat = (x_t - np.sqrt(1 - alpha_bar[step - 1]) * eps_hat) / np.sqrt(alpha_bar[step - 1])
    true_mean, variance = theory.ddpm_posterior(x_t, x_0, step, betas)
    model_mean, _ = theory.ddpm_posterior(x_t, x0_hat, step, betas)
    kl = 0.5 * np.sum((true_mean - model_mean) ** 2) / variance            # KL of two Gaussians of one variance
    weight = betas[step - 1] ** 2 / (2 * variance * (1 - betas[step - 1]) * (1 - alpha_bar[step - 1]))
    assert kl == pytest.approx(weight * np.sum((eps - eps_hat) ** 2), rel=1e-8)


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
@pytest.mark.parametrize("t", [0.1, 0.5, 0.9])
def test_exact_score_is_the_gradient_of_the_log_density(schedule, t):
    x = np.random.default_rng(4).standard_normal((6, 2)) * 2
    h = 1e-5
    numeric = np.stack([(MIXTURE_2D.log_density(x + h * e, t, schedule) - MIXTURE_2D.log_density(x - h * e, t, schedule))
                        / (2 * h) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(MIXTURE_2D.score(x, t, schedule), numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
def test_tweedie_formula_gives_the_exact_posterior_mean(schedule):
    x = np.random.default_rng(5).standard_normal((8, 2))
    for t in (0.2, 0.6):
        alpha, sigma = schedule.coefficients(t)[:2]
        np.testing.assert_allclose(theory.tweedie_denoise(x, MIXTURE_2D.score(x, t, schedule), alpha, sigma),
                                   MIXTURE_2D.denoise(x, t, schedule), rtol=1e-9, atol=1e-9)
        _, eps_hat = MIXTURE_2D.denoiser(schedule)(x, t)
        np.testing.assert_allclose(theory.score_from_epsilon(eps_hat, sigma), MIXTURE_2D.score(x, t, schedule),
                                   rtol=1e-9, atol=1e-9)


def test_denoiser_is_the_conditional_mean_by_monte_carlo():
    schedule = theory.Schedule("straight")
    points, _ = MIXTURE_1D.sample(400_000, seed=6)
    t = 0.5
    noisy = theory.forward_sample(points, np.full(len(points), t), schedule,
                                  np.random.default_rng(7).standard_normal(points.shape))
    near = np.abs(noisy[:, 0] - 0.2) < 0.02
    assert points[near, 0].mean() == pytest.approx(MIXTURE_1D.denoise(np.array([[0.2]]), t, schedule)[0, 0], abs=0.03)


@pytest.mark.parametrize("kind,schedule", [("epsilon", "cosine"), ("epsilon", "linear"), ("velocity", "straight"),
                                           ("velocity", "cosine")])
def test_split_prediction_inverts_both_parameterisations(kind, schedule):
    schedule = theory.Schedule(schedule)
    rng = np.random.default_rng(8)
    x_0, eps = rng.standard_normal(10), rng.standard_normal(10)
    alpha, sigma, d_alpha, d_sigma = schedule.coefficients(0.37)
    x_t = alpha * x_0 + sigma * eps
    prediction = eps if kind == "epsilon" else d_alpha * x_0 + d_sigma * eps
    x0_hat, eps_hat = theory.split_prediction(prediction, x_t, alpha, sigma, d_alpha, d_sigma, kind)
    np.testing.assert_allclose(x0_hat, x_0, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(eps_hat, eps, rtol=1e-9, atol=1e-9)


def test_straight_path_velocity_is_noise_minus_data_and_the_exact_one_is_its_mean():
    schedule = theory.Schedule("straight")
    x = np.array([[0.3, -0.2]])
    x0_hat, eps_hat = MIXTURE_2D.denoiser(schedule)(x, 0.4)
    np.testing.assert_allclose(MIXTURE_2D.velocity(x, 0.4, schedule), eps_hat - x0_hat)


def test_ddim_with_eta_one_takes_the_ddpm_step():
    schedule = theory.Schedule("cosine")
    rng = np.random.default_rng(9)
    x0_hat, eps_hat, noise = rng.standard_normal((3, 5))
    alpha_t, sigma_t = schedule.coefficients(0.6)[:2]
    x = alpha_t * x0_hat + sigma_t * eps_hat
    np.testing.assert_allclose(theory.ddim_step(x, x0_hat, eps_hat, 0.6, 0.4, schedule, eta=1.0, noise=noise),
                               theory.ddpm_step(x, x0_hat, 0.6, 0.4, schedule, noise=noise), rtol=1e-10)


def test_deterministic_ddim_on_the_straight_path_is_euler():
    denoiser = MIXTURE_2D.denoiser(theory.Schedule("straight"))
    noise = np.random.default_rng(10).standard_normal((50, 2))
    ddim = theory.sample(denoiser, noise, theory.Schedule("straight"), num_steps=7, method="ddim")
    euler = theory.sample(denoiser, noise, theory.Schedule("straight"), num_steps=7, method="euler")
    np.testing.assert_allclose(ddim, euler, rtol=1e-10, atol=1e-10)


def test_ddim_with_eta_one_samples_what_ddpm_samples_with_the_same_draws():
    schedule = theory.Schedule("straight")
    denoiser = MIXTURE_2D.denoiser(schedule)
    noise = np.random.default_rng(17).standard_normal((200, 2))
    np.testing.assert_allclose(theory.sample(denoiser, noise, schedule, num_steps=10, method="ddim", eta=1.0, seed=3),
                               theory.sample(denoiser, noise, schedule, num_steps=10, method="ddpm", seed=3),
                               rtol=1e-10, atol=1e-10)


def test_regressing_the_conditional_velocity_learns_the_marginal_velocity():
    """The mean of eps - x_0 over draws whose x_t lands near a point is the exact (marginal) velocity,
    and the flow-matching loss of the exact velocity plus a constant c exceeds its floor by |c|^2."""
    schedule = theory.Schedule("straight")
    points, _ = MIXTURE_2D.sample(2_000_000, seed=18)
    noise = np.random.default_rng(19).standard_normal(points.shape)
    t = 0.5
    noisy = theory.forward_sample(points, t, schedule, noise)
    conditional = noise - points
    for point in ([0.0, 0.0], [-1.0, -0.5], [0.5, 1.0]):
        near = np.linalg.norm(noisy - point, axis=1) < 0.05
        standard_error = conditional[near].std(axis=0) / np.sqrt(near.sum())
        exact = MIXTURE_2D.velocity(np.array([point]), t, schedule)[0]
        assert np.all(np.abs(conditional[near].mean(axis=0) - exact) < 4 * standard_error)
    exact = MIXTURE_2D.velocity(noisy, t, schedule)
    shift = np.array([0.3, -0.2])
    floor = np.mean(np.sum((exact - conditional) ** 2, axis=1))
    shifted = np.mean(np.sum((exact + shift - conditional) ** 2, axis=1))
    assert shifted - floor == pytest.approx(shift @ shift, abs=0.01)
    assert floor > 0.5                                                     # many directions pass through each x_t


@pytest.mark.parametrize("schedule,method,steps", [("straight", "heun", 40), ("straight", "euler", 200),
                                                    ("cosine", "ddim", 100), ("cosine", "ddpm", 200),
                                                    ("linear", "ddim", 200)])
def test_sampling_with_the_exact_denoiser_reproduces_the_mixture(schedule, method, steps):
    schedule = theory.Schedule(schedule)
    noise = np.random.default_rng(11).standard_normal((20_000, 2))
    samples = theory.sample(MIXTURE_2D.denoiser(schedule), noise, schedule, num_steps=steps, method=method, seed=12)
    distances = ((samples[:, None, :] - MIXTURE_2D.means[None]) ** 2).sum(axis=2)
    nearest = distances.argmin(axis=1)
    np.testing.assert_allclose(np.bincount(nearest, minlength=3) / len(samples), MIXTURE_2D.weights, atol=0.02)
    reference, _ = MIXTURE_2D.sample(20_000, seed=13)
    np.testing.assert_allclose(samples.mean(axis=0), reference.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(samples.std(axis=0), reference.std(axis=0), rtol=0.05)


def test_heun_is_second_order_and_euler_first_order():
    schedule = theory.Schedule("straight")
    denoiser = MIXTURE_1D.denoiser(schedule)
    noise = np.random.default_rng(14).standard_normal((500, 1))
    exact = theory.sample(denoiser, noise, schedule, num_steps=2000, method="heun")
    errors = {method: [np.abs(theory.sample(denoiser, noise, schedule, num_steps=k, method=method) - exact).mean()
                       for k in (16, 32)] for method in ("euler", "heun")}
    assert 1.6 < errors["euler"][0] / errors["euler"][1] < 2.6          # halving the step halves the error
    assert errors["heun"][0] / errors["heun"][1] > 3.0                  # ... or quarters it
    assert errors["heun"][1] < errors["euler"][1] / 5


def test_network_calls_and_time_grid():
    assert theory.network_calls(8, "heun") == 15 and theory.network_calls(8, "ddim") == 8
    grid = theory.time_grid(4)
    np.testing.assert_allclose(grid, [1, 0.75, 0.5, 0.25, 0])


@pytest.mark.parametrize("call,message", [
    (lambda: theory.Schedule("quadratic"), "schedule"),
    (lambda: theory.Schedule("cosine").alpha(1.5), "times in \\[0, 1\\]"),
    (lambda: theory.Schedule("cosine").alpha(np.nan), "times in \\[0, 1\\]"),
    (lambda: theory.sample(None, np.zeros((1, 2)), theory.Schedule(), num_steps=0), "num_steps"),
    (lambda: theory.sample(None, np.zeros((1, 2)), theory.Schedule(), num_steps=2, method="rk4"), "sampler"),
    (lambda: theory.sample(None, np.zeros((1, 2)), theory.Schedule(), num_steps=2, eta=2.0), "eta"),
    (lambda: theory.GaussianMixture([0.5, 0.6], [[0.0], [1.0]], [1.0, 1.0]), "sum to 1"),
    (lambda: theory.GaussianMixture([1.0], [[0.0]], [0.0]), "stds must be positive"),
    (lambda: MIXTURE_2D.score(np.zeros((3, 3)), 0.5, theory.Schedule()), "shape \\(N, 2\\)"),
    (lambda: theory.ddpm_betas(0), "num_steps"),
    (lambda: theory.split_prediction(0, 0, 1, 1, 1, 1, "score"), "prediction kind"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize("call,message", [
    (lambda: theory.forward_sample(np.zeros((4, 1)), 0.5, theory.Schedule(), np.zeros((4, 2))), "same shape"),
    (lambda: theory.forward_sample(np.zeros((4, 2)), np.full(3, 0.5), theory.Schedule(), np.zeros((4, 2))),
     "one per example"),
    (lambda: theory.forward_sample(np.full((2, 2), np.nan), 0.5, theory.Schedule(), np.zeros((2, 2))), "finite"),
    (lambda: theory.ddpm_posterior(np.zeros(3), np.zeros(4), 2, theory.ddpm_betas(10)), "same shape"),
    (lambda: theory.sample(MIXTURE_2D.denoiser(theory.Schedule()), np.array([[np.nan, 0.0]]), theory.Schedule(),
                           num_steps=2), "finite"),
])
def test_inputs_that_would_broadcast_or_propagate_nan_are_refused(call, message):
    """numpy would broadcast (4, 1) against (4, 2), or carry a NaN to every sample, without a word."""
    with pytest.raises(ValueError, match=message):
        call()
