"""Image-quality and generative-model metrics of the course, written from their definitions.

Notebooks 03-13 score restorations and generated images with these functions, and notebook
12_evaluation introduces them all: the full-reference scores MSE, PSNR and SSIM for restored
images against their clean originals; the set-to-set scores squared Frechet distance (FID), kernel
distance (KID), Inception Score and improved precision/recall for generated images; and the
recognition rate of a classifier on restored or generated digits. Every function scores a
whole set in one vectorised call and follows the course's conventions exactly (PSNR per image,
then averaged; SSIM as Wang et al. with an 11x11 Gaussian window, equal to ``tf.image.ssim``).
What it deliberately leaves out: the evaluator network. Functions here take images, or
*features and class probabilities already computed* by some network; the evaluator module
runs the course's frozen MNIST classifier and wraps these functions. Only NumPy and SciPy are
imported here, never TensorFlow, so the metrics load fast and can be checked against
TensorFlow and scikit-image in the tests.
"""

from __future__ import annotations

import math
import typing
import warnings

import numpy as np
import scipy.linalg
import scipy.ndimage
import scipy.special

from course_lib._checks import (as_feature_matrix, as_image_batch, boolean, class_labels, one_of,
                                positive_int, positive_number, same_shape)
from course_lib._checks import seed as check_seed

__all__ = [
    "mse", "psnr", "ssim",
    "frechet_distance", "kernel_distance", "inception_score", "precision_recall",
    "recognition_rate", "nearest_neighbours",
    "KernelDistance", "InceptionScore", "PrecisionRecall", "RecognitionRate", "Neighbours",
]

REDUCTIONS = ("mean", "none")
# Row sums of class probabilities may deviate from 1 by this much (float32 softmax round-off).
PROBABILITY_TOLERANCE = 1e-3
# Offset added to both covariance diagonals when (S_a S_b) has no finite square root
# (the value used by the reference pytorch-fid implementation).
FRECHET_EPSILON = 1e-6
# Pairwise distances are computed for this many rows at a time to bound memory.
DISTANCE_CHUNK_ROWS = 1000
# Feature vectors larger than this in magnitude are refused: the kernel of KID cubes their
# dot products and FID squares them, and network activations are many orders smaller.
MAX_FEATURE_MAGNITUDE = 1e8
# The largest data_range of an image format (16-bit images span 0 to 65535).
MAX_DATA_RANGE = 65535.0
# SSIM's Gaussian window needs a sigma of at least this (narrower ones divide by zero); far
# wider ones are a uniform window, and squaring them overflows.
MIN_WINDOW_SIGMA = 0.01
MAX_WINDOW_SIGMA = 1000.0
# KID averages over at most this many random subsets (clean-fid uses 100).
MAX_KID_SUBSETS = 1000


class KernelDistance(typing.NamedTuple):
    """Kernel distance (KID): mean of the unbiased MMD^2 over subsets and its standard error.

    Introduced in notebook 03_dcgan_mnist.
    """

    mean: float
    standard_error: float


class InceptionScore(typing.NamedTuple):
    """Inception Score: mean and standard deviation over the splits.

    Introduced in notebook 03_dcgan_mnist.
    """

    mean: float
    std: float


class PrecisionRecall(typing.NamedTuple):
    """Improved precision (fidelity) and recall (coverage), each a fraction in [0, 1].

    Introduced in notebook 03_dcgan_mnist.
    """

    precision: float
    recall: float


class RecognitionRate(typing.NamedTuple):
    """Classifier accuracy on restored/generated images, on clean images, and their ratio.

    Introduced in notebook 03_dcgan_mnist.
    """

    accuracy: float
    clean_accuracy: float | None
    relative: float | None


# --------------------------------------------------------------------------------------------
# Input checks shared by the functions below
# --------------------------------------------------------------------------------------------

