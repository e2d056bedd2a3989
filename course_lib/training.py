"""Training helpers every track uses: resumable ``fit`` and load-or-train of shipped weights.

:func:`resumable_fit` wraps ``model.fit`` so that a closed laptop lid or a Colab disconnect
costs at most one epoch: after every epoch it saves the model's and optimizer's state, the
epoch reached and the history to a run folder named after the training configuration, and a
second call with the same configuration resumes there. Batches are shuffled with a stateless
permutation keyed by ``(seed, epoch)``, so a resumed run sees exactly the batches an
uninterrupted one would and ends with the same weights.

:func:`load_or_train` gives a notebook its model: it loads the weights shipped in
``data/pretrained/`` (sha256 checked against their manifest) unless ``retrain`` is set, and
otherwise trains and can write new weights and manifest with :func:`save_pretrained`.
Introduced in notebook 00_welcome_and_setup; used by every notebook that trains.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import shutil
import time

import numpy as np

from course_lib._checks import positive_int
from course_lib.data import data_dir, sha256_of

DEFAULT_WORKDIR = pathlib.Path(os.environ.get("COURSE_WORKDIR", pathlib.Path.home() / ".course_work"))


def config_key(config: dict) -> str:
    """A short, stable hash of a JSON-serialisable configuration."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def epoch_batches(arrays, batch_size: int, seed: int, first_epoch: int, last_epoch: int):
    """A ``tf.data`` pipeline yielding the batches of epochs ``first_epoch .. last_epoch - 1``.

    Epoch ``e`` visits the examples in the order of a permutation drawn from a stateless RNG
    with seed ``(seed, e)``: the order depends only on the epoch, never on how many epochs this
    process has already run. The last partial batch of each epoch is dropped.
    """
    import tensorflow as tf

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


class _EpochCheckpoint:
    """Saves weights (with optimizer state), random-generator states, epoch and history."""

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
            return json.loads(self.state_path.read_text())
        return {"epoch": 0, "history": {}}

    def callback(self, history: dict):
        import keras

        checkpoint = self

        class EpochCheckpoint(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                for name, value in (logs or {}).items():
                    history.setdefault(name, []).append(float(value))
                temporary = checkpoint.run_dir / "partial.weights.h5"
                self.model.save_weights(temporary)
                checkpoint.save_rng(self.model)
                os.replace(temporary, checkpoint.weights_path)  # never a half-written checkpoint
                checkpoint.state_path.write_text(json.dumps({"epoch": epoch + 1, "history": history}))

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


def resumable_fit(model, data, *, epochs: int, batch_size: int, config: dict, seed: int = 0,
                  workdir: str | os.PathLike | None = None, name: str = "run",
                  validation_data=None, callbacks=(), verbose="auto", restart: bool = False):
    """Train a compiled, built ``model`` with ``fit()`` and resume where a previous run stopped.

    ``data`` is an array or a tuple of arrays (e.g. ``(images, labels)``) held in memory.
    ``config`` is every setting that defines the run (hyper-parameters, dataset, seed): the
    run folder ``workdir/name-<hash of config, epochs excluded>`` holds its checkpoint, so a
    changed configuration starts a fresh run while the same one resumes, and asking for more
    epochs continues a finished run. ``restart=True`` deletes the folder first.
    Returns a ``keras.callbacks.History``-like object whose ``history`` covers all epochs.
    """
    import keras

    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    if not model.built:
        raise ValueError("resumable_fit needs a built model: call it on a batch or build it first.")
    if getattr(model, "optimizer", None) is None and not hasattr(model, "build_optimizers"):
        raise ValueError("resumable_fit needs a compiled model: call model.compile(...) first.")
    arrays = data if isinstance(data, tuple) else (data,)
    workdir = pathlib.Path(workdir) if workdir is not None else DEFAULT_WORKDIR
    run_dir = workdir / f"{name}-{config_key({**config, 'seed': seed, 'batch_size': batch_size})}"
    if restart and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config, sort_keys=True, indent=1, default=str))
    checkpoint = _EpochCheckpoint(run_dir)
    state = checkpoint.load_state()
    first_epoch = min(state["epoch"], epochs)
    history = state["history"]
    if first_epoch > 0:
        _build_optimizers(model)
        model.load_weights(checkpoint.weights_path)
        checkpoint.restore_rng(model)
        print(f"Resuming {run_dir.name} from its checkpoint after epoch {first_epoch} of {epochs}.")
    if first_epoch < epochs:
        dataset, steps = epoch_batches(arrays, batch_size, seed, first_epoch, epochs)
        model.fit(dataset, epochs=epochs, initial_epoch=first_epoch, steps_per_epoch=steps,
                  validation_data=validation_data, verbose=verbose,
                  callbacks=[*callbacks, checkpoint.callback(history)])  # last: sees every log
    result = keras.callbacks.History()
    result.set_model(model)
    result.history = {key: list(values[:epochs]) for key, values in history.items()}
    result.epoch = list(range(min(epochs, len(next(iter(history.values()), [])))))
    result.run_dir = run_dir
    return result


