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
    training.load_or_train("tiny", tiny_model, trained_models.append, retrain=True, images=np.zeros((64, 28, 28, 1)))
    message = capsys.readouterr().out
    assert "recipe 'tiny' now on the 64 images given" in message and "RETRAIN" not in message  # e.g. clothes
    assert "'tiny' is ready after" in message and "in this call" in message and "Trained" not in message
    training.load_or_train("tiny", tiny_model, trained_models.append, images=np.zeros((64, 28, 28, 1)))
    assert "the 64 images given are not used" in capsys.readouterr().out     # shipped weights won


# ------------------------------------------------------------------ training time, one way for all

def test_time_limit_counts_training_time_only():
    import keras

    clock = iter([0.0, 4.0, 9.0,     # epoch 1 starts at 0; batches end at 4 and 9
                  100.0, 103.0])     # 91 s of epoch-end evaluation; epoch 2 starts at 100
    limit = training.TimeLimit(12.0, clock=lambda: next(clock))
    limit.set_model(keras.Sequential())
    limit.model.stop_training = False
    limit.on_train_begin()
    limit.on_epoch_begin(0)
    limit.on_train_batch_end(0)
    limit.on_train_batch_end(1)
    assert limit.training_seconds == 9.0 and not limit.model.stop_training
    limit.on_epoch_begin(1)
    limit.on_train_batch_end(0)
    assert limit.training_seconds == 12.0 and limit.model.stop_training  # 9 + 3, not 103


@pytest.mark.parametrize("seconds", [0, -1.0, "60", True])
def test_time_limit_needs_a_positive_number_of_seconds(seconds):
    with pytest.raises(ValueError, match="seconds"):
        training.TimeLimit(seconds)


