"""course_lib.diffusion: the time embedding and the U-Net's shape contract, the schedule in Keras
ops against the NumPy one, the training step's loss, EMA and label dropout, guidance and the
denoiser's identities, sampling, the training entry point (errors, resuming, two replicas), the
config's rules, the shipped weights and the evaluation callback."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from course_lib import diffusion, training
from course_lib import diffusion_theory as theory
from tests.conftest import ROOT, flip_byte

keras = diffusion.keras
ops = diffusion.ops

TINY = diffusion.DiffusionConfig(widths=(8, 16), embedding_dim=16, groups=4, num_classes=10, batch_size=16,
                                 epochs=2, learning_rate=2e-3, seed=1)
TINY_UNCONDITIONAL = dataclasses.replace(TINY, num_classes=0)
FAMILY_PAIRS = [("straight", "velocity"), ("cosine", "epsilon"), ("linear", "epsilon")]


@pytest.fixture(scope="module")
def digits():
    from course_lib import data

    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    return mnist.x_train[:64], mnist.y_train[:64].astype(np.int32)


@pytest.fixture
def eagerly():
    """fit() without compiling its step: a tiny model's few steps take far less time than tracing them.
    The compiled step is the one the two-replica test runs."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    with warnings.catch_warnings():          # "this option does not apply to tf.data functions": as wanted
        warnings.filterwarnings("ignore", message="Even though the `tf.config.experimental_run_functions_eagerly`")
        yield
    tf.config.run_functions_eagerly(False)


def perturb(network, seed=0, scale=0.3):
    """Add noise to every weight (the zero head included), so that the network's output depends on its inputs."""
    rng = np.random.default_rng(seed)
    network.set_weights([weight + scale * rng.standard_normal(weight.shape).astype(weight.dtype)
                         for weight in network.get_weights()])


def tiny_model(config=TINY, perturbed=True):
    model = diffusion.build_diffusion(config)
    if perturbed:
        perturb(model.network)
        model.ema_network.set_weights(model.network.get_weights())
    return model


# ------------------------------------------------------------------------------ the network

def test_sinusoidal_embedding_is_sines_and_cosines_of_geometric_frequencies():
    layer = diffusion.SinusoidalEmbedding(8)
    t = np.array([0.0, 0.3, 1.0], np.float32)
    features = np.asarray(layer(t))
    assert features.shape == (3, 8) and layer.compute_output_shape((3,)) == (3, 8)
    np.testing.assert_array_equal(features[0, :4], 0.0)     # sin(0)
    np.testing.assert_array_equal(features[0, 4:], 1.0)     # cos(0)
    frequencies = 10_000.0 ** (-np.arange(4) / 4)             # 1 down towards 1/10,000
    angles = 1000.0 * t[:, None] * frequencies[None, :]
    np.testing.assert_allclose(features, np.concatenate([np.sin(angles), np.cos(angles)], axis=1), atol=2e-4)
    np.testing.assert_allclose(features[:, :4] ** 2 + features[:, 4:] ** 2, 1.0, rtol=1e-5)
    assert diffusion.SinusoidalEmbedding.from_config(layer.get_config()).dim == 8
    with pytest.raises(ValueError, match="dim must be even"):
        diffusion.SinusoidalEmbedding(7)


@pytest.mark.parametrize("widths", [(8,), (8, 16), (8, 16, 16)])
def test_unet_output_has_the_input_shape_and_starts_at_exactly_zero(widths):
    network = diffusion.build_unet(widths, embedding_dim=16, groups=4)
    x = np.random.default_rng(0).standard_normal((3, 28, 28, 1)).astype(np.float32)
    output = np.asarray(network([x, np.array([0.1, 0.5, 0.9], np.float32)]))
    assert output.shape == x.shape
    np.testing.assert_array_equal(output, 0.0)                # the zero-initialised head
    perturb(network)
    assert np.abs(np.asarray(network([x, np.array([0.1, 0.5, 0.9], np.float32)]))).min() > 0


def test_unet_keeps_other_image_shapes():
    network = diffusion.build_unet((4, 8, 8), embedding_dim=8, groups=4, image_shape=(8, 8, 3))
    assert network.output_shape == (None, 8, 8, 3)
    assert [tensor.shape[1:] for tensor in network.inputs] == [(8, 8, 3), ()]


def test_a_class_conditional_unet_reads_its_label():
    network = diffusion.build_unet((8, 16), embedding_dim=16, num_classes=10, groups=4)
    assert [tensor.name for tensor in network.inputs] == ["x_t", "t", "label"]
    x = np.random.default_rng(1).standard_normal((2, 28, 28, 1)).astype(np.float32)
    t = np.full(2, 0.5, np.float32)
    perturb(network, seed=3)
    outputs = [np.asarray(network([x, t, np.full(2, label, np.int32)])) for label in (0, 1, 10)]  # 10: no label
    assert not np.allclose(outputs[0], outputs[1]) and not np.allclose(outputs[0], outputs[2])
    np.testing.assert_array_equal(np.asarray(network([x, t, np.zeros(2, np.int32)])), outputs[0])


