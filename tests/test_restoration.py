"""Classical restorers: the identities each method must satisfy, improvement over the damaged
input, tuning that reads only the training split, and a module that never imports Keras or
TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from course_lib import data, metrics
from course_lib import degradations as deg
from course_lib import restoration as rst
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def digits():
    dataset = data.load_dataset("mnist", source="subset", verbose=False)
    return dataset.x_train[:12], dataset.y_train[:12]


def ramp(count=2, size=28):
    """Images that are linear in the pixel coordinates: every interpolator should reproduce them."""
    rows, columns = np.mgrid[0:size, 0:size] / (size - 1)
    image = 0.2 + 0.5 * rows + 0.25 * columns
    return np.repeat(image[None, ..., None], count, axis=0).astype(np.float32)


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


@pytest.mark.parametrize("factory, arguments, error, message", [
    (rst.total_variation, {"weight": -0.1}, ValueError, "weight must be a positive number, got -0.1"),
    (rst.total_variation, {"weight": 0}, ValueError, "weight must be a positive number"),
    (rst.non_local_means, {"h_scale": -0.5}, ValueError, "h_scale must be a positive number"),
    (rst.non_local_means, {"h_scale": float("inf")}, ValueError, "h_scale must be a positive number"),
    (rst.wavelet, {"sigma_scale": float("nan")}, ValueError, "sigma_scale must be a positive number"),
    (rst.bm3d_denoiser, {"sigma_scale": -1.0}, ValueError, "sigma_scale must be a positive number"),
    (rst.wiener, {"balance": -1e-3}, ValueError, "balance must be a positive number"),
    (rst.wiener, {"balance": "large"}, ValueError, "balance must be a positive number"),
    (rst.median, {"size": 0}, ValueError, "size must be a positive integer"),
    (rst.median, {"size": 2.5}, ValueError, "size must be a positive integer"),
    (rst.richardson_lucy, {"num_iter": -5}, ValueError, "num_iter must be a positive integer"),
    (rst.total_variation, {"correct_clipping": "no"}, ValueError, "correct_clipping must be True or False"),
    (rst.interpolation, {"method": "lanczos"}, ValueError, "Unknown interpolation method 'lanczos'"),
    (rst.interpolation, {"method": ["bicubic"]}, ValueError, "Unknown interpolation method"),
])
def test_bad_hyper_parameters_are_refused_when_the_restorer_is_built(factory, arguments, error, message):
    with pytest.raises(error, match=message):
        factory(**arguments)


@pytest.mark.parametrize("method", ["bilinear", "bicubic"])
def test_scattered_interpolation_from_too_few_known_pixels_copies_the_nearest_one(method):
    images = ramp(1)
    mask = np.zeros_like(images)
    mask[0, 3, 4, 0] = mask[0, 20, 25, 0] = 1.0                       # two known pixels: no triangle
    damaged = deg.Damaged(images * mask, mask, deg.get_degradation("missing_50"))
    restored = rst.interpolation(method)(damaged)
    nearest = rst.interpolation("nearest")(damaged)
    np.testing.assert_array_equal(restored, nearest)
    assert set(np.unique(restored)) == {images[0, 3, 4, 0], images[0, 20, 25, 0]}


def test_restorers_that_overshoot_clip_their_own_output(digits):
    images, _ = digits
    missing = deg.get_degradation("missing_50").apply(images, seed=0)
    blurred = deg.get_degradation("blur").apply(images, seed=0)
    for restorer, damaged in ((rst.interpolation("bicubic"), missing), (rst.wiener(), blurred)):
        raw = np.asarray(restorer.function(damaged))
        assert raw.min() >= 0.0 and raw.max() <= 1.0, restorer.name
    # the unclipped inverse filter rings far below 0: the clip is what keeps it in range
    import skimage.restoration
    psf = deg.gaussian_psf(deg.get_degradation("blur").level)
    ringing = skimage.restoration.wiener(np.pad(blurred.images[0, ..., 0].astype(np.float64), psf.shape[0],
                                                mode="reflect"), psf, balance=rst.TUNED_PARAMETERS["wiener"]["blur"])
    assert ringing.min() < -0.05


def test_the_clipping_correction_refuses_nan_instead_of_returning_it():
    with pytest.raises(ValueError, match="values contains NaN"):
        rst.clipped_mean([0.2, np.nan], 0.3)
    with pytest.raises(ValueError, match="estimates contains NaN or infinite"):
        rst.unclip([0.2, np.inf], 0.3)
    with pytest.raises(ValueError, match="estimates must be numbers"):
        rst.unclip(["dark"], 0.3)


def test_the_tuner_refuses_a_string_where_it_expects_a_list(digits):
    dataset = TrainOnlyDataset(digits[0])
    with pytest.raises(TypeError, match=r"methods must be a list of names.*pass \['median'\]"):
        rst.tune_classical(dataset, "median")
    with pytest.raises(TypeError, match="noise_levels must be a list of names"):
        rst.tune_classical(dataset, ["median"], noise_levels="noise_0.1")


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


def test_the_classical_restorers_run_without_keras_or_tensorflow():
    """The classical track needs NumPy, SciPy, scikit-image and bm3d only: importing the module and
    restoring with every classical restorer must not pull in Keras or TensorFlow."""
    script = (
        "import sys\n"
        "import numpy as np\n"
        "from course_lib import degradations, restoration\n"
        "images = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)\n"
        "for restorer in restoration.classical_restorers(images):\n"
        "    if restorer.slow:\n"
        "        continue\n"
        "    for name in ('noise_0.3', 'hole_12', 'missing_50', 'blur', 'down_2'):\n"
        "        if restorer.can_restore(name):\n"
        "            restorer(degradations.get_degradation(name).apply(images, seed=0))\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] in ('keras', 'tensorflow'))\n"
        "print(','.join(loaded[:5]))\n")
    completed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                               timeout=300, check=True)
    assert completed.stdout.strip() == "", f"course_lib.restoration imported {completed.stdout.strip()}"
