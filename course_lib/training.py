"""Training helpers every model family uses: resumable, time-limited ``fit`` and shipped weights.

:func:`resumable_fit` wraps ``model.fit`` so that a closed laptop lid or a Colab disconnect
costs at most one epoch: after every epoch it saves the model's and optimizer's state, the
epoch reached, the history and the training time to a run folder named after the training
configuration, and a second call with the same configuration resumes there. Batches are
shuffled with a stateless permutation keyed by ``(seed, epoch)``, so a resumed run sees exactly
the batches an uninterrupted one would and ends with the same weights. Every family (the
evaluator, the DCGAN, the VAEs, the learned restorers, the cGAN) trains through it, so every
run measures its training time the same way (:class:`TimeLimit`: wall-clock time inside
epochs) and stops after ``max_seconds`` of it; :class:`MeasureAtSeconds` measures a model at
given amounts of that training time (the FID curves of notebook 07 and the generation
benchmark). Every family's entry point has one shape,
``train_<family>(config, images, ..., *, model=None, callbacks=(), workdir=None, verbose="auto",
restart=False, strategy=None) -> (model, history)``: ``model`` is a built model to train
instead of a new one from ``config``; ``strategy`` a ``tf.distribute`` strategy to build and
train the new one under (:func:`distribution_scope`); ``config.max_seconds`` stops training
after that much training time, and ``history.training_seconds`` is the run's training time.

The shipped-model layer gives a notebook its model: :func:`has_shipped_weights` ("are there
shipped weights?", with a clear error for a half-deleted install), :func:`read_manifest`,
:func:`shipped_config` (the configuration from the manifest, else the default, refusing
unknown keys and a configuration that is not the one the weights were trained with) and
:func:`load_or_train`, which loads the weights in ``data/pretrained/`` (sha256 checked) unless
``retrain`` is set and otherwise trains; :func:`save_pretrained` writes new weights and manifest.
Introduced in notebook 00_welcome_and_setup; used by every notebook that trains.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import pathlib
import shutil
import time

import numpy as np

from course_lib._checks import boolean, positive_int
from course_lib.data import data_dir, sha256_of
from course_lib.runtime import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

DEFAULT_WORKDIR = pathlib.Path(os.environ.get("COURSE_WORKDIR", pathlib.Path.home() / ".course_work"))


def config_key(config: dict) -> str:
    """A short, stable hash of a JSON-serialisable configuration.

    Introduced in notebook 05_vae_mnist.
    """
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def epoch_batches(arrays, batch_size: int, seed: int, first_epoch: int, last_epoch: int):
    """A ``tf.data`` pipeline yielding the batches of epochs ``first_epoch .. last_epoch - 1``.

    Epoch ``e`` visits the examples in the order of a permutation drawn from a stateless RNG
    with seed ``(seed, e)``: the order depends only on the epoch, never on how many epochs this
    process has already run. The last partial batch of each epoch is dropped.

    Introduced in notebook 05_vae_mnist.
    """
    tf = import_tensorflow()

    arrays = tuple(np.asarray(array) for array in arrays)
    num_examples = len(arrays[0])
    if any(len(array) != num_examples for array in arrays):
        raise ValueError(f"all arrays must have the same length, got {[len(a) for a in arrays]}.")
    steps_per_epoch = num_examples // batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size {batch_size} is larger than the {num_examples} examples.")
    tensors = tuple(tf.constant(array) for array in arrays)

    def one_epoch(epoch):
        keys = tf.random.stateless_uniform([num_examples], seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        order = tf.argsort(keys)[: steps_per_epoch * batch_size]
        return tf.data.Dataset.from_tensor_slices(tf.reshape(order, [steps_per_epoch, batch_size]))

    def gather(indices):
        batch = tuple(tf.gather(tensor, indices) for tensor in tensors)
        return batch if len(batch) > 1 else batch[0]

    dataset = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(one_epoch)
    return dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE), steps_per_epoch


def _seed_generator_states(model) -> list:
    """The state variables of every ``keras.random.SeedGenerator`` the model uses.

    ``save_weights`` leaves them out, yet they decide the next dropout mask or latent sample:
    a resumed run must restore them to draw what the uninterrupted run would have drawn.
    The global generator behind ``keras.random.*(seed=None)`` is included when it exists.
    """
    from keras.src.backend.common import global_state

    states, seen = [], set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for generator in getattr(layer, "_seed_generators", []):
            if id(generator) not in seen:
                seen.add(id(generator))
                states.append(generator.state)
    global_generator = global_state.get_global_attribute("global_seed_generator")
    if global_generator is not None and id(global_generator) not in seen:
        states.append(global_generator.state)
    return states


class TimeLimit(keras.callbacks.Callback):
    """Counts training time and, given ``seconds``, stops ``fit()`` once that much has passed.

    Training time is the wall-clock time inside epochs, from an epoch's start to its last
    batch (checked after every batch). What callbacks do after the last batch of an epoch
    (checkpoints, FID, sample grids) and the start-up before the first epoch are left out, so a
    run that is measured or saved more often is not trained less, and every family's
    ``training_seconds`` means the same thing. ``already_trained`` is the time a resumed run
    trained before (:func:`resumable_fit` passes it); ``training_seconds`` holds the total.

    Introduced in notebook 05_vae_mnist.
    """

    def __init__(self, seconds: float | None = None, clock=time.perf_counter, already_trained: float = 0.0):
        super().__init__()
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or not seconds > 0):
            raise ValueError(f"seconds must be a positive number or None, got {seconds!r}.")
        self.seconds = None if seconds is None else float(seconds)
        self.clock = clock
        self.already_trained = float(already_trained)
        self.training_seconds = self.already_trained
        self.epoch_started = None
        self.counted_before_epoch = self.already_trained

    @property
    def used_up(self) -> bool:
        """Whether the time limit (if any) has been reached."""
        return self.seconds is not None and self.training_seconds >= self.seconds

    def on_train_begin(self, logs=None):
        self.training_seconds = self.already_trained

    def on_epoch_begin(self, epoch, logs=None):
        self.counted_before_epoch = self.training_seconds
        self.epoch_started = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        self.training_seconds = self.counted_before_epoch + self.clock() - self.epoch_started
        if self.used_up:
            self.model.stop_training = True


class MeasureAtSeconds(TimeLimit):
    """A :class:`TimeLimit` that measures the model at given amounts of training time: after the
    first epoch ending at or past each of ``seconds`` (training time as every family counts it),
    it calls ``measure(model, reached)`` and records the dict it returns as a point of
    :attr:`points`, with ``training_seconds``, ``epoch`` and ``batches`` (this ``fit()`` call's).

    ``reached`` is the tuple of the values of ``seconds`` passed since the last measurement
    (several when one epoch crosses more than one), so ``measure`` can spend more on some
    points than on others. The measuring happens after the epoch's last batch, so it is never
    counted as training. With ``stop=True`` training stops once the last of ``seconds`` is
    reached (this callback is then the time limit). When ``fit()`` ends before some of
    ``seconds`` (its epochs ran out), the last state is measured once more with ``reached=()``.
    ``clock`` and ``already_trained`` are :class:`TimeLimit`'s.

    Introduced in notebook 07_diffusion_mnist.
    """

    def __init__(self, measure, seconds, *, stop: bool = False, clock=time.perf_counter, already_trained: float = 0.0):
        if not callable(measure):
            raise TypeError(f"measure must be a function (model, reached) -> dict, got {type(measure).__name__}.")
        values = list(seconds) if isinstance(seconds, (list, tuple)) else None
        if not values or any(isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
                             or not value > 0 for value in values):
            raise ValueError(f"seconds must be a non-empty list or tuple of positive numbers, got {seconds!r}.")
        values = sorted({float(value) for value in values})
        super().__init__(values[-1] if boolean(stop, "stop") else None, clock=clock, already_trained=already_trained)
        self.measure = measure
        self.requested = tuple(values)
        self.pending = list(values)
        self.points = []
        self.batches = 0
        self.epochs_done = 0
        self.measured_last_epoch = False

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        self.measured_last_epoch = False
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        reached = []
        while self.pending and self.training_seconds >= self.pending[0]:
            reached.append(self.pending.pop(0))
        if reached:
            self._record(epoch, tuple(reached))

    def on_train_end(self, logs=None):
        if self.pending and self.batches and not self.measured_last_epoch:
            self._record(self.epochs_done - 1, ())

    def _record(self, epoch, reached):
        result = self.measure(self.model, reached)
        if not isinstance(result, dict):
            raise TypeError(f"measure must return a dict of measurements, got {type(result).__name__}.")
        self.points.append({"training_seconds": round(self.training_seconds, 2), "epoch": epoch + 1,
                            "batches": self.batches, "reached": list(reached), **result})
        self.measured_last_epoch = True


class _EpochCheckpoint:
    """Saves weights (with optimizer state), random-generator states, epoch, history and training time."""

    def __init__(self, run_dir: pathlib.Path):
        self.run_dir = run_dir
        self.weights_path = run_dir / "latest.weights.h5"
        self.rng_path = run_dir / "rng_state.npz"
        self.state_path = run_dir / "state.json"

    def save_rng(self, model) -> None:
        states = {f"state_{index}": np.asarray(state.numpy()) for index, state in enumerate(_seed_generator_states(model))}
        temporary = self.run_dir / "partial_rng_state.npz"
        np.savez(temporary, **states)
        os.replace(temporary, self.rng_path)

    def restore_rng(self, model) -> None:
        if not self.rng_path.exists():
            return
        states = _seed_generator_states(model)
        with np.load(self.rng_path, allow_pickle=False) as saved:
            if len(saved.files) != len(states):
                raise ValueError(f"{self.rng_path} holds {len(saved.files)} random-generator states but the "
                                 f"model has {len(states)}: is this the same model? Use restart=True.")
            for index, state in enumerate(states):
                state.assign(saved[f"state_{index}"])

    def load_state(self) -> dict:
        if self.state_path.exists() and self.weights_path.exists():
            return {"training_seconds": 0.0, **json.loads(self.state_path.read_text())}
        return {"epoch": 0, "history": {}, "training_seconds": 0.0}

    def callback(self, history: dict, clock: TimeLimit):
        checkpoint = self

        class EpochCheckpoint(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                for name, value in (logs or {}).items():
                    history.setdefault(name, []).append(float(value))
                temporary = checkpoint.run_dir / "partial.weights.h5"
                self.model.save_weights(temporary)
                checkpoint.save_rng(self.model)
                os.replace(temporary, checkpoint.weights_path)  # never a half-written checkpoint
                checkpoint.state_path.write_text(json.dumps({"epoch": epoch + 1, "history": history,
                                                             "training_seconds": clock.training_seconds}))

        return EpochCheckpoint()


def _build_optimizers(model) -> None:
    """Create optimizer variables before loading a checkpoint that contains them.

    A model with several optimizers (a GAN) defines ``build_optimizers()`` to build each on
    its own variables; otherwise ``model.optimizer`` is built on all trainable variables.
    """
    if hasattr(model, "build_optimizers"):
        model.build_optimizers()
    elif getattr(model, "optimizer", None) is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _check_max_seconds(max_seconds):
    if max_seconds is not None and (isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float))
                                    or not max_seconds > 0):
        raise ValueError(f"max_seconds must be a positive number of seconds or None, got {max_seconds!r}.")
    return max_seconds


def images_fingerprint(images) -> str:
    """A short sha256 of an image array's shape, dtype and bytes: which data a run trains on.

    Introduced in notebook 05_vae_mnist.
    """
    images = np.ascontiguousarray(images)
    digest = hashlib.sha256(f"{images.shape}{images.dtype}".encode())
    digest.update(images.tobytes())
    return digest.hexdigest()[:16]


def run_folder(config: dict, *, seed: int, batch_size: int, workdir=None, name: str = "run",
               images=None) -> pathlib.Path:
    """The folder where :func:`resumable_fit` keeps the checkpoint of the run ``config`` defines.

    ``images``: the training images, whose fingerprint joins the key, so that the same recipe on
    other images (clothes instead of digits) starts its own run instead of resuming the other's.

    Introduced in notebook 05_vae_mnist.
    """
    workdir = pathlib.Path(workdir) if workdir is not None else DEFAULT_WORKDIR
    key = {field: value for field, value in config.items() if field != "epochs"}  # more epochs continue a run
    if images is not None:
        key["images"] = images_fingerprint(images)
    return workdir / f"{name}-{config_key({**key, 'seed': seed, 'batch_size': batch_size})}"


def trained_seconds(run_dir: pathlib.Path) -> float:
    """How long the run in ``run_dir`` has trained so far (0 when it has no checkpoint).

    Introduced in notebook 07_diffusion_mnist.
    """
    return _EpochCheckpoint(pathlib.Path(run_dir)).load_state()["training_seconds"]


def resumable_fit(model, data, *, epochs: int, batch_size: int, config: dict, seed: int = 0,
                  workdir: str | os.PathLike | None = None, name: str = "run", max_seconds: float | None = None,
                  validation_data=None, callbacks=(), verbose="auto", restart: bool = False,
                  clock=time.perf_counter):
    """Train a compiled, built ``model`` with ``fit()`` and resume where a previous run stopped.

    ``data`` is an array or a tuple of arrays (e.g. ``(images, labels)``) held in memory.
    ``config`` is every setting that defines the run (hyper-parameters, dataset, seed): the
    run folder ``workdir/name-<hash of config, epochs excluded>`` holds its checkpoint, so a
    changed configuration starts a fresh run while the same one resumes, and asking for more
    epochs continues a finished run. ``restart=True`` deletes the folder first.
    ``max_seconds`` stops training once the run (all its resumed parts together) has trained
    that long, counted by :class:`TimeLimit` (time inside epochs; ``clock`` is its time source).
    Returns a ``keras.callbacks.History``-like object whose ``history`` covers all epochs and
    whose ``training_seconds`` is the run's training time, measured the same way for every model.
    A model built under a ``tf.distribute`` strategy's scope trains with that strategy.

    Introduced in notebook 05_vae_mnist.
    """
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    max_seconds = _check_max_seconds(max_seconds)
    restart = boolean(restart, "restart")
    if not model.built:
        raise ValueError("resumable_fit needs a built model: call it on a batch or build it first.")
    if getattr(model, "optimizer", None) is None and not hasattr(model, "build_optimizers"):
        raise ValueError("resumable_fit needs a compiled model: call model.compile(...) first.")
    arrays = data if isinstance(data, tuple) else (data,)
    run_dir = run_folder(config, seed=seed, batch_size=batch_size, workdir=workdir, name=name, images=arrays[0])
    if restart and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config, sort_keys=True, indent=1, default=str))
    checkpoint = _EpochCheckpoint(run_dir)
    state = checkpoint.load_state()
    first_epoch = min(state["epoch"], epochs)
    history = state["history"]
    limit = TimeLimit(max_seconds, clock=clock, already_trained=state["training_seconds"])
    with model.distribute_strategy.scope():  # before fit(): an XLA-compiled step cannot create variables
        _build_optimizers(model)
    if first_epoch > 0:
        model.load_weights(checkpoint.weights_path)
        checkpoint.restore_rng(model)
        print(f"Resuming {run_dir.name} from its checkpoint after epoch {first_epoch} of {epochs}.")
    if first_epoch < epochs and not limit.used_up:
        dataset, steps = epoch_batches(arrays, batch_size, seed, first_epoch, epochs)
        model.fit(dataset, epochs=epochs, initial_epoch=first_epoch, steps_per_epoch=steps,
                  validation_data=validation_data, verbose=verbose,
                  callbacks=[*callbacks, limit, checkpoint.callback(history, limit)])  # last: sees every log
    result = keras.callbacks.History()
    result.set_model(model)
    result.history = {key: list(values[:epochs]) for key, values in history.items()}
    result.epoch = list(range(min(epochs, len(next(iter(history.values()), [])))))
    result.run_dir = run_dir
    result.training_seconds = limit.training_seconds
    return result


# --------------------------------------------------------------------------- shipped weights

MANIFEST_FIELDS = {"file": str, "sha256": str, "command": str, "seed": int, "config": dict, "metrics": dict}


def pretrained_dir() -> pathlib.Path:
    """The folder of shipped weights and manifests: ``data/pretrained`` (or under ``$COURSE_DATA_DIR``).

    Introduced in notebook 05_vae_mnist.
    """
    return data_dir() / "pretrained"


def _restore_hint(path: pathlib.Path) -> str:
    """``git checkout -- data/pretrained/<file>``, the command that brings a shipped file back."""
    return f"`git checkout -- data/pretrained/{path.name}`"


def read_manifest(name: str) -> dict:
    """The manifest of shipped weights ``name``, checked: a dict with ``file``, ``sha256``,
    ``command``, ``seed``, ``config`` and ``metrics`` of the right types.

    ``metrics["training_seconds"]`` is the training time on 2 CPU cores: time inside epochs as
    :class:`TimeLimit` counts it (the evaluator's and the two VAEs' manifests, measured before
    every family trained through one :func:`resumable_fit`, record wall time around the training
    call, start-up and per-epoch checkpoints included).
    A missing manifest is a ``FileNotFoundError``; one that is not JSON, not an object, or lacks
    a field (a damaged install) is a ``ValueError`` naming the file and how to restore it.

    Introduced in notebook 05_vae_mnist.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be the name of shipped weights (a string), got {name!r}.")
    path = pretrained_dir() / f"{name}.json"
    if not path.exists():
        available = sorted(p.stem for p in pretrained_dir().glob("*.json")) if pretrained_dir().exists() else []
        raise FileNotFoundError(f"No manifest {path}; shipped weights: {available or 'none'}.")
    damaged = f"{path} is damaged: restore it with {_restore_hint(path)}"
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{damaged} (it is not JSON text: {error}).") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{damaged} (expected a JSON object with the fields {list(MANIFEST_FIELDS)}, "
                         f"got a JSON {type(manifest).__name__}).")
    for field, kind in MANIFEST_FIELDS.items():
        if field not in manifest:
            raise ValueError(f"{damaged} (it lacks the field {field!r}).")
        value = manifest[field]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{damaged} (its field {field!r} must be a {kind.__name__}, got {value!r}).")
    return manifest


