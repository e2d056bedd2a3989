"""Variational autoencoders: the reparameterised sampling layer, encoder and decoder builders,
a ``keras.Model`` VAE trained by plain ``fit(x)``, the ELBO and the importance-weighted
estimate of log p(x) in nats, and the one training entry point that notebook 05, the tests and
the benchmark share.

The model (Kingma and Welling, 2014): a prior ``p(z) = N(0, I)``, a decoder ``p(x|z)`` and an
encoder ``q(z|x) = N(mean(x), diag(exp(log_var(x))))``. Training maximises the evidence lower
bound, per image,

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x),

with ``z = mean + exp(log_var / 2) * eps``, ``eps ~ N(0, I)`` (one ``eps`` per latent
dimension): the *reparameterisation trick*, which lets gradients flow through the sample. The
KL term has a closed form; the reconstruction term is estimated with one sample. A VAE has no
adversary: encoder and decoder cooperate on one objective.

Likelihoods: ``"bernoulli"`` on binarised pixels (the literature's convention for MNIST, so
that numbers in nats compare with published ones): the training pixels are *dynamically*
binarised (a fresh ``x_bin ~ Bernoulli(x)`` at every step) and the test set is binarised once
with a fixed seed; ``"gaussian"`` with a fixed standard deviation on the grey values (a density,
whose nats do not compare with the Bernoulli ones). ``beta`` weighs the KL term (beta-VAE);
reported ELBOs always use beta = 1.

Introduced in notebook 05_vae_mnist (the theory, verified on a model whose log p(x) is exact,
is in ``course_lib.vae_theory`` and notebook 04_vae_theory). Left out: hierarchical and
autoregressive decoders, normalising-flow posteriors, VQ-VAEs.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from course_lib import _config_checks as checks
from course_lib._checks import as_image_batch, one_of, positive_int
from course_lib._checks import seed as check_seed
from course_lib.runtime import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

LIKELIHOODS = ("bernoulli", "gaussian")
MAX_SAMPLES = 100_000  # latent codes per decode() or generate() call: 314 MB of 28x28 float32
LOG_2PI = math.log(2.0 * math.pi)


# ------------------------------------------------------------------------ densities and KL

def gaussian_kl(mean, log_var):
    """KL(N(mean, diag(exp(log_var))) || N(0, I)) per example, in nats, in closed form.

    KL = -1/2 * sum_j (1 + log_var_j - mean_j^2 - exp(log_var_j))    (batch, latent_dim) -> (batch,)
    Zero exactly when mean = 0 and log_var = 0, positive otherwise.

    Introduced in notebook 04_vae_theory.
    """
    kl = -0.5 * (1.0 + log_var - ops.square(mean) - ops.exp(log_var))  # (batch, latent_dim)
    return ops.sum(kl, axis=-1)                                          # (batch,)


def log_normal(z, mean, log_var):
    """log N(z; mean, diag(exp(log_var))) summed over the last axis, in nats.

    log N = -1/2 * sum_j (log 2 pi + log_var_j + (z_j - mean_j)^2 / exp(log_var_j))

    Introduced in notebook 04_vae_theory.
    """
    return -0.5 * ops.sum(LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var), axis=-1)


def _sum_over_example(values):
    """Sum every axis but the first: (batch, ...) -> (batch,)."""
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)


def bernoulli_log_likelihood(targets, logits):
    """log p(x|z) for binary pixels x with p(x_i = 1) = sigmoid(logit_i), summed per example.

    log p = sum_i x_i * l_i - softplus(l_i)   (= minus the binary cross-entropy; stable for large |l|)
    (batch, ...) -> (batch,).

    Introduced in notebook 04_vae_theory.
    """
    return _sum_over_example(targets * logits - ops.softplus(logits))


def gaussian_log_likelihood(targets, means, std: float):
    """log N(x; means, std^2 I) summed per example: (batch, ...) -> (batch,).

    log p = -1/2 * sum_i ((x_i - m_i)^2 / std^2 + log 2 pi + 2 log std)

    Introduced in notebook 04_vae_theory.
    """
    if not (std > 0 and math.isfinite(std)):
        raise ValueError(f"std must be positive and finite, got {std}.")
    return _sum_over_example(-0.5 * (ops.square((targets - means) / std) + LOG_2PI + 2.0 * math.log(std)))


# ------------------------------------------------------------------------------- sampling

class Sampling(layers.Layer):
    """The reparameterisation trick: ``[mean, log_var] -> mean + exp(log_var / 2) * eps``.

    ``eps ~ N(0, I)`` has the shape of ``mean``: one independent draw per example and latent
    dimension, from the layer's own ``keras.random.SeedGenerator``. The sample is a
    differentiable function of ``mean`` and ``log_var``, so gradients reach the encoder.
    ``num_samples=k`` draws k samples per example: (k, batch, latent_dim).

    Introduced in notebook 04_vae_theory.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, num_samples: int | None = None):
        mean, log_var = inputs
        if tuple(mean.shape) != tuple(log_var.shape):
            raise ValueError(f"mean and log_var must have the same shape, got {tuple(mean.shape)} "
                             f"and {tuple(log_var.shape)}.")
        shape = ops.shape(mean) if num_samples is None else (num_samples, *ops.shape(mean))
        eps = keras.random.normal(shape, seed=self.seed_generator)  # (batch, latent_dim) or (k, batch, latent_dim)
        return mean + ops.exp(0.5 * log_var) * eps                  # z = mu + sigma * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]


