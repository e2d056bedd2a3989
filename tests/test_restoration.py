"""Classical restorers and the benchmark: the identities each method must satisfy, improvement
over the damaged input, refusals of degradations a method cannot handle, tuning that reads only
the training split, and a benchmark whose numbers equal direct metric calls."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import data, metrics
from course_lib import degradations as deg
from course_lib import restoration as rst


@pytest.fixture(scope="module")
def digits():
    dataset = data.load_dataset("mnist", source="subset", verbose=False)
    return dataset.x_train[:12], dataset.y_train[:12]


def ramp(count=2, size=28):
    """Images that are linear in the pixel coordinates: every interpolator should reproduce them."""
    rows, columns = np.mgrid[0:size, 0:size] / (size - 1)
    image = 0.2 + 0.5 * rows + 0.25 * columns
    return np.repeat(image[None, ..., None], count, axis=0).astype(np.float32)


def test_a_restorer_refuses_what_it_cannot_handle_and_says_so(digits):
    damaged = deg.get_degradation("hole_12").apply(digits[0])
    with pytest.raises(ValueError, match="total variation cannot restore 'hole_12'.*handles: noise"):
        rst.total_variation()(damaged)
    with pytest.raises(ValueError, match="Damaged batch"):
        rst.biharmonic()(digits[0])
    assert rst.biharmonic().can_restore("missing_50") and not rst.biharmonic().can_restore("blur")
    broken = rst.Restorer("broken", lambda damaged: damaged.images[0], ("hole",))
    with pytest.raises(ValueError, match=r"broken must return a batch \(N, H, W, C\) with N = 12"):
        broken(damaged)


def test_a_restorer_can_name_exact_degradations():
    only_sigma_03 = rst.Restorer("oracle", lambda damaged: damaged.images, ("noise_0.3",))
    assert only_sigma_03.can_restore("noise_0.3") and not only_sigma_03.can_restore("noise_0.1")


def test_clipped_mean_matches_monte_carlo_and_unclip_inverts_it():
    values = np.linspace(0, 1, 11)
    noise = np.random.default_rng(0).standard_normal((200_000, 1))
    monte_carlo = np.clip(values[None] + 0.3 * noise, 0, 1).mean(axis=0)
    np.testing.assert_allclose(rst.clipped_mean(values, 0.3), monte_carlo, atol=0.003)
    assert abs(rst.clipped_mean(0.0, 0.3) - 0.3 / np.sqrt(2 * np.pi)) < 1e-3  # the bias on black
    grid = np.linspace(0, 1, 101)
    np.testing.assert_allclose(rst.unclip(rst.clipped_mean(grid, 0.3), 0.3), grid, atol=1e-3)
    np.testing.assert_array_equal(rst.unclip([0.0, 1.0], 0.0), [0.0, 1.0])  # no noise, no change


def test_damaged_input_enlarges_low_resolution_images_by_nearest_upsampling(digits):
    damaged = deg.get_degradation("down_4").apply(digits[0])
    restored = rst.damaged_input()(damaged)
    assert restored.shape == digits[0].shape
    np.testing.assert_array_equal(restored, deg.upsample(damaged.images, 4, "nearest"))


@pytest.mark.parametrize("method", ["bilinear", "bicubic"])
def test_interpolation_reproduces_linear_images(method):
    images = ramp()
    down = deg.get_degradation("down_2").apply(images)
    # bilinear is exact away from the border; the cubic spline's mirrored boundary leaves a small error
    tolerance = 1e-5 if method == "bilinear" else 5e-3
    np.testing.assert_allclose(rst.interpolation(method)(down)[:, 1:-1, 1:-1], images[:, 1:-1, 1:-1], atol=tolerance)
    missing = deg.get_degradation("missing_50").apply(images, seed=1)
    restored = rst.interpolation(method)(missing)
    np.testing.assert_allclose(restored[:, 3:-3, 3:-3], images[:, 3:-3, 3:-3], atol=2e-3)


def test_mean_fill_keeps_known_pixels_and_fills_the_mean_training_image(digits):
    images, _ = digits
    damaged = deg.get_degradation("hole_12").apply(images)
    restored = rst.mean_image_fill(images)(damaged)
    known = damaged.mask == 1
    np.testing.assert_array_equal(restored[known], images[known])
    np.testing.assert_allclose(restored[0, 8:20, 8:20], images.mean(axis=0)[8:20, 8:20], atol=1e-6)


def test_biharmonic_inpainting_reproduces_a_linear_image_and_keeps_known_pixels():
    images = ramp()
    damaged = deg.get_degradation("hole_12").apply(images)
    restored = rst.biharmonic()(damaged)
    np.testing.assert_allclose(restored, images, atol=1e-4)


def test_the_median_filter_removes_sparse_salt_and_pepper_exactly():
    flat = np.full((2, 28, 28, 1), 0.4, dtype=np.float32)
    damaged = deg.get_degradation("salt_pepper_5").apply(flat, seed=2)
    assert np.abs(damaged.images - flat).max() > 0.5
    np.testing.assert_allclose(rst.median(3)(damaged), flat, atol=1e-6)


@pytest.mark.parametrize("factory", [rst.median, rst.total_variation, rst.non_local_means, rst.wavelet])
def test_denoisers_beat_the_noisy_input(factory, digits):
    images, _ = digits
    damaged = deg.get_degradation("noise_0.3").apply(images, seed=0)
    assert metrics.psnr(factory()(damaged), images) > metrics.psnr(damaged.images, images) + 1.0


def test_bm3d_beats_the_noisy_input_and_clipping_correction_helps(digits):
    images = digits[0][:2]
    damaged = deg.get_degradation("noise_0.3").apply(images, seed=0)
    corrected = metrics.psnr(rst.bm3d_denoiser()(damaged), images)
    uncorrected = metrics.psnr(rst.bm3d_denoiser(correct_clipping=False)(damaged), images)
    assert corrected > uncorrected > metrics.psnr(damaged.images, images)


@pytest.mark.parametrize("factory", [rst.wiener, rst.richardson_lucy])
def test_deconvolution_sharpens_blurred_digits(factory, digits):
    images, _ = digits
    damaged = deg.get_degradation("blur").apply(images)
    assert metrics.psnr(factory()(damaged), images) > metrics.psnr(damaged.images, images) + 2.0


def test_untuned_noise_levels_use_the_nearest_tuned_parameter():
    tuned = rst.TUNED_PARAMETERS["total_variation"]
    assert rst._tuned("total_variation", deg.get_degradation("noise_0.35")) == tuned["noise_0.3"]
    with pytest.raises(ValueError, match="no tuned parameter"):
        rst._tuned("wiener", deg.get_degradation("blur_2"))


def test_tuned_parameters_come_from_the_tuning_grids():
    for method, table in rst.TUNED_PARAMETERS.items():
        for name, value in table.items():
            if method == "bm3d":  # stored as sigma_psd = multiple x sigma
                value = round(value / deg.get_degradation(name).level, 4)
            assert value in rst.TUNING_GRIDS[method], (method, name, value)


def test_the_validation_split_is_a_seeded_subset_of_the_training_indices():
    indices = rst.validation_split(8000, 200)
    assert len(np.unique(indices)) == 200 and indices.min() >= 0 and indices.max() < 8000
    np.testing.assert_array_equal(indices, rst.validation_split(8000, 200))
    with pytest.raises(ValueError, match="cannot exceed"):
        rst.validation_split(100, 200)


class TrainOnlyDataset:
    """A dataset whose test split raises when touched: the tuner must never read it."""

    def __init__(self, train_images):
        self.x_train = train_images

    @property
    def x_test(self):
        raise AssertionError("the tuner touched the test images")

    @property
    def y_test(self):
        raise AssertionError("the tuner touched the test labels")


def test_the_tuner_reads_only_training_digits_and_picks_from_its_grid(digits):
    dataset = TrainOnlyDataset(digits[0])
    tuned = rst.tune_classical(dataset, ["total_variation", "wiener"], size=8, noise_levels=["noise_0.1"],
                               grids={"total_variation": [0.05, 5.0], "wiener": [0.01, 100.0]}, verbose=False)
    assert tuned["total_variation"] == {"noise_0.1": 0.05}  # a weight of 5 flattens the digit
    assert tuned["wiener"] == {"blur": 0.01}
    with pytest.raises(ValueError, match="Unknown methods"):
        rst.tune_classical(dataset, ["magic"])


class FakeEvaluator:
    """Cheap stand-in: features are 4x4 block means, 'probabilities' a fixed random softmax."""

    def __init__(self):
        self.weights = np.random.default_rng(0).normal(size=(49, 10))

    def features(self, images):
        return deg.downsample(np.asarray(images), 4).reshape(len(images), -1)

    def probabilities(self, images):
        logits = 20 * self.features(images) @ self.weights
        exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exponentials / exponentials.sum(axis=1, keepdims=True)


def test_the_benchmark_equals_direct_metric_calls_and_skips_what_a_restorer_cannot_do(digits):
    images, labels = digits
    evaluator = FakeEvaluator()
    slow_identity = rst.Restorer("slow identity", lambda damaged: damaged.images, ("blur",), slow=True)
    result = rst.benchmark([rst.damaged_input(), rst.wiener(), slow_identity], images, labels,
                           degradations=["blur", "hole_12"], evaluator=evaluator, reference_images=images[::-1],
                           slow_num_images=5, verbose=False)
    assert [(row.degradation, row.restorer) for row in result.rows] == [
        ("blur", "damaged input"), ("blur", "Wiener deconvolution"), ("blur", "slow identity"),
        ("hole_12", "damaged input")]
    blurred = deg.gaussian_blur(images)
    row = result.row("blur", "damaged input")
    assert row.num_images == 12
    assert row.psnr == pytest.approx(metrics.psnr(blurred, images))
    assert row.ssim == pytest.approx(metrics.ssim(blurred, images))
    assert row.fid == pytest.approx(metrics.frechet_distance(evaluator.features(blurred), evaluator.features(images)))
    slow = result.row("blur", "slow identity")
    assert slow.num_images == 5 and slow.psnr == pytest.approx(metrics.psnr(blurred[:5], images[:5]))
    assert set(result.clean_accuracy) == {5, 12} and set(result.fid_floor) == {5, 12}
    assert result.best("blur").restorer == "Wiener deconvolution"
    table = rst.format_table(result)
    assert "Wiener deconvolution" in table and "evaluator accuracy" in table


def test_the_benchmark_rejects_bad_input(digits):
    images, labels = digits
    with pytest.raises(ValueError, match="labels must have shape"):
        rst.benchmark([rst.damaged_input()], images, labels[:3], evaluator=FakeEvaluator())
    with pytest.raises(ValueError, match="Restorer objects"):
        rst.benchmark([lambda damaged: damaged.images], images, labels, evaluator=FakeEvaluator())


def test_notebook_06_solutions_agree_with_the_library(digits):
    from course_lib import solutions

    values = np.linspace(0, 1, 21)
    np.testing.assert_allclose(solutions.clipped_noise_mean(values, 0.3), rst.clipped_mean(values, 0.3), atol=1e-12)
    _, mask = deg.cut_square_hole(np.zeros((1, 28, 28, 1), np.float32), 12)
    np.testing.assert_array_equal(solutions.centre_hole_mask(28, 12), mask[0, ..., 0])
    images, _ = digits
    damaged = deg.get_degradation("missing_50").apply(images, seed=3)
    np.testing.assert_allclose(solutions.mean_fill(damaged.images, damaged.mask, images.mean(axis=0)),
                               rst.mean_image_fill(images)(damaged), atol=1e-6)
