"""degradations.linear_operator: the linear part of each degradation and its exact transpose."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

from course_lib import degradations as deg

RNG = np.random.default_rng(0)
IMAGES = RNG.random((3, 28, 28, 1)).astype(np.float32)


@pytest.mark.parametrize("name", ["noise_0.3", "blur", "blur_0.7", "blur_4", "down_2", "down_4", "hole_12",
                                  "missing_50"])
def test_the_adjoint_is_the_transpose(name):
    degradation = deg.get_degradation(name)
    mask = degradation.apply(IMAGES, seed=1).mask
    apply, adjoint = deg.linear_operator(degradation, mask)
    x = RNG.standard_normal(IMAGES.shape)
    y = RNG.standard_normal(apply(x).shape)
    assert np.sum(apply(x) * y) == pytest.approx(np.sum(x * adjoint(y)), rel=1e-10)


@pytest.mark.parametrize("name", ["blur", "down_2", "down_4", "noise_0.3", "hole_12"])
def test_the_operator_is_the_degradation_without_its_noise(name):
    degradation = deg.get_degradation(name)
    damaged = degradation.apply(IMAGES, seed=1)
    apply, _ = deg.linear_operator(degradation, damaged.mask)
    if degradation.kind == "noise":
        np.testing.assert_array_equal(apply(IMAGES), IMAGES)
    else:
        np.testing.assert_allclose(apply(IMAGES), damaged.images, atol=1e-6)
    assert apply(IMAGES).dtype == np.float64


@pytest.mark.parametrize("name", ["blur", "down_2", "down_4", "noise_0.3"])
def test_the_operator_commutes_with_the_map_to_minus_one_one(name):
    # a model restores in [-1, 1]: A(2x - 1) = 2 A x - 1, since each keeps constants (the PSF sums to 1)
    apply, _ = deg.linear_operator(name)
    np.testing.assert_allclose(apply(2.0 * IMAGES - 1.0), 2.0 * apply(IMAGES) - 1.0, atol=1e-6)


def test_the_blur_transpose_holds_when_the_psf_is_wider_than_the_image():
    small = RNG.standard_normal((2, 8, 8, 1))
    apply, adjoint = deg.linear_operator("blur_4")                  # radius 12 > 8: the border reflects again
    y = RNG.standard_normal((2, 8, 8, 1))
    np.testing.assert_allclose(apply(small), scipy.ndimage.convolve(small, deg.gaussian_psf(4.0)[None, :, :, None]
                                                                    .astype(np.float64), mode="reflect"))
    assert np.sum(apply(small) * y) == pytest.approx(np.sum(small * adjoint(y)), rel=1e-10)


def test_blur_and_downsample_give_what_they_gave_before_the_operator_was_shared():
    psf = deg.gaussian_psf(1.5)
    np.testing.assert_array_equal(deg.gaussian_blur(IMAGES),
                                  scipy.ndimage.convolve(IMAGES, psf[None, :, :, None], mode="reflect")
                                  .astype(np.float32))
    np.testing.assert_array_equal(deg.downsample(IMAGES, 4),
                                  IMAGES.reshape(3, 7, 4, 7, 4, 1).mean(axis=(2, 4)).astype(np.float32))


def test_operators_refuse_what_they_cannot_describe():
    with pytest.raises(ValueError, match="not y = A x"):
        deg.linear_operator("salt_pepper_10")
    with pytest.raises(ValueError, match="needs the mask"):
        deg.linear_operator("hole_12")
    with pytest.raises(ValueError, match="Unknown degradation"):
        deg.linear_operator("jpeg_50")
    with pytest.raises(ValueError, match="only 0 .* and 1"):
        deg.linear_operator("missing_50", np.full((1, 28, 28, 1), 0.5, np.float32))
