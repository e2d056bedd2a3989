"""Notebook 11's exercises: each reference solution agrees with the library code it teaches, and the
checks pass the references and fail the usual mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import diffusion_theory as theory
from course_lib import exercises, solutions
from course_lib import posterior_sampling as ps

NAMES = ("straight_matching_time", "sample_mean_and_spread", "mean_of_k_psnr_gain")


@pytest.mark.parametrize("noise_std", [0.0, 0.2, 0.6, 1.0, 2.5])
def test_the_closed_form_matching_time_equals_the_librarys_bisection(noise_std):
    assert solutions.straight_matching_time(noise_std) == pytest.approx(
        ps.matching_time(noise_std, theory.Schedule("straight")), abs=1e-9)


def test_the_mean_and_spread_reference_is_the_librarys():
    samples = np.random.default_rng(0).random((3, 5, 4, 4, 1))
    for mine, library in zip(solutions.sample_mean_and_spread(samples), ps.mean_and_spread(samples)):
        np.testing.assert_allclose(mine, library)


@pytest.mark.parametrize("k", [1, 2, 16, 1000])
def test_the_psnr_gain_reference_is_the_librarys(k):
    assert solutions.mean_of_k_psnr_gain(k) == pytest.approx(ps.sample_mean_psnr_gain(k))


@pytest.mark.parametrize("name", NAMES)
def test_the_references_pass_their_own_checks_on_many_seeds(name):
    assert exercises.EXERCISES[name].notebook == "11_diffusion_restoration"
    assert all(exercises.check(name, getattr(solutions, name), seed=seed, verbose=False).passed for seed in range(30))


@pytest.mark.parametrize("name, mistake", [
    ("straight_matching_time", lambda s: s),                                        # forgot 1 + s
    ("straight_matching_time", lambda s: s / (1 - s) if s < 1 else 1.0),            # solved the wrong way
    ("sample_mean_and_spread", lambda x: (x.mean(axis=1), x.std(axis=1))),          # ddof 0
    ("sample_mean_and_spread", lambda x: (x.mean(axis=0), x.std(axis=0, ddof=1))),  # the wrong axis
    ("mean_of_k_psnr_gain", lambda k: float(10 * np.log10(2))),                     # the limit, not k
    ("mean_of_k_psnr_gain", lambda k: float(10 * np.log10(1 + 1 / k))),             # the ratio upside down
])
def test_the_checks_catch_the_usual_mistakes(name, mistake):
    assert not exercises.check(name, mistake, seed=0, verbose=False).passed
