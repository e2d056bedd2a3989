"""benchmarks/judge_recipes.py: its recipes differ from the shipped judge only where they say, every
training size is scored on the judged split's test images, and its table prints a row per recipe."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest

from course_lib import data, evaluator
from tests.conftest import ROOT
from tests.test_evaluator_datasets import fashion_available

pytestmark = pytest.mark.skipif(not fashion_available(), reason="Fashion-MNIST is not installed (make fashion-mnist)")


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("judge_recipes", ROOT / "benchmarks" / "judge_recipes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_recipe_changes_only_what_its_name_says(script):
    shipped, size = script.RECIPES["shipped"]
    assert shipped == evaluator.FASHION_CONFIG and size == 8000
    wide, size = script.RECIPES["wide_40_epochs"]
    assert size == 8000 and dataclasses.replace(wide, filters=shipped.filters, epochs=shipped.epochs) == shipped
    assert wide.filters == tuple(2 * count for count in shipped.filters) and wide.epochs == 40
    assert [script.RECIPES[name] for name in ("train_4000", "train_16000")] == [(shipped, 4000), (shipped, 16000)]


def test_every_training_size_is_scored_on_the_judged_test_images(script):
    judged = data.judged_split("fashion_mnist")
    for size in (4000, 16000):
        subset = script.training_set(size)
        assert len(subset.x_train) == size
        np.testing.assert_array_equal(subset.x_test, judged.x_test)
        assert np.all(np.bincount(subset.y_train, minlength=10) == size // 10)     # stratified



def test_the_table_has_one_row_per_recipe_with_an_accuracy(script, monkeypatch, capsys):
    tiny = dataclasses.replace(evaluator.FASHION_CONFIG, filters=(8,), feature_dim=16, epochs=1, batch_size=32)
    monkeypatch.setattr(script, "RECIPES", {"tiny": (tiny, 200), "tinier": (tiny, 100)})
    assert script.main(["--recipes", "tinier", "tiny"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("tin")]
    assert [row[0] for row in rows] == ["tinier", "tiny"]
    assert [row[-3] for row in rows] == ["100", "200"]                           # training images
    assert all(0.0 <= float(row[-2]) <= 1.0 for row in rows)                      # held-out accuracy
