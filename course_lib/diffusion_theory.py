"""Diffusion and flow matching in NumPy: schedules, the forward process, the posterior, the samplers,
and a Gaussian mixture whose score and velocity are exact.

Every model of this family corrupts data ``x_0`` with Gaussian noise along a path in time
``t`` in [0, 1] (t = 0: data, t = 1: noise):

    x_t = alpha(t) x_0 + sigma(t) eps,   eps ~ N(0, I),   so   q(x_t | x_0) = N(alpha x_0, sigma^2 I).

Three schedules give ``alpha`` and ``sigma`` (:class:`Schedule`):

- ``"linear"``: DDPM's variance-preserving schedule (Ho et al., 2020), betas rising linearly
  from 1e-4 to 0.02 over 1,000 steps, in its continuous form ``alpha^2 = exp(-B(t))`` with
  ``B(t) = 0.1 t + 9.95 t^2`` (Song et al., 2021); ``alpha^2 + sigma^2 = 1``.
- ``"cosine"``: ``alpha = cos((t + 0.008) / 1.008 * pi / 2) / cos(0.008 / 1.008 * pi / 2)`` (Nichol and
  Dhariwal, 2021), variance preserving, ``alpha`` kept at or above 0.01 near t = 1.
- ``"straight"``: the straight path of flow matching and rectified flow (Lipman et al.; Liu et
  al., 2023): ``alpha = 1 - t``, ``sigma = t``, so ``x_t = (1 - t) x_0 + t x_1`` with ``x_1 = eps``.

A network sees ``x_t`` and ``t`` and predicts the noise ``eps`` (diffusion) or the velocity
``v = alpha'(t) x_0 + sigma'(t) eps`` (flow matching; ``v = eps - x_0`` on the straight path). Either
prediction gives both the denoised estimate ``x0_hat`` and ``eps_hat`` (:func:`split_prediction`),
and with them the score ``-eps_hat / sigma`` (Tweedie's formula: ``E[x_0 | x_t] = (x_t + sigma^2
score) / alpha``) and the velocity of the probability-flow ODE ``dx/dt = alpha' x0_hat + sigma' eps_hat``.

The samplers (:func:`sample`) all take a *denoiser*, ``denoiser(x, t) -> (x0_hat, eps_hat)``: the exact
one of a :class:`GaussianMixture`, or a trained network (``course_lib.diffusion``). They are

- ``"ddpm"``: ancestral sampling from the posterior ``q(x_s | x_t, x_0 = x0_hat)`` (:func:`posterior`);
- ``"ddim"``: DDIM (Song, Meng and Ermon, 2021) with noise level ``eta``: deterministic at 0, the
  same draws as ``"ddpm"`` at 1;
- ``"euler"`` and ``"heun"``: first- and second-order steps of the probability-flow ODE; Heun's
  correction is skipped on the last step to t = 0 (as in Karras et al., 2022), so K Heun steps
  cost 2K - 1 network calls. On the straight path a deterministic DDIM step *is* an Euler step.

Introduced in notebook 06_diffusion_theory; the trained models live in ``course_lib.diffusion``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from course_lib._checks import finite_array, fraction, one_of, positive_int, same_shape, seed as check_seed

SCHEDULES = ("linear", "cosine", "straight")
SAMPLERS = ("ddpm", "ddim", "euler", "heun")
PREDICTIONS = ("epsilon", "velocity")
LINEAR_BETA_MIN, LINEAR_BETA_MAX = 0.1, 20.0   # DDPM's 1e-4 and 0.02 per step, times 1,000 steps
COSINE_OFFSET = 0.008
COSINE_MIN_ALPHA = 0.01


# ---------------------------------------------------------------------------------- schedules

def schedule_coefficients(name: str, t, xp=np):
    """``(alpha, sigma, d_alpha, d_sigma)`` of schedule ``name`` at times ``t`` (``d_`` is d/dt).

    ``xp`` is the array library: NumPy here, ``keras.ops`` inside a model's ``train_step``; the
    formulas use only functions both provide. The linear schedule's ``d_sigma`` is infinite at
    t = 0 (``sigma`` grows like the square root of t there); nothing evaluates it there.

    Introduced in notebook 06_diffusion_theory.
    """
    if name == "straight":
        one = xp.ones_like(t)
        return 1.0 - t, t, -one, one
    if name == "linear":
        integral = LINEAR_BETA_MIN * t + 0.5 * (LINEAR_BETA_MAX - LINEAR_BETA_MIN) * t * t
        beta = LINEAR_BETA_MIN + (LINEAR_BETA_MAX - LINEAR_BETA_MIN) * t
        alpha = xp.exp(-0.5 * integral)
        sigma = xp.sqrt(-xp.expm1(-integral))
        return alpha, sigma, -0.5 * beta * alpha, 0.5 * beta * alpha * alpha / sigma
    if name == "cosine":
        scale = 0.5 * np.pi / (1.0 + COSINE_OFFSET)
        start = np.cos(COSINE_OFFSET * scale)
        raw = xp.cos((t + COSINE_OFFSET) * scale) / start
        alpha = xp.maximum(raw, COSINE_MIN_ALPHA)
        d_alpha = xp.where(raw > COSINE_MIN_ALPHA, -xp.sin((t + COSINE_OFFSET) * scale) * scale / start, 0.0 * t)
        sigma = xp.sqrt(1.0 - alpha * alpha)
        return alpha, sigma, d_alpha, -alpha * d_alpha / sigma
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {name!r}.")


def _times(t, name: str = "t") -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
        bad = t[~((t >= 0) & (t <= 1))].ravel()
        raise ValueError(f"{name} must be times in [0, 1], got {bad[0]!r} (and {len(bad) - 1} more outside).")
    return t


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A noise schedule by name (``"linear"``, ``"cosine"`` or ``"straight"``), in NumPy float64.

    Introduced in notebook 06_diffusion_theory.
    """

    name: str = "straight"

    def __post_init__(self):
        one_of(self.name, SCHEDULES, "schedule")

    def coefficients(self, t):
        """``(alpha, sigma, d_alpha, d_sigma)`` at times ``t`` in [0, 1]."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return schedule_coefficients(self.name, _times(t))

    def alpha(self, t) -> np.ndarray:
        return self.coefficients(t)[0]

    def sigma(self, t) -> np.ndarray:
        return self.coefficients(t)[1]

    def signal_to_noise(self, t) -> np.ndarray:
        """alpha^2 / sigma^2: infinite at t = 0, falling to 0 (or nearly) at t = 1."""
        alpha, sigma = self.coefficients(t)[:2]
        with np.errstate(divide="ignore"):
            return alpha ** 2 / sigma ** 2


def ddpm_betas(num_steps: int = 1000, name: str = "linear") -> np.ndarray:
    """The discrete DDPM betas: linear from 1e-4 to 0.02 scaled to ``num_steps``, or the cosine
    schedule's ``1 - alpha_bar_i / alpha_bar_{i-1}`` clipped at 0.999 (Nichol and Dhariwal).

    Introduced in notebook 06_diffusion_theory.
    """
    num_steps = positive_int(num_steps, "num_steps")
    one_of(name, ("linear", "cosine"), "DDPM schedule")
    if name == "linear":
        scale = 1000.0 / num_steps
        return np.linspace(scale * 1e-4, scale * 0.02, num_steps)
    steps = np.arange(num_steps + 1) / num_steps
    alpha_bar = np.cos((steps + COSINE_OFFSET) / (1 + COSINE_OFFSET) * np.pi / 2) ** 2
    return np.minimum(1.0 - alpha_bar[1:] / alpha_bar[:-1], 0.999)


def ddpm_posterior(x_t, x_0, step: int, betas) -> tuple[np.ndarray, float]:
    """DDPM's ``q(x_{t-1} | x_t, x_0)`` for step ``step`` (1-based) of the discrete chain ``betas``:
    mean ``sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0 + sqrt(1 - beta_t) (1 - abar_{t-1}) / (1 - abar_t) x_t``
    and variance ``(1 - abar_{t-1}) / (1 - abar_t) beta_t`` (Ho et al., 2020, eq. 7).

    Introduced in notebook 06_diffusion_theory.
    """
    betas = np.asarray(betas, dtype=np.float64)
    step = positive_int(step, "step", maximum=len(betas))
    x_t, x_0 = finite_array(x_t, "x_t"), finite_array(x_0, "x_0")
    same_shape(x_t, x_0, "x_t", "x_0")
    alpha_bar = np.cumprod(1.0 - betas)
    alpha_bar_t = alpha_bar[step - 1]
    alpha_bar_before = alpha_bar[step - 2] if step > 1 else 1.0
    beta = betas[step - 1]
    mean = (np.sqrt(alpha_bar_before) * beta / (1 - alpha_bar_t) * np.asarray(x_0)
            + np.sqrt(1 - beta) * (1 - alpha_bar_before) / (1 - alpha_bar_t) * np.asarray(x_t))
    return mean, float((1 - alpha_bar_before) / (1 - alpha_bar_t) * beta)


# ---------------------------------------------------------------------- the forward process

def forward_sample(x_0, t, schedule: Schedule, noise) -> np.ndarray:
    """``x_t = alpha(t) x_0 + sigma(t) noise``, the closed form of ``q(x_t | x_0)``; ``t`` one time
    per example (shape (N,)) or one for all.

    Introduced in notebook 06_diffusion_theory.
    """
    x_0, noise = finite_array(x_0, "x_0"), finite_array(noise, "noise")
    same_shape(x_0, noise, "x_0", "noise")
    alpha, sigma = schedule.coefficients(t)[:2]
    if np.ndim(alpha) and np.shape(alpha) != (len(x_0),):
        raise ValueError(f"t must be one time or one per example ({len(x_0)}), got shape {np.shape(alpha)}.")
    shape = (-1,) + (1,) * (x_0.ndim - 1)
    return np.reshape(alpha, shape) * x_0 + np.reshape(sigma, shape) * noise


def posterior(x_t, x0_hat, alpha_t, sigma_t, alpha_s, sigma_s):
    """``q(x_s | x_t, x_0)`` for any earlier time s < t of a Gaussian path: ``(mean, variance)``.

    With ``alpha_ts = alpha_t / alpha_s`` and ``sigma_ts^2 = sigma_t^2 - alpha_ts^2 sigma_s^2`` (the
    noise added between s and t), the mean is ``alpha_ts sigma_s^2 / sigma_t^2 x_t + alpha_s sigma_ts^2 /
    sigma_t^2 x_0`` and the variance ``sigma_ts^2 sigma_s^2 / sigma_t^2`` (Kingma et al., 2021). For
    consecutive DDPM steps it is :func:`ddpm_posterior`.

    Introduced in notebook 06_diffusion_theory.
    """
    alpha_ts = alpha_t / alpha_s
    sigma_ts2 = sigma_t ** 2 - alpha_ts ** 2 * sigma_s ** 2
    mean = alpha_ts * sigma_s ** 2 / sigma_t ** 2 * x_t + alpha_s * sigma_ts2 / sigma_t ** 2 * x0_hat
    return mean, sigma_ts2 * sigma_s ** 2 / sigma_t ** 2


def split_prediction(prediction, x_t, alpha, sigma, d_alpha, d_sigma, kind: str):
    """``(x0_hat, eps_hat)`` from a network's ``prediction`` of the noise (``kind="epsilon"``) or of
    the velocity ``v = d_alpha x_0 + d_sigma eps`` (``kind="velocity"``), given ``x_t = alpha x_0 +
    sigma eps``: two linear equations in two unknowns. Works on NumPy arrays and Keras tensors.

    Introduced in notebook 06_diffusion_theory.
    """
    if kind == "epsilon":
        return (x_t - sigma * prediction) / alpha, prediction
    if kind == "velocity":
        determinant = alpha * d_sigma - sigma * d_alpha   # 1 on the straight path
        return ((d_sigma * x_t - sigma * prediction) / determinant,
                (alpha * prediction - d_alpha * x_t) / determinant)
    raise ValueError(f"prediction kind must be one of {PREDICTIONS}, got {kind!r}.")


def score_from_epsilon(eps_hat, sigma):
    """The score ``grad log p_t(x) = -E[eps | x_t] / sigma(t)``.

    Introduced in notebook 06_diffusion_theory.
    """
    return -eps_hat / sigma


def tweedie_denoise(x_t, score, alpha, sigma):
    """Tweedie's formula: ``E[x_0 | x_t] = (x_t + sigma^2 score(x_t)) / alpha``.

    Introduced in notebook 06_diffusion_theory.
    """
    return (x_t + sigma ** 2 * score) / alpha


# ------------------------------------------------------------------------ a Gaussian mixture

@dataclasses.dataclass(frozen=True)
class GaussianMixture:
    """``p_0 = sum_k weights_k N(means_k, stds_k^2 I)`` in D dimensions: means (K, D), stds (K,).

    Under any schedule its marginal at time t is again a mixture, ``sum_k w_k N(alpha m_k,
    (alpha^2 s_k^2 + sigma^2) I)``, so its density, score, denoiser ``E[x_0 | x_t]`` and velocity are
    exact: the reference every identity of notebook 06 is checked against.

    Introduced in notebook 06_diffusion_theory.
    """

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    def __post_init__(self):
        weights = np.asarray(self.weights, dtype=np.float64)
        means = np.atleast_2d(np.asarray(self.means, dtype=np.float64))
        stds = np.asarray(self.stds, dtype=np.float64)
        if weights.ndim != 1 or means.shape[0] != len(weights) or stds.shape != weights.shape:
            raise ValueError(f"weights (K,), means (K, D) and stds (K,) must agree, got {weights.shape}, "
                             f"{means.shape} and {stds.shape}.")
        if np.any(weights <= 0) or not np.isclose(weights.sum(), 1.0):
            raise ValueError(f"weights must be positive and sum to 1, got {weights}.")
        if np.any(stds <= 0) or not np.all(np.isfinite(means)):
            raise ValueError(f"stds must be positive and means finite, got stds {stds}.")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "stds", stds)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(points (N, D), component of each)``."""
        rng = np.random.default_rng(check_seed(seed))
        components = rng.choice(len(self.weights), size=positive_int(num_samples, "num_samples"), p=self.weights)
        points = self.means[components] + self.stds[components, None] * rng.standard_normal((num_samples, self.dim))
        return points, components

    def _check_points(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"points must have shape (N, {self.dim}), got {x.shape}.")
        return x

    def _responsibilities(self, x, alpha, sigma):
        """Per-point component posteriors ``r_k(x)`` and each component's marginal variance at t."""
        variances = alpha ** 2 * self.stds ** 2 + sigma ** 2                        # (K,)
        squared = ((x[:, None, :] - alpha * self.means[None]) ** 2).sum(axis=2)      # (N, K)
        log_terms = np.log(self.weights) - 0.5 * self.dim * np.log(2 * np.pi * variances) - 0.5 * squared / variances
        peak = log_terms.max(axis=1, keepdims=True)
        log_density = peak[:, 0] + np.log(np.exp(log_terms - peak).sum(axis=1))
        return np.exp(log_terms - log_density[:, None]), variances, log_density

    def log_density(self, x, t, schedule: Schedule) -> np.ndarray:
        """log p_t(x) of the marginal at time ``t`` (a scalar)."""
        alpha, sigma = schedule.coefficients(t)[:2]
        return self._responsibilities(self._check_points(x), alpha, sigma)[2]

    def score(self, x, t, schedule: Schedule) -> np.ndarray:
        """The exact score ``grad_x log p_t(x)``, (N, D)."""
        x = self._check_points(x)
        alpha, sigma = schedule.coefficients(t)[:2]
        responsibilities, variances, _ = self._responsibilities(x, alpha, sigma)
        per_component = -(x[:, None, :] - alpha * self.means[None]) / variances[None, :, None]
        return (responsibilities[:, :, None] * per_component).sum(axis=1)

    def denoise(self, x, t, schedule: Schedule) -> np.ndarray:
        """The exact ``E[x_0 | x_t = x]``, computed per component (not through the score)."""
        x = self._check_points(x)
        alpha, sigma = schedule.coefficients(t)[:2]
        responsibilities, variances, _ = self._responsibilities(x, alpha, sigma)
        gains = (alpha * self.stds ** 2 / variances)[None, :, None]
        per_component = self.means[None] + gains * (x[:, None, :] - alpha * self.means[None])
        return (responsibilities[:, :, None] * per_component).sum(axis=1)

    def denoiser(self, schedule: Schedule):
        """The exact denoiser ``(x, t) -> (E[x_0 | x], E[eps | x])`` that :func:`sample` takes."""
        def denoiser(x, t):
            x0_hat = self.denoise(x, t, schedule)
            alpha, sigma = schedule.coefficients(t)[:2]
            return x0_hat, (x - alpha * x0_hat) / sigma
        return denoiser

    def velocity(self, x, t, schedule: Schedule) -> np.ndarray:
        """The marginal velocity ``E[d_alpha x_0 + d_sigma eps | x_t = x]`` of the probability-flow ODE."""
        x0_hat, eps_hat = self.denoiser(schedule)(self._check_points(x), t)
        _, _, d_alpha, d_sigma = schedule.coefficients(t)
        return d_alpha * x0_hat + d_sigma * eps_hat

    def marginal(self, t, schedule: Schedule) -> "GaussianMixture":
        """The mixture ``q(x_t) = sum_k w_k N(alpha m_k, (alpha^2 s_k^2 + sigma^2) I)``."""
        alpha, sigma = schedule.coefficients(t)[:2]
        return GaussianMixture(self.weights, alpha * self.means, np.sqrt(alpha ** 2 * self.stds ** 2 + sigma ** 2))


