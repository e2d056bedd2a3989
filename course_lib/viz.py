"""Figures of the course: image grids, side-by-side comparisons, training curves.

Every function builds a ``matplotlib.figure.Figure`` without touching pyplot's global state and
returns it: a notebook shows it by leaving it as the cell's last expression (or calling
``display``), and scripts save it with ``figure.savefig``. Nothing here calls ``plt.show()``.
Used by every notebook, from notebook 00 on.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.figure import Figure as _MatplotlibFigure
from matplotlib.ticker import MaxNLocator

from course_lib._checks import as_image_batch, items_name, positive_int
from course_lib._checks import seed as check_seed

MAX_PANELS = 400    # images in one figure: a 20 x 20 grid; more take minutes to draw and cannot be told apart
MAX_COLUMNS = 100   # columns of one grid (90 inches wide at the default size)


class Figure(_MatplotlibFigure):
    """A matplotlib figure that displays itself as a PNG in a notebook, pyplot or not.

    Introduced in notebook 02_gan_theory.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def _images(images, name: str = "images") -> np.ndarray:
    """A batch of images to draw: NHWC in [0, 1] with 1 (grey) or 3 (RGB) channels."""
    images = as_image_batch(images, name=name)
    if images.shape[-1] not in (1, 3):
        hint = " (channels first? move them last with np.moveaxis(images, 1, -1))" \
            if images.shape[1] in (1, 3) else ""
        raise ValueError(f"{name} must have 1 (grey) or 3 (RGB) channels in the last axis, "
                         f"got shape {images.shape}{hint}.")
    return images


