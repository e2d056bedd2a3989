"""The restorer contract shared by notebooks 08-10 and 13: what every restoration method is.

A **restorer** is a :class:`Restorer`: a name, a function that maps a
:class:`~course_lib.degradations.Damaged` batch to restored float32 NHWC images in [0, 1] at the
original size, and the degradations it can handle (kinds such as ``"noise"`` or names such as
``"noise_0.3"``). Asking it to restore anything else raises a ``ValueError`` that says so, and so
does a damaged batch or a result that breaks the contract (NaN, 0-255 values, a missing mask, the
wrong image size): a restorer never passes on a silent wrong answer. The classical restorers
of notebook 08 (:mod:`course_lib.restoration`), the learned ones of notebook 09
(:mod:`course_lib.learned_restoration`) and the conditional GAN of notebook 10
(:mod:`course_lib.pix2pix`) are all built as one, so :func:`course_lib.benchmark.benchmark`
scores them side by side. What it leaves out: any restoration method itself.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from course_lib import degradations as deg
from course_lib._checks import as_image_batch, as_mask, boolean
from course_lib.degradations import Damaged

__all__ = ["Restorer", "per_channel"]


# float32 round-off allowed beyond [0, 1] before a restored image counts as out of range
RANGE_TOLERANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class Restorer:
    """A restoration method: ``restorer(damaged) -> restored images`` (N, H, W, C) in [0, 1].

    ``function`` receives the
    :class:`~course_lib.degradations.Damaged` batch (images, mask with 1 = known, and the
    degradation, so a method can read the noise level or the blur kernel). ``handles`` is a tuple
    of degradation kinds (``"noise"``, ``"hole"``, ...) or exact names (``"noise_0.3"``) the
    method is meant for; a name claims only that degradation (``"hole_12"`` not ``"hole_3"``).
    ``slow`` marks methods the benchmark may run on fewer images. Learned restorers (notebooks
    09-10) are built the same way: ``Restorer("U-Net", unet_function, ("hole",))``.

    A restorer trusts neither side of ``function``: it refuses a damaged batch that is not float
    NHWC images in [0, 1] with finite values, or that lacks the mask its degradation needs, and
    it refuses a result that is not finite, in [0, 1] and of the clean images' shape (the damaged
    shape, times the factor for ``down``). A method whose output may overshoot [0, 1] (cubic
    interpolation, deconvolution, a residual network) clips it itself.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """

    name: str
    function: Callable[[Damaged], np.ndarray]
    handles: tuple[str, ...]
    description: str = ""
    slow: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}.")
        if not callable(self.function):
            raise TypeError(f"{self.name}: function must be callable (Damaged -> images), "
                            f"got {type(self.function).__name__}.")
        object.__setattr__(self, "handles", _handled_degradations(self.name, self.handles))
        if not isinstance(self.description, str):
            raise TypeError(f"{self.name}: description must be a string, got {self.description!r}.")
        boolean(self.slow, f"{self.name}: slow")

    def can_restore(self, degradation) -> bool:
        degradation = deg.get_degradation(degradation)
        return degradation.kind in self.handles or degradation.name in self.handles

    def __call__(self, damaged: Damaged) -> np.ndarray:
        damaged = self._checked_input(damaged)
        restored = self.function(damaged)
        return self._checked_output(restored, damaged)

    def _checked_input(self, damaged) -> Damaged:
        """``damaged`` with a :class:`Degradation` and float32 arrays, or a clear error."""
        if not isinstance(damaged, Damaged):
            raise ValueError(f"{self.name} restores a Damaged batch (from Degradation.apply), "
                             f"got {type(damaged).__name__}.")
        degradation = deg.get_degradation(damaged.degradation)
        if not self.can_restore(degradation):
            raise ValueError(f"{self.name} cannot restore {degradation.name!r} "
                             f"({degradation.description}); it handles: {', '.join(self.handles)}.")
        images = _as_array(damaged.images)
        if not np.issubdtype(images.dtype, np.floating):
            raise ValueError(f"{self.name} restores float images in [0, 1], got dtype {images.dtype}"
                             f"{'; divide 0-255 images by 255 first' if images.dtype.kind in 'iu' else ''}.")
        images = as_image_batch(images, f"the damaged images given to {self.name}")
        mask = damaged.mask
        if mask is None:
            if degradation.has_mask:
                raise ValueError(f"{self.name}: {degradation.name!r} damages pixels, so the Damaged batch "
                                 f"needs its mask (N, H, W, 1) with 1 = known pixel, got mask=None.")
        else:
            mask = as_mask(_as_array(mask), images, f"the mask given to {self.name}")
        return Damaged(images, mask, degradation)

    def _checked_output(self, restored, damaged: Damaged) -> np.ndarray:
        """The restored batch as float32 in [0, 1] (round-off clipped), or a clear error."""
        count, height, width, channels = damaged.images.shape
        if damaged.degradation.kind == "down":
            factor = int(damaged.degradation.level)
            height, width = height * factor, width * factor
        expected = (count, height, width, channels)
        try:
            restored = _as_array(restored).astype(np.float32)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{self.name} must return an array of images, got {type(restored).__name__}.") from error
        if restored.shape != expected:
            raise ValueError(f"{self.name} must return a batch (N, H, W, C) of shape {expected}, the shape "
                             f"of the clean images, got shape {restored.shape}.")
        if not np.all(np.isfinite(restored)):
            raise ValueError(f"{self.name} returned NaN or infinite values "
                             f"({int(np.sum(~np.isfinite(restored)))} of {restored.size}).")
        lowest, highest = float(restored.min()), float(restored.max())
        if lowest < -RANGE_TOLERANCE or highest > 1 + RANGE_TOLERANCE:
            raise ValueError(f"{self.name} must return images in [0, 1], got values in "
                             f"[{lowest:.4g}, {highest:.4g}]; a method that overshoots clips its own "
                             f"output, and 0-255 images are divided by 255.")
        return np.clip(restored, 0.0, 1.0)


def _as_array(values) -> np.ndarray:
    """A NumPy array of ``values``; tensors (anything with ``.numpy()``) are converted first."""
    return np.asarray(values.numpy() if hasattr(values, "numpy") else values)


def _handled_degradations(name: str, handles) -> tuple[str, ...]:
    """``handles`` as a tuple of degradation kinds and canonical names, or a clear error."""
    if isinstance(handles, str) or not isinstance(handles, (tuple, list)):
        raise TypeError(f"{name}: handles must be a tuple of degradation kinds or names, such as "
                        f"('hole',) or ('noise_0.3',), got {handles!r}.")
    if not handles:
        raise ValueError(f"{name}: handles must name at least one degradation kind or name.")
    checked = []
    for entry in handles:
        if not isinstance(entry, str):
            raise TypeError(f"{name}: each entry of handles is a degradation kind or name (a string), "
                            f"got {entry!r}.")
        if entry in deg.KINDS:
            checked.append(entry)
            continue
        try:
            checked.append(deg.get_degradation(entry).name)
        except ValueError as error:
            raise ValueError(f"{name}: handles entry {entry!r} is neither a degradation kind "
                             f"({', '.join(deg.KINDS)}) nor a degradation name. {error}") from None
    return tuple(checked)


def per_channel(images: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply a 2-D ``function`` to every image and channel: (N, H, W, C) -> (N, H, W, C), float32.

    The denoisers and deconvolutions of notebook 08 work on one 2-D image at a time.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    restored = np.empty_like(images, dtype=np.float32)
    for index in range(images.shape[0]):
        for channel in range(images.shape[-1]):
            restored[index, ..., channel] = function(images[index, ..., channel].astype(np.float64))
    return restored
