"""Input validation shared by every public ``course_lib`` function.

Each check raises a ``ValueError`` that names the argument, what was expected and what
arrived, so that a learner who passes the wrong thing reads the fix in the message instead
of a shape error from deep inside TensorFlow. The degradations, metrics, data, evaluator and
human-evaluation modules (notebooks 00-13) all check their arguments here, so one kind of
mistake gets one message everywhere. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import math

import numpy as np

# Course images are greyscale or colour (1 to 4 channels); more channels in the last axis
# almost always means a channels-first array such as (N, 1, 28, 28).
MAX_IMAGE_CHANNELS = 4


def _as_array(values, name: str, expected: str) -> np.ndarray:
    """``values`` (an array, a tensor or nested lists) as a NumPy array; ragged lists are refused."""
    if hasattr(values, "numpy"):
        values = values.numpy()
    try:
        return np.asarray(values)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name} must be {expected}; it could not be turned into one array "
                         f"({error}).") from error


def same_image_shape(first: np.ndarray, second: np.ndarray, first_name: str, second_name: str) -> None:
    """Raise ``ValueError`` unless two image batches hold images of one (height, width, channels)."""
    if first.shape[1:] != second.shape[1:]:
        raise ValueError(f"{first_name} and {second_name} must hold images of one shape, got "
                         f"{first.shape[1:]} and {second.shape[1:]}.")


def as_image_batch(images, name: str = "images", *, channels: int | None = None,
                   value_range: tuple[float, float] | None = (0.0, 1.0),
                   image_shape: tuple[int, int, int] | None = None) -> np.ndarray:
    """Return ``images`` as a float32 NHWC NumPy array, or raise a clear ``ValueError``.

    Accepts NumPy arrays, tensors (anything with ``.numpy()``) and nested lists. Rejects
    non-numeric dtypes, a rank other than 4, an empty axis, a channel count other than
    ``channels`` (when given) or above ``MAX_IMAGE_CHANNELS`` (channels-first arrays),
    non-finite values, values outside ``value_range`` and, when ``image_shape`` is given, images
    of another (height, width, channels).
    """
    array = _as_array(images, name, "a numeric array of images")
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating)
                                     or np.issubdtype(array.dtype, np.integer)
                                     or array.dtype == bool):
        raise ValueError(f"{name} must be a numeric array of images, got dtype {array.dtype}.")
    if array.ndim != 4:
        raise ValueError(
            f"{name} must be a batch of images with shape (batch, height, width, channels), "
            f"got shape {array.shape}. Add a batch axis with images[None] or a channel axis "
            f"with images[..., None].")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}.")
    if 0 in array.shape:
        raise ValueError(f"{name} has an empty axis: shape {array.shape}; expected images of "
                         f"at least one pixel and one channel.")
    expected_channels = channels if channels is not None else f"1 to {MAX_IMAGE_CHANNELS}"
    wrong_channels = (array.shape[-1] != channels if channels is not None
                      else array.shape[-1] > MAX_IMAGE_CHANNELS)
    if image_shape is not None and not wrong_channels and array.shape[1:] != tuple(image_shape):
        raise ValueError(f"{name} must be {'x'.join(str(size) for size in image_shape)} images "
                         f"(height, width, channels), got {array.shape[1:]}.")
    if wrong_channels:
        hint = ""
        if array.shape[1] <= MAX_IMAGE_CHANNELS:
            hint = (" It looks channels-first (batch, channels, height, width); course images "
                    "are channels-last: use np.moveaxis(images, 1, -1).")
        raise ValueError(f"{name} must have {expected_channels} channel(s) in the last axis "
                         f"(batch, height, width, channels), got shape {array.shape}.{hint}")
    if np.issubdtype(array.dtype, np.integer) and value_range == (0.0, 1.0) and array.max() > 1:
        raise ValueError(f"{name} holds integers up to {array.max()}: course images are float32 "
                         f"in [0, 1]; divide uint8 images by 255 first.")
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    if value_range is not None:
        low, high = value_range
        tolerance = 1e-6 * max(1.0, high - low)
        lowest, highest = float(array.min()), float(array.max())
        if lowest < low - tolerance or highest > high + tolerance:
            raise ValueError(f"{name} must lie in [{low}, {high}], got values in "
                             f"[{lowest:.4g}, {highest:.4g}].")
        if lowest < low or highest > high:  # round-off within the tolerance: snap it into the range
            array = np.clip(array, low, high)
    return array


def as_mask(mask, images: np.ndarray, name: str = "mask") -> np.ndarray:
    """Return a pixel mask for ``images`` as float32 (N, H, W, 1) of 0 and 1, or raise.

    The course's convention: 1 = known pixel, 0 = missing pixel, one channel that applies to
    every channel of ``images`` (an array already checked by :func:`as_image_batch`).
    """
    if mask is None:
        raise ValueError(f"{name} is None, but these images need one: an array of shape "
                         f"{images.shape[:3] + (1,)} with 1 = known pixel, 0 = missing.")
    mask = as_image_batch(mask, name, channels=1)
    if mask.shape != images.shape[:3] + (1,):
        raise ValueError(f"{name} must have shape {images.shape[:3] + (1,)} (one channel, same "
                         f"batch and size as the images), got {mask.shape}.")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"{name} must hold only 0 (missing pixel) and 1 (known pixel).")
    return mask


def as_feature_matrix(values, name: str, *, min_rows: int = 1,
                      max_magnitude: float | None = None) -> np.ndarray:
    """Return ``values`` as a finite float64 array of shape (rows, columns), or raise.

    With ``max_magnitude``, refuses entries larger than that in absolute value: set-to-set
    scores square or cube the features, and beyond such a size float64 overflows.
    """
    array = _as_array(values, name, "a numeric array")
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating)
                                     or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be a numeric array, got dtype {array.dtype}.")
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (num_samples, num_features), "
                         f"got shape {array.shape}.")
    if array.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} samples (rows), "
                         f"got shape {array.shape}.")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no columns: shape {array.shape}.")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    if max_magnitude is not None:
        largest = float(np.max(np.abs(array)))
        if largest > max_magnitude:
            raise ValueError(f"{name} holds values up to {largest:.3g} in magnitude; expected "
                             f"features of at most {max_magnitude:g} (network activations are "
                             f"far smaller; rescale them), beyond which the score overflows.")
    return array


def class_labels(labels, num_classes: int, name: str = "labels", *,
                 num_samples: int | None = None) -> np.ndarray:
    """Return integer class labels in [0, num_classes) as an int64 array of shape (N,), or raise.

    Strings, floats (even whole-valued ones), booleans, labels outside [0, num_classes) and a
    length other than ``num_samples`` (when given) are refused: the same check for the
    evaluator's accuracy and the metrics' recognition rate.
    """
    array = _as_array(labels, name, "integer class indices")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be integer class indices in [0, {num_classes}), got dtype "
                         f"{array.dtype}; convert whole-valued floats with labels.astype(int).")
    expected_shape = "(N,)" if num_samples is None else f"({num_samples},)"
    if array.ndim != 1 or (num_samples is not None and array.shape != (num_samples,)):
        raise ValueError(f"{name} must have shape {expected_shape}, one class index per image, "
                         f"got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{name} is empty.")
    if array.min() < 0 or array.max() >= num_classes:
        raise ValueError(f"{name} must be class indices in [0, {num_classes}), got values in "
                         f"[{array.min()}, {array.max()}].")
    return array.astype(np.int64)


def finite_array(values, name: str) -> np.ndarray:
    """``values`` as a float64 array if every entry is a finite number, else a ``ValueError``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {type(values).__name__}.") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return array


