"""Generative adversarial networks: losses, DCGAN builders, a ``keras.Model`` GAN, callbacks,
and the one training entry point that notebook 03, the tests and the benchmark share.

The value function (Goodfellow et al., 2014), with the players the right way round:

    min_G max_D V(D, G),  V = E_x[log D(x)] + E_z[log(1 - D(G(z)))]

The discriminator *ascends* V; the generator *descends* it (the minimax loss) or, in practice,
descends the non-saturating ``-E_z[log D(G(z))]``, which has the same fixed point but strong
gradients while the generator is still bad. Networks output *logits* ``l`` with ``D = sigmoid(l)``,
so ``log D = -softplus(-l)`` and ``log(1 - D) = -softplus(l)``, computed without overflow.

Images are in [0, 1] outside the GAN; it converts to the generator's [-1, 1] (``tanh``) at its
boundary. Introduced in notebooks 02_gan_theory (losses, toy GAN) and 03_dcgan_mnist (DCGAN).
Left out: the conditional GAN that restores images (``course_lib.pix2pix``, notebook 10), the
training loop itself (``course_lib.training.resumable_fit``) and evaluation (``course_lib.evaluator``).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from course_lib import _config_checks as checks
from course_lib._checks import class_labels, one_of, positive_int
from course_lib.runtime import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

GENERATOR_LOSSES = ("non_saturating", "minimax")
MAX_SAMPLES = 100_000  # images per generate() call: 314 MB of 28x28 float32


# ----------------------------------------------------------------------------------- losses

def log_sigmoid(logits):
    """log D = log sigmoid(l) = -softplus(-l), stable for large |l|.

    Introduced in notebook 02_gan_theory.
    """
    return -ops.softplus(-logits)


def log_one_minus_sigmoid(logits):
    """log(1 - D) = log sigmoid(-l) = -softplus(l), stable for large |l|.

    Introduced in notebook 02_gan_theory.
    """
    return -ops.softplus(logits)


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss: -V, so that descending it ascends V.

    -V = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]   (a binary cross-entropy: real = 1, fake = 0)

    Introduced in notebook 02_gan_theory.
    """
    return -ops.mean(log_sigmoid(real_logits)) - ops.mean(log_one_minus_sigmoid(fake_logits))


def generator_loss_minimax(fake_logits):
    """The minimax generator loss: the part of V the generator controls.

    L_G = E_z[log(1 - D(G(z)))]   (saturates: flat where D(G(z)) ~ 0, i.e. early in training)

    Introduced in notebook 02_gan_theory.
    """
    return ops.mean(log_one_minus_sigmoid(fake_logits))


def generator_loss_non_saturating(fake_logits):
    """The non-saturating generator loss.

    L_G = -E_z[log D(G(z))]   (same fixed point, strong gradient where D(G(z)) ~ 0)

    Introduced in notebook 02_gan_theory.
    """
    return -ops.mean(log_sigmoid(fake_logits))


def generator_loss(name: str):
    """The generator loss called ``name``: ``"non_saturating"`` or ``"minimax"``.

    Introduced in notebook 02_gan_theory.
    """
    one_of(name, GENERATOR_LOSSES, "generator loss")
    return {"non_saturating": generator_loss_non_saturating, "minimax": generator_loss_minimax}[name]


# --------------------------------------------------------------------------------- builders

