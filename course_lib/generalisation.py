"""Do the course's lessons carry over from digits to clothes? The two-dataset table of notebook 13.

Every number the course measures comes from MNIST, the easiest images there are. The benchmarks
run the same recipes on Fashion-MNIST too (``--dataset fashion_mnist``), each dataset scored by
its own frozen judge (:func:`course_lib.evaluator.load_evaluator`), with the same training
seconds per model. This module reads their committed results and lines the datasets up:

- generators (``benchmarks/results/generation_benchmark*.json``): each family's FID at the same training
  seconds, divided by its dataset's real-vs-real floor, since FIDs from two judges are not on
  one scale but their ratio to each judge's own floor is comparable in kind;
- restorers (``benchmarks/results/restoration_benchmark_<dataset>.json``): per degradation, the
  best classical and the best learned PSNR and the learned model's gain in dB, a difference of
  PSNRs on the same images (slow rows scored on a subset are left out), which needs no judge.

:func:`conclusions` then checks the course's main claims on each dataset.

Introduced in notebook 13_choosing_methods_and_challenges.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
from typing import Mapping

from course_lib._checks import one_of

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "results"
DATASETS = ("mnist", "fashion_mnist")
DATASET_LABELS = {"mnist": "digits", "fashion_mnist": "clothes"}
LEARNED_RESTORERS = ("DnCNN", "U-Net", "cGAN (pix2pix)")
"""Restorer names of the benchmark that are trained networks; every other name but the damaged input is classical."""


def generation_path(dataset: str, folder=None) -> pathlib.Path:
    """``generation_benchmark.json`` (digits) or ``generation_benchmark_<dataset>.json``.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    one_of(dataset, DATASETS, "dataset name")
    folder = pathlib.Path(folder) if folder is not None else RESULTS_DIR
    return folder / ("generation_benchmark.json" if dataset == "mnist" else f"generation_benchmark_{dataset}.json")


def restoration_path(dataset: str, folder=None) -> pathlib.Path:
    """``restoration_benchmark_<dataset>.json``.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    one_of(dataset, DATASETS, "dataset name")
    folder = pathlib.Path(folder) if folder is not None else RESULTS_DIR
    return folder / f"restoration_benchmark_{dataset}.json"


@dataclasses.dataclass(frozen=True)
class GenerationRow:
    """One generator family on one dataset at one training budget.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    family: str
    dataset: str
    training_seconds: float
    fid: float
    floor: float

    @property
    def fid_over_floor(self) -> float:
        return self.fid / self.floor


@dataclasses.dataclass(frozen=True)
class RestorationRow:
    """One degradation on one dataset: the best classical and the best learned restorer by PSNR.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    degradation: str
    dataset: str
    classical: str
    classical_psnr: float
    learned: str
    learned_psnr: float
    damaged_psnr: float
    num_images: int

    @property
    def gain_db(self) -> float:
        """How many dB the best learned restorer adds over the best classical one."""
        return self.learned_psnr - self.classical_psnr


def _read_json(path: pathlib.Path, command: str) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: it is written by `{command}`.")
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); rerun `{command}`.") from None


def generation_rows(report: Mapping, dataset: str, budget_seconds: float = 300.0) -> list[GenerationRow]:
    """The families of one ``generation_benchmark.py`` report at ``budget_seconds``.

    A report whose runs never reached that budget is a ``ValueError`` naming the budgets it has.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    one_of(dataset, DATASETS, "dataset name")
    try:
        families, floor = report["families"], float(report["fid_floor_real_vs_real"])
    except (KeyError, TypeError):
        raise ValueError("report must be a generation_benchmark.py result with 'families' and "
                         "'fid_floor_real_vs_real'.") from None
    rows = []
    for result in families.values():
        matching = [row for row in result["rows"] if math.isclose(row["budget_seconds"], budget_seconds)]
        if not matching:
            budgets = sorted({row["budget_seconds"] for row in result["rows"]})
            raise ValueError(f"{result['label']!r} has no row at {budget_seconds:g} s; it has {budgets}.")
        rows.append(GenerationRow(result["label"], dataset, matching[0]["training_seconds"], matching[0]["fid"],
                                  floor))
    return rows


def restoration_rows(result, dataset: str) -> list[RestorationRow]:
    """Per degradation of a :class:`~course_lib.benchmark.BenchmarkResult`: best classical against best learned PSNR.

    Both are taken on the same images: a classical row scored on another number of images than the
    best learned one (a slow restorer such as BM3D, run on a subset) is left out of the contest.
    Degradations that no learned restorer handled are left out.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    one_of(dataset, DATASETS, "dataset name")
    rows = []
    for degradation in dict.fromkeys(row.degradation for row in result.rows):
        candidates = [row for row in result.rows if row.degradation == degradation]
        learned = [row for row in candidates if row.restorer in LEARNED_RESTORERS]
        if not learned:
            continue
        best_learned = max(learned, key=lambda row: row.psnr)
        classical = [row for row in candidates if row.restorer not in LEARNED_RESTORERS
                     and row.restorer != "damaged input" and row.num_images == best_learned.num_images]
        damaged = [row for row in candidates if row.restorer == "damaged input"]
        if not classical:
            continue
        best_classical = max(classical, key=lambda row: row.psnr)
        rows.append(RestorationRow(degradation, dataset, best_classical.restorer, best_classical.psnr,
                                   best_learned.restorer, best_learned.psnr,
                                   damaged[0].psnr if damaged else math.nan, best_learned.num_images))
    return rows


def load_tables(folder=None, budget_seconds: float = 300.0) -> tuple[list[GenerationRow], list[RestorationRow]]:
    """Both datasets' generation and restoration rows from the committed benchmark results.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import benchmark

    generation, restoration = [], []
    for dataset in DATASETS:
        suffix = "" if dataset == "mnist" else f" --dataset {dataset} --output benchmarks/results/" \
                                               f"generation_benchmark_{dataset}"
        report = _read_json(generation_path(dataset, folder), "python benchmarks/generation_benchmark.py" + suffix)
        generation += generation_rows(report, dataset, budget_seconds)
        path = restoration_path(dataset, folder)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: it is written by `python benchmarks/restoration_benchmark.py "
                                    f"--dataset {dataset} --output {path.relative_to(path.parents[2])}`.")
        result, _ = benchmark.load_result(path)
        restoration += restoration_rows(result, dataset)
    return generation, restoration