class FakeClock:
    """A clock that moves only when told: one second per training batch, 100 s per epoch end."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def slow_epoch_ends(clock):
    import keras

    class Advance(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.now += 1.0            # a training step takes 1 s

        def on_epoch_end(self, epoch, logs=None):
            clock.now += 100.0          # an FID or a sample grid after every epoch takes 100 s

    return Advance()


def test_resumable_fit_counts_time_inside_epochs_and_stops_at_max_seconds_across_resumption(tmp_path):
    clock = FakeClock()
    arguments = dict(epochs=4, batch_size=8, config={"a": 1}, workdir=tmp_path, verbose=0, clock=clock,
                     callbacks=[slow_epoch_ends(clock)])
    # 32 examples in batches of 8: 4 one-second steps per epoch
    unlimited = training.resumable_fit(tiny_model(), tiny_data(), name="unlimited", **arguments)
    assert unlimited.training_seconds == 16.0 and len(unlimited.history["loss"]) == 4  # not 16 + 4 x 100
    limited = training.resumable_fit(tiny_model(), tiny_data(), name="limited", max_seconds=6.0, **arguments)
    assert limited.training_seconds == 6.0 and len(limited.history["loss"]) == 2  # stopped in epoch 2
    again = training.resumable_fit(tiny_model(), tiny_data(), name="limited", max_seconds=6.0, **arguments)
    assert again.training_seconds == 6.0 and again.history == limited.history  # its time is used up: no training
    longer = training.resumable_fit(tiny_model(), tiny_data(), name="limited", max_seconds=10.0, **arguments)
    assert longer.training_seconds == 10.0 and len(longer.history["loss"]) == 3  # 4 more seconds: one epoch


@pytest.mark.parametrize("bad", [0, -5.0, "60", True])
def test_resumable_fit_refuses_a_bad_time_limit(tmp_path, bad):
    with pytest.raises(ValueError, match="max_seconds"):
        training.resumable_fit(tiny_model(), tiny_data(), epochs=1, batch_size=8, config={}, workdir=tmp_path,
                               max_seconds=bad)


def test_every_training_entry_point_shares_one_shape():
    """train_*(config, images, ..., model=None, workdir, verbose, restart, strategy) -> (model, history)."""
    import inspect

    from course_lib import diffusion, evaluator, gan, pix2pix, vae
    from course_lib import learned_restoration as rst

    for function in (evaluator.train_evaluator, gan.train_dcgan, vae.train_vae, rst.train_learned_restorer,
                     pix2pix.train_pix2pix, diffusion.train_diffusion):
        parameters = inspect.signature(function).parameters
        assert list(parameters)[0] == "config", function.__name__
        for keyword in ("model", "workdir", "verbose", "restart", "strategy"):
            assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY, (function.__name__, keyword)
            assert parameters[keyword].default is not inspect.Parameter.empty, (function.__name__, keyword)


# ------------------------------------------------------------------ the shipped-model layer

def ship_tiny(data_copy, name="tiny"):
    training.save_pretrained(tiny_model(), name, command="python -m tiny --train", seed=1, config={"units": 2},
                             metrics={})
    return data_copy / "pretrained" / f"{name}.json", data_copy / "pretrained" / f"{name}.weights.h5"


def test_has_shipped_weights_needs_both_files_and_says_which_one_is_missing(data_copy):
    assert training.has_shipped_weights("never_shipped") is False
    manifest_path, weights_path = ship_tiny(data_copy)
    assert training.has_shipped_weights("tiny") is True
    weights = weights_path.read_bytes()
    weights_path.unlink()
    with pytest.raises(FileNotFoundError, match=r"tiny\.weights\.h5 is missing.*git checkout -- data/pretrained/"
                                                r"tiny\.weights\.h5.*python -m tiny --train"):
        training.has_shipped_weights("tiny")
    weights_path.write_bytes(weights)
    manifest_path.unlink()
    with pytest.raises(FileNotFoundError, match=r"tiny\.json is missing.*git checkout -- data/pretrained/tiny\.json"):
        training.has_shipped_weights("tiny")


def test_a_half_installed_model_is_never_retrained(data_copy):
    manifest_path, _ = ship_tiny(data_copy)
    manifest_path.unlink()
    trained = []
    with pytest.raises(FileNotFoundError, match="tiny.json"):
        training.load_or_train("tiny", tiny_model, trained.append)
    assert trained == []


DAMAGED_MANIFESTS = {
    "not JSON": b"{this is not json",
    "an empty object": b"{}",
    "binary": bytes(range(256)),
    "a JSON string": b'"tiny.weights.h5"',
    "a JSON list": b"[1, 2]",
}


@pytest.mark.parametrize("content", DAMAGED_MANIFESTS.values(), ids=DAMAGED_MANIFESTS.keys())
def test_a_damaged_manifest_is_a_value_error_naming_the_file(data_copy, content):
    manifest_path, _ = ship_tiny(data_copy)
    manifest_path.write_bytes(content)
    with pytest.raises(ValueError, match=r"tiny\.json is damaged.*git checkout -- data/pretrained/tiny\.json"):
        training.read_manifest("tiny")
    with pytest.raises(ValueError, match=r"tiny\.json is damaged"):
        training.load_or_train("tiny", tiny_model, lambda model: None)


@pytest.mark.parametrize("field,value", [("sha256", None), ("seed", "one"), ("config", [1]), ("metrics", True)])
def test_a_manifest_missing_a_field_or_with_a_wrong_type_names_it(data_copy, field, value):
    manifest_path, _ = ship_tiny(data_copy)
    manifest = json.loads(manifest_path.read_text())
    if value is None:
        del manifest[field]
    else:
        manifest[field] = value
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=rf"tiny\.json is damaged.*{field!r}"):
        training.read_manifest("tiny")


@pytest.mark.parametrize("flag", ["no", "False", 0, 1, None])
def test_retrain_must_be_a_real_boolean(data_copy, flag):
    ship_tiny(data_copy)
    trained = []
    with pytest.raises(ValueError, match="retrain must be True or False"):
        training.load_or_train("tiny", tiny_model, trained.append, retrain=flag)
    assert trained == []
    model, manifest = training.load_or_train("tiny", tiny_model, trained.append, retrain=np.bool_(False))
    assert manifest is not None and trained == []


def test_config_from_manifest_names_an_unknown_key_and_a_refused_value():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Config:
        width: int = 2
        sizes: tuple = (1, 2)

        def __post_init__(self):
            if self.width <= 0:
                raise ValueError(f"width must be positive, got {self.width}.")

    assert training.config_from_manifest(Config, {"config": {"width": 3, "sizes": [4, 5]}}) == Config(3, (4, 5))
    with pytest.raises(ValueError, match=r"x\.json records settings \['colour'\].*width"):
        training.config_from_manifest(Config, {"config": {"width": 3, "colour": "red"}}, "x.json")
    with pytest.raises(ValueError, match=r"x\.json.*width must be positive"):
        training.config_from_manifest(Config, {"config": {"width": -1}}, "x.json")


def test_shipped_config_is_the_manifests_and_refuses_a_config_the_weights_do_not_match():
    from course_lib import vae

    shipped = vae.SHIPPED_CONFIGS["vae_mnist_latent16"]
    assert training.shipped_config("vae_mnist_latent16", vae.VAEConfig, None) == shipped
    assert training.shipped_config("never_shipped", vae.VAEConfig, shipped) is shipped
    other = vae.SHIPPED_CONFIGS["vae_mnist_latent2"]
    with pytest.raises(ValueError, match=r"latent_dim=2 \(shipped: 16\).*retrain=True"):
        training.shipped_config("vae_mnist_latent16", vae.VAEConfig, None, config=other)
    assert training.shipped_config("vae_mnist_latent16", vae.VAEConfig, None, config=other, retrain=True) is other
    with pytest.raises(TypeError, match="config must be a VAEConfig"):
        training.shipped_config("vae_mnist_latent16", vae.VAEConfig, None, config={"latent_dim": 2})
    with pytest.raises(ValueError, match=r"latent_dim=2 \(shipped: 16\)"):
        vae.load_vae("vae_mnist_latent16", config=other)  # before Keras's "objects could not be loaded"


def test_an_unknown_key_in_a_shipped_manifest_is_named(data_copy):
    from course_lib import evaluator

    path = data_copy / "pretrained" / "evaluator.json"
    manifest = json.loads(path.read_text())
    manifest["config"]["colour"] = "red"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"evaluator\.json records settings \['colour'\]"):
        evaluator.load_evaluator()


# ------------------------------------------------------------------ one loader shape for every family

def shipped_loaders():
    from course_lib import evaluator, gan, pix2pix, vae
    from course_lib import learned_restoration as rst

    return {"evaluator": evaluator.load_evaluator, "dcgan_mnist": gan.load_generator,
            "vae_mnist_latent2": vae.load_vae, "unet_blur": rst.load_learned_restorer,
            "pix2pix_hole_12": pix2pix.load_pix2pix}


@pytest.mark.parametrize("name", ["evaluator", "dcgan_mnist", "vae_mnist_latent2", "unet_blur", "pix2pix_hole_12"])
def test_every_loader_returns_model_and_manifest_and_loads_into_a_given_model(name):
    from course_lib.evaluator import Evaluator

    loader = shipped_loaders()[name]
    first, manifest = loader(name)
    assert manifest == training.read_manifest(name)
    second, again = loader(name, model=first.model if isinstance(first, Evaluator) else first)
    assert again == manifest
    if isinstance(first, Evaluator):
        assert second.model is first.model and second.manifest == manifest
    else:
        assert second is first


@pytest.mark.parametrize("missing", ["json", "weights.h5"])
@pytest.mark.parametrize("name", ["evaluator", "dcgan_mnist", "vae_mnist_latent2", "unet_blur", "pix2pix_hole_12"])
def test_every_loader_refuses_a_half_installed_model_instead_of_training(data_copy, capsys, name, missing):
    (data_copy / "pretrained" / f"{name}.{missing}").unlink()
    with pytest.raises(FileNotFoundError, match=rf"{name}\.{missing} is missing.*git checkout -- data/pretrained/"):
        shipped_loaders()[name](name)
    assert "Training" not in capsys.readouterr().out


@pytest.mark.parametrize("name", ["evaluator", "dcgan_mnist", "vae_mnist_latent2", "unet_blur", "pix2pix_hole_12"])
def test_every_loader_refuses_a_string_flag(name):
    with pytest.raises(ValueError, match="retrain must be True or False"):
        shipped_loaders()[name](name, retrain="no")


# ------------------------------------------------------------------ one argument for several devices

STRATEGY_SCRIPT = textwrap.dedent("""
    import os, sys, tempfile
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from course_lib import evaluator, gan, pix2pix, runtime, vae
    from course_lib import learned_restoration as lr

    mirrored = runtime.pick_strategy(devices=["/cpu:0", "/cpu:1"], verbose=False)
    images = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    labels = np.arange(64) % 10

    def mirrored_variables(model):
        return all(isinstance(weight.value, tf.distribute.DistributedValues) for weight in model.weights)

    # a deterministic model (no dropout, noise or batch statistics): one step on two replicas, each
    # with half the batch, must reach the weights of one step on one device with the whole batch
    config = lr.LearnedRestorerConfig("dncnn", "noise_0.3", depth=3, filters=4, epochs=1, batch_size=32, seed=2)
    one_device, _ = lr.train_learned_restorer(config, images[:32], workdir=tempfile.mkdtemp(), verbose=0)
    two_devices, history = lr.train_learned_restorer(config, images[:32], workdir=tempfile.mkdtemp(), verbose=0,
                                                     strategy=mirrored)
    assert mirrored_variables(two_devices) and not mirrored_variables(one_device)
    for expected, actual in zip(one_device.get_weights(), two_devices.get_weights()):
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)
    assert history.training_seconds > 0

    small = dict(workdir=tempfile.mkdtemp(), verbose=0, strategy=mirrored)
    model, _ = vae.train_vae(vae.VAEConfig(latent_dim=2, encoder_filters=(4, 8), decoder_filters=(8, 4),
                                           batch_size=32, epochs=1), images, **small)
    assert mirrored_variables(model.encoder) and mirrored_variables(model.decoder)
    model, _ = gan.train_dcgan(gan.DCGANConfig(latent_dim=8, generator_filters=(8, 4), discriminator_filters=(4, 8),
                                               batch_size=32, epochs=1), images, **small)
    assert mirrored_variables(model.generator) and mirrored_variables(model.discriminator)
    model, _ = evaluator.train_evaluator(evaluator.EvaluatorConfig(filters=(4, 4), feature_dim=8, epochs=1,
                                                                   batch_size=32), images, labels, **small)
    assert mirrored_variables(model)
    model, _ = pix2pix.train_pix2pix(pix2pix.Pix2PixConfig(filters=4, levels=2, discriminator_filters=(4, 8),
                                                           batch_size=32, epochs=1, init_from=None), images, **small)
    assert mirrored_variables(model.generator) and mirrored_variables(model.discriminator)
    print("STRATEGY-OK")
