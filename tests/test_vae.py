"""Properties of course_lib.vae: the KL, likelihoods and sampling layer against references; the
course VAE's ELBO and importance-weighted bound against the exact log p(x) of a linear-Gaussian
model; training, resuming and the shipped weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import special, stats

from course_lib import vae, vae_theory

keras = vae.keras


def test_gaussian_kl_matches_the_numpy_closed_form_and_is_zero_only_at_the_prior():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(vae.gaussian_kl(mean, log_var)),
                               vae_theory.kl_diagonal_standard_normal(mean, log_var), rtol=1e-5)
    assert float(vae.gaussian_kl(np.zeros((1, 4), "float32"), np.zeros((1, 4), "float32"))[0]) == 0.0
    assert np.all(np.asarray(vae.gaussian_kl(mean, log_var)) > 0)


def test_likelihoods_match_scipy():
    rng = np.random.default_rng(1)
    targets = (rng.random((3, 4, 4, 1)) < 0.5).astype(np.float32)
    logits = (5 * rng.normal(size=(3, 4, 4, 1))).astype(np.float32)
    expected = stats.bernoulli(special.expit(logits)).logpmf(targets).reshape(3, -1).sum(axis=1)
    np.testing.assert_allclose(np.asarray(vae.bernoulli_log_likelihood(targets, logits)), expected, rtol=1e-5)
    grey = rng.random((3, 4, 4, 1)).astype(np.float32)
    means = rng.random((3, 4, 4, 1)).astype(np.float32)
    expected = stats.norm(means, 0.1).logpdf(grey).reshape(3, -1).sum(axis=1)
    np.testing.assert_allclose(np.asarray(vae.gaussian_log_likelihood(grey, means, 0.1)), expected, rtol=1e-5)


def test_reparameterised_samples_have_the_requested_mean_and_variance_with_independent_dimensions():
    sampling = vae.Sampling(seed=3)
    mean = np.array([[1.0, -2.0, 0.5]], dtype=np.float32)
    log_var = np.array([[0.0, np.log(4.0), np.log(0.25)]], dtype=np.float32)
    z = np.asarray(sampling([mean, log_var], num_samples=100_000))[:, 0]       # (k, latent_dim)
    np.testing.assert_allclose(z.mean(axis=0), mean[0], atol=0.02)
    np.testing.assert_allclose(z.var(axis=0), np.exp(log_var[0]), rtol=0.02)
    correlation = np.corrcoef(z.T)
    assert np.all(np.abs(correlation[np.triu_indices(3, 1)]) < 0.02)            # one eps per dimension
    batch = np.asarray(sampling([np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")]))
    assert batch.shape == (4, 3) and len(np.unique(batch)) == 12                  # and per example


def test_sampling_is_differentiable_through_mean_and_log_var():
    import tensorflow as tf

    sampling = vae.Sampling(seed=4)
    mean, log_var = tf.constant([[0.3, -0.2]]), tf.constant([[0.1, -0.4]])
    with tf.GradientTape() as tape:
        tape.watch([mean, log_var])
        z = sampling([mean, log_var])
        total = tf.reduce_sum(z)
    gradient_mean, gradient_log_var = tape.gradient(total, [mean, log_var])
    np.testing.assert_allclose(gradient_mean, [[1.0, 1.0]])
    eps = (z - mean) / tf.exp(0.5 * log_var)
    np.testing.assert_allclose(gradient_log_var, 0.5 * tf.exp(0.5 * log_var) * eps, rtol=1e-5)  # dz/dlog_var


def linear_gaussian_vae(model, encoder_shift: float = 0.0, encoder_log_var_shift: float = 0.0):
    """The course VAE with linear encoder/decoder set to a linear-Gaussian model and its true posterior."""
    layers = vae.layers
    x = keras.Input((model.data_dim,))
    encoder = keras.Model(x, [layers.Dense(model.latent_dim)(x), layers.Dense(model.latent_dim)(x)])
    z = keras.Input((model.latent_dim,))
    decoder = keras.Model(z, layers.Dense(model.data_dim)(z))
    _, covariance = vae_theory.true_posterior(model, np.zeros((1, model.data_dim)))
    gain = model.weights @ covariance / model.noise_std ** 2                        # mean = (x - b) W S / s^2
    encoder.layers[1].set_weights([gain, -model.bias @ gain + encoder_shift])
    encoder.layers[2].set_weights([np.zeros_like(gain), np.log(np.diag(covariance)) + encoder_log_var_shift])
    decoder.layers[1].set_weights([model.weights.T, model.bias])
    return vae.VAE(encoder, decoder, likelihood="gaussian", observation_std=model.noise_std,
                   gaussian_mean="linear", seed=0)


@pytest.fixture(scope="module")
def linear_model():
    model = vae_theory.random_linear_gaussian(data_dim=6, latent_dim=2, noise_std=0.5, seed=0, orthogonal=True)
    return model, vae_theory.sample_data(model, 8, seed=1).astype(np.float32)


def test_course_vae_elbo_and_iwae_equal_exact_log_p_at_the_true_posterior(linear_model):
    model, x = linear_model
    exact = vae_theory.log_marginal(model, x)
    _, covariance = vae_theory.true_posterior(model, x)
    assert np.allclose(covariance, np.diag(np.diag(covariance)))                  # a diagonal q can match it
    course_vae = linear_gaussian_vae(model)
    for k in (1, 5):  # every importance weight p(x, z) / q(z|x) is p(x): exact for any sample
        np.testing.assert_allclose(vae.importance_weighted_log_likelihood(course_vae, x, num_samples=k), exact, atol=2e-3)
    repeated = np.repeat(x, 2000, axis=0)  # elbo_per_image (closed-form KL, one-sample reconstruction): exact on average
    np.testing.assert_allclose(vae.elbo_per_image(course_vae, repeated).reshape(len(x), -1).mean(axis=1), exact, atol=0.05)


def test_course_vae_bounds_match_the_closed_form_and_tighten_with_k(linear_model):
    model, x = linear_model
    course_vae = linear_gaussian_vae(model, encoder_shift=0.5, encoder_log_var_shift=0.7)
    exact = vae_theory.log_marginal(model, x)
    means, log_var = course_vae.encode(x)
    closed_form = vae_theory.elbo(model, x, means, np.diag(np.exp(log_var[0])))
    repeated = np.repeat(x, 2000, axis=0)                                           # average many one-sample ELBOs
    values = vae.elbo_per_image(course_vae, repeated, batch_size=4000).reshape(len(x), 2000)
    standard_error = values.std(axis=1) / np.sqrt(2000)
    assert np.all(np.abs(values.mean(axis=1) - closed_form) < 5 * standard_error)
    assert np.all(closed_form < exact - 0.3)
    bounds = [vae.importance_weighted_log_likelihood(course_vae, repeated[::10], num_samples=k).mean()
              for k in (1, 10, 100)]
    assert bounds[0] < bounds[1] < bounds[2] < exact.mean()
    assert exact.mean() - bounds[2] < 0.1 * (exact.mean() - bounds[0])


@pytest.fixture(scope="module")
def few_digits():
    from course_lib import data

    return data.load_dataset("mnist", source="subset", verbose=False).x_train[:256]


SMALL = vae.VAEConfig(latent_dim=4, encoder_filters=(8, 16), decoder_filters=(16, 8), batch_size=32, epochs=2,
                      learning_rate=2e-3, seed=1)


def test_training_lowers_the_loss_and_tracks_reconstruction_and_kl(few_digits, tmp_path):
    model, history = vae.train_vae(SMALL, few_digits, workdir=tmp_path, verbose=0)
    assert set(history.history) == {"loss", "reconstruction", "kl"}
    loss = np.array(history.history["loss"])
    np.testing.assert_allclose(loss, np.add(history.history["reconstruction"], history.history["kl"]), rtol=1e-4)
    assert loss[-1] < loss[0] < 784 * np.log(2) + 10  # below the coin-flip 543 nats after one epoch
    samples = model.generate(6, seed=3)  # z ~ N(0, I) from the seed, decoded to sigmoid(logits)
    z = np.random.default_rng(3).standard_normal((6, SMALL.latent_dim)).astype(np.float32)
    logits = np.asarray(model.decoder(z, training=False), dtype=np.float64)
    np.testing.assert_allclose(samples, special.expit(logits), atol=1e-5)
    assert not np.allclose(model.generate(6, seed=4), samples)
    assert model.reconstruct(few_digits[:3]).shape == (3, 28, 28, 1)


def test_iwae_bound_of_a_trained_vae_is_above_its_elbo(few_digits, tmp_path):
    model, _ = vae.train_vae(SMALL, few_digits, workdir=tmp_path, verbose=0)
    elbo = vae.elbo_per_image(model, few_digits[:64]).mean()
    assert vae.elbo_per_image(model, few_digits[:64]).mean() == elbo               # seeded: repeatable
    bound = vae.importance_weighted_log_likelihood(model, few_digits[:64], num_samples=20).mean()
    assert elbo < bound < 0


def test_vae_training_resumes_to_the_same_weights(few_digits, tmp_path):
    from course_lib import runtime

    runtime.seed_everything(0, deterministic=True)
    straight, _ = vae.train_vae(SMALL, few_digits, workdir=tmp_path / "straight", verbose=0)
    runtime.seed_everything(0, deterministic=True)
    vae.train_vae(dataclasses.replace(SMALL, epochs=1), few_digits, workdir=tmp_path / "resumed", verbose=0)
    runtime.seed_everything(0, deterministic=True)
    resumed, _ = vae.train_vae(SMALL, few_digits, workdir=tmp_path / "resumed", verbose=0)
    for expected, actual in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_saved_weights_round_trip(few_digits, tmp_path):
    from course_lib import training

    model, _ = vae.train_vae(dataclasses.replace(SMALL, epochs=1), few_digits, workdir=tmp_path, verbose=0)
    manifest = training.save_pretrained(model.weights_model, "tiny_vae", command="test", seed=1,
                                        config=dataclasses.asdict(SMALL), metrics={}, folder=tmp_path)
    fresh = vae.build_vae(dataclasses.replace(SMALL, seed=2))
    fresh.weights_model.load_weights(tmp_path / manifest["file"])
    np.testing.assert_allclose(fresh.reconstruct(few_digits[:4]), model.reconstruct(few_digits[:4]), atol=1e-6)


# the course's targets: latent 2, test negative ELBO <= 148 nats; latent 16, importance-weighted NLL <= 93
@pytest.mark.parametrize("name,target,key", [("vae_mnist_latent2", 148.0, "test_negative_elbo"),
                                             ("vae_mnist_latent16", 93.0, "test_importance_weighted_nll_k100")])
def test_shipped_vaes_load_and_keep_their_recorded_quality(name, target, key):
    from course_lib import data

    model, manifest = vae.load_vae(name)
    assert manifest is not None and manifest["metrics"][key] <= target
    test_digits = data.load_dataset("mnist", source="subset", verbose=False).x_test[:500]
    negative_elbo = -vae.elbo_per_image(model, test_digits).mean()
    assert negative_elbo == pytest.approx(manifest["metrics"]["test_negative_elbo"], abs=6)  # 500 of the 2,000


def test_bad_vae_inputs_raise_clear_errors(few_digits):
    with pytest.raises(ValueError, match="likelihood"):
        vae.VAEConfig(likelihood="poisson")
    with pytest.raises(ValueError, match="latent_dim"):
        vae.VAEConfig(latent_dim=0)
    with pytest.raises(ValueError, match="beta"):
        vae.VAE(vae.build_encoder(2), vae.build_decoder(2), beta=-1.0)
    with pytest.raises(ValueError, match="same shape"):
        vae.Sampling()([np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32")])
    model = vae.build_vae(SMALL)
    with pytest.raises(ValueError, match="28x28x1"):
        vae.train_vae(SMALL, np.zeros((64, 32, 32, 1), "float32"))
    with pytest.raises(ValueError, match="must lie in"):
        vae.elbo_per_image(model, few_digits[:4] * 2)
    with pytest.raises(ValueError, match="shape"):
        model.decode(np.zeros((3, 5), "float32"))
    with pytest.raises(ValueError, match="num_samples"):
        vae.importance_weighted_log_likelihood(model, few_digits[:4], num_samples=0)
    with pytest.raises(ValueError, match="shipped VAE"):
        vae.load_vae("vae_mnist_latent3")
