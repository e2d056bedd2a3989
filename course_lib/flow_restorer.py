"""A flow-matching restorer trained for one damage (SR3-style): the zero-shot prior's counterpart.

The zero-shot samplers of :mod:`course_lib.diffusion_restoration` restore with a model that never
saw damage. This one learns ``p(x | y)`` directly: notebook 07's flow-matching U-Net
(:func:`course_lib.diffusion.build_unet`) reads, beside ``x_t`` and ``t``, a ``condition``: the
damaged digit and its mask stacked on the channel axis, exactly what notebook 09's U-Net reads
(:func:`course_lib.learned_restoration.model_inputs`). :class:`FlowRestorer` trains it with the
flow-matching loss on (clean, damaged) pairs of the 8,000 training digits, and
:func:`restore_samples` draws posterior samples by integrating the learned velocity from noise,
with the damaged image held fixed, then pastes the known pixels back. :func:`flow_restorer`
wraps it in the :class:`course_lib.restorer.Restorer` contract for the benchmark. The shipped
one (:data:`SHIPPED_NAME`) fills the 12x12 hole; ``python -m course_lib.flow_restorer --train``
reproduces it.

Introduced in notebook 11_diffusion_restoration.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from course_lib import _config_checks as checks
from course_lib import degradations as deg
from course_lib import diffusion
from course_lib import diffusion_theory as theory
from course_lib._checks import as_image_batch, boolean, one_of, positive_int, seed as check_seed
from course_lib.degradations import Damaged
from course_lib.restorer import Restorer

keras, ops, tf = diffusion.keras, diffusion.ops, diffusion.tf

SHIPPED_NAME = "flow_restorer_hole_12"
CONDITION_CHANNELS = 2   # the damaged image and its mask (1 = known pixel)
IMAGE_SHAPE = (28, 28, 1)


@dataclasses.dataclass(frozen=True)
class FlowRestorerConfig:
    """Everything that defines a conditional flow-matching restorer's training run.

    The network is notebook 07's U-Net (``widths``, ``embedding_dim``, ``groups``) with the
    damaged image and mask as two extra input channels; it trains on ``degradation``'s damage of
    the training digits, ``num_copies`` damaged copies of each (a fixed hole needs one), with Adam
    at a constant ``learning_rate`` and an exponential moving average of the weights.

    Introduced in notebook 11_diffusion_restoration.
    """

    degradation: str = "hole_12"
    widths: tuple[int, ...] = (32, 64, 64)
    embedding_dim: int = 128
    groups: int = 8
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 24
    num_copies: int = 1
    ema_decay: float = 0.999
    max_seconds: float | None = None
    seed: int = 0

    def __post_init__(self):
        if not isinstance(self.degradation, str):
            raise TypeError(f"FlowRestorerConfig.degradation must be a degradation's name such as 'hole_12', got "
                            f"{type(self.degradation).__name__}.")
        object.__setattr__(self, "degradation", deg.get_degradation(self.degradation).name)
        checks.diffusion_unet(self)
        checks.learning_rate(self, "learning_rate")
        checks.positive_integer(self, "batch_size")
        checks.positive_integer(self, "epochs")
        checks.positive_integer(self, "num_copies", maximum=50)
        checks.number(self, "ema_decay", 0.0, 1.0, high_open=True)
        checks.seconds(self, "max_seconds")
        checks.seed(self)


SHIPPED_CONFIG = FlowRestorerConfig()


class FlowRestorerBase(diffusion.DiffusionBase):
    """The plumbing of :class:`FlowRestorer`: a straight-path, velocity-predicting model whose
    network reads ``[x_t, t, condition]``, the EMA copy, and the denoiser that sampling calls with
    the damage held fixed; not its ``train_step``. ``degradation`` names the damage it was
    trained for.

    Introduced in notebook 11_diffusion_restoration.
    """

    def __init__(self, network, *, degradation: str = "hole_12", ema_decay: float = 0.999, seed: int = 0, **kwargs):
        if len(getattr(network, "inputs", None) or ()) != 3 or network.inputs[2].shape[-1] != CONDITION_CHANNELS:
            shapes = [tuple(tensor.shape) for tensor in getattr(network, "inputs", None) or ()]
            raise ValueError(f"a FlowRestorer's network reads [x_t, t, condition] with {CONDITION_CHANNELS} "
                             f"condition channels (build_unet(..., condition_channels={CONDITION_CHANNELS})); "
                             f"this one reads {shapes}.")
        super().__init__(network, schedule="straight", prediction="velocity", num_classes=0, label_dropout=0.0,
                         ema_decay=ema_decay, scale_images=True, seed=seed, **kwargs)
        self.degradation = deg.get_degradation(degradation).name

    def denoiser(self, condition=None, *, use_ema: bool = True, batch_size: int = 500, **unexpected):
        """The ``(x, t) -> (x0_hat, eps_hat)`` callable of ``diffusion_theory.sample`` for the damaged
        batch ``condition`` (N, H, W, 2): row ``i`` of ``x`` is denoised given row ``i`` of it."""
        if unexpected:
            raise TypeError(f"FlowRestorer.denoiser takes condition, use_ema and batch_size, not "
                            f"{', '.join(sorted(unexpected))} (no labels, no guidance).")
        if condition is None:
            raise TypeError("a FlowRestorer denoises given the damage: denoiser(condition), with condition "
                            "= learned_restoration.model_inputs(damaged, 'unet').")
        condition = np.asarray(condition, np.float32)
        expected = tuple(self.data_shape[:-1]) + (CONDITION_CHANNELS,)
        if condition.ndim != 4 or condition.shape[1:] != expected:
            raise ValueError(f"condition must be (N,) + {expected} (damaged image and mask), got {condition.shape}.")
        network = self.ema_network if boolean(use_ema, "use_ema") else self.network
        batch_size = positive_int(batch_size, "batch_size")
        compiled = diffusion._inference_function(network)

        def denoise(x, t):
            if len(x) != len(condition):
                raise ValueError(f"the denoiser holds {len(condition)} damaged images but was given {len(x)} points.")
            outputs = []
            for start in range(0, len(x), batch_size):
                chunk = np.asarray(x[start:start + batch_size], np.float32)
                inputs = [chunk, np.full(len(chunk), t, np.float32), condition[start:start + batch_size]]
                outputs.append(np.asarray(compiled(inputs), np.float64))
            alpha, sigma, d_alpha, d_sigma = self.schedule.coefficients(t)
            return theory.split_prediction(np.concatenate(outputs), x, alpha, sigma, d_alpha, d_sigma, self.prediction)

        return denoise

    def denoiser_vjp(self, *args, **kwargs):
        raise TypeError("a FlowRestorer is trained for its damage, not a prior for zero-shot posterior sampling: "
                        "restore with course_lib.flow_restorer.restore_samples (diffusion_restoration needs an "
                        "unconditional model such as load_prior()'s).")

    def generate(self, *args, **kwargs):
        raise TypeError("a FlowRestorer samples given damage: use course_lib.flow_restorer.restore_samples.")


class FlowRestorer(FlowRestorerBase):
    """Flow matching conditioned on the damage: ``p(x | y)`` learned from (clean, damaged) pairs.

    ``train_step`` is :class:`course_lib.diffusion.Diffusion`'s for images on the straight path,
    with the condition as a third network input: the same ``x_t = (1 - t) x_0 + t eps``, the same
    velocity target ``eps - x_0``; only the network sees what survived the damage.

    Introduced in notebook 11_diffusion_restoration.
    """

    def train_step(self, data):
        images, condition = data                                           # clean digits, damaged digit + mask
        x_0 = images * 2.0 - 1.0                                           # [0, 1] -> [-1, 1]
        batch_size = ops.shape(x_0)[0]
        t = keras.random.uniform((batch_size,), seed=self.seed_generator)
        noise = keras.random.normal(ops.shape(x_0), seed=self.seed_generator)
        alpha, sigma, d_alpha, d_sigma = self.coefficients(t)
        x_t = alpha * x_0 + sigma * noise
        target = d_alpha * x_0 + d_sigma * noise                           # the velocity eps - x_0
        replicas = self.distribute_strategy.num_replicas_in_sync          # gradients are summed over replicas
        with tf.GradientTape() as tape:
            loss = ops.mean(ops.square(self.network([x_t, t, condition], training=True) - target))
            scaled_loss = loss / replicas
        gradients = tape.gradient(scaled_loss, self.network.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.network.trainable_variables))
        self.update_moving_average()
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def build_flow_restorer(config: FlowRestorerConfig = SHIPPED_CONFIG, *, model_class=None) -> FlowRestorer:
    """A compiled, built :class:`FlowRestorer` (or ``model_class``, such as the one notebook 11
    shows) for ``config``.

    Introduced in notebook 11_diffusion_restoration.
    """
    if not isinstance(config, FlowRestorerConfig):
        raise TypeError(f"config must be a FlowRestorerConfig, got {type(config).__name__}.")
    model_class = FlowRestorer if model_class is None else model_class
    if not (isinstance(model_class, type) and issubclass(model_class, FlowRestorerBase)):
        raise TypeError(f"model_class must be a subclass of FlowRestorerBase, got {model_class!r}.")
    keras.utils.set_random_seed(config.seed)
    network = diffusion.build_unet(config.widths, embedding_dim=config.embedding_dim, groups=config.groups,
                                   condition_channels=CONDITION_CHANNELS, name="flow_restorer_unet")
    model = model_class(network, degradation=config.degradation, ema_decay=config.ema_decay, seed=config.seed)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), jit_compile=False)  # as DiffusionConfig's
    model.build(None)
    return model


def training_pairs(config: FlowRestorerConfig, clean_images) -> tuple[np.ndarray, np.ndarray]:
    """``(conditions, clean targets)``, as :func:`course_lib.learned_restoration.training_pairs`: the
    damage of the training digits as the network reads it (damaged image and mask, notebook 09's
    damage seeds, never 0, the benchmark's) and the digits themselves.

    Introduced in notebook 11_diffusion_restoration.
    """
    from course_lib import learned_restoration

    recipe = learned_restoration.LearnedRestorerConfig("unet", config.degradation, num_copies=config.num_copies,
                                                       seed=config.seed)
    return learned_restoration.training_pairs(recipe, as_image_batch(clean_images, "clean_images",
                                                                     image_shape=IMAGE_SHAPE))


def train_flow_restorer(config: FlowRestorerConfig, clean_images, *, model: FlowRestorer | None = None,
                        callbacks=(), workdir=None, verbose="auto", restart: bool = False, strategy=None):
    """Train on ``clean_images`` ((N, 28, 28, 1) in [0, 1]) damaged by ``config.degradation``, with
    resumable ``fit()``: ``(model, history)``. The arguments after ``clean_images`` are every
    family's (``course_lib.training``, "one shape").

    Introduced in notebook 11_diffusion_restoration.
    """
    from course_lib import training

    if not isinstance(config, FlowRestorerConfig):
        raise TypeError(f"config must be a FlowRestorerConfig, got {type(config).__name__}.")
    if model is not None and not isinstance(model, FlowRestorerBase):
        raise TypeError(f"model must be a FlowRestorer (build_flow_restorer(config)), got {type(model).__name__}.")
    if model is not None and model.degradation != config.degradation:
        raise ValueError(f"the model restores {model.degradation!r} but the config trains on {config.degradation!r}.")
    conditions, targets = training_pairs(config, clean_images)
    if len(targets) < config.batch_size:
        raise ValueError(f"{len(targets)} training pairs are fewer than one batch of {config.batch_size}.")
    if model is None:
        with training.distribution_scope(strategy):
            model = build_flow_restorer(config)
    history = training.resumable_fit(model, (targets, conditions), epochs=config.epochs, batch_size=config.batch_size,
                                     config={**dataclasses.asdict(config), "num_images": len(targets)},
                                     seed=config.seed, workdir=workdir, name=f"flow-restorer-{config.degradation}",
                                     max_seconds=config.max_seconds, callbacks=callbacks, verbose=verbose,
                                     restart=restart)
    return model, history


def restore_samples(model: FlowRestorer, damaged: Damaged, *, num_samples: int = 1, num_steps: int = 8,
                    method: str = "heun", seed: int = 0) -> np.ndarray:
    """``num_samples`` restorations of each damaged image, (N, num_samples, H, W, C) in [0, 1]: the
    learned velocity integrated from fresh noise in ``num_steps`` steps of ``method`` with the damage
    held fixed, then the known pixels pasted back. ``seed`` fixes the noise, so a call is
    reproducible and different seeds give different completions.

    Introduced in notebook 11_diffusion_restoration.
    """
    from course_lib import learned_restoration

    if not isinstance(model, FlowRestorerBase):
        raise TypeError(f"model must be a FlowRestorer (load_flow_restorer()), got {type(model).__name__}.")
    if not isinstance(damaged, Damaged):
        raise TypeError(f"damaged must be a degradations.Damaged batch (from Degradation.apply), "
                        f"got {type(damaged).__name__}.")
    if damaged.degradation.name != model.degradation:
        raise ValueError(f"this restorer was trained for {model.degradation!r}, not {damaged.degradation.name!r}.")
    num_samples = positive_int(num_samples, "num_samples")
    one_of(method, theory.SAMPLERS, "sampler")
    seed = check_seed(seed)
    degradation = damaged.degradation
    factor = int(degradation.level) if degradation.kind == "down" else 1
    clean_shape = tuple(model.data_shape)
    expected = (clean_shape[0] // factor, clean_shape[1] // factor, clean_shape[2])
    if tuple(damaged.images.shape[1:]) != expected:
        raise ValueError(f"the model restores {clean_shape} images, so {degradation.name!r} damage should be "
                         f"{expected}; got damaged.images of shape {tuple(damaged.images.shape[1:])}.")
    positive_int(len(damaged.images) * num_samples, "damaged images x num_samples", maximum=diffusion.MAX_SAMPLES)
    condition = np.repeat(learned_restoration.model_inputs(damaged, "unet"), num_samples, axis=0)
    noise = np.random.default_rng(seed).standard_normal((len(condition),) + tuple(model.data_shape))
    restored = theory.sample(model.denoiser(condition), noise, model.schedule, num_steps=num_steps, method=method,
                             seed=seed + 1, clip=1.0)
    if not np.all(np.isfinite(restored)):
        raise FloatingPointError("the restorer's samples are not finite: its weights have diverged; retrain it "
                                 "(load_flow_restorer(retrain=True)) or restore the shipped file.")
    restored = np.clip((restored + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)
    if damaged.mask is not None:                    # the known pixels are known exactly: keep them
        mask = np.repeat(np.asarray(damaged.mask, np.float32), num_samples, axis=0)
        images = np.repeat(np.asarray(damaged.images, np.float32), num_samples, axis=0)
        restored = mask * images + (1.0 - mask) * restored
    return restored.reshape((len(damaged.images), num_samples) + tuple(model.data_shape))


def flow_restorer(model: FlowRestorer, *, num_samples: int = 1, name: str | None = None, **options) -> Restorer:
    """A :class:`course_lib.restorer.Restorer`: the mean of ``num_samples`` restorations of
    :func:`restore_samples` (one sample when ``num_samples`` is 1) for the damage it was trained
    for, marked slow for the benchmark. ``options`` go to :func:`restore_samples`.

    Introduced in notebook 11_diffusion_restoration.
    """
    if not isinstance(model, FlowRestorerBase):
        raise TypeError(f"model must be a FlowRestorer (load_flow_restorer()), got {type(model).__name__}.")
    num_samples = positive_int(num_samples, "num_samples")
    label = name or ("trained flow, 1 sample" if num_samples == 1 else f"trained flow, mean of {num_samples}")

    def restore(damaged):
        return restore_samples(model, damaged, num_samples=num_samples, **options).mean(axis=1)

    return Restorer(label, restore, (model.degradation,), description="conditional flow matching trained for "
                    f"{model.degradation}", slow=True)


def load_flow_restorer(retrain: bool = False, *, config: FlowRestorerConfig | None = None, images=None,
                       model_class=None, workdir=None, verbose="auto"):
    """The shipped :data:`SHIPPED_NAME` (EMA weights, sha256 checked) or, with ``retrain``, one
    trained now on ``images`` (default: the 8,000 training digits; about 23 minutes on 2 CPU
    cores), resumably in ``workdir``: ``(model, manifest_or_None)``. ``model_class``: as
    :func:`build_flow_restorer`'s.

    Introduced in notebook 11_diffusion_restoration.
    """
    from course_lib import training

    config = training.shipped_config(SHIPPED_NAME, FlowRestorerConfig, SHIPPED_CONFIG, config=config, retrain=retrain)
    holder = {}

    def build():
        holder["model"] = build_flow_restorer(config, model_class=model_class)
        return holder["model"].ema_network

    def train(ema_network):
        from course_lib import data

        training_images = images if images is not None else data.load_dataset("mnist", source="subset",
                                                                               verbose=False).x_train
        train_flow_restorer(config, training_images, model=holder["model"], workdir=workdir, verbose=verbose)

    _, manifest = training.load_or_train(SHIPPED_NAME, build, train, retrain=retrain, images=images)
    model = holder["model"]
    if manifest is not None:   # loaded: the trained copy is the EMA one
        model.network.set_weights(model.ema_network.get_weights())
    return model, manifest


def shipped_restorers(num_samples=(1, 16), **options) -> list:
    """The shipped :data:`SHIPPED_NAME` as restorers, one per entry of ``num_samples`` (one sample,
    the mean of 16), or none when its weights are not installed.

    Introduced in notebook 11_diffusion_restoration.
    """
    from course_lib import training

    if not training.has_shipped_weights(SHIPPED_NAME):
        return []
    model, _ = load_flow_restorer()
    return [flow_restorer(model, num_samples=count, **options) for count in num_samples]


def evaluate_flow_restorer(model: FlowRestorer, clean_images, labels, *, reference_images=None, num_samples: int = 1,
                           seed: int = 0) -> dict:
    """PSNR, SSIM, recognition, FID and milliseconds per image of one sample (or the mean of
    ``num_samples``) per digit, scored by :func:`course_lib.benchmark.benchmark` beside the damaged input.

    Introduced in notebook 11_diffusion_restoration.
    """
    from course_lib.benchmark import benchmark
    from course_lib.restoration import damaged_input

    restorer = flow_restorer(model, num_samples=num_samples)
    result = benchmark([damaged_input(), restorer], clean_images, labels, degradations=[model.degradation],
                       reference_images=reference_images, seed=seed, verbose=False)
    row, baseline = result.row(model.degradation, restorer.name), result.row(model.degradation, "damaged input")
    return {"psnr": round(row.psnr, 2), "ssim": round(row.ssim, 4), "recognition": round(row.recognition, 4),
            "fid": round(row.fid, 2), "num_images": row.num_images,
            "milliseconds_per_image": round(1000 * row.seconds_per_image, 2),
            "damaged_input_psnr": round(baseline.psnr, 2), "damaged_input_recognition": round(baseline.recognition, 4)}


def train_and_save(config: FlowRestorerConfig = SHIPPED_CONFIG, *, workdir=None, verbose=2) -> dict:
    """Train :data:`SHIPPED_NAME` on the 8,000 training digits, score one sample per digit on the
    2,000 held-out digits (damage seed 0, as the benchmark; 8 Heun steps) and write weights and
    manifest. ``config`` is :data:`SHIPPED_CONFIG`, whose ``epochs`` may differ (the recorded command
    then says so); any other change is refused, since the command could not reproduce it.

    Introduced in notebook 11_diffusion_restoration.
    """
    from course_lib import data, training

    if not isinstance(config, FlowRestorerConfig):
        raise TypeError(f"config must be a FlowRestorerConfig, got {type(config).__name__}.")
    differences = [field.name for field in dataclasses.fields(config) if field.name != "epochs"
                   and getattr(config, field.name) != getattr(SHIPPED_CONFIG, field.name)]
    if differences:
        raise ValueError(f"train_and_save writes {SHIPPED_NAME!r}, the recipe SHIPPED_CONFIG with any number of "
                         f"epochs; this config also changes {', '.join(differences)}. Train other recipes with "
                         "train_flow_restorer.")
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    started, cpu_started = time.perf_counter(), time.process_time()
    model, history = train_flow_restorer(config, mnist.x_train, workdir=workdir, verbose=verbose, restart=True)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    model.network.set_weights(model.ema_network.get_weights())
    one = evaluate_flow_restorer(model, mnist.x_test, mnist.y_test, reference_images=mnist.x_train)
    metrics = {**{f"one_sample_{key}": value for key, value in one.items()},
               "sampler": f"heun, 8 steps ({theory.network_calls(8, 'heun')} network calls)", "training_seconds": round(history.training_seconds, 1),
               "wall_seconds": round(wall, 1), "process_cpu_seconds": round(cpu, 1),
               "updates": int(model.optimizer.iterations.numpy()), "epochs_completed": len(history.epoch),
               "test_set": "2,000 held-out MNIST digits, damaged once with seed 0 (as the benchmark)",
               "training_set": f"8,000 MNIST training digits x {config.num_copies} damaged copies",
               "history": {key: [round(value, 5) for value in values] for key, values in history.history.items()}}
    return training.save_pretrained(model.ema_network, SHIPPED_NAME, command=f"python -m course_lib.flow_restorer --train --epochs {config.epochs}",
                                    seed=config.seed, config=dataclasses.asdict(config), metrics=metrics)


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.flow_restorer --train`` writes data/pretrained/flow_restorer_hole_12.*.

    Introduced in notebook 11_diffusion_restoration.
    """
    import argparse

    parser = argparse.ArgumentParser(description=f"Train the shipped {SHIPPED_NAME}: data/pretrained/{SHIPPED_NAME}.*")
    parser.add_argument("--train", action="store_true", required=True)
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    args = parser.parse_args(argv)
    from course_lib import runtime

    runtime.seed_everything(SHIPPED_CONFIG.seed)
    config = SHIPPED_CONFIG if args.epochs is None else dataclasses.replace(SHIPPED_CONFIG, epochs=args.epochs)
    manifest = train_and_save(config)
    print({key: value for key, value in manifest["metrics"].items() if key != "history"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