def _names(values, name: str) -> list:
    """A non-empty list of labels, one per row or image (a single string is refused, not split)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not len(values):
        raise ValueError(f"{name} must be a non-empty list of labels (one per row or image), got {values!r}.")
    return [str(value) for value in values]


def _count(value, name: str, maximum: int) -> int:
    """A positive integer of at most ``maximum``."""
    value = positive_int(value, name)
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum} (a larger figure takes minutes to draw "
                         f"and cannot be read), got {value}.")
    return value


def _size(cell_inches) -> float:
    if isinstance(cell_inches, bool) or not isinstance(cell_inches, (int, float, np.integer, np.floating)) \
            or not 0.1 <= cell_inches <= 10:
        raise ValueError(f"cell_inches must be a number from 0.1 to 10, got {cell_inches!r}.")
    return float(cell_inches)


def _show(axis, image: np.ndarray, title: str | None = None) -> None:
    if image.shape[-1] == 1:
        axis.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        axis.imshow(np.clip(image, 0.0, 1.0), interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])
    if title is not None:
        axis.set_title(title, fontsize=8)


def image_grid(images, *, num_columns: int | None = None, titles=None, title: str | None = None,
               cell_inches: float = 0.9) -> Figure:
    """A grid of images (NHWC in [0, 1]) with optional per-image titles. Introduced in 00.

    Introduced in notebook 00_welcome_and_setup.
    """
    images = _images(images)
    count = _count(len(images), "the number of images", MAX_PANELS)
    num_columns = min(count, 10) if num_columns is None else _count(num_columns, "num_columns", MAX_COLUMNS)
    num_rows = math.ceil(count / num_columns)
    cell_inches = _size(cell_inches)
    if titles is not None:
        titles = _names(titles, "titles")
        if len(titles) != count:
            raise ValueError(f"titles must have one entry per image ({count}), got {len(titles)}.")
    row_inches = cell_inches + (0.25 if titles is not None else 0.0)  # room for each image's title
    figure = Figure(figsize=(cell_inches * num_columns, row_inches * num_rows + (0.4 if title else 0)))
    axes = figure.subplots(num_rows, num_columns, squeeze=False)
    for index, axis in enumerate(axes.flat):
        if index < count:
            _show(axis, images[index], None if titles is None else titles[index])
        else:
            axis.axis("off")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def class_grid(images, labels, class_names, *, per_class: int = 8, seed: int = 0,
               title: str | None = None) -> Figure:
    """One row per class with ``per_class`` random examples, the class name on the left.

    Introduced in notebook 00_welcome_and_setup.
    """
    images = _images(images)
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must have shape ({len(images)},) and hold integer classes, got {labels.dtype} "
                         f"of shape {labels.shape}.")
    class_names = _names(class_names, "class_names")
    per_class = _count(per_class, "per_class", MAX_COLUMNS)
    _count(len(class_names) * per_class, "len(class_names) * per_class", MAX_PANELS)
    rng = np.random.default_rng(check_seed(seed))
    figure = Figure(figsize=(0.8 * per_class + 1.2, 0.8 * len(class_names) + (0.4 if title else 0)))
    axes = figure.subplots(len(class_names), per_class, squeeze=False)
    for row, name in enumerate(class_names):
        members = np.flatnonzero(labels == row)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False) if len(members) else []
        for column, axis in enumerate(axes[row]):
            if column < len(chosen):
                _show(axis, images[chosen[column]])
            else:
                axis.axis("off")
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def compare_images(rows: dict, *, num_images: int = 8, cell_inches: float = 0.9,
                   title: str | None = None) -> Figure:
    """Side by side: one row per entry of ``rows`` (``{"damaged": x, "restored": y, ...}``).

    All entries must hold the same number of images; the first ``num_images`` are shown.

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    if not isinstance(rows, dict) or not rows:
        raise ValueError("rows must be a dict mapping at least one label to a batch of images.")
    num_images = _count(num_images, "num_images", MAX_COLUMNS)
    cell_inches = _size(cell_inches)
    batches = {label: _images(images, name=f"rows[{label!r}]") for label, images in rows.items()}
    counts = {len(batch) for batch in batches.values()}
    if len(counts) != 1:
        raise ValueError(f"every row must hold the same number of images, got "
                         f"{ {label: len(batch) for label, batch in batches.items()} }.")
    shown = min(num_images, counts.pop())
    _count(shown * len(batches), "num_images * len(rows)", MAX_PANELS)
    figure = Figure(figsize=(cell_inches * shown + 1.2, cell_inches * len(batches) + (0.4 if title else 0)))
    axes = figure.subplots(len(batches), shown, squeeze=False)
    for row, (label, batch) in enumerate(batches.items()):
        for column in range(shown):
            _show(axes[row, column], batch[column])
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_history(history, keys=None, *, title: str | None = None, baselines: dict | None = None,
                 units: dict | None = None) -> Figure:
    """Training curves from a ``History`` (or its ``.history`` dict), one panel per metric.

    A metric and its ``val_`` twin share a panel. ``baselines`` draws horizontal reference lines
    (``{"fid": ("real-vs-real floor", 1.2)}``) so that a curve is read against its floor.
    ``units`` labels a panel's y axis (``{"loss": "MSE"}``); without one the axis is labelled
    with the metric's name. Each panel is titled with its metric, except a single panel under ``title``.

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("history must be a keras History or a non-empty dict of metric lists.")
    if keys is None:
        keys = [key for key in logs if not key.startswith("val_")]
    elif isinstance(keys, str) or not hasattr(keys, "__iter__"):
        raise ValueError(f"keys must be a list of metric names, e.g. [{keys!r}], got {keys!r}.")
    keys = list(keys)
    if not keys:
        raise ValueError(f"keys must name at least one metric; the history has {sorted(logs)}.")
    unknown = [key for key in keys if key not in logs]
    if unknown:
        raise ValueError(f"Unknown metric(s) {unknown}; the history has {sorted(logs)}.")
    _count(len(keys), "the number of keys", 12)
    for key in keys:
        values = np.asarray(logs[key])
        if values.ndim != 1 or not len(values) or values.dtype.kind not in "biuf":
            raise ValueError(f"history[{key!r}] must be a non-empty list of numbers (one per epoch), "
                             f"got {logs[key]!r:.80}.")
    for name, mapping in (("baselines", baselines), ("units", units)):
        if mapping is not None and not isinstance(mapping, dict):
            raise ValueError(f"{name} must be a dict keyed by metric name, got {type(mapping).__name__}.")
    for key, baseline in (baselines or {}).items():
        if not (isinstance(baseline, (tuple, list)) and len(baseline) == 2
                and isinstance(baseline[1], (int, float, np.integer, np.floating)) and np.isfinite(baseline[1])):
            raise ValueError(f"baselines[{key!r}] must be a pair (label, finite number), got {baseline!r}.")
    figure = Figure(figsize=(4 * len(keys), 3))
    axes = figure.subplots(1, len(keys), squeeze=False)[0]
    for axis, key in zip(axes, keys):
        epochs = np.arange(1, len(logs[key]) + 1)
        axis.plot(epochs, logs[key], marker=".", label="train" if f"val_{key}" in logs else key)
        if f"val_{key}" in logs:
            axis.plot(epochs, logs[f"val_{key}"], marker=".", label="validation")
        if baselines and key in baselines:
            label, value = baselines[key]
            axis.axhline(value, color="grey", linestyle="--", label=label)
        axis.set_xlabel("epoch")
        axis.set_ylabel((units or {}).get(key, key))
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        if len(keys) > 1 or not title:  # one panel under a figure title needs no title of its own
            axis.set_title(key)
        axis.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_confusion_matrix(counts, class_names, *, title: str | None = None) -> Figure:
    """A confusion matrix (rows: true class, columns: predicted class) with its counts written in.

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    counts = np.asarray(counts)
    class_names = _names(class_names, "class_names")
    _count(len(class_names), "the number of classes", 100)
    if counts.dtype.kind not in "iuf" or not np.all(np.isfinite(counts)) or (counts.size and counts.min() < 0):
        shown = f" in [{np.min(counts)}, {np.max(counts)}]" if counts.size and counts.dtype.kind in "iuf" else ""
        raise ValueError(f"counts must be finite, non-negative numbers of images, got {counts.dtype} values{shown}.")
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] != len(class_names):
        raise ValueError(f"counts must be a square matrix with one row per class ({len(class_names)}), "
                         f"got shape {counts.shape}.")
    figure = Figure(figsize=(0.5 * len(class_names) + 2, 0.5 * len(class_names) + 1.5))
    axis = figure.subplots()
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for row in range(counts.shape[0]):
        for column in range(counts.shape[1]):
            if counts[row, column]:
                axis.text(column, row, str(counts[row, column]), ha="center", va="center", fontsize=7,
                          color="white" if shares[row, column] > 0.5 else "black")
    axis.set_xticks(range(len(class_names)), class_names)
    axis.set_yticks(range(len(class_names)), class_names)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------- notebook 13's measured curves

