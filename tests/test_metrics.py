"""Properties of course_lib.metrics: hand computations, closed forms, identities, bounds,
agreement with tf.image.ssim and scikit-image, and clear errors on bad input.

TensorFlow is imported only inside the tests that compare against ``tf.image.ssim``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage
from skimage.metrics import structural_similarity

from course_lib import metrics


# --------------------------------------------------------------------------------------------
# Test images and features
# --------------------------------------------------------------------------------------------

def digit_like_images(seed: int, count: int, size: int = 28) -> np.ndarray:
    """Blurred random strokes on a black canvas, scaled to [0, 1]: MNIST-like statistics."""
    rng = np.random.default_rng(seed)
    canvas = np.zeros((count, size, size, 1))
    for index in range(count):
        for _ in range(3):
            start, end = rng.uniform(5, size - 5, size=(2, 2))
            for fraction in np.linspace(0, 1, 40):
                row, column = (start + fraction * (end - start)).astype(int)
                canvas[index, row, column, 0] = 1.0
    canvas = scipy.ndimage.gaussian_filter(canvas, sigma=(0, 1.0, 1.0, 0))
    return (canvas / canvas.max(axis=(1, 2, 3), keepdims=True)).astype(np.float32)


def noisy(images: np.ndarray, seed: int, stddev: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(images + stddev * rng.standard_normal(images.shape), 0, 1).astype(np.float32)


def random_images(seed: int, shape) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def smooth_images(seed: int, shape) -> np.ndarray:
    blurred = scipy.ndimage.gaussian_filter(np.random.default_rng(seed).random(shape),
                                            sigma=(0, 3, 3, 0))
    low = blurred.min(axis=(1, 2, 3), keepdims=True)
    high = blurred.max(axis=(1, 2, 3), keepdims=True)
    return ((blurred - low) / (high - low)).astype(np.float32)


def features_with_moments(seed: int, mean: np.ndarray, covariance: np.ndarray,
                          count: int) -> np.ndarray:
    """Rows whose sample mean and sample covariance (ddof=1) are *exactly* the given ones."""
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((count, len(mean)))
    centred = raw - raw.mean(axis=0)
    whitening = np.linalg.inv(np.linalg.cholesky(np.cov(centred, rowvar=False)))
    white = centred @ whitening.T                      # sample covariance = identity
    return white @ np.linalg.cholesky(covariance).T + mean


def clustered_features(seed: int, cluster_ids, per_cluster: int = 100,
                       dimension: int = 2) -> np.ndarray:
    """Tight Gaussian clusters around fixed, well-separated centres (one per cluster id).

    Low-dimensional on purpose: k-nearest-neighbour balls cover a cluster of 100 points well
    in 2-D, so precision and recall measure the clusters, not the sampling noise.
    """
    centres = 10.0 * np.random.default_rng(1234).standard_normal((10, dimension))
    rng = np.random.default_rng(seed)
    return np.concatenate([centres[cluster] + 0.5 * rng.standard_normal((per_cluster, dimension))
                           for cluster in cluster_ids])


def skimage_gaussian_ssim(images, references):
    return np.array([structural_similarity(image, reference, gaussian_weights=True, sigma=1.5,
                                           use_sample_covariance=False, data_range=1,
                                           channel_axis=-1)
                     for image, reference in zip(images, references)])


# --------------------------------------------------------------------------------------------
# MSE and PSNR
# --------------------------------------------------------------------------------------------

def test_mse_matches_hand_computation_per_image_and_mean():
    images = np.zeros((2, 2, 2, 1), np.float32)
    references = np.zeros((2, 2, 2, 1), np.float32)
    images[0, 0, 0, 0] = 0.5            # one pixel off by 0.5: MSE = 0.25 / 4
    images[1] = 0.2                     # every pixel off by 0.2: MSE = 0.04
    per_image = metrics.mse(images, references, reduction="none")
    assert per_image.shape == (2,)
    np.testing.assert_allclose(per_image, [0.0625, 0.04], rtol=1e-6)
    assert metrics.mse(images, references) == pytest.approx((0.0625 + 0.04) / 2, rel=1e-6)


def test_psnr_of_constant_offset_equals_closed_form():
    references = 0.8 * random_images(0, (3, 16, 16, 3))
    offset = 0.1
    # MSE = offset^2, so PSNR = 10 log10(1 / offset^2) = 20 dB
    assert metrics.psnr(references + offset, references) == pytest.approx(20.0, abs=1e-4)
    per_image = metrics.psnr(references + offset, references, reduction="none")
    np.testing.assert_allclose(per_image, 20.0, atol=1e-4)


def test_psnr_scales_with_data_range():
    images, references = random_images(1, (2, 8, 8, 1)), random_images(2, (2, 8, 8, 1))
    assert (metrics.psnr(255 * images, 255 * references, data_range=255)
            == pytest.approx(metrics.psnr(images, references), rel=1e-6))
    assert metrics.mse(255 * images, 255 * references, data_range=255) == pytest.approx(
        255 ** 2 * metrics.mse(images, references), rel=1e-5)


def test_psnr_of_identical_images_is_inf_and_max_db_clips_it():
    references = random_images(3, (2, 8, 8, 1))
    images = references.copy()
    images[1] = np.clip(images[1] + 0.01, 0, 1)
    per_image = metrics.psnr(images, references, reduction="none")
    assert per_image[0] == math.inf and math.isfinite(per_image[1])
    assert metrics.psnr(images, references) == math.inf
    clipped = metrics.psnr(images, references, max_db=100.0)
    assert clipped == pytest.approx((100.0 + per_image[1]) / 2)


def test_psnr_is_averaged_per_image_not_from_pooled_mse():
    references = np.full((2, 4, 4, 1), 0.5, np.float32)
    images = references.copy()
    images[0] += 0.01                   # 40 dB
    images[1] += 0.1                    # 20 dB
    assert metrics.psnr(images, references) == pytest.approx(30.0, abs=1e-3)
    pooled = 10 * math.log10(1 / metrics.mse(images, references))
    assert pooled == pytest.approx(22.97, abs=0.01)
    assert abs(metrics.psnr(images, references) - pooled) > 5


# --------------------------------------------------------------------------------------------
# SSIM
# --------------------------------------------------------------------------------------------

SSIM_CASES = {
    "digits_28x28": lambda: (digit_like_images(0, 6), noisy(digit_like_images(0, 6), 1)),
    "digit_vs_other_digit": lambda: (digit_like_images(0, 6), digit_like_images(1, 6)),
    "random_gray_64x48": lambda: (random_images(2, (3, 64, 48, 1)),
                                  noisy(random_images(2, (3, 64, 48, 1)), 3)),
    "random_rgb_40x56": lambda: (random_images(4, (3, 40, 56, 3)),
                                 random_images(5, (3, 40, 56, 3))),
    "smooth_rgb_64x64": lambda: (smooth_images(6, (2, 64, 64, 3)),
                                 noisy(smooth_images(6, (2, 64, 64, 3)), 7, 0.05)),
    "smooth_gray_11x11": lambda: (smooth_images(8, (4, 11, 11, 1)),
                                  smooth_images(9, (4, 11, 11, 1))),
}


@pytest.mark.parametrize("case", sorted(SSIM_CASES))
def test_ssim_equals_tensorflow_and_skimage_gaussian(case):
    import tensorflow as tf

    images, references = SSIM_CASES[case]()
    ours = metrics.ssim(images, references, reduction="none")
    tensorflow_values = tf.image.ssim(tf.constant(images), tf.constant(references),
                                      max_val=1.0).numpy()
    np.testing.assert_allclose(ours, tensorflow_values, atol=1e-4)
    np.testing.assert_allclose(ours, skimage_gaussian_ssim(images, references), atol=1e-4)
    assert metrics.ssim(images, references) == pytest.approx(ours.mean())


@pytest.mark.parametrize("case", sorted(SSIM_CASES))
def test_ssim_uniform_window_7_equals_skimage_defaults(case):
    images, references = SSIM_CASES[case]()
    ours = metrics.ssim(images, references, window_size=7, gaussian=False, reduction="none")
    skimage_defaults = [np.mean([structural_similarity(image[..., channel],
                                                       reference[..., channel], data_range=1)
                                 for channel in range(image.shape[-1])])
                        for image, reference in zip(images, references)]
    np.testing.assert_allclose(ours, skimage_defaults, atol=1e-4)


def test_skimage_defaults_differ_from_standard_ssim():
    images = digit_like_images(0, 4)
    references = noisy(images, 1)
    standard = metrics.ssim(images, references)
    skimage_defaults = np.mean([structural_similarity(image[..., 0], reference[..., 0],
                                                      data_range=1)
                                for image, reference in zip(images, references)])
    assert abs(standard - skimage_defaults) > 1e-3
    assert metrics.ssim(images, references, window_size=7, gaussian=False) == pytest.approx(
        skimage_defaults, abs=1e-4)


def test_ssim_identity_symmetry_bound_and_scale():
    images = smooth_images(10, (3, 32, 32, 3))
    references = noisy(images, 11)
    np.testing.assert_allclose(metrics.ssim(images, images, reduction="none"), 1.0, atol=1e-12)
    assert metrics.ssim(images, references) == pytest.approx(
        metrics.ssim(references, images), abs=1e-12)
    assert metrics.ssim(images, references) < 1.0
    assert metrics.ssim(255 * images, 255 * references, data_range=255) == pytest.approx(
        metrics.ssim(images, references), abs=1e-6)
    noisier = noisy(images, 11, stddev=0.3)
    assert metrics.ssim(images, noisier) < metrics.ssim(images, references)


# --------------------------------------------------------------------------------------------
# Frechet distance
# --------------------------------------------------------------------------------------------

def test_frechet_distance_of_set_with_itself_is_zero_and_symmetric():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((500, 32)) @ rng.standard_normal((32, 32))
    assert metrics.frechet_distance(features, features) < 1e-3
    other = rng.standard_normal((400, 32)) + 0.3
    forward = metrics.frechet_distance(features, other)
    assert isinstance(forward, float) and forward > 0
    assert forward == pytest.approx(metrics.frechet_distance(other, features), rel=1e-6)


def test_frechet_distance_equals_closed_form_for_diagonal_gaussians():
    mean_a, mean_b = np.array([0.0, 1.0, -2.0, 0.5]), np.array([1.0, 1.0, 0.0, -0.5])
    variances_a, variances_b = np.array([1.0, 2.0, 0.5, 4.0]), np.array([3.0, 0.5, 0.5, 1.0])
    features_a = features_with_moments(1, mean_a, np.diag(variances_a), 300)
    features_b = features_with_moments(2, mean_b, np.diag(variances_b), 200)
    # ||mu_a - mu_b||^2 + sum(s_a + s_b - 2 sqrt(s_a s_b))
    expected = (np.sum((mean_a - mean_b) ** 2)
                + np.sum(variances_a + variances_b - 2 * np.sqrt(variances_a * variances_b)))
    assert metrics.frechet_distance(features_a, features_b) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_equals_symmetric_form_for_full_covariances():
    rng = np.random.default_rng(3)
    factor_a, factor_b = rng.standard_normal((2, 6, 6))
    covariance_a, covariance_b = factor_a @ factor_a.T + 0.1 * np.eye(6), factor_b @ factor_b.T
    features_a = features_with_moments(4, np.zeros(6), covariance_a, 100)
    features_b = features_with_moments(5, np.ones(6), covariance_b, 100)

    def symmetric_root(matrix):
        eigenvalues, eigenvectors = np.linalg.eigh(matrix)
        return eigenvectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T

    root_a = symmetric_root(covariance_a)
    # Tr((S_a S_b)^(1/2)) = Tr((S_a^(1/2) S_b S_a^(1/2))^(1/2))
    expected = 6.0 + np.trace(covariance_a + covariance_b
                              - 2 * symmetric_root(root_a @ covariance_b @ root_a))
    assert metrics.frechet_distance(features_a, features_b) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_is_finite_and_non_negative_with_singular_covariances():
    rng = np.random.default_rng(6)
    few_a, few_b = rng.standard_normal((20, 64)), rng.standard_normal((20, 64))
    distance = metrics.frechet_distance(few_a, few_b)
    assert math.isfinite(distance) and distance >= 0
    assert metrics.frechet_distance(few_a, few_a) < 1e-3


def test_frechet_distance_retries_with_offset_when_square_root_is_not_finite(monkeypatch):
    rng = np.random.default_rng(12)
    features_a, features_b = rng.standard_normal((2, 200, 5))
    expected = metrics.frechet_distance(features_a, features_b)
    real_sqrtm = metrics.scipy.linalg.sqrtm
    calls = []

    def failing_once(matrix):
        calls.append(matrix)
        return np.full_like(matrix, np.nan) if len(calls) == 1 else real_sqrtm(matrix)

    monkeypatch.setattr(metrics.scipy.linalg, "sqrtm", failing_once)
    retried = metrics.frechet_distance(features_a, features_b)
    assert len(calls) == 2
    # the 1e-6 offset on both diagonals moves -2 Tr((S_a S_b)^(1/2)) by about 2 D eps
    assert retried == pytest.approx(expected, abs=1e-4)


# --------------------------------------------------------------------------------------------
# Kernel distance
# --------------------------------------------------------------------------------------------

def test_kernel_distance_is_unbiased_for_one_distribution_and_positive_for_shift():
    rng = np.random.default_rng(7)
    features_a, features_b = rng.standard_normal((2, 4000, 8))
    same = metrics.kernel_distance(features_a, features_b, num_subsets=50, subset_size=100)
    assert same.standard_error > 0
    assert abs(same.mean) < 3 * same.standard_error

    shifted = metrics.kernel_distance(features_a, features_b + 0.5, num_subsets=50,
                                      subset_size=100)
    assert shifted.mean > 10 * shifted.standard_error
    assert shifted.mean > 10 * abs(same.mean)


def test_kernel_distance_matches_hand_computation_and_is_seeded():
    rng = np.random.default_rng(8)
    features_a, features_b = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)) + 1
    result = metrics.kernel_distance(features_a, features_b, num_subsets=1, subset_size=5)
    kernel = lambda first, second: (first @ second.T / 3 + 1) ** 3  # noqa: E731
    off_diagonal = ~np.eye(5, dtype=bool)
    expected = (kernel(features_a, features_a)[off_diagonal].mean()
                + kernel(features_b, features_b)[off_diagonal].mean()
                - 2 * kernel(features_a, features_b).mean())
    assert result.mean == pytest.approx(expected, rel=1e-10)   # full sets: order irrelevant
    assert math.isnan(result.standard_error)
    first = metrics.kernel_distance(features_a, features_b, num_subsets=4, subset_size=3)
    assert first == metrics.kernel_distance(features_a, features_b, num_subsets=4,
                                            subset_size=3)


# --------------------------------------------------------------------------------------------
# Inception score
# --------------------------------------------------------------------------------------------

def test_inception_score_of_confident_evenly_spread_predictions_is_num_classes():
    probabilities = np.eye(10)[np.arange(200) % 10]
    score = metrics.inception_score(probabilities, num_splits=10)
    assert score.mean == pytest.approx(10.0) and score.std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_of_identical_rows_is_one_and_bounded_in_general():
    identical = np.tile([0.7, 0.2, 0.1], (30, 1))
    assert metrics.inception_score(identical, num_splits=3).mean == pytest.approx(1.0)
    random_probabilities = np.random.default_rng(9).dirichlet(np.full(10, 0.3), size=500)
    score = metrics.inception_score(random_probabilities)
    assert 1.0 < score.mean < 10.0 and score.std > 0


# --------------------------------------------------------------------------------------------
# Precision and recall
# --------------------------------------------------------------------------------------------

def test_precision_recall_of_identical_sets_is_one_one():
    features = clustered_features(0, range(10))
    assert metrics.precision_recall(features, features) == (1.0, 1.0)


def test_precision_recall_detect_mode_dropping_and_far_away_samples():
    real = clustered_features(1, range(10))
    half_the_modes = clustered_features(2, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    precision, recall = metrics.precision_recall(real, half_the_modes)
    assert precision > 0.9
    assert recall <= 0.55

    all_modes = clustered_features(3, range(10))
    assert metrics.precision_recall(real, all_modes).recall > 0.9

    far_away = real + 1000.0
    assert metrics.precision_recall(real, far_away) == (0.0, 0.0)


def test_precision_recall_chunking_matches_one_block(monkeypatch):
    real, generated = clustered_features(4, range(10)), clustered_features(5, range(6))
    whole = metrics.precision_recall(real, generated, k=5)
    monkeypatch.setattr(metrics, "DISTANCE_CHUNK_ROWS", 64)
    assert metrics.precision_recall(real, generated, k=5) == whole


# --------------------------------------------------------------------------------------------
# Recognition rate
# --------------------------------------------------------------------------------------------

def test_recognition_rate_hand_example_and_ratio():
    labels = np.array([0, 1, 2, 1])
    restored = np.array([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1]])
    clean = np.eye(3)[[0, 1, 2, 0]]     # 3 of 4 correct
    alone = metrics.recognition_rate(restored, labels)
    assert alone == (0.75, None, None)
    result = metrics.recognition_rate(restored, labels, clean_probabilities=clean)
    assert result.accuracy == 0.75 and result.clean_accuracy == 0.75
    assert result.relative == pytest.approx(1.0)
    perfect_clean = metrics.recognition_rate(restored, labels, np.eye(3)[labels])
    assert perfect_clean.relative == pytest.approx(0.75)


# --------------------------------------------------------------------------------------------
# Errors: each bad input raises a ValueError that says what was expected
# --------------------------------------------------------------------------------------------

IMAGES = random_images(20, (2, 16, 16, 1))
FEATURES = np.random.default_rng(21).standard_normal((20, 4))
PROBABILITIES = np.full((20, 4), 0.25)
LABELS = np.arange(20) % 4

BAD_CALLS = {
    "mse_rank_3": (lambda: metrics.mse(IMAGES[0], IMAGES[0]),
                   r"shape \(batch, height, width, channels\)"),
    "psnr_mismatched_shapes": (lambda: metrics.psnr(IMAGES, IMAGES[:1]), "same shape"),
    "psnr_out_of_range": (lambda: metrics.psnr(IMAGES * 2, IMAGES), r"lie in \[0.0, 1.0\]"),
    "ssim_out_of_custom_range": (lambda: metrics.ssim(IMAGES * 300, IMAGES, data_range=255),
                                 r"lie in \[0.0, 255.0\]"),
    "mse_nan": (lambda: metrics.mse(np.where(IMAGES > 0.5, np.nan, IMAGES), IMAGES), "NaN"),
    "psnr_zero_data_range": (lambda: metrics.psnr(IMAGES, IMAGES, data_range=0),
                             "data_range must be a positive number"),
    "ssim_negative_data_range": (lambda: metrics.ssim(IMAGES, IMAGES, data_range=-1),
                                 "data_range must be a positive number"),
    "mse_unknown_reduction": (lambda: metrics.mse(IMAGES, IMAGES, reduction="sum"),
                              "Unknown reduction 'sum'; expected one of: 'mean', 'none'"),
    "ssim_unknown_reduction": (lambda: metrics.ssim(IMAGES, IMAGES, reduction="median"),
                               "Unknown reduction"),
    "psnr_bad_max_db": (lambda: metrics.psnr(IMAGES, IMAGES, max_db=-5),
                        "max_db must be a positive number"),
    "ssim_image_smaller_than_window": (lambda: metrics.ssim(IMAGES[:, :10], IMAGES[:, :10]),
                                       "at least window_size x window_size = 11 x 11"),
    "ssim_even_window": (lambda: metrics.ssim(IMAGES, IMAGES, window_size=8), "odd"),
    "fid_one_sample": (lambda: metrics.frechet_distance(FEATURES[:1], FEATURES),
                       "at least 2 samples"),
    "fid_rank_1": (lambda: metrics.frechet_distance(FEATURES[0], FEATURES),
                   r"shape \(num_samples, num_features\)"),
    "fid_feature_dimension": (lambda: metrics.frechet_distance(FEATURES, FEATURES[:, :3]),
                              "same feature dimension"),
    "fid_nan": (lambda: metrics.frechet_distance(FEATURES * np.nan, FEATURES), "NaN"),
    "kid_subset_size_one": (lambda: metrics.kernel_distance(FEATURES, FEATURES, subset_size=1),
                            "subset_size must be at least 2"),
    "kid_zero_subsets": (lambda: metrics.kernel_distance(FEATURES, FEATURES, num_subsets=0),
                         "num_subsets must be a positive integer"),
    "kid_feature_dimension": (lambda: metrics.kernel_distance(FEATURES, FEATURES[:, :2]),
                              "same feature dimension"),
    "is_negative_probability": (lambda: metrics.inception_score(PROBABILITIES - 0.5),
                                "non-negative"),
    "is_rows_not_summing_to_one": (lambda: metrics.inception_score(PROBABILITIES * 2),
                                   "rows sum to 1"),
    "is_too_many_splits": (lambda: metrics.inception_score(PROBABILITIES, num_splits=21),
                           "at most the number of samples 20"),
    "pr_too_few_samples": (lambda: metrics.precision_recall(FEATURES, FEATURES[:3], k=3),
                           "more than k = 3 samples"),
    "pr_bad_k": (lambda: metrics.precision_recall(FEATURES, FEATURES, k=0),
                 "k must be a positive integer"),
    "rr_float_labels": (lambda: metrics.recognition_rate(PROBABILITIES, LABELS * 1.0),
                        "integer class indices"),
    "rr_labels_out_of_range": (lambda: metrics.recognition_rate(PROBABILITIES, LABELS + 1),
                               r"class indices in \[0, 4\)"),
    "rr_labels_shape": (lambda: metrics.recognition_rate(PROBABILITIES, LABELS[:5]),
                        r"labels must have shape \(20,\)"),
    "rr_clean_shape": (lambda: metrics.recognition_rate(PROBABILITIES, LABELS,
                                                        PROBABILITIES[:, :3]), "same shape"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_raises_clear_value_error(case):
    call, expected_message = BAD_CALLS[case]
    with pytest.raises(ValueError, match=expected_message):
        call()


def test_importing_metrics_does_not_import_tensorflow():
    import pathlib
    import subprocess
    import sys

    repository_root = pathlib.Path(__file__).resolve().parents[1]
    code = "import sys, course_lib.metrics; print('tensorflow' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=repository_root).stdout.strip()
    assert output == "False"


def test_kid_standard_error_is_nan_when_every_subset_is_the_whole_set():
    rng = np.random.default_rng(0)
    features_a, features_b = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    whole = metrics.kernel_distance(features_a, features_b, num_subsets=5, subset_size=1000)
    assert np.isnan(whole.standard_error) and np.isfinite(whole.mean)
    assert metrics.kernel_distance(features_a, features_b, num_subsets=5, subset_size=25).standard_error > 0


def test_nearest_neighbours_match_a_brute_force_search_and_find_exact_copies():
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(3)
    references = rng.normal(size=(300, 5))
    queries = np.concatenate([rng.normal(size=(40, 5)), references[[7, 123]]])  # two exact copies
    found = metrics.nearest_neighbours(queries, references, k=3)
    brute = cdist(queries, references)
    np.testing.assert_array_equal(found.indices, np.argsort(brute, axis=1, kind="stable")[:, :3])
    np.testing.assert_allclose(found.distances, np.sort(brute, axis=1)[:, :3], atol=1e-6)
    assert found.indices[-2:, 0].tolist() == [7, 123] and np.allclose(found.distances[-2:, 0], 0, atol=1e-6)


@pytest.mark.parametrize("queries, references, k, message", [
    (np.zeros((3, 4)), np.zeros((5, 3)), 1, "dimension"),
    (np.zeros((3, 4)), np.zeros((2, 4)), 3, "at most the number of references"),
    (np.zeros(4), np.zeros((2, 4)), 1, "queries"),
])
def test_nearest_neighbours_reject_bad_input(queries, references, k, message):
    with pytest.raises(ValueError, match=message):
        metrics.nearest_neighbours(queries, references, k=k)
