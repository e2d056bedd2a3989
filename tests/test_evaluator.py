"""course_lib.evaluator: the shipped frozen evaluator and its contracts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_lib import data, evaluator
from tests.conftest import flip_byte


@pytest.fixture(scope="module")
def mnist():
    return data.load_dataset("mnist", source="subset", verbose=False)


@pytest.fixture(scope="module")
def judge():
    loaded, manifest = evaluator.load_evaluator()
    assert loaded.manifest is manifest
    return loaded


def test_shipped_evaluator_reproduces_its_manifest_accuracy(judge, mnist):
    accuracy = judge.accuracy(mnist.x_test, mnist.y_test)
    assert accuracy == pytest.approx(judge.manifest["metrics"]["held_out_accuracy"], abs=1e-4)
    assert accuracy >= 0.985


def test_outputs_have_their_shapes_and_agree(judge, mnist):
    images = mnist.x_test[:1200]
    features, probabilities, logits = judge.features(images), judge.probabilities(images), judge.logits(images)
    assert features.shape == (1200, judge.manifest["metrics"]["feature_dim"]) and (features >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), logits.argmax(axis=1))
    np.testing.assert_array_equal(judge.predict_labels(images), logits.argmax(axis=1))


def test_scores_do_not_depend_on_the_batch_size(judge, mnist):
    small_batches = evaluator.Evaluator(judge.model, judge.manifest, batch_size=77)
    np.testing.assert_allclose(small_batches.features(mnist.x_test[:300]), judge.features(mnist.x_test[:300]),
                               rtol=1e-4, atol=1e-4)


def test_inference_is_deterministic(judge, mnist):
    np.testing.assert_array_equal(judge.logits(mnist.x_test[:100]), judge.logits(mnist.x_test[:100]))


def test_fid_floor_and_noise_against_the_manifest(judge, mnist):
    assert judge.fid(mnist.x_test, mnist.x_test) == pytest.approx(0.0, abs=1e-3)
    floor = judge.fid(mnist.x_train[:2000], mnist.x_test)
    assert floor == pytest.approx(judge.manifest["metrics"]["fid_floor_2000_vs_2000"], rel=1e-3)
    noise = np.random.default_rng(0).random((500, 28, 28, 1), dtype=np.float32)
    assert judge.fid(noise, mnist.x_test) > 100 * floor


def test_recognition_rate_of_clean_digits_is_the_accuracy(judge, mnist):
    rate = judge.recognition_rate(mnist.x_test, mnist.y_test, clean_images=mnist.x_test)
    assert rate.accuracy == pytest.approx(judge.manifest["metrics"]["held_out_accuracy"], abs=1e-4)
    assert rate.relative == pytest.approx(1.0)


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 32, 32, 1), np.float32), "28x28"),
    (np.zeros((2, 28, 28, 3), np.float32), "1 channel"),
    (np.full((2, 28, 28, 1), 2.0, np.float32), r"\[0.0, 1.0\]"),
    (np.full((2, 28, 28, 1), 255, np.uint8), "divide uint8 images by 255"),
    (np.zeros((28, 28, 1), np.float32), "shape"),
])
def test_bad_images_are_rejected_clearly(judge, images, message):
    with pytest.raises(ValueError, match=message):
        judge.features(images)


def test_corrupted_weights_are_caught(data_copy):
    flip_byte(data_copy / "pretrained" / "evaluator.weights.h5", offset=-100)
    with pytest.raises(ValueError, match="sha256"):
        evaluator.load_evaluator()


def test_manifest_config_round_trips_to_the_default_configuration(judge):
    config = {key: tuple(value) if isinstance(value, list) else value
              for key, value in judge.manifest["config"].items()}
    assert evaluator.EvaluatorConfig(**config) == evaluator.EvaluatorConfig()


def test_one_real_training_epoch_through_resumable_fit(mnist, tmp_path):
    config = dataclasses.replace(evaluator.EvaluatorConfig(), filters=(4, 8), feature_dim=16, epochs=1, batch_size=64)
    built = evaluator.build_evaluator(config)
    model, history = evaluator.train_evaluator(config, mnist.x_train[:256], mnist.y_train[:256], model=built,
                                               workdir=tmp_path, verbose=0)
    assert model is built and len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    assert evaluator.Evaluator(model).features(mnist.x_test[:5]).shape == (5, 16)


@pytest.mark.parametrize("labels, message", [
    (np.array(["7", "2"]), "integer class indices"),
    (np.array([7.0, 2.0]), "integer class indices"),
    (np.array([True, False]), "integer class indices"),
    (np.array([7, 10]), r"class indices in \[0, 10\)"),
    (np.array([-1, 2]), r"class indices in \[0, 10\)"),
    (np.array([7]), r"shape \(2,\)"),
])
def test_accuracy_and_recognition_rate_refuse_bad_labels_with_one_message(judge, mnist, labels, message):
    from course_lib import metrics

    images = mnist.x_test[:2]
    with pytest.raises(ValueError, match=message) as from_accuracy:
        judge.accuracy(images, labels)
    with pytest.raises(ValueError, match=message) as from_metrics:
        metrics.recognition_rate(judge.probabilities(images), labels)
    assert str(from_accuracy.value) == str(from_metrics.value)


def test_course_data_dir_pointing_nowhere_stops_before_any_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="COURSE_DATA_DIR is set to .*not a folder"):
        evaluator.load_evaluator()
    assert "Training" not in capsys.readouterr().out
