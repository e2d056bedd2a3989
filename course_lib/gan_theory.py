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


def gaussian_density(grid, mean: float, std: float) -> np.ndarray:
    """N(mean, std^2) evaluated on ``grid``."""
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}.")
    grid = np.asarray(grid, dtype=np.float64)
    return np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def _check_densities(grid, *densities):
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or len(grid) < 3 or np.any(np.diff(grid) <= 0):
        raise ValueError("grid must be a strictly increasing 1-D array of at least 3 points.")
    checked = []
    for density in densities:
        density = np.asarray(density, dtype=np.float64)
        if density.shape != grid.shape:
            raise ValueError(f"densities must be evaluated on the grid: shape {grid.shape}, got {density.shape}.")
        if np.any(density < 0) or not np.all(np.isfinite(density)):
            raise ValueError("densities must be finite and non-negative.")
        checked.append(density)
    return grid, checked


def optimal_discriminator(p_data, p_generator) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where both densities vanish."""
    p_data, p_generator = np.asarray(p_data, dtype=np.float64), np.asarray(p_generator, dtype=np.float64)
    total = p_data + p_generator
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def value_function(discriminator, p_data, p_generator, grid) -> float:
    """V(D, G) = ∫ p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx (trapezoid rule; 0 log 0 = 0)."""
    grid, (p_data, p_generator) = _check_densities(grid, p_data, p_generator)
    discriminator = np.clip(np.asarray(discriminator, dtype=np.float64), 1e-300, 1 - 1e-16)
    integrand = (np.where(p_data > 0, p_data * np.log(discriminator), 0.0)
                 + np.where(p_generator > 0, p_generator * np.log1p(-discriminator), 0.0))
    return float(np.trapezoid(integrand, grid))


def kl_divergence(p, q, grid) -> float:
    """KL(p || q) = ∫ p log(p / q) dx: not symmetric, not a distance (notebook 04 says more)."""
    grid, (p, q) = _check_densities(grid, p, q)
    ratio = np.divide(p, q, out=np.ones_like(p), where=(p > 0) & (q > 0))
    if np.any((p > 0) & (q == 0)):
        return float("inf")
    return float(np.trapezoid(np.where(p > 0, p * np.log(ratio), 0.0), grid))


def jensen_shannon_divergence(p, q, grid) -> float:
    """JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2; between 0 and log 2."""
    middle = (np.asarray(p, dtype=np.float64) + np.asarray(q, dtype=np.float64)) / 2
    return 0.5 * kl_divergence(p, middle, grid) + 0.5 * kl_divergence(q, middle, grid)


def ring_of_gaussians(num_samples: int, num_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      seed: int = 0) -> np.ndarray:
    """Points from ``num_modes`` Gaussians evenly spaced on a circle: (num_samples, 2) float32."""
    num_samples = positive_int(num_samples, "num_samples")
    num_modes = positive_int(num_modes, "num_modes")
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * rng.integers(0, num_modes, size=num_samples) / num_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres + std * rng.normal(size=(num_samples, 2))).astype(np.float32)


def mode_coverage(points, num_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                  within_stds: float = 3.0) -> tuple[int, float]:
    """(modes hit, fraction of high-quality points) for samples of a ring of Gaussians.

    A point is high quality if it lies within ``within_stds`` standard deviations of a mode's
    centre; a mode is hit if it holds at least 1% of the points (a collapsed GAN hits few).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {points.shape}.")
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
    """
    num_modes = positive_int(num_modes, "num_modes")
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius}.")
    angles = 2 * np.pi * np.arange(num_modes) / num_modes                           # (modes,)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)              # (modes, 2)
