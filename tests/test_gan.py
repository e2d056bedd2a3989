"""course_lib.gan and course_lib.gan_theory: losses from the value function, the theory's
identities, the DCGAN builders, the GAN model and its resumable training."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import gan, gan_theory

GRID = np.linspace(-12, 12, 24001)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_losses_are_the_value_function_written_with_logits():
    rng = np.random.default_rng(0)
    real_logits, fake_logits = rng.normal(size=64), rng.normal(size=64)
    value = np.mean(np.log(sigmoid(real_logits))) + np.mean(np.log(1 - sigmoid(fake_logits)))
    assert float(gan.discriminator_loss(real_logits, fake_logits)) == pytest.approx(-value, rel=1e-5)
    assert float(gan.generator_loss_minimax(fake_logits)) == pytest.approx(np.mean(np.log(1 - sigmoid(fake_logits))), rel=1e-5)
    assert float(gan.generator_loss_non_saturating(fake_logits)) == pytest.approx(-np.mean(np.log(sigmoid(fake_logits))), rel=1e-5)


def test_discriminator_loss_is_binary_cross_entropy_with_real_one_and_fake_zero():
    import keras

    rng = np.random.default_rng(1)
    real_logits, fake_logits = rng.normal(size=(32, 1)), rng.normal(size=(32, 1))
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    expected = cross_entropy(np.ones((32, 1)), real_logits) + cross_entropy(np.zeros((32, 1)), fake_logits)
    assert float(gan.discriminator_loss(real_logits, fake_logits)) == pytest.approx(float(expected), rel=1e-5)


def test_losses_stay_finite_for_confident_discriminators():
    extreme = np.array([-200.0, 200.0], dtype=np.float32)
    for value in (gan.discriminator_loss(extreme, extreme), gan.generator_loss_minimax(extreme),
                  gan.generator_loss_non_saturating(extreme)):
        assert np.isfinite(float(value))


def test_minimax_generator_gradient_saturates_where_the_non_saturating_one_does_not():
    import tensorflow as tf

    logits = tf.Variable([-8.0])  # D(G(z)) = 0.0003: the discriminator easily rejects the fake
    with tf.GradientTape(persistent=True) as tape:
        minimax, non_saturating = gan.generator_loss_minimax(logits), gan.generator_loss_non_saturating(logits)
    minimax_gradient = float(tape.gradient(minimax, logits)[0])
    non_saturating_gradient = float(tape.gradient(non_saturating, logits)[0])
    assert abs(minimax_gradient) == pytest.approx(sigmoid(-8.0), rel=1e-3)      # d/dl log(1 - s(l)) = -s(l)
    assert non_saturating_gradient == pytest.approx(sigmoid(-8.0) - 1, rel=1e-3)  # d/dl -log s(l) = s(l) - 1
    assert abs(non_saturating_gradient) > 1000 * abs(minimax_gradient)


def test_unknown_generator_loss_is_rejected():
    with pytest.raises(ValueError, match="non_saturating"):
        gan.generator_loss("wasserstein")


def test_optimal_discriminator_value_equals_minus_log_4_plus_twice_the_jsd():
    p_data, p_generator = gan_theory.gaussian_density(GRID, 0, 1), gan_theory.gaussian_density(GRID, 1.5, 0.7)
    best = gan_theory.optimal_discriminator(p_data, p_generator)
    value = gan_theory.value_function(best, p_data, p_generator, GRID)
    jsd = gan_theory.jensen_shannon_divergence(p_data, p_generator, GRID)
    assert value == pytest.approx(-np.log(4) + 2 * jsd, abs=1e-9)
    for perturbation in (0.05, -0.05):  # D* maximises V: any other D does worse
        other = np.clip(best + perturbation * np.sin(GRID), 1e-6, 1 - 1e-6)
        assert gan_theory.value_function(other, p_data, p_generator, GRID) < value


def test_at_the_optimum_p_g_equals_p_data_and_v_is_minus_log_4():
    density = gan_theory.gaussian_density(GRID, 0.3, 1.2)
    best = gan_theory.optimal_discriminator(density, density)
    assert np.allclose(best[density > 1e-12], 0.5)
    assert gan_theory.value_function(best, density, density, GRID) == pytest.approx(-np.log(4), abs=1e-9)


def test_divergences_match_closed_forms_and_bounds():
    p, q = gan_theory.gaussian_density(GRID, 0, 1), gan_theory.gaussian_density(GRID, 1.5, 0.7)
    closed_form = np.log(0.7 / 1.0) + (1.0 + 1.5**2) / (2 * 0.7**2) - 0.5  # KL(N(0,1) || N(1.5, 0.7^2))
    assert gan_theory.kl_divergence(p, q, GRID) == pytest.approx(closed_form, rel=1e-6)
    assert gan_theory.kl_divergence(p, q, GRID) != pytest.approx(gan_theory.kl_divergence(q, p, GRID), rel=1e-2)
    jsd = gan_theory.jensen_shannon_divergence(p, q, GRID)
    assert jsd == pytest.approx(gan_theory.jensen_shannon_divergence(q, p, GRID), rel=1e-9)
    assert 0 < jsd < np.log(2)
    far = gan_theory.gaussian_density(GRID, 9, 0.3)
    near_zero = gan_theory.gaussian_density(GRID, -9, 0.3)
    assert gan_theory.jensen_shannon_divergence(near_zero, far, GRID) == pytest.approx(np.log(2), rel=1e-6)


def test_theory_functions_reject_bad_grids_and_densities():
    with pytest.raises(ValueError, match="increasing"):
        gan_theory.value_function(np.ones(3), np.ones(3), np.ones(3), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="non-negative"):
        gan_theory.kl_divergence(-np.ones(5), np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="std must be positive"):
        gan_theory.gaussian_density(GRID, 0, 0)


def test_ring_samples_cover_every_mode_and_a_collapsed_set_does_not():
    points = gan_theory.ring_of_gaussians(4000, seed=0)
    assert points.shape == (4000, 2) and points.dtype == np.float32
    modes, quality = gan_theory.mode_coverage(points)
    assert modes == 8 and quality > 0.98
    collapsed = np.tile([[2.0, 0.0]], (500, 1)) + 0.01 * np.random.default_rng(0).normal(size=(500, 2))
    assert gan_theory.mode_coverage(collapsed)[0] == 1


def test_dcgan_builders_honour_the_shape_contract():
    import keras

    generator = gan.build_dcgan_generator(latent_dim=16)
    discriminator = gan.build_dcgan_discriminator()
    noise = np.random.default_rng(0).normal(size=(3, 16)).astype(np.float32)
    images = np.asarray(generator(noise))
    assert images.shape == (3, 28, 28, 1) and generator.layers[-1].activation is keras.activations.tanh
    # at inference each image depends on its own noise only (batch normalisation uses its moving averages)
    np.testing.assert_allclose(np.asarray(generator(noise[1:2])), images[1:2], atol=1e-5)
    assert not np.allclose(images[0], images[1])
    assert np.asarray(discriminator(images)).shape == (3, 1)
    three_stage = gan.build_dcgan_generator(latent_dim=16, filters=(16, 8, 4))  # a 3x3 convolution draws at 28x28
    images = np.asarray(three_stage(np.ones((2, 16), np.float32)))
    assert images.shape == (2, 28, 28, 1) and three_stage.layers[-1].activation is keras.activations.tanh
    assert three_stage.layers[-1].kernel.shape == (3, 3, 4, 1)
    with pytest.raises(ValueError, match="2 or 3 positive integers"):
        gan.build_dcgan_generator(latent_dim=16, filters=(16,))


def test_packing_groups_samples_without_mixing_them():
    model = gan.GAN(gan.build_mlp_generator(2), gan.build_mlp_discriminator(2, pack=2), 2,
                    scale_images=False, pack=2)
    vectors = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.testing.assert_array_equal(np.asarray(model.packed(vectors)), vectors.reshape(3, 4))
    images = np.arange(4 * 2 * 2, dtype=np.float32).reshape(4, 2, 2, 1)
    packed = np.asarray(model.packed(images))
    assert packed.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(packed[1, ..., 0], images[2, ..., 0])
    np.testing.assert_array_equal(packed[1, ..., 1], images[3, ..., 0])


def test_bad_gan_arguments_are_rejected():
    generator, discriminator = gan.build_mlp_generator(2), gan.build_mlp_discriminator(2)
    with pytest.raises(ValueError, match="ema_decay"):
        gan.GAN(generator, discriminator, 2, ema_decay=1.0)
    model = gan.GAN(generator, discriminator, 2, scale_images=False)
    with pytest.raises(ValueError, match=r"noise must have shape \(batch, 2\)"):
        model.generate(noise=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="28x28"):
        gan.train_dcgan(gan.DCGANConfig(epochs=1), np.zeros((8, 32, 32, 1), np.float32))


@pytest.fixture(scope="module")
def few_digits():
    from course_lib import data

    return data.load_dataset("mnist", source="subset", verbose=False).x_train[:256]


SMALL = gan.DCGANConfig(latent_dim=8, generator_filters=(16, 8), discriminator_filters=(8, 16),
                        batch_size=32, epochs=2, ema_decay=0.9, seed=1)


def test_one_real_training_run_tracks_every_loss_and_samples_in_unit_range(few_digits, tmp_path):
    model, history = gan.train_dcgan(SMALL, few_digits, workdir=tmp_path, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(values).all() and len(values) == 2 for values in history.history.values())
    noise = np.random.default_rng(0).normal(size=(10, SMALL.latent_dim)).astype(np.float32)
    samples = model.generate(noise=noise)  # the moving-average generator's [-1, 1] mapped to [0, 1]
    np.testing.assert_allclose(samples, np.clip((np.asarray(model.ema_generator(noise)) + 1) / 2, 0, 1), atol=1e-6)
    np.testing.assert_allclose(model.generate(noise=noise, use_ema=False),
                               np.clip((np.asarray(model.generator(noise)) + 1) / 2, 0, 1), atol=1e-6)
    assert model.generate(10).shape == (10, 28, 28, 1)
    ema, current = model.ema_generator.get_weights()[0], model.generator.get_weights()[0]
    assert not np.array_equal(ema, current)  # the moving average lags behind the weights


def test_gan_training_resumes_to_the_same_weights(few_digits, tmp_path):
    from course_lib import runtime

    runtime.seed_everything(0, deterministic=True)
    straight, _ = gan.train_dcgan(SMALL, few_digits, workdir=tmp_path / "straight", verbose=0)
    runtime.seed_everything(0, deterministic=True)
    gan.train_dcgan(dataclasses_replace(SMALL, epochs=1), few_digits, workdir=tmp_path / "resumed", verbose=0)
    runtime.seed_everything(0, deterministic=True)
    # same configuration except the epoch count: the run folder is keyed without epochs
    resumed, history = gan.train_dcgan(SMALL, few_digits, workdir=tmp_path / "resumed", verbose=0)
    for expected, actual in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def dataclasses_replace(config, **changes):
    import dataclasses

    return dataclasses.replace(config, **changes)


def test_shipped_generator_loads_and_keeps_its_recorded_quality(tmp_path):
    from course_lib import data, metrics
    from course_lib.evaluator import load_evaluator

    model, manifest = gan.load_generator()
    assert manifest is not None and manifest["metrics"]["fid_over_floor"] > 1
    samples = model.generate(2000)
    judge, _ = load_evaluator()
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    assert samples.shape == (2000, 28, 28, 1)
    assert samples.mean() == pytest.approx(mnist.x_test.mean(), abs=0.03)  # as much ink as real digits
    fid = metrics.frechet_distance(judge.features(samples), judge.features(mnist.x_test))
    assert fid == pytest.approx(manifest["metrics"]["fid"], rel=0.15)  # another noise draw, same generator
    histogram = gan.class_histogram(judge.predict_labels(samples))
    assert histogram.min() > 0.05 and histogram.max() < 0.2  # every class within 2x of uniform


def test_shipped_progress_is_checked_against_its_sha256(data_copy):
    from tests.conftest import flip_byte

    progress = gan.load_progress()
    assert progress["samples"].shape[1:] == (32, 28, 28, 1) and len(progress["history"]["fid"]) == len(progress["epochs"])
    flip_byte(data_copy / "pretrained" / "dcgan_mnist_progress.npz")
    with pytest.raises(ValueError, match="sha256"):
        gan.load_progress()
    import json

    manifest_path = data_copy / "pretrained" / "dcgan_mnist.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["progress_sha256"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"dcgan_mnist\.json is damaged.*progress_sha256"):
        gan.load_progress()


# ------------------------------------------------------- speed and the design of the shipped run

def test_dcgan_compiles_its_training_step_with_xla():
    # Keras turns XLA off on CPU-only machines ("auto"); with TF_ENABLE_ONEDNN_OPTS=0 that left the
    # DCGAN at a third of the updates per second it reaches compiled (notebook 03's diagnosis)
    from tensorflow.python.framework import config as tf_config

    deterministic = tf_config.is_op_determinism_enabled()  # Keras refuses XLA while it is on
    tf_config.disable_op_determinism()
    try:
        assert gan.build_dcgan(SMALL).jit_compile is True
        assert gan.build_dcgan(dataclasses_replace(SMALL, jit_compile=False)).jit_compile is False
    finally:
        if deterministic:
            tf_config.enable_op_determinism()


def test_r1_penalty_is_half_gamma_times_the_squared_input_gradient():
    import keras

    # a linear discriminator l(x) = w . x + b has gradient w at every image: R1 = gamma / 2 ||w||^2
    weights = np.random.default_rng(0).normal(size=(28 * 28, 1)).astype(np.float32)
    linear = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    linear.layers[-1].set_weights([weights, np.array([0.3], np.float32)])
    model = gan.GAN(gan.build_dcgan_generator(8, (8, 8)), linear, 8, r1_weight=2.0)
    images = np.random.default_rng(1).uniform(-1, 1, size=(5, 28, 28, 1)).astype(np.float32)
    assert float(model.r1_penalty(images)) == pytest.approx(0.5 * 2.0 * float(np.sum(weights ** 2)), rel=1e-5)
    # a discriminator whose output does not depend on the image is not penalised at all
    linear.layers[-1].set_weights([np.zeros_like(weights), np.array([0.3], np.float32)])
    assert float(model.r1_penalty(images)) == 0.0
    with pytest.raises(ValueError, match="r1_weight"):
        gan.GAN(gan.build_dcgan_generator(8, (8, 8)), linear, 8, r1_weight=-1.0)


def test_spectral_normalisation_keeps_each_layers_largest_singular_value_near_one():
    discriminator = gan.build_dcgan_discriminator((8, 16), spectral_norm=True)
    images = np.random.default_rng(0).uniform(-1, 1, size=(4, 28, 28, 1)).astype(np.float32)
    for _ in range(30):  # each training call runs one power iteration
        discriminator(images, training=True)
    kernels = [layer.layer.kernel.numpy() for layer in discriminator.layers
               if type(layer).__name__ == "SpectralNormalization"]
    assert len(kernels) == 3  # both convolutions and the output layer
    for kernel in kernels:
        largest = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        assert largest == pytest.approx(1.0, abs=0.05)


def test_moving_average_follows_its_warm_up_formula_after_one_step(few_digits, tmp_path):
    config = dataclasses_replace(SMALL, ema_decay=0.999, epochs=1)
    model = gan.build_dcgan(config)
    before = model.generator.get_weights()
    np.testing.assert_array_equal(model.ema_generator.get_weights()[0], before[0])
    model.fit(few_digits[:32], batch_size=32, epochs=1, verbose=0)  # exactly one step
    after = model.generator.get_weights()
    decay = min(0.999, (1 + 1) / (10 + 1))  # warm-up: decay_t = min(decay, (1 + t) / (10 + t)) at t = 1
    for average, old, new in zip(model.ema_generator.get_weights(), before, after):
        np.testing.assert_allclose(average, decay * old + (1 - decay) * new, rtol=1e-5, atol=1e-6)
