"""The frozen evaluator: one small CNN classifier that judges every image the course makes.

Notebook 01_images_tensors_and_cnns trains it on the shipped 8,000 MNIST training digits; every
later notebook loads the shipped weights (``data/pretrained/evaluator.*``, sha256-checked) and
uses it in two roles: its penultimate 128-unit layer is the feature space of FID, KID and
precision/recall, and its predictions give the recognition rate of generated or restored digits.
Because every notebook uses the same network and the same 2,000 held-out digits, their numbers
are comparable. The metrics themselves live in :mod:`course_lib.metrics`; this module only turns
images into features and probabilities.

Each judge knows one dataset. The digit judge's features are a rough guide at best on other
images, so Fashion-MNIST has its own judge of the same architecture family
(``data/pretrained/evaluator_fashion_mnist.*``), trained on the stratified 8,000 / 2,000 split
of :func:`course_lib.data.judged_split`. ``load_evaluator(dataset=...)`` picks the judge that
matches the images, and :meth:`Evaluator.check_dataset` refuses to score one dataset with the
other's judge.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from course_lib import _config_checks as checks
from course_lib._checks import as_image_batch, class_labels, one_of, positive_int
from course_lib.runtime import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

PRETRAINED_NAME = "evaluator"
PRETRAINED_NAMES = {"mnist": PRETRAINED_NAME, "fashion_mnist": "evaluator_fashion_mnist"}
"""The shipped judge of each dataset of :data:`course_lib.data.DATASET_NAMES`."""
IMAGE_SHAPE = (28, 28, 1)


@dataclasses.dataclass(frozen=True)
class EvaluatorConfig:
    """Everything that defines the evaluator and its training run.

    Introduced in notebook 01_images_tensors_and_cnns.
    """

    filters: tuple[int, int] = (32, 64)
    feature_dim: int = 128
    dropout: float = 0.3
    max_shift: float = 0.08      # random translation during training, as a fraction of the side
    max_rotation: float = 0.03   # random rotation during training, as a fraction of a full turn
    epochs: int = 15
    batch_size: int = 128
    learning_rate: float = 2e-3  # decays to 0 along a cosine over the run
    seed: int = 0
    dataset: str = "mnist"       # the images this judge is trained on and may score
    horizontal_flip: bool = False  # random left-right mirroring during training (clothes, not digits)

    def __post_init__(self):
        # each width is a conv-conv-pool block: 28 -> 14 -> 7 -> 3 -> 1, so at most four of them
        checks.widths(self, "filters", lengths=(1, 2, 3, 4))
        checks.positive_integer(self, "feature_dim", maximum=checks.MAX_WIDTH)
        checks.number(self, "dropout", 0.0, 1.0, high_open=True)
        checks.number(self, "max_shift", 0.0, 0.5)        # a shift of half the side moves the digit out
        checks.number(self, "max_rotation", 0.0, 0.5)     # half a turn either way covers every angle
        checks.positive_integer(self, "epochs")
        checks.positive_integer(self, "batch_size")
        checks.learning_rate(self, "learning_rate")
        checks.seed(self)
        checks.name(self, "dataset", tuple(PRETRAINED_NAMES))
        checks.flag(self, "horizontal_flip")


FASHION_CONFIG = EvaluatorConfig(filters=(32, 64, 128), max_rotation=0.0, horizontal_flip=True, epochs=30,
                                 dataset="fashion_mnist")
"""The Fashion-MNIST judge's recipe: a third conv-conv-pool block, mirrored clothes instead of
rotated digits (a mirrored shirt is a shirt; a rotated one is rare in the data), twice the epochs."""
DEFAULT_CONFIGS = {"mnist": EvaluatorConfig(), "fashion_mnist": FASHION_CONFIG}
JUDGED_SPLIT = ("data.judged_split('fashion_mnist'): a stratified seed-0 subset of Debian's IDX files, 8,000 of "
                "the 60,000 training images and 2,000 of the 10,000 test images, 800 and 200 per class")


def build_evaluator(config: EvaluatorConfig = EvaluatorConfig()) -> keras.Model:
    """images (None, 28, 28, 1) in [0, 1] -> 10 logits, with a layer named ``features``.

    conv-conv-pool twice (with batch normalisation), a dense ``features`` layer and the logits.
    Random shifts, rotations and (``horizontal_flip``) mirroring act only while training
    (``training=True``).

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    images = keras.Input(IMAGE_SHAPE, name="images")
    x = layers.RandomTranslation(config.max_shift, config.max_shift, fill_mode="constant", seed=config.seed)(images)
    x = layers.RandomRotation(config.max_rotation, fill_mode="constant", seed=config.seed + 1)(x)
    if config.horizontal_flip:
        x = layers.RandomFlip("horizontal", seed=config.seed + 2)(x)
    for count in config.filters:
        x = layers.Conv2D(count, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.Conv2D(count, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.MaxPooling2D()(x)                                   # 28 -> 14 -> 7 -> 3
    x = layers.Flatten()(x)
    features = layers.Dense(config.feature_dim, activation="relu", name="features")(x)
    logits = layers.Dense(10, name="logits")(layers.Dropout(config.dropout)(features))
    return keras.Model(images, logits, name="evaluator")


def compile_evaluator(model: keras.Model, config: EvaluatorConfig, steps_per_epoch: int = 8000 // 128) -> keras.Model:
    """Compile the evaluator with Adam on a cosine schedule and the from-logits cross-entropy.

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, config.epochs * steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model


def train_evaluator(config: EvaluatorConfig, images, labels, *, model: keras.Model | None = None, validation=None,
                    workdir=None, verbose="auto", restart: bool = False, strategy=None):
    """Train (and resume) the evaluator with :func:`course_lib.training.resumable_fit`.

    Returns ``(model, history)``, as every training entry point does. ``model``: a built
    evaluator network to train instead of a new one from ``config``; ``strategy``: a
    ``tf.distribute`` strategy to build and train the new one under.

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    from course_lib import training

    images = as_image_batch(images, channels=1)
    if model is None:
        with training.distribution_scope(strategy):
            model = compile_evaluator(build_evaluator(config), config,
                                      steps_per_epoch=len(images) // config.batch_size)
    elif not getattr(model, "optimizer", None):
        compile_evaluator(model, config, steps_per_epoch=len(images) // config.batch_size)
    history = training.resumable_fit(model, (images, np.asarray(labels)), epochs=config.epochs,
                                     batch_size=config.batch_size, config=dataclasses.asdict(config),
                                     seed=config.seed, workdir=workdir, name="evaluator",
                                     validation_data=validation, verbose=verbose, restart=restart)
    return model, history


class Evaluator:
    """The frozen judge: features, probabilities and the set-level scores built on them.

    Introduced in notebook 01_images_tensors_and_cnns.
    """

    def __init__(self, model: keras.Model, manifest: dict | None = None, batch_size: int = 500,
                 dataset: str | None = None):
        self._dataset = None if dataset is None else one_of(dataset, tuple(PRETRAINED_NAMES), "dataset name")
        self.model = model
        self.manifest = manifest
        self.batch_size = positive_int(batch_size, "batch_size")
        self._features_model = keras.Model(model.input, model.get_layer("features").output)

    @property
    def dataset(self) -> str:
        """The dataset this judge was trained on: ``dataset`` as given, else its manifest's, else ``"mnist"``."""
        if self._dataset is not None:
            return self._dataset
        recorded = ((self.manifest or {}).get("config") or {}).get("dataset", "mnist")
        return recorded

    def check_dataset(self, dataset) -> None:
        """Refuse to score images of ``dataset`` (a name or an ``ImageDataset``) with another dataset's judge.

        A judge's features and classes mean something only on the images it was trained on:
        the digit judge would score clothes, and the clothes judge digits, with numbers that
        look like results and are not.
        """
        from course_lib.data import DATASET_NAMES

        name = getattr(dataset, "name", dataset)
        one_of(name, DATASET_NAMES, "dataset name")
        if name != self.dataset:
            raise ValueError(f"this evaluator judges {self.dataset!r} images and cannot score {name!r} ones: "
                             f"load the matching judge with load_evaluator(dataset={name!r}).")

    def _check(self, images, name="images") -> np.ndarray:
        images = as_image_batch(images, name=name, channels=1)
        if images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"{name} must be 28x28 greyscale digits, shape (N, 28, 28, 1); got {images.shape}.")
        return images

    def _run(self, model, images) -> np.ndarray:
        return np.concatenate([np.asarray(model(images[start:start + self.batch_size], training=False))
                               for start in range(0, len(images), self.batch_size)])

    def logits(self, images) -> np.ndarray:
        """(N, 10) logits."""
        return self._run(self.model, self._check(images))

    def probabilities(self, images) -> np.ndarray:
        """(N, 10) class probabilities (softmax of the logits)."""
        logits = self.logits(images)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def features(self, images) -> np.ndarray:
        """(N, feature_dim) penultimate activations: the space of FID, KID and precision/recall."""
        return self._run(self._features_model, self._check(images))

    def predict_labels(self, images) -> np.ndarray:
        return self.logits(images).argmax(axis=1)

    def accuracy(self, images, labels) -> float:
        """Fraction of ``images`` whose predicted class is ``labels`` (integers in [0, 10)).

        Labels are checked as :func:`course_lib.metrics.recognition_rate` checks them: strings,
        floats and classes outside [0, 10) are errors, not an accuracy of 0.
        """
        images = self._check(images)
        labels = class_labels(labels, self.model.output_shape[-1], num_samples=len(images))
        return float(np.mean(self.predict_labels(images) == labels))

    # set-level scores -------------------------------------------------------------------------
    def fid(self, images_a, images_b) -> float:
        from course_lib import metrics

        return metrics.frechet_distance(self.features(images_a), self.features(images_b))

    def kid(self, images_a, images_b, **options):
        from course_lib import metrics

        return metrics.kernel_distance(self.features(images_a), self.features(images_b), **options)

    def inception_score(self, images, num_splits: int = 10):
        from course_lib import metrics

        return metrics.inception_score(self.probabilities(images), num_splits=num_splits)

    def precision_recall(self, real_images, generated_images, k: int = 3):
        from course_lib import metrics

        return metrics.precision_recall(self.features(real_images), self.features(generated_images), k=k)

    def recognition_rate(self, restored_images, labels, clean_images=None):
        from course_lib import metrics

        clean = None if clean_images is None else self.probabilities(clean_images)
        return metrics.recognition_rate(self.probabilities(restored_images), labels, clean)


def load_evaluator(name: str | None = None, *, dataset: str | None = None, retrain: bool = False,
                   config: EvaluatorConfig | None = None, model: keras.Model | None = None, verbose=2):
    """The shipped judge of ``dataset`` (sha256-checked), or one trained now when ``retrain`` or none is shipped.

    Returns ``(evaluator, manifest_or_None)`` like every loader: an :class:`Evaluator` (which
    also keeps the manifest). ``dataset``: ``"mnist"`` (the default) or ``"fashion_mnist"``;
    ``name``: the shipped name instead (:data:`PRETRAINED_NAMES`). ``config`` defaults to the
    manifest's; ``model``: a built evaluator network to load the weights into (or to train).

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    from course_lib import data, training

    if name is None:
        dataset = one_of("mnist" if dataset is None else dataset, tuple(PRETRAINED_NAMES), "dataset name")
        name = PRETRAINED_NAMES[dataset]
    else:
        one_of(name, tuple(PRETRAINED_NAMES.values()), "shipped evaluator")
        if dataset is not None:
            one_of(dataset, tuple(PRETRAINED_NAMES), "dataset name")
        named = next(key for key, value in PRETRAINED_NAMES.items() if value == name)
        if dataset is not None and dataset != named:
            raise ValueError(f"the evaluator {name!r} judges {named!r} images, not {dataset!r} ones: "
                             f"pass only dataset={dataset!r}.")
        dataset = named
    config = training.shipped_config(name, EvaluatorConfig, DEFAULT_CONFIGS[dataset], config=config, retrain=retrain)
    if config.dataset != dataset:
        raise ValueError(f"config.dataset is {config.dataset!r} but the judge asked for is {dataset!r}'s.")

    def build():
        return model if model is not None else build_evaluator(config)

    def train(network):
        split = data.judged_split(dataset)
        train_evaluator(config, split.x_train, split.y_train, model=network, verbose=verbose)

    network, manifest = training.load_or_train(name, build, train, retrain=retrain)
    recorded = manifest if manifest is not None else {"config": dataclasses.asdict(config)}
    return Evaluator(network, recorded), manifest


def train_and_save(config: EvaluatorConfig = EvaluatorConfig(), verbose=2, folder=None) -> dict:
    """Train the judge of ``config.dataset``, measure it, and write ``data/pretrained/<name>.*``.

    ``folder``: write there instead of ``data/pretrained/`` (a trial recipe).

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    from course_lib import data, metrics, runtime, training

    runtime.seed_everything(config.seed, deterministic=True)
    split = data.judged_split(config.dataset)
    model, history = train_evaluator(config, split.x_train, split.y_train, verbose=verbose, workdir=None,
                                     restart=True)
    evaluator = Evaluator(model, dataset=config.dataset)
    test_features = evaluator.features(split.x_test)
    train_features = evaluator.features(split.x_train)
    noise = np.random.default_rng(config.seed).random((2000, *IMAGE_SHAPE), dtype=np.float32)
    started = time.perf_counter()
    fid_floor_2000 = metrics.frechet_distance(evaluator.features(split.x_train[:2000]), test_features)
    scoring_seconds = time.perf_counter() - started
    kid_floor = metrics.kernel_distance(train_features, test_features)
    name = PRETRAINED_NAMES[config.dataset]
    command = "python -m course_lib.evaluator --train" + \
        ("" if config.dataset == "mnist" else f" --dataset {config.dataset}")
    extra = {} if config.dataset == "mnist" else {"data_sha256": data.FASHION_IDX_SHA256, "split": JUDGED_SPLIT}
    return training.save_pretrained(
        model, name, command=command, seed=config.seed, config=dataclasses.asdict(config), folder=folder,
        metrics={"held_out_accuracy": round(evaluator.accuracy(split.x_test, split.y_test), 4),
                 "feature_dim": config.feature_dim,
                 "fid_floor_train_vs_test": round(metrics.frechet_distance(train_features, test_features), 4),
                 "fid_floor_2000_vs_2000": round(fid_floor_2000, 4),
                 "kid_floor": round(kid_floor.mean, 6), "kid_floor_standard_error": round(kid_floor.standard_error, 6),
                 "fid_uniform_noise": round(metrics.frechet_distance(evaluator.features(noise), test_features), 2),
                 "training_seconds": round(history.training_seconds, 1),
                 "seconds_to_score_2000": round(scoring_seconds, 2), **extra})


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.evaluator --train [--dataset fashion_mnist]`` writes a judge.

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Train a frozen judge and write data/pretrained/<name>.*")
    parser.add_argument("--train", action="store_true", required=True)
    parser.add_argument("--dataset", choices=tuple(PRETRAINED_NAMES), default="mnist")
    parser.add_argument("--epochs", type=int, default=None, help="the recipe's own number by default")
    parser.add_argument("--folder", default=None, help="write there instead of data/pretrained/")
    args = parser.parse_args(argv)
    config = DEFAULT_CONFIGS[args.dataset]
    if args.epochs is not None:
        config = dataclasses.replace(config, epochs=args.epochs)
    manifest = train_and_save(config, folder=args.folder)
    print(manifest["metrics"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
