"""Restorers and the restoration benchmark of notebooks 06-08.

A **restorer** is a :class:`Restorer`: a name, a function that maps a
:class:`~course_lib.degradations.Damaged` batch to restored float32 NHWC images in [0, 1] at the
original size, and the degradations it can handle (kinds such as ``"noise"`` or names such as
``"noise_0.3"``). Asking it to restore anything else raises a ``ValueError`` that says so. This
module provides the classical restorers of notebook 06, built on scikit-image, SciPy and the
``bm3d`` package rather than written by hand: interpolation (nearest, bilinear/linear, bicubic/
cubic), mean-image fill, biharmonic inpainting, median filter, total variation, non-local means,
wavelet shrinkage, BM3D, Wiener and Richardson-Lucy deconvolution. Their parameters were tuned
on a validation split carved from the 8,000 training digits (:func:`tune_classical`, run by
``python -m course_lib.restoration --tune``) and are stored below as literals in
``TUNED_PARAMETERS``; the 2,000 held-out digits are only ever used by :func:`benchmark`, which
scores any list of restorers (the learned ones of notebooks 07-08 plug in the same way) on the
same damaged held-out digits and prints one table. The learned restorers start at the end of
the module: a DnCNN-style residual denoiser and a U-Net that reads the damaged image and its
mask, built by :func:`build_learned_restorer` and trained with the MSE objective by the one entry
point :func:`train_learned_restorer` (through ``resumable_fit``), taught by notebook 07. The
shipped ones (:data:`SHIPPED_RESTORERS`: ``dncnn_noise_0.3``, ``unet_hole_12``, ...) load with
:func:`load_learned_restorer` and are reproduced by ``python -m course_lib.restoration --train NAME``.
What it leaves out: blind restoration (unknown noise level or blur kernel) and colour-specific
methods.
"""

from __future__ import annotations

import dataclasses
import math
import time
import typing
from typing import Callable, Sequence

import numpy as np
import scipy.ndimage
import scipy.stats

from course_lib import degradations as deg
from course_lib._checks import as_image_batch, positive_int
from course_lib.degradations import Damaged, Degradation

__all__ = [
    "Restorer", "damaged_input", "interpolation", "mean_image_fill", "biharmonic", "median",
    "total_variation", "non_local_means", "wavelet", "bm3d_denoiser", "wiener", "richardson_lucy",
    "classical_restorers", "unclip", "clipped_mean", "TUNED_PARAMETERS", "validation_split",
    "tune_classical", "BenchmarkRow", "BenchmarkResult", "benchmark", "format_table",
    "LearnedRestorerConfig", "build_dncnn", "build_unet", "build_learned_restorer", "model_inputs",
    "train_learned_restorer", "learned_restorer", "training_seeds", "training_pairs", "SHIPPED_RESTORERS",
    "dilation_rates", "receptive_field", "learned_config_from_manifest", "load_learned_restorer", "shipped_restorer", "shipped_restorers",
    "evaluate_learned_restorer", "train_and_save",
]

# Tuned on 200 validation digits (40 for BM3D) carved from the 8,000 training digits by
# validation_split(seed=0), damaged with seed 1, by maximising mean PSNR over the grids in
# TUNING_GRIDS: `python -m course_lib.restoration --tune` re-runs it and prints this dictionary.
# Noise parameters are per noise level; a level that was not tuned uses the nearest tuned one.
TUNED_PARAMETERS = {
    "median": {"noise_0.1": 3, "noise_0.3": 3, "noise_0.5": 3},
    "total_variation": {"noise_0.1": 0.05, "noise_0.3": 0.15, "noise_0.5": 0.2},
    "non_local_means": {"noise_0.1": 1.0, "noise_0.3": 0.5, "noise_0.5": 0.3},   # h / sigma
    "wavelet": {"noise_0.1": 0.75, "noise_0.3": 0.5, "noise_0.5": 0.75},        # threshold sigma / sigma
    "bm3d": {"noise_0.1": 0.075, "noise_0.3": 0.225, "noise_0.5": 0.25},        # sigma_psd
    "wiener": {"blur": 0.00001},
    "richardson_lucy": {"blur": 100},
}
TUNING_GRIDS = {
    "median": [3, 5],
    "total_variation": [0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3],
    "non_local_means": [0.2, 0.3, 0.5, 0.75, 1.0, 1.5],  # multiples of the noise sigma
    "wavelet": [0.25, 0.35, 0.5, 0.75, 1.0],             # multiples of the noise sigma
    "bm3d": [0.35, 0.5, 0.75, 1.0],                      # multiples of the noise sigma
    # the benchmark's blur is noiseless, so weaker regularisation keeps winning down to round-off
    "wiener": [0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.01],
    # still improving at 100 on noiseless blur, but each iteration costs; 100 is the cap
    "richardson_lucy": [10, 20, 50, 100],
}
TUNED_NOISE_LEVELS = ("noise_0.1", "noise_0.3", "noise_0.5")
VALIDATION_SIZE = 200
SLOW_VALIDATION_SIZE = 40
TUNING_SEED = 1  # damage seed on the validation split; the benchmark uses seed 0
NON_LOCAL_MEANS_PATCH = {"patch_size": 5, "patch_distance": 6}
# std of clip(sigma n, 0, 1) / sigma for n ~ N(0, 1): the noise left on a black background
CLIPPED_STD_AT_ZERO = math.sqrt(0.5 - 1.0 / (2.0 * math.pi))


# --------------------------------------------------------------------------------------------
# The restorer contract
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Restorer:
    """A restoration method: ``restorer(damaged) -> restored images`` (N, H, W, C) in [0, 1].

    Introduced in notebook 06_degradations_and_classical_restoration. ``function`` receives the
    :class:`~course_lib.degradations.Damaged` batch (images, mask with 1 = known, and the
    degradation, so a method can read the noise level or the blur kernel). ``handles`` lists
    degradation kinds (``"noise"``, ``"hole"``, ...) or exact names (``"noise_0.3"``) the method
    is meant for. ``slow`` marks methods the benchmark may run on fewer images. Learned
    restorers (notebooks 07-08) are built the same way: ``Restorer("U-Net", unet_function,
    ("hole",))``.
    """

    name: str
    function: Callable[[Damaged], np.ndarray]
    handles: tuple[str, ...]
    description: str = ""
    slow: bool = False

    def can_restore(self, degradation) -> bool:
        degradation = deg.get_degradation(degradation)
        return degradation.kind in self.handles or degradation.name in self.handles

    def __call__(self, damaged: Damaged) -> np.ndarray:
        if not isinstance(damaged, Damaged):
            raise ValueError(f"{self.name} restores a Damaged batch (from Degradation.apply), "
                             f"got {type(damaged).__name__}.")
        if not self.can_restore(damaged.degradation):
            raise ValueError(f"{self.name} cannot restore {damaged.degradation.name!r} "
                             f"({damaged.degradation.description}); it handles: "
                             f"{', '.join(self.handles)}.")
        restored = np.asarray(self.function(damaged), dtype=np.float32)
        if restored.ndim != 4 or len(restored) != len(damaged.images):
            raise ValueError(f"{self.name} must return a batch (N, H, W, C) with N = "
                             f"{len(damaged.images)}, got shape {restored.shape}.")
        return np.clip(restored, 0.0, 1.0)


