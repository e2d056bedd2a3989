"""Reference solutions of the notebooks' exercises.

:mod:`course_lib.exercises` checks a learner's function against these on random inputs, and
``exercises.show_solution(name)`` prints one after a learner has tried. Each is written the way
the course would like a learner to write it. Grouped by notebook.
"""

from __future__ import annotations

import numpy as np


# ----------------------------------------------------------------- 00_welcome_and_setup

def to_unit_range(raw_images: np.ndarray) -> np.ndarray:
    """uint8 images (batch, height, width) -> float32 NHWC images in [0, 1]."""
    images = raw_images.astype(np.float32) / 255.0  # (batch, height, width)
    return images[..., np.newaxis]  # (batch, height, width, 1)


def class_frequencies(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Fraction of the labels that fall in each class: shape (num_classes,), sums to 1."""
    counts = np.bincount(labels, minlength=num_classes)  # (num_classes,)
    return counts / counts.sum()


def mean_image_per_class(images: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """The average image of each class: (num_classes, height, width, channels)."""
    return np.stack([images[labels == label].mean(axis=0) for label in range(num_classes)])