def has_shipped_weights(name: str) -> bool:
    """Whether shipped weights ``name`` are installed: its manifest and its weights file both.

    ``False`` when neither exists (nothing was shipped under that name). One without the other
    is a damaged install, never a reason to train for minutes: a ``FileNotFoundError`` names the
    missing file and how to restore it. A damaged manifest is a ``ValueError`` (:func:`read_manifest`).

    Introduced in notebook 05_vae_mnist.
    """
    # data_dir() refuses a COURSE_DATA_DIR that names no folder: a mistyped one is not "nothing shipped"
    manifest_path = pretrained_dir() / f"{name}.json"
    weights_path = pretrained_dir() / f"{name}.weights.h5"
    if manifest_path.exists():
        manifest = read_manifest(name)
        weights_path = pretrained_dir() / manifest["file"]
        if not weights_path.exists():
            raise FileNotFoundError(f"{weights_path} is missing but its manifest {manifest_path.name} is there: "
                                    f"restore it with {_restore_hint(weights_path)} or retrain with "
                                    f"`{manifest['command']}`.")
        return True
    if weights_path.exists():
        raise FileNotFoundError(f"{manifest_path} is missing but the weights {weights_path.name} are there: "
                                f"restore it with {_restore_hint(manifest_path)}.")
    return False


