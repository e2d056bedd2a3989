"""Notebook 07's exercises: each reference solution agrees with the library code it teaches
(``course_lib.diffusion_theory`` and ``course_lib.diffusion``), and each check rejects the
plausible mistakes on every seed while the reference passes on every seed."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import diffusion_theory as theory
from course_lib import exercises, solutions


def test_training_pair_is_the_straight_path_and_its_velocity():
    rng = np.random.default_rng(0)
    images, noise, t = rng.random((5, 28, 28, 1)), rng.standard_normal((5, 28, 28, 1)), rng.random(5)
    x_t, target = solutions.velocity_training_pair(images, noise, t)
    schedule = theory.Schedule("straight")
    x_0 = 2 * images - 1
    np.testing.assert_allclose(x_t, theory.forward_sample(x_0, t, schedule, noise), rtol=1e-12)
    _, _, d_alpha, d_sigma = schedule.coefficients(t)
    np.testing.assert_allclose(target, d_alpha[:, None, None, None] * x_0 + d_sigma[:, None, None, None] * noise)
    # the target is the time derivative of the path: a finite difference in t agrees
    later, _ = solutions.velocity_training_pair(images, noise, t + 1e-6)
    np.testing.assert_allclose((later - x_t) / 1e-6, target, rtol=1e-5, atol=1e-6)


def test_guided_velocity_interpolates_at_0_and_1_and_extrapolates_beyond():
    rng = np.random.default_rng(1)
    conditional, unconditional = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(solutions.guided_velocity(conditional, unconditional, 1.0), conditional,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(solutions.guided_velocity(conditional, unconditional, 0.0), unconditional)
    guided = solutions.guided_velocity(conditional, unconditional, 3.0)
    np.testing.assert_allclose(guided - conditional, 2.0 * (conditional - unconditional), rtol=1e-12)


def test_euler_sampler_is_the_library_sampler_on_the_straight_path():
    rng = np.random.default_rng(2)
    noise = rng.standard_normal((6, 2))
    mixture = theory.GaussianMixture([0.3, 0.7], [[-2.0, 0.0], [2.0, 1.0]], [0.3, 0.5])
    schedule = theory.Schedule("straight")

    def velocity(x, t):
        return mixture.velocity(x, t, schedule)

    for num_steps in (1, 3, 8):
        expected = theory.sample(mixture.denoiser(schedule), noise, schedule, num_steps=num_steps, method="euler")
        np.testing.assert_allclose(solutions.euler_flow_sampler(velocity, noise, num_steps), expected,
                                   rtol=1e-10, atol=1e-12)


def _no_scaling(images, noise, t):
    t = t.reshape(-1, 1, 1, 1)
    return (1 - t) * images + t * noise, noise - images


def _swapped_ends(images, noise, t):
    x_0, t = 2 * images - 1, t.reshape(-1, 1, 1, 1)
    return t * x_0 + (1 - t) * noise, x_0 - noise


def _target_sign(images, noise, t):
    x_t, target = solutions.velocity_training_pair(images, noise, t)
    return x_t, -target


def _noise_target(images, noise, t):
    return solutions.velocity_training_pair(images, noise, t)[0], noise


def _time_on_the_last_axis(images, noise, t):
    x_0 = 2 * images - 1
    return (1 - t) * x_0 + t * noise, noise - x_0     # (N,) broadcasts against the channel axis


def _euler_velocity_at_the_end(velocity, noise, num_steps):
    times, x = np.linspace(1.0, 0.0, num_steps + 1), noise
    for t, s in zip(times[:-1], times[1:]):
        x = x + (s - t) * velocity(x, s)
    return x


def _euler_one_step_short(velocity, noise, num_steps):
    times, x = np.linspace(1.0, 0.0, num_steps), noise
    for t, s in zip(times[:-1], times[1:]):
        x = x + (s - t) * velocity(x, t)
    return x


def _euler_forwards_in_time(velocity, noise, num_steps):
    times, x = np.linspace(1.0, 0.0, num_steps + 1), noise
    for t, s in zip(times[:-1], times[1:]):
        x = x + (t - s) * velocity(x, t)
    return x


def _euler_step_index_as_time(velocity, noise, num_steps):
    x = noise
    for step in range(num_steps):
        x = x - velocity(x, step) / num_steps
    return x


MISTAKES = [
    ("velocity_training_pair", _no_scaling),
    ("velocity_training_pair", _swapped_ends),
    ("velocity_training_pair", _target_sign),
    ("velocity_training_pair", _noise_target),
    ("velocity_training_pair", _time_on_the_last_axis),
    ("guided_velocity", lambda conditional, unconditional, weight: (1 + weight) * conditional - weight * unconditional),
    ("guided_velocity", lambda conditional, unconditional, weight: conditional + weight * (unconditional - conditional)),
    ("guided_velocity", lambda conditional, unconditional, weight: weight * conditional),
    ("euler_flow_sampler", _euler_velocity_at_the_end),
    ("euler_flow_sampler", _euler_one_step_short),
    ("euler_flow_sampler", _euler_forwards_in_time),
    ("euler_flow_sampler", _euler_step_index_as_time),
]


@pytest.mark.parametrize("name, mistake", MISTAKES, ids=[f"{name}-{index}" for index, (name, _) in enumerate(MISTAKES)])
def test_notebook_07_checks_reject_plausible_mistakes_on_every_seed(name, mistake):
    assert not any(exercises.check(name, mistake, seed=seed, verbose=False).passed for seed in range(30))


@pytest.mark.parametrize("name", ["velocity_training_pair", "guided_velocity", "euler_flow_sampler"])
def test_notebook_07_references_pass_on_every_seed_and_stubs_are_not_attempted(name):
    assert exercises.EXERCISES[name].notebook == "07_diffusion_mnist"
    assert all(exercises.check(name, getattr(solutions, name), seed=seed, verbose=False).passed for seed in range(30))

    def stub(*arguments):
        raise NotImplementedError

    assert exercises.check(name, stub, verbose=False).status == "not attempted"
