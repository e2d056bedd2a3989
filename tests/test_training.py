"""course_lib.training: epoch-keyed batches, resumable fit, shipped weights and load-or-train."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from course_lib import training
from tests.conftest import ROOT, flip_byte


def batches_of(arrays, seed, first_epoch, last_epoch, batch_size=4):
    dataset, steps = training.epoch_batches(arrays, batch_size, seed, first_epoch, last_epoch)
    return [batch for batch in dataset.as_numpy_iterator()], steps


def test_each_epoch_visits_every_example_once_and_drops_the_remainder():
    identities = np.arange(10)
    batches, steps = batches_of((identities,), seed=0, first_epoch=0, last_epoch=3)
    assert steps == 2 and len(batches) == 6
    for epoch in range(3):
        seen = np.concatenate(batches[2 * epoch: 2 * epoch + 2])
        assert len(set(seen.tolist())) == 8  # 10 // 4 batches of 4, no repeats
    assert not np.array_equal(np.concatenate(batches[0:2]), np.concatenate(batches[2:4]))


def test_batch_order_depends_only_on_seed_and_epoch():
    arrays = (np.arange(20), np.arange(20) * 10)
    from_start, _ = batches_of(arrays, seed=5, first_epoch=0, last_epoch=4)
    resumed, _ = batches_of(arrays, seed=5, first_epoch=2, last_epoch=4)
    for expected, actual in zip(from_start[10:], resumed):
        np.testing.assert_array_equal(expected[0], actual[0])
        np.testing.assert_array_equal(expected[1], actual[0] * 10)  # pairs stay aligned
    other_seed, _ = batches_of(arrays, seed=6, first_epoch=0, last_epoch=1)
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(from_start, other_seed))


def test_epoch_batches_rejects_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        training.epoch_batches((np.zeros(5), np.zeros(4)), 2, 0, 0, 1)
    with pytest.raises(ValueError, match="larger than"):
        training.epoch_batches((np.zeros(3),), 4, 0, 0, 1)


# A training script that a test runs three times in fresh processes: uninterrupted; killed with
# SIGKILL right after epoch 2's checkpoint (like a closed laptop lid); and resumed.
RUN_SCRIPT = textwrap.dedent("""
    import os, signal, sys, json
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import keras
    from course_lib import runtime, training

    workdir, kill_after, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    runtime.seed_everything(0, deterministic=True)
    rng = np.random.default_rng(0)
    images = rng.random((96, 8, 8, 1), dtype=np.float32)
    labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype("int64")
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    class Kill(keras.callbacks.Callback):  # at the start of the epoch after epoch `kill_after`
        def on_epoch_begin(self, epoch, logs=None):
            if kill_after and epoch == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

    history = training.resumable_fit(model, (images, labels), epochs=4, batch_size=16, seed=3,
                                     config={"test": "resume"}, workdir=workdir, name="toy",
                                     callbacks=[Kill()], verbose=0)
    np.savez(output, *model.get_weights())
    with open(output + ".json", "w") as stream:
        json.dump(history.history, stream)