def config_from_manifest(config_class, manifest: dict, name: str = "the manifest"):
    """The ``config_class`` dataclass recorded in ``manifest["config"]`` (JSON lists become tuples).

    A key the class does not know, or a value its checks refuse, is a ``ValueError`` naming the
    manifest and the key, not a dataclass ``TypeError``.

    Introduced in notebook 05_vae_mnist.
    """
    recorded = manifest["config"]
    fields = [field.name for field in dataclasses.fields(config_class)]
    unknown = sorted(set(recorded) - set(fields))
    if unknown:
        raise ValueError(f"{name} records settings {unknown} that {config_class.__name__} does not have "
                         f"(its fields: {fields}); restore the manifest or retrain.")
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in recorded.items()}
    try:
        return config_class(**values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} records a configuration {config_class.__name__} refuses: {error}") from None


def shipped_config(name: str, config_class, default, *, config=None, retrain: bool = False):
    """The configuration to build shipped model ``name`` with: ``config`` when given, else the
    one its manifest records, else ``default`` (nothing shipped).

    Loading shipped weights into a model built from another configuration would be a silent
    wrong answer (or Keras's "objects could not be loaded"): when the weights will be loaded
    (``retrain`` false) and ``config`` differs from the manifest's, a ``ValueError`` names each
    setting that differs.

    Introduced in notebook 05_vae_mnist.
    """
    retrain = boolean(retrain, "retrain")
    if config is not None and not isinstance(config, config_class):
        raise TypeError(f"config must be a {config_class.__name__}, got {type(config).__name__}.")
    if not has_shipped_weights(name):
        return config if config is not None else default
    path = pretrained_dir() / f"{name}.json"
    recorded = config_from_manifest(config_class, read_manifest(name), str(path))
    if config is None:
        return recorded
    if not retrain and config != recorded:
        differences = [f"{field.name}={getattr(config, field.name)!r} (shipped: {getattr(recorded, field.name)!r})"
                       for field in dataclasses.fields(config_class)
                       if getattr(config, field.name) != getattr(recorded, field.name)]
        raise ValueError(f"config differs from the one the shipped weights {name!r} were trained with, in "
                         f"{', '.join(differences)}: leave config out to load them, or pass retrain=True "
                         "to train with yours.")
    return config