""")


def test_training_entry_points_take_a_strategy_and_build_their_model_under_it():
    result = subprocess.run([sys.executable, "-c", STRATEGY_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert "STRATEGY-OK" in result.stdout, result.stderr[-3000:]


def test_a_data_folder_that_does_not_exist_is_named_before_any_training(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    trained = []
    with pytest.raises(FileNotFoundError, match=r"COURSE_DATA_DIR is set to .*nowhere.*not a folder"):
        training.load_or_train("evaluator", tiny_model, trained.append)
    assert trained == []


def test_a_family_config_that_records_its_epochs_continues_with_more_epochs(tmp_path):
    """Every train_* passes dataclasses.asdict(config), epochs included: the run folder ignores them."""
    first = training.resumable_fit(tiny_model(), tiny_data(), epochs=2, batch_size=8, config={"a": 1, "epochs": 2},
                                   workdir=tmp_path, verbose=0)
    longer = training.resumable_fit(tiny_model(), tiny_data(), epochs=3, batch_size=8, config={"a": 1, "epochs": 3},
                                    workdir=tmp_path, verbose=0)
    assert longer.run_dir == first.run_dir
    assert longer.history["loss"][:2] == first.history["loss"] and len(longer.history["loss"]) == 3
    assert training.trained_seconds(longer.run_dir) == pytest.approx(longer.training_seconds)
    assert training.trained_seconds(tmp_path / "no-such-run") == 0.0


def test_every_loader_hands_its_training_images_to_load_or_train(monkeypatch):
    from course_lib import diffusion, diffusion_restoration, flow_restorer, gan, learned_restoration, pix2pix, vae

    class Stop(Exception):
        pass

    given = []

    def recording(name, build, train, *, retrain=False, images=None):
        given.append((name, images))
        raise Stop   # nothing is built or trained: only what the loader passes on is checked

    monkeypatch.setattr(training, "load_or_train", recording)
    images = np.random.default_rng(0).random((16, 28, 28, 1), dtype=np.float32)
    loaders = [("dcgan_mnist", lambda: gan.load_generator(retrain=True, images=images)),
               ("vae_mnist_latent16", lambda: vae.load_vae(retrain=True, images=images)),
               ("flow_mnist", lambda: diffusion.load_diffusion(retrain=True, images=images, labels=np.zeros(16, int))),
               ("flow_mnist_unconditional", lambda: diffusion_restoration.load_prior(retrain=True, images=images)),
               ("unet_hole_12", lambda: learned_restoration.load_learned_restorer("unet_hole_12", retrain=True,
                                                                                   images=images)),
               ("pix2pix_hole_12", lambda: pix2pix.load_pix2pix(retrain=True, images=images)),
               ("flow_restorer_hole_12", lambda: flow_restorer.load_flow_restorer(retrain=True, images=images))]
    for name, load in loaders:
        with pytest.raises(Stop):
            load()
        assert given[-1][0] == name and given[-1][1] is not None and len(given[-1][1]) == 16, name