# --------------------------------------------------------------------------------- samplers

def time_grid(num_steps: int) -> np.ndarray:
    """``num_steps + 1`` times from 1 (noise) down to 0 (data), evenly spaced.

    Introduced in notebook 06_diffusion_theory.
    """
    return np.linspace(1.0, 0.0, positive_int(num_steps, "num_steps") + 1)


def ddim_step(x, x0_hat, eps_hat, t, s, schedule: Schedule, *, eta: float = 0.0, noise=None):
    """One DDIM step from time ``t`` to ``s < t``: ``x_s = alpha_s x0_hat + sqrt(sigma_s^2 - c^2) eps_hat
    + c z`` with ``c^2 = eta^2 Var q(x_s | x_t, x_0)``. ``eta = 0``: deterministic; ``eta = 1``: DDPM's
    ancestral step (the posterior mean plus its standard deviation times ``noise``).

    Introduced in notebook 06_diffusion_theory.
    """
    alpha_t, sigma_t = schedule.coefficients(t)[:2]
    alpha_s, sigma_s = schedule.coefficients(s)[:2]
    if s == 0 or eta == 0:
        return alpha_s * x0_hat + sigma_s * eps_hat
    _, variance = posterior(x, x0_hat, alpha_t, sigma_t, alpha_s, sigma_s)
    spread = eta * np.sqrt(variance)
    return alpha_s * x0_hat + np.sqrt(np.maximum(sigma_s ** 2 - spread ** 2, 0.0)) * eps_hat + spread * noise


