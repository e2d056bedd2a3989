"""Learned restorers: shape contracts, the residual identity, the mask input, training through
resumable_fit that lowers the MSE and resumes, and the Restorer wrapper."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_lib import data
from course_lib import degradations as deg
from course_lib import learned_restoration as learned
from course_lib import restoration, training


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("mnist", source="subset", verbose=False).x_train[:256]


def test_dncnn_returns_the_input_minus_its_predicted_noise():
    import keras

    model = learned.build_dncnn(depth=4, filters=8)
    noisy = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    noise = keras.Model(model.input, model.get_layer("predicted_noise").output)(noisy)
    np.testing.assert_allclose(np.asarray(model(noisy)), noisy - np.asarray(noise), atol=1e-6)
    assert model.output_shape == (None, 28, 28, 1)


def test_unet_takes_image_and_mask_and_outputs_images_in_range():
    model = learned.build_unet(filters=8, levels=2)
    assert model.input_shape == (None, 28, 28, 2) and model.output_shape == (None, 28, 28, 1)
    import keras

    inputs = np.random.default_rng(0).random((2, 28, 28, 2)).astype(np.float32)
    output = np.asarray(model(inputs))
    assert model.get_layer("predicted").activation is keras.activations.sigmoid and output.shape == (2, 28, 28, 1)
    flipped = inputs.copy()
    flipped[..., 1] = 1.0 - flipped[..., 1]
    assert not np.allclose(np.asarray(model(flipped)), output)  # it reads the mask channel
    with pytest.raises(ValueError, match="divisible by 2 \\*\\* levels = 8"):
        learned.build_unet(levels=3)


def test_model_inputs_stack_the_mask_and_enlarge_low_resolution_images(digits):
    hole = deg.get_degradation("hole_12").apply(digits[:4])
    stacked = learned.model_inputs(hole, "unet")
    assert stacked.shape == (4, 28, 28, 2)
    np.testing.assert_array_equal(stacked[..., 1:], hole.mask)
    noisy = deg.get_degradation("noise_0.3").apply(digits[:4])
    np.testing.assert_array_equal(learned.model_inputs(noisy, "unet")[..., 1], 1.0)  # nothing missing
    assert learned.model_inputs(deg.get_degradation("down_4").apply(digits[:4]), "dncnn").shape == (4, 28, 28, 1)


def test_bad_configs_raise_clear_errors():
    with pytest.raises(ValueError, match="architecture"):
        learned.LearnedRestorerConfig(architecture="gan")
    with pytest.raises(ValueError, match="Unknown degradation"):
        learned.LearnedRestorerConfig(degradation="rain")
    with pytest.raises(ValueError, match="depth must be at least 2"):
        learned.LearnedRestorerConfig(depth=1)


@pytest.mark.slow
@pytest.mark.parametrize("architecture, degradation", [("dncnn", "noise_0.3"), ("unet", "hole_12")])
def test_training_lowers_the_mse_and_resumes(architecture, degradation, digits, tmp_path):
    config = learned.LearnedRestorerConfig(architecture=architecture, degradation=degradation, depth=3, filters=8,
                                       epochs=2, batch_size=32, seed=3)
    model, history = learned.train_learned_restorer(config, digits, workdir=tmp_path, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[1] < losses[0]
    restorer = learned.learned_restorer(model, architecture, (degradation,), batch_size=25)
    damaged = deg.get_degradation(degradation).apply(digits[:64], seed=0)
    restored = restorer(damaged)  # batched prediction equals one call of the model, clipped
    np.testing.assert_allclose(restored, np.clip(model(learned.model_inputs(damaged, architecture)), 0, 1), atol=1e-5)
    with pytest.raises(ValueError, match="cannot restore"):
        restorer(deg.get_degradation("blur").apply(digits[:4]))
    longer = dataclasses.replace(config, epochs=3)
    _, resumed = learned.train_learned_restorer(longer, digits, workdir=tmp_path, verbose=0)
    assert resumed.history["loss"][:2] == losses and len(resumed.history["loss"]) == 3


# ------------------------------------------------------------- pasting known pixels, configs

def test_unet_that_pastes_known_pixels_returns_them_exactly():
    model = learned.build_unet(filters=8, levels=2, paste_known=True)
    rng = np.random.default_rng(1)
    images = rng.random((3, 28, 28, 1)).astype(np.float32)
    mask = (rng.random((3, 28, 28, 1)) > 0.5).astype(np.float32)
    inputs = np.concatenate([images * mask, mask], axis=-1)
    restored = np.asarray(model(inputs))
    known = mask[..., 0] == 1
    np.testing.assert_array_equal(restored[..., 0][known], images[..., 0][known])
    import keras  # the missing pixels are the network's prediction, untouched by the paste

    predicted = np.asarray(keras.Model(model.input, model.get_layer("predicted").output)(inputs))
    np.testing.assert_allclose(restored[..., 0][~known], predicted[..., 0][~known], atol=1e-6)
    assert restored.shape == (3, 28, 28, 1)


def test_paste_known_needs_a_unet_and_a_mask():
    with pytest.raises(ValueError, match="paste_known needs a U-Net and a degradation with a mask"):
        learned.LearnedRestorerConfig(architecture="unet", degradation="blur", paste_known=True)
    with pytest.raises(ValueError, match="paste_known"):
        learned.LearnedRestorerConfig(architecture="dncnn", degradation="hole_12", paste_known=True)
    with pytest.raises(ValueError, match="final_learning_rate"):
        learned.LearnedRestorerConfig(final_learning_rate=0.0)
    with pytest.raises(ValueError, match="max_seconds"):
        learned.LearnedRestorerConfig(max_seconds=-1.0)


def test_training_pairs_damage_each_digit_with_distinct_seeds_never_the_benchmarks(digits):
    config = learned.LearnedRestorerConfig(degradation="noise_0.3", num_copies=3, seed=2)
    seeds = learned.training_seeds(config)
    assert len(set(seeds)) == 3 and 0 not in seeds
    inputs, targets = learned.training_pairs(config, digits[:10])
    assert inputs.shape == (30, 28, 28, 1) and targets.shape == (30, 28, 28, 1)
    np.testing.assert_array_equal(targets[10:20], digits[:10])
    assert not np.array_equal(inputs[:10], inputs[10:20])  # fresh noise on each copy
    unet_inputs, _ = learned.training_pairs(learned.LearnedRestorerConfig("unet", "hole_12"), digits[:4])
    assert unet_inputs.shape == (4, 28, 28, 2)


# ------------------------------------------------------------- shipped restorers

SHIPPED_ON_DISK = [name for name in learned.SHIPPED_RESTORERS if training.has_shipped_weights(name)]


def test_unknown_shipped_restorer_names_the_choices():
    with pytest.raises(ValueError, match="unet_hole_12") as error:
        learned.load_learned_restorer("unet_hole_99")
    assert "dncnn_noise_0.3" in str(error.value)
    with pytest.raises(SystemExit):  # the command line refuses it too
        learned.main(["--train", "unet_hole_99"])


@pytest.mark.parametrize("name", SHIPPED_ON_DISK)
def test_shipped_restorer_matches_its_config_and_is_small(name):
    import json

    folder = data.data_dir() / "pretrained"
    manifest = json.loads((folder / f"{name}.json").read_text())
    assert training.config_from_manifest(learned.LearnedRestorerConfig, manifest) == learned.SHIPPED_RESTORERS[name]
    assert manifest["command"] == f"python -m course_lib.learned_restoration --train {name}"
    assert (folder / manifest["file"]).stat().st_size < 2_000_000
    assert manifest["metrics"]["training_seconds"] <= 300


def test_corrupted_shipped_restorer_is_refused(data_copy):
    from tests.conftest import flip_byte

    if not SHIPPED_ON_DISK:
        pytest.skip("no learned restorer shipped")
    name = SHIPPED_ON_DISK[0]
    manifest = learned.load_learned_restorer(name)[1]
    assert manifest is not None and manifest["sha256"]
    flip_byte(data_copy / "pretrained" / manifest["file"])
    with pytest.raises(ValueError, match="sha256"):
        learned.load_learned_restorer(name)


# the bounds sit a little below what each shipped model measured on all 2,000 held-out digits
PSNR_BOUNDS = {"dncnn_noise_0.3": 22.5, "unet_hole_12": 19.5, "unet_missing_50": 24.0, "unet_blur": 28.0,
               "unet_down_2": 27.5, "unet_down_4": 19.5}


@pytest.mark.parametrize("name", SHIPPED_ON_DISK)
def test_shipped_restorer_clears_its_psnr_bound_on_held_out_digits(name):
    from course_lib import metrics

    clean = data.load_dataset("mnist", source="subset", verbose=False).x_test[:200]
    restorer = learned.shipped_restorer(name)
    degradation = deg.get_degradation(learned.SHIPPED_RESTORERS[name].degradation)
    damaged = degradation.apply(clean, seed=0)
    restored = restorer(damaged)
    assert restored.shape == clean.shape
    assert metrics.psnr(restored, clean) > max(PSNR_BOUNDS[name], metrics.psnr(restoration.damaged_input()(damaged), clean) + 3)
    assert restorer.can_restore(degradation) and not restorer.can_restore("strokes_3")


def test_dilated_dncnn_sees_the_whole_digit_at_the_same_cost():
    assert learned.dilation_rates(6) == [2, 3, 4, 4, 3, 2] and learned.dilation_rates(5) == [2, 3, 4, 3, 2]
    assert learned.receptive_field([1] * 8) == 17 and learned.receptive_field([1, *learned.dilation_rates(6), 1]) == 41
    plain, dilated = learned.build_dncnn(depth=8, filters=8), learned.build_dncnn(depth=8, filters=8, dilated=True)
    assert plain.count_params() == dilated.count_params() and dilated.output_shape == (None, 28, 28, 1)
    # a corner pixel reaches the digit's centre (14 pixels away) only through the dilated stack
    image = np.random.default_rng(0).random((1, 28, 28, 1)).astype(np.float32)
    poked = image.copy()
    poked[0, 0, 0, 0] += 1.0
    plain_change, dilated_change = (np.abs(np.asarray(model(poked)) - np.asarray(model(image)))[0, ..., 0]
                                    for model in (plain, dilated))                     # (28, 28) each
    assert plain_change[9:, :].max() == 0 and plain_change[:, 9:].max() == 0          # 17 x 17: radius 8
    assert dilated_change[14, 14] > 0 and dilated_change[21:, :].max() == 0           # 41 x 41: radius 20


def test_shipped_restorers_refuses_one_name_given_as_a_string():
    # iterating "unet_blur" would ask for the shipped restorers 'u', 'n', ...
    with pytest.raises(TypeError, match=r"pass \['unet_blur'\], or shipped_restorer\('unet_blur'\)"):
        learned.shipped_restorers("unet_blur")


def test_dilation_rates_refuse_a_negative_number_of_layers():
    assert learned.dilation_rates(0) == []
    with pytest.raises(ValueError, match="num_layers must be a non-negative integer, got -3"):
        learned.dilation_rates(-3)


def test_residual_unet_adds_a_correction_to_the_damaged_image():
    model = learned.build_unet(filters=8, levels=2, residual=True)
    correction = model.get_layer("predicted_correction")
    inputs = np.random.default_rng(2).random((2, 28, 28, 2)).astype(np.float32)
    corrections = np.asarray(keras_submodel(model, "predicted_correction")(inputs))
    np.testing.assert_allclose(np.asarray(model(inputs)), inputs[..., :1] + corrections, atol=1e-6)
    correction.set_weights([np.zeros_like(weight) for weight in correction.get_weights()])
    np.testing.assert_array_equal(np.asarray(model(inputs)), inputs[..., :1])  # starts at the identity
    with pytest.raises(ValueError, match="residual applies to a U-Net"):
        learned.LearnedRestorerConfig(architecture="dncnn", residual=True)


def keras_submodel(model, layer_name):
    import keras

    return keras.Model(model.input, model.get_layer(layer_name).output)
