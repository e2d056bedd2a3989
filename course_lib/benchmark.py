"""The restoration benchmark of notebooks 08-10 and 13: every restorer on the same damaged digits.

:func:`benchmark` scores any list of :class:`~course_lib.restorer.Restorer` objects (the
classical ones of notebook 08, the learned ones of notebook 09, the conditional GAN of notebook
10) on the held-out digits, each degradation applied once with the same seed, and returns a
:class:`BenchmarkResult` of :class:`BenchmarkRow` rows: PSNR, SSIM, the frozen evaluator's
recognition rate (and its ratio to the accuracy on the clean digits), FID in evaluator features
and time per image, with the references to read them against (clean accuracy, FID floor).
:func:`format_table` prints it as the one table every notebook and
``benchmarks/restoration_benchmark.py`` show. What it leaves out: the restorers themselves
(:mod:`course_lib.restoration`, :mod:`course_lib.learned_restoration`) and human judgement
(:mod:`course_lib.human_eval`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import time
import typing
from typing import Sequence

import numpy as np

from course_lib import degradations as deg
from course_lib._checks import as_image_batch, items_name, one_of, positive_int
from course_lib.degradations import Damaged
from course_lib.restorer import Restorer

__all__ = ["BenchmarkRow", "BenchmarkResult", "benchmark", "format_table", "TABLE_HEADER", "save_result", "load_result"]


class BenchmarkRow(typing.NamedTuple):
    """One restorer's scores on one degradation: PSNR, SSIM, recognition, FID and time per image.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    degradation: str
    restorer: str
    num_images: int
    psnr: float                 # dB, per image then averaged
    ssim: float                 # Wang et al., 11x11 Gaussian window
    recognition: float          # evaluator accuracy on the restored images
    relative_recognition: float # recognition / evaluator accuracy on the same clean images
    fid: float                  # restored vs clean held-out digits, evaluator features
    seconds_per_image: float


@dataclasses.dataclass(frozen=True)
class BenchmarkResult:
    """The rows of :func:`benchmark` with the references to read them against.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """

    rows: tuple[BenchmarkRow, ...]
    clean_accuracy: dict      # num_images -> evaluator accuracy on the clean held-out digits
    fid_floor: dict           # num_images -> FID of as many training digits vs the held-out ones
    seconds: float            # wall time of the whole benchmark

    def best(self, degradation: str, key: str = "psnr") -> BenchmarkRow:
        rows = [row for row in self.rows if row.degradation == degradation and row.restorer != "damaged input"]
        scores = ("psnr", "ssim", "recognition", "relative_recognition")
        if key not in scores:
            raise ValueError(f"key must be a score where higher is better, one of {', '.join(scores)}; got {key!r}.")
        if not rows:
            raise ValueError(f"No restorer rows for {degradation!r}.")
        return max(rows, key=lambda row: getattr(row, key))

    def row(self, degradation: str, restorer: str) -> BenchmarkRow:
        for row in self.rows:
            if row.degradation == degradation and row.restorer == restorer:
                return row
        raise ValueError(f"No row for {restorer!r} on {degradation!r}.")


