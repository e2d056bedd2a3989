"""The restoration benchmark (course_lib.benchmark): its numbers equal direct metric calls, it
skips what a restorer cannot do, runs slow restorers on fewer digits when asked, and refuses bad
input."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import data, metrics
from course_lib import degradations as deg
from course_lib import restoration
from course_lib.benchmark import benchmark, format_table
from course_lib.restorer import Restorer


@pytest.fixture(scope="module")
def digits():
    dataset = data.load_dataset("mnist", source="subset", verbose=False)
    return dataset.x_train[:12], dataset.y_train[:12]


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
    slow_identity = Restorer("slow identity", lambda damaged: damaged.images, ("blur",), slow=True)
    result = benchmark([restoration.damaged_input(), restoration.wiener(), slow_identity], images, labels,
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
    table = format_table(result)
    assert "Wiener deconvolution" in table and "evaluator accuracy" in table


def test_the_benchmark_rejects_bad_input(digits):
    images, labels = digits
    with pytest.raises(ValueError, match="labels must have shape"):
        benchmark([restoration.damaged_input()], images, labels[:3], evaluator=FakeEvaluator())
    with pytest.raises(TypeError, match="Restorer objects, got function among them"):
        benchmark([lambda damaged: damaged.images], images, labels, evaluator=FakeEvaluator())
    with pytest.raises(ValueError, match="non-empty"):
        benchmark([], images, labels, evaluator=FakeEvaluator())


def test_the_benchmark_says_to_wrap_a_single_restorer_in_a_list(digits):
    images, labels = digits
    with pytest.raises(TypeError, match=r"got the single restorer 'Wiener deconvolution'; pass \[restorer\]"):
        benchmark(restoration.wiener(), images, labels, evaluator=FakeEvaluator())


def test_the_benchmark_refuses_a_single_degradation_name_and_an_unknown_score(digits):
    images, labels = digits
    with pytest.raises(TypeError, match=r"degradations must be a list of degradation names, got 'blur'; pass \['blur'\]"):
        benchmark([restoration.wiener()], images, labels, degradations="blur", evaluator=FakeEvaluator())
    result = benchmark([restoration.damaged_input(), restoration.wiener()], images, labels, degradations=["blur"],
                       evaluator=FakeEvaluator(), verbose=False)
    with pytest.raises(ValueError, match="key must be a score where higher is better"):
        result.best("blur", key="fid")   # lower is better: max() would pick the worst
