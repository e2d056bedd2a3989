"""The compute-matched generation benchmark: training time measured the same way for every family
(``training.MeasureAtSeconds``), measurements at the budgets asked for and never counted as
training, a table with one line per family and budget whose best FID is the lowest measured up
to there, and the figure with one curve per family."""

from __future__ import annotations

import importlib.util

import keras
import numpy as np
import pytest

from course_lib import training, viz
from tests.conftest import ROOT
from tests.test_training import FakeClock, slow_epoch_ends, tiny_data, tiny_model


def load_benchmark():
    spec = importlib.util.spec_from_file_location("generation_benchmark",
                                                  ROOT / "benchmarks" / "generation_benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ the measuring callback

def test_measurements_come_after_the_budgets_and_are_not_counted_as_training(tmp_path):
    clock = FakeClock()
    calls = []

    def measure(model, reached):
        calls.append((model, reached))
        clock.now += 50.0                 # measuring takes 50 s of wall time
        return {"score": len(calls)}

    # 32 examples in batches of 8: 4 one-second steps per epoch, 100 s of other work after each epoch
    measurer = training.MeasureAtSeconds(measure, [6, 2, 7], stop=True, clock=clock)
    model = tiny_model()
    history = training.resumable_fit(model, tiny_data(), epochs=10, batch_size=8, config={"m": 1}, workdir=tmp_path,
                                     verbose=0, callbacks=[slow_epoch_ends(clock), measurer])
    assert measurer.requested == (2.0, 6.0, 7.0)
    assert [point["training_seconds"] for point in measurer.points] == [4.0, 7.0]   # not 4 + 150 + ...
    assert [point["reached"] for point in measurer.points] == [[2.0], [6.0, 7.0]]   # epoch 2 crossed two
    assert [(point["epoch"], point["batches"], point["score"]) for point in measurer.points] == [(1, 4, 1), (2, 7, 2)]
    assert all(called is model for called, _ in calls)
    assert len(history.history["loss"]) == 2 and measurer.training_seconds == 7.0  # stopped at the last budget


def test_a_run_that_ends_before_a_budget_is_measured_once_more_at_its_end(tmp_path):
    clock = FakeClock()
    measurer = training.MeasureAtSeconds(lambda model, reached: {"reached_now": list(reached)}, [2, 100], clock=clock)
    training.resumable_fit(tiny_model(), tiny_data(), epochs=2, batch_size=8, config={"m": 2}, workdir=tmp_path,
                           verbose=0, callbacks=[slow_epoch_ends(clock), measurer])
    assert [(point["training_seconds"], point["reached"]) for point in measurer.points] == [(4.0, [2.0]), (8.0, [])]
    assert measurer.pending == [100.0]


@pytest.mark.parametrize("seconds", [[], [0], [5, -1], "60", 60, [True]])
def test_measure_at_seconds_needs_positive_seconds(seconds):
    with pytest.raises(ValueError, match="seconds"):
        training.MeasureAtSeconds(lambda model, reached: {}, seconds)


def test_measure_at_seconds_needs_a_function_that_returns_a_dict():
    with pytest.raises(TypeError, match="measure must be a function"):
        training.MeasureAtSeconds("fid", [10])
    measurer = training.MeasureAtSeconds(lambda model, reached: 3.0, [1], clock=lambda: 5.0)
    measurer.set_model(keras.Sequential())
    measurer.on_epoch_begin(0)
    measurer.training_seconds = 2.0
    with pytest.raises(TypeError, match="must return a dict"):
        measurer.on_epoch_end(0)


def test_the_flow_models_fid_curve_is_measured_at_its_seconds_with_its_updates(tmp_path, capsys):
    from course_lib import data, diffusion
    from course_lib.evaluator import load_evaluator

    evaluator, _ = load_evaluator()
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    ticks = iter(np.arange(1e6))
    curve = diffusion.FIDOverTraining(evaluator, mnist.x_test[:100], seconds=(2, 1), num_samples=8,
                                      clock=lambda: float(next(ticks)))
    config = diffusion.DiffusionConfig(widths=(8,), embedding_dim=8, groups=4, batch_size=32, epochs=3)
    model, _ = diffusion.train_diffusion(config, mnist.x_train[:64], mnist.y_train[:64], callbacks=[curve],
                                         workdir=tmp_path, verbose=0)
    # two one-"second" batches per epoch: epoch 1 ends at 2 s, past both
    assert curve.table() == [{"training_seconds": 2.0, "epoch": 1, "updates": 2, "fid": curve.points[0]["fid"],
                              "num_samples": 8}]
    assert curve.points[0]["fid"] > 0 and "epoch 1: 2 s trained" in capsys.readouterr().out


# ------------------------------------------------------------------------- the benchmark

def test_measurement_points_are_the_budgets_and_a_grid_up_to_the_largest():
    benchmark = load_benchmark()
    assert benchmark.measurement_seconds([300, 1800], 600) == [300.0, 600.0, 1200.0, 1800.0]
    assert benchmark.measurement_seconds([30], 0) == [30.0]
    with pytest.raises(ValueError, match="every"):
        benchmark.measurement_seconds([30], -1)
    with pytest.raises(ValueError, match="seconds"):
        benchmark.measurement_seconds([0, 30], 10)


def test_each_budget_row_is_its_first_point_and_the_best_fid_up_to_there():
    benchmark = load_benchmark()
    points = [{"training_seconds": seconds, "reached": reached, "fid": fid, "num_samples": count,
               "precision": 0.5, "recall": 0.4}
              for seconds, reached, fid, count in [(152, [150.0], 40.0, 1000), (301, [300.0], 30.0, 2000),
                                                   (455, [450.0], 25.0, 1000), (1801, [1800.0], 60.0, 2000)]]
    early, late = benchmark.budget_rows(points, [300.0, 1800.0])   # a GAN: best early, worse late
    assert (early["training_seconds"], early["fid"], early["best_fid"], early["best_training_seconds"]) == (
        301, 30.0, 30.0, 301)
    assert (late["fid"], late["best_fid"], late["best_training_seconds"], late["best_num_samples"]) == (
        60.0, 25.0, 455, 1000)


@pytest.mark.slow
def test_the_race_measures_every_family_at_every_budget_on_a_fake_clock():
    from course_lib import data
    from course_lib.evaluator import load_evaluator

    benchmark = load_benchmark()
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    evaluator, _ = load_evaluator()
    reference = evaluator.features(mnist.x_test[:200])
    ticks = iter(np.arange(1e6))
    # every clock reading is one second later: each training batch takes one "second"
    results = benchmark.race(list(benchmark.families()), mnist.x_train[:64], evaluator, reference,
                             budgets=[3, 2], every=1.0, samples=12, curve_samples=8, timed=4,
                             clock=lambda: float(next(ticks)), verbose=False)
    assert list(results) == ["dcgan", "vae", "diffusion", "flow"]
    for name, result in results.items():
        rows, points = result["rows"], result["points"]
        assert [row["budget_seconds"] for row in rows] == [2.0, 3.0]
        assert all(row["training_seconds"] >= row["budget_seconds"] for row in rows)
        assert [point["num_samples"] for point in points if point["reached"]][-1] == 12  # budgets: --samples
        for row in rows:
            assert np.isfinite(row["fid"]) and row["fid"] > 0 and row["best_fid"] <= row["fid"]
            assert 0 <= row["precision"] <= 1 and 0 <= row["recall"] <= 1
        assert result["milliseconds_per_image"] > 0 and result["parameters"] > 0
        assert result["recipe"]["seed"] == 0 and result["recipe"]["max_seconds"] is None
    assert results["flow"]["recipe"]["num_classes"] == results["diffusion"]["recipe"]["num_classes"] == 0
    assert (results["diffusion"]["recipe"]["schedule"], results["flow"]["recipe"]["schedule"]) == ("linear", "straight")
    table = benchmark.format_table(results, floor=1.2).splitlines()
    assert len(table) == 2 + 2 * 4 + 1 and all(line.count("|") == len(benchmark.TABLE_COLUMNS) + 1 for line in table)
    assert table[-1].startswith("| real vs real (floor) | | 1.20 |")
    with pytest.raises(ValueError, match="unknown families"):
        benchmark.race(["stylegan"], mnist.x_train[:64], evaluator, reference, budgets=[1])


# ---------------------------------------------------------------------------- the figure

def test_fid_over_training_draws_one_curve_per_family_with_floor_budgets_and_best_points():
    curves = {"DCGAN": ([150, 300, 1800], [40.0, 30.0, 60.0]), "flow matching": ([300, 1800], [20.0, 5.0])}
    figure = viz.plot_fid_over_training(curves, floor=1.2, budgets=[300, 1800], title="race")
    axis, = figure.axes
    assert (axis.get_xlabel(), axis.get_yscale(), axis.get_title()) == (
        "training seconds (inside epochs)", "log", "race")
    curve_lines = [line for line in axis.lines if line.get_label() in curves]
    assert [line.get_label() for line in curve_lines] == ["DCGAN", "flow matching"]
    np.testing.assert_allclose(curve_lines[0].get_ydata(), [40.0, 30.0, 60.0])
    assert sorted(line.get_xdata()[0] for line in axis.lines if line.get_linestyle() == ":") == [300, 1800]
    assert [float(line.get_ydata()[0]) for line in axis.lines if line.get_linestyle() == "--"] == [1.2]
    rings = [collection.get_offsets()[0].tolist() for collection in axis.collections]
    assert rings == [[300.0, 30.0], [1800.0, 5.0]]  # each curve's lowest FID, not its last
    assert axis.get_xlim()[0] == 0.0
    one_budget = viz.plot_fid_over_training({"DCGAN": ([300.0], [97.0]), "flow": ([300.4], [155.0])})
    low, high = one_budget.axes[0].get_xlim()
    assert low == 0.0 and high == pytest.approx(1.08 * 300.4)      # one point per family still reads as seconds since the start


@pytest.mark.parametrize("curves, message", [({}, "non-empty dict"), ([1, 2], "non-empty dict"),
                                             ({"a": [1, 2, 3]}, "pair"), ({"a": ([1, 2], [3.0])}, "as many"),
                                             ({"a": ([0, 2], [3.0, 2.0])}, "positive"),
                                             ({"a": ([1, 2], [3.0, np.nan])}, "finite")])
def test_fid_over_training_refuses_curves_it_cannot_draw(curves, message):
    with pytest.raises(ValueError, match=message):
        viz.plot_fid_over_training(curves)
