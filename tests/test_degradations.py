"""Degradations: deterministic per seed, exact mask coverage and positions, the right noise
statistics, blur and downsampling identities, names that round-trip, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import degradations as deg


@pytest.fixture
def images():
    return np.random.default_rng(0).random((6, 28, 28, 1)).astype(np.float32)


@pytest.mark.parametrize("name", ["noise_0.3", "salt_pepper_10", "missing_50", "hole_12", "hole_12_random",
                                  "strokes_3", "blur", "down_2", "down_4"])
def test_same_seed_same_damage_and_valid_images(name, images):
    degradation = deg.get_degradation(name)
    first, second = degradation.apply(images, seed=3), degradation.apply(images, seed=3)
    np.testing.assert_array_equal(first.images, second.images)
    assert first.images.dtype == np.float32 and first.images.min() >= 0 and first.images.max() <= 1
    assert (first.mask is None) == (not degradation.has_mask)
    if first.mask is not None:
        np.testing.assert_array_equal(first.mask, second.mask)
        assert first.mask.shape == images.shape[:3] + (1,) and set(np.unique(first.mask)) <= {0.0, 1.0}
        np.testing.assert_array_equal(first.images[first.mask == 0], 0.0)  # missing pixels are zeroed
    if degradation.kind in ("noise", "salt_pepper", "missing", "hole_random", "strokes") or name == "hole_12_random":
        assert not np.array_equal(first.images, degradation.apply(images, seed=4).images)


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.9])
def test_missing_pixels_cover_exactly_the_fraction_in_every_image(fraction, images):
    _, mask = deg.remove_random_pixels(images, fraction, seed=1)
    missing_per_image = (mask == 0).sum(axis=(1, 2, 3))
    np.testing.assert_array_equal(missing_per_image, round(fraction * 28 * 28))
    assert not np.array_equal(mask[0], mask[1]) or fraction == 0.0  # positions differ per image


def test_salt_and_pepper_hits_the_fraction_with_both_extremes():
    flat = np.full((4, 28, 28, 1), 0.5, dtype=np.float32)
    damaged = deg.add_salt_and_pepper(flat, 0.2, seed=0)
    hit = damaged != 0.5
    np.testing.assert_array_equal(hit.sum(axis=(1, 2, 3)), round(0.2 * 784))
    assert set(np.unique(damaged[hit])) == {0.0, 1.0}
    assert 0.4 < np.mean(damaged[hit]) < 0.6  # salt and pepper about half each


def test_the_centre_hole_is_exactly_rows_and_columns_8_to_19(images):
    damaged, mask = deg.cut_square_hole(images, 12, "centre")
    expected = np.ones((28, 28), dtype=np.float32)
    expected[8:20, 8:20] = 0.0
    for index in range(len(images)):
        np.testing.assert_array_equal(mask[index, ..., 0], expected)
    np.testing.assert_array_equal(damaged[:, 8:20, 8:20], 0.0)
    np.testing.assert_array_equal(damaged[mask == 1], images[mask == 1])  # the rest is untouched


def test_a_random_hole_is_a_whole_square_inside_the_image(images):
    _, mask = deg.cut_square_hole(images, 10, "random", seed=5)
    corners = set()
    for index in range(len(images)):
        rows, columns = np.nonzero(mask[index, ..., 0] == 0)
        assert len(rows) == 100 and rows.max() - rows.min() == 9 and columns.max() - columns.min() == 9
        corners.add((rows.min(), columns.min()))
    assert len(corners) > 1


def test_strokes_erase_some_but_not_all_pixels(images):
    _, mask = deg.draw_strokes(images, num_strokes=3, width=2, seed=0)
    missing = 1 - mask.mean(axis=(1, 2, 3))
    assert np.all(missing > 0.02) and np.all(missing < 0.6)


def test_gaussian_noise_has_mean_zero_and_std_sigma_before_clipping():
    clean = np.full((20, 28, 28, 1), 0.5, dtype=np.float32)
    difference = deg.add_gaussian_noise(clean, 0.3, seed=0, clip=False) - clean
    assert abs(difference.mean()) < 0.005 and abs(difference.std() - 0.3) < 0.005
    clipped = deg.add_gaussian_noise(clean, 0.3, seed=0)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    np.testing.assert_array_equal(clipped, np.clip(clean + difference, 0, 1))


def test_clipped_noise_on_black_has_the_half_normal_mean():
    black = np.zeros((20, 28, 28, 1), dtype=np.float32)
    noisy = deg.add_gaussian_noise(black, 0.3, seed=1)
    # E[max(0, sigma n)] = sigma / sqrt(2 pi): clipping makes the noise biased
    assert abs(noisy.mean() - 0.3 / np.sqrt(2 * np.pi)) < 0.003


def test_the_psf_sums_to_one_and_blur_keeps_a_constant_image_and_the_mean():
    psf = deg.gaussian_psf(1.5)
    assert psf.shape == (11, 11) and abs(psf.sum() - 1) < 1e-6 and np.allclose(psf, psf.T)
    constant = np.full((2, 28, 28, 1), 0.37, dtype=np.float32)
    np.testing.assert_allclose(deg.gaussian_blur(constant), constant, atol=1e-6)
    rng = np.random.default_rng(0)
    dot = np.zeros((1, 28, 28, 1), dtype=np.float32)
    dot[0, 14, 14, 0] = 1.0
    blurred = deg.gaussian_blur(dot)  # the image of a point is the PSF
    np.testing.assert_allclose(blurred[0, 9:20, 9:20, 0], psf, atol=1e-6)
    images = rng.random((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(deg.gaussian_blur(images).mean(axis=(1, 2, 3)), images.mean(axis=(1, 2, 3)),
                               atol=0.01)


@pytest.mark.parametrize("factor", [2, 4])
def test_downsampling_then_nearest_upsampling_is_exact_on_blockwise_constant_images(factor):
    rng = np.random.default_rng(factor)
    small = rng.random((3, 28 // factor, 28 // factor, 1)).astype(np.float32)
    blocky = deg.upsample(small, factor, "nearest")
    assert blocky.shape == (3, 28, 28, 1)
    np.testing.assert_allclose(deg.downsample(blocky, factor), small, atol=1e-6)
    np.testing.assert_allclose(deg.upsample(deg.downsample(blocky, factor), factor), blocky, atol=1e-6)


def test_downsampling_averages_blocks_and_keeps_the_mean(images):
    small = deg.downsample(images, 2)
    assert small.shape == (6, 14, 14, 1)
    np.testing.assert_allclose(small[:, 0, 0, 0], images[:, :2, :2, 0].mean(axis=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(small.mean(axis=(1, 2, 3)), images.mean(axis=(1, 2, 3)), atol=1e-6)


@pytest.mark.parametrize("method", ["bilinear", "bicubic"])
def test_smooth_upsampling_reproduces_constant_images_and_stays_in_range(method):
    constant = np.full((1, 7, 7, 1), 0.6, dtype=np.float32)
    np.testing.assert_allclose(deg.upsample(constant, 4, method), 0.6, atol=1e-5)
    images = np.random.default_rng(1).random((2, 7, 7, 1)).astype(np.float32)
    enlarged = deg.upsample(images, 4, method)
    assert enlarged.shape == (2, 28, 28, 1) and enlarged.min() >= 0 and enlarged.max() <= 1


@pytest.mark.parametrize("name", deg.BENCHMARK_DEGRADATIONS + ("salt_pepper_10", "hole_8_random", "strokes_3",
                                                               "blur_2"))
def test_names_round_trip(name):
    degradation = deg.get_degradation(name)
    assert degradation.name == name and deg.get_degradation(degradation) is degradation
    assert degradation.description


@pytest.mark.parametrize("name", ["noise", "noise_-1", "gauss_0.3", "missing_150", "down_1", "down_2.5",
                                  "blur_0", "noise_0.3_random", 3])
def test_bad_names_raise_a_clear_value_error(name):
    with pytest.raises(ValueError, match="degradation|level|factor|percentage|holes|positive"):
        deg.get_degradation(name)


def test_bad_inputs_raise_clear_value_errors(images):
    with pytest.raises(ValueError, match="fraction"):
        deg.remove_random_pixels(images, 1.5)
    with pytest.raises(ValueError, match="sigma"):
        deg.add_gaussian_noise(images, -0.1)
    with pytest.raises(ValueError, match="at most the image side"):
        deg.cut_square_hole(images, 30)
    with pytest.raises(ValueError, match="hole position"):
        deg.cut_square_hole(images, 12, "corner")
    with pytest.raises(ValueError, match="multiples of factor"):
        deg.downsample(images[:, :27, :27], 2)
    with pytest.raises(ValueError, match="seed"):
        deg.add_gaussian_noise(images, 0.1, seed=-1)
    with pytest.raises(ValueError, match="must lie in"):
        deg.add_gaussian_noise(images * 255, 0.1)
    with pytest.raises(ValueError, match="mask must hold only 0"):
        deg.apply_mask(images, np.full((6, 28, 28, 1), 0.5))
    with pytest.raises(ValueError, match="batch of images"):
        deg.gaussian_blur(images[0])