# ------------------------------------------------------------------------------- builders

def build_encoder(latent_dim: int = 2, filters=(32, 64), hidden_units: int = 0,
                  image_shape=(28, 28, 1), name: str = "encoder") -> keras.Model:
    """image (28, 28, 1) -> [mean, log_var], each (latent_dim,): stride-2 convolutions, then linear heads.

    Each 3x3 convolution with stride 2 halves the side, rounding up (28 -> 14 -> 7 -> 4);
    ``hidden_units > 0`` adds a dense ReLU layer before the two heads.

    Introduced in notebook 05_vae_mnist.
    """
    latent_dim = positive_int(latent_dim, "latent_dim")
    image = keras.Input(tuple(image_shape), name="image")
    x = image
    for count in filters:
        x = layers.Conv2D(positive_int(count, "filters"), 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)                                        # (side * side * filters[-1],)
    if hidden_units:
        x = layers.Dense(positive_int(hidden_units, "hidden_units"), activation="relu")(x)
    mean = layers.Dense(latent_dim, name="mean")(x)                          # (latent_dim,)
    log_var = layers.Dense(latent_dim, name="log_var")(x)                    # (latent_dim,)
    return keras.Model(image, [mean, log_var], name=name)


def build_decoder(latent_dim: int = 2, filters=(64, 32), hidden_units: int = 0, name: str = "decoder") -> keras.Model:
    """z (latent_dim,) -> pixel logits (28, 28, 1): Dense to 7x7, two stride-2 transposed convolutions.

    The output is a *logit* per pixel: ``sigmoid(logit)`` is the Bernoulli probability (or the
    Gaussian mean) of that pixel.

    Introduced in notebook 05_vae_mnist.
    """
    latent_dim = positive_int(latent_dim, "latent_dim")
    filters = tuple(filters)
    if len(filters) != 2:
        raise ValueError(f"filters must hold exactly 2 widths, one per stride-2 transposed convolution "
                         f"(7 -> 14 -> 28), got {filters}.")
    z = keras.Input((latent_dim,), name="z")
    x = z
    if hidden_units:
        x = layers.Dense(positive_int(hidden_units, "hidden_units"), activation="relu")(x)
    x = layers.Dense(7 * 7 * filters[0], activation="relu")(x)
    x = layers.Reshape((7, 7, filters[0]))(x)                                                     # (7, 7, f0)
    for count in filters:
        x = layers.Conv2DTranspose(positive_int(count, "filters"), 3, strides=2, padding="same",
                                   activation="relu")(x)                                          # 7 -> 14 -> 28
    logits = layers.Conv2D(1, 3, padding="same", name="logits")(x)                                # (28, 28, 1)
    return keras.Model(z, logits, name=name)


# ------------------------------------------------------------------------------- the model

