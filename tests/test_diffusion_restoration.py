"""course_lib.diffusion_restoration and DiffusionBase.denoiser_vjp on a tiny untrained model: the
contracts (shapes, known pixels kept, reproducible draws, the Restorer wrapper) and the backpropagated
vector-Jacobian product against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import degradations as deg
from course_lib import diffusion, diffusion_restoration as dr


@pytest.fixture(scope="module")
def model():
    config = diffusion.DiffusionConfig(widths=(8, 16), embedding_dim=16, groups=4, num_classes=0)
    built = diffusion.build_diffusion(config)
    rng = np.random.default_rng(0)
    for network in (built.network, built.ema_network):      # an untrained, zero-headed network is the identity
        for weight, value in zip(network.weights, built.network.get_weights()):
            weight.assign(value + 0.05 * rng.standard_normal(value.shape).astype(value.dtype))
    return built


@pytest.fixture(scope="module")
def digits():
    from course_lib import data

    return data.load_dataset("mnist", source="subset", verbose=False).x_test[:3]


def test_the_backpropagated_product_matches_finite_differences(model):
    rng = np.random.default_rng(1)
    x, v, u = (rng.standard_normal((2, 28, 28, 1)) for _ in range(3))
    t, step = 0.6, 1e-2
    x0_hat, eps_hat, product = model.denoiser_vjp()(x, t, lambda _: v)
    expected_x0, expected_eps = model.denoiser()(x, t)
    np.testing.assert_allclose(x0_hat, expected_x0, atol=1e-6)
    np.testing.assert_allclose(eps_hat, expected_eps, atol=1e-6)
    denoise = model.denoiser()
    directional = (denoise(x + step * u, t)[0] - denoise(x - step * u, t)[0]) / (2 * step)   # J u
    for index in range(2):                                                   # u . J^T v = (J u) . v
        assert np.sum(u[index] * product[index]) == pytest.approx(np.sum(directional[index] * v[index]), rel=2e-2)
    assert not np.allclose(product, v)                                       # the network is not the identity


@pytest.mark.parametrize("name, algorithm", [("hole_12", "repaint"), ("missing_50", "dps"), ("noise_0.3", None),
                                             ("blur", None), ("down_4", "dps")])
def test_restorations_have_the_clean_shape_stay_in_range_and_repeat_with_the_seed(model, digits, name, algorithm):
    damaged = deg.get_degradation(name).apply(digits, seed=0)
    options = dict(num_samples=2, algorithm=algorithm, num_steps=3, step_size=0.5, seed=4)
    samples = dr.restore_samples(model, damaged, **options)
    assert samples.shape == (3, 2, 28, 28, 1) and samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, dr.restore_samples(model, damaged, **options))
    assert not np.array_equal(samples[:, 0], samples[:, 1])                  # two draws, two restorations
    if algorithm == "repaint":
        known = damaged.mask[:, None].repeat(2, axis=1) == 1
        np.testing.assert_allclose(samples[known], np.repeat(damaged.images[:, None], 2, axis=1)[known], atol=1e-6)


def test_the_restorer_averages_its_samples_and_keeps_the_contract(model, digits):
    damaged = deg.get_degradation("hole_12").apply(digits, seed=0)
    restorer = dr.diffusion_restorer(model, num_samples=3, num_steps=2, seed=5)
    assert restorer.name == "diffusion, mean of 3" and restorer.slow and restorer.can_restore("blur")
    np.testing.assert_allclose(restorer(damaged), dr.restore_samples(model, damaged, num_samples=3, num_steps=2,
                                                                     seed=5).mean(axis=1), atol=1e-6)
    only_holes = dr.diffusion_restorer(model, algorithm="repaint", num_steps=2)
    assert only_holes.name == "diffusion, 1 sample" and not only_holes.can_restore("blur")


def test_bad_requests_are_refused_with_what_would_work(model, digits):
    blurred = deg.get_degradation("blur").apply(digits)
    with pytest.raises(ValueError, match="'repaint' cannot restore 'blur'.*Use 'dps'"):
        dr.restore_samples(model, blurred, algorithm="repaint")
    with pytest.raises(ValueError, match="Unknown restoration algorithm 'ddrm'"):
        dr.restore_samples(model, blurred, algorithm="ddrm")
    with pytest.raises(TypeError, match="Damaged batch"):
        dr.restore_samples(model, blurred.images)
    with pytest.raises(ValueError, match="num_samples"):
        dr.restore_samples(model, blurred, num_samples=0)
    with pytest.raises(ValueError, match="step_size"):
        dr.restore_samples(model, blurred, step_size=-1.0)
    with pytest.raises(ValueError, match="cotangent"):
        model.denoiser_vjp()(np.zeros((1, 28, 28, 1)), 0.5, lambda x0: x0[:, :7])