def _numbers(values, name: str) -> np.ndarray:
    """A non-empty 1-D array of finite numbers, or a ValueError naming ``name``."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers, got {values.size} values.")
    return values


def _finish(figure, axis, xlabel: str, ylabel: str, title: str | None, legend_size: int = 8) -> Figure:
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    if title:
        axis.set_title(title)
    axis.legend(fontsize=legend_size)
    figure.tight_layout()
    return figure


def plot_training_and_validation(histories: dict, *, key: str = "loss", units: str | None = None,
                                 title: str | None = None) -> Figure:
    """Training (dashed) and validation (dots) curves of several runs on one axis, one colour per run.

    ``histories`` maps a label to a ``History`` with ``key`` and ``val_<key>``; the x axis counts
    optimizer updates at each epoch's end when every history has ``updates`` (the total, as
    ``challenges.train_for_updates`` records it), else epochs, so runs of equal compute line up.
    Shows augmentation against overfitting.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    if not histories:
        raise ValueError("histories must map at least one label to a History.")
    by_updates = all(hasattr(history, "updates") for history in histories.values())
    figure = Figure(figsize=(6, 3.2))
    axis = figure.subplots()
    for label, history in histories.items():
        logs = getattr(history, "history", history)
        if key not in logs or f"val_{key}" not in logs:
            raise ValueError(f"history {label!r} must hold {key!r} and 'val_{key}', got {sorted(logs)}.")
        epochs = len(logs[key])
        steps = np.arange(1, epochs + 1) / epochs * history.updates if by_updates else np.arange(1, epochs + 1)
        line, = axis.plot(steps, logs[key], linestyle="--", label=f"{label}: training")
        axis.plot(steps, logs[f"val_{key}"], color=line.get_color(), marker=".", label=f"{label}: validation")
    return _finish(figure, axis, "updates" if by_updates else "epoch", units or key, title)