@dataclasses.dataclass(frozen=True)
class DCGANConfig:
    """Everything that defines a DCGAN run on 28x28 greyscale images.

    Introduced in notebook 03_dcgan_mnist.
    """

    latent_dim: int = 64
    generator_filters: tuple[int, ...] = (64, 32)  # (f0, f1) or (f0, f1, f2): see build_dcgan_generator
    discriminator_filters: tuple[int, int] = (32, 64)
    kernel_size: int = 4
    dropout: float = 0.0
    learning_rate: float = 2e-4
    discriminator_learning_rate: float | None = None  # None: the generator's; another value: TTUR
    beta_1: float = 0.5
    batch_size: int = 16
    generator_loss: str = "non_saturating"
    r1_weight: float = 0.0  # gamma of the R1 penalty on the discriminator's gradient at real images
    spectral_norm: bool = False  # spectral normalisation of the discriminator's layers
    ema_decay: float = 0.999  # 0 turns the moving average of the generator's weights off
    jit_compile: bool = True  # XLA: Keras leaves it off on CPU-only machines, where it doubles the speed
    epochs: int = 100
    max_seconds: float | None = None  # the shipped run stops after 300 s (python -m course_lib.gan --train)
    seed: int = 0

    def __post_init__(self):
        checks.positive_integer(self, "latent_dim", maximum=checks.MAX_WIDTH)
        checks.widths(self, "generator_filters", lengths=(2, 3))
        checks.widths(self, "discriminator_filters")
        checks.positive_integer(self, "kernel_size", maximum=28)
        checks.number(self, "dropout", 0.0, 1.0, high_open=True)
        checks.learning_rate(self, "learning_rate")
        checks.learning_rate(self, "discriminator_learning_rate", optional=True)
        checks.adam_beta(self, "beta_1")
        checks.positive_integer(self, "batch_size")
        checks.name(self, "generator_loss", GENERATOR_LOSSES)
        checks.non_negative(self, "r1_weight")
        checks.flag(self, "spectral_norm")
        checks.number(self, "ema_decay", 0.0, 1.0, high_open=True)
        checks.flag(self, "jit_compile")
        checks.positive_integer(self, "epochs")
        checks.seconds(self, "max_seconds")
        checks.seed(self)


