"""The classical restorers of notebook 08 and their tuning on validation digits.

Built on scikit-image, SciPy and the ``bm3d`` package rather than written by hand, each is a
:class:`~course_lib.restorer.Restorer`: interpolation (nearest, bilinear/linear, bicubic/cubic),
mean-image fill, biharmonic inpainting, median filter, total variation, non-local means, wavelet
shrinkage, BM3D, Wiener and Richardson-Lucy deconvolution, with the correction for clipped noise
(:func:`clipped_mean`, :func:`unclip`). Their parameters were tuned on a validation split carved
from the 8,000 training digits (:func:`tune_classical`, run by
``python -m course_lib.restoration --tune``) and are stored below as literals in
``TUNED_PARAMETERS``; the 2,000 held-out digits are only scored by
:func:`course_lib.benchmark.benchmark`. Notebook 08 teaches them, notebooks 09, 10 and 13 use
them as the baselines of the learned restorers. The module needs NumPy, SciPy, scikit-image and
bm3d only, never Keras or TensorFlow. What it leaves out: blind restoration (unknown noise level
or blur kernel), colour-specific methods, and the learned restorers
(:mod:`course_lib.learned_restoration`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import scipy.ndimage
import scipy.stats

from course_lib import degradations as deg
from course_lib._checks import as_image_batch, boolean, finite_array, non_negative_number, positive_int, positive_number
from course_lib.degradations import Damaged, Degradation
from course_lib.restorer import Restorer, per_channel

__all__ = [
    "damaged_input", "interpolation", "mean_image_fill", "biharmonic", "median",
    "total_variation", "non_local_means", "wavelet", "bm3d_denoiser", "wiener", "richardson_lucy",
    "classical_restorers", "unclip", "clipped_mean", "TUNED_PARAMETERS", "validation_split",
    "tune_classical",
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

    With
    ``a = -x / sigma`` and ``b = (1 - x) / sigma`` (Phi, phi: standard normal CDF and density):

        E = x (Phi(b) - Phi(a)) + sigma (phi(a) - phi(b)) + (1 - Phi(b)),

    the mean of the part of ``x + sigma n`` inside [0, 1] plus the mass clipped to 1. It rises
    monotonically in ``x``, from about ``sigma / sqrt(2 pi)`` at ``x = 0`` (for sigma well below 1)
    to about ``1 - sigma / sqrt(2 pi)`` at ``x = 1``.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    values = finite_array(values, "values")
    sigma = non_negative_number(sigma, "sigma")
    if sigma == 0:
        return values
    lower, upper = -values / sigma, (1.0 - values) / sigma
    normal = scipy.stats.norm
    return (values * (normal.cdf(upper) - normal.cdf(lower))
            + sigma * (normal.pdf(lower) - normal.pdf(upper)) + (1.0 - normal.cdf(upper)))


def unclip(estimates, sigma: float) -> np.ndarray:
    """Map denoised values of a clipped-noise image back to the clean scale.

    A denoiser that averages
    (TV, NL-means, wavelets, BM3D) estimates ``E[clip(x + sigma n, 0, 1)]``, not ``x``: on a
    black background it returns about ``0.12`` for sigma 0.3 instead of 0. This inverts
    :func:`clipped_mean` by monotone interpolation on a grid of 2,001 values of ``x``
    (estimates below ``clipped_mean(0)`` map to 0, above ``clipped_mean(1)`` to 1), the
    correction of Foi (2009) for clipped noisy images.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    estimates = finite_array(estimates, "estimates")
    sigma = non_negative_number(sigma, "sigma")
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

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    return Restorer("damaged input", _restore_damaged_input, deg.KINDS,
                    "no restoration (missing pixels = 0; low resolution shown by nearest upsampling)")


def _fill_scattered(image: np.ndarray, known: np.ndarray, method: str) -> np.ndarray:
    """Interpolate the unknown pixels of a 2-D image from the known ones (scipy griddata).

    Known pixels that span no triangle (fewer than three, or all on one line) leave only the
    nearest known value to copy."""
    import scipy.interpolate
    import scipy.spatial

    rows, columns = np.nonzero(known)
    missing_rows, missing_columns = np.nonzero(~known)
    filled = image.copy()
    if len(missing_rows) == 0 or len(rows) == 0:
        return filled
    points = np.stack([rows, columns], axis=1)
    targets = np.stack([missing_rows, missing_columns], axis=1)
    try:
        values = scipy.interpolate.griddata(points, image[known], targets, method=method)
    except (scipy.spatial.QhullError, ValueError):  # no triangulation of the known pixels
        values = scipy.interpolate.griddata(points, image[known], targets, method="nearest")
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

    On low-resolution
    images (``down``) it enlarges with spline order 0, 1 or 3 (:func:`~course_lib.degradations.upsample`).
    On images with missing pixels (``missing``) it interpolates the scattered known pixels with
    ``scipy.interpolate.griddata`` (nearest, linear or cubic on their Delaunay triangulation);
    cubic (Clough-Tocher) interpolation overshoots near strokes, so the result is clipped to [0, 1].

    Run time: interpolating 4 digits with 50% missing pixels takes about 0.05 s, but on a
    machine whose two cores were busy with other work, identical calls took 0.2 to 1.7 s and
    other masks up to 7 s (23 s has been seen). The data are not degenerate (the same call
    varies as much as different masks do): the time goes to SciPy's first point location on each
    new triangulation, which computes the triangles' barycentric transforms with many tiny LAPACK
    calls, and to OpenBLAS handing each of them to its threads. With ``OPENBLAS_NUM_THREADS=1``
    set before NumPy is first imported, the same calls took 0.04 to 0.09 s.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    if not isinstance(method, str) or method not in INTERPOLATION_METHODS:
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
        return np.clip(restored, 0.0, 1.0)  # cubic interpolation overshoots

    return Restorer(f"{method} interpolation", restore, ("down", "missing"),
                    f"{upsampling} upsampling / {scattered} scattered-data interpolation")


