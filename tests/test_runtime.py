"""course_lib.runtime: budgets, seeding and determinism, device report, strategy picker."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from course_lib import runtime
from tests.conftest import ROOT


def test_per_budget_picks_the_named_value():
    assert [runtime.per_budget(name, smoke=1, cpu=2, gpu=3) for name in ("smoke", "cpu", "gpu")] == [1, 2, 3]
    assert runtime.per_budget(runtime.BUDGETS["gpu"], smoke=1, cpu=2, gpu=3) == 3


@pytest.mark.parametrize("gpu_present, expected", [(True, "gpu"), (False, "cpu")])
def test_auto_budget_follows_the_gpu(monkeypatch, gpu_present, expected):
    monkeypatch.setattr(runtime, "has_gpu", lambda: gpu_present)
    assert runtime.resolve_budget("auto").name == expected
    assert runtime.resolve_budget("smoke").name == "smoke"  # an explicit budget is never overridden


@pytest.mark.parametrize("bad", ["fast", "CPU", "", None])
def test_unknown_budget_lists_the_choices(bad):
    with pytest.raises(ValueError, match="smoke.*cpu.*gpu"):
        runtime.per_budget(bad, smoke=1, cpu=2, gpu=3)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "42", True])
def test_bad_seed_is_rejected(bad):
    with pytest.raises(ValueError, match="seed must be an integer"):
        runtime.seed_everything(bad)


def test_same_seed_gives_the_same_random_numbers_everywhere():
    import random

    import keras

    def draw():
        runtime.seed_everything(7)
        return random.random(), np.random.rand(), keras.random.normal((3,)).numpy().tolist()

    assert draw() == draw()
    first = draw()
    runtime.seed_everything(8)
    assert np.random.rand() != first[1]


def small_training_run(seed: int) -> list[np.ndarray]:
    import keras

    from course_lib import data

    runtime.seed_everything(seed, deterministic=True)
    mnist = data.load_dataset("mnist", source="subset", num_train=512, num_test=10, verbose=False)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dropout(0.3), keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(data.make_dataset(mnist.x_train, mnist.y_train, batch_size=64, seed=seed), epochs=2, verbose=0)
    return [weight.copy() for weight in model.get_weights()]


def test_same_seed_gives_identical_weights_in_two_training_runs():
    first, second = small_training_run(3), small_training_run(3)
    for weight_a, weight_b in zip(first, second):
        np.testing.assert_array_equal(weight_a, weight_b)
    other = small_training_run(4)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))


def test_device_report_describes_this_machine():
    report = runtime.device_report()
    assert report.backend == "tensorflow" and report.keras.startswith("3.")
    assert report.cpu_cores >= 1
    assert ("GPU" in report.accelerator) == bool(report.gpus)
    assert "TensorFlow" in str(report) and "Colab" in str(report)


def test_default_strategy_has_one_replica_on_a_single_device_machine():
    if runtime.has_gpu():
        pytest.skip("this machine has a GPU")
    assert runtime.pick_strategy(verbose=False).num_replicas_in_sync == 1


def test_strategy_needs_devices_when_given_a_list():
    with pytest.raises(ValueError, match="at least one device"):
        runtime.pick_strategy(devices=[])


MIRRORED_SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from course_lib import runtime

    def one_step(strategy):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        rng = np.random.default_rng(1)
        x, y = rng.normal(size=(8, 5)).astype("float32"), rng.normal(size=(8, 3)).astype("float32")
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
        model.fit(dataset, epochs=1, verbose=0)
        return model.get_weights()

    mirrored = runtime.pick_strategy(devices=["/cpu:0", "/cpu:1"], verbose=False)
    assert type(mirrored).__name__ == "MirroredStrategy", type(mirrored)
    assert mirrored.num_replicas_in_sync == 2
    single = one_step(tf.distribute.get_strategy())
    split = one_step(mirrored)
    for a, b in zip(single, split):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    print("MIRRORED-OK")
""")


def test_mirrored_strategy_on_two_logical_cpus_matches_a_single_device_step():
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert "MIRRORED-OK" in result.stdout, result.stderr[-3000:]