def build_dcgan_generator(latent_dim: int = 64, filters=(128, 64), kernel_size: int = 4,
                          name: str = "generator") -> keras.Model:
    """z (latent_dim,) -> image (28, 28, 1) in [-1, 1]: Dense to 7x7, two stride-2 transposed convolutions.

    ``filters=(f0, f1)``: 7x7xf0 -> 14x14xf1 -> the 28x28 image straight from the second
    transposed convolution. ``filters=(f0, f1, f2)``: the second one makes 28x28xf2 features and
    a stride-1 convolution draws the image from them, so every output pixel is computed from a
    full-resolution neighbourhood (smoother strokes, for more computation at 28x28).

    Introduced in notebook 03_dcgan_mnist.
    """
    latent_dim = positive_int(latent_dim, "latent_dim")
    kernel_size = positive_int(kernel_size, "kernel_size")
    filters = tuple(filters)
    if len(filters) not in (2, 3) or not all(isinstance(count, (int, np.integer)) and count > 0 for count in filters):
        raise ValueError(f"filters must be 2 or 3 positive integers, got {filters}.")
    noise = keras.Input((latent_dim,), name="noise")
    x = layers.Dense(7 * 7 * filters[0], use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Reshape((7, 7, filters[0]))(x)                                          # (7, 7, f0)
    x = layers.Conv2DTranspose(filters[1], kernel_size, strides=2, padding="same", use_bias=False)(x)  # (14, 14, f1)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    if len(filters) == 2:
        image = layers.Conv2DTranspose(1, kernel_size, strides=2, padding="same", activation="tanh")(x)  # (28, 28, 1)
        return keras.Model(noise, image, name=name)
    x = layers.Conv2DTranspose(filters[2], kernel_size, strides=2, padding="same", use_bias=False)(x)  # (28, 28, f2)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    image = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)                                # (28, 28, 1)
    return keras.Model(noise, image, name=name)


def build_dcgan_discriminator(filters=(64, 128), kernel_size: int = 4, dropout: float = 0.0,
                              spectral_norm: bool = False, name: str = "discriminator") -> keras.Model:
    """image (28, 28, 1) in [-1, 1] -> one logit: two stride-2 convolutions and a linear output.

    ``spectral_norm=True`` divides each layer's kernel by its largest singular value (Miyato et
    al., 2018; one power iteration per training step), so every layer is 1-Lipschitz.

    Introduced in notebook 03_dcgan_mnist.
    """
    kernel_size = positive_int(kernel_size, "kernel_size")
    if not 0.0 <= dropout < 1.0:  # also refuses NaN
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout!r}.")

    def normalised(layer):
        return layers.SpectralNormalization(layer) if spectral_norm else layer

    image = keras.Input((28, 28, 1), name="image")
    x = image
    for count in filters:
        x = normalised(layers.Conv2D(count, kernel_size, strides=2, padding="same"))(x)   # halves the side
        x = layers.LeakyReLU(negative_slope=0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    logit = normalised(layers.Dense(1))(layers.Flatten()(x))
    return keras.Model(image, logit, name=name)


def build_mlp_generator(latent_dim: int = 2, output_dim: int = 2, hidden_units: int = 128,
                        num_hidden: int = 2, name: str = "toy_generator") -> keras.Model:
    """z -> point: the toy generator of notebook 02 (ReLU MLP, linear output).

    Introduced in notebook 02_gan_theory.
    """
    noise = keras.Input((positive_int(latent_dim, "latent_dim"),), name="noise")
    x = noise
    for _ in range(positive_int(num_hidden, "num_hidden")):
        x = layers.Dense(positive_int(hidden_units, "hidden_units"), activation="relu")(x)
    return keras.Model(noise, layers.Dense(positive_int(output_dim, "output_dim"))(x), name=name)


def build_mlp_discriminator(input_dim: int = 2, hidden_units: int = 128, num_hidden: int = 2,
                            pack: int = 1, name: str = "toy_discriminator") -> keras.Model:
    """point (or a pack of points) -> one logit: the toy discriminator of notebook 02.

    Introduced in notebook 02_gan_theory.
    """
    points = keras.Input((positive_int(input_dim, "input_dim") * positive_int(pack, "pack"),), name="points")
    x = points
    for _ in range(positive_int(num_hidden, "num_hidden")):
        x = layers.Dense(positive_int(hidden_units, "hidden_units"))(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    return keras.Model(points, layers.Dense(1)(x), name=name)


# ------------------------------------------------------------------------------- the model

class GANBase(keras.Model):
    """The plumbing of :class:`GAN`: its players, optimizers, trackers and sampling, not its ``train_step``.

    ``scale_images=True`` maps [0, 1] images to the generator's [-1, 1] and back; the toy GANs
    of notebook 02 train on raw points and set it to False. With ``ema_decay > 0`` a copy of
    the generator keeps an exponential moving average of its weights, which samples better
    than the last iterate; :meth:`generate` uses it. A subclass defines ``train_step`` (notebook
    03_dcgan_mnist shows :class:`GAN`'s in a cell, and an exercise there writes another).

    Introduced in notebook 03_dcgan_mnist.
    """

    def __init__(self, generator, discriminator, latent_dim: int, *, scale_images: bool = True,
                 ema_decay: float = 0.0, pack: int = 1, r1_weight: float = 0.0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.pack = positive_int(pack, "pack")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}.")
        if not r1_weight >= 0.0:
            raise ValueError(f"r1_weight must be >= 0, got {r1_weight}.")
        self.r1_weight = float(r1_weight)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = positive_int(latent_dim, "latent_dim")
        generator_width = generator.inputs[0].shape[-1] if getattr(generator, "inputs", None) else None
        if generator_width is not None and generator_width != self.latent_dim:
            raise ValueError(f"latent_dim is {self.latent_dim} but the generator reads noise of width "
                             f"{generator_width}: pass latent_dim={generator_width}.")
        self.scale_images = scale_images
        self.ema_decay = float(ema_decay)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.ema_generator = None
        if self.ema_decay:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self.discriminator_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_score_tracker = keras.metrics.Mean(name="d_real")  # mean D(x): 1 = sure it is real
        self.fake_score_tracker = keras.metrics.Mean(name="d_fake")  # mean D(G(z))

    def compile(self, discriminator_optimizer, generator_optimizer, generator_loss_name: str = "non_saturating",
                **kwargs):
        super().compile(**kwargs)
        self.discriminator_optimizer = discriminator_optimizer
        self.generator_optimizer = generator_optimizer
        self.generator_loss_name = generator_loss_name
        self.generator_loss_fn = generator_loss(generator_loss_name)

    def build_optimizers(self):
        """Create both optimizers' variables (so that a checkpoint with them can be loaded)."""
        if not self.discriminator_optimizer.built:
            self.discriminator_optimizer.build(self.discriminator.trainable_variables)
        if not self.generator_optimizer.built:
            self.generator_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return [self.discriminator_loss_tracker, self.generator_loss_tracker,
                self.real_score_tracker, self.fake_score_tracker]

    def call(self, noise, training=False):
        return self.generator(noise, training=training)

    def packed(self, samples):
        """PacGAN (Lin et al., 2018): the discriminator judges ``pack`` samples at once.

        (batch, features) -> (batch / pack, pack * features); images are stacked on channels.
        A generator that drops modes makes packs that look alike, which is easy to spot.
        """
        if self.pack == 1:
            return samples
        shape = ops.shape(samples)
        if len(samples.shape) == 2:
            return ops.reshape(samples, (shape[0] // self.pack, self.pack * samples.shape[1]))
        grouped = ops.reshape(samples, (shape[0] // self.pack, self.pack, *samples.shape[1:]))
        grouped = ops.moveaxis(grouped, 1, -2)  # (batch / pack, height, width, pack, channels)
        return ops.reshape(grouped, (shape[0] // self.pack, *samples.shape[1:-1], self.pack * samples.shape[-1]))

    def r1_penalty(self, real):
        """R1 (Mescheder et al., 2018): (gamma / 2) E_x ||grad_x l(x)||^2 on real images only.

        ``real`` (batch, ...) -> a scalar. It pushes the discriminator's logit ``l`` to be flat
        around the data, so it cannot keep sharpening an edge that the generator chases.
        """
        return self.real_logits_and_r1_penalty(real)[1]

    def real_logits_and_r1_penalty(self, real):
        """The discriminator's logits on ``real`` and the R1 penalty (0 when ``r1_weight`` is 0)."""
        if not self.r1_weight:
            return self.discriminator(real, training=True), ops.zeros(())
        real = ops.convert_to_tensor(real, dtype="float32")
        with tf.GradientTape() as tape:
            tape.watch(real)
            logits = self.discriminator(real, training=True)                 # (batch, 1)
            total = ops.sum(logits)  # each l(x_i) depends on x_i only, so d total / d x_i = d l(x_i) / d x_i
        gradients = tape.gradient(total, real)                               # (batch, ...)
        squared_norms = ops.sum(ops.reshape(gradients ** 2, (ops.shape(real)[0], -1)), axis=1)  # (batch,)
        return logits, 0.5 * self.r1_weight * ops.mean(squared_norms)

    def sample_noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def update_moving_average(self):
        """One step of the moving average of the generator's weights (nothing when ``ema_decay`` is 0).

        ema <- decay * ema + (1 - decay) * current, with a warm-up: decay_t = min(decay, (1 + t) / (10 + t))
        so that the average soon forgets the random initial weights.
        """
        if self.ema_generator is None:
            return
        step = ops.cast(self.generator_optimizer.iterations, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for average, current in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * current)

    def generate(self, num_samples: int | None = None, *, noise=None, use_ema: bool = True,
                 batch_size: int = 500) -> np.ndarray:
        """Samples as a NumPy array: [0, 1] images when ``scale_images``, else raw outputs.

        Give ``num_samples`` (fresh noise) or ``noise`` (batch, latent_dim) of finite values, or
        both when they agree; at most ``MAX_SAMPLES`` at a time.
        """
        batch_size = positive_int(batch_size, "batch_size")
        if num_samples is not None and positive_int(num_samples, "num_samples") > MAX_SAMPLES:
            raise ValueError(f"num_samples must be at most {MAX_SAMPLES:,} per call, got {num_samples:,}.")
        if noise is None:
            noise = np.asarray(self.sample_noise(positive_int(num_samples, "num_samples")))
        noise = np.asarray(noise.numpy() if hasattr(noise, "numpy") else noise)
        if noise.dtype.kind not in "biuf" or noise.ndim != 2 or noise.shape[1] != self.latent_dim or not len(noise):
            raise ValueError(f"noise must have shape (batch, {self.latent_dim}) with at least one row of numbers, "
                             f"got {noise.dtype} of shape {noise.shape}.")
        if num_samples is not None and num_samples != len(noise):
            raise ValueError(f"num_samples={num_samples} but noise holds {len(noise)} rows: give one of them.")
        if len(noise) > MAX_SAMPLES or not np.all(np.isfinite(noise)):
            raise ValueError(f"noise must hold at most {MAX_SAMPLES:,} rows of finite values (no NaN or inf).")
        noise = noise.astype(np.float32)
        generator = self.ema_generator if (use_ema and self.ema_generator is not None) else self.generator
        outputs = np.concatenate([np.asarray(generator(noise[start:start + batch_size], training=False))
                                  for start in range(0, len(noise), batch_size)])
        if self.scale_images:
            outputs = np.clip((outputs + 1.0) / 2.0, 0.0, 1.0)  # [-1, 1] -> [0, 1]
        return outputs


class GAN(GANBase):
    """A GAN trained with ``fit()``: one discriminator step, then one generator step per batch.

    ``train_step`` plays one round of the game on a batch of real images and descends the two
    objectives below; ``GANBase`` holds the plumbing it calls (optimizers, trackers, ``packed``,
    the R1 penalty, the moving average).

    Introduced in notebook 03_dcgan_mnist.
    """

    def discriminator_objective(self, real_logits, fake_logits):
        """What the discriminator descends: -V = -E[log D(x)] - E[log(1 - D(G(z)))]."""
        return discriminator_loss(real_logits, fake_logits)

    def generator_objective(self, generated_logits):
        """What the generator descends: the loss ``compile`` chose (non-saturating: -E[log D(G(z))])."""
        return self.generator_loss_fn(generated_logits)

    def train_step(self, real):
        if isinstance(real, tuple):  # (images, labels) datasets: the labels are not used
            real = real[0]
        if self.scale_images:
            real = real * 2.0 - 1.0  # [0, 1] -> [-1, 1]
        batch_size = ops.shape(real)[0]

        # Discriminator: ascend V, i.e. descend -V = -E[log D(x)] - E[log(1 - D(G(z)))]
        noise = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            fake = self.generator(noise, training=True)
            real_logits, r1 = self.real_logits_and_r1_penalty(self.packed(real))
            fake_logits = self.discriminator(self.packed(fake), training=True)
            d_loss = self.discriminator_objective(real_logits, fake_logits) + r1
        gradients = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.discriminator_optimizer.apply_gradients(zip(gradients, self.discriminator.trainable_variables))

        # Generator: descend its loss through the (now fixed) discriminator
        noise = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            generated_logits = self.discriminator(self.packed(self.generator(noise, training=True)), training=True)
            g_loss = self.generator_objective(generated_logits)
        gradients = tape.gradient(g_loss, self.generator.trainable_variables)
        self.generator_optimizer.apply_gradients(zip(gradients, self.generator.trainable_variables))

        self.update_moving_average()  # the generator's weights, averaged over training (ema_decay > 0)

        self.discriminator_loss_tracker.update_state(d_loss)
        self.generator_loss_tracker.update_state(g_loss)
        self.real_score_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.fake_score_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {metric.name: metric.result() for metric in self.metrics}


# ------------------------------------------------------------------------------- callbacks

class SampleAndFIDCallback(keras.callbacks.Callback):
    """Every ``every`` epochs: a grid of samples from fixed noise, and the FID on the evaluator.

    The FID of ``num_samples`` generated images against ``reference_images`` (the held-out
    digits) is added to the epoch's logs as ``fid``, so it lands in the history beside the
    losses; ``samples`` maps each epoch to its grid of images from the same fixed noise.

    Introduced in notebook 03_dcgan_mnist.
    """

    def __init__(self, evaluator=None, reference_images=None, *, every: int = 1, num_samples: int = 2000,
                 num_grid: int = 32, seed: int = 0):
        super().__init__()
        self.evaluator = evaluator
        self.reference_features = None if evaluator is None else evaluator.features(reference_images)
        self.every = positive_int(every, "every")
        self.num_samples = positive_int(num_samples, "num_samples")
        self.num_grid = positive_int(num_grid, "num_grid")
        self.seed = seed
        self.samples: dict[int, np.ndarray] = {}
        self.fid: dict[int, float] = {}
        self.fixed_noise = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if self.fixed_noise is None:
            self.fixed_noise = np.random.default_rng(self.seed).normal(
                size=(max(self.num_grid, self.num_samples), self.model.latent_dim)).astype(np.float32)
        self.samples[epoch + 1] = self.model.generate(noise=self.fixed_noise[: self.num_grid])
        if self.evaluator is not None:
            from course_lib import metrics

            generated = self.model.generate(noise=self.fixed_noise[: self.num_samples])
            self.fid[epoch + 1] = metrics.frechet_distance(self.evaluator.features(generated),
                                                           self.reference_features)
            if logs is not None:
                logs["fid"] = self.fid[epoch + 1]


# ------------------------------------------------------------------------ training entry point

def build_dcgan(config: DCGANConfig, *, model_class=GAN, build_generator=build_dcgan_generator,
                build_discriminator=build_dcgan_discriminator) -> GAN:
    """A compiled, built DCGAN for ``config`` (the same call in notebook, tests and benchmark).

    Notebook 03 passes the ``GAN`` class and the two builders it defines in its cells, so
    that the code on the page is the code that trains; by default they are this module's.

    Introduced in notebook 03_dcgan_mnist.
    """
    if not (isinstance(model_class, type) and issubclass(model_class, GANBase)):
        raise TypeError(f"model_class must be a subclass of course_lib.gan.GANBase, got {model_class!r}.")
    if not (callable(build_generator) and callable(build_discriminator)):
        raise TypeError("build_generator and build_discriminator must be functions that return keras models.")
    keras.utils.set_random_seed(config.seed)
    gan = model_class(build_generator(config.latent_dim, config.generator_filters, config.kernel_size),
                      build_discriminator(config.discriminator_filters, config.kernel_size, config.dropout,
                                          spectral_norm=config.spectral_norm),
                      config.latent_dim, ema_decay=config.ema_decay, r1_weight=config.r1_weight, seed=config.seed)
    discriminator_learning_rate = config.discriminator_learning_rate or config.learning_rate
    gan.compile(keras.optimizers.Adam(discriminator_learning_rate, beta_1=config.beta_1),
                keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1),
                generator_loss_name=config.generator_loss, jit_compile=config.jit_compile)
    gan.build((None, config.latent_dim))
    return gan


def train_dcgan(config: DCGANConfig, images, *, model: GAN | None = None, callbacks=(), workdir=None,
                verbose="auto", restart: bool = False, strategy=None):
    """Train a DCGAN on ``images`` ([0, 1], (N, 28, 28, 1)) with resumable ``fit()``: ``(gan, history)``.

    The arguments after ``images`` are every family's (``course_lib.training``, "one shape").

    Introduced in notebook 03_dcgan_mnist.
    """
    from course_lib import training
    from course_lib._checks import as_image_batch

    images = as_image_batch(images, channels=1, image_shape=(28, 28, 1))
    if model is None:
        with training.distribution_scope(strategy):
            model = build_dcgan(training.build_config(config, strategy))
    history = training.resumable_fit(model, images, epochs=config.epochs, batch_size=config.batch_size,
                                     config={**dataclasses.asdict(config), "num_images": len(images)},
                                     seed=config.seed, workdir=workdir, name="dcgan", max_seconds=config.max_seconds,
                                     callbacks=callbacks, verbose=verbose, restart=restart)
    return model, history


# --------------------------------------------------------------------------- shipped weights

PRETRAINED_NAME = "dcgan_mnist"


def class_histogram(labels, num_classes: int = 10) -> np.ndarray:
    """Share of generated samples the evaluator puts in each class (uniform = 1 / num_classes).

    ``labels``: a non-empty 1-D array of integer classes in [0, num_classes). Returns (num_classes,).

    Introduced in notebook 03_dcgan_mnist.
    """
    labels = class_labels(labels, positive_int(num_classes, "num_classes"))
    return np.bincount(labels, minlength=num_classes) / len(labels)


def train_and_save(config: DCGANConfig, *, workdir=None, verbose=2) -> dict:
    """Train the course DCGAN on the shipped MNIST split and write its weights and manifest.

    Ships the moving-average generator (``data/pretrained/dcgan_mnist.weights.h5``), a manifest
    with the FID measured against the real-vs-real floor, and ``dcgan_mnist_progress.npz``:
    sample grids (fixed noise) and FID after every epoch, which notebook 03 plots.

    Introduced in notebook 02_gan_theory.
    """
    from course_lib import data, metrics, training
    from course_lib.evaluator import load_evaluator

    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    evaluator, _ = load_evaluator()
    progress = SampleAndFIDCallback(evaluator, mnist.x_test, every=1, num_samples=2000, seed=config.seed)
    started = time.perf_counter()
    model, history = train_dcgan(config, mnist.x_train, callbacks=[progress], workdir=workdir, verbose=verbose,
                                 restart=True)
    seconds = time.perf_counter() - started
    samples = model.generate(2000)
    test_features = evaluator.features(mnist.x_test)
    fid = metrics.frechet_distance(evaluator.features(samples), test_features)
    floor = metrics.frechet_distance(evaluator.features(mnist.x_train[:2000]), test_features)
    histogram = class_histogram(evaluator.predict_labels(samples))
    folder = training.pretrained_dir()
    epochs = sorted(progress.samples)
    np.savez_compressed(folder / f"{PRETRAINED_NAME}_progress.npz",
                        epochs=np.array(epochs), fid=np.array([progress.fid[epoch] for epoch in epochs]),
                        samples=np.stack([np.round(progress.samples[epoch] * 255).astype(np.uint8) for epoch in epochs]),
                        **{f"history_{key}": np.array(values) for key, values in history.history.items()})
    manifest = training.save_pretrained(
        model.ema_generator if model.ema_generator is not None else model.generator, PRETRAINED_NAME,
        command="python -m course_lib.gan --train", seed=config.seed, config=dataclasses.asdict(config),
        metrics={"fid": round(fid, 3), "fid_floor_real_vs_real": round(floor, 3),
                 "fid_over_floor": round(fid / floor, 2),
                 "training_seconds": round(history.training_seconds, 1),  # inside epochs
                 "wall_seconds": round(seconds, 1),  # with the per-epoch FID and checkpoints
                 "updates": int(model.generator_optimizer.iterations.numpy()),
                 "epochs_completed": len(epochs), "class_histogram": np.round(histogram, 4).tolist(),
                 "num_samples": 2000, "reference": "2,000 held-out MNIST digits"})
    return add_progress_to_manifest(manifest)


def add_progress_to_manifest(manifest: dict) -> dict:
    """Record the progress file's name and sha256 in the shipped generator's manifest.

    Introduced in notebook 02_gan_theory.
    """
    import json

    from course_lib import data, training

    progress_path = training.pretrained_dir() / f"{PRETRAINED_NAME}_progress.npz"
    manifest = {**manifest, "progress_file": progress_path.name, "progress_sha256": data.sha256_of(progress_path)}
    (training.pretrained_dir() / f"{PRETRAINED_NAME}.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def load_progress() -> dict:
    """The shipped training run's per-epoch sample grids ([0, 1]), FID and losses, sha256-checked.

    Introduced in notebook 03_dcgan_mnist.
    """
    from course_lib import data, training

    manifest = training.read_manifest(PRETRAINED_NAME)
    missing = [field for field in ("progress_file", "progress_sha256") if not isinstance(manifest.get(field), str)]
    if missing:
        raise ValueError(f"{training.pretrained_dir() / f'{PRETRAINED_NAME}.json'} is damaged: it lacks {missing}; "
                         f"restore it with `git checkout -- data/pretrained/{PRETRAINED_NAME}.json`.")
    path = data.verify_sha256(training.pretrained_dir() / manifest["progress_file"], manifest["progress_sha256"],
                              f"Restore it with `git checkout data/pretrained/` or rerun `{manifest['command']}`.")
    with np.load(path, allow_pickle=False) as archive:
        progress = {key: archive[key] for key in archive.files}
    progress["samples"] = progress["samples"].astype(np.float32) / 255.0
    progress["history"] = {key.removeprefix("history_"): progress.pop(key).tolist()
                           for key in list(progress) if key.startswith("history_")}
    progress["history"]["fid"] = progress["fid"].tolist()
    return progress


def load_generator(name: str = PRETRAINED_NAME, *, retrain: bool = False, config: DCGANConfig | None = None,
                   model: GAN | None = None, images=None, verbose=2):
    """The shipped DCGAN generator (moving average of weights), or a freshly trained one.

    Returns ``(gan, manifest_or_None)``: a :class:`GAN` whose generator is ready to sample.
    ``config`` defaults to the manifest's (:func:`course_lib.training.shipped_config`);
    ``model``: a built GAN to load the weights into (or to train) instead of a new one.
    Training (``retrain=True``, or nothing shipped) uses ``images`` when given, else the
    shipped MNIST training split.

    Introduced in notebook 03_dcgan_mnist.
    """
    from course_lib import training

    one_of(name, (PRETRAINED_NAME,), "shipped DCGAN")
    config = training.shipped_config(name, DCGANConfig, DCGANConfig(), config=config, retrain=retrain)
    holder = {}

    def build():
        holder["gan"] = model if model is not None else build_dcgan(dataclasses.replace(config, ema_decay=0.0))
        return holder["gan"].generator

    def train(generator):
        from course_lib import data

        training_images = images if images is not None else \
            data.load_dataset("mnist", source="subset", verbose=False).x_train
        trained, _ = train_dcgan(config, training_images, verbose=verbose)
        source = trained.ema_generator if trained.ema_generator is not None else trained.generator
        generator.set_weights(source.get_weights())

    _, manifest = training.load_or_train(name, build, train, retrain=retrain, images=images)
    gan = holder["gan"]
    if gan.ema_generator is not None:  # a GAN given with a moving average samples from it: the same weights
        gan.ema_generator.set_weights(gan.generator.get_weights())
    return gan, manifest


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.gan --train`` writes data/pretrained/dcgan_mnist.*.

    Introduced in notebook 03_dcgan_mnist.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Train the course DCGAN and write data/pretrained/dcgan_mnist.*")
    parser.add_argument("--train", action="store_true", required=True)
    parser.add_argument("--seconds", type=float, default=300.0, help="training time limit")
    parser.add_argument("--epochs", type=int, default=DCGANConfig.epochs)
    args = parser.parse_args(argv)
    from course_lib import runtime

    runtime.seed_everything(DCGANConfig.seed)
    manifest = train_and_save(dataclasses.replace(DCGANConfig(), max_seconds=args.seconds, epochs=args.epochs))
    print(manifest["metrics"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
