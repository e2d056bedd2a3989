"""course_lib.generalisation: the two-dataset table read from benchmark results."""

from __future__ import annotations

import json
import math

import pytest

from course_lib import benchmark, generalisation
from course_lib.benchmark import BenchmarkResult, BenchmarkRow


def report(fids: dict, floor: float, budget: float = 300.0) -> dict:
    return {"fid_floor_real_vs_real": floor,
            "families": {key: {"label": key, "rows": [{"budget_seconds": budget, "training_seconds": budget + 2.0,
                                                       "fid": fid}]} for key, fid in fids.items()}}


def row(degradation, restorer, psnr, num_images=50):
    return BenchmarkRow(degradation, restorer, num_images, psnr, 0.5, 0.9, 0.95, 3.0, 0.001)


def result(rows) -> BenchmarkResult:
    return BenchmarkResult(tuple(rows), {50: 0.99}, {50: 1.2}, 1.0)


DIGITS = result([row("hole_12", "damaged input", 12.0), row("hole_12", "biharmonic inpainting", 15.0),
                 row("hole_12", "U-Net", 21.0), row("hole_12", "cGAN (pix2pix)", 20.0),
                 row("noise_0.3", "damaged input", 10.5), row("noise_0.3", "non-local means", 20.5),
                 row("noise_0.3", "DnCNN", 23.9), row("salt_pepper_10", "median filter", 25.0)])
CLOTHES = result([row("hole_12", "damaged input", 11.0), row("hole_12", "biharmonic inpainting", 17.0),
                  row("hole_12", "U-Net", 18.5), row("noise_0.3", "damaged input", 10.5),
                  row("noise_0.3", "non-local means", 22.0), row("noise_0.3", "DnCNN", 21.0)])


def test_restoration_rows_pick_the_best_of_each_kind_and_their_gain():
    rows = generalisation.restoration_rows(DIGITS, "mnist")
    assert [row.degradation for row in rows] == ["hole_12", "noise_0.3"]     # no learned restorer: left out
    hole = rows[0]
    assert (hole.classical, hole.learned, hole.damaged_psnr) == ("biharmonic inpainting", "U-Net", 12.0)
    assert hole.gain_db == pytest.approx(6.0)
    assert generalisation.restoration_rows(CLOTHES, "fashion_mnist")[1].gain_db == pytest.approx(-1.0)
    subset = result([row("noise_0.3", "non-local means", 20.5, 500), row("noise_0.3", "BM3D", 21.0, 50),
                     row("noise_0.3", "DnCNN", 23.0, 500)])
    noise, = generalisation.restoration_rows(subset, "mnist")
    assert (noise.classical, noise.gain_db) == ("non-local means", pytest.approx(2.5))   # BM3D saw other images


def test_generation_rows_divide_by_their_own_floor_and_refuse_a_missing_budget():
    rows = generalisation.generation_rows(report({"DCGAN": 108.0, "flow": 24.0}, 1.2), "mnist")
    assert [row.family for row in rows] == ["DCGAN", "flow"]
    assert rows[0].fid_over_floor == pytest.approx(90.0) and rows[0].training_seconds == 302.0
    with pytest.raises(ValueError, match="no row at 600 s; it has \\[300.0\\]"):
        generalisation.generation_rows(report({"DCGAN": 108.0}, 1.2), "mnist", budget_seconds=600.0)
    with pytest.raises(ValueError, match="generation_benchmark.py result"):
        generalisation.generation_rows({"families": {}}, "mnist")
    with pytest.raises(ValueError, match="dataset name"):
        generalisation.generation_rows(report({}, 1.0), "cifar10")


def test_conclusions_say_which_claims_survive_on_each_dataset():
    generation = (generalisation.generation_rows(report({"DCGAN": 108.0, "VAE": 60.0, "flow": 24.0}, 1.2), "mnist") +
                  generalisation.generation_rows(report({"DCGAN": 30.0, "VAE": 90.0, "flow": 20.0}, 2.0),
                                                 "fashion_mnist"))
    restoration = (generalisation.restoration_rows(DIGITS, "mnist") +
                   generalisation.restoration_rows(CLOTHES, "fashion_mnist"))
    claims = generalisation.conclusions(generation, restoration)
    assert claims["learned beats classical where a network was trained"] == {"mnist": True, "fashion_mnist": False}
    assert claims["U-Net beats biharmonic on the hole by 3 dB or more"] == {"mnist": True, "fashion_mnist": False}
    median_wins = generalisation.restoration_rows(result([row("hole_12", "median filter", 15.0),
                                                           row("hole_12", "U-Net", 21.0)]), "fashion_mnist")
    renamed = generalisation.conclusions(generation, generalisation.restoration_rows(DIGITS, "mnist") + median_wins)
    assert renamed["U-Net beats biharmonic on the hole by 3 dB or more"]["fashion_mnist"] is False  # not biharmonic
    assert claims["the generators rank alike"] == {"mnist": True, "fashion_mnist": False}   # DCGAN passes the VAE
    assert claims["flow is the best generator at this budget"] == {"mnist": True, "fashion_mnist": True}
    table = generalisation.format_tables(generation, restoration)
    assert "  45.0" in table and "+6.00" in table and "-1.00" in table
    restorers_only = generalisation.format_tables([], restoration)
    assert restorers_only.startswith("degradation") and "generator" not in restorers_only


def test_load_tables_reads_the_four_files_and_names_a_missing_one(tmp_path):
    for dataset, fids in (("mnist", {"flow": 24.0}), ("fashion_mnist", {"flow": 40.0})):
        generalisation.generation_path(dataset, tmp_path).write_text(json.dumps(report(fids, 1.5)))
    benchmark.save_result(DIGITS, generalisation.restoration_path("mnist", tmp_path))
    with pytest.raises(FileNotFoundError, match="restoration_benchmark_fashion_mnist.json is missing.*--dataset fashion_mnist"):
        generalisation.load_tables(tmp_path)
    benchmark.save_result(CLOTHES, generalisation.restoration_path("fashion_mnist", tmp_path))
    generation, restoration = generalisation.load_tables(tmp_path)
    assert {row.dataset for row in generation} == {row.dataset for row in restoration} == {"mnist", "fashion_mnist"}
    generalisation.generation_path("mnist", tmp_path).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        generalisation.load_tables(tmp_path)
    assert math.isclose(generation[1].fid_over_floor, 40.0 / 1.5)


def test_plot_tables_draws_one_bar_per_row_and_refuses_empty_tables():
    generation = (generalisation.generation_rows(report({"DCGAN": 108.0, "flow": 24.0}, 1.2), "mnist") +
                  generalisation.generation_rows(report({"DCGAN": 30.0, "flow": 20.0}, 2.0), "fashion_mnist"))
    restoration = (generalisation.restoration_rows(DIGITS, "mnist") +
                   generalisation.restoration_rows(CLOTHES, "fashion_mnist"))
    figure = generalisation.plot_tables(generation, restoration)
    generators, restorers = figure.axes
    heights = sorted(round(patch.get_height(), 3) for patch in generators.patches)
    assert heights == [10.0, 15.0, 20.0, 90.0] and generators.get_ylim()[0] == 0.0
    gains = sorted(round(patch.get_height(), 3) for patch in restorers.patches)
    assert gains == [-1.0, 1.5, 3.4, 6.0]
    assert [text.get_text() for text in restorers.get_legend().get_texts()] == ["digits", "clothes"]
    with pytest.raises(ValueError, match="generation rows and restoration rows"):
        generalisation.plot_tables([], restoration)
