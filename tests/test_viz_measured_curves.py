"""The figures notebook 13 draws from its measurements: axes, labels and one artist per measured
point or run, so that a figure cannot silently drop a run or mislabel an axis."""

from __future__ import annotations

import types

import numpy as np
import pytest

from course_lib import viz


def history(loss, val_loss, updates=None):
    result = types.SimpleNamespace(history={"loss": list(loss), "val_loss": list(val_loss)})
    if updates is not None:
        result.updates = updates
    return result


def test_training_and_validation_curves_put_each_run_on_the_updates_axis():
    runs = {"500 digits": history([3, 2, 1, 0.5], [3, 2.5, 2.6, 2.8], updates=400),
            "augmented": history([3, 2.5, 2], [3, 2.4, 2.2], updates=420)}
    figure = viz.plot_training_and_validation(runs, units="MSE", title="gap")
    axis, = figure.axes
    assert (axis.get_xlabel(), axis.get_ylabel(), axis.get_title()) == ("updates", "MSE", "gap")
    assert len(axis.lines) == 4  # training and validation per run
    first_training, first_validation = axis.lines[:2]
    np.testing.assert_allclose(first_training.get_xdata(), [100, 200, 300, 400])  # updates at each epoch's end
    np.testing.assert_allclose(first_validation.get_ydata(), [3, 2.5, 2.6, 2.8])
    assert first_training.get_color() == first_validation.get_color() and first_training.get_linestyle() == "--"
    assert [text.get_text() for text in axis.get_legend().get_texts()][:2] == ["500 digits: training",
                                                                              "500 digits: validation"]
    epochs = viz.plot_training_and_validation({"plain": history([2, 1], [2, 1.5])})
    assert epochs.axes[0].get_xlabel() == "epoch" and list(epochs.axes[0].lines[0].get_xdata()) == [1, 2]


def test_distance_histograms_share_their_bins():
    rng = np.random.default_rng(0)
    reference = rng.normal(8, 1, 500)
    figure = viz.plot_distance_histograms(reference, {"DCGAN": rng.normal(8.5, 1, 300), "VAE": rng.normal(9, 1, 300)},
                                          bins=20, title="memorisation")
    axis, = figure.axes
    assert axis.get_ylabel() == "density" and "nearest training digit" in axis.get_xlabel()
    assert len(axis.patches) == 20 + 2  # 20 filled bars for the reference, one outline per sample set
    bars = axis.patches[:20]
    assert bars[0].get_x() == pytest.approx(0.0, abs=1e-12) and sum(bar.get_height() * bar.get_width() for bar in bars) == pytest.approx(1.0)


def test_quality_vs_data_marks_every_size_its_baselines_and_the_highlight():
    figure = viz.plot_quality_vs_data([250, 500, 2000, 8000], [15.0, 16.5, 18.0, 19.5], label="U-Net",
                                      baselines={"biharmonic": 14.9, "damaged input": 12.4},
                                      highlight=(8000, 21.1, "shipped U-Net"))
    axis, = figure.axes
    assert axis.get_xscale() == "log" and axis.get_ylabel() == "held-out PSNR (dB)"
    assert [tick.get_text() for tick in axis.get_xticklabels()] == ["250", "500", "2,000", "8,000"]
    assert len(axis.lines) == 3 and [line.get_ydata()[0] for line in axis.lines[1:]] == [14.9, 12.4]
    assert len(axis.collections) == 1 and axis.collections[0].get_offsets().tolist() == [[8000, 21.1]]
    with pytest.raises(ValueError, match="one to one"):
        viz.plot_quality_vs_data([250, 500], [15.0], label="U-Net")


def test_cost_vs_size_draws_the_proportional_line_through_the_largest_model():
    figure = viz.plot_cost_vs_size([1_000, 4_000, 16_000], [2.0, 3.0, 8.0], [8, 16, 32], title="cost")
    axis, = figure.axes
    assert (axis.get_xscale(), axis.get_yscale(), axis.get_xlabel()) == ("log", "log", "parameters")
    measured, proportional = axis.lines
    np.testing.assert_allclose(proportional.get_ydata(), [0.5, 2.0, 8.0])  # 8 ms / 16,000 parameters each
    assert [text.get_text() for text in axis.texts] == ["8", "16", "32"]
    with pytest.raises(ValueError, match="one label each"):
        viz.plot_cost_vs_size([1_000, 4_000], [2.0, 3.0], [8])
    with pytest.raises(ValueError, match="finite numbers"):
        viz.plot_cost_vs_size([], [], [])
