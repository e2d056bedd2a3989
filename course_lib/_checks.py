"""Input validation shared by every public ``course_lib`` function.

Each check raises a ``ValueError`` that names the argument, what was expected and what
arrived, so that a learner who passes the wrong thing reads the fix in the message instead
of a shape error from deep inside TensorFlow. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import numpy as np


def as_image_batch(images, name: str = "images", *, channels: int | None = None,
                   value_range: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """Return ``images`` as a float32 NHWC NumPy array, or raise a clear ``ValueError``.

    Accepts NumPy arrays, tensors (anything with ``.numpy()``) and nested lists. Rejects
    non-numeric dtypes, a rank other than 4, a channel count other than ``channels`` (when
    given), non-finite values and values outside ``value_range`` (when given).
    """
    if hasattr(images, "numpy"):
        images = images.numpy()
    array = np.asarray(images)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating)
                                     or np.issubdtype(array.dtype, np.integer)
                                     or array.dtype == bool):
        raise ValueError(f"{name} must be a numeric array of images, got dtype {array.dtype}.")
    if array.ndim != 4:
        raise ValueError(
            f"{name} must be a batch of images with shape (batch, height, width, channels), "
            f"got shape {array.shape}. Add a batch axis with images[None] or a channel axis "
            f"with images[..., None].")
    if channels is not None and array.shape[-1] != channels:
        raise ValueError(f"{name} must have {channels} channel(s) in the last axis, "
                         f"got shape {array.shape}.")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}.")
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
    return array


def same_shape(first: np.ndarray, second: np.ndarray, first_name: str, second_name: str) -> None:
    """Raise ``ValueError`` unless two arrays have the same shape."""
    if first.shape != second.shape:
        raise ValueError(f"{first_name} and {second_name} must have the same shape, "
                         f"got {first.shape} and {second.shape}.")


def one_of(value, allowed, name: str):
    """Return ``value`` if it is in ``allowed``, else raise ``ValueError`` listing the choices."""
    if value not in allowed:
        choices = ", ".join(repr(choice) for choice in allowed)
        raise ValueError(f"Unknown {name} {value!r}; expected one of: {choices}.")
    return value


def positive_int(value, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)
