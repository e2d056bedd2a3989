"""Diffusion and flow-matching models in Keras: a time-conditioned U-Net, a ``keras.Model`` that
``fit()`` trains, sampling with every sampler of ``course_lib.diffusion_theory``, and the one
training entry point that notebook 07, the tests and the benchmark share.

The model learns to undo the corruption ``x_t = alpha(t) x_0 + sigma(t) eps`` of
``course_lib.diffusion_theory``: a *diffusion* model (``schedule="cosine"`` or ``"linear"``,
``prediction="epsilon"``) regresses the noise, a *flow-matching* model (``schedule="straight"``,
``prediction="velocity"``) regresses the velocity ``eps - x_0`` of the straight path. Both are
the same :class:`Diffusion` class with the same loss, ``mean |prediction - target|^2`` at a
uniformly drawn time. With ``num_classes > 0`` the network also reads a label; a fraction
``label_dropout`` of the training labels is replaced by the "no label" class ``num_classes``, so
one network predicts both ``v(x, t | y)`` and ``v(x, t)``, and classifier-free guidance (Ho and
Salimans, 2021) samples with ``v(x, t) + w (v(x, t | y) - v(x, t))``: ``w = 1`` is plain
conditional sampling, larger ``w`` trades diversity for fidelity to the label.

Images are in [0, 1] outside the model and in [-1, 1] inside. The weights that sample are an
exponential moving average (EMA) of the trained ones, with a warm-up (as the DCGAN's).
Introduced in notebook 07_diffusion_mnist.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from course_lib import _config_checks as checks
from course_lib import diffusion_theory as theory
from course_lib._checks import as_image_batch, boolean, class_labels, fraction, non_negative_number, one_of, positive_int
from course_lib._checks import seed as check_seed
from course_lib.runtime import import_tensorflow
from course_lib.training import MeasureAtSeconds

tf = import_tensorflow()
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

FAMILIES = {("cosine", "epsilon"): "diffusion", ("linear", "epsilon"): "diffusion",
            ("straight", "velocity"): "flow matching"}
MAX_SAMPLES = 100_000  # images per generate() call: 314 MB of 28x28 float32
PRETRAINED_NAME = "flow_mnist"


# ------------------------------------------------------------------------------ the network

class SinusoidalEmbedding(layers.Layer):
    """Time t in [0, 1] -> ``dim`` features ``[sin(1000 t f_k), cos(1000 t f_k)]`` with frequencies
    ``f_k`` spaced geometrically from 1 to 1/10,000 (the Transformer's position code, Vaswani et al.).

    Introduced in notebook 07_diffusion_mnist.
    """

    def __init__(self, dim: int, **kwargs):
        super().__init__(**kwargs)
        if dim % 2:
            raise ValueError(f"dim must be even (a sine and a cosine per frequency), got {dim}.")
        self.dim = dim

    def call(self, t):
        half = self.dim // 2
        frequencies = ops.exp(-math.log(10_000.0) * ops.arange(half, dtype="float32") / half)
        angles = 1000.0 * ops.reshape(ops.cast(t, "float32"), (-1, 1)) * frequencies[None, :]
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


def residual_block(x, embedding, width: int, groups: int, name: str):
    """GroupNorm -> swish -> 3x3 conv, plus the projected time (and label) embedding, twice; and a
    skip connection (a 1x1 conv when the width changes).

    Introduced in notebook 07_diffusion_mnist.
    """
    skip = x if x.shape[-1] == width else layers.Conv2D(width, 1, name=f"{name}_skip")(x)
    h = layers.GroupNormalization(min(groups, x.shape[-1]), name=f"{name}_norm1")(x)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv1")(layers.Activation("swish")(h))
    h = h + layers.Reshape((1, 1, width))(layers.Dense(width, name=f"{name}_time")(embedding))
    h = layers.GroupNormalization(min(groups, width), name=f"{name}_norm2")(h)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv2")(layers.Activation("swish")(h))
    return skip + h


def build_unet(widths=(32, 64, 128), *, embedding_dim: int = 128, num_classes: int = 0, groups: int = 8,
               image_shape=(28, 28, 1), condition_channels: int = 0, name: str = "unet") -> keras.Model:
    """A time-conditioned U-Net: inputs ``[x_t, t]`` (and ``label`` when ``num_classes > 0``, then
    ``condition`` when ``condition_channels > 0``), output of the shape of ``x_t``.

    One residual block per resolution on the way down (28, 14, 7 for three ``widths``), one in
    the middle, one per resolution on the way up after concatenating the skip connection.
    Time goes through :class:`SinusoidalEmbedding` and a two-layer MLP; a label (0 to
    ``num_classes``, where ``num_classes`` means "no label") adds a learned embedding to it.
    A ``condition`` image (notebook 11's restorer reads the damaged digit and its mask) is
    stacked onto ``x_t`` before the first convolution.
    The last convolution starts at zero, so the untrained network predicts 0.

    Introduced in notebook 07_diffusion_mnist.
    """
    if isinstance(condition_channels, bool) or not isinstance(condition_channels, (int, np.integer)) \
            or condition_channels < 0:
        raise ValueError(f"condition_channels must be a non-negative integer (0: no condition), "
                         f"got {condition_channels!r}.")
    x_in = keras.Input(image_shape, name="x_t")
    t_in = keras.Input((), name="t")
    inputs = [x_in, t_in]
    embedding = SinusoidalEmbedding(embedding_dim, name="time_features")(t_in)
    embedding = layers.Dense(embedding_dim, activation="swish", name="time_mlp1")(embedding)
    embedding = layers.Dense(embedding_dim, name="time_mlp2")(embedding)
    if num_classes:
        label_in = keras.Input((), dtype="int32", name="label")
        inputs.append(label_in)
        embedding = embedding + layers.Embedding(num_classes + 1, embedding_dim, name="label_embedding")(label_in)
    embedding = layers.Activation("swish")(embedding)
    h = x_in
    if condition_channels:
        condition_in = keras.Input(tuple(image_shape[:-1]) + (condition_channels,), name="condition")
        inputs.append(condition_in)
        h = layers.Concatenate(name="with_condition")([x_in, condition_in])

    h = layers.Conv2D(widths[0], 3, padding="same", name="stem")(h)
    skips = []
    for level, width in enumerate(widths):
        h = residual_block(h, embedding, width, groups, f"down{level}")
        skips.append(h)
        if level < len(widths) - 1:
            h = layers.Conv2D(width, 3, strides=2, padding="same", name=f"downsample{level}")(h)
    h = residual_block(h, embedding, widths[-1], groups, "middle")
    for level in reversed(range(len(widths))):
        h = residual_block(layers.Concatenate()([h, skips[level]]), embedding, widths[level], groups, f"up{level}")
        if level > 0:
            h = layers.UpSampling2D(2, name=f"upsample{level}")(h)
            h = layers.Conv2D(widths[level - 1], 3, padding="same", name=f"upsample{level}_conv")(h)
    h = layers.Activation("swish")(layers.GroupNormalization(min(groups, widths[0]), name="head_norm")(h))
    output = layers.Conv2D(image_shape[-1], 3, padding="same", kernel_initializer="zeros", name="head")(h)
    return keras.Model(inputs, output, name=name)


def build_mlp_network(dim: int = 2, hidden_units: int = 128, num_hidden: int = 3, *, embedding_dim: int = 32,
                      name: str = "mlp") -> keras.Model:
    """A small network ``[x_t (N, dim), t (N,)] -> (N, dim)`` for the 2-D mixtures of notebook 06.

    Introduced in notebook 06_diffusion_theory.
    """
    x_in = keras.Input((dim,), name="x_t")
    t_in = keras.Input((), name="t")
    h = layers.Concatenate()([x_in, SinusoidalEmbedding(embedding_dim, name="time_features")(t_in)])
    for index in range(num_hidden):
        h = layers.Dense(hidden_units, activation="swish", name=f"hidden{index}")(h)
    return keras.Model([x_in, t_in], layers.Dense(dim, name="output")(h), name=name)


# ------------------------------------------------------------------------------- the model

_COMPILED = {}


def _inference_function(network):
    """``network(inputs, training=False)`` as a compiled graph (about twice as fast as eager calls)."""
    key = id(network)
    if key not in _COMPILED or _COMPILED[key][0] is not network:
        _COMPILED[key] = (network, tf.function(lambda inputs: network(inputs, training=False), reduce_retracing=True))
    return _COMPILED[key][1]


_GRADIENTS = {}


def _vjp_function(network, prediction: str):
    """``(inputs, coefficients, cotangent) -> J^T cotangent`` for ``x0_hat`` of ``network``'s prediction,
    ``J = d x0_hat / d x``, one forward and one backward pass in a compiled graph."""
    key = (id(network), prediction)
    if key not in _GRADIENTS or _GRADIENTS[key][0] is not network:
        def vjp(inputs, coefficients, cotangent):
            x = inputs[0]
            with tf.GradientTape() as tape:
                tape.watch(x)
                output = network([x, *inputs[1:]], training=False)
                alpha, sigma, d_alpha, d_sigma = tf.unstack(coefficients)
                x0_hat, _ = theory.split_prediction(output, x, alpha, sigma, d_alpha, d_sigma, prediction)
            return tape.gradient(x0_hat, x, output_gradients=cotangent)
        _GRADIENTS[key] = (network, tf.function(vjp, reduce_retracing=True))
    return _GRADIENTS[key][1]


class DiffusionBase(keras.Model):
    """The plumbing of :class:`Diffusion`: the schedule in Keras ops, the EMA copy, the labels, the
    trackers and sampling; not its ``train_step``.

    ``network`` maps ``[x_t, t]`` (plus ``label`` when ``num_classes > 0``) to a prediction of
    the noise or of the velocity (``prediction``). ``scale_images=True`` maps [0, 1] images to
    [-1, 1] and back; the 2-D toys of notebook 06 set it to False.

    Introduced in notebook 07_diffusion_mnist.
    """

    def __init__(self, network: keras.Model, *, schedule: str = "straight", prediction: str = "velocity",
                 num_classes: int = 0, label_dropout: float = 0.1, ema_decay: float = 0.999,
                 scale_images: bool = True, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        one_of(schedule, theory.SCHEDULES, "schedule")
        one_of(prediction, theory.PREDICTIONS, "prediction")
        if (schedule, prediction) not in FAMILIES:
            raise ValueError(f"schedule {schedule!r} with prediction {prediction!r} is not a supported pair; "
                             f"use one of {sorted(FAMILIES)}.")
        ema_decay = non_negative_number(ema_decay, "ema_decay")
        if not ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}.")
        label_dropout = fraction(label_dropout, "label_dropout")
        self.network = network
        self.schedule = theory.Schedule(schedule)
        self.prediction = prediction
        self.num_classes = int(num_classes)
        self.label_dropout = float(label_dropout)
        self.ema_decay = float(ema_decay)
        self.scale_images = boolean(scale_images, "scale_images")
        self.seed_generator = keras.random.SeedGenerator(check_seed(seed))
        self.ema_network = keras.models.clone_model(network)
        self.ema_network.set_weights(network.get_weights())
        self.ema_network.trainable = False
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.data_shape = tuple(network.inputs[0].shape[1:])

    @property
    def family(self) -> str:
        """``"diffusion"`` or ``"flow matching"``."""
        return FAMILIES[(self.schedule.name, self.prediction)]

    @property
    def metrics(self):
        return [self.loss_tracker]

    def build(self, input_shape=None):
        """The network and its EMA copy are built functional models."""
        self.built = True

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def coefficients(self, t):
        """``(alpha, sigma, d_alpha, d_sigma)`` at times ``t`` (a tensor), shaped to broadcast over x."""
        shape = (-1,) + (1,) * len(self.data_shape)
        return tuple(ops.reshape(value, shape)
                     for value in theory.schedule_coefficients(self.schedule.name, t, ops))

    def network_inputs(self, x_t, t, labels):
        return [x_t, t] if self.num_classes == 0 else [x_t, t, labels]

    def drop_labels(self, labels):
        """Replace a fraction ``label_dropout`` of ``labels`` by the "no label" class."""
        if self.num_classes == 0:
            return labels
        dropped = keras.random.uniform(ops.shape(labels), seed=self.seed_generator) < self.label_dropout
        return ops.where(dropped, self.num_classes, ops.cast(labels, "int32"))

    def update_moving_average(self):
        """ema <- decay * ema + (1 - decay) * weights, with decay_t = min(decay, (1 + t) / (10 + t))."""
        step = ops.cast(self.optimizer.iterations, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for average, current in zip(self.ema_network.weights, self.network.weights):
            average.assign(decay * average + (1.0 - decay) * current)

    # sampling --------------------------------------------------------------------------------
    def denoiser(self, labels=None, *, guidance: float = 1.0, use_ema: bool = True, batch_size: int = 500):
        """The ``(x, t) -> (x0_hat, eps_hat)`` callable that ``diffusion_theory.sample`` takes, in the
        model's own space ([-1, 1] for images), float64 NumPy in and out.

        ``labels`` (one per sample) conditions a class-conditional model; ``None`` asks for
        unconditional predictions. ``guidance`` ``w``: the prediction is ``uncond + w (cond -
        uncond)``; ``w = 0`` and ``w = 1`` need one network call, any other weight two.
        """
        network = self.ema_network if boolean(use_ema, "use_ema") else self.network
        guidance = non_negative_number(guidance, "guidance")
        batch_size = positive_int(batch_size, "batch_size")
        if labels is not None and self.num_classes == 0:
            raise ValueError("labels were given but this model is unconditional (num_classes=0).")
        if labels is None and guidance != 1.0:
            raise ValueError(f"guidance {guidance} needs labels to guide towards.")
        if labels is not None:
            labels = class_labels(labels, self.num_classes).astype(np.int32)
        compiled = _inference_function(network)

        def predict(x, t, these_labels):
            batch = np.asarray(x, np.float32)
            times = np.full(len(batch), t, np.float32)
            inputs = [batch, times] if these_labels is None else [batch, times, these_labels]
            return np.asarray(compiled(inputs), np.float64)

        def denoise(x, t):
            if labels is not None and len(labels) != len(x):
                raise ValueError(f"the denoiser was given {len(labels)} labels but {len(x)} points to denoise.")
            outputs = []
            for start in range(0, len(x), batch_size):
                chunk = x[start:start + batch_size]
                unconditional = None if self.num_classes == 0 else np.full(len(chunk), self.num_classes, np.int32)
                wanted = None if labels is None else labels[start:start + batch_size]
                if labels is None or guidance == 0.0:              # one call: the unconditional prediction
                    outputs.append(predict(chunk, t, unconditional))
                elif guidance == 1.0:                              # one call: the conditional prediction
                    outputs.append(predict(chunk, t, wanted))
                else:                                              # two calls, batched together
                    both = predict(np.concatenate([chunk, chunk]), t, np.concatenate([wanted, unconditional]))
                    conditional, free = both[:len(chunk)], both[len(chunk):]
                    outputs.append(free + guidance * (conditional - free))
            alpha, sigma, d_alpha, d_sigma = self.schedule.coefficients(t)
            return theory.split_prediction(np.concatenate(outputs), x, alpha, sigma, d_alpha, d_sigma, self.prediction)

        return denoise

    def denoiser_vjp(self, labels=None, *, use_ema: bool = True, batch_size: int = 250):
        """The ``(x, t, cotangent) -> (x0_hat, eps_hat, J^T v)`` callable that
        ``course_lib.posterior_sampling.dps`` takes: :meth:`denoiser`'s estimates (no guidance) and the
        product of ``v = cotangent(x0_hat)`` with the Jacobian ``J = d x0_hat / d x``, by backpropagation
        through the network (about three network calls' worth of work per step).

        Introduced in notebook 11_diffusion_restoration.
        """
        network = self.ema_network if boolean(use_ema, "use_ema") else self.network
        batch_size = positive_int(batch_size, "batch_size")
        denoise = self.denoiser(labels, use_ema=use_ema, batch_size=batch_size)
        if labels is not None:
            labels = class_labels(labels, self.num_classes).astype(np.int32)
        backward = _vjp_function(network, self.prediction)

        def denoiser_vjp(x, t, cotangent):
            x0_hat, eps_hat = denoise(x, t)
            v = np.asarray(cotangent(x0_hat), np.float32)
            if v.shape != x0_hat.shape:
                raise ValueError(f"cotangent(x0_hat) must have x0_hat's shape {x0_hat.shape}, got {v.shape}.")
            coefficients = tf.constant(np.asarray(self.schedule.coefficients(t), np.float32))
            products = []
            for start in range(0, len(x), batch_size):
                chunk = np.asarray(x[start:start + batch_size], np.float32)
                times = np.full(len(chunk), t, np.float32)
                if self.num_classes == 0:
                    inputs = [chunk, times]
                else:
                    wanted = (np.full(len(chunk), self.num_classes, np.int32) if labels is None
                              else labels[start:start + batch_size])
                    inputs = [chunk, times, wanted]
                products.append(np.asarray(backward([tf.constant(value) for value in inputs], coefficients,
                                                    tf.constant(v[start:start + batch_size])), np.float64))
            return x0_hat, eps_hat, np.concatenate(products)

        return denoiser_vjp

    def generate(self, num_samples: int, *, labels=None, num_steps: int = 8, method: str = "heun",
                 guidance: float = 1.0, eta: float = 0.0, seed: int = 0, use_ema: bool = True,
                 return_path: bool = False):
        """``num_samples`` images ([0, 1], float32) from ``num_steps`` steps of ``method``.

        ``labels``: one class per sample for a class-conditional model (``None``: unconditional);
        ``seed`` draws the starting noise (and the sampler's fresh noise), so the same seed gives
        the same images. With ``return_path`` the list of every ``x_t`` along the way, in [0, 1].
        """
        num_samples = positive_int(num_samples, "num_samples", maximum=MAX_SAMPLES)
        if labels is not None and self.num_classes == 0:
            raise ValueError("labels were given but this model is unconditional (num_classes=0).")
        if labels is not None:
            labels = class_labels(labels, self.num_classes, num_samples=num_samples).astype(np.int32)
        noise = np.random.default_rng(check_seed(seed)).standard_normal((num_samples, *self.data_shape))
        outcome = theory.sample(self.denoiser(labels, guidance=guidance, use_ema=use_ema), noise, self.schedule,
                                num_steps=num_steps, method=method, eta=eta, seed=seed + 1,
                                clip=1.0 if self.scale_images else None, return_path=return_path)
        to_images = (lambda x: np.clip((x + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)) if self.scale_images \
            else (lambda x: x.astype(np.float32))
        return [to_images(x) for x in outcome] if return_path else to_images(outcome)


class Diffusion(DiffusionBase):
    """A diffusion or flow-matching model trained with ``fit()`` on images (and labels).

    ``train_step`` corrupts a batch at uniformly drawn times, regresses the network's output on
    the noise (``prediction="epsilon"``) or on the velocity ``d_alpha x_0 + d_sigma eps``
    (``"velocity"``), takes one optimizer step and moves the EMA weights. ``DiffusionBase``
    holds the plumbing it calls.

    Introduced in notebook 07_diffusion_mnist.
    """

    def train_step(self, data):
        images, labels = data if isinstance(data, tuple) else (data, None)
        x_0 = images * 2.0 - 1.0 if self.scale_images else images       # [0, 1] -> [-1, 1]
        batch_size = ops.shape(x_0)[0]
        t = keras.random.uniform((batch_size,), seed=self.seed_generator)
        noise = keras.random.normal(ops.shape(x_0), seed=self.seed_generator)
        alpha, sigma, d_alpha, d_sigma = self.coefficients(t)
        x_t = alpha * x_0 + sigma * noise                                  # q(x_t | x_0) in closed form
        target = noise if self.prediction == "epsilon" else d_alpha * x_0 + d_sigma * noise
        inputs = self.network_inputs(x_t, t, self.drop_labels(labels))
        replicas = self.distribute_strategy.num_replicas_in_sync          # gradients are summed over replicas
        with tf.GradientTape() as tape:
            loss = ops.mean(ops.square(self.network(inputs, training=True) - target))
            scaled_loss = loss / replicas
        gradients = tape.gradient(scaled_loss, self.network.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.network.trainable_variables))
        self.update_moving_average()
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


# ------------------------------------------------------------------------ training entry point

@dataclasses.dataclass(frozen=True)
class DiffusionConfig:
    """Everything that defines a diffusion or flow-matching run on 28x28 greyscale images.

    Introduced in notebook 07_diffusion_mnist.
    """

    schedule: str = "straight"
    prediction: str = "velocity"
    widths: tuple[int, ...] = (32, 64, 64)
    embedding_dim: int = 128
    groups: int = 8
    num_classes: int = 10             # 0: unconditional
    label_dropout: float = 0.1        # share of labels replaced by "no label" (classifier-free guidance)
    learning_rate: float = 1e-3
    final_learning_rate: float | None = None  # cosine decay to this over `epochs`; None: constant
    batch_size: int = 64
    epochs: int = 100
    ema_decay: float = 0.999
    max_seconds: float | None = None
    jit_compile: bool = False         # XLA made this U-Net's training step slower on 2 CPU cores (125 vs 153 images/s)
    seed: int = 0

    def __post_init__(self):
        checks.name(self, "schedule", theory.SCHEDULES)
        checks.name(self, "prediction", theory.PREDICTIONS)
        if (self.schedule, self.prediction) not in FAMILIES:
            raise ValueError(f"DiffusionConfig.schedule {self.schedule!r} with prediction {self.prediction!r} is "
                             f"not a supported pair; use one of {sorted(FAMILIES)}.")
        checks.diffusion_unet(self)
        checks.non_negative_integer(self, "num_classes", maximum=1000)
        checks.number(self, "label_dropout", 0.0, 1.0)
        checks.learning_rate(self, "learning_rate")
        checks.final_learning_rate(self)
        checks.positive_integer(self, "batch_size")
        checks.positive_integer(self, "epochs")
        checks.number(self, "ema_decay", 0.0, 1.0, high_open=True)
        checks.seconds(self, "max_seconds")
        checks.flag(self, "jit_compile")
        checks.seed(self)

    @property
    def family(self) -> str:
        return FAMILIES[(self.schedule, self.prediction)]


def build_diffusion(config: DiffusionConfig, steps_per_epoch: int = 8000 // 64, *, model_class=Diffusion,
                    build_network=build_unet) -> Diffusion:
    """A compiled, built model for ``config`` (the same call in notebook, tests and benchmark).

    ``steps_per_epoch`` sets the length of the cosine learning-rate decay when
    ``config.final_learning_rate`` is given. Notebook 07 passes the ``Diffusion`` class it shows.

    Introduced in notebook 07_diffusion_mnist.
    """
    if not (isinstance(model_class, type) and issubclass(model_class, DiffusionBase)):
        raise TypeError(f"model_class must be a subclass of course_lib.diffusion.DiffusionBase, got {model_class!r}.")
    keras.utils.set_random_seed(config.seed)
    network = build_network(config.widths, embedding_dim=config.embedding_dim, num_classes=config.num_classes,
                            groups=config.groups)
    model = model_class(network, schedule=config.schedule, prediction=config.prediction,
                        num_classes=config.num_classes, label_dropout=config.label_dropout,
                        ema_decay=config.ema_decay, seed=config.seed)
    learning_rate = config.learning_rate
    if config.final_learning_rate is not None:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * steps_per_epoch,
            alpha=config.final_learning_rate / config.learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), jit_compile=config.jit_compile)
    model.build(None)
    return model


def train_diffusion(config: DiffusionConfig, images, labels=None, *, model: Diffusion | None = None, callbacks=(),
                    workdir=None, verbose="auto", restart: bool = False, strategy=None):
    """Train on ``images`` ([0, 1], (N, 28, 28, 1)) and, for a class-conditional config, their
    ``labels``, with resumable ``fit()``: ``(model, history)``.

    The arguments after ``labels`` are every family's (``course_lib.training``, "one shape").

    Introduced in notebook 07_diffusion_mnist.
    """
    from course_lib import training

    images = as_image_batch(images, channels=1, image_shape=(28, 28, 1))
    if config.num_classes and labels is None:
        raise ValueError(f"a class-conditional config (num_classes={config.num_classes}) needs labels.")
    if not config.num_classes and labels is not None:
        raise ValueError("labels were given but the config is unconditional (num_classes=0).")
    data = images
    if labels is not None:
        data = (images, class_labels(labels, config.num_classes, num_samples=len(images)).astype(np.int32))
    if len(images) < config.batch_size:
        raise ValueError(f"{len(images)} images are fewer than one batch of {config.batch_size}.")
    if model is None:
        with training.distribution_scope(strategy):
            model = build_diffusion(training.build_config(config, strategy),
                                    steps_per_epoch=len(images) // config.batch_size)
    history = training.resumable_fit(model, data, epochs=config.epochs, batch_size=config.batch_size,
                                     config={**dataclasses.asdict(config), "num_images": len(images)},
                                     seed=config.seed, workdir=workdir, name=config.family.replace(" ", "_"),
                                     max_seconds=config.max_seconds, callbacks=callbacks, verbose=verbose,
                                     restart=restart)
    return model, history


# --------------------------------------------------------------------------- evaluation

def balanced_labels(num_samples: int, num_classes: int = 10) -> np.ndarray:
    """``num_samples`` labels cycling 0, 1, ..., ``num_classes - 1``: each class equally often.

    Introduced in notebook 07_diffusion_mnist.
    """
    return (np.arange(positive_int(num_samples, "num_samples")) % positive_int(num_classes, "num_classes")).astype(np.int32)


def evaluate_samples(model: DiffusionBase, evaluator, reference_images, *, num_samples: int = 2000,
                     num_steps: int = 8, method: str = "heun", guidance: float = 1.0, conditional: bool = True,
                     seed: int = 0) -> dict:
    """Sample ``num_samples`` images and judge them: FID against ``reference_images``, precision and
    recall, the class histogram, for a conditional model the recognition rate of the requested
    class, and the sampling time in milliseconds per image.

    Introduced in notebook 07_diffusion_mnist.
    """
    from course_lib import metrics

    conditional = boolean(conditional, "conditional") and model.num_classes > 0
    labels = balanced_labels(num_samples, model.num_classes) if conditional else None
    started = time.perf_counter()
    samples = model.generate(num_samples, labels=labels, num_steps=num_steps, method=method,
                             guidance=guidance if conditional else 1.0, seed=seed)
    seconds = time.perf_counter() - started
    features = evaluator.features(samples)
    reference = evaluator.features(reference_images)
    predicted = evaluator.predict_labels(samples)
    quality = metrics.precision_recall(reference, features)
    result = {"fid": metrics.frechet_distance(features, reference), "precision": quality.precision,
              "recall": quality.recall, "milliseconds_per_image": 1000.0 * seconds / num_samples,
              "sampling_seconds": seconds, "network_calls": theory.network_calls(num_steps, method)
              * (1 if guidance in (0.0, 1.0) or not conditional else 2),
              "class_histogram": np.bincount(predicted, minlength=10)[:10] / num_samples,
              "samples": samples}
    if conditional:
        result["recognition_rate"] = float(np.mean(predicted == labels))
    return result


# --------------------------------------------------------------------------- shipped weights

SHIPPED_CONFIG = DiffusionConfig(epochs=30, final_learning_rate=1e-5)
UNCONDITIONAL_NAME = "flow_mnist_unconditional"
UNCONDITIONAL_CONFIG = dataclasses.replace(SHIPPED_CONFIG, num_classes=0, label_dropout=0.0,
                                           final_learning_rate=None, epochs=40)
SHIPPED_CONFIGS = {PRETRAINED_NAME: SHIPPED_CONFIG, UNCONDITIONAL_NAME: UNCONDITIONAL_CONFIG}
"""The shipped flow-matching models: the class-conditional one of notebook 07 and the
unconditional prior that notebook 11 restores with (the same network without labels, trained
for 40 epochs at a constant learning rate: more updates, not the schedule, lowered its FID)."""


def load_diffusion(name: str = PRETRAINED_NAME, *, retrain: bool = False, config: DiffusionConfig | None = None,
                   model: Diffusion | None = None, images=None, labels=None, verbose="auto"):
    """The shipped flow-matching model (EMA weights, sha256 checked), or one trained now.

    ``config`` defaults to the manifest's (:func:`course_lib.training.shipped_config`); ``model``:
    a built model to load the weights into (or to train) instead of a new one. Training uses
    ``images`` and ``labels`` when given, else the shipped 8,000 MNIST training digits.
    Returns ``(model, manifest_or_None)``.

    Introduced in notebook 07_diffusion_mnist.
    """
    from course_lib import training

    one_of(name, tuple(SHIPPED_CONFIGS), "shipped diffusion model")
    config = training.shipped_config(name, DiffusionConfig, SHIPPED_CONFIGS[name], config=config, retrain=retrain)
    holder = {}

    def build():
        holder["model"] = model if model is not None else build_diffusion(config)
        return holder["model"].ema_network

    def train(ema_network):
        from course_lib import data

        training_images, training_labels = images, labels
        if training_images is None:
            mnist = data.load_dataset("mnist", source="subset", verbose=False)
            training_images, training_labels = mnist.x_train, mnist.y_train
        train_diffusion(config, training_images, training_labels if config.num_classes else None,
                        model=holder["model"], verbose=verbose)

    _, manifest = training.load_or_train(name, build, train, retrain=retrain, images=images)
    trained = holder["model"]
    if manifest is not None:   # loaded: the trained copy is the EMA one
        trained.network.set_weights(trained.ema_network.get_weights())
    return trained, manifest


def train_and_save(config: DiffusionConfig = SHIPPED_CONFIG, *, name: str = PRETRAINED_NAME, workdir=None, verbose=2,
                   checkpoint_seconds=(300, 900, 1800), resume: bool = False) -> dict:
    """Train a shipped model on the 8,000 MNIST training digits and write its EMA weights and
    manifest as ``data/pretrained/<name>.*`` (``name``: a key of :data:`SHIPPED_CONFIGS`).

    The manifest records the FID of 2,000 samples (class-balanced for a conditional model; 8 Heun steps) against the
    2,000 held-out digits beside the real-vs-real floor, precision, recall, recognition rate,
    the class histogram, the sampling time, the training time (inside epochs and wall) and the
    process CPU time, and the FID of the EMA weights at the ``checkpoint_seconds`` of training.
    ``resume=True`` continues the run folder of the same configuration instead of starting afresh
    (the process CPU time then covers only the resumed part, and the manifest says so).

    Introduced in notebook 07_diffusion_mnist.
    """
    from course_lib import data, metrics, training
    from course_lib.evaluator import load_evaluator

    one_of(name, tuple(SHIPPED_CONFIGS), "shipped diffusion model")
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    evaluator, _ = load_evaluator()
    resume = boolean(resume, "resume")
    run_config = {**dataclasses.asdict(config), "num_images": len(mnist.x_train)}
    before = training.trained_seconds(training.run_folder(run_config, seed=config.seed, batch_size=config.batch_size,
                                                          workdir=workdir, name=config.family.replace(" ", "_"),
                                                          images=mnist.x_train)) \
        if resume else 0.0
    curve = FIDOverTraining(evaluator, mnist.x_test, checkpoint_seconds, already_trained=before)
    started, cpu_started = time.perf_counter(), time.process_time()
    model, history = train_diffusion(config, mnist.x_train, mnist.y_train if config.num_classes else None,
                                     callbacks=[curve], workdir=workdir, verbose=verbose, restart=not resume)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    result = evaluate_samples(model, evaluator, mnist.x_test)
    unconditional = evaluate_samples(model, evaluator, mnist.x_test, conditional=False)
    floor = metrics.frechet_distance(evaluator.features(mnist.x_train[:2000]), evaluator.features(mnist.x_test))
    manifest = training.save_pretrained(
        model.ema_network, name,
        command=f"python -m course_lib.diffusion --train --name {name} --epochs {config.epochs}",
        seed=config.seed, config=dataclasses.asdict(config),
        metrics={"fid": round(result["fid"], 3), "fid_unconditional": round(unconditional["fid"], 3),
                 "fid_floor_real_vs_real": round(floor, 3), "fid_over_floor": round(result["fid"] / floor, 2),
                 "precision": round(result["precision"], 4), "recall": round(result["recall"], 4),
                 "recognition_rate": round(result["recognition_rate"], 4) if config.num_classes else None,
                 "class_histogram": np.round(result["class_histogram"], 4).tolist(),
                 "sampler": "heun, 8 steps (15 network calls), guidance 1",
                 "sampling_milliseconds_per_image": round(result["milliseconds_per_image"], 2),
                 "training_seconds": round(history.training_seconds, 1), "wall_seconds": round(wall, 1),
                 "process_cpu_seconds": round(cpu, 1),
                 "resumed_after_seconds": round(before, 1),   # training before this process (0: one run)
                 "updates": int(model.optimizer.iterations.numpy()), "epochs_completed": len(history.epoch),
                 "fid_over_training": curve.table(), "num_samples": 2000,
                 "reference": "2,000 held-out MNIST digits",
                 "history": {key: [round(value, 5) for value in values] for key, values in history.history.items()}})
    return manifest


class FIDOverTraining(MeasureAtSeconds):
    """A :class:`course_lib.training.MeasureAtSeconds` (training time counted the same way, no
    limit) that, after the first epoch ending past each of ``seconds``, measures the FID of
    ``num_samples`` class-balanced samples of the EMA weights (8 Heun steps) against
    ``reference``: the curve of quality against compute. Its own measuring happens after the
    epoch's last batch, so it is not counted as training. ``already_trained``: the training
    seconds of a resumed run before this process; ``clock``: the time source, as
    :class:`course_lib.training.TimeLimit`'s.

    Introduced in notebook 07_diffusion_mnist.
    """

    def __init__(self, evaluator, reference, seconds=(300, 1800), num_samples: int = 1000, *,
                 already_trained: float = 0.0, clock=time.perf_counter):
        self.evaluator, self.reference = evaluator, reference
        self.num_samples = positive_int(num_samples, "num_samples")
        super().__init__(self.fid_point, list(seconds), already_trained=already_trained, clock=clock)

    def fid_point(self, model, reached) -> dict:
        result = evaluate_samples(model, self.evaluator, self.reference, num_samples=self.num_samples)
        print(f"  epoch {self.epochs_done}: {self.training_seconds:.0f} s trained, FID ({self.num_samples} samples) "
              f"{result['fid']:.1f}", flush=True)
        return {"updates": int(model.optimizer.iterations.numpy()), "fid": round(result["fid"], 2),
                "num_samples": self.num_samples}

    def table(self) -> list:
        """The measured points: training seconds, epoch, updates, FID and sample count of each."""
        keys = ("training_seconds", "epoch", "updates", "fid", "num_samples")
        return [{key: point[key] for key in keys} for point in self.points]


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.diffusion --train [--name flow_mnist_unconditional]``
    writes data/pretrained/<name>.*.

    Introduced in notebook 07_diffusion_mnist.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Train a shipped flow-matching model: data/pretrained/<name>.*")
    parser.add_argument("--train", action="store_true", required=True)
    parser.add_argument("--name", choices=sorted(SHIPPED_CONFIGS), default=PRETRAINED_NAME)
    parser.add_argument("--epochs", type=int, default=None, help="default: the named recipe's")
    parser.add_argument("--seconds", type=float, default=None, help="training time limit (default: the named recipe's)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run of the same configuration")
    args = parser.parse_args(argv)
    from course_lib import runtime

    shipped = SHIPPED_CONFIGS[args.name]
    runtime.seed_everything(shipped.seed)
    epochs = shipped.epochs if args.epochs is None else args.epochs
    seconds = shipped.max_seconds if args.seconds is None else args.seconds
    manifest = train_and_save(dataclasses.replace(shipped, epochs=epochs, max_seconds=seconds),
                              name=args.name, resume=args.resume)
    print({key: value for key, value in manifest["metrics"].items() if key != "history"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
