"""The restorer contract shared by notebooks 06-08 and 10: what every restoration method is.

A **restorer** is a :class:`Restorer`: a name, a function that maps a
:class:`~course_lib.degradations.Damaged` batch to restored float32 NHWC images in [0, 1] at the
original size, and the degradations it can handle (kinds such as ``"noise"`` or names such as
``"noise_0.3"``). Asking it to restore anything else raises a ``ValueError`` that says so. The
classical restorers of notebook 06 (:mod:`course_lib.restoration`), the learned ones of notebook
07 (:mod:`course_lib.learned_restoration`) and the conditional GAN of notebook 08
(:mod:`course_lib.pix2pix`) are all built as one, so :func:`course_lib.benchmark.benchmark`
scores them side by side. What it leaves out: any restoration method itself.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from course_lib import degradations as deg
from course_lib.degradations import Damaged

__all__ = ["Restorer", "per_channel"]


@dataclasses.dataclass(frozen=True)
class Restorer:
    """A restoration method: ``restorer(damaged) -> restored images`` (N, H, W, C) in [0, 1].

    Introduced in notebook 06_degradations_and_classical_restoration. ``function`` receives the
    :class:`~course_lib.degradations.Damaged` batch (images, mask with 1 = known, and the
    degradation, so a method can read the noise level or the blur kernel). ``handles`` lists
    degradation kinds (``"noise"``, ``"hole"``, ...) or exact names (``"noise_0.3"``) the method
    is meant for. ``slow`` marks methods the benchmark may run on fewer images. Learned
    restorers (notebooks 07-08) are built the same way: ``Restorer("U-Net", unet_function,
    ("hole",))``.
    """

    name: str
    function: Callable[[Damaged], np.ndarray]
    handles: tuple[str, ...]
    description: str = ""
    slow: bool = False

    def can_restore(self, degradation) -> bool:
        degradation = deg.get_degradation(degradation)
        return degradation.kind in self.handles or degradation.name in self.handles

    def __call__(self, damaged: Damaged) -> np.ndarray:
        if not isinstance(damaged, Damaged):
            raise ValueError(f"{self.name} restores a Damaged batch (from Degradation.apply), "
                             f"got {type(damaged).__name__}.")
        if not self.can_restore(damaged.degradation):
            raise ValueError(f"{self.name} cannot restore {damaged.degradation.name!r} "
                             f"({damaged.degradation.description}); it handles: "
                             f"{', '.join(self.handles)}.")
        restored = np.asarray(self.function(damaged), dtype=np.float32)
        if restored.ndim != 4 or len(restored) != len(damaged.images):
            raise ValueError(f"{self.name} must return a batch (N, H, W, C) with N = "
                             f"{len(damaged.images)}, got shape {restored.shape}.")
        return np.clip(restored, 0.0, 1.0)


def per_channel(images: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply a 2-D ``function`` to every image and channel: (N, H, W, C) -> (N, H, W, C), float32.

    Introduced in notebook 06_degradations_and_classical_restoration, whose denoisers and
    deconvolutions work on one 2-D image at a time."""
    restored = np.empty_like(images, dtype=np.float32)
    for index in range(images.shape[0]):
        for channel in range(images.shape[-1]):
            restored[index, ..., channel] = function(images[index, ..., channel].astype(np.float64))
    return restored