def save_pretrained(model, name: str, *, command: str, seed: int, config: dict, metrics: dict,
                    folder: str | os.PathLike | None = None) -> dict:
    """Write ``model``'s weights and their manifest to ``data/pretrained/`` (or ``folder``).

    ``metrics`` should hold ``training_seconds``, the run's ``history.training_seconds`` from
    :func:`resumable_fit` (time inside epochs), so that manifests compare like with like.

    Introduced in notebook 05_vae_mnist.
    """
    folder = pathlib.Path(folder) if folder is not None else pretrained_dir()
    folder.mkdir(parents=True, exist_ok=True)
    weights_path = folder / f"{name}.weights.h5"
    # a compiled model's save_weights also writes its optimizer's moments (twice the weights
    # again for Adam); a shipped model needs none of that, so save an optimizer-free copy
    # (a functional model rebuilt on the same layers has no optimizer, and the same layout)
    is_functional = isinstance(model, keras.Model) and hasattr(model, "_operations") and model.inputs
    inference_copy = keras.Model(model.inputs, model.outputs, name=model.name) if is_functional else model
    inference_copy.save_weights(weights_path)
    manifest = {
        "file": weights_path.name, "sha256": sha256_of(weights_path), "command": command,
        "seed": seed, "config": config, "metrics": metrics,
        "parameters": int(model.count_params()),
        "created": datetime.date.today().isoformat(),
    }
    (folder / f"{name}.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def load_pretrained(model, name: str) -> dict:
    """Load shipped weights ``name`` into ``model`` after checking their sha256; returns the manifest.

    Introduced in notebook 05_vae_mnist.
    """
    manifest = read_manifest(name)
    path = pretrained_dir() / manifest["file"]
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; restore it with {_restore_hint(path)} "
                                f"or retrain with `{manifest['command']}`.")
    actual = sha256_of(path)
    if actual != manifest["sha256"]:
        raise ValueError(f"{path} is corrupted: sha256 {actual}, the manifest expects "
                         f"{manifest['sha256']}. Restore it with {_restore_hint(path)} or retrain with "
                         f"`{manifest['command']}`.")
    model.load_weights(path)
    return manifest


