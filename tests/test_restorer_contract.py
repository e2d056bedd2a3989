"""The restorer contract (course_lib.restorer): a restorer refuses a degradation it cannot
handle and says so, matches exact degradation names only (never as substrings), and trusts
neither side of its function: bad damaged batches (NaN, 0-255, no mask where one is needed) and
bad results (wrong shape, NaN, 0-255) are clear errors naming the restorer, never a silent
answer."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import data
from course_lib import degradations as deg
from course_lib import restoration
from course_lib.restorer import Restorer


@pytest.fixture(scope="module")
def digits():
    dataset = data.load_dataset("mnist", source="subset", verbose=False)
    return dataset.x_train[:12], dataset.y_train[:12]


def test_a_restorer_refuses_what_it_cannot_handle_and_says_so(digits):
    damaged = deg.get_degradation("hole_12").apply(digits[0])
    with pytest.raises(ValueError, match="total variation cannot restore 'hole_12'.*handles: noise"):
        restoration.total_variation()(damaged)
    with pytest.raises(ValueError, match="Damaged batch"):
        restoration.biharmonic()(digits[0])
    assert restoration.biharmonic().can_restore("missing_50") and not restoration.biharmonic().can_restore("blur")
    broken = Restorer("broken", lambda damaged: damaged.images[0], ("hole",))
    with pytest.raises(ValueError, match=r"broken must return a batch \(N, H, W, C\) of shape \(12, 28, 28, 1\)"):
        broken(damaged)


def test_a_restorer_can_name_exact_degradations():
    only_sigma_03 = Restorer("oracle", lambda damaged: damaged.images, ("noise_0.3",))
    assert only_sigma_03.can_restore("noise_0.3") and not only_sigma_03.can_restore("noise_0.1")


def identity(damaged):
    return damaged.images


# ------------------------------------------------------------- what a restorer is given

def test_nan_in_the_damaged_images_is_refused_not_passed_through(digits):
    damaged = deg.get_degradation("noise_0.3").apply(digits[0], seed=0)
    images = damaged.images.copy()
    images[0, 3, 4, 0] = np.nan
    for restorer in (restoration.total_variation(), Restorer("oracle", identity, ("noise",))):
        with pytest.raises(ValueError, match=f"damaged images given to {restorer.name} contains NaN"):
            restorer(damaged._replace(images=images))


def test_images_on_the_0_255_scale_are_refused_not_clipped(digits):
    damaged = deg.get_degradation("hole_12").apply(digits[0], seed=0)
    with pytest.raises(ValueError, match=r"biharmonic inpainting must lie in \[0.0, 1.0\]"):
        restoration.biharmonic()(damaged._replace(images=damaged.images * 255))
    with pytest.raises(ValueError, match="float images in \\[0, 1\\], got dtype uint8; divide 0-255 images by 255"):
        restoration.biharmonic()(damaged._replace(images=(damaged.images * 255).astype(np.uint8)))


def test_a_degradation_that_removes_pixels_needs_its_mask(digits):
    damaged = deg.get_degradation("hole_12").apply(digits[0], seed=0)
    without_mask = damaged._replace(mask=None)
    with pytest.raises(ValueError, match="mean-image fill: 'hole_12' damages pixels.*got mask=None"):
        restoration.mean_image_fill(digits[0])(without_mask)
    with pytest.raises(ValueError, match=r"mask given to biharmonic inpainting must have shape \(12, 28, 28, 1\)"):
        restoration.biharmonic()(damaged._replace(mask=damaged.mask[:, :20]))
    with pytest.raises(ValueError, match="only 0 \\(missing pixel\\) and 1 \\(known pixel\\)"):
        restoration.biharmonic()(damaged._replace(mask=damaged.mask * 0.5))


def test_the_unet_without_a_mask_is_an_error_not_the_input_returned_unchanged(digits):
    from course_lib import learned_restoration

    unet = learned_restoration.build_unet(filters=4, levels=2, paste_known=True)
    damaged = deg.get_degradation("hole_12").apply(digits[0][:2], seed=0)
    with pytest.raises(ValueError, match="removes pixels, so the U-Net needs the mask"):
        learned_restoration.model_inputs(damaged._replace(mask=None), "unet")
    restorer = learned_restoration.learned_restorer(unet, "unet", ("hole_12",))
    with pytest.raises(ValueError, match="U-Net: 'hole_12' damages pixels"):
        restorer(damaged._replace(mask=None))
    restored = restorer(damaged)
    assert not np.array_equal(restored, damaged.images)  # the hole is filled, not returned as zeros


def test_a_degradation_given_by_name_is_the_same_as_the_object(digits):
    damaged = deg.get_degradation("noise_0.3").apply(digits[0][:2], seed=0)
    by_name = deg.Damaged(damaged.images, damaged.mask, "noise_0.3")
    np.testing.assert_array_equal(restoration.median()(by_name), restoration.median()(damaged))


# ------------------------------------------------------------- what its function returns

@pytest.mark.parametrize("bad_result, message", [
    (lambda damaged: damaged.images[:, 1:], r"of shape \(12, 28, 28, 1\), the shape of the clean images, got shape \(12, 27, 28, 1\)"),
    (lambda damaged: np.full_like(damaged.images, np.nan), "returned NaN or infinite values"),
    (lambda damaged: damaged.images * 255, r"must return images in \[0, 1\], got values in \[0, 255\]"),
    (lambda damaged: damaged.images - 0.5, r"must return images in \[0, 1\], got values in \[-0.5"),
    (lambda damaged: "restored", "must return an array of images"),
])
def test_a_result_of_the_wrong_shape_nan_or_scale_is_refused(bad_result, message, digits):
    damaged = deg.get_degradation("noise_0.3").apply(digits[0], seed=0)
    with pytest.raises(ValueError, match=message) as error:
        Restorer("bad", bad_result, ("noise",))(damaged)
    assert str(error.value).startswith("bad ")  # the message names the restorer


def test_low_resolution_results_have_the_size_of_the_clean_images(digits):
    damaged = deg.get_degradation("down_4").apply(digits[0], seed=0)      # (12, 7, 7, 1)
    with pytest.raises(ValueError, match=r"of shape \(12, 28, 28, 1\).*got shape \(12, 7, 7, 1\)"):
        Restorer("no enlargement", identity, ("down",))(damaged)
    assert restoration.interpolation("bicubic")(damaged).shape == digits[0].shape


def test_round_off_beyond_the_range_is_clipped_and_nothing_else_changes(digits):
    damaged = deg.get_degradation("noise_0.3").apply(digits[0], seed=0)
    nudged = Restorer("nudged", lambda damaged: damaged.images * (1 + 1e-5), ("noise",))(damaged)
    assert nudged.max() <= 1.0
    np.testing.assert_allclose(nudged, damaged.images, atol=2e-5)


# ------------------------------------------------------------- handles: names, never substrings

def test_handles_given_as_a_string_is_a_type_error_not_a_substring_match():
    with pytest.raises(TypeError, match=r"handles must be a tuple of degradation kinds or names.*'hole_12'"):
        Restorer("hole filler", identity, "hole_12")


def test_an_exact_name_claims_only_that_degradation():
    hole_12 = Restorer("hole filler", identity, ("hole_12",))
    assert hole_12.can_restore("hole_12") and not hole_12.can_restore("hole_3")
    noise_03 = Restorer("denoiser", identity, ["noise_0.3"])
    assert noise_03.handles == ("noise_0.3",)
    assert noise_03.can_restore("noise_0.3") and not noise_03.can_restore("noise_0.5")
    assert Restorer("denoiser", identity, ("noise_0.30",)).can_restore("noise_0.3")  # canonical names


def test_handles_entries_must_be_degradation_kinds_or_names():
    with pytest.raises(ValueError, match="handles entry 'holes' is neither a degradation kind"):
        Restorer("typo", identity, ("holes",))
    with pytest.raises(ValueError, match="at least one"):
        Restorer("nothing", identity, ())
    with pytest.raises(TypeError, match="each entry of handles"):
        Restorer("numbers", identity, (12,))


def test_learned_restorer_does_not_split_a_name_into_characters():
    from course_lib import learned_restoration

    unet = learned_restoration.build_unet(filters=4, levels=2)
    with pytest.raises(TypeError, match="handles must be a tuple"):
        learned_restoration.learned_restorer(unet, "unet", "hole_12")
    assert learned_restoration.learned_restorer(unet, "unet", ("hole_12",)).handles == ("hole_12",)


def test_restorer_fields_are_checked():
    with pytest.raises(TypeError, match="function must be callable"):
        Restorer("not a function", "identity", ("noise",))
    with pytest.raises(ValueError, match="slow must be True or False"):
        Restorer("flag", identity, ("noise",), slow="no")