def same_shape(first: np.ndarray, second: np.ndarray, first_name: str, second_name: str) -> None:
    """Raise ``ValueError`` unless two arrays have the same shape."""
    if first.shape != second.shape:
        raise ValueError(f"{first_name} and {second_name} must have the same shape, "
                         f"got {first.shape} and {second.shape}.")


def one_of(value, allowed, name: str):
    """Return ``value`` if it is in ``allowed``, else raise ``ValueError`` listing the choices."""
    try:
        known = value in allowed
    except TypeError:  # an unhashable value tested against a set or dict
        known = False
    if not known:
        choices = ", ".join(repr(choice) for choice in allowed)
        raise ValueError(f"Unknown {name} {value!r}; expected one of: {choices}.")
    return value


def items_name(items) -> str:
    """Return ``items`` if it names the images in a non-empty string (``"digits"``, ``"garments"``), else raise."""
    if not isinstance(items, str) or not items.strip():
        raise ValueError(f"items must name the images in a non-empty string (e.g. 'digits'), got {items!r}.")
    return items


def _is_integer(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def _is_number(value) -> bool:
    return (not isinstance(value, (bool, np.bool_))
            and isinstance(value, (int, float, np.integer, np.floating)))


def _at_most(value, maximum, name: str):
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum:,}, got {value!r}.")
    return value


def positive_int(value, name: str, *, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer (at most ``maximum``), else raise."""
    if not _is_integer(value) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(_at_most(int(value), maximum, name))


def seed(value, name: str = "seed") -> int:
    """Return a random seed as an ``int`` if it is a non-negative integer, else raise."""
    if not _is_integer(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


def positive_number(value, name: str, *, maximum: float | None = None) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (at most ``maximum``), else raise."""
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(_at_most(float(value), maximum, name))


def non_negative_number(value, name: str, *, maximum: float | None = None) -> float:
    """Return ``value`` as a float if it is a finite number >= 0 (at most ``maximum``), else raise."""
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
    return float(_at_most(float(value), maximum, name))


def fraction(value, name: str, *, allow_zero: bool = True) -> float:
    """Return ``value`` as a float in [0, 1] (or (0, 1] without ``allow_zero``), else raise."""
    if not _is_number(value):
        raise ValueError(f"{name} must be a fraction between 0 and 1, got {value!r}.")
    value = float(value)
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must be a fraction in {interval}, got {value!r}.")
    return value


def boolean(value, name: str) -> bool:
    """Return ``value`` if it is ``True`` or ``False``, else raise ``ValueError``.

    A string such as ``"no"`` is truthy: ``retrain="no"`` would otherwise start minutes of training.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}.")
    return bool(value)