def load_or_train(name: str, build, train, *, retrain: bool = False, images=None):
    """Return ``(model, manifest_or_None)``: shipped weights when installed, else trained now.

    ``build()`` returns a fresh built model (or the one a loader was given); ``train(model)``
    trains it in place. With ``retrain=True`` (a notebook's ``RETRAIN`` parameter) training
    always happens. ``images``: the training images a loader was given, if any: the message then
    says that the recipe ``name`` trains on them, and, when shipped weights load instead (no
    ``retrain``), that those images are not used. A half-installed model (weights without manifest or the reverse) is a
    ``FileNotFoundError`` from :func:`has_shipped_weights`, never a reason to train.

    Introduced in notebook 05_vae_mnist.
    """
    retrain = boolean(retrain, "retrain")
    shipped = has_shipped_weights(name)
    model = build()
    given = None if images is None else len(images)
    if shipped and not retrain:
        manifest = load_pretrained(model, name)
        unused = "" if given is None else f"; the {given:,} images given are not used (retrain=True trains on them)"
        print(f"Found pretrained weights for {name!r} (sha256 verified; trained by "
              f"`{manifest['command']}`, seed {manifest['seed']}); loading them{unused}.")
        return model, manifest
    if given is not None:
        print(f"Training the recipe {name!r} now on the {given:,} images given.")
    else:
        reason = "RETRAIN is set" if retrain else "nothing is shipped under this name"
        print(f"Training {name!r} now ({reason}).")
    started = time.perf_counter()
    train(model)
    # a run resumed from its checkpoint trains only the epochs it had left, so this call's time is not the run's
    print(f"{name!r} is ready after {time.perf_counter() - started:.0f} s in this call.")
    return model, None