def mean_image_fill(train_images) -> Restorer:
    """Fill missing pixels with the mean training image (the same guess for every digit).

    ``train_images``
    (N, H, W, C) must be training images, never the test images it will be scored on.

    Introduced in notebook 08_degradations_and_classical_restoration.
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

    Fills the missing
    pixels with the smoothest surface (Laplacian of the Laplacian = 0) that agrees with the known
    pixels around them. scikit-image's mask marks the pixels to fill (True), the inverse of
    the course's convention.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from skimage.restoration import inpaint_biharmonic

    def restore(damaged: Damaged) -> np.ndarray:
        restored = np.empty_like(damaged.images)
        for index in range(len(damaged.images)):
            to_fill = damaged.mask[index, ..., 0] < 0.5                       # True = missing
            restored[index] = inpaint_biharmonic(damaged.images[index].astype(np.float64), to_fill,
                                                 channel_axis=-1)
        return np.clip(restored, 0.0, 1.0)  # the smoothest surface may overshoot the known pixels

    return Restorer("biharmonic inpainting", restore, ("missing", "hole", "strokes"),
                    "smoothest surface through the known pixels")


def _noise_sigma(degradation: Degradation) -> float:
    return degradation.level if degradation.kind == "noise" else 0.0


def median(size: int | None = None) -> Restorer:
    """Median filter over a ``size`` x ``size`` window (``scipy.ndimage.median_filter``).

    The median ignores
    outliers, so it removes salt-and-pepper noise almost perfectly; on Gaussian noise it is a
    weak denoiser. ``size=None`` uses the tuned size (3 for salt-and-pepper).

    Introduced in notebook 08_degradations_and_classical_restoration.
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
    correct_clipping = boolean(correct_clipping, "correct_clipping")

    def restore(damaged: Damaged) -> np.ndarray:
        sigma = _noise_sigma(damaged.degradation)
        value = parameter if parameter is not None else _tuned(key, damaged.degradation)
        restored = per_channel(damaged.images, lambda image: denoise_2d(image, value, sigma))
        restored = unclip(restored, sigma) if correct_clipping else restored
        return np.clip(restored, 0.0, 1.0)  # wavelet and BM3D estimates may overshoot

    suffix = "" if correct_clipping else " (no clipping correction)"
    return Restorer(name + suffix, restore, ("noise",), description, slow)


def total_variation(weight: float | None = None, correct_clipping: bool = True) -> Restorer:
    """Total-variation denoising (Chambolle; ``skimage.restoration.denoise_tv_chambolle``).

    Minimises
    ``||x - y||^2 / 2 + weight * TV(x)``: piecewise-constant images with sharp edges win.
    ``weight=None`` uses the tuned weight for the noise level; ``correct_clipping`` applies
    :func:`unclip` afterwards.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from skimage.restoration import denoise_tv_chambolle

    if weight is not None:
        weight = positive_number(weight, "weight")
    return _denoiser("total variation", "total_variation",
                     lambda image, value, sigma: denoise_tv_chambolle(image, weight=value),
                     weight, correct_clipping, "Chambolle total-variation denoising")


def non_local_means(h_scale: float | None = None, correct_clipping: bool = True) -> Restorer:
    """Non-local means (``skimage.restoration.denoise_nl_means``, 5x5 patches, distance 6).

    Each pixel becomes a
    weighted average of pixels whose surrounding patches look alike, wherever they are:
    weight = exp(-max(d^2 - 2 s^2, 0) / h^2) for the mean squared patch difference d^2. The
    filter strength is ``h = h_scale x sigma`` (``h_scale`` tuned per noise level when ``None``);
    ``s`` is the standard deviation of the *clipped* noise on a black background,
    ``sigma sqrt(1/2 - 1/(2 pi))`` = 0.58 sigma: passing the unclipped sigma would declare almost
    every patch similar and blur the digit.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from skimage.restoration import denoise_nl_means

    if h_scale is not None:
        h_scale = positive_number(h_scale, "h_scale")

    def denoise(image, value, sigma):
        return denoise_nl_means(image, h=value * sigma, sigma=CLIPPED_STD_AT_ZERO * sigma,
                                fast_mode=True, **NON_LOCAL_MEANS_PATCH)

    return _denoiser("non-local means", "non_local_means", denoise, h_scale, correct_clipping,
                     "average of pixels with similar patches")


