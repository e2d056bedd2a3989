"""Numerical companions to GAN theory (notebook 02_gan_theory), in NumPy on a 1-D grid.

For two densities on a grid, this module computes the optimal discriminator
``D*(x) = p_data(x) / (p_data(x) + p_g(x))``, the value function
``V(D, G) = ∫ p_data log D + p_g log(1 - D) dx``, the Kullback-Leibler and Jensen-Shannon
divergences, and so lets the notebook verify ``V(D*, G) = -log 4 + 2 JSD(p_data || p_g)``.
It also makes the toy data of the notebook (a ring of Gaussians) and measures mode coverage,
which shows mode collapse as a number. Trained GANs live in ``course_lib.gan``.
"""

from __future__ import annotations

import numpy as np

from course_lib._checks import positive_int
from course_lib._checks import seed as check_seed


def _finite_number(value, name: str, *, positive: bool = False) -> float:
    """``value`` as a float if it is a finite number (and > 0 when ``positive``), else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or (positive and not value > 0):
        raise ValueError(f"{name} must be {'positive and ' if positive else ''}a finite number, got {value!r}.")
    return float(value)


def gaussian_density(grid, mean: float, std: float) -> np.ndarray:
    """N(mean, std^2) evaluated on ``grid``.

    Introduced in notebook 02_gan_theory.
    """
    mean, std = _finite_number(mean, "mean"), _finite_number(std, "std", positive=True)
    grid = np.asarray(grid, dtype=np.float64)
    if not np.all(np.isfinite(grid)):
        raise ValueError("grid contains NaN or infinite values.")
    return np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def _density(values, name: str) -> np.ndarray:
    """``values`` as a float64 array if they are a non-empty array of finite, non-negative numbers."""
    array = np.asarray(values)
    if array.dtype.kind not in "biuf" or array.size == 0:
        raise ValueError(f"{name} must be a non-empty numeric array of density values, got {array.dtype} "
                         f"of shape {array.shape}.")
    array = array.astype(np.float64)
    if np.any(array < 0) or not np.all(np.isfinite(array)):
        raise ValueError(f"densities must be finite and non-negative: {name} holds NaN, infinite or negative values.")
    return array


def _check_densities(grid, *densities):
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or len(grid) < 3 or np.any(np.diff(grid) <= 0) or not np.all(np.isfinite(grid)):
        raise ValueError("grid must be a strictly increasing 1-D array of at least 3 finite points.")
    checked = []
    for density in densities:
        density = _density(density, "each density")
        if density.shape != grid.shape:
            raise ValueError(f"densities must be evaluated on the grid: shape {grid.shape}, got {density.shape}.")
        checked.append(density)
    return grid, checked


def optimal_discriminator(p_data, p_generator) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where both densities vanish.

    ``p_data`` and ``p_generator``: finite, non-negative densities at the same points (same shape).

    Introduced in notebook 02_gan_theory.
    """
    p_data, p_generator = _density(p_data, "p_data"), _density(p_generator, "p_generator")
    if p_data.shape != p_generator.shape:
        raise ValueError(f"p_data and p_generator must be evaluated at the same points (same shape), "
                         f"got {p_data.shape} and {p_generator.shape}.")
    total = p_data + p_generator
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def value_function(discriminator, p_data, p_generator, grid) -> float:
    """V(D, G) = ∫ p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx (trapezoid rule; 0 log 0 = 0).

    ``discriminator``: D(x) on the grid (or one number for a constant D), a probability in [0, 1].
    Where D is exactly 0 or 1 it is moved 1e-300 or 1e-16 inside, so that V stays finite.

    Introduced in notebook 02_gan_theory.
    """
    grid, (p_data, p_generator) = _check_densities(grid, p_data, p_generator)
    discriminator = np.asarray(discriminator)
    if discriminator.dtype.kind not in "biuf" or discriminator.shape not in ((), grid.shape):
        raise ValueError(f"discriminator must hold one probability per grid point, shape {grid.shape} "
                         f"(or one number), got {discriminator.dtype} of shape {discriminator.shape}.")
    discriminator = np.broadcast_to(discriminator.astype(np.float64), grid.shape)
    if not np.all((discriminator >= 0) & (discriminator <= 1)):  # also refuses NaN
        raise ValueError(f"discriminator values are probabilities D(x) in [0, 1], got values in "
                         f"[{np.nanmin(discriminator):.4g}, {np.nanmax(discriminator):.4g}]"
                         f"{' and NaN' if np.isnan(discriminator).any() else ''}: apply a sigmoid to logits first.")
    discriminator = np.clip(discriminator, 1e-300, 1 - 1e-16)
    integrand = (np.where(p_data > 0, p_data * np.log(discriminator), 0.0)
                 + np.where(p_generator > 0, p_generator * np.log1p(-discriminator), 0.0))
    return float(np.trapezoid(integrand, grid))