def unet_parameters(widths, embedding_dim, num_classes, channels=1):
    """The U-Net's parameter count by hand, layer by layer (kernels plus biases; GroupNorm's scale and shift)."""
    def conv(inputs, outputs, size=3):
        return size * size * inputs * outputs + outputs

    def block(inputs, width):
        skip = 0 if inputs == width else conv(inputs, width, 1)
        return (skip + 2 * inputs + conv(inputs, width) + embedding_dim * width + width + 2 * width
                + conv(width, width))

    total = 2 * (embedding_dim * embedding_dim + embedding_dim)           # the time MLP
    total += (num_classes + 1) * embedding_dim if num_classes else 0       # the label embedding
    total += conv(channels, widths[0])                                     # the stem
    previous = widths[0]
    for level, width in enumerate(widths):
        total += block(previous, width) + (conv(width, width) if level < len(widths) - 1 else 0)
        previous = width
    total += block(widths[-1], widths[-1])                                 # the middle
    for level in reversed(range(len(widths))):
        total += block(2 * widths[level], widths[level])                  # after concatenating the skip
        total += conv(widths[level], widths[level - 1]) if level > 0 else 0
    return total + 2 * widths[0] + conv(widths[0], channels)               # the head


SHIPPED_PARAMETERS = 679_489


def test_the_unet_has_the_parameters_its_layers_need_and_the_shipped_one_its_recorded_count():
    assert diffusion.build_unet((8, 16), embedding_dim=16, groups=4).count_params() == unet_parameters((8, 16), 16, 0)
    config = diffusion.SHIPPED_CONFIG
    network = diffusion.build_unet(config.widths, embedding_dim=config.embedding_dim, num_classes=config.num_classes,
                                   groups=config.groups)
    count = network.count_params()
    assert count == unet_parameters(config.widths, config.embedding_dim, config.num_classes)
    assert count == SHIPPED_PARAMETERS, f"the shipped U-Net has {count:,} parameters, not {SHIPPED_PARAMETERS:,}"


# ------------------------------------------------------------------------------- the model

@pytest.mark.parametrize("schedule, prediction", FAMILY_PAIRS)
def test_the_schedule_in_keras_ops_is_the_numpy_schedule(schedule, prediction):
    model = diffusion.Diffusion(diffusion.build_mlp_network(2, 8, 1, embedding_dim=8), schedule=schedule,
                                prediction=prediction, scale_images=False)
    t = np.linspace(0.01, 1.0, 200)          # nearer 0, float32 loses digits of sigma = sqrt(1 - alpha^2)
    expected = theory.schedule_coefficients(schedule, t)
    actual = model.coefficients(ops.convert_to_tensor(t.astype(np.float32)))
    for name, value, reference in zip(("alpha", "sigma", "d_alpha", "d_sigma"), actual, expected):
        assert tuple(value.shape) == (200, 1), name                          # broadcasts over (N, 2)
        np.testing.assert_allclose(np.asarray(value)[:, 0], reference, rtol=2e-4, atol=1e-5, err_msg=name)
    assert model.family == diffusion.FAMILIES[(schedule, prediction)]


def first_draws(config, batch_size):
    """The times and noise a fresh model's first train_step draws: its SeedGenerator's first two draws."""
    generator = keras.random.SeedGenerator(config.seed)
    t = np.asarray(keras.random.uniform((batch_size,), seed=generator), np.float64)
    noise = np.asarray(keras.random.normal((batch_size, 28, 28, 1), seed=generator), np.float64)
    return t, noise


@pytest.mark.parametrize("schedule, prediction", FAMILY_PAIRS)
def test_the_first_loss_of_a_network_that_outputs_zero_is_the_mean_square_of_its_target(digits, eagerly, schedule,
                                                                                       prediction):
    config = dataclasses.replace(TINY_UNCONDITIONAL, schedule=schedule, prediction=prediction)
    model = diffusion.build_diffusion(config)                  # the zero head: the first prediction is 0
    images = digits[0][:16]
    history = model.fit(images, batch_size=16, epochs=1, shuffle=False, verbose=0)
    t, noise = first_draws(config, 16)
    x_0 = images.astype(np.float64) * 2 - 1
    _, _, d_alpha, d_sigma = (value.reshape(-1, 1, 1, 1) for value in theory.schedule_coefficients(schedule, t))
    target = noise if prediction == "epsilon" else d_alpha * x_0 + d_sigma * noise
    assert history.history["loss"][0] == pytest.approx(np.mean(target ** 2), rel=1e-5)


