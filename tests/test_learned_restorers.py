"""Learned restorers: shape contracts, the residual identity, the mask input, training through
resumable_fit that lowers the MSE and resumes, and the Restorer wrapper."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_lib import data
from course_lib import degradations as deg
from course_lib import restoration as rst


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("mnist", source="subset", verbose=False).x_train[:256]


def test_dncnn_returns_the_input_minus_its_predicted_noise():
    import keras

    model = rst.build_dncnn(depth=4, filters=8)
    noisy = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    noise = keras.Model(model.input, model.get_layer("predicted_noise").output)(noisy)
    np.testing.assert_allclose(np.asarray(model(noisy)), noisy - np.asarray(noise), atol=1e-6)
    assert model.output_shape == (None, 28, 28, 1)


def test_unet_takes_image_and_mask_and_outputs_images_in_range():
    model = rst.build_unet(filters=8, levels=2)
    assert model.input_shape == (None, 28, 28, 2) and model.output_shape == (None, 28, 28, 1)
    output = np.asarray(model(np.random.default_rng(0).random((2, 28, 28, 2)).astype(np.float32)))
    assert output.min() >= 0 and output.max() <= 1
    with pytest.raises(ValueError, match="divisible by 2 \\*\\* levels = 8"):
        rst.build_unet(levels=3)


def test_model_inputs_stack_the_mask_and_enlarge_low_resolution_images(digits):
    hole = deg.get_degradation("hole_12").apply(digits[:4])
    stacked = rst.model_inputs(hole, "unet")
    assert stacked.shape == (4, 28, 28, 2)
    np.testing.assert_array_equal(stacked[..., 1:], hole.mask)
    noisy = deg.get_degradation("noise_0.3").apply(digits[:4])
    np.testing.assert_array_equal(rst.model_inputs(noisy, "unet")[..., 1], 1.0)  # nothing missing
    assert rst.model_inputs(deg.get_degradation("down_4").apply(digits[:4]), "dncnn").shape == (4, 28, 28, 1)


def test_bad_configs_raise_clear_errors():
    with pytest.raises(ValueError, match="architecture"):
        rst.LearnedRestorerConfig(architecture="gan")
    with pytest.raises(ValueError, match="Unknown degradation"):
        rst.LearnedRestorerConfig(degradation="rain")
    with pytest.raises(ValueError, match="depth must be at least 2"):
        rst.LearnedRestorerConfig(depth=1)


@pytest.mark.slow
@pytest.mark.parametrize("architecture, degradation", [("dncnn", "noise_0.3"), ("unet", "hole_12")])
def test_training_lowers_the_mse_and_resumes(architecture, degradation, digits, tmp_path):
    config = rst.LearnedRestorerConfig(architecture=architecture, degradation=degradation, depth=3, filters=8,
                                       epochs=2, batch_size=32, seed=3)
    model, history = rst.train_learned_restorer(config, digits, workdir=tmp_path, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[1] < losses[0]
    restorer = rst.learned_restorer(model, architecture, (degradation,), batch_size=25)
    damaged = deg.get_degradation(degradation).apply(digits[:64], seed=0)
    restored = restorer(damaged)  # batched prediction equals one call of the model, clipped
    np.testing.assert_allclose(restored, np.clip(model(rst.model_inputs(damaged, architecture)), 0, 1), atol=1e-5)
    with pytest.raises(ValueError, match="cannot restore"):
        restorer(deg.get_degradation("blur").apply(digits[:4]))
    longer = dataclasses.replace(config, epochs=3)
    _, resumed = rst.train_learned_restorer(longer, digits, workdir=tmp_path, verbose=0)
    assert resumed.history["loss"][:2] == losses and len(resumed.history["loss"]) == 3
