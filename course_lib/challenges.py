"""Small experiments that demonstrate the challenges of notebook 13_choosing_methods_and_challenges.

Each challenge the source article only names is measured here with the course's own models:
**overfitting** and its fixes (:func:`train_for_updates` on a few hundred digits with a validation
curve, :func:`shifted_copies` for augmentation), **data scarcity** (:func:`size_curve`: held-out
quality against training-set size at a fixed number of updates), **compute cost**
(:func:`step_time_vs_width`: parameters and time per training step as a U-Net widens),
**memorisation** (:func:`nearest_training_distances` and :func:`memorisation_ratio`: how close
samples sit to the training set, read against held-out digits) and **interpretability**
(:func:`latent_traversal` and :func:`kl_per_dimension` on a shipped VAE). The experiments train
the inpainting U-Net of notebook 09 (``hole_12``, known pixels pasted back) through the course's
one entry point, :func:`course_lib.learned_restoration.train_learned_restorer`, so a run resumes like any
other. What it leaves out: statistics over many seeds (each curve is one seeded run; the notebook
says so) and any model the notebooks 03-10 do not already teach.
"""

from __future__ import annotations

import time
import typing
from typing import Sequence

import numpy as np

from course_lib._checks import as_image_batch, positive_int, same_image_shape

__all__ = ["challenge_config", "epochs_for_updates", "train_for_updates", "restored_psnr", "SizePoint",
           "size_curve", "shifted_copies", "WidthPoint", "step_time_vs_width", "nearest_training_distances",
           "memorisation_ratio", "latent_traversal", "kl_per_dimension"]

BATCH_SIZE = 32