def _image_pair(images, references, data_range):
    """Check a pair of image batches in [0, data_range]; return them as float64 NHWC arrays.

    Images outside [0, data_range] are refused. A ``data_range`` above 1 with a batch whose
    maximum is at most 1 draws a warning: [0, 1] images scored as if they were 0-255 get a
    PSNR some 48 dB too high and an SSIM near 1 (the pitfall notebook 12 shows).
    """
    data_range = positive_number(data_range, "data_range", maximum=MAX_DATA_RANGE)
    value_range = (0.0, data_range)
    try:
        images = as_image_batch(images, "images", value_range=value_range)
        references = as_image_batch(references, "references", value_range=value_range)
    except ValueError as error:
        if "must lie in" not in str(error):
            raise
        raise ValueError(f"{error} The range is [0, data_range] with data_range={data_range:g}; "
                         f"course images are in [0, 1] with data_range=1.0.") from None
    same_shape(images, references, "images", "references")
    unit_scaled = [name for batch, name in ((images, "images"), (references, "references"))
                   if float(batch.max()) <= 1]
    if data_range > 1 and unit_scaled:
        warnings.warn(f"data_range={data_range:g} but {' and '.join(unit_scaled)} never exceed 1: "
                      f"for [0, 1] images pass data_range=1.0 (the course's scale), or the score "
                      f"comes out far too good.", UserWarning, stacklevel=3)
    return images.astype(np.float64), references.astype(np.float64), data_range


def _as_features(values, name: str, *, min_rows: int = 1) -> np.ndarray:
    """Feature vectors (rows) as a finite float64 matrix small enough not to overflow."""
    return as_feature_matrix(values, name, min_rows=min_rows, max_magnitude=MAX_FEATURE_MAGNITUDE)


def _same_feature_dimension(first: np.ndarray, second: np.ndarray,
                            first_name: str, second_name: str) -> None:
    if first.shape[1] != second.shape[1]:
        raise ValueError(f"{first_name} and {second_name} must have the same feature dimension "
                         f"(columns), got shapes {first.shape} and {second.shape}.")


def _reduce(per_image: np.ndarray, reduction: str):
    """Average per-image scores (a Python float) or return them as they are (shape (N,))."""
    one_of(reduction, REDUCTIONS, "reduction")
    if reduction == "none":
        return per_image
    return float(np.mean(per_image))


# --------------------------------------------------------------------------------------------
# Full-reference image quality: MSE, PSNR, SSIM
# --------------------------------------------------------------------------------------------

def mse(images, references, data_range: float = 1.0, reduction: str = "mean"):
    """Mean squared error of each image against its reference, then averaged over images.

    Used from notebook 03 on. ``images`` and
    ``references`` are NHWC batches of one shape with values in ``[0, data_range]``.
    ``reduction="mean"`` returns a Python float, ``"none"`` the per-image array of shape (N,).
    Lower is better; 0 means identical.

    Introduced in notebook 12_evaluation.
    """
    images, references, data_range = _image_pair(images, references, data_range)
    one_of(reduction, REDUCTIONS, "reduction")
    # MSE_n = mean_{h,w,c} (x_nhwc - y_nhwc)^2                      # (N,)
    per_image = np.mean((images - references) ** 2, axis=(1, 2, 3))
    return _reduce(per_image, reduction)