# --------------------------------------------------------------------------- shipped weights

def pretrained_dir() -> pathlib.Path:
    return data_dir() / "pretrained"


def read_manifest(name: str) -> dict:
    """The manifest of shipped weights ``name``: file, sha256, command, seed, config, metrics."""
    path = pretrained_dir() / f"{name}.json"
    if not path.exists():
        available = sorted(p.stem for p in pretrained_dir().glob("*.json")) if pretrained_dir().exists() else []
        raise FileNotFoundError(f"No manifest {path}; shipped weights: {available or 'none'}.")
    manifest = json.loads(path.read_text())
    for field in ("file", "sha256", "command", "seed", "config", "metrics"):
        if field not in manifest:
            raise ValueError(f"{path} lacks the field {field!r}.")
    return manifest


def save_pretrained(model, name: str, *, command: str, seed: int, config: dict, metrics: dict,
                    folder: str | os.PathLike | None = None) -> dict:
    """Write ``model``'s weights and their manifest to ``data/pretrained/`` (or ``folder``)."""
    folder = pathlib.Path(folder) if folder is not None else pretrained_dir()
    folder.mkdir(parents=True, exist_ok=True)
    weights_path = folder / f"{name}.weights.h5"
    import keras

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
    """Load shipped weights ``name`` into ``model`` after checking their sha256; returns the manifest."""
    manifest = read_manifest(name)
    path = pretrained_dir() / manifest["file"]
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; restore it with `git checkout {path.relative_to(data_dir().parent) if path.is_relative_to(data_dir().parent) else path}` "
                                f"or retrain with `{manifest['command']}`.")
    actual = sha256_of(path)
    if actual != manifest["sha256"]:
        raise ValueError(f"{path} is corrupted: sha256 {actual}, the manifest expects "
                         f"{manifest['sha256']}. Restore it or retrain with `{manifest['command']}`.")
    model.load_weights(path)
    return manifest


def load_or_train(name: str, build, train, *, retrain: bool = False):
    """Return ``(model, manifest_or_None)``: shipped weights when present, else trained now.

    ``build()`` returns a fresh built model; ``train(model)`` trains it in place.
    With ``retrain=True`` (a notebook's ``RETRAIN`` parameter) training always happens.
    """
    model = build()
    manifest_path = pretrained_dir() / f"{name}.json"
    if not retrain and manifest_path.exists():
        manifest = load_pretrained(model, name)
        print(f"Found pretrained weights for {name!r} (sha256 verified; trained by "
              f"`{manifest['command']}`, seed {manifest['seed']}); loading them.")
        return model, manifest
    reason = "RETRAIN is set" if retrain else "no shipped weights were found"
    print(f"Training {name!r} now ({reason}).")
    started = time.perf_counter()
    train(model)
    print(f"Trained {name!r} in {time.perf_counter() - started:.0f} s.")
    return model, None