def _per_channel(images: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply a 2-D ``function`` to every image and channel: (N, H, W, C) -> (N, H, W, C)."""
    restored = np.empty_like(images, dtype=np.float32)
    for index in range(images.shape[0]):
        for channel in range(images.shape[-1]):
            restored[index, ..., channel] = function(images[index, ..., channel].astype(np.float64))
    return restored


def _tuned(method: str, degradation: Degradation):
    """The tuned parameter of ``method`` for ``degradation`` (nearest tuned noise level)."""
    table = TUNED_PARAMETERS[method]
    if degradation.name in table:
        return table[degradation.name]
    if degradation.kind == "noise":
        levels = {name: deg.get_degradation(name).level for name in table}
        nearest = min(levels, key=lambda name: abs(levels[name] - degradation.level))
        return table[nearest]
    raise ValueError(f"{method} has no tuned parameter for {degradation.name!r}; pass one.")


# --------------------------------------------------------------------------------------------
# Clipped noise is not zero-mean: invert its expectation
# --------------------------------------------------------------------------------------------

def clipped_mean(values, sigma: float) -> np.ndarray:
    """``E[clip(x + sigma n, 0, 1)]`` for ``n ~ N(0, 1)``, elementwise for clean values ``x``.

    Introduced in notebook 06_degradations_and_classical_restoration. With
    ``a = -x / sigma`` and ``b = (1 - x) / sigma`` (Phi, phi: standard normal CDF and density):

        E = x (Phi(b) - Phi(a)) + sigma (phi(a) - phi(b)) + (1 - Phi(b)),

    the mean of the part of ``x + sigma n`` inside [0, 1] plus the mass clipped to 1. It rises
    monotonically in ``x``, from about ``sigma / sqrt(2 pi)`` at ``x = 0`` (for sigma well below 1)
    to about ``1 - sigma / sqrt(2 pi)`` at ``x = 1``.
    """
    values = np.asarray(values, dtype=np.float64)
    sigma = deg._non_negative(sigma, "sigma")
    if sigma == 0:
        return values
    lower, upper = -values / sigma, (1.0 - values) / sigma
    normal = scipy.stats.norm
    return (values * (normal.cdf(upper) - normal.cdf(lower))
            + sigma * (normal.pdf(lower) - normal.pdf(upper)) + (1.0 - normal.cdf(upper)))


def unclip(estimates, sigma: float) -> np.ndarray:
    """Map denoised values of a clipped-noise image back to the clean scale.

    Introduced in notebook 06_degradations_and_classical_restoration. A denoiser that averages
    (TV, NL-means, wavelets, BM3D) estimates ``E[clip(x + sigma n, 0, 1)]``, not ``x``: on a
    black background it returns about ``0.12`` for sigma 0.3 instead of 0. This inverts
    :func:`clipped_mean` by monotone interpolation on a grid of 2,001 values of ``x``
    (estimates below ``clipped_mean(0)`` map to 0, above ``clipped_mean(1)`` to 1), the
    correction of Foi (2009) for clipped noisy images.
    """
    estimates = np.asarray(estimates, dtype=np.float64)
    sigma = deg._non_negative(sigma, "sigma")
    if sigma == 0:
        return estimates.astype(np.float32)
    grid = np.linspace(0.0, 1.0, 2001)
    return np.interp(estimates, clipped_mean(grid, sigma), grid).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Classical restorers
# --------------------------------------------------------------------------------------------

def _restore_damaged_input(damaged: Damaged) -> np.ndarray:
    if damaged.degradation.kind == "down":
        return deg.upsample(damaged.images, int(damaged.degradation.level), "nearest")
    return damaged.images


def damaged_input() -> Restorer:
    """The 'do nothing' baseline: the damaged images themselves (zero fill for missing pixels,
    nearest upsampling for low-resolution images). Every table reads against this row.
    Introduced in notebook 06_degradations_and_classical_restoration."""
    return Restorer("damaged input", _restore_damaged_input, deg.KINDS,
                    "no restoration (missing pixels = 0; low resolution shown by nearest upsampling)")


def _fill_scattered(image: np.ndarray, known: np.ndarray, method: str) -> np.ndarray:
    """Interpolate the unknown pixels of a 2-D image from the known ones (scipy griddata)."""
    import scipy.interpolate

    rows, columns = np.nonzero(known)
    missing_rows, missing_columns = np.nonzero(~known)
    filled = image.copy()
    if len(missing_rows) == 0 or len(rows) == 0:
        return filled
    points = np.stack([rows, columns], axis=1)
    targets = np.stack([missing_rows, missing_columns], axis=1)
    values = scipy.interpolate.griddata(points, image[known], targets, method=method)
    outside = np.isnan(values)  # outside the convex hull of the known pixels: nearest value
    if np.any(outside):
        values[outside] = scipy.interpolate.griddata(points, image[known], targets[outside],
                                                     method="nearest")
    filled[missing_rows, missing_columns] = values
    return filled


INTERPOLATION_METHODS = {"nearest": ("nearest", "nearest"), "bilinear": ("bilinear", "linear"),
                         "bicubic": ("bicubic", "cubic")}


def interpolation(method: str = "bicubic") -> Restorer:
    """Interpolation: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.

    Introduced in notebook 06_degradations_and_classical_restoration. On low-resolution
    images (``down``) it enlarges with spline order 0, 1 or 3 (:func:`~course_lib.degradations.upsample`).
    On images with missing pixels (``missing``) it interpolates the scattered known pixels with
    ``scipy.interpolate.griddata`` (nearest, linear or cubic on their Delaunay triangulation).
    """
    if method not in INTERPOLATION_METHODS:
        raise ValueError(f"Unknown interpolation method {method!r}; expected one of "
                         f"{', '.join(map(repr, INTERPOLATION_METHODS))}.")
    upsampling, scattered = INTERPOLATION_METHODS[method]

    def restore(damaged: Damaged) -> np.ndarray:
        if damaged.degradation.kind == "down":
            return deg.upsample(damaged.images, int(damaged.degradation.level), upsampling)
        known = damaged.mask[..., 0] > 0.5                                  # (N, H, W)
        restored = np.empty_like(damaged.images)
        for index in range(len(damaged.images)):
            for channel in range(damaged.images.shape[-1]):
                restored[index, ..., channel] = _fill_scattered(
                    damaged.images[index, ..., channel], known[index], scattered)
        return restored

    return Restorer(f"{method} interpolation", restore, ("down", "missing"),
                    f"{upsampling} upsampling / {scattered} scattered-data interpolation")


def mean_image_fill(train_images) -> Restorer:
    """Fill missing pixels with the mean training image (the same guess for every digit).

    Introduced in notebook 06_degradations_and_classical_restoration. ``train_images``
    (N, H, W, C) must be training images, never the test images it will be scored on.
    """
    mean_image = as_image_batch(train_images, "train_images").mean(axis=0)   # (H, W, C)

    def restore(damaged: Damaged) -> np.ndarray:
        if damaged.images.shape[1:] != mean_image.shape:
            raise ValueError(f"mean_image_fill was built for images of shape {mean_image.shape}, "
                             f"got {damaged.images.shape[1:]}.")
        # x_hat = m * y + (1 - m) * mean_image
        return damaged.mask * damaged.images + (1.0 - damaged.mask) * mean_image[None]

    return Restorer("mean-image fill", restore, ("missing", "hole", "strokes"),
                    "missing pixels take the value of the mean training image")


def biharmonic() -> Restorer:
    """Biharmonic inpainting (``skimage.restoration.inpaint_biharmonic``).

    Introduced in notebook 06_degradations_and_classical_restoration. Fills the missing
    pixels with the smoothest surface (Laplacian of the Laplacian = 0) that agrees with the known
    pixels around them. scikit-image's mask marks the pixels to fill (True), the inverse of
    the course's convention.
    """
    from skimage.restoration import inpaint_biharmonic

    def restore(damaged: Damaged) -> np.ndarray:
        restored = np.empty_like(damaged.images)
        for index in range(len(damaged.images)):
            to_fill = damaged.mask[index, ..., 0] < 0.5                       # True = missing
            restored[index] = inpaint_biharmonic(damaged.images[index].astype(np.float64), to_fill,
                                                 channel_axis=-1)
        return restored

    return Restorer("biharmonic inpainting", restore, ("missing", "hole", "strokes"),
                    "smoothest surface through the known pixels")


def _noise_sigma(degradation: Degradation) -> float:
    return degradation.level if degradation.kind == "noise" else 0.0


def median(size: int | None = None) -> Restorer:
    """Median filter over a ``size`` x ``size`` window (``scipy.ndimage.median_filter``).

    Introduced in notebook 06_degradations_and_classical_restoration. The median ignores
    outliers, so it removes salt-and-pepper noise almost perfectly; on Gaussian noise it is a
    weak denoiser. ``size=None`` uses the tuned size (3 for salt-and-pepper).
    """
    if size is not None:
        size = positive_int(size, "size")

    def restore(damaged: Damaged) -> np.ndarray:
        window = size or (3 if damaged.degradation.kind == "salt_pepper"
                          else _tuned("median", damaged.degradation))
        return scipy.ndimage.median_filter(damaged.images, size=(1, window, window, 1), mode="reflect")

    return Restorer("median filter", restore, ("noise", "salt_pepper"), "median of each window")


def _denoiser(name: str, key: str, denoise_2d, parameter, correct_clipping: bool, description: str,
              slow: bool = False) -> Restorer:
    """A noise restorer from a 2-D ``denoise_2d(image, parameter, sigma)``, with optional
    clipping correction (:func:`unclip`)."""

    def restore(damaged: Damaged) -> np.ndarray:
        sigma = _noise_sigma(damaged.degradation)
        value = parameter if parameter is not None else _tuned(key, damaged.degradation)
        restored = _per_channel(damaged.images, lambda image: denoise_2d(image, value, sigma))
        return unclip(restored, sigma) if correct_clipping else restored

    suffix = "" if correct_clipping else " (no clipping correction)"
    return Restorer(name + suffix, restore, ("noise",), description, slow)


def total_variation(weight: float | None = None, correct_clipping: bool = True) -> Restorer:
    """Total-variation denoising (Chambolle; ``skimage.restoration.denoise_tv_chambolle``).

    Introduced in notebook 06_degradations_and_classical_restoration. Minimises
    ``||x - y||^2 / 2 + weight * TV(x)``: piecewise-constant images with sharp edges win.
    ``weight=None`` uses the tuned weight for the noise level; ``correct_clipping`` applies
    :func:`unclip` afterwards.
    """
    from skimage.restoration import denoise_tv_chambolle

    return _denoiser("total variation", "total_variation",
                     lambda image, value, sigma: denoise_tv_chambolle(image, weight=value),
                     weight, correct_clipping, "Chambolle total-variation denoising")


def non_local_means(h_scale: float | None = None, correct_clipping: bool = True) -> Restorer:
    """Non-local means (``skimage.restoration.denoise_nl_means``, 5x5 patches, distance 6).

    Introduced in notebook 06_degradations_and_classical_restoration. Each pixel becomes a
    weighted average of pixels whose surrounding patches look alike, wherever they are:
    weight = exp(-max(d^2 - 2 s^2, 0) / h^2) for the mean squared patch difference d^2. The
    filter strength is ``h = h_scale x sigma`` (``h_scale`` tuned per noise level when ``None``);
    ``s`` is the standard deviation of the *clipped* noise on a black background,
    ``sigma sqrt(1/2 - 1/(2 pi))`` = 0.58 sigma: passing the unclipped sigma would declare almost
    every patch similar and blur the digit.
    """
    from skimage.restoration import denoise_nl_means

    def denoise(image, value, sigma):
        return denoise_nl_means(image, h=value * sigma, sigma=CLIPPED_STD_AT_ZERO * sigma,
                                fast_mode=True, **NON_LOCAL_MEANS_PATCH)

    return _denoiser("non-local means", "non_local_means", denoise, h_scale, correct_clipping,
                     "average of pixels with similar patches")


def wavelet(sigma_scale: float | None = None, correct_clipping: bool = True) -> Restorer:
    """Wavelet shrinkage (``skimage.restoration.denoise_wavelet``, BayesShrink, soft, db1).

    Introduced in notebook 06_degradations_and_classical_restoration. Noise spreads over all
    wavelet coefficients while a digit concentrates in a few large ones, so shrinking small
    coefficients removes noise. The threshold uses ``sigma_scale`` x the noise sigma (tuned).
    """
    from skimage.restoration import denoise_wavelet

    def denoise(image, value, sigma):
        return denoise_wavelet(image, sigma=value * sigma, wavelet="db1", mode="soft",
                               method="BayesShrink", rescale_sigma=True)

    return _denoiser("wavelet shrinkage", "wavelet", denoise, sigma_scale, correct_clipping,
                     "BayesShrink soft thresholding of Haar wavelet coefficients")


def bm3d_denoiser(sigma_scale: float | None = None, correct_clipping: bool = True) -> Restorer:
    """BM3D (the ``bm3d`` package by Mäkinen, Azzari and Foi; block matching + 3-D filtering).

    Introduced in notebook 06_degradations_and_classical_restoration. Groups similar 8x8
    blocks into 3-D stacks, shrinks them in a 3-D transform domain, then repeats with Wiener
    filtering. It is told ``sigma_psd = sigma_scale x sigma`` (``sigma_scale`` tuned when
    ``None``). About 0.4 s per 28x28 digit on one CPU core: marked ``slow``.
    """
    import bm3d

    def denoise(image, value, sigma):
        # the tuned table stores sigma_psd itself; an explicit sigma_scale multiplies the sigma
        sigma_psd = value * sigma if sigma_scale is not None else value
        return bm3d.bm3d(image, sigma_psd=sigma_psd)

    return _denoiser("BM3D", "bm3d", denoise, sigma_scale, correct_clipping,
                     "block matching and 3-D collaborative filtering", slow=True)


def _deconvolve(damaged: Damaged, deconvolve_2d) -> np.ndarray:
    """Deconvolve each image with the degradation's PSF, padding by reflection first (the blur
    reflected at the borders; the FFT-based methods assume a periodic image)."""
    psf = deg.gaussian_psf(damaged.degradation.level).astype(np.float64)
    pad = psf.shape[0]

    def one(image):
        padded = np.pad(image, pad, mode="reflect")
        return deconvolve_2d(padded, psf)[pad:-pad, pad:-pad]

    return _per_channel(damaged.images, one)


def wiener(balance: float | None = None) -> Restorer:
    """Wiener deconvolution with the known PSF (``skimage.restoration.wiener``).

    Introduced in notebook 06_degradations_and_classical_restoration. Divides by the PSF in
    the Fourier domain, regularised by ``balance`` (a Laplacian prior; tuned when ``None``):
    larger balance, smoother result; too small, ringing.
    """
    from skimage.restoration import wiener as skimage_wiener

    def restore(damaged: Damaged) -> np.ndarray:
        value = balance if balance is not None else _tuned("wiener", damaged.degradation)
        return _deconvolve(damaged, lambda image, psf: skimage_wiener(image, psf, balance=value))

    return Restorer("Wiener deconvolution", restore, ("blur",), "regularised inverse filter")


def richardson_lucy(num_iter: int | None = None) -> Restorer:
    """Richardson-Lucy deconvolution with the known PSF (``skimage.restoration.richardson_lucy``).

    Introduced in notebook 06_degradations_and_classical_restoration. Multiplicative updates
    that keep the image non-negative; more iterations sharpen more and amplify noise, so the
    number of iterations (tuned when ``None``) is the regulariser.
    """
    from skimage.restoration import richardson_lucy as skimage_richardson_lucy

    if num_iter is not None:
        num_iter = positive_int(num_iter, "num_iter")

    def restore(damaged: Damaged) -> np.ndarray:
        value = num_iter or _tuned("richardson_lucy", damaged.degradation)
        return _deconvolve(damaged, lambda image, psf: skimage_richardson_lucy(
            image, psf, num_iter=value, clip=True))

    return Restorer("Richardson-Lucy", restore, ("blur",), "iterative multiplicative deconvolution")


def classical_restorers(train_images) -> list[Restorer]:
    """Every classical restorer of notebook 06, with the tuned parameters, in table order.

    Introduced in notebook 06_degradations_and_classical_restoration. ``train_images`` gives
    the mean image for :func:`mean_image_fill` (use the training split, never the test split).
    """
    return [damaged_input(), interpolation("nearest"), interpolation("bilinear"),
            interpolation("bicubic"), mean_image_fill(train_images), biharmonic(), median(),
            total_variation(), non_local_means(), wavelet(), bm3d_denoiser(), wiener(),
            richardson_lucy()]


# --------------------------------------------------------------------------------------------
# Tuning on a validation split of the training digits
# --------------------------------------------------------------------------------------------

def validation_split(num_train: int, size: int = VALIDATION_SIZE, seed: int = 0) -> np.ndarray:
    """Indices of ``size`` validation images among ``num_train`` training images (seeded).

    Introduced in notebook 06_degradations_and_classical_restoration. The classical
    restorers are tuned on these training digits; the held-out test digits stay unseen.
    """
    num_train = positive_int(num_train, "num_train")
    size = positive_int(size, "size")
    if size > num_train:
        raise ValueError(f"size ({size}) cannot exceed num_train ({num_train}).")
    return np.sort(np.random.default_rng(seed).choice(num_train, size=size, replace=False))


def _mean_psnr(restored: np.ndarray, clean: np.ndarray) -> float:
    from course_lib import metrics

    return metrics.psnr(np.clip(restored, 0, 1), clean, max_db=100.0)


TUNING_FACTORIES = {
    "median": median, "total_variation": total_variation, "non_local_means": non_local_means,
    "wavelet": wavelet, "bm3d": bm3d_denoiser, "wiener": wiener, "richardson_lucy": richardson_lucy,
}


def tune_classical(dataset, methods: Sequence[str] | None = None, *, grids: dict | None = None,
                   noise_levels: Sequence[str] = TUNED_NOISE_LEVELS, size: int = VALIDATION_SIZE,
                   slow_size: int = SLOW_VALIDATION_SIZE, verbose: bool = True) -> dict:
    """Grid-search each method's parameter on validation digits; return a ``TUNED_PARAMETERS``-like dict.

    Introduced in notebook 06_degradations_and_classical_restoration. Reads **only**
    ``dataset.x_train``: :func:`validation_split` carves ``size`` digits from it (``slow_size``
    for BM3D), damages them with seed ``TUNING_SEED`` and keeps, per degradation, the grid value
    with the highest mean PSNR. Noise methods are tuned on ``noise_levels`` (noise 0.1 / 0.3 /
    0.5), deconvolution on the benchmark blur. The BM3D, wavelet and non-local-means grids are
    multiples of the noise sigma; the result stores BM3D's ``sigma_psd`` and the other multiples.
    """
    methods = list(TUNING_FACTORIES) if methods is None else list(methods)
    unknown = [method for method in methods if method not in TUNING_FACTORIES]
    if unknown:
        raise ValueError(f"Unknown methods {unknown}; expected some of {list(TUNING_FACTORIES)}.")
    grids = {**TUNING_GRIDS, **(grids or {})}
    train_images = as_image_batch(dataset.x_train, "dataset.x_train")
    validation = train_images[validation_split(len(train_images), size)]
    tuned = {}
    for method in methods:
        names = ("blur",) if method in ("wiener", "richardson_lucy") else tuple(noise_levels)
        images = validation[:slow_size] if method == "bm3d" else validation
        tuned[method] = {}
        for name in names:
            degradation = deg.get_degradation(name)
            damaged = degradation.apply(images, seed=TUNING_SEED)
            scores = {}
            for value in grids[method]:
                restorer = TUNING_FACTORIES[method](value)
                scores[value] = _mean_psnr(restorer(damaged), images)
            best = max(scores, key=scores.get)
            if method == "bm3d":
                best = round(best * degradation.level, 4)  # stored as sigma_psd
            tuned[method][name] = best
            if verbose:
                summary = ", ".join(f"{value:g}: {score:.2f}" for value, score in scores.items())
                print(f"{method:>16} {name:>9}: best {best:g}  (PSNR dB by value: {summary})")
    return tuned


# --------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------

class BenchmarkRow(typing.NamedTuple):
    degradation: str
    restorer: str
    num_images: int
    psnr: float                 # dB, per image then averaged
    ssim: float                 # Wang et al., 11x11 Gaussian window
    recognition: float          # evaluator accuracy on the restored images
    relative_recognition: float # recognition / evaluator accuracy on the same clean images
    fid: float                  # restored vs clean held-out digits, evaluator features
    seconds_per_image: float


@dataclasses.dataclass(frozen=True)
class BenchmarkResult:
    """The rows of :func:`benchmark` with the references to read them against."""

    rows: tuple[BenchmarkRow, ...]
    clean_accuracy: dict      # num_images -> evaluator accuracy on the clean held-out digits
    fid_floor: dict           # num_images -> FID of as many training digits vs the held-out ones
    seconds: float            # wall time of the whole benchmark

    def best(self, degradation: str, key: str = "psnr") -> BenchmarkRow:
        rows = [row for row in self.rows if row.degradation == degradation and row.restorer != "damaged input"]
        if not rows:
            raise ValueError(f"No restorer rows for {degradation!r}.")
        return max(rows, key=lambda row: getattr(row, key))

    def row(self, degradation: str, restorer: str) -> BenchmarkRow:
        for row in self.rows:
            if row.degradation == degradation and row.restorer == restorer:
                return row
        raise ValueError(f"No row for {restorer!r} on {degradation!r}.")


def benchmark(restorers: Sequence[Restorer], clean_images, labels, *,
              degradations: Sequence[str] = deg.BENCHMARK_DEGRADATIONS, evaluator=None,
              reference_images=None, seed: int = 0, slow_num_images: int | None = None,
              verbose: bool = True) -> BenchmarkResult:
    """Score every restorer on every degradation it handles, on the same damaged images.

    Introduced in notebook 06_degradations_and_classical_restoration; notebooks 07-08 add
    their learned restorers to the same call. ``clean_images`` (N, 28, 28, 1) and ``labels``
    (N,) are the held-out digits (the course uses all 2,000). Each degradation damages them
    once with ``seed``; each restorer that handles it restores them, timed. Per row: PSNR and
    SSIM (:mod:`course_lib.metrics`), the evaluator's accuracy on the restored digits and its
    ratio to the accuracy on the clean digits, the FID between restored and clean digits in
    evaluator features, and seconds per image. Restorers marked ``slow`` run on the first
    ``slow_num_images`` digits only when that is given (their rows say how many). The FID floor
    is the FID of as many ``reference_images`` (training digits) against the clean held-out digits.
    """
    from course_lib import metrics

    clean_images = as_image_batch(clean_images, "clean_images", channels=1)
    labels = np.asarray(labels)
    if labels.shape != (len(clean_images),):
        raise ValueError(f"labels must have shape ({len(clean_images)},), got {labels.shape}.")
    restorers = list(restorers)
    if not restorers or not all(isinstance(restorer, Restorer) for restorer in restorers):
        raise ValueError("restorers must be a non-empty list of Restorer objects.")
    degradations = [deg.get_degradation(name) for name in degradations]
    if slow_num_images is not None:
        slow_num_images = min(positive_int(slow_num_images, "slow_num_images"), len(clean_images))
    if evaluator is None:
        from course_lib.evaluator import load_evaluator

        evaluator = load_evaluator()
    if reference_images is not None:
        reference_images = as_image_batch(reference_images, "reference_images", channels=1)

    started = time.perf_counter()
    clean_probabilities = evaluator.probabilities(clean_images)
    clean_features = evaluator.features(clean_images)
    sizes = {len(clean_images)} | ({slow_num_images} if slow_num_images else set())
    clean_accuracy, fid_floor = {}, {}
    for size in sorted(sizes):
        clean_accuracy[size] = float(np.mean(clean_probabilities[:size].argmax(axis=1) == labels[:size]))
        if reference_images is not None and len(reference_images) >= size:
            fid_floor[size] = metrics.frechet_distance(evaluator.features(reference_images[:size]),
                                                       clean_features[:size])
    rows = []
    for degradation in degradations:
        damaged = degradation.apply(clean_images, seed=seed)
        for restorer in restorers:
            if not restorer.can_restore(degradation):
                continue
            count = slow_num_images if (restorer.slow and slow_num_images) else len(clean_images)
            subset = Damaged(damaged.images[:count],
                             None if damaged.mask is None else damaged.mask[:count], degradation)
            tick = time.perf_counter()
            restored = restorer(subset)
            seconds = (time.perf_counter() - tick) / count
            reference = clean_images[:count]
            probabilities = evaluator.probabilities(restored)
            recognition = metrics.recognition_rate(probabilities, labels[:count], clean_probabilities[:count])
            row = BenchmarkRow(
                degradation=degradation.name, restorer=restorer.name, num_images=count,
                psnr=metrics.psnr(restored, reference, max_db=100.0),
                ssim=metrics.ssim(restored, reference),
                recognition=recognition.accuracy, relative_recognition=recognition.relative,
                fid=metrics.frechet_distance(evaluator.features(restored), clean_features[:count]),
                seconds_per_image=seconds)
            rows.append(row)
            if verbose:
                print(_format_row(row), flush=True)
    return BenchmarkResult(tuple(rows), clean_accuracy, fid_floor, time.perf_counter() - started)


TABLE_HEADER = (f"{'degradation':<11} {'restorer':<24} {'images':>6} {'PSNR dB':>8} {'SSIM':>6} "
                f"{'recog.':>7} {'/clean':>7} {'FID':>8} {'ms/img':>8}")


def _format_row(row: BenchmarkRow) -> str:
    return (f"{row.degradation:<11} {row.restorer:<24} {row.num_images:>6} {row.psnr:>8.2f} "
            f"{row.ssim:>6.3f} {row.recognition:>7.1%} {row.relative_recognition:>7.1%} "
            f"{row.fid:>8.2f} {1000 * row.seconds_per_image:>8.2f}")


def format_table(result: BenchmarkResult) -> str:
    """The benchmark as a fixed-width text table with its references underneath.

    Introduced in notebook 06_degradations_and_classical_restoration."""
    lines = [TABLE_HEADER, "-" * len(TABLE_HEADER)]
    previous = None
    for row in result.rows:
        if previous is not None and row.degradation != previous:
            lines.append("")
        lines.append(_format_row(row))
        previous = row.degradation
    lines.append("-" * len(TABLE_HEADER))
    for size, accuracy in sorted(result.clean_accuracy.items()):
        floor = result.fid_floor.get(size)
        floor_text = f"; FID floor (as many training digits vs held-out) {floor:.2f}" if floor is not None else ""
        lines.append(f"on {size} clean held-out digits: evaluator accuracy {accuracy:.1%}{floor_text}")
    lines.append("PSNR per image then averaged; SSIM 11x11 Gaussian window (notebook 09); "
                 "/clean = recognition / clean accuracy on the same digits.")
    return "\n".join(lines)




# --------------------------------------------------------------------------------------------
# Learned restorers (notebook 07): a residual denoiser and a U-Net with a mask input
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class LearnedRestorerConfig:
    """Everything that defines a learned restorer's training run (the run folder's key).

    ``architecture``: ``"dncnn"`` (residual denoiser) or ``"unet"`` (damaged image + mask in).
    ``degradation``: the name it trains on (``"noise_0.3"``, ``"hole_12"``, ...).
    ``num_copies``: each training digit is damaged this many times with different seeds (more
    distinct noisy inputs from the same 8,000 digits). ``final_learning_rate``: cosine decay
    of the learning rate to this over ``epochs`` (``None``: constant). ``max_seconds``: stop
    after this much training time (``course_lib.gan.TimeLimit``). ``paste_known``: the U-Net
    copies the known pixels of its input to its output (degradations with a mask only).
    ``jit_compile``: XLA-compile the training step (Keras leaves it off on CPU-only machines).
    """

    architecture: str = "dncnn"
    degradation: str = "noise_0.3"
    depth: int = 6                      # DnCNN: number of 3x3 convolutions
    filters: int = 32                   # DnCNN width; U-Net width of the first level
    levels: int = 2                     # U-Net: number of 2x downsamplings (28 -> 14 -> 7)
    batch_norm: bool = False            # DnCNN: batch normalisation between the middle layers
    dilated: bool = False               # DnCNN: dilated middle convolutions (see build_dncnn)
    epochs: int = 5
    batch_size: int = 64
    learning_rate: float = 1e-3
    final_learning_rate: float | None = None
    max_seconds: float | None = None
    num_copies: int = 1
    paste_known: bool = False
    residual: bool = False              # U-Net: damaged image + a learned correction (see build_unet)
    jit_compile: bool = True
    seed: int = 0

    def __post_init__(self):
        if self.architecture not in ("dncnn", "unet"):
            raise ValueError(f"Unknown architecture {self.architecture!r}; expected 'dncnn' or 'unet'.")
        degradation = deg.get_degradation(self.degradation)
        for field in ("depth", "filters", "levels", "epochs", "batch_size", "num_copies"):
            positive_int(getattr(self, field), field)
        if self.architecture == "dncnn" and self.depth < 2:
            raise ValueError(f"depth must be at least 2 (first and last convolution), got {self.depth}.")
        for field in ("learning_rate", "final_learning_rate"):
            value = getattr(self, field)
            if field == "final_learning_rate" and value is None:
                continue
            if not (isinstance(value, (int, float)) and 0 < value < 1):
                raise ValueError(f"{field} must be a number in (0, 1), got {value!r}.")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ValueError(f"max_seconds must be positive or None, got {self.max_seconds!r}.")
        if self.paste_known and (self.architecture != "unet" or not degradation.has_mask):
            raise ValueError(f"paste_known needs a U-Net and a degradation with a mask (hole, missing, "
                             f"strokes), got {self.architecture!r} on {self.degradation!r}.")
        if self.residual and self.architecture != "unet":
            raise ValueError("residual applies to a U-Net (the DnCNN is always residual).")


def build_dncnn(depth: int = 6, filters: int = 32, image_shape=(28, 28, 1), batch_norm: bool = False,
                dilated: bool = False):
    """A DnCNN-style residual denoiser: noisy image in, restored image out.

    Introduced in notebook 07_cnn_restoration. ``depth`` 3x3 convolutions
    with ReLU predict the **noise** ``r(y)``. ``batch_norm=True`` adds batch normalisation
    between the middle ones as in the paper; it is off by default because a few minutes of CPU
    training leave its moving averages (used at inference) unsettled. The model
    returns ``y - r(y)``, so training the output with MSE against the clean image is training
    ``r`` to predict the noise (Zhang et al. 2017):
    ``||(y - r(y)) - x||^2 = ||r(y) - (y - x)||^2``. ``dilated=True`` spaces the taps of the
    middle convolutions 2, 3, 4, ..., 4, 3, 2 pixels apart (as in Zhang et al.'s IRCNN denoiser):
    the same cost per layer, a receptive field of 41 x 41 pixels at depth 8 instead of 17 x 17,
    so every output pixel sees the whole 28 x 28 digit. Measured on 500 validation digits (noise
    sigma 0.3, depth 8, 32 filters, 75 s of training): 22.07 dB dilated against 23.22 dB plain, so
    the shipped denoiser is plain.
    """
    import keras
    from keras import layers

    depth = positive_int(depth, "depth")
    filters = positive_int(filters, "filters")
    if depth < 2:
        raise ValueError(f"depth must be at least 2, got {depth}.")
    noisy = keras.Input(image_shape, name="noisy")                                 # (N, H, W, C)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(noisy)
    for rate in dilation_rates(depth - 2) if dilated else [1] * (depth - 2):
        if batch_norm:
            x = layers.Conv2D(filters, 3, padding="same", dilation_rate=rate, use_bias=False)(x)
            x = layers.Activation("relu")(layers.BatchNormalization()(x))
        else:
            x = layers.Conv2D(filters, 3, padding="same", dilation_rate=rate, activation="relu")(x)
    noise = layers.Conv2D(image_shape[-1], 3, padding="same", name="predicted_noise")(x)  # r(y)
    restored = layers.Subtract(name="restored")([noisy, noise])                    # y - r(y)
    return keras.Model(noisy, restored, name="dncnn")


def dilation_rates(num_layers: int) -> list[int]:
    """Dilation rates rising from 2 and falling back to 2: 6 layers -> [2, 3, 4, 4, 3, 2]."""
    rising = [2 + index for index in range((num_layers + 1) // 2)]
    return rising + rising[: num_layers // 2][::-1]


def receptive_field(rates: Sequence[int]) -> int:
    """Side of the square a stack of 3x3 convolutions with these dilation rates sees: 1 + 2 sum(rates)."""
    return 1 + 2 * int(sum(rates))


def build_unet(filters: int = 32, levels: int = 2, image_shape=(28, 28, 1), paste_known: bool = False,
               residual: bool = False):
    """A small U-Net: the damaged image and its mask (1 = known) in, the restored image out.

    Introduced in notebook 07_cnn_restoration. Input (N, H, W, C + 1): the
    image channels and the mask stacked, so the network knows which pixels to trust. ``levels``
    times: two 3x3 convolutions, then 2x2 max-pooling (28 -> 14 -> 7); back up with transposed
    convolutions, each level concatenated with its skip connection; a sigmoid keeps pixels in
    [0, 1] (the layer ``"predicted"``). ``paste_known=True`` returns
    ``mask * damaged + (1 - mask) * predicted``: known pixels pass through exactly and the network
    only fills the missing ones (for inpainting; a mask of ones would return the input unchanged).
    ``residual=True`` replaces the sigmoid by a linear correction added to the damaged image,
    ``damaged + c(damaged, mask)`` (the layer ``"predicted_correction"``; with ``paste_known``,
    only where the mask is 0), so training starts at the identity, as in the DnCNN. Without it the
    sigmoid U-Net collapsed to black outputs on blur (loss stuck at 0.1125, the mean squared pixel
    of a digit, for five epochs) and on 50% missing pixels: a saturated sigmoid passes no gradient.
    H and W must be divisible by ``2 ** levels``.
    """
    import keras
    from keras import layers

    filters = positive_int(filters, "filters")
    levels = positive_int(levels, "levels")
    height, width, channels = image_shape
    if height % 2 ** levels or width % 2 ** levels:
        raise ValueError(f"image height and width must be divisible by 2 ** levels = {2 ** levels}, "
                         f"got {height} x {width}.")

    def two_convolutions(x, width_filters):
        x = layers.Conv2D(width_filters, 3, padding="same", activation="relu")(x)
        return layers.Conv2D(width_filters, 3, padding="same", activation="relu")(x)

    inputs = keras.Input((height, width, channels + 1), name="damaged_and_mask")
    skips, x = [], inputs
    for level in range(levels):
        x = two_convolutions(x, filters * 2 ** level)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)                                                # H / 2
    x = two_convolutions(x, filters * 2 ** levels)
    for level in reversed(range(levels)):
        x = layers.Conv2DTranspose(filters * 2 ** level, 2, strides=2, padding="same")(x)  # x 2
        x = two_convolutions(layers.Concatenate()([x, skips[level]]), filters * 2 ** level)
    damaged, mask = inputs[..., :channels], inputs[..., channels:]                  # (N, H, W, C), (N, H, W, 1)
    if residual:
        correction = layers.Conv2D(channels, 1, name="predicted_correction")(x)     # (N, H, W, C)
        predicted = damaged + correction                                            # no sigmoid to saturate
    else:
        predicted = layers.Conv2D(channels, 1, activation="sigmoid", name="predicted")(x)  # (N, H, W, C)
    if not paste_known:
        return keras.Model(inputs, predicted, name="unet")
    restored = mask * damaged + (1.0 - mask) * predicted                            # known pixels kept
    return keras.Model(inputs, restored, name="unet")


def _build_architecture(config: LearnedRestorerConfig):
    """The uncompiled network ``config`` describes."""
    if config.architecture == "dncnn":
        return build_dncnn(config.depth, config.filters, batch_norm=config.batch_norm, dilated=config.dilated)
    return build_unet(config.filters, config.levels, paste_known=config.paste_known, residual=config.residual)


def build_learned_restorer(config: LearnedRestorerConfig = LearnedRestorerConfig(), steps_per_epoch: int = 8000 // 64):
    """The compiled model that ``config`` describes (Adam, MSE against the clean image).

    Introduced in notebook 07_cnn_restoration. ``steps_per_epoch`` sets the length of the cosine
    learning-rate schedule when ``config.final_learning_rate`` is given."""
    import keras

    keras.utils.set_random_seed(config.seed)
    model = _build_architecture(config)
    learning_rate = config.learning_rate
    if config.final_learning_rate is not None:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * positive_int(steps_per_epoch, "steps_per_epoch"),
            alpha=config.final_learning_rate / config.learning_rate)
    # the objective: (1 / N H W C) sum (f(y) - x)^2, the MSE between restored and clean images
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", jit_compile=config.jit_compile)
    return model


def model_inputs(damaged: Damaged, architecture: str) -> np.ndarray:
    """What a learned restorer reads: the damaged images (DnCNN), or images and mask stacked on the
    channel axis (U-Net; mask of ones when no pixel is missing). Low-resolution images are
    enlarged first by bicubic interpolation (a U-Net restores at the original size).

    Introduced in notebook 07_cnn_restoration."""
    images = damaged.images
    if damaged.degradation.kind == "down":
        images = deg.upsample(images, int(damaged.degradation.level), "bicubic")
    if architecture == "dncnn":
        return images
    mask = damaged.mask if damaged.mask is not None else np.ones(images.shape[:3] + (1,), np.float32)
    return np.concatenate([images, mask], axis=-1)


def training_seeds(config: LearnedRestorerConfig) -> list[int]:
    """The damage seeds of the training copies: ``1000 * (seed + 1) + copy``, never 0, the seed the
    benchmark damages the held-out digits with."""
    return [1000 * (config.seed + 1) + copy for copy in range(config.num_copies)]


def training_pairs(config: LearnedRestorerConfig, clean_images) -> tuple[np.ndarray, np.ndarray]:
    """``(model inputs, clean targets)``: every clean image damaged ``config.num_copies`` times."""
    clean_images = as_image_batch(clean_images, "clean_images", channels=1)
    degradation = deg.get_degradation(config.degradation)
    inputs = [model_inputs(degradation.apply(clean_images, seed=seed), config.architecture)
              for seed in training_seeds(config)]
    return np.concatenate(inputs), np.concatenate([clean_images] * config.num_copies)


def train_learned_restorer(config: LearnedRestorerConfig, clean_images, *, model=None, workdir=None,
                           validation_images=None, verbose="auto", callbacks=(), restart: bool = False):
    """Train a learned restorer on ``clean_images`` damaged by ``config.degradation``; resumable.

    Introduced in notebook 07_cnn_restoration; the one training entry point
    that the notebook, the tests and the benchmark share. The training images are damaged
    ``config.num_copies`` times with :func:`training_seeds` (the held-out test digits are damaged
    with seed 0 by the benchmark). Training goes through
    :func:`course_lib.training.resumable_fit` with the MSE objective, so a second call with the
    same configuration resumes; ``config.max_seconds`` stops it after that much training time.
    Returns ``(model, history)``; ``history.training_seconds`` is the time this call trained.
    """
    from course_lib import training
    from course_lib.gan import TimeLimit

    inputs, targets = training_pairs(config, clean_images)
    if len(inputs) < config.batch_size:
        raise ValueError(f"{len(inputs)} training pairs are fewer than one batch of {config.batch_size}.")
    if model is None:
        model = build_learned_restorer(config, steps_per_epoch=len(inputs) // config.batch_size)
    model(inputs[:1])  # build
    validation = None
    if validation_images is not None:
        validation_images = as_image_batch(validation_images, "validation_images", channels=1)
        held = deg.get_degradation(config.degradation).apply(validation_images, seed=999)
        validation = (model_inputs(held, config.architecture), validation_images)
    callbacks = list(callbacks)
    limit = TimeLimit(config.max_seconds) if config.max_seconds else None
    if limit is not None:
        callbacks.append(limit)
    started = time.perf_counter()
    history = training.resumable_fit(
        model, (inputs, targets), epochs=config.epochs, batch_size=config.batch_size,
        config={**dataclasses.asdict(config), "num_images": len(targets)}, seed=config.seed,
        workdir=workdir, name=f"restorer-{config.architecture}-{config.degradation}",
        validation_data=validation, verbose=verbose, callbacks=callbacks, restart=restart)
    history.training_seconds = limit.training_seconds if limit is not None else time.perf_counter() - started
    return model, history


def learned_restorer(model, architecture: str, handles: Sequence[str], name: str | None = None,
                     batch_size: int = 500) -> Restorer:
    """Wrap a trained model as a :class:`Restorer` for :func:`benchmark`.

    Introduced in notebook 07_cnn_restoration."""
    if architecture not in ("dncnn", "unet"):
        raise ValueError(f"Unknown architecture {architecture!r}; expected 'dncnn' or 'unet'.")
    batch_size = positive_int(batch_size, "batch_size")

    def restore(damaged: Damaged) -> np.ndarray:
        inputs = model_inputs(damaged, architecture)
        outputs = [np.asarray(model(inputs[start:start + batch_size], training=False))
                   for start in range(0, len(inputs), batch_size)]
        return np.concatenate(outputs)

    return Restorer(name or ("DnCNN" if architecture == "dncnn" else "U-Net"), restore, tuple(handles),
                    f"learned {architecture} restorer")


# --------------------------------------------------------------------------------------------
# Shipped learned restorers: data/pretrained/<name>.weights.h5 with a manifest each
# --------------------------------------------------------------------------------------------

# `python -m course_lib.restoration --train NAME` reproduces data/pretrained/NAME.*; each trains on
# the 8,000 training digits only, for at most `max_seconds` of training on 2 CPU cores.
SHIPPED_RESTORERS: dict[str, LearnedRestorerConfig] = {
    "dncnn_noise_0.3": LearnedRestorerConfig(
        "dncnn", "noise_0.3", depth=8, filters=32, epochs=2, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=290.0, num_copies=7),
    "unet_hole_12": LearnedRestorerConfig(
        "unet", "hole_12", filters=32, levels=2, epochs=10, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=290.0, paste_known=True),
    "unet_missing_50": LearnedRestorerConfig(
        "unet", "missing_50", filters=24, levels=2, epochs=5, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=110.0, paste_known=True, residual=True),
    "unet_blur": LearnedRestorerConfig(
        "unet", "blur", filters=24, levels=2, epochs=5, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=110.0, residual=True),
    "unet_down_2": LearnedRestorerConfig(
        "unet", "down_2", filters=24, levels=2, epochs=5, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=110.0, residual=True),
    "unet_down_4": LearnedRestorerConfig(
        "unet", "down_4", filters=24, levels=2, epochs=5, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=110.0, residual=True),
}


def _shipped_name(name: str) -> str:
    if name not in SHIPPED_RESTORERS:
        raise ValueError(f"Unknown shipped restorer {name!r}; expected one of: {', '.join(SHIPPED_RESTORERS)}.")
    return name


def learned_config_from_manifest(manifest: dict) -> LearnedRestorerConfig:
    """The :class:`LearnedRestorerConfig` recorded in a shipped restorer's manifest."""
    fields = {field.name for field in dataclasses.fields(LearnedRestorerConfig)}
    return LearnedRestorerConfig(**{key: value for key, value in manifest["config"].items() if key in fields})


def load_learned_restorer(name: str, *, retrain: bool = False, config: LearnedRestorerConfig | None = None,
                          images=None, workdir=None, verbose="auto"):
    """The shipped learned restorer ``name`` (sha256 checked), or one trained now.

    Introduced in notebook 07_cnn_restoration; notebook 08 loads ``"unet_hole_12"`` the same way.
    ``name`` is a key of :data:`SHIPPED_RESTORERS`. Training happens when the weights are not
    shipped or ``retrain=True``, with ``config`` (default: the manifest's, else the shipped one)
    on ``images`` (default: the 8,000 shipped training digits), resumably in ``workdir``.
    Returns ``(model, manifest_or_None)``: a Keras model reading :func:`model_inputs`.
    """
    from course_lib import training

    name = _shipped_name(name)
    if config is None:
        manifest_path = training.pretrained_dir() / f"{name}.json"
        config = (learned_config_from_manifest(training.read_manifest(name)) if manifest_path.exists()
                  else SHIPPED_RESTORERS[name])

    def build():  # an inference model: no optimizer to restore
        model = _build_architecture(config)
        model(np.zeros((1, 28, 28, 1 if config.architecture == "dncnn" else 2), np.float32))
        return model

    def train_into(model):
        # the cosine schedule's length depends on the number of training images: train a model
        # compiled for them, then copy its weights into the one load_or_train returns
        from course_lib import data

        training_images = images if images is not None else \
            data.load_dataset("mnist", source="subset", verbose=False).x_train
        trained, _ = train_learned_restorer(config, training_images, workdir=workdir, verbose=verbose)
        model.set_weights(trained.get_weights())

    model, manifest = training.load_or_train(name, build, train_into, retrain=retrain)
    return model, manifest


def shipped_restorer(name: str, **kwargs) -> Restorer:
    """Shipped learned restorer ``name`` wrapped as a :class:`Restorer` that handles only the
    degradation it was trained on (``kwargs`` go to :func:`load_learned_restorer`).

    Introduced in notebook 07_cnn_restoration."""
    name = _shipped_name(name)
    model, manifest = load_learned_restorer(name, **kwargs)
    config = learned_config_from_manifest(manifest) if manifest else SHIPPED_RESTORERS[name]
    return learned_restorer(model, config.architecture, (config.degradation,))


def shipped_restorers(names: Sequence[str] | None = None, **kwargs) -> list[Restorer]:
    """The shipped learned restorers (all that have weights in ``data/pretrained``, or ``names``)
    as :class:`Restorer` objects for :func:`benchmark`. Introduced in notebook 07_cnn_restoration."""
    from course_lib import training

    if names is None:
        names = [name for name in SHIPPED_RESTORERS if (training.pretrained_dir() / f"{name}.json").exists()]
    return [shipped_restorer(name, **kwargs) for name in names]


def evaluate_learned_restorer(model, config: LearnedRestorerConfig, clean_images, labels, *, evaluator=None,
                              reference_images=None) -> dict:
    """Benchmark numbers of ``model`` on ``config.degradation`` beside the damaged input:
    PSNR, SSIM, recognition (and its ratio to clean accuracy), FID. Introduced in notebook 07."""
    restorer = learned_restorer(model, config.architecture, (config.degradation,))
    result = benchmark([damaged_input(), restorer], clean_images, labels, degradations=[config.degradation],
                       evaluator=evaluator, reference_images=reference_images, verbose=False)
    row, baseline = result.row(config.degradation, restorer.name), result.row(config.degradation, "damaged input")
    size = row.num_images
    return {"psnr": round(row.psnr, 2), "ssim": round(row.ssim, 4), "recognition": round(row.recognition, 4),
            "relative_recognition": round(row.relative_recognition, 4), "fid": round(row.fid, 2),
            "damaged_input_psnr": round(baseline.psnr, 2), "damaged_input_recognition": round(baseline.recognition, 4),
            "clean_accuracy": round(result.clean_accuracy[size], 4), "num_images": size,
            "milliseconds_per_image": round(1000 * row.seconds_per_image, 3)}


def train_and_save(name: str, config: LearnedRestorerConfig | None = None, *, workdir=None, verbose=2,
                   folder=None) -> dict:
    """Train shipped restorer ``name`` on the 8,000 training digits, score it on the 2,000 held-out
    digits (:func:`evaluate_learned_restorer`) and write its weights and manifest."""
    from course_lib import data, training

    name = _shipped_name(name)
    config = config or SHIPPED_RESTORERS[name]
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    model, history = train_learned_restorer(config, mnist.x_train, workdir=workdir, verbose=verbose, restart=True)
    numbers = evaluate_learned_restorer(model, config, mnist.x_test, mnist.y_test, reference_images=mnist.x_train)
    steps = len(mnist.x_train) * config.num_copies // config.batch_size
    metrics = {**numbers, "training_seconds": round(history.training_seconds, 1),
               "epochs_completed": len(history.epoch), "updates": len(history.epoch) * steps,
               "test_set": "2,000 held-out MNIST digits, damaged once with seed 0 (as the benchmark)",
               "training_set": f"8,000 MNIST training digits x {config.num_copies} damaged copies",
               "history": {key: [round(value, 6) for value in values] for key, values in history.history.items()}}
    return training.save_pretrained(model, name, command=f"python -m course_lib.restoration --train {name}",
                                    seed=config.seed, config=dataclasses.asdict(config), metrics=metrics,
                                    folder=folder)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Re-tune the classical restorers on the validation split, "
                                                 "or train the shipped learned restorers.")
    parser.add_argument("--tune", action="store_true", help="grid-search the parameters and print them")
    parser.add_argument("--methods", nargs="*", default=None, help=f"subset of {list(TUNING_FACTORIES)}")
    parser.add_argument("--noise-levels", nargs="*", default=list(TUNED_NOISE_LEVELS))
    parser.add_argument("--train", nargs="+", choices=list(SHIPPED_RESTORERS), default=None,
                        help="train these shipped restorers and write data/pretrained/NAME.*")
    arguments = parser.parse_args(argv)
    if arguments.train:
        from course_lib import runtime

        for name in arguments.train:
            runtime.seed_everything(SHIPPED_RESTORERS[name].seed)
            manifest = train_and_save(name)
            print(name, {key: value for key, value in manifest["metrics"].items() if key != "history"}, flush=True)
        return 0
    if not arguments.tune:
        parser.print_help()
        return 0
    from course_lib import data

    dataset = data.load_dataset("mnist", source="subset", verbose=False)
    tuned = tune_classical(dataset, arguments.methods, noise_levels=arguments.noise_levels)
    print("TUNED_PARAMETERS =", tuned)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