def wavelet(sigma_scale: float | None = None, correct_clipping: bool = True) -> Restorer:
    """Wavelet shrinkage (``skimage.restoration.denoise_wavelet``, BayesShrink, soft, db1).

    Noise spreads over all
    wavelet coefficients while a digit concentrates in a few large ones, so shrinking small
    coefficients removes noise. The threshold uses ``sigma_scale`` x the noise sigma (tuned).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from skimage.restoration import denoise_wavelet

    if sigma_scale is not None:
        sigma_scale = positive_number(sigma_scale, "sigma_scale")

    def denoise(image, value, sigma):
        return denoise_wavelet(image, sigma=value * sigma, wavelet="db1", mode="soft",
                               method="BayesShrink", rescale_sigma=True)

    return _denoiser("wavelet shrinkage", "wavelet", denoise, sigma_scale, correct_clipping,
                     "BayesShrink soft thresholding of Haar wavelet coefficients")


def bm3d_denoiser(sigma_scale: float | None = None, correct_clipping: bool = True) -> Restorer:
    """BM3D (the ``bm3d`` package by Mäkinen, Azzari and Foi; block matching + 3-D filtering).

    Groups similar 8x8
    blocks into 3-D stacks, shrinks them in a 3-D transform domain, then repeats with Wiener
    filtering. It is told ``sigma_psd = sigma_scale x sigma`` (``sigma_scale`` tuned when
    ``None``). About 0.4 s per 28x28 digit on one CPU core: marked ``slow``.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    import bm3d

    if sigma_scale is not None:
        sigma_scale = positive_number(sigma_scale, "sigma_scale")

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

    return np.clip(per_channel(damaged.images, one), 0.0, 1.0)  # the inverse filter rings


def wiener(balance: float | None = None) -> Restorer:
    """Wiener deconvolution with the known PSF (``skimage.restoration.wiener``).

    Divides by the PSF in
    the Fourier domain, regularised by ``balance`` (a Laplacian prior; tuned when ``None``):
    larger balance, smoother result; too small, ringing.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from skimage.restoration import wiener as skimage_wiener

    if balance is not None:
        balance = positive_number(balance, "balance")

    def restore(damaged: Damaged) -> np.ndarray:
        value = balance if balance is not None else _tuned("wiener", damaged.degradation)
        return _deconvolve(damaged, lambda image, psf: skimage_wiener(image, psf, balance=value))

    return Restorer("Wiener deconvolution", restore, ("blur",), "regularised inverse filter")


def richardson_lucy(num_iter: int | None = None) -> Restorer:
    """Richardson-Lucy deconvolution with the known PSF (``skimage.restoration.richardson_lucy``).

    Multiplicative updates
    that keep the image non-negative; more iterations sharpen more and amplify noise, so the
    number of iterations (tuned when ``None``) is the regulariser.

    Introduced in notebook 08_degradations_and_classical_restoration.
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
    """Every classical restorer of notebook 08, with the tuned parameters, in table order.

    ``train_images`` gives
    the mean image for :func:`mean_image_fill` (use the training split, never the test split).

    Introduced in notebook 08_degradations_and_classical_restoration.
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

    The classical
    restorers are tuned on these training digits; the held-out test digits stay unseen.

    Introduced in notebook 08_degradations_and_classical_restoration.
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

    Reads **only**
    ``dataset.x_train``: :func:`validation_split` carves ``size`` digits from it (``slow_size``
    for BM3D), damages them with seed ``TUNING_SEED`` and keeps, per degradation, the grid value
    with the highest mean PSNR. Noise methods are tuned on ``noise_levels`` (noise 0.1 / 0.3 /
    0.5), deconvolution on the benchmark blur. The BM3D, wavelet and non-local-means grids are
    multiples of the noise sigma; the result stores BM3D's ``sigma_psd`` and the other multiples.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    for value, name in ((methods, "methods"), (noise_levels, "noise_levels")):
        if isinstance(value, str):
            raise TypeError(f"{name} must be a list of names, got the string {value!r}; pass [{value!r}].")
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


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.restoration --tune`` re-tunes the classical restorers.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Re-tune the classical restorers on the validation split.")
    parser.add_argument("--tune", action="store_true", help="grid-search the parameters and print them")
    parser.add_argument("--methods", nargs="*", default=None, help=f"subset of {list(TUNING_FACTORIES)}")
    parser.add_argument("--noise-levels", nargs="*", default=list(TUNED_NOISE_LEVELS))
    arguments = parser.parse_args(argv)
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