def kl_divergence(p, q, grid) -> float:
    """KL(p || q) = ∫ p log(p / q) dx: not symmetric, not a distance (notebook 04 says more).

    Introduced in notebook 02_gan_theory.
    """
    grid, (p, q) = _check_densities(grid, p, q)
    ratio = np.divide(p, q, out=np.ones_like(p), where=(p > 0) & (q > 0))
    if np.any((p > 0) & (q == 0)):
        return float("inf")
    return float(np.trapezoid(np.where(p > 0, p * np.log(ratio), 0.0), grid))


def jensen_shannon_divergence(p, q, grid) -> float:
    """JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2; between 0 and log 2.

    Introduced in notebook 02_gan_theory.
    """
    middle = (np.asarray(p, dtype=np.float64) + np.asarray(q, dtype=np.float64)) / 2
    return 0.5 * kl_divergence(p, middle, grid) + 0.5 * kl_divergence(q, middle, grid)


def ring_of_gaussians(num_samples: int, num_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      seed: int = 0) -> np.ndarray:
    """Points from ``num_modes`` Gaussians evenly spaced on a circle: (num_samples, 2) float32.

    Introduced in notebook 02_gan_theory.
    """
    num_samples = positive_int(num_samples, "num_samples")
    num_modes = positive_int(num_modes, "num_modes")
    radius, std = _finite_number(radius, "radius", positive=True), _finite_number(std, "std")
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}.")
    rng = np.random.default_rng(check_seed(seed))
    angles = 2 * np.pi * rng.integers(0, num_modes, size=num_samples) / num_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres + std * rng.normal(size=(num_samples, 2))).astype(np.float32)


def mode_coverage(points, num_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                  within_stds: float = 3.0) -> tuple[int, float]:
    """(modes hit, fraction of high-quality points) for samples of a ring of Gaussians.

    A point is high quality if it lies within ``within_stds`` standard deviations of a mode's
    centre; a mode is hit if it holds at least 1% of the points (a collapsed GAN hits few).

    Introduced in notebook 02_gan_theory.
    """
    points = np.asarray(points)
    if points.dtype.kind not in "biuf" or points.ndim != 2 or points.shape[1] != 2 or not len(points):
        raise ValueError(f"points must be a non-empty numeric array of shape (N, 2), got {points.dtype} "
                         f"of shape {points.shape}: an empty sample covers no mode.")
    points = points.astype(np.float64)
    if not np.all(np.isfinite(points)):
        raise ValueError("points contain NaN or infinite values (a diverged generator?).")
    num_modes = positive_int(num_modes, "num_modes")
    radius, std = _finite_number(radius, "radius", positive=True), _finite_number(std, "std", positive=True)
    within_stds = _finite_number(within_stds, "within_stds", positive=True)
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)          # (modes, 2)
    distances = np.linalg.norm(points[:, None, :] - centres[None], axis=-1)        # (N, modes)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(points)), nearest] < within_stds * std
    counts = np.bincount(nearest[good], minlength=num_modes)
    return int((counts >= 0.01 * len(points)).sum()), float(good.mean())


def ring_centres(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The centres of the ring's modes, evenly spaced on a circle from angle 0: (num_modes, 2).

    The same centres as :func:`ring_of_gaussians` and :func:`mode_coverage`; notebook
    02_gan_theory marks them on its scatter plots.

    Introduced in notebook 02_gan_theory.
    """
    num_modes = positive_int(num_modes, "num_modes")
    radius = _finite_number(radius, "radius", positive=True)
    angles = 2 * np.pi * np.arange(num_modes) / num_modes                           # (modes,)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)              # (modes, 2)