def plot_distance_histograms(reference_distances, sample_distances: dict, *,
                             reference_label: str = "held-out real digits",
                             xlabel: str = "distance to the nearest training digit (pixel L2)",
                             title: str | None = None, bins: int = 40) -> Figure:
    """Densities of nearest-neighbour distances: the reference (filled) against each sample set (outlines).

    Shared bins run from 0 to the largest 99.5th percentile, so one far outlier does not squash the
    rest. Shows memorisation.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    reference = _numbers(reference_distances, "reference_distances")
    samples = {name: _numbers(distances, f"sample_distances[{name!r}]") for name, distances in sample_distances.items()}
    edges = np.linspace(0, max(np.percentile(values, 99.5) for values in [reference, *samples.values()]),
                        positive_int(bins, "bins") + 1)
    figure = Figure(figsize=(6.5, 3))
    axis = figure.subplots()
    axis.hist(reference, bins=edges, alpha=0.5, density=True, label=reference_label)
    for name, distances in samples.items():
        axis.hist(distances, bins=edges, histtype="step", linewidth=2, density=True, label=name)
    return _finish(figure, axis, xlabel, "density", title)


def plot_quality_vs_data(num_images, quality, *, label: str, baselines: dict | None = None,
                         highlight: tuple | None = None, xlabel: str = "training digits",
                         ylabel: str = "held-out PSNR (dB)", title: str | None = None) -> Figure:
    """Quality against training-set size on a log axis whose ticks are the sizes measured.

    ``baselines`` draws horizontal lines ``{label: value}`` (a classical restorer, the damaged
    input); ``highlight = (x, y, label)`` marks one more point with a star (the shipped model).
    Shows data scarcity.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    sizes, values = _numbers(num_images, "num_images"), _numbers(quality, "quality")
    if sizes.shape != values.shape or np.any(sizes <= 0):
        raise ValueError(f"num_images must be positive and match quality one to one, got {sizes.size} sizes "
                         f"and {values.size} values.")
    figure = Figure(figsize=(6, 3.4))
    axis = figure.subplots()
    axis.plot(sizes, values, marker="o", label=label)
    for (baseline_label, value), style in zip((baselines or {}).items(), ("--", ":", "-.")):
        axis.axhline(value, color="grey" if style == "--" else "black", linestyle=style, label=baseline_label)
    if highlight is not None:
        x, y, highlight_label = highlight
        axis.scatter([x], [y], marker="*", s=120, color="C3", label=highlight_label)
    axis.set_xscale("log")
    axis.minorticks_off()
    axis.set_xticks(sizes, [f"{int(size):,}" for size in sizes])
    return _finish(figure, axis, xlabel, ylabel, title, legend_size=7)