def fixed_loss(model, images, seed=5):
    """The training loss at fixed times and noise (the same for every call)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.05, 0.95, len(images)).astype(np.float32)
    noise = rng.standard_normal(images.shape).astype(np.float32)
    alpha, sigma, d_alpha, d_sigma = (np.asarray(value) for value in model.coefficients(t))
    x_0 = images * 2 - 1
    target = noise if model.prediction == "epsilon" else d_alpha * x_0 + d_sigma * noise
    prediction = np.asarray(model.network(model.network_inputs(alpha * x_0 + sigma * noise, t, None)))
    return float(np.mean((prediction - target) ** 2))


@pytest.mark.parametrize("schedule, prediction", FAMILY_PAIRS[:2])
def test_a_few_steps_on_one_batch_lower_the_loss(digits, eagerly, schedule, prediction):
    keras.utils.set_random_seed(0)
    config = dataclasses.replace(TINY_UNCONDITIONAL, schedule=schedule, prediction=prediction, learning_rate=1e-2)
    model = diffusion.build_diffusion(config)
    images = digits[0][:16]
    before = fixed_loss(model, images)
    model.fit(images, batch_size=16, epochs=4, shuffle=False, verbose=0)   # four steps
    after = fixed_loss(model, images)
    assert after < 0.8 * before, (before, after)


def test_the_moving_average_after_one_step_follows_its_warm_up_formula(digits, eagerly):
    model = tiny_model(dataclasses.replace(TINY, ema_decay=0.999))   # off zero: every layer gets a gradient
    before = model.network.get_weights()
    for average, weight in zip(model.ema_network.get_weights(), before):
        np.testing.assert_array_equal(average, weight)
    model.fit(digits[0][:16], digits[1][:16], batch_size=16, epochs=1, shuffle=False, verbose=0)  # one step
    step = int(model.optimizer.iterations.numpy())
    assert step == 1
    decay = min(0.999, (1 + step) / (10 + step))
    after = model.network.get_weights()
    assert all(not np.array_equal(old, new) for old, new in zip(before, after))
    for average, old, new in zip(model.ema_network.get_weights(), before, after):
        np.testing.assert_allclose(average, decay * old + (1 - decay) * new, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("label_dropout, tolerance", [(1.0, 0.0), (0.0, 0.0), (0.5, 0.02)])
def test_label_dropout_replaces_that_share_of_labels_by_the_null_class(label_dropout, tolerance):
    model = diffusion.Diffusion(diffusion.build_unet((4,), embedding_dim=8, num_classes=10, groups=4),
                                num_classes=10, label_dropout=label_dropout)
    labels = np.arange(20_000) % 10
    kept = np.asarray(model.drop_labels(labels))
    is_null = kept == 10
    assert abs(is_null.mean() - label_dropout) <= tolerance            # 1: every label, 0: none
    np.testing.assert_array_equal(kept[~is_null], labels[~is_null])   # the others are untouched
    unconditional = diffusion.Diffusion(diffusion.build_unet((4,), embedding_dim=8, groups=4), num_classes=0)
    assert unconditional.drop_labels(None) is None


# -------------------------------------------------------------------------------- sampling

def velocity_of(model, x0_hat, eps_hat, t):
    _, _, d_alpha, d_sigma = model.schedule.coefficients(t)
    return d_alpha * x0_hat + d_sigma * eps_hat


@pytest.mark.parametrize("schedule, prediction", FAMILY_PAIRS[:2])
def test_guidance_interpolates_between_the_unconditional_and_the_conditional_prediction(schedule, prediction):
    model = tiny_model(dataclasses.replace(TINY, schedule=schedule, prediction=prediction))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 28, 28, 1))
    labels = np.array([0, 3, 3, 7, 9], np.int32)
    t = 0.6
    alpha, sigma = model.schedule.coefficients(t)[:2]
    raw = {}
    for name, these in (("conditional", labels), ("unconditional", np.full(5, 10, np.int32))):
        inputs = [x.astype(np.float32), np.full(5, t, np.float32), these]
        raw[name] = np.asarray(model.ema_network(inputs), np.float64)
    predictions = {}
    for w in (0.0, 1.0, 2.0, 3.5):
        x0_hat, eps_hat = model.denoiser(labels, guidance=w, batch_size=2)(x, t)   # chunks of 2, 2 and 1
        np.testing.assert_allclose(alpha * x0_hat + sigma * eps_hat, x, atol=1e-5)  # x = alpha x0_hat + sigma eps_hat
        predictions[w] = eps_hat if prediction == "epsilon" else velocity_of(model, x0_hat, eps_hat, t)
    np.testing.assert_allclose(predictions[1.0], raw["conditional"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(predictions[0.0], raw["unconditional"], rtol=1e-4, atol=1e-4)
    assert not np.allclose(predictions[0.0], predictions[1.0], atol=1e-3)
    for w in (2.0, 3.5):                                       # affine in w: uncond + w (cond - uncond)
        np.testing.assert_allclose(predictions[w], predictions[0.0] + w * (predictions[1.0] - predictions[0.0]),
                                   rtol=1e-4, atol=1e-4)
    x0_free, eps_free = model.denoiser(None)(x, t)           # no labels: the "no label" class
    free = eps_free if prediction == "epsilon" else velocity_of(model, x0_free, eps_free, t)
    np.testing.assert_allclose(free, raw["unconditional"], rtol=1e-4, atol=1e-4)


def test_denoiser_refuses_what_it_cannot_do():
    model = tiny_model(perturbed=False)
    with pytest.raises(ValueError, match="guidance .* needs labels"):
        model.denoiser(None, guidance=2.0)
    with pytest.raises(ValueError, match="guidance"):
        model.denoiser(np.zeros(2, np.int32), guidance=-1.0)
    with pytest.raises(ValueError, match="unconditional"):
        tiny_model(TINY_UNCONDITIONAL, perturbed=False).denoiser(np.zeros(2, np.int32))


def test_generate_gives_repeatable_images_in_unit_range():
    model = tiny_model()
    labels = [0, 1, 2, 3]
    images = model.generate(4, labels=labels, num_steps=3, seed=0)
    assert images.shape == (4, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(model.generate(4, labels=labels, num_steps=3, seed=0), images)
    assert not np.allclose(model.generate(4, labels=labels, num_steps=3, seed=1), images)
    assert not np.allclose(model.generate(4, labels=[5, 6, 7, 8], num_steps=3, seed=0), images)  # the label matters
    for method in ("heun", "euler", "ddpm"):
        path = model.generate(4, labels=labels, num_steps=3, method=method, seed=0, return_path=True)
        assert len(path) == 4 and all(x.shape == (4, 28, 28, 1) and x.dtype == np.float32 for x in path)
        assert all(x.min() >= 0.0 and x.max() <= 1.0 for x in path)
        np.testing.assert_array_equal(path[-1], model.generate(4, labels=labels, num_steps=3, method=method, seed=0))
    noise = np.random.default_rng(0).standard_normal((4, 28, 28, 1))
    np.testing.assert_allclose(path[0], np.clip((noise + 1) / 2, 0, 1), atol=1e-6)  # it starts at the seed's noise


def test_generate_validates_its_labels():
    model = tiny_model(perturbed=False)
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        model.generate(4, labels=[0, 1, 2], num_steps=2)
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 10\)"):
        model.generate(2, labels=[0, 10], num_steps=2)
    with pytest.raises(ValueError, match="labels must be integer"):
        model.generate(2, labels=[0.0, 1.0], num_steps=2)
    with pytest.raises(ValueError, match="unconditional"):
        tiny_model(TINY_UNCONDITIONAL, perturbed=False).generate(2, labels=[3, 5], num_steps=2)
    with pytest.raises(ValueError, match="num_samples"):
        model.generate(0)
    with pytest.raises(ValueError, match="sampler"):
        model.generate(2, method="rk4")


# ------------------------------------------------------------------------ training entry point

def test_train_diffusion_has_every_familys_shape_and_reports_training_time(digits, eagerly, tmp_path):
    parameters = inspect.signature(diffusion.train_diffusion).parameters
    assert list(parameters)[:3] == ["config", "images", "labels"]
    for keyword in ("model", "workdir", "verbose", "restart", "strategy"):
        assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY, keyword
    model, history = diffusion.train_diffusion(TINY, digits[0][:24], digits[1][:24], workdir=tmp_path, verbose=0)
    assert isinstance(model, diffusion.Diffusion) and set(history.history) == {"loss"}
    assert len(history.history["loss"]) == 2 and history.training_seconds > 0
    assert int(model.optimizer.iterations.numpy()) == 2      # 24 images: one batch of 16 per epoch, two epochs


def test_train_diffusion_refuses_inputs_it_cannot_use(digits):
    images, labels = digits
    with pytest.raises(ValueError, match=r"class-conditional config \(num_classes=10\) needs labels"):
        diffusion.train_diffusion(TINY, images)
    with pytest.raises(ValueError, match=r"labels were given but the config is unconditional"):
        diffusion.train_diffusion(TINY_UNCONDITIONAL, images, labels)
    with pytest.raises(ValueError, match="28x28x1"):
        diffusion.train_diffusion(TINY, np.zeros((32, 32, 32, 1), np.float32), labels[:32])
    with pytest.raises(ValueError, match="8 images are fewer than one batch of 16"):
        diffusion.train_diffusion(TINY, images[:8], labels[:8])
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 10\)"):
        diffusion.train_diffusion(TINY, images[:16], np.full(16, 10))
    with pytest.raises(ValueError, match=r"labels must have shape \(16,\)"):
        diffusion.train_diffusion(TINY, images[:16], labels[:15])


def test_diffusion_training_resumes_to_the_same_weights_and_moving_average(digits, eagerly, tmp_path, capsys):
    from course_lib import runtime

    images, labels = digits[0][:32], digits[1][:32]
    runtime.seed_everything(0, deterministic=True)
    straight, straight_history = diffusion.train_diffusion(TINY, images, labels, workdir=tmp_path / "a", verbose=0)
    runtime.seed_everything(0, deterministic=True)
    diffusion.train_diffusion(dataclasses.replace(TINY, epochs=1), images, labels, workdir=tmp_path / "b", verbose=0)
    runtime.seed_everything(0, deterministic=True)
    capsys.readouterr()
    resumed, resumed_history = diffusion.train_diffusion(TINY, images, labels, workdir=tmp_path / "b", verbose=0)
    assert "after epoch 1 of 2" in capsys.readouterr().out     # it continued the one-epoch run
    assert int(resumed.optimizer.iterations.numpy()) == 4
    np.testing.assert_allclose(resumed_history.history["loss"], straight_history.history["loss"], rtol=1e-5)
    for part in ("network", "ema_network"):
        for expected, actual in zip(getattr(straight, part).get_weights(), getattr(resumed, part).get_weights()):
            np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6, err_msg=part)


# One step on two replicas (half the batch each) must reach the weights of one step on one device
# (the whole batch): the loss is divided by the number of replicas before the gradients are summed.
# Plain SGD, since Adam's first step hardly depends on the gradient's scale; weights moved off their
# initial values, so that every layer (not only the zero head) gets a gradient. The times and the
# noise are drawn per replica, so the script replaces the two draws with fixed values that depend
# only on an example's place in its replica's batch of 8: both runs see the same (x_t, t, target).
STRATEGY_SCRIPT = textwrap.dedent("""
    import os, tempfile
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from keras import ops
    from course_lib import data, diffusion, runtime

    def place(shape):
        return ops.cast(ops.arange(shape[0]) % 8, "float32")

    def fixed_uniform(shape, seed=None, **kwargs):
        return (place(shape) + 0.5) / 8.0

    def fixed_normal(shape, seed=None, **kwargs):
        pixels = ops.reshape(ops.cast(ops.arange(28 * 28), "float32"), (1, 28, 28, 1))
        return ops.sin(pixels * ops.reshape(place(shape) + 1.0, (-1, 1, 1, 1)))

    keras.random.uniform, keras.random.normal = fixed_uniform, fixed_normal
    mirrored = runtime.pick_strategy(devices=["/cpu:0", "/cpu:1"], verbose=False)
    images = data.load_dataset("mnist", source="subset", verbose=False).x_train[:16]
    config = diffusion.DiffusionConfig(widths=(8, 16), embedding_dim=16, groups=4, num_classes=0, batch_size=16,
                                       epochs=1, seed=3)
    rng = np.random.default_rng(0)
    start = [weight + 0.3 * rng.standard_normal(weight.shape).astype(weight.dtype)
             for weight in diffusion.build_diffusion(config).network.get_weights()]

    def one_step(strategy):
        with (strategy or tf.distribute.get_strategy()).scope():
            model = diffusion.build_diffusion(config)
            model.network.set_weights(start)
            model.ema_network.set_weights(start)
            model.compile(optimizer=keras.optimizers.SGD(0.05))
        return diffusion.train_diffusion(config, images, model=model, workdir=tempfile.mkdtemp(), verbose=0,
                                         strategy=strategy)

    one, _ = one_step(None)
    two, history = one_step(mirrored)
    assert two.distribute_strategy.num_replicas_in_sync == 2
    assert all(isinstance(weight.value, tf.distribute.DistributedValues) for weight in two.network.weights)
    assert int(two.optimizer.iterations.numpy()) == 1 and history.training_seconds > 0
    moved = [not np.allclose(new, old) for new, old in zip(one.network.get_weights(), start)]
    assert sum(moved) > 0.8 * len(moved), "the step should move nearly every weight"
    for part in ("network", "ema_network"):
        for expected, actual in zip(getattr(one, part).get_weights(), getattr(two, part).get_weights()):
            np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6, err_msg=part)
    print("STRATEGY-OK")