class VAEBase(keras.Model):
    """The plumbing of :class:`VAE`: networks, likelihood, trackers and inference helpers.

    Trackers (``keras.metrics.Mean``): ``loss`` (-beta-ELBO), ``reconstruction``
    (-E_q log p(x|z)) and ``kl``, all in nats per image. A Gaussian likelihood's mean is
    ``sigmoid(decoder output)`` (pixels in [0, 1]), or the output itself with
    ``gaussian_mean="linear"`` (the linear-Gaussian model of notebook 04). A subclass sets
    ``sampling_class`` (the layer that draws z) and defines ``call`` and ``compute_loss``
    (notebook 05_vae_mnist shows :class:`VAE`'s in a cell).

    Introduced in notebook 05_vae_mnist.
    """

    def __init__(self, encoder, decoder, *, likelihood: str = "bernoulli", beta: float = 1.0,
                 observation_std: float = 0.1, gaussian_mean: str = "sigmoid", seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        one_of(likelihood, LIKELIHOODS, "likelihood")
        one_of(gaussian_mean, ("sigmoid", "linear"), "gaussian_mean")
        if not (beta >= 0 and math.isfinite(beta)):
            raise ValueError(f"beta must be a finite, non-negative number, got {beta}.")
        if not (observation_std > 0 and math.isfinite(observation_std)):
            raise ValueError(f"observation_std must be positive and finite, got {observation_std}.")
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.likelihood = likelihood
        self.beta = float(beta)
        self.observation_std = float(observation_std)
        self.gaussian_mean = gaussian_mean
        if not hasattr(self, "sampling_class"):
            raise TypeError(f"{type(self).__name__} must set sampling_class, the layer that draws z "
                            f"(course_lib.vae.VAE sets Sampling); VAEBase itself is only the plumbing.")
        self.sampling = self.sampling_class(seed, name="sampling")
        self.binarize_seed_generator = keras.random.SeedGenerator(seed + 1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def build(self, input_shape=None):
        """Encoder and decoder are built functional models; the sampling layer has no weights."""
        if not self.sampling.built:
            self.sampling.build([(None, self.latent_dim), (None, self.latent_dim)])
        self.built = True

    def log_likelihood(self, targets, logits):
        """log p(x|z) per example, in nats, for this VAE's likelihood."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(targets, logits)
        return gaussian_log_likelihood(targets, self.output_mean(logits), self.observation_std)

    def output_mean(self, logits):
        """E[x|z] from the decoder's output: sigmoid(logits), or the output itself for a linear Gaussian mean."""
        return logits if self.likelihood == "gaussian" and self.gaussian_mean == "linear" else ops.sigmoid(logits)

    # ------------------------------------------------------------------ inference helpers

    @property
    def weights_model(self) -> keras.Model:
        """A functional model holding the encoder's and decoder's layers: what ships in data/."""
        image = keras.Input(self.encoder.inputs[0].shape[1:], name="image")
        z = keras.Input((self.latent_dim,), name="z")
        return keras.Model([image, z], [*self.encoder(image), self.decoder(z)], name="vae_weights")

    def encode(self, images, batch_size: int = 500):
        """(mean, log_var) of q(z|x) as NumPy arrays, (N, latent_dim) each."""
        images = self._check_images(images)
        batch_size = positive_int(batch_size, "batch_size")
        outputs = [self.encoder(images[start:start + batch_size], training=False)
                   for start in range(0, len(images), batch_size)]
        return (np.concatenate([np.asarray(mean) for mean, _ in outputs]),
                np.concatenate([np.asarray(log_var) for _, log_var in outputs]))

    def decode(self, z, batch_size: int = 500) -> np.ndarray:
        """E[x|z] for latent codes z (N, latent_dim): pixel probabilities (Bernoulli) or means, in [0, 1]."""
        batch_size = positive_int(batch_size, "batch_size")
        z = np.asarray(z.numpy() if hasattr(z, "numpy") else z)
        if z.dtype.kind not in "biuf" or z.ndim != 2 or z.shape[1] != self.latent_dim or not len(z):
            raise ValueError(f"z must have shape (batch, {self.latent_dim}) with at least one row of numbers, "
                             f"got {z.dtype} of shape {z.shape}.")
        if len(z) > MAX_SAMPLES or not np.all(np.isfinite(z)):
            raise ValueError(f"z must hold at most {MAX_SAMPLES:,} rows of finite values (no NaN or inf).")
        z = z.astype(np.float32)
        return np.concatenate([np.asarray(self.output_mean(self.decoder(z[start:start + batch_size], training=False)))
                               for start in range(0, len(z), batch_size)])

    def reconstruct(self, images, batch_size: int = 500) -> np.ndarray:
        """Decode the posterior mean of each image: (N, 28, 28, 1) in [0, 1]."""
        mean, _ = self.encode(images, batch_size)
        return self.decode(mean, batch_size)

    def generate(self, num_samples: int, seed: int = 0) -> np.ndarray:
        """Samples z ~ N(0, I) decoded to [0, 1] images (pixel probabilities, not binary draws)."""
        if positive_int(num_samples, "num_samples") > MAX_SAMPLES:
            raise ValueError(f"num_samples must be at most {MAX_SAMPLES:,} per call, got {num_samples:,}.")
        z = np.random.default_rng(check_seed(seed)).standard_normal((num_samples, self.latent_dim))
        return self.decode(z.astype(np.float32))

    def _check_images(self, images) -> np.ndarray:
        expected = tuple(self.encoder.inputs[0].shape[1:])
        if len(expected) == 3:
            images = as_image_batch(images, channels=expected[-1])
        else:
            images = np.asarray(images, dtype=np.float32)
            if not np.all(np.isfinite(images)):
                raise ValueError("images contain NaN or infinite values.")
        if tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must have shape (batch, {', '.join(map(str, expected))}), got {images.shape}.")
        return images


class VAE(VAEBase):
    """A VAE trained by plain ``fit(images)``: ``compute_loss`` returns the negative (beta-)ELBO.

    ``call(images, training)`` encodes, samples ``z`` with the reparameterisation trick and
    decodes; when training with the Bernoulli likelihood it first draws binary targets
    ``x_bin ~ Bernoulli(images)`` (dynamic binarisation) and encodes those. It returns a dict:
    ``targets``, ``mean``, ``log_var``, ``z``, ``logits``. ``VAEBase`` holds the rest (trackers,
    likelihoods, ``encode``, ``decode``, ``generate``).

    Introduced in notebook 05_vae_mnist.
    """

    sampling_class = Sampling  # the layer that draws z = mean + exp(log_var / 2) * eps

    def call(self, images, training=False):
        targets = images
        if training and self.likelihood == "bernoulli":  # dynamic binarisation: a fresh draw each step
            uniform = keras.random.uniform(ops.shape(images), seed=self.binarize_seed_generator)
            targets = ops.cast(uniform < images, images.dtype)
        mean, log_var = self.encoder(targets, training=training)
        z = self.sampling([mean, log_var])
        logits = self.decoder(z, training=training)
        return {"targets": targets, "mean": mean, "log_var": log_var, "z": z, "logits": logits}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:
            y_pred = self(x, training=training)
        reconstruction = -self.log_likelihood(y_pred["targets"], y_pred["logits"])  # (batch,) -E_q log p(x|z), 1 sample
        kl = gaussian_kl(y_pred["mean"], y_pred["log_var"])                        # (batch,) closed form
        loss = ops.mean(reconstruction + self.beta * kl)                           # -(beta-)ELBO, nats per image
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(ops.mean(reconstruction))
        self.kl_tracker.update_state(ops.mean(kl))
        return loss


# ------------------------------------------------------------------------------- evaluation

def binarize(images, seed: int = 0) -> np.ndarray:
    """Binary images x_bin ~ Bernoulli(images), drawn once with ``seed`` (the test-set convention).

    Already-binary images come back unchanged.

    Introduced in notebook 05_vae_mnist.
    """
    images = as_image_batch(images)
    draws = np.random.default_rng(check_seed(seed)).random(images.shape, dtype=np.float32)  # uniform in [0, 1)
    return (draws < images).astype(np.float32)


def _evaluation_targets(vae: VAE, images, seed: int) -> np.ndarray:
    images = vae._check_images(images)
    if vae.likelihood == "bernoulli":
        return binarize(images, seed) if images.ndim == 4 else \
            (np.random.default_rng(seed).random(images.shape, dtype=np.float32) < images).astype(np.float32)
    return images


def _is_not_retracing_warning(record) -> bool:
    return "triggered tf.function retracing" not in record.getMessage()


class _QuietRetracing:
    """Silence TensorFlow's retracing warning while evaluating: every new VAE compiles its own
    evaluation functions once, which that warning (meant for accidental retracing) would flag.
    A filter on the logger and on its handlers drops only that message, whatever the levels."""

    def __enter__(self):
        self.logger = tf.get_logger()
        self.targets = [self.logger, *self.logger.handlers]
        for target in self.targets:
            target.addFilter(_is_not_retracing_warning)

    def __exit__(self, *exception):
        for target in self.targets:
            target.removeFilter(_is_not_retracing_warning)


def _compiled(vae: VAE, name: str, function):
    """``tf.function(function)``, compiled once per VAE and name (not retraced on every call)."""
    cache = vae.__dict__.setdefault("_course_compiled", {})
    if name not in cache:
        cache[name] = tf.function(function, reduce_retracing=True, autograph=False)
    return cache[name]


def _reset_sampling(vae: VAE, seed: int) -> None:
    """Restart the sampling layer's random stream at ``seed`` (an evaluation is then repeatable)."""
    state = vae.sampling.seed_generator.state
    state.assign(ops.cast(ops.convert_to_tensor([seed, 0]), state.dtype))


def _log_weights(vae: VAE, targets, num_samples: int):
    """log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x), z_k ~ q(z|x): (num_samples, batch)."""
    mean, log_var = vae.encoder(targets, training=False)                          # (batch, d) each
    z = vae.sampling([mean, log_var], num_samples=num_samples)                     # (k, batch, d)
    batch = ops.shape(targets)[0]
    flat_z = ops.reshape(z, (num_samples * batch, vae.latent_dim))                 # (k * batch, d)
    logits = vae.decoder(flat_z, training=False)                                   # (k * batch, ...)
    repeated = ops.reshape(ops.broadcast_to(targets[None], (num_samples, *ops.shape(targets))),
                           (num_samples * batch, *targets.shape[1:]))
    log_likelihood = ops.reshape(vae.log_likelihood(repeated, logits), (num_samples, batch))
    log_prior = log_normal(z, ops.zeros_like(z), ops.zeros_like(z))                # (k, batch)
    log_posterior = log_normal(z, mean[None], log_var[None])                       # (k, batch)
    return log_likelihood + log_prior - log_posterior


def elbo_per_image(vae: VAE, images, *, seed: int = 0, batch_size: int = 500) -> np.ndarray:
    """The ELBO of each image in nats (beta = 1): E_q log p(x|z) (one sample) - KL (closed form).

    Bernoulli VAEs score ``binarize(images, seed)``; Gaussian ones the grey values. Returns (N,).

    Introduced in notebook 05_vae_mnist.
    """
    batch_size = positive_int(batch_size, "batch_size")
    targets = _evaluation_targets(vae, images, seed)
    _reset_sampling(vae, seed)  # the same call gives the same numbers

    def elbo_of_batch(batch):
        mean, log_var = vae.encoder(batch, training=False)
        logits = vae.decoder(vae.sampling([mean, log_var]), training=False)
        return vae.log_likelihood(batch, logits) - gaussian_kl(mean, log_var)

    batch_elbo = _compiled(vae, "elbo", elbo_of_batch)

    with _QuietRetracing():
        return np.concatenate([np.asarray(batch_elbo(targets[start:start + batch_size]), dtype=np.float64)
                               for start in range(0, len(targets), batch_size)])


def importance_weighted_log_likelihood(vae: VAE, images, *, num_samples: int = 100, seed: int = 0,
                                       batch_size: int | None = None) -> np.ndarray:
    """The importance-weighted estimate of log p(x) per image, in nats (Burda et al., 2016).

    log p(x) >= L_k = E[log (1/k) sum_k p(x, z_k) / q(z_k|x)],  z_k ~ q(z|x);  L_1 = ELBO <= L_k <= L_{k+1}
    and L_k -> log p(x) as k grows. ``num_samples`` is k. Returns (N,).

    Introduced in notebook 05_vae_mnist.
    """
    num_samples = positive_int(num_samples, "num_samples")
    targets = _evaluation_targets(vae, images, seed)
    batch_size = max(1, 5000 // num_samples) if batch_size is None else positive_int(batch_size, "batch_size")
    _reset_sampling(vae, seed)

    def bound_of_batch(batch):
        log_weights = _log_weights(vae, batch, num_samples)                       # (k, batch)
        return ops.logsumexp(log_weights, axis=0) - math.log(num_samples)         # (batch,)

    batch_bound = _compiled(vae, f"importance_weighted_{num_samples}", bound_of_batch)

    with _QuietRetracing():
        return np.concatenate([np.asarray(batch_bound(targets[start:start + batch_size]), dtype=np.float64)
                               for start in range(0, len(targets), batch_size)])


# ------------------------------------------------------------------------ training entry point

@dataclasses.dataclass(frozen=True)
class VAEConfig:
    """Everything that defines a VAE run on 28x28 greyscale images.

    Introduced in notebook 05_vae_mnist.
    """

    latent_dim: int = 2
    encoder_filters: tuple[int, ...] = (32, 64)
    decoder_filters: tuple[int, ...] = (64, 32)
    encoder_hidden_units: int = 0     # a dense ReLU layer between the convolutions and the heads (0: none)
    decoder_hidden_units: int = 0     # a dense ReLU layer between z and the 7x7 block (0: none)
    likelihood: str = "bernoulli"
    observation_std: float = 0.1      # the Gaussian likelihood's fixed standard deviation
    beta: float = 1.0
    learning_rate: float = 1e-3
    final_learning_rate: float | None = None  # cosine decay to this over `epochs`; None: constant
    batch_size: int = 128
    epochs: int = 30
    max_seconds: float | None = None  # stop after this much training (the shipped runs: 180 s and 300 s)
    seed: int = 0

    def __post_init__(self):
        checks.positive_integer(self, "latent_dim", maximum=checks.MAX_WIDTH)
        checks.widths(self, "encoder_filters")
        # the decoder starts at 7x7 and each width is one stride-2 transposed convolution: 7 -> 14 -> 28
        checks.widths(self, "decoder_filters", lengths=(2,))
        checks.non_negative_integer(self, "encoder_hidden_units", maximum=checks.MAX_WIDTH)
        checks.non_negative_integer(self, "decoder_hidden_units", maximum=checks.MAX_WIDTH)
        checks.name(self, "likelihood", LIKELIHOODS)
        checks.positive(self, "observation_std")
        checks.non_negative(self, "beta")
        checks.learning_rate(self, "learning_rate")
        checks.final_learning_rate(self)
        checks.positive_integer(self, "batch_size")
        checks.positive_integer(self, "epochs")
        checks.seconds(self, "max_seconds")
        checks.seed(self)


def build_vae(config: VAEConfig, steps_per_epoch: int = 8000 // 128, *, model_class=VAE) -> VAE:
    """A compiled, built VAE for ``config`` (the same call in notebook, tests and benchmark).

    ``steps_per_epoch`` sets the length of the cosine learning-rate schedule when
    ``config.final_learning_rate`` is given. Notebook 05 passes as ``model_class`` the ``VAE``
    it defines in a cell, so that the code on the page is the code that trains.

    Introduced in notebook 05_vae_mnist.
    """
    if not (isinstance(model_class, type) and issubclass(model_class, VAEBase)):
        raise TypeError(f"model_class must be a subclass of course_lib.vae.VAEBase, got {model_class!r}.")
    keras.utils.set_random_seed(config.seed)
    vae = model_class(build_encoder(config.latent_dim, config.encoder_filters, config.encoder_hidden_units),
                      build_decoder(config.latent_dim, config.decoder_filters, config.decoder_hidden_units),
                      likelihood=config.likelihood, beta=config.beta, observation_std=config.observation_std,
                      seed=config.seed)
    learning_rate = config.learning_rate
    if config.final_learning_rate is not None:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * steps_per_epoch,
            alpha=config.final_learning_rate / config.learning_rate)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate))
    vae.build((None, 28, 28, 1))
    return vae


def train_vae(config: VAEConfig, images, *, model: VAE | None = None, callbacks=(), workdir=None,
              verbose="auto", restart: bool = False, strategy=None):
    """Train a VAE on ``images`` ([0, 1], (N, 28, 28, 1)) with resumable ``fit()``: ``(vae, history)``.

    The arguments after ``images`` are every family's (``course_lib.training``, "one shape").

    Introduced in notebook 05_vae_mnist.
    """
    from course_lib import training

    images = as_image_batch(images, channels=1, image_shape=(28, 28, 1))
    if len(images) < config.batch_size:
        raise ValueError(f"{len(images)} images are fewer than one batch of {config.batch_size}.")
    if model is None:
        with training.distribution_scope(strategy):
            model = build_vae(config, steps_per_epoch=len(images) // config.batch_size)
    history = training.resumable_fit(model, images, epochs=config.epochs, batch_size=config.batch_size,
                                     config={**dataclasses.asdict(config), "num_images": len(images)},
                                     seed=config.seed, workdir=workdir, name=f"vae{config.latent_dim}",
                                     max_seconds=config.max_seconds, callbacks=callbacks, verbose=verbose,
                                     restart=restart)
    return model, history


# --------------------------------------------------------------------------- shipped weights

# the two shipped models: latent 2 (the 2-D latent map) and latent 16 (quality)
SHIPPED_CONFIGS = {
    "vae_mnist_latent2": VAEConfig(latent_dim=2, encoder_filters=(32, 64, 64), decoder_filters=(32, 16),
                                   encoder_hidden_units=256, decoder_hidden_units=256, batch_size=32, epochs=48,
                                   final_learning_rate=1e-5, max_seconds=180.0),
    "vae_mnist_latent16": VAEConfig(latent_dim=16, batch_size=32, epochs=50, final_learning_rate=1e-5, max_seconds=300.0),
}


def load_vae(name: str = "vae_mnist_latent16", *, retrain: bool = False, config: VAEConfig | None = None,
             model: VAE | None = None, images=None, verbose="auto"):
    """The shipped VAE ``name`` (sha256 checked), or one trained now (``retrain=True`` or none shipped).

    ``config`` defaults to the manifest's (:func:`course_lib.training.shipped_config`);
    ``model``: a built VAE to load the weights into (or to train) instead of a new one.
    Training uses ``images`` when given, else the shipped 8,000 MNIST training digits.
    Returns ``(vae, manifest_or_None)``.

    Introduced in notebook 05_vae_mnist.
    """
    from course_lib import training

    one_of(name, tuple(SHIPPED_CONFIGS), "shipped VAE")
    config = training.shipped_config(name, VAEConfig, SHIPPED_CONFIGS[name], config=config, retrain=retrain)
    holder = {}

    def build():
        holder["vae"] = model if model is not None else build_vae(config)
        return holder["vae"].weights_model

    def train(weights_model):
        from course_lib import data

        training_images = images if images is not None else \
            data.load_dataset("mnist", source="subset", verbose=False).x_train
        train_vae(config, training_images, model=holder["vae"], verbose=verbose)

    _, manifest = training.load_or_train(name, build, train, retrain=retrain, images=images)
    return holder["vae"], manifest


def evaluate(vae: VAE, images, *, num_samples: int = 100, seed: int = 0) -> dict:
    """Test-set numbers in nats per image: negative ELBO and importance-weighted NLL (k = num_samples).

    Introduced in notebook 04_vae_theory.
    """
    started = time.perf_counter()
    negative_elbo = -float(np.mean(elbo_per_image(vae, images, seed=seed)))
    nll = -float(np.mean(importance_weighted_log_likelihood(vae, images, num_samples=num_samples, seed=seed)))
    return {"negative_elbo": negative_elbo, "importance_weighted_nll": nll, "num_samples": num_samples,
            "num_images": len(images), "seconds": time.perf_counter() - started}


def train_and_save(name: str, config: VAEConfig | None = None, *, workdir=None, verbose=2) -> dict:
    """Train shipped VAE ``name`` on the 8,000 MNIST training digits and write its weights and manifest.

    The manifest records the test negative ELBO and the importance-weighted NLL (k = 100) on the
    2,000 held-out digits (binarised once with seed 0), the training time and the loss history.

    Introduced in notebook 04_vae_theory.
    """
    from course_lib import data, training

    config = config or SHIPPED_CONFIGS[name]
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    vae, history = train_vae(config, mnist.x_train, workdir=workdir, verbose=verbose, restart=True)
    numbers = evaluate(vae, mnist.x_test, num_samples=100)
    metrics = {"test_negative_elbo": round(numbers["negative_elbo"], 2),
               "test_importance_weighted_nll_k100": round(numbers["importance_weighted_nll"], 2),
               "evaluation_seconds": round(numbers["seconds"], 1),
               "training_seconds": round(history.training_seconds, 1), "epochs_completed": len(history.epoch),
               "test_set": "2,000 held-out MNIST digits, binarised once with seed 0",
               "history": {key: [round(value, 3) for value in values] for key, values in history.history.items()}}
    return training.save_pretrained(vae.weights_model, name, command=f"python -m course_lib.vae --train {name}",
                                    seed=config.seed, config=dataclasses.asdict(config), metrics=metrics)


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.vae --train NAME`` writes the shipped VAE NAME.

    Introduced in notebook 05_vae_mnist.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Train the course VAEs and write data/pretrained/vae_mnist_*")
    parser.add_argument("--train", nargs="+", choices=sorted(SHIPPED_CONFIGS), required=True)
    args = parser.parse_args(argv)
    from course_lib import training

    training.train_shipped(args.train, SHIPPED_CONFIGS, train_and_save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