def benchmark(restorers: Sequence[Restorer], clean_images, labels, *,
              degradations: Sequence[str] = deg.BENCHMARK_DEGRADATIONS, evaluator=None,
              reference_images=None, seed: int = 0, slow_num_images: int | None = None,
              verbose: bool = True, dataset: str | None = None) -> BenchmarkResult:
    """Score every restorer on every degradation it handles, on the same damaged images.

    Notebooks 09-10 add
    their learned restorers to the same call. ``clean_images`` (N, 28, 28, 1) and ``labels``
    (N,) are the held-out digits (the course uses all 2,000). Each degradation damages them
    once with ``seed``; each restorer that handles it restores them, timed. Per row: PSNR and
    SSIM (:mod:`course_lib.metrics`), the evaluator's accuracy on the restored digits and its
    ratio to the accuracy on the clean digits, the FID between restored and clean digits in
    evaluator features, and seconds per image. Restorers marked ``slow`` run on the first
    ``slow_num_images`` digits only when that is given (their rows say how many). The FID floor
    is the FID of as many ``reference_images`` (training digits) against the clean held-out digits.
    ``dataset`` names the images (``"mnist"`` or ``"fashion_mnist"``): its judge scores them
    when no ``evaluator`` is given (MNIST's when neither is), and a given one must be that
    dataset's judge.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from course_lib import metrics

    clean_images = as_image_batch(clean_images, "clean_images", channels=1)
    labels = np.asarray(labels)
    if labels.shape != (len(clean_images),):
        raise ValueError(f"labels must have shape ({len(clean_images)},), got {labels.shape}.")
    if isinstance(restorers, Restorer):
        raise TypeError(f"restorers must be a list of Restorer objects, got the single restorer "
                        f"{restorers.name!r}; pass [restorer].")
    try:
        restorers = list(restorers)
    except TypeError:
        raise TypeError(f"restorers must be a list of Restorer objects, got {type(restorers).__name__}.") from None
    if not restorers:
        raise ValueError("restorers must be a non-empty list of Restorer objects, got an empty list.")
    others = [type(restorer).__name__ for restorer in restorers if not isinstance(restorer, Restorer)]
    if others:
        raise TypeError(f"restorers must be a list of Restorer objects, got {', '.join(others)} among them; "
                        f"wrap a function with Restorer(name, function, handles).")
    if isinstance(degradations, (str, deg.Degradation)):
        raise TypeError(f"degradations must be a list of degradation names, got {degradations!r}; "
                        f"pass [{degradations!r}].")
    degradations = [deg.get_degradation(name) for name in degradations]
    if slow_num_images is not None:
        slow_num_images = min(positive_int(slow_num_images, "slow_num_images"), len(clean_images))
    if dataset is not None:
        from course_lib.data import DATASET_NAMES

        one_of(dataset, DATASET_NAMES, "dataset name")
    if evaluator is None:
        from course_lib.evaluator import load_evaluator

        evaluator, _ = load_evaluator(dataset=dataset or "mnist")
    elif dataset is not None and hasattr(evaluator, "check_dataset"):   # a test's stand-in judge has none
        evaluator.check_dataset(dataset)
    if reference_images is not None:
        reference_images = as_image_batch(reference_images, "reference_images", channels=1)

    started = time.perf_counter()
    clean_probabilities = evaluator.probabilities(clean_images)
    clean_features = evaluator.features(clean_images)
    sizes = {len(clean_images)} | ({slow_num_images} if slow_num_images else set())
    clean_accuracy, fid_floor = {}, {}
    for size in sorted(sizes):
        clean_accuracy[size] = float(np.mean(clean_probabilities[:size].argmax(axis=1) == labels[:size]))
        if reference_images is not None and len(reference_images) >= size:
            fid_floor[size] = metrics.frechet_distance(evaluator.features(reference_images[:size]),
                                                       clean_features[:size])
    rows = []
    for degradation in degradations:
        damaged = degradation.apply(clean_images, seed=seed)
        for restorer in restorers:
            if not restorer.can_restore(degradation):
                continue
            count = slow_num_images if (restorer.slow and slow_num_images) else len(clean_images)
            subset = Damaged(damaged.images[:count],
                             None if damaged.mask is None else damaged.mask[:count], degradation)
            tick = time.perf_counter()
            restored = restorer(subset)
            seconds = (time.perf_counter() - tick) / count
            reference = clean_images[:count]
            probabilities = evaluator.probabilities(restored)
            recognition = metrics.recognition_rate(probabilities, labels[:count], clean_probabilities[:count])
            row = BenchmarkRow(
                degradation=degradation.name, restorer=restorer.name, num_images=count,
                psnr=metrics.psnr(restored, reference, max_db=100.0),
                ssim=metrics.ssim(restored, reference),
                recognition=recognition.accuracy, relative_recognition=recognition.relative,
                fid=metrics.frechet_distance(evaluator.features(restored), clean_features[:count]),
                seconds_per_image=seconds)
            rows.append(row)
            if verbose:
                print(_format_row(row), flush=True)
    return BenchmarkResult(tuple(rows), clean_accuracy, fid_floor, time.perf_counter() - started)


TABLE_HEADER = (f"{'degradation':<11} {'restorer':<24} {'images':>6} {'PSNR dB':>8} {'SSIM':>6} "
                f"{'recog.':>7} {'/clean':>7} {'FID':>8} {'ms/img':>8}")


def _format_row(row: BenchmarkRow) -> str:
    return (f"{row.degradation:<11} {row.restorer:<24} {row.num_images:>6} {row.psnr:>8.2f} "
            f"{row.ssim:>6.3f} {row.recognition:>7.1%} {row.relative_recognition:>7.1%} "
            f"{row.fid:>8.2f} {_milliseconds(row.seconds_per_image):>8}")


def _milliseconds(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{1000 * seconds:.2f}"   # nan: not timed (a sweep's rows)


def format_table(result: BenchmarkResult, *, items: str = "digits") -> str:
    """The benchmark as a fixed-width text table with its references underneath; ``items`` names
    the images in those lines (``data.ITEM_NAMES[dataset]``: "digits", "garments").

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    items = items_name(items)
    lines = [TABLE_HEADER, "-" * len(TABLE_HEADER)]
    previous = None
    for row in result.rows:
        if previous is not None and row.degradation != previous:
            lines.append("")
        lines.append(_format_row(row))
        previous = row.degradation
    lines.append("-" * len(TABLE_HEADER))
    for size, accuracy in sorted(result.clean_accuracy.items()):
        floor = result.fid_floor.get(size)
        floor_text = f"; FID floor (as many training {items} vs held-out) {floor:.2f}" if floor is not None else ""
        lines.append(f"on {size} clean held-out {items}: evaluator accuracy {accuracy:.1%}{floor_text}")
    lines.append("PSNR per image then averaged; SSIM 11x11 Gaussian window (notebook 12); "
                 f"/clean = recognition / clean accuracy on the same {items}.")
    return "\n".join(lines)