def ddpm_step(x, x0_hat, t, s, schedule: Schedule, *, noise):
    """One ancestral step: a draw from ``q(x_s | x_t, x_0 = x0_hat)`` (:func:`posterior`).

    Introduced in notebook 06_diffusion_theory.
    """
    alpha_t, sigma_t = schedule.coefficients(t)[:2]
    alpha_s, sigma_s = schedule.coefficients(s)[:2]
    if s == 0:
        return alpha_s * x0_hat
    mean, variance = posterior(x, x0_hat, alpha_t, sigma_t, alpha_s, sigma_s)
    return mean + np.sqrt(variance) * noise


def ode_velocity(x0_hat, eps_hat, t, schedule: Schedule):
    """The probability-flow velocity ``dx/dt = alpha'(t) x0_hat + sigma'(t) eps_hat``.

    Introduced in notebook 06_diffusion_theory.
    """
    _, _, d_alpha, d_sigma = schedule.coefficients(t)
    return d_alpha * x0_hat + d_sigma * eps_hat


def sample(denoiser, noise, schedule: Schedule, *, num_steps: int, method: str = "heun", eta: float = 0.0,
           seed: int = 0, clip: float | None = None, return_path: bool = False):
    """Integrate from ``x_1 = noise`` at t = 1 to t = 0 in ``num_steps`` even steps with ``method``.

    ``denoiser(x, t) -> (x0_hat, eps_hat)``; ``clip`` bounds ``x0_hat`` to [-clip, clip] (images in
    [-1, 1] use 1), which keeps a noise-predicting network from extrapolating near t = 1;
    ``seed`` draws the fresh noise of ``"ddpm"`` and of ``"ddim"`` with ``eta > 0``. Returns x_0, or
    with ``return_path`` the list of every x_t along the way (the first is ``noise``).

    Introduced in notebook 06_diffusion_theory.
    """
    one_of(method, SAMPLERS, "sampler")
    eta = fraction(eta, "eta")
    rng = np.random.default_rng(check_seed(seed))
    times = time_grid(num_steps)
    x = np.asarray(noise, dtype=np.float64)
    if x.ndim < 1 or len(x) == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"noise must be a non-empty batch (N, ...) of finite numbers, got shape {x.shape}.")

    def predict(x, t):
        x0_hat, eps_hat = denoiser(x, t)
        if clip is not None:   # re-derive eps from the clipped x0 so that x_t = alpha x0 + sigma eps still holds
            alpha, sigma = schedule.coefficients(t)[:2]
            x0_hat = np.clip(x0_hat, -clip, clip)
            eps_hat = (x - alpha * x0_hat) / sigma
        return x0_hat, eps_hat

    path = [x]
    for t, s in zip(times[:-1], times[1:]):
        x0_hat, eps_hat = predict(x, t)
        if method == "ddpm":
            x = ddpm_step(x, x0_hat, t, s, schedule, noise=rng.standard_normal(x.shape))
        elif method == "ddim":
            fresh = rng.standard_normal(x.shape) if eta > 0 else None
            x = ddim_step(x, x0_hat, eps_hat, t, s, schedule, eta=eta, noise=fresh)
        else:
            velocity = ode_velocity(x0_hat, eps_hat, t, schedule)
            proposal = x + (s - t) * velocity                           # Euler
            if method == "heun" and s > 0:                                # Heun: average with the slope at s
                proposal = x + (s - t) * 0.5 * (velocity + ode_velocity(*predict(proposal, s), s, schedule))
            x = proposal
        path.append(x)
    return path if return_path else x


def network_calls(num_steps: int, method: str) -> int:
    """How many times :func:`sample` calls the denoiser: ``num_steps``, or ``2 num_steps - 1`` for Heun.

    Introduced in notebook 06_diffusion_theory.
    """
    one_of(method, SAMPLERS, "sampler")
    num_steps = positive_int(num_steps, "num_steps")
    return 2 * num_steps - 1 if method == "heun" else num_steps