def plot_cost_vs_size(parameters, milliseconds, labels, *, ylabel: str = "ms per training step (batch 32)",
                      title: str | None = None) -> Figure:
    """Measured cost against model size on log-log axes, each point labelled, beside the line of
    cost proportional to parameters through the largest model (where a perfectly efficient
    machine would put them). Shows compute cost.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    sizes, costs = _numbers(parameters, "parameters"), _numbers(milliseconds, "milliseconds")
    labels = list(labels)
    if not sizes.shape == costs.shape == (len(labels),) or np.any(sizes <= 0) or np.any(costs <= 0):
        raise ValueError(f"parameters and milliseconds must be positive with one label each, got {sizes.size}, "
                         f"{costs.size} and {len(labels)}.")
    figure = Figure(figsize=(6, 3.2))
    axis = figure.subplots()
    axis.loglog(sizes, costs, marker="o", label="measured")
    largest = int(np.argmax(sizes))
    axis.loglog(sizes, costs[largest] / sizes[largest] * sizes, linestyle="--", color="grey",
                label="proportional to parameters")
    for size, cost, text in zip(sizes, costs, labels):
        axis.annotate(str(text), (size, cost), fontsize=8)
    return _finish(figure, axis, "parameters", ylabel, title)


# --------------------------------------------------------------- notebook 07's sampler and guidance curves

SAMPLER_STYLES = {"ddpm": ("o", "-"), "ddim": ("s", "--"), "euler": ("x", ":"), "heun": ("^", "-")}


def plot_quality_vs_network_calls(results: dict, *, floor: float | None = None, ylabel: str = "FID (evaluator)",
                                  title: str | None = None) -> Figure:
    """Sample quality against the network calls a sampler spends, one line per sampler, log x axis.

    ``results`` maps a sampler's name to ``(network_calls, quality)``, two equally long
    sequences; ``floor`` (the real-vs-real FID) is drawn as a horizontal line. Samplers with
    the same update (DDIM with eta 0 and Euler on the straight path) get different line styles
    and markers, so a curve hidden under another still shows. The y axis is logarithmic when the
    values span more than a factor of 20, as FID over a step sweep does; of two call counts within
    10% of each other (15 and 16) only the first is labelled on the x axis.

    Introduced in notebook 07_diffusion_mnist.
    """
    if not isinstance(results, dict) or not results:
        raise ValueError(f"results must be a non-empty dict {{sampler: (network_calls, quality)}}, got {results!r:.80}.")
    curves = {}
    for name, pair in results.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"results[{name!r}] must be a pair (network_calls, quality), got {pair!r:.80}.")
        calls, values = _numbers(pair[0], f"results[{name!r}] network_calls"), _numbers(pair[1], f"results[{name!r}] quality")
        if calls.shape != values.shape or np.any(calls < 1):
            raise ValueError(f"results[{name!r}] needs one quality per network-call count, each count at least 1; "
                             f"got {calls.size} counts and {values.size} values.")
        curves[str(name)] = (calls, values)
    if floor is not None:
        floor = float(_numbers([floor], "floor")[0])
    figure = Figure(figsize=(6.5, 3.6))
    axis = figure.subplots()
    for index, (name, (calls, values)) in enumerate(curves.items()):
        marker, style = SAMPLER_STYLES.get(name.split()[0].lower(), ("o", "-"))
        axis.plot(calls, values, marker=marker, linestyle=style, color=f"C{index}", label=name)
    if floor is not None:
        axis.axhline(floor, color="grey", linestyle="--", label="real-vs-real floor")
    axis.set_xscale("log")
    everything = np.concatenate([values for _, values in curves.values()] + ([[floor]] if floor is not None else []))
    if np.all(everything > 0) and everything.max() / everything.min() > 20:
        axis.set_yscale("log")
    ticks = []
    for tick in np.unique(np.concatenate([calls for calls, _ in curves.values()])):
        if not ticks or np.log10(tick / ticks[-1]) >= 0.04:   # 15 and 16 calls would print on top of each other
            ticks.append(tick)
    axis.minorticks_off()
    axis.set_xticks(ticks, [f"{int(tick):,}" for tick in ticks])
    return _finish(figure, axis, "network calls per sample", ylabel, title)


def plot_guidance_trade_off(weights, fid, recognition_rate, *, floor: float | None = None,
                            clean_recognition: float | None = None, title: str | None = None,
                            items: str = "digits") -> Figure:
    """Classifier-free guidance's trade-off: FID (left) and the recognition rate of the requested
    class (right) against the guidance weight ``w``, one point per weight.

    ``floor`` (real-vs-real FID) and ``clean_recognition`` (the evaluator's accuracy on real
    held-out ``items``) are drawn as horizontal lines, so each curve is read against real data.

    Introduced in notebook 07_diffusion_mnist.
    """
    items = items_name(items)
    weights = _numbers(weights, "weights")
    fid, recognition = _numbers(fid, "fid"), _numbers(recognition_rate, "recognition_rate")
    if not weights.shape == fid.shape == recognition.shape:
        raise ValueError(f"weights, fid and recognition_rate must have one value per weight, got {weights.size}, "
                         f"{fid.size} and {recognition.size}.")
    if np.any(weights < 0):
        raise ValueError(f"weights must be guidance weights >= 0, got {weights.min()}.")
    if np.any((recognition < 0) | (recognition > 1)):
        raise ValueError("recognition_rate must be fractions in [0, 1] (not percentages).")
    order = np.argsort(weights)
    figure = Figure(figsize=(10, 3.4))
    left, right = figure.subplots(1, 2)
    left.plot(weights[order], fid[order], marker="o", label="samples")
    if floor is not None:
        left.axhline(float(_numbers([floor], "floor")[0]), color="grey", linestyle="--", label="real-vs-real floor")
    right.plot(weights[order], recognition[order], marker="o", color="C1", label="samples (requested class)")
    if clean_recognition is not None:
        right.axhline(float(_numbers([clean_recognition], "clean_recognition")[0]), color="grey", linestyle="--",
                      label=f"real held-out {items}")
    right.set_ylim(0, 1.02)
    for axis, label in ((left, "FID (evaluator)"), (right, "recognition rate")):
        axis.set_xlabel("guidance weight w")
        axis.set_ylabel(label)
        axis.set_xticks(weights[order])
        axis.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------- the generation benchmark

def plot_fid_over_training(curves: dict, *, floor: float | None = None, budgets=None,
                           title: str | None = None) -> Figure:
    """FID against training seconds, one line per model family, on a log FID axis.

    ``curves`` maps a family's label to ``(training_seconds, fid)``, two equally long sequences of
    finite, positive numbers, e.g. the points of
    ``course_lib.training.MeasureAtSeconds``. The lowest point of each curve is ringed (a GAN's
    best is often not its last); ``floor`` (the real-vs-real FID) is drawn as a dashed line and
    each of ``budgets`` (training seconds) as a dotted vertical line. The seconds axis starts at 0.

    Introduced in notebook 07_diffusion_mnist.
    """
    if not isinstance(curves, dict) or not curves:
        raise ValueError(f"curves must be a non-empty dict mapping a label to (training_seconds, fid), "
                         f"got {type(curves).__name__}.")
    figure = Figure(figsize=(6.4, 3.6))
    axis = figure.subplots()
    latest = 0.0
    for index, (label, curve) in enumerate(curves.items()):
        if not isinstance(curve, (tuple, list)) or len(curve) != 2:
            raise ValueError(f"curves[{label!r}] must be a pair (training_seconds, fid), got {type(curve).__name__}.")
        seconds = _numbers(curve[0], f"curves[{label!r}] training_seconds")
        fid = _numbers(curve[1], f"curves[{label!r}] fid")
        if seconds.shape != fid.shape or np.any(seconds <= 0) or np.any(fid <= 0):
            raise ValueError(f"curves[{label!r}] needs as many positive training seconds as positive FIDs "
                             f"(a log axis), got {seconds.size} and {fid.size}.")
        color = f"C{index % 10}"
        axis.plot(seconds, fid, marker="o", markersize=3, color=color, label=str(label))
        latest = max(latest, float(np.max(seconds)))
        best = int(np.argmin(fid))
        axis.scatter([seconds[best]], [fid[best]], s=80, facecolors="none", edgecolors=color)
    if floor is not None:
        floor = float(_numbers([floor], "floor")[0])
        if floor <= 0:
            raise ValueError(f"floor must be a positive FID (real vs real), got {floor}.")
        axis.axhline(floor, color="grey", linestyle="--", label=f"real vs real ({floor:.2f})")
    budgets = _numbers(budgets, "budgets").tolist() if budgets is not None else None
    for budget in budgets or ():
        axis.axvline(budget, color="black", linestyle=":", linewidth=0.8)
    axis.set_yscale("log")
    # from the start of training, with room to the right, also when every point sits at one budget
    axis.set_xlim(0.0, 1.08 * max([latest, *(budgets or ())]))
    return _finish(figure, axis, "training seconds (inside epochs)", "FID (lower is better)", title)
