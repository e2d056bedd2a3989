"""One judge per dataset: the Fashion-MNIST evaluator, its split, and the error when judge and images differ."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_lib import data, evaluator, training


def fashion_available() -> bool:
    try:
        data.fashion_mnist_dir()
    except FileNotFoundError:
        return False
    return True


needs_fashion = pytest.mark.skipif(not fashion_available(), reason="Fashion-MNIST is not installed (make fashion-mnist)")


@pytest.fixture(scope="module")
def fashion():
    if not fashion_available():
        pytest.skip("Fashion-MNIST is not installed (make fashion-mnist)")
    return data.judged_split("fashion_mnist")


@pytest.fixture(scope="module")
def clothes_judge():
    judge, manifest = evaluator.load_evaluator(dataset="fashion_mnist")
    assert manifest is not None, "the Fashion-MNIST judge is shipped; nothing should train here"
    return judge


def test_every_dataset_has_a_shipped_judge():
    assert set(evaluator.PRETRAINED_NAMES) == set(data.DATASET_NAMES)
    for dataset, name in evaluator.PRETRAINED_NAMES.items():
        assert training.has_shipped_weights(name)
        manifest = training.read_manifest(name)
        assert manifest["config"].get("dataset", "mnist") == dataset
        assert manifest["metrics"]["feature_dim"] == manifest["config"]["feature_dim"]


def test_the_clothes_judge_records_its_data_and_recipe():
    manifest = training.read_manifest("evaluator_fashion_mnist")
    assert manifest["metrics"]["data_sha256"] == data.FASHION_IDX_SHA256
    assert manifest["metrics"]["split"] == evaluator.JUDGED_SPLIT
    assert manifest["command"] == "python -m course_lib.evaluator --train --dataset fashion_mnist"
    recorded = training.config_from_manifest(evaluator.EvaluatorConfig, manifest)
    assert recorded == evaluator.FASHION_CONFIG


@needs_fashion
def test_judged_split_is_stratified_fixed_and_from_the_right_files(fashion):
    assert fashion.x_train.shape == (8000, 28, 28, 1) and fashion.x_test.shape == (2000, 28, 28, 1)
    np.testing.assert_array_equal(np.bincount(fashion.y_train), np.full(10, 800))
    np.testing.assert_array_equal(np.bincount(fashion.y_test), np.full(10, 200))
    again = data.judged_split("fashion_mnist")
    np.testing.assert_array_equal(again.x_test, fashion.x_test)
    full = data.load_fashion_mnist()
    test_rows = {image.tobytes() for image in full.x_test}
    assert all(image.tobytes() in test_rows for image in fashion.x_test[:200])     # held-out = the test file
    assert not any(image.tobytes() in test_rows for image in fashion.x_train[:200])


def test_judged_split_of_mnist_is_the_shipped_subset():
    split = data.judged_split("mnist")
    subset = data.load_dataset("mnist", source="subset", verbose=False)
    np.testing.assert_array_equal(split.x_test, subset.x_test)
    with pytest.raises(ValueError, match="dataset name"):
        data.judged_split("cifar10")


@needs_fashion
def test_clothes_judge_reproduces_its_manifest(clothes_judge, fashion):
    metrics = clothes_judge.manifest["metrics"]
    accuracy = clothes_judge.accuracy(fashion.x_test, fashion.y_test)
    assert accuracy == pytest.approx(metrics["held_out_accuracy"], abs=1e-4)
    assert accuracy >= 0.88
    floor = clothes_judge.fid(fashion.x_train[:2000], fashion.x_test)
    assert floor == pytest.approx(metrics["fid_floor_2000_vs_2000"], rel=1e-3)
    assert clothes_judge.features(fashion.x_test[:10]).shape == (10, metrics["feature_dim"])


@needs_fashion
def test_each_judge_reads_its_own_images_better(clothes_judge, fashion):
    digit_judge, _ = evaluator.load_evaluator()
    digits = data.judged_split("mnist")
    # the digit judge reads clothes near chance, the clothes judge digits too: features are not transferable
    assert digit_judge.accuracy(fashion.x_test, fashion.y_test) < 0.5
    assert clothes_judge.accuracy(digits.x_test, digits.y_test) < 0.5


def test_scoring_one_dataset_with_the_other_judge_is_a_clear_error(clothes_judge):
    digit_judge, _ = evaluator.load_evaluator()
    assert digit_judge.dataset == "mnist" and clothes_judge.dataset == "fashion_mnist"
    digit_judge.check_dataset("mnist")
    clothes_judge.check_dataset("fashion_mnist")
    with pytest.raises(ValueError, match=r"judges 'mnist' images and cannot score 'fashion_mnist'.*"
                                         r"load_evaluator\(dataset='fashion_mnist'\)"):
        digit_judge.check_dataset("fashion_mnist")
    with pytest.raises(ValueError, match="judges 'fashion_mnist' images and cannot score 'mnist'"):
        clothes_judge.check_dataset(data.judged_split("mnist"))          # an ImageDataset names its data
    with pytest.raises(ValueError, match="dataset name"):
        digit_judge.check_dataset("cifar10")


def test_load_evaluator_refuses_unknown_or_contradictory_names():
    with pytest.raises(ValueError, match="dataset name"):
        evaluator.load_evaluator(dataset="cifar10")
    with pytest.raises(ValueError, match="shipped evaluator"):
        evaluator.load_evaluator("evaluator_cifar10")
    with pytest.raises(ValueError, match="judges 'mnist' images, not 'fashion_mnist'"):
        evaluator.load_evaluator("evaluator", dataset="fashion_mnist")
    with pytest.raises(ValueError, match="config differs"):
        evaluator.load_evaluator(dataset="fashion_mnist", config=evaluator.EvaluatorConfig())


def test_config_checks_dataset_and_flip():
    with pytest.raises(ValueError, match="dataset"):
        evaluator.EvaluatorConfig(dataset="cifar10")
    with pytest.raises(ValueError, match="horizontal_flip"):
        evaluator.EvaluatorConfig(horizontal_flip="yes")


def test_flip_is_a_training_only_layer_and_digits_have_none():
    flipped = evaluator.build_evaluator(dataclasses.replace(evaluator.FASHION_CONFIG))
    plain = evaluator.build_evaluator(evaluator.EvaluatorConfig())
    assert any(type(layer).__name__ == "RandomFlip" for layer in flipped.layers)
    assert not any(type(layer).__name__ == "RandomFlip" for layer in plain.layers)
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    # at inference the network is the same network without the flip layer
    unflipped = evaluator.build_evaluator(dataclasses.replace(evaluator.FASHION_CONFIG, horizontal_flip=False))
    with_weights = [layer for layer in flipped.layers if layer.weights and not type(layer).__name__.startswith("Random")]
    targets = [layer for layer in unflipped.layers if layer.weights and not type(layer).__name__.startswith("Random")]
    assert len(with_weights) == len(targets) > 0
    for source, target in zip(with_weights, targets):
        target.set_weights(source.get_weights())
    np.testing.assert_allclose(np.asarray(flipped(images, training=False)),
                               np.asarray(unflipped(images, training=False)), rtol=1e-5, atol=1e-6)
    # while training it mirrors some images left-right and leaves the others as they are
    flip = next(layer for layer in flipped.layers if type(layer).__name__ == "RandomFlip")
    batch = np.repeat(images[:1], 64, axis=0)
    out = np.asarray(flip(batch, training=True))
    mirrored = np.all(np.isclose(out, batch[:, :, ::-1]), axis=(1, 2, 3))
    kept = np.all(np.isclose(out, batch), axis=(1, 2, 3))
    assert np.all(mirrored | kept) and 0 < mirrored.sum() < 64


def test_the_benchmark_refuses_a_judge_of_other_images(clothes_judge):
    from course_lib import benchmark, restoration

    digits = data.judged_split("mnist")
    with pytest.raises(ValueError, match="judges 'fashion_mnist' images and cannot score 'mnist'"):
        benchmark.benchmark([restoration.damaged_input()], digits.x_test[:4], digits.y_test[:4],
                            degradations=["hole_12"], evaluator=clothes_judge, dataset="mnist", verbose=False)


def test_a_judge_without_manifest_can_say_its_dataset(clothes_judge):
    bare = evaluator.Evaluator(clothes_judge.model)
    assert bare.dataset == "mnist"                       # no manifest, no dataset: the digits' judge
    named = evaluator.Evaluator(clothes_judge.model, dataset="fashion_mnist")
    named.check_dataset("fashion_mnist")
    with pytest.raises(ValueError, match="cannot score 'mnist'"):
        named.check_dataset("mnist")
    with pytest.raises(ValueError, match="dataset name"):
        evaluator.Evaluator(clothes_judge.model, dataset="cifar10")
