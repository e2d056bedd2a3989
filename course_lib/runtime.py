"""Runtime set-up shared by every notebook: seeds, devices, distribution strategy, budgets.

A notebook's parameters cell names a budget (``"smoke"`` for CI, ``"cpu"`` for a laptop,
``"gpu"`` for Colab, or ``"auto"``: ``gpu`` when a GPU is present, else ``cpu``); the setup
cell calls :func:`seed_everything`, prints :func:`device_report` and picks per-budget values
with :func:`per_budget`. :func:`pick_strategy` returns the ``tf.distribute`` strategy that
every training entry point takes as ``strategy=`` (it builds its model under the strategy's
scope: ``course_lib.training.distribution_scope``). Introduced in notebook 00_welcome_and_setup. TensorFlow is imported
inside the functions that need it, so ``import course_lib`` stays fast.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import random
import sys

import numpy as np

from course_lib._checks import one_of

BUDGET_NAMES = ("smoke", "cpu", "gpu")


@dataclasses.dataclass(frozen=True)
class Budget:
    """What a run is allowed to cost; notebooks scale their training from it with per_budget.

    Introduced in notebook 00_welcome_and_setup.
    """

    name: str
    description: str
    minutes_per_notebook: str


BUDGETS = {
    "smoke": Budget("smoke", "CI check: tiny data and a few steps, to prove every cell runs",
                    "under 1 minute per notebook on digits, at most about 2 minutes on clothes"),
    "cpu": Budget("cpu", "a laptop with 2 CPU cores: the fixed 8,000 / 2,000 split, training measured in minutes",
                  "at most about 7.5 minutes per notebook on digits with the shipped weights, "
                  "2 to 14 minutes on clothes, which train live"),
    "gpu": Budget("gpu", "Colab or a workstation GPU: longer training and larger samples",
                  "a few minutes per notebook with the shipped weights"),
}


def import_tensorflow():
    """Import TensorFlow with its C++ start-up banners silenced, and return the module.

    TensorFlow writes messages such as "Could not find cuda drivers" straight to the process's
    standard error while it loads; in a notebook they land in the output of whichever cell
    imported it first. Python errors still propagate as usual.

    Introduced in notebook 12_evaluation.
    """
    import sys

    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved_stderr = None
    try:
        sys.stderr.flush()
        saved_stderr = os.dup(2)
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
    except (OSError, ValueError, AttributeError):  # no real file descriptor 2: import plainly
        saved_stderr = None
    try:
        import tensorflow
    finally:
        if saved_stderr is not None:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
    return tensorflow


def has_gpu() -> bool:
    """True when TensorFlow sees at least one GPU.

    Introduced in notebook 00_welcome_and_setup.
    """
    tf = import_tensorflow()

    return bool(tf.config.list_physical_devices("GPU"))


def resolve_budget(name: str) -> Budget:
    """The :class:`Budget` called ``name``; ``"auto"`` means ``gpu`` with a GPU, else ``cpu``.

    Introduced in notebook 00_welcome_and_setup.
    """
    one_of(name, BUDGET_NAMES + ("auto",), "budget")
    if name == "auto":
        name = "gpu" if has_gpu() else "cpu"
    return BUDGETS[name]


def per_budget(budget: str | Budget, *, smoke, cpu, gpu):
    """Pick the value for this budget: ``per_budget(BUDGET, smoke=1, cpu=20, gpu=60)``.

    Introduced in notebook 00_welcome_and_setup.
    """
    name = budget.name if isinstance(budget, Budget) else resolve_budget(budget).name
    return {"smoke": smoke, "cpu": cpu, "gpu": gpu}[name]


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and Keras (hence TensorFlow) with ``seed``.

    With ``deterministic=True`` TensorFlow also runs its ops deterministically (slower on GPU,
    and it stays on for the rest of the process), so the same seed on the same machine gives
    the same numbers.

    Introduced in notebook 00_welcome_and_setup.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}.")
    tf = import_tensorflow()
    import keras

    random.seed(int(seed))
    np.random.seed(int(seed))
    keras.utils.set_random_seed(int(seed))  # seeds Python, NumPy and the backend together
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def on_colab() -> bool:
    """True inside Google Colab.

    Introduced in notebook 00_welcome_and_setup.
    """
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


@dataclasses.dataclass(frozen=True)
class DeviceReport:
    """What notebook 00 prints about the machine: Python, TensorFlow and Keras versions, cores and accelerators.

    Introduced in notebook 00_welcome_and_setup.
    """
    python: str
    tensorflow: str
    keras: str
    backend: str
    cpu_cores: int
    gpus: tuple[str, ...]
    tpu: bool
    colab: bool

    @property
    def accelerator(self) -> str:
        if self.tpu:
            return "TPU"
        return f"{len(self.gpus)} GPU(s)" if self.gpus else "none (CPU only)"

    def __str__(self) -> str:
        lines = [f"Python {self.python}, TensorFlow {self.tensorflow}, Keras {self.keras} "
                 f"({self.backend} backend)",
                 f"CPU cores: {self.cpu_cores}; accelerator: {self.accelerator}"
                 + (f" [{', '.join(self.gpus)}]" if self.gpus else ""),
                 f"Running on Colab: {'yes' if self.colab else 'no'}"]
        return "\n".join(lines)


def tpu_address() -> str | None:
    """The TPU's address when the environment announces one (Colab, Cloud TPU VMs), else None.

    Introduced in notebook 00_welcome_and_setup.
    """
    return os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME")


def device_report() -> DeviceReport:
    """What this machine offers: versions, CPU cores, GPUs, TPU, Colab or not.

    Introduced in notebook 00_welcome_and_setup.
    """
    tf = import_tensorflow()
    import keras

    gpus = tuple(device.name for device in tf.config.list_physical_devices("GPU"))
    return DeviceReport(python=platform.python_version(), tensorflow=tf.__version__,
                        keras=keras.__version__, backend=keras.backend.backend(),
                        cpu_cores=os.cpu_count() or 1, gpus=gpus,
                        tpu=tpu_address() is not None, colab=on_colab())


def pick_strategy(devices: list[str] | None = None, verbose: bool = True):
    """The ``tf.distribute`` strategy for this machine.

    A TPU when the environment announces one; several GPUs: ``MirroredStrategy``; otherwise
    the default (single-device) strategy. ``devices`` forces a ``MirroredStrategy`` over the
    listed devices, e.g. two logical CPUs in a test.

    Introduced in notebook 00_welcome_and_setup.
    """
    import tensorflow as tf

    if devices is not None:
        if len(devices) == 0:
            raise ValueError("devices must name at least one device, e.g. ['/cpu:0', '/cpu:1'].")
        strategy = tf.distribute.MirroredStrategy(devices=list(devices))
    elif tpu_address() is not None:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address())
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy = tf.distribute.TPUStrategy(resolver)
    elif len(tf.config.list_logical_devices("GPU")) > 1:
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    if verbose:
        print(f"Strategy: {type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s)")
    return strategy