def format_tables(generation, restoration) -> str:
    """The two datasets side by side: FID over floor per family, PSNR gain per degradation
    (the generator block is left out when ``generation`` is empty).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    lines = []
    by_key = {(row.family, row.dataset): row for row in generation}
    if generation:
        lines.append(f"{'generator':<34} {'digits: FID / floor':>20} {'clothes: FID / floor':>21}")
    for family in dict.fromkeys(row.family for row in generation):
        cells = []
        for dataset in DATASETS:
            row = by_key.get((family, dataset))
            cells.append(f"{row.fid:7.1f} / {row.floor:4.2f} = {row.fid_over_floor:5.1f}" if row else "-")
        lines.append(f"{family:<34} {cells[0]:>20} {cells[1]:>21}")
    if generation:
        lines.append("")
    lines.append(f"{'degradation':<11} {'dataset':<8} {'best classical':<24} {'dB':>6} {'best learned':<16} "
                 f"{'dB':>6} {'gain dB':>8}")
    by_degradation = {}
    for row in restoration:
        by_degradation.setdefault(row.degradation, []).append(row)
    for degradation, rows in by_degradation.items():
        for row in sorted(rows, key=lambda row: DATASETS.index(row.dataset)):
            lines.append(f"{degradation:<11} {DATASET_LABELS[row.dataset]:<8} {row.classical:<24} "
                         f"{row.classical_psnr:>6.2f} "
                         f"{row.learned:<16} {row.learned_psnr:>6.2f} {row.gain_db:>+8.2f}")
    return "\n".join(lines)


def conclusions(generation, restoration) -> dict:
    """The course's claims, checked on each dataset: ``{claim: {dataset: bool}}``.

    - ``"learned beats classical where a network was trained"``: the best learned PSNR is above
      the best classical one on every degradation that a learned restorer was measured on;
    - ``"U-Net beats biharmonic on the hole by 3 dB or more"``: notebook 09's inpainting margin, true
      only when those two are the best learned and the best classical restorer of the hole;
    - ``"the generators rank alike"``: each dataset's order of families by FID over floor is the
      digits' order (True for the digits themselves);
    - ``"<family> is the best generator at this budget"`` for the family with the lowest FID over
      floor on digits (the rows' one training budget).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    everywhere = "learned beats classical where a network was trained"
    hole = "U-Net beats biharmonic on the hole by 3 dB or more"
    claims: dict = {everywhere: {}, hole: {}}
    for dataset in DATASETS:
        rows = [row for row in restoration if row.dataset == dataset]
        claims[everywhere][dataset] = bool(rows) and all(row.gain_db > 0 for row in rows)
        holes = [row for row in rows if row.degradation == "hole_12"]
        claims[hole][dataset] = bool(holes) and (holes[0].learned, holes[0].classical) == (
            "U-Net", "biharmonic inpainting") and holes[0].gain_db >= 3.0
    order = {dataset: [row.family for row in sorted((row for row in generation if row.dataset == dataset),
                                                    key=lambda row: row.fid_over_floor)] for dataset in DATASETS}
    claims["the generators rank alike"] = {dataset: order[dataset] == order["mnist"] for dataset in DATASETS}
    if order["mnist"]:
        best = order["mnist"][0]
        claims[f"{best} is the best generator at this budget"] = {
            dataset: bool(order[dataset]) and order[dataset][0] == best for dataset in DATASETS}
    return claims


def plot_tables(generation, restoration):
    """Two bar panels, digits beside clothes: each generator's FID over its judge's floor (lower
    is better) and each degradation's gain of the best learned over the best
    classical restorer in dB (higher is better; the dashed line is no gain).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    import numpy as np

    from course_lib.viz import Figure

    if not generation or not restoration:
        raise ValueError("plot_tables needs generation rows and restoration rows "
                         f"(got {len(generation)} and {len(restoration)}); load them with load_tables().")
    figure = Figure(figsize=(10, 3.4))
    generators, restorers = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2, 3]})
    width = 0.38
    for axis, rows, key, value in ((generators, generation, "family", "fid_over_floor"),
                                   (restorers, restoration, "degradation", "gain_db")):
        names = list(dict.fromkeys(getattr(row, key) for row in rows))
        positions = np.arange(len(names))
        for offset, dataset in zip((-width / 2, width / 2), DATASETS):
            by_name = {getattr(row, key): getattr(row, value) for row in rows if row.dataset == dataset}
            heights = [by_name.get(name, np.nan) for name in names]
            axis.bar(positions + offset, heights, width, label=DATASET_LABELS[dataset])
        axis.set_xticks(positions, names, rotation=20, fontsize=8, ha="right")
        axis.legend(fontsize=8)
    generators.set_ylabel("FID / floor")
    generators.set_title("Generators, equal training seconds: read the order within each\n"
                         "dataset; heights do not compare across judges", fontsize=9)
    restorers.axhline(0.0, color="black", linestyle="--", linewidth=0.8)
    restorers.set_ylabel("best learned - best classical (dB)")
    restorers.set_title("Restorers: gain over classical", fontsize=10)
    figure.tight_layout()
    return figure