""")


def test_one_step_on_two_replicas_equals_one_step_on_one_device():
    result = subprocess.run([sys.executable, "-c", STRATEGY_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert "STRATEGY-OK" in result.stdout, result.stderr[-3000:]


# ------------------------------------------------------------------------------ the config

@pytest.mark.parametrize("changes, message", [
    ({"schedule": "straight", "prediction": "epsilon"}, r"DiffusionConfig\.schedule 'straight' with prediction "
                                                        r"'epsilon' is not a supported pair"),
    ({"schedule": "cosine", "prediction": "velocity"}, r"DiffusionConfig\.schedule 'cosine'.*supported pair"),
    ({"schedule": "quadratic"}, r"DiffusionConfig\.schedule must be"),
    ({"prediction": "score"}, r"DiffusionConfig\.prediction must be"),
    ({"embedding_dim": 15}, r"DiffusionConfig\.embedding_dim must be even, got 15"),
    ({"embedding_dim": 0}, r"DiffusionConfig\.embedding_dim must be"),
    ({"widths": (12, 16), "groups": 8}, r"DiffusionConfig\.widths \(12, 16\) must each be a multiple of groups=8"),
    ({"widths": (8, 16, 16, 32)}, r"DiffusionConfig\.widths must be"),
    ({"widths": (8, 0)}, r"DiffusionConfig\.widths must be"),
    ({"groups": 0}, r"DiffusionConfig\.groups must be"),
    ({"num_classes": -1}, r"DiffusionConfig\.num_classes must be"),
    ({"label_dropout": -0.1}, r"DiffusionConfig\.label_dropout must be"),
    ({"label_dropout": 1.5}, r"DiffusionConfig\.label_dropout must be"),
    ({"learning_rate": 0.0}, r"DiffusionConfig\.learning_rate must be"),
    ({"final_learning_rate": 1e-2}, r"DiffusionConfig\.final_learning_rate must be"),
    ({"batch_size": 0}, r"DiffusionConfig\.batch_size must be"),
    ({"epochs": 2.5}, r"DiffusionConfig\.epochs must be"),
    ({"ema_decay": 1.0}, r"DiffusionConfig\.ema_decay must be"),
    ({"max_seconds": -5.0}, r"DiffusionConfig\.max_seconds must be"),
    ({"jit_compile": "no"}, r"DiffusionConfig\.jit_compile must be True or False"),
    ({"seed": -1}, r"DiffusionConfig\.seed must be"),
], ids=lambda value: "-".join(value) if isinstance(value, dict) else None)
def test_every_refused_config_field_is_named(changes, message):
    with pytest.raises(ValueError, match=message):
        diffusion.DiffusionConfig(**changes)


def test_the_supported_configs_are_accepted():
    for schedule, prediction in FAMILY_PAIRS:
        assert diffusion.DiffusionConfig(schedule=schedule, prediction=prediction).family in ("diffusion",
                                                                                              "flow matching")
    assert diffusion.DiffusionConfig(widths=[4, 16], groups=8).widths == (4, 16)  # groups shrink to a narrow width
    assert diffusion.DiffusionConfig(label_dropout=1.0, num_classes=0).label_dropout == 1.0


def test_the_model_refuses_what_the_config_refuses():
    network = diffusion.build_unet((4,), embedding_dim=8, groups=4)
    with pytest.raises(ValueError, match="not a supported pair"):
        diffusion.Diffusion(network, schedule="linear", prediction="velocity")
    with pytest.raises(ValueError, match="ema_decay"):
        diffusion.Diffusion(network, ema_decay=1.0)
    with pytest.raises(ValueError, match="label_dropout"):
        diffusion.Diffusion(network, label_dropout=-0.5)
    with pytest.raises(TypeError, match="model_class"):
        diffusion.build_diffusion(TINY, model_class=keras.Model)


# --------------------------------------------------------------------------- shipped weights

def ship_tiny(config=TINY):
    model = tiny_model(config)
    training.save_pretrained(model.ema_network, diffusion.PRETRAINED_NAME, command="python -m course_lib.diffusion "
                             "--train", seed=config.seed, config=dataclasses.asdict(config), metrics={})
    return model


def test_shipped_weights_load_into_a_model_that_samples_identically(data_copy):
    shipped = ship_tiny()
    loaded, manifest = diffusion.load_diffusion()
    assert manifest is not None and manifest["config"]["widths"] == list(TINY.widths)
    for network in (loaded.ema_network, loaded.network):      # the trained copy is the EMA one
        for expected, actual in zip(shipped.ema_network.get_weights(), network.get_weights()):
            np.testing.assert_array_equal(actual, expected)
    labels = [1, 4, 7]
    np.testing.assert_array_equal(loaded.generate(3, labels=labels, num_steps=2, seed=4),
                                  shipped.generate(3, labels=labels, num_steps=2, seed=4))


def test_corrupted_shipped_weights_are_a_value_error_naming_the_file(data_copy):
    ship_tiny()
    flip_byte(data_copy / "pretrained" / "flow_mnist.weights.h5", offset=-10)
    with pytest.raises(ValueError, match=r"flow_mnist\.weights\.h5 is corrupted.*sha256.*course_lib\.diffusion"):
        diffusion.load_diffusion()
    (data_copy / "pretrained" / "flow_mnist.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"flow_mnist\.weights\.h5 is missing"):   # never trains instead
        diffusion.load_diffusion()


def test_a_config_unlike_the_manifests_is_refused(data_copy):
    ship_tiny()
    with pytest.raises(ValueError, match=r"groups=8 \(shipped: 4\).*retrain=True"):
        diffusion.load_diffusion(config=dataclasses.replace(TINY, groups=8))
    with pytest.raises(TypeError, match="config must be a DiffusionConfig"):
        diffusion.load_diffusion(config={"groups": 4})
    with pytest.raises(ValueError, match="shipped diffusion model"):
        diffusion.load_diffusion("flow_cifar")
    path = data_copy / "pretrained" / "flow_mnist.json"
    manifest = json.loads(path.read_text())
    manifest["config"]["embedding_dim"] = 15
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"flow_mnist\.json records a configuration.*embedding_dim must be even"):
        diffusion.load_diffusion()


# --------------------------------------------------------------------------- evaluation

@pytest.fixture(scope="module")
def judge():
    from course_lib.evaluator import load_evaluator

    return load_evaluator()[0]


def test_evaluate_samples_reports_every_measure_in_its_range(judge, digits):
    model = tiny_model(perturbed=False)
    result = diffusion.evaluate_samples(model, judge, digits[0][:40], num_samples=20, seed=2)
    assert {"fid", "precision", "recall", "milliseconds_per_image", "sampling_seconds", "network_calls",
            "class_histogram", "samples", "recognition_rate"} <= set(result)
    assert result["network_calls"] == 15 and result["samples"].shape == (20, 28, 28, 1)
    assert result["class_histogram"].shape == (10,) and result["class_histogram"].sum() == pytest.approx(1.0)
    assert 0.0 <= result["recognition_rate"] <= 1.0 and 0.0 <= result["precision"] <= 1.0
    assert result["fid"] > 0 and result["milliseconds_per_image"] > 0
    guided = diffusion.evaluate_samples(model, judge, digits[0][:40], num_samples=20, guidance=2.0)
    assert guided["network_calls"] == 30                      # each of the 15 calls makes two predictions
    free = diffusion.evaluate_samples(model, judge, digits[0][:40], num_samples=20, guidance=0.0, num_steps=2)
    assert free["network_calls"] == 3                         # w = 0 is the unconditional prediction alone
    unconditional = diffusion.evaluate_samples(model, judge, digits[0][:40], num_samples=20, guidance=2.0,
                                               num_steps=2, conditional=False)
    assert unconditional["network_calls"] == 3 and "recognition_rate" not in unconditional


@pytest.mark.skipif(not training.has_shipped_weights(diffusion.PRETRAINED_NAME), reason="flow_mnist is not shipped")
def test_the_shipped_flow_model_draws_the_digits_it_is_asked_for(judge):
    model, manifest = diffusion.load_diffusion()
    assert manifest is not None and manifest["parameters"] == model.ema_network.count_params()
    assert model.family == "flow matching" and model.num_classes == 10
    labels = diffusion.balanced_labels(30)                    # 3 of each digit, 8 Heun steps as in the manifest
    rate = float(np.mean(judge.predict_labels(model.generate(30, labels=labels, seed=1)) == labels))
    assert rate >= manifest["metrics"]["recognition_rate"] - 0.15, (rate, manifest["metrics"]["recognition_rate"])


@pytest.mark.skipif(not training.has_shipped_weights(diffusion.UNCONDITIONAL_NAME),
                    reason="flow_mnist_unconditional is not shipped")
def test_the_shipped_unconditional_prior_is_its_recipe_and_draws_digits(judge):
    model, manifest = diffusion.load_diffusion(diffusion.UNCONDITIONAL_NAME)
    assert model.num_classes == 0 and manifest["config"]["num_classes"] == 0
    recorded = {key: tuple(value) if isinstance(value, list) else value for key, value in manifest["config"].items()}
    assert recorded == dataclasses.asdict(diffusion.UNCONDITIONAL_CONFIG)
    assert manifest["command"] == "python -m course_lib.diffusion --train --name flow_mnist_unconditional --epochs 40"
    confidence = judge.probabilities(model.generate(40, seed=1)).max(axis=1)
    assert np.mean(confidence > 0.9) >= 0.6, np.mean(confidence > 0.9)   # digits the judge is sure of, not noise


def test_a_shipped_name_outside_the_table_is_refused_before_any_training():
    with pytest.raises(ValueError, match="shipped diffusion model"):
        diffusion.train_and_save(name="flow_cifar")
    with pytest.raises(SystemExit):
        diffusion.main(["--train", "--name", "flow_cifar"])
    assert set(diffusion.SHIPPED_CONFIGS) == {"flow_mnist", "flow_mnist_unconditional"}
    assert diffusion.UNCONDITIONAL_CONFIG == dataclasses.replace(diffusion.SHIPPED_CONFIG, num_classes=0,
                                                                 label_dropout=0.0, final_learning_rate=None,
                                                                 epochs=40)


def test_the_command_line_trains_the_named_recipe_unless_told_otherwise(monkeypatch):
    longer = dataclasses.replace(diffusion.UNCONDITIONAL_CONFIG, epochs=diffusion.UNCONDITIONAL_CONFIG.epochs + 10)
    monkeypatch.setitem(diffusion.SHIPPED_CONFIGS, diffusion.UNCONDITIONAL_NAME, longer)   # a recipe of its own
    given = []
    monkeypatch.setattr(diffusion, "train_and_save",
                        lambda config, *, name, resume: given.append((name, config)) or {"metrics": {}})
    diffusion.main(["--train", "--name", "flow_mnist_unconditional"])
    diffusion.main(["--train"])
    diffusion.main(["--train", "--name", "flow_mnist_unconditional", "--epochs", "3", "--seconds", "60"])
    assert given[0] == ("flow_mnist_unconditional", longer)          # its own epochs, not flow_mnist's
    assert given[1] == ("flow_mnist", diffusion.SHIPPED_CONFIG)
    assert given[2] == ("flow_mnist_unconditional", dataclasses.replace(longer, epochs=3, max_seconds=60.0))


def test_balanced_labels_cycle_through_the_classes():
    np.testing.assert_array_equal(diffusion.balanced_labels(12, 5), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])
    assert np.bincount(diffusion.balanced_labels(2000)).tolist() == [200] * 10
    with pytest.raises(ValueError, match="num_samples"):
        diffusion.balanced_labels(0)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_fid_over_training_measures_once_after_the_first_epoch_past_each_threshold(monkeypatch):
    measured = []

    def fake_evaluate(model, evaluator, reference, num_samples):
        measured.append(int(model.optimizer.iterations.numpy()))
        return {"fid": 10.0 * len(measured)}

    monkeypatch.setattr(diffusion, "evaluate_samples", fake_evaluate)
    clock = FakeClock()
    curve = diffusion.FIDOverTraining(evaluator=None, reference=None, seconds=(12, 5, 10), num_samples=8,
                                      clock=clock)
    model = tiny_model(perturbed=False)
    curve.set_model(model)
    curve.on_train_begin()
    epochs_measured = []
    for epoch, seconds_of_training in enumerate([4.0, 4.0, 5.0, 6.0]):  # training time 4, 8, 13, 19 s
        curve.on_epoch_begin(epoch)
        clock.now += seconds_of_training
        curve.on_train_batch_end(0)
        clock.now += 100.0                                    # the epoch's end (and the FID) is not training
        before = len(curve.points)
        curve.on_epoch_end(epoch)
        if len(curve.points) > before:
            epochs_measured.append(epoch + 1)
    assert epochs_measured == [2, 3]                          # 5 s passed in epoch 2; 10 and 12 s both in epoch 3
    assert [point["training_seconds"] for point in curve.table()] == [8.0, 13.0]
    assert [point["fid"] for point in curve.table()] == [10.0, 20.0] and len(measured) == 2
    assert all(point["num_samples"] == 8 for point in curve.table())


def test_a_resumed_fid_curve_counts_the_seconds_trained_before(monkeypatch):
    monkeypatch.setattr(diffusion, "evaluate_samples", lambda *arguments, **keywords: {"fid": 1.0})
    clock = FakeClock()
    curve = diffusion.FIDOverTraining(None, None, seconds=(10, 20), num_samples=8, already_trained=7.0, clock=clock)
    curve.set_model(tiny_model(perturbed=False))
    curve.on_train_begin()
    for epoch in range(3):                                    # 7 s before, then 4 s per epoch: 11, 15, 19 s
        curve.on_epoch_begin(epoch)
        clock.now += 4.0
        curve.on_train_batch_end(0)
        curve.on_epoch_end(epoch)
    assert [point["training_seconds"] for point in curve.table()] == [11.0]   # 20 s not reached yet


def test_the_denoiser_refuses_labels_of_the_wrong_count_or_class_and_weight_zero_is_unconditional():
    import keras as keras_module

    network = diffusion.build_unet((8,), embedding_dim=8, num_classes=3, groups=4)
    model = diffusion.Diffusion(network, num_classes=3)
    model.compile(optimizer=keras_module.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).standard_normal((4, 28, 28, 1))
    with pytest.raises(ValueError, match="3 labels but 4 points"):
        model.denoiser(np.array([0, 1, 2]))(x, 0.5)
    with pytest.raises(ValueError, match="labels"):
        model.denoiser(np.array([0, 1, 2, 3]))
    weight_zero = model.denoiser(np.array([0, 1, 2, 0]), guidance=0.0)(x, 0.5)
    unconditional = model.denoiser(None)
    np.testing.assert_allclose(weight_zero[0], unconditional(x, 0.5)[0], rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="label_dropout"):
        diffusion.Diffusion(diffusion.build_unet((8,), embedding_dim=8, num_classes=3, groups=4), label_dropout="0.1")