def save_result(result: BenchmarkResult, path, **extra) -> pathlib.Path:
    """Write ``result`` as JSON (rows, clean accuracy, FID floor, seconds) plus ``extra`` keys
    (JSON values: the command, the date, other measurements), for :func:`load_result`.

    Introduced in notebook 11_diffusion_restoration.
    """
    if not isinstance(result, BenchmarkResult):
        raise TypeError(f"result must be a BenchmarkResult (from benchmark()), got {type(result).__name__}.")
    reserved = {"rows", "clean_accuracy", "fid_floor", "seconds"} & set(extra)
    if reserved:
        raise ValueError(f"extra keys must not replace the result's own: {', '.join(sorted(reserved))}.")
    path = pathlib.Path(path)
    rows = [{**row._asdict(), "seconds_per_image": None if math.isnan(row.seconds_per_image)
             else row.seconds_per_image} for row in result.rows]     # JSON has no NaN: null means not timed
    document = {"rows": rows,
                "clean_accuracy": {str(size): value for size, value in result.clean_accuracy.items()},
                "fid_floor": {str(size): value for size, value in result.fid_floor.items()},
                "seconds": result.seconds, **extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")
    return path


def load_result(path) -> tuple[BenchmarkResult, dict]:
    """Read a :func:`save_result` file (plain JSON, nothing unpickled): ``(result, extra)``, where
    ``extra`` holds the keys beyond the result's own. A missing or malformed file raises an error
    that names what was expected.

    Introduced in notebook 11_diffusion_restoration.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no benchmark result at {path}; write one with "
                                f"`python benchmarks/restoration_benchmark.py --output {path}`.")
    try:
        document = json.loads(path.read_text())
        fields = BenchmarkRow._fields
        rows = []
        for entry in document["rows"]:
            if set(entry) != set(fields):
                raise ValueError(f"a row has the keys {sorted(entry)}, expected {sorted(fields)}")
            row = BenchmarkRow(**{**entry, "seconds_per_image": math.nan if entry["seconds_per_image"] is None
                                  else entry["seconds_per_image"]})
            numbers = [row.psnr, row.ssim, row.recognition, row.relative_recognition, row.fid]
            if not all(isinstance(value, (int, float)) and math.isfinite(value) for value in numbers):
                raise ValueError(f"the row {row.restorer!r} on {row.degradation!r} has a score that is not a finite number")
            rows.append(row._replace(num_images=int(row.num_images)))
        result = BenchmarkResult(tuple(rows), {int(size): float(value) for size, value in document["clean_accuracy"].items()},
                                 {int(size): float(value) for size, value in document["fid_floor"].items()},
                                 float(document["seconds"]))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is not a benchmark result written by save_result ({error}); "
                         f"run benchmarks/restoration_benchmark.py --output {path} again.") from None
    extra = {key: value for key, value in document.items() if key not in ("rows", "clean_accuracy", "fid_floor", "seconds")}
    return result, extra
