"""The figures notebook 07 draws from its sampler and guidance sweeps: one line and one point per
measurement, axes that say what they show, reference lines for real data, and a clear error on
input that would draw a wrong figure."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import viz


def sweep():
    return {"DDPM": ([1, 2, 4, 8], [900.0, 400.0, 120.0, 40.0]),
            "DDIM (eta 0)": ([1, 2, 4, 8], [800.0, 300.0, 90.0, 30.0]),
            "Euler": ([1, 2, 4, 8], [800.0, 300.0, 90.0, 30.0]),
            "Heun": ([1, 3, 7, 15], [800.0, 150.0, 20.0, 8.0])}


def test_quality_vs_calls_draws_every_sampler_and_keeps_coinciding_curves_apart():
    figure = viz.plot_quality_vs_network_calls(sweep(), floor=1.2, title="steps")
    axis, = figure.axes
    assert axis.get_xscale() == "log" and axis.get_xlabel() == "network calls per sample"
    assert axis.get_yscale() == "log"  # 800 / 1.2 spans far more than a factor of 20
    lines = {line.get_label(): line for line in axis.lines}
    assert set(lines) == {"DDPM", "DDIM (eta 0)", "Euler", "Heun", "real-vs-real floor"}
    np.testing.assert_allclose(lines["Heun"].get_xdata(), [1, 3, 7, 15])
    np.testing.assert_allclose(lines["Euler"].get_ydata(), [800, 300, 90, 30])
    ddim, euler = lines["DDIM (eta 0)"], lines["Euler"]
    assert (ddim.get_linestyle(), ddim.get_marker()) != (euler.get_linestyle(), euler.get_marker())
    assert ddim.get_color() != euler.get_color()
    np.testing.assert_allclose(lines["real-vs-real floor"].get_ydata(), [1.2, 1.2])
    assert sorted(float(tick) for tick in axis.get_xticks()) == [1, 2, 3, 4, 7, 8, 15]


def test_quality_vs_calls_labels_only_one_of_two_nearly_equal_call_counts():
    figure = viz.plot_quality_vs_network_calls({"Euler": ([1, 16, 32], [9.0, 5.0, 4.0]),
                                                "Heun": ([1, 15, 31], [9.0, 3.0, 2.0])})
    assert [float(tick) for tick in figure.axes[0].get_xticks()] == [1, 15, 31]
    np.testing.assert_allclose(figure.axes[0].lines[0].get_xdata(), [1, 16, 32])   # the points stay where measured


def test_quality_vs_calls_keeps_a_linear_axis_for_a_narrow_range():
    figure = viz.plot_quality_vs_network_calls({"Heun": ([1, 3], [10.0, 5.0])})
    assert figure.axes[0].get_yscale() == "linear" and len(figure.axes[0].lines) == 1


@pytest.mark.parametrize("results, message", [
    ({}, "non-empty dict"),
    ([([1], [2.0])], "non-empty dict"),
    ({"Euler": [1, 2, 3]}, "pair"),
    ({"Euler": ([1, 2], [3.0])}, "one quality per"),
    ({"Euler": ([0, 2], [3.0, 1.0])}, "at least 1"),
    ({"Euler": ([1, 2], [3.0, np.nan])}, "finite"),
])
def test_quality_vs_calls_rejects_bad_results(results, message):
    with pytest.raises(ValueError, match=message):
        viz.plot_quality_vs_network_calls(results)


def test_guidance_trade_off_has_two_panels_sorted_by_weight_with_their_references():
    figure = viz.plot_guidance_trade_off([2, 0, 1], [30.0, 60.0, 20.0], [0.97, 0.6, 0.9], floor=1.2,
                                         clean_recognition=0.99, title="guidance")
    left, right = figure.axes
    assert left.get_xlabel() == right.get_xlabel() == "guidance weight w"
    assert (left.get_ylabel(), right.get_ylabel()) == ("FID (evaluator)", "recognition rate")
    np.testing.assert_allclose(left.lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_allclose(left.lines[0].get_ydata(), [60, 20, 30])
    np.testing.assert_allclose(right.lines[0].get_ydata(), [0.6, 0.9, 0.97])
    np.testing.assert_allclose(left.lines[1].get_ydata(), [1.2, 1.2])
    np.testing.assert_allclose(right.lines[1].get_ydata(), [0.99, 0.99])
    assert right.get_ylim()[0] == 0 and figure._suptitle.get_text() == "guidance"
    assert right.lines[1].get_label() == "real held-out digits"
    clothes = viz.plot_guidance_trade_off([0, 1], [60.0, 20.0], [0.6, 0.9], clean_recognition=0.9, items="garments")
    assert clothes.axes[1].lines[1].get_label() == "real held-out garments"


@pytest.mark.parametrize("arguments, message", [
    (([0, 1], [1.0], [0.5, 0.6]), "one value per weight"),
    (([-1, 1], [1.0, 2.0], [0.5, 0.6]), "weights >= 0"),
    (([0, 1], [1.0, 2.0], [50.0, 60.0]), "fractions"),
    (([], [], []), "non-empty"),
])
def test_guidance_trade_off_rejects_bad_input(arguments, message):
    with pytest.raises(ValueError, match=message):
        viz.plot_guidance_trade_off(*arguments)


@pytest.mark.parametrize("items", ["", "  ", None, 3])
def test_guidance_trade_off_refuses_items_that_name_nothing(items):
    with pytest.raises(ValueError, match="items must name the images"):
        viz.plot_guidance_trade_off([0, 1], [60.0, 20.0], [0.6, 0.9], items=items)