""")


def run_training(workdir, kill_after, output):
    return subprocess.run([sys.executable, "-c", RUN_SCRIPT, str(workdir), str(kill_after), str(output)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_killed_run_resumes_and_ends_where_an_uninterrupted_run_ends(tmp_path):
    uninterrupted = run_training(tmp_path / "a", 0, tmp_path / "a.npz")
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-2000:]
    killed = run_training(tmp_path / "b", 2, tmp_path / "b.npz")
    assert killed.returncode == -9 and not (tmp_path / "b.npz").exists()
    resumed = run_training(tmp_path / "b", 0, tmp_path / "b.npz")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming" in resumed.stdout and "after epoch 2 of 4" in resumed.stdout
    with np.load(tmp_path / "a.npz") as expected, np.load(tmp_path / "b.npz") as actual:
        for key in expected.files:
            np.testing.assert_allclose(actual[key], expected[key], rtol=1e-6, atol=1e-7)
    history_a = json.loads((tmp_path / "a.npz.json").read_text())
    history_b = json.loads((tmp_path / "b.npz.json").read_text())
    assert len(history_b["loss"]) == 4
    np.testing.assert_allclose(history_b["loss"], history_a["loss"], rtol=1e-6)


def tiny_model(learning_rate=1e-2):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def tiny_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 2)).astype("float32")


def test_finished_run_is_not_retrained_and_more_epochs_continue_it(tmp_path):
    first = training.resumable_fit(tiny_model(), tiny_data(), epochs=2, batch_size=8, config={"a": 1},
                                   workdir=tmp_path, verbose=0)
    again = training.resumable_fit(tiny_model(), tiny_data(), epochs=2, batch_size=8, config={"a": 1},
                                   workdir=tmp_path, verbose=0)
    assert again.history == first.history and again.run_dir == first.run_dir
    longer = training.resumable_fit(tiny_model(), tiny_data(), epochs=3, batch_size=8, config={"a": 1},
                                    workdir=tmp_path, verbose=0)
    assert longer.history["loss"][:2] == first.history["loss"] and len(longer.history["loss"]) == 3


def test_a_changed_configuration_starts_a_fresh_run(tmp_path):
    first = training.resumable_fit(tiny_model(), tiny_data(), epochs=1, batch_size=8, config={"lr": 0.01},
                                   workdir=tmp_path, verbose=0)
    other = training.resumable_fit(tiny_model(0.1), tiny_data(), epochs=1, batch_size=8, config={"lr": 0.1},
                                   workdir=tmp_path, verbose=0)
    assert first.run_dir != other.run_dir


def test_resumable_fit_needs_a_built_compiled_model(tmp_path):
    import keras

    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="built model"):
        training.resumable_fit(unbuilt, tiny_data(), epochs=1, batch_size=8, config={}, workdir=tmp_path)
    uncompiled = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="compiled model"):
        training.resumable_fit(uncompiled, tiny_data(), epochs=1, batch_size=8, config={}, workdir=tmp_path)


def test_shipped_weights_round_trip_with_their_manifest(data_copy):
    model = tiny_model()
    manifest = training.save_pretrained(model, "tiny", command="python -m tiny --train", seed=1,
                                        config={"units": 2}, metrics={"mse": 0.5})
    assert manifest["parameters"] == 10
    reloaded = tiny_model()
    loaded_manifest = training.load_pretrained(reloaded, "tiny")
    assert loaded_manifest["sha256"] == manifest["sha256"] and loaded_manifest["metrics"] == {"mse": 0.5}
    for expected, actual in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(expected, actual)


def test_corrupted_or_missing_weights_give_clear_errors(data_copy):
    training.save_pretrained(tiny_model(), "tiny", command="retrain-me", seed=1, config={}, metrics={})
    flip_byte(data_copy / "pretrained" / "tiny.weights.h5", offset=-10)
    with pytest.raises(ValueError, match=r"corrupted.*sha256.*retrain-me"):
        training.load_pretrained(tiny_model(), "tiny")
    (data_copy / "pretrained" / "tiny.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match="retrain-me"):
        training.load_pretrained(tiny_model(), "tiny")
    with pytest.raises(FileNotFoundError, match="No manifest"):
        training.load_pretrained(tiny_model(), "absent")


def test_load_or_train_loads_unless_asked_to_retrain(data_copy, capsys):
    trained_models = []
    shipped = tiny_model()
    training.save_pretrained(shipped, "tiny", command="c", seed=1, config={}, metrics={})
    model, manifest = training.load_or_train("tiny", tiny_model, trained_models.append)
    assert manifest is not None and not trained_models and "Found pretrained weights" in capsys.readouterr().out
    np.testing.assert_array_equal(model.get_weights()[0], shipped.get_weights()[0])
    model, manifest = training.load_or_train("tiny", tiny_model, trained_models.append, retrain=True)
    assert manifest is None and trained_models == [model] and "RETRAIN" in capsys.readouterr().out
    model, manifest = training.load_or_train("never_shipped", tiny_model, trained_models.append)
    assert manifest is None and len(trained_models) == 2
