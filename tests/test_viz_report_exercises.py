"""course_lib.viz, course_lib.report and course_lib.exercises."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from course_lib import exercises, report, solutions, viz


@pytest.fixture
def images():
    return np.random.default_rng(0).random((12, 28, 28, 1), dtype=np.float32)


def test_figures_have_one_panel_per_image_and_never_touch_pyplot(images):
    import matplotlib.pyplot as plt

    grid = viz.image_grid(images, num_columns=5, titles=list(range(12)))
    assert len(grid.axes) == 15  # 3 rows of 5, three left empty
    assert sum(axis.has_data() for axis in grid.axes) == 12
    comparison = viz.compare_images({"clean": images, "noisy": images}, num_images=4)
    assert len(comparison.axes) == 8
    classes = viz.class_grid(images, np.arange(12) % 3, ["a", "b", "c"], per_class=4)
    assert len(classes.axes) == 12
    curves = viz.plot_history({"loss": [3, 2, 1], "val_loss": [3, 2.5, 2], "fid": [9, 5, 4]},
                              baselines={"fid": ("floor", 1.2)}, units={"loss": "MSE"})
    assert len(curves.axes) == 2 and len(curves.axes[0].lines) == 2
    assert [axis.get_ylabel() for axis in curves.axes] == ["MSE", "fid"]
    assert plt.get_fignums() == []
    assert grid._repr_png_().startswith(b"\x89PNG")


@pytest.mark.parametrize("call, message", [
    (lambda x: viz.image_grid(x[0]), "shape"),
    (lambda x: viz.image_grid(x * 255), r"\[0.0, 1.0\]"),
    (lambda x: viz.image_grid(x, titles=["one"]), "one entry per image"),
    (lambda x: viz.compare_images({"a": x, "b": x[:3]}), "same number"),
    (lambda x: viz.compare_images({}), "at least one"),
    (lambda x: viz.plot_history({"loss": [1]}, keys=["fid"]), "Unknown metric"),
    (lambda x: viz.class_grid(x, np.zeros(3), ["a"]), "labels must have shape"),
])
def test_figures_reject_bad_input_clearly(images, call, message):
    with pytest.raises(ValueError, match=message):
        call(images)


def test_headline_carries_its_reference(capsys):
    record = report.headline("accuracy", 0.98765, unit="", reference="clean digits: 0.99")
    assert record["text"] == "accuracy: 0.9877 (clean digits: 0.99)"
    assert "accuracy: 0.9877" in capsys.readouterr().out
    with pytest.raises(ValueError, match="label"):
        report.headline("", 1.0)


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_every_reference_solution_passes_its_own_check(name):
    result = exercises.check(name, exercises.EXERCISES[name].reference, num_cases=10, seed=1, verbose=False)
    assert result.passed, result.message


def test_reference_solutions_are_right_on_hand_made_cases():
    raw = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    np.testing.assert_allclose(solutions.to_unit_range(raw)[0, :, :, 0], [[0, 1], [0.2, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(solutions.class_frequencies(np.array([0, 0, 2, 2]), 4), [0.5, 0, 0.5, 0])
    images = np.arange(4, dtype=np.float32).reshape(4, 1, 1, 1)
    np.testing.assert_allclose(solutions.mean_image_per_class(images, np.array([0, 1, 0, 1]), 2).ravel(), [1, 2])


def test_stub_is_not_attempted_and_wrong_answers_get_a_hint():
    def stub(raw_images):
        raise NotImplementedError

    assert exercises.check("to_unit_range", stub, verbose=False).status == "not attempted"
    forgot_channel = exercises.check("to_unit_range", lambda raw: raw.astype(np.float32) / 255, verbose=False)
    assert forgot_channel.status == "wrong" and "shape" in forgot_channel.message
    assert "Hint" in forgot_channel.message
    wrong_dtype = exercises.check("to_unit_range", lambda raw: (raw / 255)[..., None], verbose=False)
    assert wrong_dtype.status == "wrong" and "dtype" in wrong_dtype.message
    crashing = exercises.check("class_frequencies", lambda labels, num_classes: [][0], verbose=False)
    assert crashing.status == "wrong" and "raised" in crashing.message


def test_unknown_exercise_and_solution_listing():
    with pytest.raises(ValueError, match="Unknown exercise"):
        exercises.check("no_such_exercise", print)
    assert "def to_unit_range" in exercises.show_solution("to_unit_range")


def test_confusion_matrix_figure_writes_every_nonzero_count():
    counts = np.array([[5, 1, 0], [0, 7, 0], [2, 0, 3]])
    figure = viz.plot_confusion_matrix(counts, ["a", "b", "c"])
    assert sorted(text.get_text() for text in figure.axes[0].texts) == sorted(["5", "1", "7", "2", "3"])
    with pytest.raises(ValueError, match="square matrix"):
        viz.plot_confusion_matrix(counts[:2], ["a", "b", "c"])


def test_slerp_keeps_the_radius_and_hits_both_ends():
    rng = np.random.default_rng(0)
    start, end = rng.normal(size=16), rng.normal(size=16)
    end *= np.linalg.norm(start) / np.linalg.norm(end)
    path = solutions.slerp(start, end, 7)
    np.testing.assert_allclose(path[0], start, rtol=1e-5)
    np.testing.assert_allclose(path[-1], end, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(start), rtol=1e-5)
    assert solutions.class_balance_ratio(np.array([0, 0, 1, 2, 2, 2]), 3) == 3.0
    assert solutions.class_balance_ratio(np.array([0, 1]), 3) == float("inf")


# The reference solutions of notebooks 01 and 12 against independent references (a check of a
# solution against itself would pass whatever it computed).

@pytest.mark.parametrize("input_size, kernel_size, stride, padding", [
    (28, 3, 1, "valid"), (28, 5, 2, "valid"), (28, 5, 2, "same"), (27, 4, 3, "same"), (9, 9, 1, "valid"),
    (7, 2, 2, "valid"), (7, 1, 3, "same"),
])
def test_conv2d_output_size_matches_keras(input_size, kernel_size, stride, padding):
    from keras import ops

    output = ops.conv(np.zeros((1, input_size, input_size, 1), np.float32),
                      np.zeros((kernel_size, kernel_size, 1, 1), np.float32), strides=stride, padding=padding)
    assert solutions.conv2d_output_size(input_size, kernel_size, stride, padding) == ops.shape(output)[1]


def test_softmax_matches_scipy_even_for_huge_logits():
    from scipy.special import softmax as scipy_softmax

    logits = np.random.default_rng(0).normal(size=(5, 7)) * np.array([[1], [10], [100], [1000], [1e4]])
    np.testing.assert_allclose(solutions.softmax(logits), scipy_softmax(logits, axis=1), rtol=1e-10, atol=1e-300)


def test_confusion_matrix_counts_repeated_pairs():
    true = np.array([0, 0, 0, 1, 2, 2])
    predicted = np.array([0, 0, 1, 1, 0, 2])
    np.testing.assert_array_equal(solutions.confusion_matrix(true, predicted, 3),
                                  [[2, 1, 0], [0, 1, 0], [1, 0, 1]])


def test_pooled_psnr_is_psnr_of_the_mean_squared_error():
    from course_lib import metrics

    rng = np.random.default_rng(1)
    references = rng.random((6, 8, 8, 1), dtype=np.float32)
    images = np.clip(references + rng.normal(scale=[[[[0.01]]], [[[0.3]]]] * 3, size=references.shape), 0, 1)
    images = images.astype(np.float32)
    pooled = solutions.pooled_psnr(images, references)
    assert pooled == pytest.approx(10 * np.log10(1 / metrics.mse(images, references)), rel=1e-5)
    assert pooled < metrics.psnr(images, references)  # the average of per-image PSNRs is larger here


def test_frechet_distance_1d_matches_the_library_on_exact_moments():
    from course_lib import metrics

    standard = np.random.default_rng(2).normal(size=5000)
    standard = (standard - standard.mean()) / standard.std(ddof=1)  # sample moments exactly 0 and 1
    features_a, features_b = (1.0 + 2.0 * standard)[:, None], (-0.5 + 0.5 * standard)[:, None]
    assert solutions.frechet_distance_1d(1.0, 4.0, -0.5, 0.25) == pytest.approx(
        metrics.frechet_distance(features_a, features_b), rel=1e-6)


@pytest.mark.parametrize("chose_a, votes", [(50, 100), (60, 100), (18, 100), (0, 10), (7, 9)])
def test_binomial_p_value_matches_scipy(chose_a, votes):
    from scipy.stats import binomtest

    assert solutions.two_sided_binomial_p_value(chose_a, votes) == pytest.approx(
        binomtest(chose_a, votes, 0.5).pvalue, rel=1e-9)


def _p_value_without_the_cap(num_chose_a, num_votes):
    tail = min(num_chose_a, num_votes - num_chose_a)
    return 2 * sum(math.comb(num_votes, count) for count in range(tail + 1)) / 2 ** num_votes


def _discriminator_dividing_inside_where(p_data, p_generator):
    total = p_data + p_generator
    return np.where(total > 0, p_data / total, 0.5)  # right values, but 0 / 0 warns


def _generator_loss_overflowing(restored, clean, fake_logits, adversarial_weight):
    adversarial = np.mean(np.log(1 + np.exp(-fake_logits)))  # inf once -l exceeds about 710
    return float(np.mean(np.abs(restored - clean)) + adversarial_weight * adversarial)


@pytest.mark.parametrize("name, mistake", [
    ("two_sided_binomial_p_value", _p_value_without_the_cap),
    ("optimal_discriminator", _discriminator_dividing_inside_where),
    ("pix2pix_generator_loss", _generator_loss_overflowing),
])
def test_checks_reject_a_missing_cap_a_warning_and_an_overflow_on_every_seed(name, mistake):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflowing mistake warns as it fails
        assert not any(exercises.check(name, mistake, seed=seed, verbose=False).passed for seed in range(100))
    assert all(exercises.check(name, getattr(solutions, name), seed=seed, verbose=False).passed for seed in range(100))


def test_the_warning_check_names_the_floating_point_error_and_leaves_warnings_as_they_were():
    filters_before = list(warnings.filters)
    result = exercises.check("optimal_discriminator", _discriminator_dividing_inside_where, verbose=False)
    assert result.status == "wrong" and "FloatingPointError" in result.message
    assert warnings.filters == filters_before and np.geterr()["invalid"] == "warn"
    assert _p_value_without_the_cap(50, 100) > 1 and solutions.two_sided_binomial_p_value(50, 100) == 1.0


def _early_stopping_ties_improve(validation_losses, patience):
    best = 0
    for epoch in range(len(validation_losses)):
        if validation_losses[epoch] <= validation_losses[best]:  # a tie is not an improvement
            best = epoch
        if epoch - best >= patience:
            return epoch + 1, best + 1
    return len(validation_losses), best + 1


def _fastest_without_tie_break(quality, milliseconds, minimum_quality):
    kept = np.flatnonzero(quality >= minimum_quality)
    return -1 if kept.size == 0 else int(kept[np.argmin(milliseconds[kept])])


def _fastest_strictly_above(quality, milliseconds, minimum_quality):
    return solutions.fastest_good_enough(quality, milliseconds, np.nextafter(minimum_quality, np.inf))


@pytest.mark.parametrize("name, mistake", [
    ("early_stopping", _early_stopping_ties_improve),
    ("early_stopping", lambda losses, patience: (solutions.early_stopping(losses, patience)[0],
                                                 int(np.argmin(losses)) + 1)),  # best over the whole curve
    ("fastest_good_enough", _fastest_without_tie_break),
    ("fastest_good_enough", _fastest_strictly_above),
])
def test_notebook_10_checks_reject_plausible_mistakes_on_every_seed(name, mistake):
    assert not any(exercises.check(name, mistake, seed=seed, verbose=False).passed for seed in range(20))
    assert all(exercises.check(name, getattr(solutions, name), seed=seed, verbose=False).passed for seed in range(20))


def test_plot_history_titles_panels_by_metric_but_not_a_single_panel_under_a_figure_title():
    several = viz.plot_history({"loss": [3, 2], "fid": [9, 5]}, title="Training")
    assert [axis.get_title() for axis in several.axes] == ["loss", "fid"]
    single = viz.plot_history({"loss": [3, 2], "val_loss": [3, 2.5]}, keys=["loss"], title="U-Net on 500 digits")
    assert [axis.get_title() for axis in single.axes] == [""]
    assert single._suptitle.get_text() == "U-Net on 500 digits"
    untitled = viz.plot_history({"loss": [3, 2]})
    assert [axis.get_title() for axis in untitled.axes] == ["loss"]
