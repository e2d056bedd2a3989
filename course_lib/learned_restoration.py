"""The learned restorers of notebook 09: a DnCNN-style denoiser and a U-Net, and their shipped weights.

A DnCNN-style residual denoiser (:func:`build_dncnn`) and a U-Net that reads the damaged image
and its mask (:func:`build_unet`), described by a :class:`LearnedRestorerConfig`, built by
:func:`build_learned_restorer` and trained with the MSE objective by the one entry point
:func:`train_learned_restorer` (through ``resumable_fit``), taught by notebook 09;
:func:`learned_restorer` wraps a trained model as a :class:`~course_lib.restorer.Restorer` for
:func:`course_lib.benchmark.benchmark`. The shipped ones (:data:`SHIPPED_RESTORERS`:
``dncnn_noise_0.3``, ``unet_hole_12``, ...) load with :func:`load_learned_restorer` and are
reproduced by ``python -m course_lib.learned_restoration --train NAME``. Notebook 10 starts its
conditional GAN from the shipped U-Net; notebook 13 reads their manifests and trains smaller
U-Nets for its challenges. Keras is imported only inside the functions that build or train a
model. What it leaves out: the classical restorers (:mod:`course_lib.restoration`), the
adversarial loss (:mod:`course_lib.pix2pix`) and blind restoration (one network per
degradation).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from course_lib import _config_checks as checks
from course_lib import degradations as deg
from course_lib._checks import as_image_batch, positive_int
from course_lib.benchmark import benchmark
from course_lib.degradations import Damaged
from course_lib.restoration import damaged_input
from course_lib.restorer import Restorer

__all__ = [
    "LearnedRestorerConfig", "build_dncnn", "build_unet", "build_learned_restorer", "model_inputs",
    "train_learned_restorer", "learned_restorer", "training_seeds", "training_pairs", "SHIPPED_RESTORERS",
    "dilation_rates", "receptive_field", "load_learned_restorer",
    "shipped_restorer", "shipped_restorers", "evaluate_learned_restorer", "train_and_save",
]


@dataclasses.dataclass(frozen=True)
class LearnedRestorerConfig:
    """Everything that defines a learned restorer's training run (the run folder's key).

    ``architecture``: ``"dncnn"`` (residual denoiser) or ``"unet"`` (damaged image + mask in).
    ``degradation``: the name it trains on (``"noise_0.3"``, ``"hole_12"``, ...).
    ``num_copies``: each training digit is damaged this many times with different seeds (more
    distinct noisy inputs from the same 8,000 digits). ``final_learning_rate``: cosine decay
    of the learning rate to this over ``epochs`` (``None``: constant). ``max_seconds``: stop
    after this much training time (``course_lib.training.TimeLimit``). ``paste_known``: the U-Net
    copies the known pixels of its input to its output (degradations with a mask only).
    ``jit_compile``: XLA-compile the training step (Keras leaves it off on CPU-only machines).

    Introduced in notebook 09_cnn_restoration.
    """

    architecture: str = "dncnn"
    degradation: str = "noise_0.3"
    depth: int = 6                      # DnCNN: number of 3x3 convolutions
    filters: int = 32                   # DnCNN width; U-Net width of the first level
    levels: int = 2                     # U-Net: number of 2x downsamplings (28 -> 14 -> 7)
    batch_norm: bool = False            # DnCNN: batch normalisation between the middle layers
    dilated: bool = False               # DnCNN: dilated middle convolutions (see build_dncnn)
    epochs: int = 5
    batch_size: int = 64
    learning_rate: float = 1e-3
    final_learning_rate: float | None = None
    max_seconds: float | None = None
    num_copies: int = 1
    paste_known: bool = False
    residual: bool = False              # U-Net: damaged image + a learned correction (see build_unet)
    jit_compile: bool = True
    seed: int = 0

    def __post_init__(self):
        checks.name(self, "architecture", ("dncnn", "unet"))
        degradation = deg.get_degradation(self.degradation)
        checks.positive_integer(self, "depth", maximum=64)
        if self.architecture == "dncnn" and self.depth < 2:
            raise ValueError(f"LearnedRestorerConfig.depth must be at least 2 for a DnCNN (its first and last "
                             f"convolution), got {self.depth}.")
        checks.positive_integer(self, "filters", maximum=checks.MAX_WIDTH // 4)  # a U-Net's widest level: 4 x filters
        checks.positive_integer(self, "levels", maximum=2)                       # 28 -> 14 -> 7
        for field in ("batch_norm", "dilated", "paste_known", "residual", "jit_compile"):
            checks.flag(self, field)
        checks.positive_integer(self, "epochs")
        checks.positive_integer(self, "batch_size")
        checks.learning_rate(self, "learning_rate")
        checks.final_learning_rate(self)
        checks.seconds(self, "max_seconds")
        checks.positive_integer(self, "num_copies", maximum=50)  # 50 damaged copies of 8,000 digits: 1.25 GB
        checks.seed(self)
        if self.paste_known and (self.architecture != "unet" or not degradation.has_mask):
            raise ValueError(f"paste_known needs a U-Net and a degradation with a mask (hole, missing, "
                             f"strokes), got {self.architecture!r} on {self.degradation!r}.")
        if self.residual and self.architecture != "unet":
            raise ValueError("residual applies to a U-Net (the DnCNN is always residual).")


def build_dncnn(depth: int = 6, filters: int = 32, image_shape=(28, 28, 1), batch_norm: bool = False,
                dilated: bool = False):
    """A DnCNN-style residual denoiser: noisy image in, restored image out.

    ``depth`` 3x3 convolutions
    with ReLU predict the **noise** ``r(y)``. ``batch_norm=True`` adds batch normalisation
    between the middle ones as in the paper; it is off by default because a few minutes of CPU
    training leave its moving averages (used at inference) unsettled. The model
    returns ``y - r(y)``, so training the output with MSE against the clean image is training
    ``r`` to predict the noise (Zhang et al. 2017):
    ``||(y - r(y)) - x||^2 = ||r(y) - (y - x)||^2``. ``dilated=True`` spaces the taps of the
    middle convolutions 2, 3, 4, ..., 4, 3, 2 pixels apart (as in Zhang et al.'s IRCNN denoiser):
    the same cost per layer, a receptive field of 41 x 41 pixels at depth 8 instead of 17 x 17,
    so every output pixel sees the whole 28 x 28 digit. Measured on 500 validation digits (noise
    sigma 0.3, depth 8, 32 filters, 75 s of training): 22.07 dB dilated against 23.22 dB plain, so
    the shipped denoiser is plain.

    Introduced in notebook 09_cnn_restoration.
    """
    import keras
    from keras import layers

    depth = positive_int(depth, "depth")
    filters = positive_int(filters, "filters")
    if depth < 2:
        raise ValueError(f"depth must be at least 2, got {depth}.")
    noisy = keras.Input(image_shape, name="noisy")                                 # (N, H, W, C)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(noisy)
    for rate in dilation_rates(depth - 2) if dilated else [1] * (depth - 2):
        if batch_norm:
            x = layers.Conv2D(filters, 3, padding="same", dilation_rate=rate, use_bias=False)(x)
            x = layers.Activation("relu")(layers.BatchNormalization()(x))
        else:
            x = layers.Conv2D(filters, 3, padding="same", dilation_rate=rate, activation="relu")(x)
    noise = layers.Conv2D(image_shape[-1], 3, padding="same", name="predicted_noise")(x)  # r(y)
    restored = layers.Subtract(name="restored")([noisy, noise])                    # y - r(y)
    return keras.Model(noisy, restored, name="dncnn")


def dilation_rates(num_layers: int) -> list[int]:
    """Dilation rates rising from 2 and falling back to 2: 6 layers -> [2, 3, 4, 4, 3, 2].

    Introduced in notebook 09_cnn_restoration.
    """
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 0:
        raise ValueError(f"num_layers must be a non-negative integer, got {num_layers!r}.")
    rising = [2 + index for index in range((num_layers + 1) // 2)]
    return rising + rising[: num_layers // 2][::-1]


def receptive_field(rates: Sequence[int]) -> int:
    """Side of the square a stack of 3x3 convolutions with these dilation rates sees: 1 + 2 sum(rates).

    Introduced in notebook 09_cnn_restoration.
    """
    return 1 + 2 * int(sum(rates))


def build_unet(filters: int = 32, levels: int = 2, image_shape=(28, 28, 1), paste_known: bool = False,
               residual: bool = False):
    """A small U-Net: the damaged image and its mask (1 = known) in, the restored image out.

    Input (N, H, W, C + 1): the
    image channels and the mask stacked, so the network knows which pixels to trust. ``levels``
    times: two 3x3 convolutions, then 2x2 max-pooling (28 -> 14 -> 7); back up with transposed
    convolutions, each level concatenated with its skip connection; a sigmoid keeps pixels in
    [0, 1] (the layer ``"predicted"``). ``paste_known=True`` returns
    ``mask * damaged + (1 - mask) * predicted``: known pixels pass through exactly and the network
    only fills the missing ones (for inpainting; a mask of ones would return the input unchanged).
    ``residual=True`` replaces the sigmoid by a linear correction added to the damaged image,
    ``damaged + c(damaged, mask)`` (the layer ``"predicted_correction"``; with ``paste_known``,
    only where the mask is 0), so training starts at the identity, as in the DnCNN. Without it the
    sigmoid U-Net collapsed to black outputs on blur (loss stuck at 0.1125, the mean squared pixel
    of a digit, for five epochs) and on 50% missing pixels: a saturated sigmoid passes no gradient.
    H and W must be divisible by ``2 ** levels``.

    Introduced in notebook 09_cnn_restoration.
    """
    import keras
    from keras import layers

    filters = positive_int(filters, "filters")
    levels = positive_int(levels, "levels")
    height, width, channels = image_shape
    if height % 2 ** levels or width % 2 ** levels:
        raise ValueError(f"image height and width must be divisible by 2 ** levels = {2 ** levels}, "
                         f"got {height} x {width}.")

    def two_convolutions(x, width_filters):
        x = layers.Conv2D(width_filters, 3, padding="same", activation="relu")(x)
        return layers.Conv2D(width_filters, 3, padding="same", activation="relu")(x)

    inputs = keras.Input((height, width, channels + 1), name="damaged_and_mask")
    skips, x = [], inputs
    for level in range(levels):
        x = two_convolutions(x, filters * 2 ** level)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)                                                # H / 2
    x = two_convolutions(x, filters * 2 ** levels)
    for level in reversed(range(levels)):
        x = layers.Conv2DTranspose(filters * 2 ** level, 2, strides=2, padding="same")(x)  # x 2
        x = two_convolutions(layers.Concatenate()([x, skips[level]]), filters * 2 ** level)
    damaged, mask = inputs[..., :channels], inputs[..., channels:]                  # (N, H, W, C), (N, H, W, 1)
    if residual:
        correction = layers.Conv2D(channels, 1, name="predicted_correction")(x)     # (N, H, W, C)
        predicted = damaged + correction                                            # no sigmoid to saturate
    else:
        predicted = layers.Conv2D(channels, 1, activation="sigmoid", name="predicted")(x)  # (N, H, W, C)
    if not paste_known:
        return keras.Model(inputs, predicted, name="unet")
    restored = mask * damaged + (1.0 - mask) * predicted                            # known pixels kept
    return keras.Model(inputs, restored, name="unet")


def _build_architecture(config: LearnedRestorerConfig, build_dncnn=build_dncnn, build_unet=build_unet):
    """The uncompiled network ``config`` describes, made by ``build_dncnn`` or ``build_unet``."""
    if config.architecture == "dncnn":
        return build_dncnn(config.depth, config.filters, batch_norm=config.batch_norm, dilated=config.dilated)
    return build_unet(config.filters, config.levels, paste_known=config.paste_known, residual=config.residual)


def build_learned_restorer(config: LearnedRestorerConfig = LearnedRestorerConfig(), steps_per_epoch: int = 8000 // 64,
                           *, build_dncnn=build_dncnn, build_unet=build_unet):
    """The compiled model that ``config`` describes (Adam, MSE against the clean image).

    ``steps_per_epoch`` sets the length of the cosine
    learning-rate schedule when ``config.final_learning_rate`` is given. Notebook 09 passes the
    builders it defines in its cells, so that the code on the page is the code that trains.

    Introduced in notebook 09_cnn_restoration.
    """
    import keras

    if not (callable(build_dncnn) and callable(build_unet)):
        raise TypeError("build_dncnn and build_unet must be functions that return keras models.")
    keras.utils.set_random_seed(config.seed)
    model = _build_architecture(config, build_dncnn, build_unet)
    learning_rate = config.learning_rate
    if config.final_learning_rate is not None:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * positive_int(steps_per_epoch, "steps_per_epoch"),
            alpha=config.final_learning_rate / config.learning_rate)
    # the objective: (1 / N H W C) sum (f(y) - x)^2, the MSE between restored and clean images
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", jit_compile=config.jit_compile)
    return model


def model_inputs(damaged: Damaged, architecture: str) -> np.ndarray:
    """What a learned restorer reads: the damaged images (DnCNN), or images and mask stacked on the
    channel axis (U-Net; mask of ones when no pixel is missing). Low-resolution images are
    enlarged first by bicubic interpolation (a U-Net restores at the original size). A degradation
    that removes pixels needs its mask: a U-Net given a mask of ones would trust the zeros in the
    hole and, pasting the known pixels, return the input unchanged.

    Introduced in notebook 09_cnn_restoration.
    """
    if architecture not in ("dncnn", "unet"):
        raise ValueError(f"Unknown architecture {architecture!r}; expected 'dncnn' or 'unet'.")
    if not isinstance(damaged, Damaged):
        raise ValueError(f"damaged must be a Damaged batch (from Degradation.apply), got {type(damaged).__name__}.")
    degradation = deg.get_degradation(damaged.degradation)
    if degradation.has_mask and damaged.mask is None:
        raise ValueError(f"{degradation.name!r} removes pixels, so the U-Net needs the mask (N, H, W, 1) "
                         f"with 1 = known pixel; got a Damaged batch with mask=None.")
    images = damaged.images
    if degradation.kind == "down":
        images = deg.upsample(images, int(degradation.level), "bicubic")
    if architecture == "dncnn":
        return images
    mask = damaged.mask if damaged.mask is not None else np.ones(images.shape[:3] + (1,), np.float32)
    return np.concatenate([images, mask], axis=-1)


def training_seeds(config: LearnedRestorerConfig) -> list[int]:
    """The damage seeds of the training copies: ``1000 * (seed + 1) + copy``, never 0, the seed the
    benchmark damages the held-out digits with.

    Introduced in notebook 09_cnn_restoration.
    """
    return [1000 * (config.seed + 1) + copy for copy in range(config.num_copies)]


def training_pairs(config: LearnedRestorerConfig, clean_images) -> tuple[np.ndarray, np.ndarray]:
    """``(model inputs, clean targets)``: every clean image damaged ``config.num_copies`` times.

    Introduced in notebook 09_cnn_restoration.
    """
    clean_images = as_image_batch(clean_images, "clean_images", channels=1)
    degradation = deg.get_degradation(config.degradation)
    inputs = [model_inputs(degradation.apply(clean_images, seed=seed), config.architecture)
              for seed in training_seeds(config)]
    return np.concatenate(inputs), np.concatenate([clean_images] * config.num_copies)


def train_learned_restorer(config: LearnedRestorerConfig, clean_images, *, model=None, workdir=None,
                           validation_images=None, verbose="auto", callbacks=(), restart: bool = False,
                           strategy=None):
    """Train a learned restorer on ``clean_images`` damaged by ``config.degradation``; resumable.

    The one training entry point
    that the notebook, the tests and the benchmark share. The training images are damaged
    ``config.num_copies`` times with :func:`training_seeds` (the held-out test digits are damaged
    with seed 0 by the benchmark). Training goes through
    :func:`course_lib.training.resumable_fit` with the MSE objective, so a second call with the
    same configuration resumes; ``config.max_seconds`` stops it after that much training time.
    ``model``: a compiled model to train instead of a new one from ``config``; ``strategy``: a
    ``tf.distribute`` strategy to build and train the new one under.
    Returns ``(model, history)``; ``history.training_seconds`` is the run's training time.

    Introduced in notebook 09_cnn_restoration.
    """
    from course_lib import training

    inputs, targets = training_pairs(config, clean_images)
    if len(inputs) < config.batch_size:
        raise ValueError(f"{len(inputs)} training pairs are fewer than one batch of {config.batch_size}.")
    if model is None:
        with training.distribution_scope(strategy):
            model = build_learned_restorer(training.build_config(config, strategy),
                                           steps_per_epoch=len(inputs) // config.batch_size)
            model(inputs[:1])  # build
    else:
        model(inputs[:1])  # build
    validation = None
    if validation_images is not None:
        validation_images = as_image_batch(validation_images, "validation_images", channels=1)
        held = deg.get_degradation(config.degradation).apply(validation_images, seed=999)
        validation = (model_inputs(held, config.architecture), validation_images)
    history = training.resumable_fit(
        model, (inputs, targets), epochs=config.epochs, batch_size=config.batch_size,
        config={**dataclasses.asdict(config), "num_images": len(targets)}, seed=config.seed,
        workdir=workdir, name=f"restorer-{config.architecture}-{config.degradation}",
        max_seconds=config.max_seconds, validation_data=validation, verbose=verbose, callbacks=callbacks,
        restart=restart)
    return model, history


def learned_restorer(model, architecture: str, handles: Sequence[str], name: str | None = None,
                     batch_size: int = 500) -> Restorer:
    """Wrap a trained model as a :class:`Restorer` for :func:`benchmark`.

    ``handles`` is a tuple of degradation kinds or
    names, such as ``("hole_12",)``. The DnCNN's ``y - r(y)`` and a residual U-Net's
    ``y + c(y, m)`` are not bounded, so the outputs are clipped to [0, 1]; a NaN stays NaN,
    and the :class:`Restorer` refuses it.

    Introduced in notebook 09_cnn_restoration.
    """
    if architecture not in ("dncnn", "unet"):
        raise ValueError(f"Unknown architecture {architecture!r}; expected 'dncnn' or 'unet'.")
    if not callable(model):
        raise TypeError(f"model must be a Keras model (callable on a batch), got {type(model).__name__}.")
    batch_size = positive_int(batch_size, "batch_size")

    def restore(damaged: Damaged) -> np.ndarray:
        inputs = model_inputs(damaged, architecture)
        outputs = [np.asarray(model(inputs[start:start + batch_size], training=False))
                   for start in range(0, len(inputs), batch_size)]
        return np.clip(np.concatenate(outputs), 0.0, 1.0)

    return Restorer(name or ("DnCNN" if architecture == "dncnn" else "U-Net"), restore, handles,
                    f"learned {architecture} restorer")


# --------------------------------------------------------------------------------------------
# Shipped learned restorers: data/pretrained/<name>.weights.h5 with a manifest each
# --------------------------------------------------------------------------------------------

# `python -m course_lib.learned_restoration --train NAME` reproduces data/pretrained/NAME.*; each trains on
# the 8,000 training digits only, for at most `max_seconds` of training on 2 CPU cores.
SHIPPED_RESTORERS: dict[str, LearnedRestorerConfig] = {
    "dncnn_noise_0.3": LearnedRestorerConfig(
        "dncnn", "noise_0.3", depth=8, filters=32, epochs=2, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=290.0, num_copies=7),
    "unet_hole_12": LearnedRestorerConfig(
        "unet", "hole_12", filters=32, levels=2, epochs=10, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=290.0, paste_known=True),
    "unet_missing_50": LearnedRestorerConfig(
        "unet", "missing_50", filters=24, levels=2, epochs=5, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=110.0, paste_known=True, residual=True),
    "unet_blur": LearnedRestorerConfig(
        "unet", "blur", filters=24, levels=2, epochs=5, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=110.0, residual=True),
    "unet_down_2": LearnedRestorerConfig(
        "unet", "down_2", filters=24, levels=2, epochs=5, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=110.0, residual=True),
    "unet_down_4": LearnedRestorerConfig(
        "unet", "down_4", filters=24, levels=2, epochs=5, batch_size=32, learning_rate=1e-3,
        final_learning_rate=2e-5, max_seconds=110.0, residual=True),
}


def _shipped_name(name: str) -> str:
    if name not in SHIPPED_RESTORERS:
        raise ValueError(f"Unknown shipped restorer {name!r}; expected one of: {', '.join(SHIPPED_RESTORERS)}.")
    return name


def load_learned_restorer(name: str, *, retrain: bool = False, config: LearnedRestorerConfig | None = None,
                          model=None, images=None, workdir=None, verbose="auto"):
    """The shipped learned restorer ``name`` (sha256 checked), or one trained now.

    Notebook 10 loads ``"unet_hole_12"`` the same way.
    ``name`` is a key of :data:`SHIPPED_RESTORERS`. Training happens when the weights are not
    shipped or ``retrain=True``, with ``config`` (default: the manifest's, else the shipped one)
    on ``images`` (default: the 8,000 shipped training digits), resumably in ``workdir``.
    ``model``: a built network to load the weights into (or to train into) instead of a new one.
    Returns ``(model, manifest_or_None)``: a Keras model reading :func:`model_inputs`.

    Introduced in notebook 09_cnn_restoration.
    """
    from course_lib import training

    name = _shipped_name(name)
    config = training.shipped_config(name, LearnedRestorerConfig, SHIPPED_RESTORERS[name], config=config,
                                     retrain=retrain)

    def build():  # an inference model: no optimizer to restore
        if model is not None:
            return model
        network = _build_architecture(config)
        network(np.zeros((1, 28, 28, 1 if config.architecture == "dncnn" else 2), np.float32))
        return network

    def train_into(network):
        # the cosine schedule's length depends on the number of training images: train a model
        # compiled for them, then copy its weights into the one load_or_train returns
        from course_lib import data

        training_images = images if images is not None else \
            data.load_dataset("mnist", source="subset", verbose=False).x_train
        trained, _ = train_learned_restorer(config, training_images, workdir=workdir, verbose=verbose)
        network.set_weights(trained.get_weights())

    return training.load_or_train(name, build, train_into, retrain=retrain, images=images)


def shipped_restorer(name: str, **kwargs) -> Restorer:
    """Shipped learned restorer ``name`` wrapped as a :class:`Restorer` that handles only the
    degradation it was trained on (``kwargs`` go to :func:`load_learned_restorer`).

    Introduced in notebook 09_cnn_restoration.
    """
    from course_lib import training

    name = _shipped_name(name)
    model, manifest = load_learned_restorer(name, **kwargs)
    config = training.config_from_manifest(LearnedRestorerConfig, manifest) if manifest else \
        kwargs.get("config") or SHIPPED_RESTORERS[name]
    return learned_restorer(model, config.architecture, (config.degradation,))


def shipped_restorers(names: Sequence[str] | None = None, **kwargs) -> list[Restorer]:
    """The shipped learned restorers (all that have weights in ``data/pretrained``, or ``names``)
    as :class:`Restorer` objects for :func:`benchmark`.

    Introduced in notebook 09_cnn_restoration.
    """
    from course_lib import training

    if isinstance(names, str):
        raise TypeError(f"names must be a list of shipped restorer names, got the string {names!r}; "
                        f"pass [{names!r}], or shipped_restorer({names!r}) for one.")
    if names is None:
        names = [name for name in SHIPPED_RESTORERS if training.has_shipped_weights(name)]
    return [shipped_restorer(name, **kwargs) for name in names]


def evaluate_learned_restorer(model, config: LearnedRestorerConfig, clean_images, labels, *, evaluator=None,
                              reference_images=None) -> dict:
    """Benchmark numbers of ``model`` on ``config.degradation`` beside the damaged input:
    PSNR, SSIM, recognition (and its ratio to clean accuracy), FID.

    Introduced in notebook 09_cnn_restoration.
    """
    restorer = learned_restorer(model, config.architecture, (config.degradation,))
    result = benchmark([damaged_input(), restorer], clean_images, labels, degradations=[config.degradation],
                       evaluator=evaluator, reference_images=reference_images, verbose=False)
    row, baseline = result.row(config.degradation, restorer.name), result.row(config.degradation, "damaged input")
    size = row.num_images
    return {"psnr": round(row.psnr, 2), "ssim": round(row.ssim, 4), "recognition": round(row.recognition, 4),
            "relative_recognition": round(row.relative_recognition, 4), "fid": round(row.fid, 2),
            "damaged_input_psnr": round(baseline.psnr, 2), "damaged_input_recognition": round(baseline.recognition, 4),
            "clean_accuracy": round(result.clean_accuracy[size], 4), "num_images": size,
            "milliseconds_per_image": round(1000 * row.seconds_per_image, 3)}


def train_and_save(name: str, config: LearnedRestorerConfig | None = None, *, workdir=None, verbose=2,
                   folder=None) -> dict:
    """Train shipped restorer ``name`` on the 8,000 training digits, score it on the 2,000 held-out
    digits (:func:`evaluate_learned_restorer`) and write its weights and manifest.

    Introduced in notebook 09_cnn_restoration.
    """
    from course_lib import data, training

    name = _shipped_name(name)
    config = config or SHIPPED_RESTORERS[name]
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    model, history = train_learned_restorer(config, mnist.x_train, workdir=workdir, verbose=verbose, restart=True)
    numbers = evaluate_learned_restorer(model, config, mnist.x_test, mnist.y_test, reference_images=mnist.x_train)
    steps = len(mnist.x_train) * config.num_copies // config.batch_size
    metrics = {**numbers, "training_seconds": round(history.training_seconds, 1),
               "epochs_completed": len(history.epoch), "updates": len(history.epoch) * steps,
               "test_set": "2,000 held-out MNIST digits, damaged once with seed 0 (as the benchmark)",
               "training_set": f"8,000 MNIST training digits x {config.num_copies} damaged copies",
               "history": {key: [round(value, 6) for value in values] for key, values in history.history.items()}}
    return training.save_pretrained(model, name, command=f"python -m course_lib.learned_restoration --train {name}",
                                    seed=config.seed, config=dataclasses.asdict(config), metrics=metrics,
                                    folder=folder)


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.learned_restoration --train NAME`` writes the shipped restorer NAME.

    Introduced in notebook 09_cnn_restoration.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Train the shipped learned restorers.")
    parser.add_argument("--train", nargs="+", choices=list(SHIPPED_RESTORERS), required=True,
                        help="train these shipped restorers and write data/pretrained/NAME.*")
    arguments = parser.parse_args(argv)
    from course_lib import training

    training.train_shipped(arguments.train, SHIPPED_RESTORERS, train_and_save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