def challenge_config(filters: int = 16, epochs: int = 10, *, degradation: str = "hole_12", seed: int = 0):
    """The inpainting U-Net the experiments train: notebook 09's, narrower, constant learning rate.

    Returns a
    :class:`~course_lib.learned_restoration.LearnedRestorerConfig`.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import degradations as deg
    from course_lib import learned_restoration as learned

    paste_known = deg.get_degradation(degradation).has_mask
    return learned.LearnedRestorerConfig("unet", degradation, filters=positive_int(filters, "filters"), levels=2,
                                         epochs=positive_int(epochs, "epochs"), batch_size=BATCH_SIZE,
                                         learning_rate=1e-3, paste_known=paste_known, seed=seed)


def epochs_for_updates(num_images: int, updates: int, batch_size: int = BATCH_SIZE) -> int:
    """Epochs that give about ``updates`` optimizer steps on ``num_images`` (at least one epoch).

    An epoch is
    ``num_images // batch_size`` steps (the last partial batch is dropped, as in ``resumable_fit``).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    num_images = positive_int(num_images, "num_images")
    updates = positive_int(updates, "updates")
    batch_size = positive_int(batch_size, "batch_size")
    if num_images < batch_size:
        raise ValueError(f"{num_images} images are fewer than one batch of {batch_size}.")
    return max(1, round(updates / (num_images // batch_size)))


def train_for_updates(train_images, updates: int, *, filters: int = 16, degradation: str = "hole_12",
                      validation_images=None, seed: int = 0, workdir=None, verbose=0):
    """Train the challenge U-Net on ``train_images`` for about ``updates`` steps; resumable.

    With ``validation_images`` the
    history holds ``val_loss`` (their MSE, damaged with seed 999) after every epoch beside the
    training ``loss``. Returns ``(model, history, config)``; ``history.updates`` is the number of
    steps taken. Runs resume by configuration and *number* of images, not by the images
    themselves: give a run on other images of the same count (augmented copies) its own ``workdir``.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import learned_restoration as learned

    train_images = as_image_batch(train_images, "train_images", channels=1)
    epochs = epochs_for_updates(len(train_images), updates)
    config = challenge_config(filters, epochs, degradation=degradation, seed=seed)
    model, history = learned.train_learned_restorer(config, train_images, validation_images=validation_images,
                                                    workdir=workdir, verbose=verbose)
    history.updates = epochs * (len(train_images) // BATCH_SIZE)
    return model, history, config


def restored_psnr(model, config, clean_images, *, seed: int = 0) -> float:
    """Mean PSNR (dB, data range 1) of ``model``'s restorations of ``clean_images`` damaged by
    ``config.degradation`` with ``seed`` (the benchmark's seed 0 by default).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import degradations as deg
    from course_lib import metrics
    from course_lib import learned_restoration as learned

    clean_images = as_image_batch(clean_images, "clean_images", channels=1)
    damaged = deg.get_degradation(config.degradation).apply(clean_images, seed=seed)
    restored = learned.learned_restorer(model, config.architecture, (config.degradation,))(damaged)
    return float(metrics.psnr(restored, clean_images))


class SizePoint(typing.NamedTuple):
    """One point of the data-size curve: the training-set size, its epochs and updates, and the PSNR reached.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    num_images: int
    epochs: int
    updates: int
    train_loss: float       # MSE on the training pairs, last epoch
    test_psnr: float        # dB on the held-out digits
    seconds: float          # wall time of this point (0 when a finished run was resumed)


def size_curve(train_images, test_images, sizes: Sequence[int], *, updates: int, filters: int = 16,
               degradation: str = "hole_12", seed: int = 0, workdir=None, verbose: bool = True) -> list[SizePoint]:
    """Held-out PSNR of the challenge U-Net trained on the first ``n`` training digits, for each
    ``n`` in ``sizes``, every run given about the same number of ``updates`` (fixed compute).

    A size larger than the training
    split, or smaller than one batch, raises a ``ValueError``: the curve never invents data.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    train_images = as_image_batch(train_images, "train_images", channels=1)
    sizes = sorted({positive_int(size, "size") for size in sizes})
    if not sizes:
        raise ValueError("sizes must name at least one training-set size.")
    if sizes[-1] > len(train_images):
        raise ValueError(f"size {sizes[-1]} is larger than the training split ({len(train_images)} images).")
    if sizes[0] < BATCH_SIZE:
        raise ValueError(f"size {sizes[0]} is smaller than one batch of {BATCH_SIZE} images.")
    points = []
    for size in sizes:
        started = time.perf_counter()
        model, history, config = train_for_updates(train_images[:size], updates, filters=filters,
                                                   degradation=degradation, seed=seed, workdir=workdir)
        point = SizePoint(size, config.epochs, history.updates, float(history.history["loss"][-1]),
                          restored_psnr(model, config, test_images), time.perf_counter() - started)
        points.append(point)
        if verbose:
            print(f"{size:>6,} digits: {point.epochs:>4} epochs, {point.updates:>5} updates, training MSE "
                  f"{point.train_loss:.4f}, held-out PSNR {point.test_psnr:.2f} dB ({point.seconds:.0f} s)", flush=True)
    return points


def shifted_copies(images, copies: int, max_shift: int = 2, *, seed: int = 0) -> np.ndarray:
    """``copies`` versions of every image, each moved by a random whole-pixel shift in
    ``[-max_shift, max_shift]`` on both axes, zeros shifted in: (copies * N, H, W, C).

    Data augmentation against overfitting. ``max_shift=0`` returns exact copies.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    images = as_image_batch(images)
    copies = positive_int(copies, "copies")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}.")
    height, width = images.shape[1:3]
    if 2 * max_shift >= min(height, width):
        raise ValueError(f"max_shift {max_shift} would move {height} x {width} images out of frame.")
    rng = np.random.default_rng(seed)
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    result = np.empty((copies * len(images),) + images.shape[1:], np.float32)
    for copy in range(copies):
        shifts = rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))
        for index, (down, right) in enumerate(shifts):
            top, left = max_shift - down, max_shift - right   # shifting down by d reads from row -d
            result[copy * len(images) + index] = padded[index, top:top + height, left:left + width]
    return result


class WidthPoint(typing.NamedTuple):
    """One point of the width curve: filters, parameters and the measured time of a training step.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    filters: int
    parameters: int
    ms_per_step: float      # one training step on a batch, the median of a few


def step_time_vs_width(widths: Sequence[int], *, steps: int = 10, batch_size: int = BATCH_SIZE,
                       degradation: str = "hole_12", seed: int = 0) -> list[WidthPoint]:
    """Parameters and measured time per training step, per U-Net width.

    Each model is built and compiled
    as for real training (XLA step), warmed up on two steps (tracing and compilation excluded),
    then timed over ``steps`` steps on a fixed random batch: the median step.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import learned_restoration as learned

    widths = [positive_int(width, "width") for width in widths]
    if not widths:
        raise ValueError("widths must name at least one number of filters.")
    steps = positive_int(steps, "steps")
    batch_size = positive_int(batch_size, "batch_size")
    rng = np.random.default_rng(seed)
    inputs = rng.random((batch_size, 28, 28, 2)).astype(np.float32)
    inputs[..., 1] = (inputs[..., 1] > 0.2).astype(np.float32)   # a mask channel
    targets = rng.random((batch_size, 28, 28, 1)).astype(np.float32)
    points = []
    for width in widths:
        model = learned.build_learned_restorer(challenge_config(width, degradation=degradation, seed=seed))
        for _ in range(2):
            model.train_on_batch(inputs, targets)
        times = []
        for _ in range(steps):
            started = time.perf_counter()
            model.train_on_batch(inputs, targets)
            times.append(time.perf_counter() - started)
        points.append(WidthPoint(width, int(model.count_params()), 1000.0 * float(np.median(times))))
    return points


def nearest_training_distances(queries, train_images) -> np.ndarray:
    """Pixel-space Euclidean distance from each query image to its nearest training image: (N,).

    Notebook 03 showed the neighbours themselves. A query that is a copy of a training image has
    distance 0.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import metrics

    queries = as_image_batch(queries, "queries")
    train_images = as_image_batch(train_images, "train_images")
    same_image_shape(queries, train_images, "queries", "train_images")
    neighbours = metrics.nearest_neighbours(queries.reshape(len(queries), -1),
                                            train_images.reshape(len(train_images), -1))
    return neighbours.distances[:, 0]


def memorisation_ratio(sample_distances, held_out_distances) -> float:
    """Median distance of samples to the training set over that of held-out images.

    About 1: samples are as far from
    the training digits as new real digits are; near 0: samples copy training digits; above 1:
    samples are further from every training digit than real digits are (often: less realistic).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    samples = np.asarray(sample_distances, dtype=np.float64).ravel()
    held_out = np.asarray(held_out_distances, dtype=np.float64).ravel()
    for name, values in (("sample_distances", samples), ("held_out_distances", held_out)):
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"{name} must be a non-empty array of finite non-negative distances.")
    if np.median(held_out) == 0:
        raise ValueError("the held-out images' median distance is 0: they are copies of training images, "
                         "so they cannot serve as the reference.")
    return float(np.median(samples) / np.median(held_out))


def kl_per_dimension(vae, images) -> np.ndarray:
    """Average KL(q(z_j|x) || N(0, 1)) of each latent dimension over ``images``, in nats: (latent_dim,).

    Dimensions near 0 nats are unused
    ("inactive"): moving along them changes nothing; the largest carry the most information.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib.vae_theory import kl_diagonal_standard_normal

    mean, log_var = vae.encode(as_image_batch(images, channels=1))     # (N, latent_dim) each
    # KL_j = -1/2 (1 + log_var_j - mean_j^2 - exp(log_var_j)): notebook 04's closed form, applied to
    # each coordinate on its own (a trailing axis of length 1), then averaged over images: (latent_dim,)
    per_image = kl_diagonal_standard_normal(np.asarray(mean)[..., None], np.asarray(log_var)[..., None])
    return per_image.mean(axis=0)


def latent_traversal(vae, dimension: int, values, *, base=None) -> tuple[np.ndarray, np.ndarray]:
    """Move one latent coordinate through ``values`` from ``base`` (default: the prior mean, 0),
    keeping the others fixed; return ``(z, images)``, shapes (len(values), latent_dim) and
    (len(values), 28, 28, 1).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    latent_dim = int(vae.latent_dim)
    if isinstance(dimension, bool) or not isinstance(dimension, (int, np.integer)) or not 0 <= dimension < latent_dim:
        raise ValueError(f"dimension must be an integer in [0, {latent_dim}), got {dimension!r}.")
    values = np.asarray(values, dtype=np.float32).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("values must be a non-empty sequence of finite numbers.")
    base = np.zeros(latent_dim, np.float32) if base is None else np.asarray(base, np.float32)
    if base.shape != (latent_dim,):
        raise ValueError(f"base must have shape ({latent_dim},), got {base.shape}.")
    z = np.repeat(base[None], len(values), axis=0)          # (steps, latent_dim)
    z[:, dimension] = values
    return z, vae.decode(z)
