"""course_lib.diffusion_restoration and DiffusionBase.denoiser_vjp on a tiny untrained model: the
contracts (shapes, known pixels kept, reproducible draws, the Restorer wrapper) and the backpropagated
vector-Jacobian product against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import degradations as deg
from course_lib import diffusion, diffusion_restoration as dr
from course_lib import diffusion_theory as theory
from course_lib import posterior_sampling as ps
from tests.conftest import perturb_weights


@pytest.fixture(scope="module")
def model():
    config = diffusion.DiffusionConfig(widths=(8, 16), embedding_dim=16, groups=4, num_classes=0)
    return perturb_weights(diffusion.build_diffusion(config))


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
    options = dict(num_samples=2, algorithm=algorithm, num_steps=3, seed=4)
    if algorithm == "dps" or name in ("blur", "down_4"):
        options["step_size"] = 0.5
    samples = dr.restore_samples(model, damaged, **options)
    assert samples.shape == (3, 2, 28, 28, 1) and samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, dr.restore_samples(model, damaged, **options))
    assert not np.array_equal(samples[:, 0], samples[:, 1])                  # two draws, two restorations
    if damaged.mask is not None:
        known = damaged.mask[:, None].repeat(2, axis=1) == 1
        np.testing.assert_allclose(samples[known], np.repeat(damaged.images[:, None], 2, axis=1)[known], atol=1e-6)


class MixtureImages:
    """A stand-in model on 6 x 6 images whose prior is a Gaussian mixture: its denoiser is exact."""

    scale_images = True
    data_shape = (6, 6, 1)

    def __init__(self):
        rng = np.random.default_rng(3)
        self.schedule = theory.Schedule("straight")
        self.mixture = theory.GaussianMixture([0.6, 0.4], 0.4 * rng.uniform(-1, 1, (2, 36)), [0.15, 0.2])

    def denoiser(self):
        flat = self.mixture.denoiser(self.schedule)
        return lambda x, t: tuple(value.reshape(x.shape) for value in flat(x.reshape(len(x), -1), t))

    def denoiser_vjp(self):
        flat = ps.mixture_denoiser_vjp(self.mixture, self.schedule)

        def denoiser_vjp(x, t, cotangent):
            outputs = flat(x.reshape(len(x), -1), t, lambda x0: cotangent(x0.reshape(x.shape)).reshape(len(x), -1))
            return tuple(value.reshape(x.shape) for value in outputs)
        return denoiser_vjp


def test_matched_noise_restoration_maps_the_damage_into_the_model_space_and_back():
    stand_in = MixtureImages()
    clean_model_space, _ = stand_in.mixture.sample(2, seed=4)                   # (2, 36) in [-1, 1]
    noise_std = 0.1                                                           # on the [0, 1] scale
    noisy = (clean_model_space + 1.0) / 2.0 + noise_std * np.random.default_rng(5).standard_normal((2, 36))
    damaged = deg.Damaged(noisy.reshape(2, 6, 6, 1).astype(np.float32), None, deg.get_degradation("noise_0.1"))
    samples = dr.restore_samples(stand_in, damaged, num_samples=400, num_steps=100, seed=6)
    posterior = ps.exact_posterior(stand_in.mixture, np.eye(36), 2.0 * noisy - 1.0, 2.0 * noise_std)
    expected = (posterior.mean() + 1.0) / 2.0                                 # back on the [0, 1] scale
    spread = np.sqrt(posterior.expected_squared_error() / 36 / 400)[:, None] / 2.0
    np.testing.assert_allclose(samples.mean(axis=1).reshape(2, 36), expected, atol=float(5 * spread.max()))


def test_dps_fits_the_blurred_digit_better_than_unguided_sampling(model, digits):
    damaged = deg.get_degradation("blur").apply(digits, seed=0)
    apply, _ = deg.linear_operator("blur")
    errors = {step: np.abs(apply(dr.restore_samples(model, damaged, algorithm="dps", num_steps=16, step_size=step,
                                                    seed=7)[:, 0]) - damaged.images).mean() for step in (0.0, 2.0)}
    assert errors[2.0] < 0.7 * errors[0.0], errors


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
    with pytest.raises(ValueError, match="step_size is an option of 'dps', not of 'repaint'"):
        dr.restore_samples(model, deg.get_degradation("hole_12").apply(digits), algorithm="repaint", step_size=1.0)
    with pytest.raises(ValueError, match="resample is an option of 'repaint'"):
        dr.restore_samples(model, blurred, resample=4)
    with pytest.raises(ValueError, match="handles hole, missing.*not 'salt_pepper_10'"):
        dr.restore_samples(model, deg.get_degradation("salt_pepper_10").apply(digits))
    with pytest.raises(ValueError, match=r"should be \(28, 28, 1\); got \(14, 14, 1\)"):
        dr.restore_samples(model, deg.get_degradation("noise_0.3").apply(digits[:, ::2, ::2]))
    with pytest.raises(ValueError, match="cotangent"):
        model.denoiser_vjp()(np.zeros((1, 28, 28, 1)), 0.5, lambda x0: x0[:, :7])


def test_every_kind_of_damage_has_a_tuned_dps_step_and_the_default_uses_it(model, digits, monkeypatch):
    assert set(dr.DEFAULT_ALGORITHM) <= set(dr.DPS_STEP_SIZES)
    assert all(value > 0 for value in dr.DPS_STEP_SIZES.values())
    assert dr.dps_step_size(deg.get_degradation("down_4")) == dr.DPS_STEP_SIZES["down_4"]
    assert dr.dps_step_size(deg.get_degradation("hole_8")) == dr.DPS_STEP_SIZES["hole"]   # untuned: its kind's
    damaged = deg.get_degradation("blur").apply(digits[:2], seed=0)
    tuned = dr.restore_samples(model, damaged, algorithm="dps", num_steps=3, seed=1)
    explicit = dr.restore_samples(model, damaged, algorithm="dps", num_steps=3, seed=1,
                                  step_size=dr.DPS_STEP_SIZES["blur"])
    np.testing.assert_array_equal(tuned, explicit)
    monkeypatch.setitem(dr.DPS_STEP_SIZES, "blur", 0.0)     # no guidance: another result
    assert not np.array_equal(dr.restore_samples(model, damaged, algorithm="dps", num_steps=3, seed=1), tuned)


def test_the_step_size_lookup_names_what_it_needs():
    with pytest.raises(TypeError, match="Degradation"):
        dr.dps_step_size("blur")
    with pytest.raises(ValueError, match="no step size for 'salt_pepper_10'"):
        dr.dps_step_size(deg.get_degradation("salt_pepper_10"))
