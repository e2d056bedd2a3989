"""Restoring with a generative prior, in NumPy: sampling ``x_0`` given a damaged ``y = A x_0 + noise``
with the denoiser of an *unconditional* diffusion or flow model that was never trained on damage.

Bayes' rule splits the posterior into the prior the model learned and the likelihood of the damage,
``p(x_0 | y) ∝ p(x_0) p(y | x_0)``; every sampler here walks the model's reverse path from noise to data
and, on the way, pulls the path towards images that explain ``y``:

- :func:`inpaint` (RePaint, Lugmayr et al., 2022): where pixels are known, replace the path's values
  by the known pixels noised to the current time; ``resample`` > 1 goes back up ``jump`` steps and
  down again, so that the generated pixels have time to agree with the known ones. It is an
  approximation even with an exact denoiser: the known pixels reach the rest only through their
  noised copies.
- :func:`posterior_denoise`: for ``y = x_0 + s n`` (Gaussian noise of known std ``s``) the noisy image
  *is* a point on the forward path: ``alpha(t*) y`` has the law of ``x_{t*}`` where ``sigma/alpha = s``,
  so running the reverse path from ``t*`` samples ``p(x_0 | y)``: exactly, in the limit of many steps,
  when the denoiser is exact (each ancestral step uses the denoiser's mean, not its spread).
- :func:`dps` (diffusion posterior sampling, Chung et al., 2023): after each reverse step, a step of
  ``step_size`` times the gradient of ``||y - A x0_hat(x_t)||`` through the denoised estimate;
  it needs the denoiser's vector-Jacobian product and works for any linear ``A`` (blur,
  downsampling, noise), at the price of being approximate even with an exact denoiser.

Each takes a denoiser ``(x, t) -> (x0_hat, eps_hat)`` as :func:`course_lib.diffusion_theory.sample`
does; :func:`dps` takes ``denoiser_vjp(x, t, cotangent) -> (x0_hat, eps_hat, J^T v)`` with ``v =
cotangent(x0_hat)`` and ``J = d x0_hat / d x``. The :class:`course_lib.diffusion_theory.GaussianMixture`
gives both exactly (:func:`mixture_denoiser_vjp`), and :func:`exact_posterior` gives its true
posterior for any linear measurement, the reference the samplers are checked against.

Why the mean of several samples: if ``x'`` is an exact posterior sample, ``E||x' - x_0||^2 = 2 E||x_0 -
E[x_0 | y]||^2``: one sample has twice the minimum mean squared error (PSNR 3.01 dB below the posterior
mean's), and the mean of ``k`` samples has ``1 + 1/k`` times it (:func:`sample_mean_error_ratio`).

Introduced in notebook 11_diffusion_restoration.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from course_lib import diffusion_theory as theory
from course_lib._checks import non_negative_number, one_of, positive_int, seed as check_seed

RESTORE_METHODS = ("ddpm", "ddim")


def _finite(values, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim < 1 or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty batch (N, ...), got shape {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite numbers; it holds NaN or infinity.")
    return values


def _mask(mask, shape, name: str = "mask") -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype == bool:
        mask = mask.astype(np.float64)
    mask = np.asarray(mask, dtype=np.float64)
    try:
        np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {mask.shape} does not fit the images of shape {shape}.") from None
    if mask.ndim != len(shape) or not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"{name} must hold 1 (known pixel) or 0 (missing), one per image or one for all, "
                         f"with the images' {len(shape)} axes; got shape {mask.shape}.")
    return mask


def forward_transition(x_s, s: float, t: float, schedule: theory.Schedule, noise) -> np.ndarray:
    """A draw from ``q(x_t | x_s)`` for ``s < t``: ``(alpha_t / alpha_s) x_s + sqrt(sigma_t^2 - (alpha_t /
    alpha_s)^2 sigma_s^2) z``, the forward process continued from ``s`` to ``t``.

    Introduced in notebook 11_diffusion_restoration.
    """
    if not 0.0 <= s < t <= 1.0:
        raise ValueError(f"forward_transition goes forward in time: it needs 0 <= s < t <= 1, got s={s}, t={t}.")
    alpha_s, sigma_s = schedule.coefficients(s)[:2]
    alpha_t, sigma_t = schedule.coefficients(t)[:2]
    ratio = alpha_t / alpha_s
    return ratio * x_s + np.sqrt(max(sigma_t ** 2 - (ratio * sigma_s) ** 2, 0.0)) * np.asarray(noise)


def _reverse_step(x, x0_hat, eps_hat, t, s, schedule, method, rng):
    if method == "ddpm":
        return theory.ddpm_step(x, x0_hat, t, s, schedule, noise=rng.standard_normal(x.shape))
    return theory.ddim_step(x, x0_hat, eps_hat, t, s, schedule)


def inpaint(denoiser, known, mask, schedule: theory.Schedule, *, num_steps: int, resample: int = 1,
            jump: int = 1, method: str = "ddpm", seed: int = 0, clip: float | None = None) -> np.ndarray:
    """Fill the pixels where ``mask`` is 0, keeping ``known`` where it is 1 (RePaint).

    At every step from ``t`` to ``s`` the unknown pixels take the reverse step of ``method`` and the
    known ones are ``known`` noised to ``s`` (a draw from ``q(x_s | x_0 = known)``). With ``resample``
    ``r`` > 1 the steps go in blocks of ``jump`` steps: after each block, the merged ``x`` is noised
    back to the block's start (:func:`forward_transition`) and the block is taken again, ``r`` times
    in all, so the denoiser is called ``num_steps * r`` times. Going back up lets what the known
    pixels say at low noise reach the choices the path made at high noise; a longer ``jump`` lets
    it reach further. The result equals ``known`` exactly where the mask is 1.

    Introduced in notebook 11_diffusion_restoration.
    """
    known = _finite(known, "known")
    mask = _mask(mask, known.shape)
    one_of(method, RESTORE_METHODS, "restoration sampler")
    resample = positive_int(resample, "resample")
    jump = positive_int(jump, "jump")
    rng = np.random.default_rng(check_seed(seed))
    times = theory.time_grid(num_steps)
    predict = _clipped(denoiser, schedule, clip)
    x = rng.standard_normal(known.shape)
    for start in range(0, num_steps, jump):
        block = times[start:min(start + jump, num_steps) + 1]
        for attempt in range(resample):
            for t, s in zip(block[:-1], block[1:]):
                x0_hat, eps_hat = predict(x, t)
                unknown = _reverse_step(x, x0_hat, eps_hat, t, s, schedule, method, rng)
                alpha_s, sigma_s = schedule.coefficients(s)[:2]
                noised_known = alpha_s * known + sigma_s * rng.standard_normal(known.shape)
                x = mask * noised_known + (1.0 - mask) * unknown
            if attempt + 1 < resample:
                x = forward_transition(x, block[-1], block[0], schedule, rng.standard_normal(known.shape))
    return mask * known + (1.0 - mask) * x


def _clipped(denoiser, schedule, clip):
    if clip is None:
        return denoiser

    def predict(x, t):
        alpha, sigma = schedule.coefficients(t)[:2]
        x0_hat = np.clip(denoiser(x, t)[0], -clip, clip)
        return x0_hat, (x - alpha * x0_hat) / sigma
    return predict


def matching_time(noise_std: float, schedule: theory.Schedule) -> float:
    """The time ``t*`` at which ``sigma(t*) / alpha(t*) = noise_std`` (bisection; the ratio rises with t).

    Introduced in notebook 11_diffusion_restoration.
    """
    noise_std = non_negative_number(noise_std, "noise_std")
    if noise_std == 0:
        return 0.0
    top = 1.0 - 1e-9
    alpha, sigma = schedule.coefficients(top)[:2]
    if sigma / alpha <= noise_std:
        raise ValueError(f"noise_std={noise_std} is beyond the {schedule.name!r} schedule's largest noise-to-signal "
                         f"ratio {sigma / alpha:.3g}.")
    low, high = 0.0, top
    for _ in range(100):
        middle = 0.5 * (low + high)
        alpha, sigma = schedule.coefficients(middle)[:2]
        low, high = (middle, high) if sigma / alpha < noise_std else (low, middle)
    return 0.5 * (low + high)


def posterior_denoise(denoiser, noisy, noise_std: float, schedule: theory.Schedule, *, num_steps: int,
                      method: str = "ddpm", seed: int = 0, clip: float | None = None) -> np.ndarray:
    """Samples of ``p(x_0 | y)`` for ``y = x_0 + noise_std * n``: start the reverse path at ``t*``
    (:func:`matching_time`) from ``x_{t*} = alpha(t*) y`` and take ``num_steps`` even steps to 0.

    ``alpha(t*) y = alpha x_0 + sigma n`` is distributed as ``q(x_{t*} | x_0)``, so the reverse path
    from there samples the posterior when the denoiser is exact and ``method`` is the stochastic
    ``"ddpm"`` (exactly in the limit of many steps; ``"ddim"`` gives one deterministic restoration per
    input). Noise that was clipped to an image range afterwards is not Gaussian there; the start
    is then only approximately right on the clipped pixels.

    Introduced in notebook 11_diffusion_restoration.
    """
    noisy = _finite(noisy, "noisy")
    one_of(method, RESTORE_METHODS, "restoration sampler")
    num_steps = positive_int(num_steps, "num_steps")
    start = matching_time(noise_std, schedule)
    rng = np.random.default_rng(check_seed(seed))
    predict = _clipped(denoiser, schedule, clip)
    if start == 0.0:
        return noisy.copy()
    x = schedule.coefficients(start)[0] * noisy
    times = np.linspace(start, 0.0, num_steps + 1)
    for t, s in zip(times[:-1], times[1:]):
        x0_hat, eps_hat = predict(x, t)
        x = _reverse_step(x, x0_hat, eps_hat, t, s, schedule, method, rng)
    return x


@dataclasses.dataclass(frozen=True)
class LinearMeasurement:
    """The linear part ``A`` of a measurement ``y = A x (+ noise)`` on batches: ``apply(x)`` is ``A x`` and
    ``adjoint(y)`` is ``A^T y``, each taking and returning a batch (N, ...). :func:`matrix_measurement`
    builds one from a matrix; ``course_lib.degradations.linear_operator`` gives the images' own.

    Introduced in notebook 11_diffusion_restoration.
    """

    apply: object
    adjoint: object
    name: str = "linear measurement"

    def __post_init__(self):
        if not callable(self.apply) or not callable(self.adjoint):
            raise TypeError("LinearMeasurement needs callables apply(x) -> A x and adjoint(y) -> A^T y.")


def matrix_measurement(matrix, name: str = "matrix") -> LinearMeasurement:
    """The measurement ``y = M x`` of points (N, D) by an (M, D) ``matrix``.

    Introduced in notebook 11_diffusion_restoration.
    """
    matrix = _matrix(matrix)
    return LinearMeasurement(lambda x: np.asarray(x) @ matrix.T, lambda y: np.asarray(y) @ matrix, name)


def _matrix(matrix) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or 0 in matrix.shape or not np.all(np.isfinite(matrix)):
        raise ValueError(f"matrix must be a finite 2-D array (M, D), got shape {matrix.shape}.")
    return matrix


def dps(denoiser_vjp, measurement: LinearMeasurement, measured, schedule: theory.Schedule, *, num_steps: int,
        step_size: float, method: str = "ddpm", shape=None, seed: int = 0, clip: float | None = None) -> np.ndarray:
    """Diffusion posterior sampling: reverse steps, each followed by a step down the gradient of the
    measurement error through the denoised estimate.

    At time ``t``: ``x0_hat, eps_hat`` from the denoiser; the reverse step to ``s``; then ``x_s -=
    step_size * g / ||y - A x0_hat||`` per sample, with ``g = J^T A^T (A x0_hat - y)`` the gradient of
    ``||y - A x0_hat(x_t)||^2 / 2`` with respect to ``x_t`` (Chung et al.'s normalised step).
    ``denoiser_vjp(x, t, cotangent)`` returns ``(x0_hat, eps_hat, J^T cotangent(x0_hat))``; ``shape``:
    the shape of one clean sample (default: that of ``measurement.adjoint(measured)``'s rows).
    ``step_size = 0`` is plain unconditional sampling. ``clip`` bounds the ``x0_hat`` of the reverse
    step; the measurement error and its gradient use the network's own, unclipped estimate, so
    ``g`` is the exact gradient of that error. The step is ``step_size`` times the gradient of
    ``||y - A x0_hat||`` (``g / ||y - A x0_hat||``, not a unit vector), as in the authors' code; the
    paper's ``zeta'`` in ``zeta_i = zeta' / ||y - A x0_hat||`` on the squared error is half of it. It
    does not shrink as the error does, so on noise, where ``A = I`` and ``J`` is close to ``I`` at low
    noise, each step still moves ``x0_hat`` about ``step_size`` towards ``y``.

    Introduced in notebook 11_diffusion_restoration.
    """
    if not isinstance(measurement, LinearMeasurement):
        raise TypeError(f"measurement must be a LinearMeasurement, got {type(measurement).__name__}.")
    measured = _finite(measured, "measured")
    step_size = non_negative_number(step_size, "step_size")
    one_of(method, RESTORE_METHODS, "restoration sampler")
    rng = np.random.default_rng(check_seed(seed))
    shape = np.shape(measurement.adjoint(measured)) if shape is None else (len(measured), *shape)
    x = rng.standard_normal(shape)
    times = theory.time_grid(num_steps)

    def cotangent(x0_hat):
        return measurement.adjoint(measurement.apply(x0_hat) - measured)

    for t, s in zip(times[:-1], times[1:]):
        x0_hat, eps_hat, gradient = denoiser_vjp(x, t, cotangent)
        residual = measured - measurement.apply(x0_hat)
        norms = np.sqrt(np.sum(residual ** 2, axis=tuple(range(1, residual.ndim)), keepdims=True))
        if clip is not None:
            alpha, sigma = schedule.coefficients(t)[:2]
            x0_hat = np.clip(x0_hat, -clip, clip)
            eps_hat = (x - alpha * x0_hat) / sigma
        x = _reverse_step(x, x0_hat, eps_hat, t, s, schedule, method, rng)
        norms = norms.reshape((-1,) + (1,) * (len(shape) - 1))
        x = x - step_size * gradient / np.maximum(norms, 1e-12)
    return x


def mixture_denoiser_vjp(mixture: theory.GaussianMixture, schedule: theory.Schedule):
    """The exact ``denoiser_vjp`` of a Gaussian mixture, for :func:`dps`.

    ``J = d E[x_0 | x_t] / d x_t = (alpha / sigma^2) Cov[x_0 | x_t]`` (Tweedie's formula differentiated),
    and the mixture's posterior covariance is exact: ``sum_k r_k (c_k I + (mu_k - mu)(mu_k - mu)^T)`` with
    each component's posterior mean ``mu_k`` and variance ``c_k = s_k^2 sigma^2 / (alpha^2 s_k^2 + sigma^2)``.
    J is symmetric, so ``J^T v = J v``.

    Introduced in notebook 11_diffusion_restoration.
    """
    def denoiser_vjp(x, t, cotangent):
        x = mixture._check_points(x)
        alpha, sigma = schedule.coefficients(t)[:2]
        responsibilities, variances, _ = mixture._responsibilities(x, alpha, sigma)
        gains = (alpha * mixture.stds ** 2 / variances)[None, :, None]
        means = mixture.means[None] + gains * (x[:, None, :] - alpha * mixture.means[None])      # (N, K, D)
        x0_hat = (responsibilities[:, :, None] * means).sum(axis=1)
        eps_hat = (x - alpha * x0_hat) / sigma
        v = np.asarray(cotangent(x0_hat), dtype=np.float64)
        spreads = mixture.stds ** 2 * sigma ** 2 / variances                                      # c_k (K,)
        offsets = means - x0_hat[:, None, :]                                                    # mu_k - mu
        projections = (offsets * v[:, None, :]).sum(axis=2)                                     # (mu_k - mu) . v
        covariance_v = ((responsibilities * spreads[None])[:, :, None] * v[:, None, :]
                        + (responsibilities * projections)[:, :, None] * offsets).sum(axis=1)
        return x0_hat, eps_hat, alpha / sigma ** 2 * covariance_v
    return denoiser_vjp


@dataclasses.dataclass(frozen=True)
class MixturePosterior:
    """The exact posterior of a Gaussian mixture prior given ``y = A x + noise_std n``, per measurement:
    ``sum_k weights[n, k] N(means[n, k], covariances[k])``.

    Introduced in notebook 11_diffusion_restoration.
    """

    weights: np.ndarray        # (N, K)
    means: np.ndarray          # (N, K, D)
    covariances: np.ndarray    # (K, D, D)

    def mean(self) -> np.ndarray:
        """``E[x | y]`` (N, D): the restorer with the least mean squared error."""
        return (self.weights[:, :, None] * self.means).sum(axis=1)

    def expected_squared_error(self) -> np.ndarray:
        """``E[||x - E[x | y]||^2 | y]`` (N,): the minimum mean squared error, per measurement."""
        mean = self.mean()
        traces = np.trace(self.covariances, axis1=1, axis2=2)                                   # (K,)
        spread = ((self.means - mean[:, None, :]) ** 2).sum(axis=2)                             # (N, K)
        return (self.weights * (traces[None] + spread)).sum(axis=1)

    def sample(self, num_samples: int, seed: int = 0) -> np.ndarray:
        """``num_samples`` exact posterior draws per measurement, (N, num_samples, D)."""
        num_samples = positive_int(num_samples, "num_samples")
        rng = np.random.default_rng(check_seed(seed))
        count, _, dim = self.means.shape
        cumulative = np.cumsum(self.weights, axis=1)
        components = (rng.random((count, num_samples, 1)) > cumulative[:, None, :]).sum(axis=2)
        components = np.minimum(components, self.weights.shape[1] - 1)                         # (N, S)
        symmetric = 0.5 * (self.covariances + np.swapaxes(self.covariances, 1, 2))
        jitter = 1e-12 * (1.0 + np.trace(symmetric, axis1=1, axis2=2))[:, None, None] * np.eye(dim)
        roots = np.linalg.cholesky(symmetric + jitter)                                          # (K, D, D)
        draws = np.einsum("nsij,nsj->nsi", roots[components], rng.standard_normal((count, num_samples, dim)))
        return np.take_along_axis(self.means, components[:, :, None], axis=1) + draws


def exact_posterior(mixture: theory.GaussianMixture, matrix, measured, noise_std: float) -> MixturePosterior:
    """The exact posterior of ``mixture`` given ``y = matrix x + noise_std n`` for each row of ``measured``.

    Each component ``N(m_k, s_k^2 I)`` conditions like any Gaussian: with ``S_k = s_k^2 A A^T + noise_std^2 I``
    and gain ``G_k = s_k^2 A^T S_k^{-1}``, its posterior is ``N(m_k + G_k (y - A m_k), s_k^2 I - s_k^2 G_k A)``,
    and its weight becomes ``w_k N(y; A m_k, S_k)``, normalised. With ``noise_std = 0`` the matrix must
    have independent rows (an inpainting mask is the rows of the identity that it keeps).

    Introduced in notebook 11_diffusion_restoration.
    """
    if not isinstance(mixture, theory.GaussianMixture):
        raise TypeError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}.")
    matrix = _matrix(matrix)
    noise_std = non_negative_number(noise_std, "noise_std")
    rows, dim = matrix.shape
    if dim != mixture.dim:
        raise ValueError(f"matrix has {dim} columns but the mixture lives in {mixture.dim} dimensions.")
    measured = _finite(measured, "measured")
    if measured.ndim != 2 or measured.shape[1] != rows:
        raise ValueError(f"measured must have shape (N, {rows}) for a ({rows}, {dim}) matrix, got {measured.shape}.")
    if noise_std == 0 and np.linalg.matrix_rank(matrix) < rows:
        raise ValueError("with noise_std=0 the matrix must have independent rows (its measurements would "
                         "otherwise contradict each other or repeat); keep only independent rows.")
    log_weights, means, covariances = [], [], []
    for weight, mean, std in zip(mixture.weights, mixture.means, mixture.stds):
        evidence = std ** 2 * matrix @ matrix.T + noise_std ** 2 * np.eye(rows)                 # S_k (M, M)
        gain = std ** 2 * np.linalg.solve(evidence, matrix).T                                  # G_k (D, M)
        residual = measured - mean @ matrix.T                                                 # (N, M)
        means.append(mean + residual @ gain.T)
        covariances.append(std ** 2 * (np.eye(dim) - gain @ matrix))
        root = np.linalg.cholesky(evidence)
        whitened = np.linalg.solve(root, residual.T)                                           # (M, N)
        log_weights.append(np.log(weight) - np.log(np.diag(root)).sum() - 0.5 * rows * np.log(2 * np.pi)
                           - 0.5 * (whitened ** 2).sum(axis=0))
    log_weights = np.stack(log_weights, axis=1)
    log_weights -= log_weights.max(axis=1, keepdims=True)
    weights = np.exp(log_weights)
    return MixturePosterior(weights / weights.sum(axis=1, keepdims=True), np.stack(means, axis=1),
                            np.stack(covariances))


def sample_mean_error_ratio(num_samples: int) -> float:
    """``E||mean of k posterior samples - x_0||^2 / MMSE = 1 + 1/k``: 2 for one sample, 1 in the limit.

    The ``k`` samples and ``x_0`` are independent given ``y``, each with the posterior's spread around
    ``E[x_0 | y]``: the mean's error is the true image's spread plus ``1/k`` of a sample's.

    Introduced in notebook 11_diffusion_restoration.
    """
    return 1.0 + 1.0 / positive_int(num_samples, "num_samples")


def sample_mean_psnr_gain(num_samples: int) -> float:
    """How many dB the mean of ``k`` exact posterior samples scores above one sample: ``10 log10(2 / (1 +
    1/k))``; 2.75 dB for k = 16, 3.01 dB in the limit.

    Introduced in notebook 11_diffusion_restoration.
    """
    return float(10.0 * np.log10(2.0 / sample_mean_error_ratio(num_samples)))


def mean_and_spread(samples, axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The mean of several restorations of each input and their per-pixel standard deviation (the
    uncertainty map), along ``axis`` (the samples' axis: (N, k, ...) by default).

    Introduced in notebook 11_diffusion_restoration.
    """
    samples = _finite(samples, "samples")
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not -samples.ndim <= axis < samples.ndim:
        raise ValueError(f"axis must be an integer axis of the samples' {samples.ndim} axes, got {axis!r}.")
    if samples.ndim < 2 or samples.shape[axis] < 2:
        raise ValueError(f"samples must hold at least 2 restorations along axis {axis}, got shape {samples.shape}.")
    return samples.mean(axis=axis), samples.std(axis=axis, ddof=1)


def sliced_wasserstein(points_a, points_b, num_directions: int = 64, seed: int = 0) -> float:
    """The mean, over ``num_directions`` random unit directions, of the Wasserstein-1 distance between
    the 1-D projections of two equal-sized point sets (N, D): 0 for the same set, and about the
    distance two independent draws of one law are apart otherwise (measure that floor too).

    Introduced in notebook 11_diffusion_restoration.
    """
    points_a, points_b = _finite(points_a, "points_a"), _finite(points_b, "points_b")
    if points_a.ndim != 2 or points_a.shape != points_b.shape:
        raise ValueError(f"points_a and points_b must be (N, D) arrays of the same shape, got "
                         f"{points_a.shape} and {points_b.shape}.")
    directions = np.random.default_rng(check_seed(seed)).standard_normal(
        (points_a.shape[1], positive_int(num_directions, "num_directions")))
    directions /= np.linalg.norm(directions, axis=0)
    return float(np.mean(np.abs(np.sort(points_a @ directions, axis=0) - np.sort(points_b @ directions, axis=0))))
