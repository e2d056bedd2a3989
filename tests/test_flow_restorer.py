"""course_lib.flow_restorer: the flow-matching restorer trained for the hole (notebook 11).

An oracle network whose denoised estimate is the damaged image checks the sampler's plumbing
exactly; a tiny untrained network checks the contracts (shapes, known pixels kept, reproducible
draws, the Restorer wrapper, bad input); the shipped weights are checked against their manifest."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_lib import degradations as deg
from course_lib import diffusion, flow_restorer as fr, training
from tests.conftest import perturb_weights


TINY = fr.FlowRestorerConfig(widths=(8, 16), embedding_dim=16, groups=4, epochs=1, batch_size=16)


@pytest.fixture(scope="module")
def tiny():
    return perturb_weights(fr.build_flow_restorer(TINY))


@pytest.fixture(scope="module")
def digits():
    from course_lib import data

    return data.load_dataset("mnist", source="subset", verbose=False)


def oracle_model():
    """A FlowRestorer whose velocity ``(x_t - c) / t`` makes the denoised estimate exactly ``c``, the
    damaged image (condition channel 0) mapped to [-1, 1]: every sample must come back as ``c``."""
    keras = diffusion.keras
    x_t = keras.Input((28, 28, 1), name="x_t")
    t = keras.Input((), name="t")
    condition = keras.Input((28, 28, 2), name="condition")
    target = condition[..., :1] * 2.0 - 1.0
    velocity = (x_t - target) / keras.ops.reshape(t, (-1, 1, 1, 1))
    return fr.FlowRestorer(keras.Model([x_t, t, condition], velocity), degradation="blur")


def test_the_sampler_gives_each_sample_its_own_damaged_image():
    model = oracle_model()
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    damaged = deg.get_degradation("blur").apply(images, seed=0)
    samples = fr.restore_samples(model, damaged, num_samples=4, num_steps=5, seed=3)
    assert samples.shape == (3, 4, 28, 28, 1)
    for index in range(3):        # the estimate x0 = c is exact, so every path ends on its own image
        np.testing.assert_allclose(samples[index], np.repeat(damaged.images[index:index + 1], 4, axis=0), atol=1e-5)


def test_the_unet_reads_a_condition_beside_x_t_and_only_then():
    plain = diffusion.build_unet((8, 16), embedding_dim=16, groups=4)
    conditioned = diffusion.build_unet((8, 16), embedding_dim=16, groups=4, condition_channels=2)
    assert [tensor.name for tensor in plain.inputs] == ["x_t", "t"]
    assert [tensor.name for tensor in conditioned.inputs] == ["x_t", "t", "condition"]
    assert tuple(conditioned.inputs[2].shape[1:]) == (28, 28, 2)
    # the two extra channels cost one 3x3 kernel per channel and stem filter, nothing else
    assert conditioned.count_params() - plain.count_params() == 2 * 9 * 8


def test_the_training_target_is_the_velocity_that_leads_back_to_the_clean_digit(digits):
    """A network that knows the clean digit (fed as its condition here) and predicts (x_t - x_0) / t,
    the velocity eps - x_0 of the straight path, must have zero loss: a wrong sign, scale or
    target would not."""
    keras = diffusion.keras
    x_t = keras.Input((28, 28, 1), name="x_t")
    t = keras.Input((), name="t")
    condition = keras.Input((28, 28, 2), name="condition")
    silent = keras.layers.Conv2D(1, 1, kernel_initializer="zeros", use_bias=False)(x_t)   # something to train
    velocity = (x_t - (condition[..., :1] * 2.0 - 1.0)) / keras.ops.reshape(t, (-1, 1, 1, 1)) + silent
    model = fr.FlowRestorer(keras.Model([x_t, t, condition], velocity))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    clean = digits.x_train[:128]
    knows_the_answer = np.concatenate([clean, np.ones_like(clean)], axis=-1)
    logs = model.train_step((diffusion.tf.constant(clean), diffusion.tf.constant(knows_the_answer)))
    assert float(logs["loss"]) < 1e-3, float(logs["loss"])


def test_the_first_loss_is_the_flow_matching_loss_of_a_silent_network(digits):
    """The head starts at zero, so the first batch's loss is E[(eps - x_0)^2] = 1 + E[x_0^2] with x_0
    the digits in [-1, 1]; a forgotten rescaling would miss it."""
    config = dataclasses.replace(TINY, batch_size=256)
    model = fr.build_flow_restorer(config)
    conditions, targets = fr.training_pairs(config, digits.x_train[:256])
    logs = model.train_step((diffusion.tf.constant(targets), diffusion.tf.constant(conditions)))
    expected = 1.0 + np.mean((targets * 2.0 - 1.0) ** 2)
    assert float(logs["loss"]) == pytest.approx(expected, rel=0.02)


def test_training_lowers_the_loss_and_resumes(digits, tmp_path):
    config = dataclasses.replace(TINY, epochs=3, batch_size=32)
    model, history = fr.train_flow_restorer(config, digits.x_train[:256], workdir=tmp_path, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 3 and losses[-1] < 0.8 * losses[0], losses
    longer, more = fr.train_flow_restorer(dataclasses.replace(config, epochs=4), digits.x_train[:256],
                                          workdir=tmp_path, verbose=0)
    assert more.history["loss"][:3] == losses and len(more.history["loss"]) == 4   # the same run, one epoch more


def test_the_training_pairs_are_the_digits_with_the_centre_hole_and_its_mask(digits):
    conditions, targets = fr.training_pairs(TINY, digits.x_train[:10])
    np.testing.assert_array_equal(targets, digits.x_train[:10])
    assert conditions.shape == (10, 28, 28, 2)
    mask = conditions[..., 1:]
    assert np.all(mask[:, 8:20, 8:20] == 0) and mask.sum() == 10 * (28 * 28 - 12 * 12)   # the 12 x 12 centre
    np.testing.assert_array_equal(conditions[..., :1], targets * mask)                   # what survived, only
    missing = dataclasses.replace(TINY, degradation="missing_50", num_copies=2)
    copies, _ = fr.training_pairs(missing, digits.x_train[:10])
    assert len(copies) == 20 and not np.array_equal(copies[:10, ..., 1], copies[10:, ..., 1])   # fresh damage
    held_out = deg.get_degradation("missing_50").apply(digits.x_train[:10], seed=0).mask[..., 0]
    assert not np.array_equal(copies[:10, ..., 1], held_out)           # never the benchmark's damage seed


def test_samples_keep_the_known_pixels_and_follow_the_seed(tiny, digits):
    damaged = deg.get_degradation("hole_12").apply(digits.x_test[:3], seed=0)
    samples = fr.restore_samples(tiny, damaged, num_samples=2, num_steps=3, seed=5)
    assert samples.shape == (3, 2, 28, 28, 1) and samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    known = np.repeat(damaged.mask, 2, axis=0).reshape(3, 2, 28, 28, 1) == 1
    np.testing.assert_array_equal(samples[known], np.repeat(damaged.images, 2, axis=0).reshape(3, 2, 28, 28, 1)[known])
    np.testing.assert_array_equal(samples, fr.restore_samples(tiny, damaged, num_samples=2, num_steps=3, seed=5))
    other = fr.restore_samples(tiny, damaged, num_samples=2, num_steps=3, seed=6)
    assert not np.allclose(other[~known], samples[~known])             # another seed, other completions
    assert not np.allclose(samples[:, 0][~known[:, 0]], samples[:, 1][~known[:, 1]])   # two samples differ


def test_the_restorer_is_the_mean_of_its_samples_for_its_own_damage(tiny, digits):
    damaged = deg.get_degradation("hole_12").apply(digits.x_test[:2], seed=0)
    restorer = fr.flow_restorer(tiny, num_samples=3, num_steps=2, seed=1)
    assert restorer.name == "trained flow, mean of 3" and restorer.slow
    assert fr.flow_restorer(tiny, num_steps=2).name == "trained flow, 1 sample"
    assert restorer.can_restore("hole_12") and not restorer.can_restore("blur")
    np.testing.assert_allclose(restorer(damaged), fr.restore_samples(tiny, damaged, num_samples=3, num_steps=2,
                                                                     seed=1).mean(axis=1), atol=1e-6)


def test_the_denoiser_reads_the_moving_average_unless_told_otherwise(tiny):
    model = fr.build_flow_restorer(TINY)          # head at zero: v = 0, so x0_hat = x_t - t v = x_t
    model.network.set_weights(tiny.network.get_weights())
    x = np.random.default_rng(2).standard_normal((2, 28, 28, 1))
    condition = np.zeros((2, 28, 28, 2))
    np.testing.assert_allclose(model.denoiser(condition)(x, 0.5)[0], x, atol=1e-6)
    assert not np.allclose(model.denoiser(condition, use_ema=False)(x, 0.5)[0], x, atol=1e-3)


def test_the_command_line_trains_the_recipe_and_refuses_what_it_could_not_reproduce(monkeypatch):
    given = []
    monkeypatch.setattr(fr, "train_and_save", lambda config: given.append(config) or {"metrics": {}})
    fr.main(["--train"])
    fr.main(["--train", "--epochs", "2"])
    assert given == [fr.SHIPPED_CONFIG, dataclasses.replace(fr.SHIPPED_CONFIG, epochs=2)]
    monkeypatch.undo()
    with pytest.raises(ValueError, match="also changes widths"):
        fr.train_and_save(dataclasses.replace(fr.SHIPPED_CONFIG, widths=(16, 32)))


def test_bad_input_gets_a_clear_error(tiny, digits):
    hole = deg.get_degradation("hole_12").apply(digits.x_test[:2], seed=0)
    blurred = deg.get_degradation("blur").apply(digits.x_test[:2], seed=0)
    with pytest.raises(ValueError, match="trained for 'hole_12', not 'blur'"):
        fr.restore_samples(tiny, blurred)
    with pytest.raises(TypeError, match="Damaged"):
        fr.restore_samples(tiny, digits.x_test[:2])
    with pytest.raises(TypeError, match="FlowRestorer"):
        fr.restore_samples(diffusion.build_diffusion(diffusion.DiffusionConfig(widths=(8,), embedding_dim=8,
                                                                               groups=4, num_classes=0)), hole)
    with pytest.raises(ValueError, match="num_samples"):
        fr.restore_samples(tiny, hole, num_samples=0)
    with pytest.raises(ValueError, match="sampler"):
        fr.restore_samples(tiny, hole, method="rk4")
    with pytest.raises(TypeError, match="denoiser\\(condition\\)"):
        tiny.denoiser()
    with pytest.raises(TypeError, match="not guidance"):
        tiny.denoiser(np.zeros((2, 28, 28, 2)), guidance=2.0)
    with pytest.raises(TypeError, match="not a prior for zero-shot"):
        tiny.denoiser_vjp()
    with pytest.raises(ValueError, match=r"should be \(28, 28, 1\); got damaged.images of shape \(14, 14, 1\)"):
        fr.restore_samples(tiny, deg.Damaged(hole.images[:, ::2, ::2], hole.mask[:, ::2, ::2], hole.degradation))
    with pytest.raises(ValueError, match="num_steps"):
        fr.restore_samples(tiny, hole, num_steps=0)
    with pytest.raises(ValueError, match="condition must be"):
        tiny.denoiser(np.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match="2 damaged images but was given 3"):
        tiny.denoiser(np.zeros((2, 28, 28, 2)))(np.zeros((3, 28, 28, 1)), 0.5)
    with pytest.raises(TypeError, match="restore_samples"):
        tiny.generate(4)
    with pytest.raises(ValueError, match="condition channels"):
        fr.FlowRestorer(diffusion.build_unet((8,), embedding_dim=8, groups=4))
    with pytest.raises(ValueError, match="Unknown degradation"):
        fr.FlowRestorerConfig(degradation="wobble_3")
    with pytest.raises(TypeError, match="degradation's name"):
        fr.FlowRestorerConfig(degradation=deg.get_degradation("hole_12"))
    with pytest.raises(ValueError, match="ema_decay"):
        fr.FlowRestorerConfig(ema_decay=1.0)
    with pytest.raises(ValueError, match="num_copies"):
        fr.FlowRestorerConfig(num_copies=0)
    with pytest.raises(ValueError, match="twice each width"):
        fr.FlowRestorerConfig(widths=(6, 16), groups=8)
    with pytest.raises(TypeError, match="config must be a FlowRestorerConfig"):
        fr.train_flow_restorer(diffusion.DiffusionConfig(), digits.x_train[:64])
    with pytest.raises(ValueError, match="restores 'hole_12' but the config trains on 'blur'"):
        fr.train_flow_restorer(dataclasses.replace(TINY, degradation="blur"), digits.x_train[:64], model=tiny)
    with pytest.raises(ValueError, match="28x28x1 images"):
        fr.train_flow_restorer(TINY, np.zeros((64, 32, 32, 1), np.float32))
    with pytest.raises(ValueError, match="multiple of groups"):
        fr.FlowRestorerConfig(widths=(12,), groups=8)
    with pytest.raises(ValueError, match="embedding_dim must be even"):
        fr.FlowRestorerConfig(embedding_dim=15)
    with pytest.raises(TypeError, match="FlowRestorerConfig"):
        fr.build_flow_restorer(diffusion.DiffusionConfig())
    with pytest.raises(ValueError, match="fewer than one batch"):
        fr.train_flow_restorer(TINY, digits.x_train[:8])


def test_saved_weights_round_trip(tiny, digits, tmp_path, monkeypatch):
    training.save_pretrained(tiny.ema_network, fr.SHIPPED_NAME, command="test", seed=0,
                             config=dataclasses.asdict(TINY), metrics={}, folder=tmp_path)
    monkeypatch.setattr(training, "pretrained_dir", lambda: tmp_path)
    loaded, manifest = fr.load_flow_restorer()
    assert manifest["command"] == "test"
    for trained, average, original in zip(loaded.network.get_weights(), loaded.ema_network.get_weights(),
                                          tiny.ema_network.get_weights()):
        np.testing.assert_array_equal(trained, average)      # the loaded copy is the moving average, in both
        np.testing.assert_array_equal(average, original)
    damaged = deg.get_degradation("hole_12").apply(digits.x_test[:2], seed=0)
    np.testing.assert_array_equal(fr.restore_samples(loaded, damaged, num_steps=2, seed=4),
                                  fr.restore_samples(tiny, damaged, num_steps=2, seed=4))


@pytest.mark.skipif(not training.has_shipped_weights(fr.SHIPPED_NAME), reason="flow_restorer_hole_12 is not shipped")
def test_the_shipped_restorer_is_its_recipe_and_fills_holes_with_digits(digits):
    from course_lib import metrics
    from course_lib.evaluator import load_evaluator

    model, manifest = fr.load_flow_restorer()
    recorded = {key: tuple(value) if isinstance(value, list) else value for key, value in manifest["config"].items()}
    assert recorded == dataclasses.asdict(fr.SHIPPED_CONFIG)
    assert manifest["command"] == f"python -m course_lib.flow_restorer --train --epochs {fr.SHIPPED_CONFIG.epochs}"
    clean, labels = digits.x_test[:60], digits.y_test[:60]
    damaged = deg.get_degradation("hole_12").apply(clean, seed=0)
    samples = fr.restore_samples(model, damaged, num_samples=4, seed=0)
    judge, _ = load_evaluator()
    one = float(np.mean(judge.predict_labels(samples[:, 0]) == labels))
    recorded_rate = manifest["metrics"]["one_sample_recognition"]
    assert one >= recorded_rate - 0.08, (one, recorded_rate)      # 60 digits: a few points of sampling noise
    single = metrics.psnr(samples[:, 0], clean)
    mean_of_4 = metrics.psnr(samples.mean(axis=1), clean)
    assert mean_of_4 > single + 1.0, (single, mean_of_4)          # averaging posterior samples lowers the error
    assert single > metrics.psnr(damaged.images, clean) + 4.0
