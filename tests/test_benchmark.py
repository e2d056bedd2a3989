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
    assert "on 12 clean held-out digits" in table
    garments = format_table(result, items="garments")
    assert "on 12 clean held-out garments" in garments and "digits" not in garments
    with pytest.raises(ValueError, match="items must name the images"):
        format_table(result, items="")


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


def _small_result():
    from course_lib.benchmark import BenchmarkResult, BenchmarkRow

    rows = (BenchmarkRow("hole_12", "U-Net (MSE)", 500, 21.07, 0.857, 0.936, 0.945, 3.58, 0.0004),
            BenchmarkRow("hole_12", "cGAN lambda=0.1 (sweep)", 500, 20.31, 0.84, 0.93, 0.94, 2.14, float("nan")))
    return BenchmarkResult(rows, {500: 0.99}, {500: 1.9}, 12.5)


def test_a_saved_benchmark_result_round_trips_with_its_extra_keys(tmp_path):
    import math

    from course_lib.benchmark import load_result, save_result

    original = _small_result()
    path = save_result(original, tmp_path / "out" / "result.json", command="python x.py", slow_images=200)
    loaded, extra = load_result(path)
    assert loaded.rows[0] == original.rows[0]
    assert math.isnan(loaded.rows[1].seconds_per_image) and loaded.rows[1][:-1] == original.rows[1][:-1]
    assert loaded.clean_accuracy == {500: 0.99} and loaded.fid_floor == {500: 1.9} and loaded.seconds == 12.5
    assert extra == {"command": "python x.py", "slow_images": 200}
    assert "NaN" not in path.read_text()                      # strict JSON: an untimed row is null
    assert format_table(loaded).splitlines()[3].rstrip().endswith("-")


def test_loading_a_benchmark_result_names_what_is_wrong(tmp_path):
    import json

    from course_lib.benchmark import load_result, save_result

    with pytest.raises(FileNotFoundError, match="restoration_benchmark.py --output"):
        load_result(tmp_path / "missing.json")
    path = save_result(_small_result(), tmp_path / "result.json")
    document = json.loads(path.read_text())
    document["rows"][0]["psnr"] = "high"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="not a finite number"):
        load_result(path)
    del document["rows"][0]["psnr"]
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="expected"):
        load_result(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a benchmark result"):
        load_result(path)
    with pytest.raises(ValueError, match="must not replace"):
        save_result(_small_result(), tmp_path / "again.json", rows=[])
    with pytest.raises(TypeError, match="BenchmarkResult"):
        save_result({"rows": []}, tmp_path / "again.json")
