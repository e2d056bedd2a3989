"""Benchmark: what limits the Fashion-MNIST judge's held-out accuracy, the network or the data?

Trains the clothes judge's recipe (``evaluator.FASHION_CONFIG``) as shipped, twice as wide (with 40
epochs instead of 30), and on half and twice as many training images (at 30 epochs, so with half and
twice the updates), each in turn from scratch, and scores each on the same 2,000 held-out garments of
``data.judged_split("fashion_mnist")``, with seed 0:

    python benchmarks/judge_recipes.py                      # every recipe, about 75 minutes on 2 CPU cores
    python benchmarks/judge_recipes.py --recipes train_4000

The larger and smaller training sets are stratified seed-0 subsets of Debian's 60,000 training
images (``data.load_dataset("fashion_mnist", num_train=N, num_test=2000, seed=0)``); their 2,000
test images are the judged split's, which the script checks. Nothing is written to
``data/pretrained/``: the shipped judge stays the one every clothes FID was measured with.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from course_lib import data, evaluator, runtime  # noqa: E402

RECIPES = {
    "shipped": (evaluator.FASHION_CONFIG, 8000),
    "wide_40_epochs": (dataclasses.replace(evaluator.FASHION_CONFIG, filters=(64, 128, 256), epochs=40), 8000),
    "train_4000": (evaluator.FASHION_CONFIG, 4000),
    "train_16000": (evaluator.FASHION_CONFIG, 16000),
}
"""name -> (the judge's configuration, how many training images)."""


def training_set(num_train: int) -> data.ImageDataset:
    """A stratified seed-0 subset of ``num_train`` clothes whose 2,000 test images are the judged split's."""
    subset = data.load_dataset("fashion_mnist", num_train=num_train, num_test=2000, seed=0, verbose=False)
    judged = data.judged_split("fashion_mnist")
    if not np.array_equal(np.asarray(subset.x_test), np.asarray(judged.x_test)):
        raise RuntimeError("the subset's test images are not the judged split's: the accuracies would not compare.")
    return subset


def run(name: str, *, epochs: int | None = None) -> dict:
    """Train recipe ``name`` from scratch and return its held-out accuracy and training seconds."""
    config, num_train = RECIPES[name]
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
    runtime.seed_everything(config.seed, deterministic=True)
    subset = training_set(num_train)
    model, history = evaluator.train_evaluator(config, subset.x_train, subset.y_train, verbose=0, workdir=None,
                                               restart=True)
    judge = evaluator.Evaluator(model, dataset="fashion_mnist")
    return {"recipe": name, "filters": config.filters, "epochs": config.epochs, "train_images": num_train,
            "held_out_accuracy": judge.accuracy(subset.x_test, subset.y_test),
            "training_seconds": history.training_seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="+", choices=tuple(RECIPES), default=list(RECIPES))
    parser.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs (a quick check)")
    arguments = parser.parse_args(argv)
    print(f"{'recipe':<12} {'filters':<15} {'epochs':>6} {'train images':>12} {'held-out acc.':>13} {'train s':>8}")
    started = time.perf_counter()
    for name in arguments.recipes:
        row = run(name, epochs=arguments.epochs)
        print(f"{row['recipe']:<12} {str(row['filters']):<15} {row['epochs']:>6} {row['train_images']:>12,} "
              f"{row['held_out_accuracy']:>13.4f} {row['training_seconds']:>8.0f}", flush=True)
    print(f"({time.perf_counter() - started:.0f} s in all; 2,000 held-out garments, seed 0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