def distribution_scope(strategy=None):
    """The scope to build a model in: ``strategy.scope()`` (e.g. from
    :func:`course_lib.runtime.pick_strategy`), or the default single-device strategy's for ``None``.

    A model built (and compiled) in a ``MirroredStrategy`` or ``TPUStrategy`` scope keeps its
    variables on every replica, and ``fit()`` (hence :func:`resumable_fit`) splits each batch
    across them; every training entry point takes ``strategy=`` and builds its model here.

    Introduced in notebook 05_vae_mnist.
    """
    tf = import_tensorflow()
    if strategy is None:
        strategy = tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"strategy must be a tf.distribute.Strategy (runtime.pick_strategy()) or None, "
                        f"got {type(strategy).__name__}.")
    return strategy.scope()


def build_config(config, strategy=None):
    """``config`` as a model should be built under ``strategy``: with ``jit_compile`` off when the
    strategy has several replicas, since an XLA-compiled step cannot use a variable that a
    ``MirroredStrategy`` keeps on another device (the random-generator states); unchanged otherwise.
    The run folder stays keyed by ``config`` itself: XLA changes the speed, not the result.

    Introduced in notebook 05_vae_mnist.
    """
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    if replicas > 1 and getattr(config, "jit_compile", False):
        return dataclasses.replace(config, jit_compile=False)
    return config


def train_shipped(names, configs: dict, train_and_save) -> None:
    """The ``--train NAME ...`` command line of a family with several shipped models: for each
    name, seed everything with its configuration's seed, call ``train_and_save(name)`` and print
    the manifest's metrics (without the per-epoch history).

    Introduced in notebook 05_vae_mnist.
    """
    from course_lib import runtime

    for name in names:
        runtime.seed_everything(configs[name].seed)
        manifest = train_and_save(name)
        print(name, {key: value for key, value in manifest["metrics"].items() if key != "history"}, flush=True)