def psnr(images, references, data_range: float = 1.0, reduction: str = "mean",
         max_db: float | None = None):
    """Peak signal-to-noise ratio in dB, per image, then averaged (the course's convention).

    PSNR_n = 10 log10(data_range^2 / MSE_n); higher is
    better. An image identical to its reference has MSE 0 and PSNR ``+inf``, so with
    ``reduction="mean"`` a single perfect image makes the average ``inf``. Pass ``max_db``
    (for example 100) to clip each image's PSNR at that value before averaging, which keeps
    the mean finite. Averaging per-image PSNR is *not* the same as the PSNR of the pooled MSE
    (the log is applied before the mean); papers differ here, so say which one you report.

    Introduced in notebook 12_evaluation.
    """
    images, references, data_range = _image_pair(images, references, data_range)
    if max_db is not None:
        max_db = positive_number(max_db, "max_db")
    one_of(reduction, REDUCTIONS, "reduction")
    # MSE_n = mean_{h,w,c} (x_nhwc - y_nhwc)^2                      # (N,)
    per_image_mse = np.mean((images - references) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        # PSNR_n = 10 log10(L^2 / MSE_n) = 20 log10 L - 10 log10 MSE_n, +inf where MSE_n = 0
        per_image = 20.0 * np.log10(data_range) - 10.0 * np.log10(per_image_mse)   # (N,)
    if max_db is not None:
        per_image = np.minimum(per_image, max_db)
    return _reduce(per_image, reduction)


def _gaussian_window(window_size: int, sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian weights, shape (window_size,), centred on the middle tap."""
    offsets = np.arange(window_size, dtype=np.float64) - (window_size - 1) / 2.0
    # g_k = exp(-k^2 / (2 sigma^2)) / sum_k exp(-k^2 / (2 sigma^2))  # (window_size,)
    weights = np.exp(-(offsets ** 2) / (2.0 * sigma ** 2))
    return weights / weights.sum()


def _local_average(images: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted local averages over a window without padding ("valid"), for a whole batch.

    ``images`` (N, H, W, C) -> (N, H - window + 1, W - window + 1, C). The 2-D window is the
    outer product of ``weights`` with itself, so two 1-D passes (rows, then columns) suffice.
    Each pass filters the full axis and then drops the border of width (window - 1) / 2 whose
    values would depend on the padding.
    """
    radius = (len(weights) - 1) // 2
    height, width = images.shape[1], images.shape[2]
    along_rows = scipy.ndimage.correlate1d(images, weights, axis=1, mode="constant")
    along_rows = along_rows[:, radius:height - radius]
    both = scipy.ndimage.correlate1d(along_rows, weights, axis=2, mode="constant")
    return both[:, :, radius:width - radius]


def ssim(images, references, data_range: float = 1.0, window_size: int = 11,
         sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03, gaussian: bool = True,
         reduction: str = "mean"):
    """Structural similarity (Wang et al. 2004), per image, then averaged over images.

    With the defaults (Gaussian window 11x11, sigma 1.5,
    K1 0.01, K2 0.03, population covariance) this equals ``tf.image.ssim(a, b, max_val=1)``
    and ``skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, channel_axis=-1)``. The SSIM map is computed
    only where the whole window fits inside the image ("valid", no padding), averaged over
    those positions and over channels for each image, then over images. SSIM is 1 for
    identical images and at most 1; higher is better.

    ``gaussian=False`` uses a uniform ``window_size`` x ``window_size`` window with the sample
    covariance correction N/(N-1), N = window_size^2: with ``window_size=7`` this reproduces
    ``skimage.metrics.structural_similarity(a, b, data_range=1)`` with its *defaults*, which
    give different numbers from the standard SSIM (the pitfall notebook 12 shows).
    ``window_size`` must be odd and no larger than the image height and width.

    Introduced in notebook 12_evaluation.
    """
    images, references, data_range = _image_pair(images, references, data_range)
    window_size = positive_int(window_size, "window_size")
    if window_size % 2 == 0:
        raise ValueError(f"window_size must be an odd positive integer, got {window_size}.")
    gaussian = boolean(gaussian, "gaussian")
    sigma = positive_number(sigma, "sigma", maximum=MAX_WINDOW_SIGMA)
    if gaussian and sigma < MIN_WINDOW_SIGMA:
        raise ValueError(f"sigma must be at least {MIN_WINDOW_SIGMA} pixels for a Gaussian "
                         f"window, got {sigma!r}.")
    k1 = positive_number(k1, "k1", maximum=1.0)
    k2 = positive_number(k2, "k2", maximum=1.0)
    one_of(reduction, REDUCTIONS, "reduction")
    height, width = images.shape[1], images.shape[2]
    if height < window_size or width < window_size:
        raise ValueError(f"images must be at least window_size x window_size = "
                         f"{window_size} x {window_size} pixels, got height {height} and "
                         f"width {width}; pass a smaller odd window_size.")

    if gaussian:
        weights = _gaussian_window(window_size, sigma)
        covariance_correction = 1.0  # population covariance, as Wang et al.
    else:
        weights = np.full(window_size, 1.0 / window_size)
        pixels_in_window = window_size ** 2
        covariance_correction = pixels_in_window / (pixels_in_window - 1)  # sample covariance

    # Filter the five local statistics in one call: stack them along the batch axis.
    count = images.shape[0]
    stacked = np.concatenate([images, references, images * images,
                              references * references, images * references])
    local = _local_average(stacked, weights)  # (5 N, H', W', C)
    mean_x, mean_y, mean_xx, mean_yy, mean_xy = (local[index * count:(index + 1) * count]
                                                 for index in range(5))
    # sigma_x^2 = E_w[x^2] - mu_x^2, sigma_xy = E_w[xy] - mu_x mu_y  # (N, H', W', C) each
    variance_x = covariance_correction * (mean_xx - mean_x ** 2)
    variance_y = covariance_correction * (mean_yy - mean_y ** 2)
    covariance = covariance_correction * (mean_xy - mean_x * mean_y)

    # C1 = (K1 L)^2, C2 = (K2 L)^2
    constant_1 = (k1 * data_range) ** 2
    constant_2 = (k2 * data_range) ** 2
    # SSIM = (2 mu_x mu_y + C1)(2 sigma_xy + C2) /
    #        ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))  # (N, H', W', C)
    ssim_map = ((2 * mean_x * mean_y + constant_1) * (2 * covariance + constant_2)
                / ((mean_x ** 2 + mean_y ** 2 + constant_1)
                   * (variance_x + variance_y + constant_2)))
    # mean over valid positions and channels                          # (N,)
    per_image = ssim_map.mean(axis=(1, 2, 3))
    return _reduce(per_image, reduction)


# --------------------------------------------------------------------------------------------
# Set-to-set scores for generative models, on evaluator features or probabilities
# --------------------------------------------------------------------------------------------

def _matrix_square_root(matrix: np.ndarray) -> np.ndarray:
    """scipy's matrix square root, without its warning about nearly singular input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*singular.*")
        return np.asarray(scipy.linalg.sqrtm(matrix))


def frechet_distance(features_a, features_b) -> float:
    """Squared Frechet (2-Wasserstein) distance between Gaussians fitted to two feature sets: FID.

    ``features_a`` (N_a, D) and ``features_b`` (N_b, D)
    are feature vectors from the same network (the course's evaluator, giving a "Frechet
    LeNet distance" for MNIST), at least 2 rows each. Fits a mean and a sample covariance to
    each set and returns ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) as a Python
    float: 0 for identical statistics, lower is better. Its square root is a metric; the value
    itself is not (it fails the triangle inequality). The estimate is biased upwards for
    small sets, so always report the floor (two disjoint real sets of the same size) beside it.
    The matrix square root follows pytorch-fid: scipy's ``sqrtm``; if that is not finite
    (singular product), retry with 1e-6 added to both diagonals; drop imaginary parts left by
    round-off. Tiny negative results from round-off are returned as 0.

    Introduced in notebook 12_evaluation.
    """
    features_a = _as_features(features_a, "features_a", min_rows=2)
    features_b = _as_features(features_b, "features_b", min_rows=2)
    _same_feature_dimension(features_a, features_b, "features_a", "features_b")

    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)  # (D,)
    covariance_a = np.cov(features_a, rowvar=False, ddof=1).reshape(features_a.shape[1], -1)
    covariance_b = np.cov(features_b, rowvar=False, ddof=1).reshape(features_b.shape[1], -1)

    # (S_a S_b)^(1/2)                                                 # (D, D)
    product_root = _matrix_square_root(covariance_a @ covariance_b)
    if not np.all(np.isfinite(product_root)):
        offset = FRECHET_EPSILON * np.eye(covariance_a.shape[0])
        product_root = _matrix_square_root((covariance_a + offset) @ (covariance_b + offset))
    if np.iscomplexobj(product_root):
        largest_imaginary = float(np.max(np.abs(np.diagonal(product_root).imag)))
        if largest_imaginary > 1e-3:
            raise ValueError(f"The square root of S_a S_b has an imaginary diagonal part of "
                             f"{largest_imaginary:.3g}: the covariances are numerically "
                             f"unusable. Expected well-conditioned features_a and features_b "
                             f"(more samples than feature dimensions helps).")
        product_root = product_root.real

    difference = mean_a - mean_b                                      # (D,)
    # FD = ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2))
    distance = (difference @ difference + np.trace(covariance_a) + np.trace(covariance_b)
                - 2.0 * np.trace(product_root))
    return max(float(distance), 0.0)


def _polynomial_kernel(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """k(x, y) = (x . y / D + 1)^3 for all pairs of rows: (M, D), (K, D) -> (M, K)."""
    dimension = first.shape[1]
    return (first @ second.T / dimension + 1.0) ** 3


def kernel_distance(features_a, features_b, num_subsets: int = 10, subset_size: int = 1000,
                    seed: int = 0) -> KernelDistance:
    """Kernel distance (KID): unbiased squared MMD with a cubic polynomial kernel.

    For each of ``num_subsets`` random subsets of
    m = min(subset_size, N_a, N_b) rows of each set (drawn without replacement by
    ``numpy.random.default_rng(seed)``), computes the unbiased estimate

        MMD^2 = sum_{i != j} k(a_i, a_j) / (m (m - 1)) + sum_{i != j} k(b_i, b_j) / (m (m - 1))
                - 2 sum_{i, j} k(a_i, b_j) / m^2,    k(x, y) = (x . y / D + 1)^3,

    and returns ``KernelDistance(mean, standard_error)`` over the subsets, with
    standard_error = std(ddof=1) / sqrt(num_subsets) (``nan`` for a single subset, and when every
    "subset" is the whole of both sets, since then the subsets cannot vary: pass a smaller
    ``subset_size``). Unlike
    FID the estimate is unbiased: two samples of one distribution score 0 on average and may
    score slightly below 0. Lower is better.

    Introduced in notebook 12_evaluation.
    """
    features_a = _as_features(features_a, "features_a", min_rows=2)
    features_b = _as_features(features_b, "features_b", min_rows=2)
    _same_feature_dimension(features_a, features_b, "features_a", "features_b")
    num_subsets = positive_int(num_subsets, "num_subsets", maximum=MAX_KID_SUBSETS)
    subset_size = positive_int(subset_size, "subset_size")
    if subset_size < 2:
        raise ValueError(f"subset_size must be at least 2 samples, got {subset_size}.")
    seed = check_seed(seed)

    size = min(subset_size, features_a.shape[0], features_b.shape[0])
    generator = np.random.default_rng(seed)
    estimates = np.empty(num_subsets)
    for subset in range(num_subsets):
        subset_a = features_a[generator.choice(features_a.shape[0], size, replace=False)]
        subset_b = features_b[generator.choice(features_b.shape[0], size, replace=False)]
        kernel_aa = _polynomial_kernel(subset_a, subset_a)            # (m, m)
        kernel_bb = _polynomial_kernel(subset_b, subset_b)            # (m, m)
        kernel_ab = _polynomial_kernel(subset_a, subset_b)            # (m, m)
        # within-set sums without the diagonal k(x_i, x_i), divided by m (m - 1)
        within_a = (kernel_aa.sum() - np.trace(kernel_aa)) / (size * (size - 1))
        within_b = (kernel_bb.sum() - np.trace(kernel_bb)) / (size * (size - 1))
        # MMD^2 = within_a + within_b - 2 mean_{i,j} k(a_i, b_j)
        estimates[subset] = within_a + within_b - 2.0 * kernel_ab.mean()

    if not np.all(np.isfinite(estimates)):
        raise ValueError("The kernel sums overflowed float64 (features too large or too many "
                         "dimensions); rescale features_a and features_b.")
    mean = float(estimates.mean())
    whole_sets = size == features_a.shape[0] and size == features_b.shape[0]
    if num_subsets > 1 and not whole_sets:
        standard_error = float(estimates.std(ddof=1) / math.sqrt(num_subsets))
    else:
        standard_error = float("nan")
    return KernelDistance(mean=mean, standard_error=standard_error)


def _as_probabilities(probabilities, name: str) -> np.ndarray:
    """Check class probabilities (N, C): non-negative rows summing to 1 within tolerance."""
    probabilities = as_feature_matrix(probabilities, name)
    if probabilities.min() < 0:
        raise ValueError(f"{name} must be class probabilities (non-negative, rows summing to "
                         f"1), got a value of {probabilities.min():.4g}; apply a softmax "
                         f"to logits first.")
    row_sums = probabilities.sum(axis=1)
    worst = float(np.max(np.abs(row_sums - 1.0)))
    if worst > PROBABILITY_TOLERANCE:
        raise ValueError(f"{name} must be class probabilities whose rows sum to 1 (within "
                         f"{PROBABILITY_TOLERANCE}), got a row summing to "
                         f"{row_sums[np.argmax(np.abs(row_sums - 1.0))]:.4g}; apply a "
                         f"softmax to logits first.")
    return probabilities / row_sums[:, None]


def inception_score(probabilities, num_splits: int = 10) -> InceptionScore:
    """Inception Score from class probabilities p(y|x), mean and std over splits.

    ``probabilities`` (N, C) are a classifier's
    softmax outputs on N generated images (the course uses its MNIST evaluator, so this is an
    Inception-Score *analogue*). The rows are split into ``num_splits`` nearly equal parts
    (``numpy.array_split``, so no sample is dropped) and each part scores
    exp(E_x KL(p(y|x) || p(y))), with p(y) the part's mean prediction. The score lies between
    1 (every image gets the same prediction) and C (confident predictions spread evenly over
    all classes); higher is better, but it never looks at real images, so it misses a
    generator that copies or mis-draws its classes. Rows are renormalised to sum to 1 exactly.

    Introduced in notebook 12_evaluation.
    """
    probabilities = _as_probabilities(probabilities, "probabilities")
    num_splits = positive_int(num_splits, "num_splits")
    if num_splits > probabilities.shape[0]:
        raise ValueError(f"num_splits must be at most the number of samples "
                         f"{probabilities.shape[0]}, got {num_splits}.")
    scores = []
    for part in np.array_split(probabilities, num_splits):
        marginal = part.mean(axis=0, keepdims=True)                    # p(y): (1, C)
        # KL(p(y|x) || p(y)) = sum_y p(y|x) log(p(y|x) / p(y))       # (n,)
        divergence = scipy.special.rel_entr(part, marginal).sum(axis=1)
        # IS = exp(mean_x KL)
        scores.append(math.exp(float(divergence.mean())))
    return InceptionScore(mean=float(np.mean(scores)), std=float(np.std(scores)))


def _kth_neighbour_squared_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Squared distance of each row to its k-th nearest other row: (N, D) -> (N,)."""
    radii = np.empty(features.shape[0])
    for start in range(0, features.shape[0], DISTANCE_CHUNK_ROWS):
        chunk = features[start:start + DISTANCE_CHUNK_ROWS]
        squared = _squared_distances(chunk, features)                   # (rows, N)
        # index 0 of the sorted row is the point itself (distance 0), so index k is the
        # k-th nearest *other* point
        radii[start:start + len(chunk)] = np.partition(squared, k, axis=1)[:, k]
    return radii


def _squared_distances(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """||x - y||^2 for all pairs of rows: (M, D), (K, D) -> (M, K), clipped at 0."""
    # ||x - y||^2 = ||x||^2 + ||y||^2 - 2 x . y
    squared = ((first ** 2).sum(axis=1)[:, None] + (second ** 2).sum(axis=1)[None, :]
               - 2.0 * first @ second.T)
    return np.maximum(squared, 0.0)


def _fraction_inside(queries: np.ndarray, centres: np.ndarray,
                     squared_radii: np.ndarray) -> float:
    """Fraction of query rows inside at least one ball (centre, radius) of the manifold."""
    inside = np.empty(queries.shape[0], dtype=bool)
    for start in range(0, queries.shape[0], DISTANCE_CHUNK_ROWS):
        chunk = queries[start:start + DISTANCE_CHUNK_ROWS]
        squared = _squared_distances(chunk, centres)                    # (rows, N_centres)
        inside[start:start + len(chunk)] = np.any(squared <= squared_radii[None, :], axis=1)
    return float(inside.mean())


class Neighbours(typing.NamedTuple):
    """The nearest references of each query: their row indices and Euclidean distances.

    Introduced in notebook 03_dcgan_mnist.
    """

    indices: np.ndarray    # (N_queries, k) rows of ``references``, nearest first
    distances: np.ndarray  # (N_queries, k) Euclidean distances


def nearest_neighbours(queries, references, k: int = 1) -> Neighbours:
    """The ``k`` nearest rows of ``references`` to each row of ``queries`` (Euclidean).

    Asks whether a generator copies its training data:
    flatten images to rows (pixel space) or pass evaluator features, and compare a sample's
    distance to its nearest training image with a held-out image's. Computed in chunks, so
    thousands of queries against thousands of references fit in memory.

    Introduced in notebook 03_dcgan_mnist.
    """
    queries = _as_features(queries, "queries")
    references = _as_features(references, "references")
    _same_feature_dimension(queries, references, "queries", "references")
    k = positive_int(k, "k")
    if k > references.shape[0]:
        raise ValueError(f"k must be at most the number of references ({references.shape[0]}), got {k}.")
    indices = np.empty((queries.shape[0], k), dtype=np.int64)
    squared = np.empty((queries.shape[0], k))
    for start in range(0, queries.shape[0], DISTANCE_CHUNK_ROWS):
        chunk = _squared_distances(queries[start:start + DISTANCE_CHUNK_ROWS], references)  # (rows, N_refs)
        nearest = np.argsort(chunk, axis=1, kind="stable")[:, :k]
        indices[start:start + len(chunk)] = nearest
        squared[start:start + len(chunk)] = np.take_along_axis(chunk, nearest, axis=1)
    return Neighbours(indices=indices, distances=np.sqrt(squared))


def precision_recall(real_features, generated_features, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall (Kynkaanniemi et al. 2019) on feature vectors.

    Each set's manifold is the union of balls around
    its points, each with radius the distance to that point's ``k``-th nearest neighbour in
    the same set (the point itself excluded). Precision = fraction of generated points inside
    the real manifold (are the samples realistic?); recall = fraction of real points inside
    the generated manifold (is all of the data covered?). A generator that drops modes keeps
    a high precision but loses recall. Each set needs more than ``k`` points; pairwise
    distances are computed 1,000 rows at a time, fine for a few thousand points.

    Introduced in notebook 12_evaluation.
    """
    real_features = _as_features(real_features, "real_features")
    generated_features = _as_features(generated_features, "generated_features")
    _same_feature_dimension(real_features, generated_features,
                            "real_features", "generated_features")
    k = positive_int(k, "k")
    for features, name in ((real_features, "real_features"),
                           (generated_features, "generated_features")):
        if features.shape[0] <= k:
            raise ValueError(f"{name} needs more than k = {k} samples to find each point's "
                             f"k-th nearest neighbour, got {features.shape[0]}.")
    real_radii = _kth_neighbour_squared_radii(real_features, k)                  # (N_real,)
    generated_radii = _kth_neighbour_squared_radii(generated_features, k)        # (N_gen,)
    precision = _fraction_inside(generated_features, real_features, real_radii)
    recall = _fraction_inside(real_features, generated_features, generated_radii)
    return PrecisionRecall(precision=precision, recall=recall)


def _accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    # accuracy = mean_n [argmax_c p_nc == y_n]
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def recognition_rate(predicted_probabilities, labels,
                     clean_probabilities=None) -> RecognitionRate:
    """Accuracy of a classifier's argmax predictions on restored or generated images.

    ``predicted_probabilities`` (N, C) are the
    evaluator's outputs on the restored (or class-conditionally generated) images and
    ``labels`` (N,) the integer classes in [0, C) they should show. Only the argmax matters,
    so logits work as well. When ``clean_probabilities`` (N, C), the outputs on the clean
    originals, are given, also returns the clean accuracy and ``relative`` = accuracy /
    clean_accuracy (``nan`` if the clean accuracy is 0): the number to read a restoration's
    recognition rate against. Missing fields are ``None``.

    Introduced in notebook 12_evaluation.
    """
    predicted_probabilities = as_feature_matrix(predicted_probabilities, "predicted_probabilities")
    num_samples, num_classes = predicted_probabilities.shape
    labels = class_labels(labels, num_classes, num_samples=num_samples)
    accuracy = _accuracy(predicted_probabilities, labels)
    if clean_probabilities is None:
        return RecognitionRate(accuracy=accuracy, clean_accuracy=None, relative=None)

    clean_probabilities = as_feature_matrix(clean_probabilities, "clean_probabilities")
    same_shape(predicted_probabilities, clean_probabilities,
               "predicted_probabilities", "clean_probabilities")
    clean_accuracy = _accuracy(clean_probabilities, labels)
    # relative = accuracy on restored / accuracy on clean
    relative = accuracy / clean_accuracy if clean_accuracy > 0 else float("nan")
    return RecognitionRate(accuracy=accuracy, clean_accuracy=clean_accuracy, relative=relative)
