"""The pix2pix-style cGAN restorer: PatchGAN shape contract and receptive field, what the
discriminator is shown (the damaged input paired with the CLEAN image as real, the restoration
as fake), loss identities, pasting of known pixels, resumable training, the shipped generator
(sha256, round trip, quality bound) and clear errors on bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from course_lib import data
from course_lib import degradations as deg
from course_lib import pix2pix as p2p
from course_lib import learned_restoration as learned
from course_lib import training
from tests.conftest import flip_byte


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("mnist", source="subset", verbose=False).x_test[:64]


def test_patch_discriminator_maps_damaged_mask_and_candidate_to_a_grid_of_logits():
    discriminator = p2p.build_patch_discriminator((8, 16))
    assert discriminator.input_shape == (None, 28, 28, 3)          # damaged, mask, candidate
    assert discriminator.output_shape == (None, 7, 7, 1)           # one logit per patch
    assert p2p.build_patch_discriminator((8,)).output_shape == (None, 14, 14, 1)
    assert p2p.build_patch_discriminator((8, 16), image_shape=(32, 32, 3)).input_shape == (None, 32, 32, 7)
    with pytest.raises(ValueError, match="divisible by 2 \\*\\* len\\(filters\\) = 8"):
        p2p.build_patch_discriminator((8, 16, 32))
    with pytest.raises(ValueError, match="positive integers"):
        p2p.build_patch_discriminator(())


def test_each_patch_logit_sees_only_its_receptive_field():
    import tensorflow as tf

    assert p2p.patch_receptive_field([4, 4, 4], [2, 2, 1]) == 22
    assert p2p.patch_receptive_field([3], [1]) == 3
    discriminator = p2p.build_patch_discriminator((4, 4))
    pair = tf.Variable(np.random.default_rng(0).random((1, 28, 28, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        centre_logit = discriminator(pair)[0, 3, 3, 0]
    gradient = np.abs(tape.gradient(centre_logit, pair).numpy()).sum(axis=(0, 3))  # (28, 28)
    rows, columns = np.nonzero(gradient)
    assert np.ptp(rows) + 1 == 22 and np.ptp(columns) + 1 == 22            # a 22 x 22 patch, not the whole image


def test_paste_known_keeps_known_pixels_and_takes_the_rest_from_the_generator(digits):
    damaged = deg.get_degradation("hole_12").apply(digits[:8])
    conditioning = learned.model_inputs(damaged, "unet")
    generated = np.random.default_rng(1).random(digits[:8].shape).astype(np.float32)
    restored = np.asarray(p2p.paste_known(generated, conditioning))
    known = damaged.mask.astype(bool)
    np.testing.assert_array_equal(restored[known], damaged.images[known])
    np.testing.assert_array_equal(restored[~known], generated[~known])


def test_loss_identities():
    from course_lib import gan

    rng = np.random.default_rng(0)
    restored, clean = rng.random((4, 28, 28, 1)).astype(np.float32), rng.random((4, 28, 28, 1)).astype(np.float32)
    logits = rng.normal(size=(4, 7, 7, 1)).astype(np.float32)
    total, l1, adversarial = (float(value) for value in p2p.generator_objective(restored, clean, logits, 0.0))
    assert total == pytest.approx(l1) and l1 == pytest.approx(np.mean(np.abs(restored - clean)), rel=1e-6)  # lambda 0: pure L1
    total, l1, adversarial = (float(value) for value in p2p.generator_objective(restored, clean, logits, 0.25))
    assert total == pytest.approx(l1 + 0.25 * adversarial, rel=1e-6)
    assert adversarial == pytest.approx(np.mean(np.log1p(np.exp(-logits))), rel=1e-5)  # -mean log sigmoid
    undecided = np.zeros((2, 7, 7, 1), np.float32)                                  # D = 1/2 everywhere
    assert float(p2p.generator_objective(clean[:2], clean[:2], undecided, 1.0)[2]) == pytest.approx(np.log(2), rel=1e-6)
    assert float(gan.discriminator_loss(undecided, undecided)) == pytest.approx(2 * np.log(2), rel=1e-6)
    sure = np.full((2, 7, 7, 1), 30.0, np.float32)                                 # a perfect discriminator
    assert float(gan.discriminator_loss(sure, -sure)) == pytest.approx(0.0, abs=1e-9)
    # ... against which the non-saturating loss grows like the logit instead of saturating
    assert float(p2p.generator_objective(clean[:2], clean[:2], -sure, 1.0)[2]) == pytest.approx(30.0, rel=1e-6)


class _RecordingDiscriminator:
    """Wraps a discriminator and keeps every input it is called on (eager training only)."""

    def __init__(self, discriminator):
        self.discriminator, self.calls = discriminator, []

    def __getattr__(self, name):
        return getattr(self.discriminator, name)

    def __call__(self, inputs, training=False):
        self.calls.append(np.asarray(inputs))
        return self.discriminator(inputs, training=training)


def test_the_discriminator_sees_the_damaged_input_with_the_clean_image_as_real_and_the_restoration_as_fake(digits):
    config = p2p.Pix2PixConfig(init_from=None, filters=4, discriminator_filters=(4, 4), jit_compile=False)
    model = p2p.build_pix2pix(config)
    model.compile(model.discriminator_optimizer, model.generator_optimizer, run_eagerly=True)
    recorder = _RecordingDiscriminator(model.discriminator)
    damaged = deg.get_degradation("hole_12").apply(digits[:4])
    conditioning = learned.model_inputs(damaged, "unet")
    object.__setattr__(model, "discriminator", recorder)
    try:
        model.train_step((conditioning, digits[:4]))
    finally:
        object.__setattr__(model, "discriminator", recorder.discriminator)
    real_pair, fake_pair = recorder.calls
    np.testing.assert_array_equal(real_pair[..., :2], conditioning)               # damaged image, mask
    np.testing.assert_array_equal(fake_pair[..., :2], conditioning)
    np.testing.assert_array_equal(real_pair[..., 2:], digits[:4])                 # real = the CLEAN digit
    known = damaged.mask.astype(bool)
    np.testing.assert_array_equal(fake_pair[..., 2:][known], damaged.images[known])  # fake = pasted restoration
    assert not np.allclose(fake_pair[..., 2:], digits[:4])


def test_training_runs_through_fit_and_resumes(digits, tmp_path):
    config = p2p.Pix2PixConfig(init_from=None, filters=4, discriminator_filters=(4, 4), batch_size=16, epochs=2,
                               jit_compile=False)
    model, history = p2p.train_pix2pix(config, digits, workdir=tmp_path, verbose=0)
    assert set(history.history) == {"d_loss", "adversarial", "l1", "d_real", "d_fake"}
    assert len(history.history["l1"]) == 2 and int(model.generator_optimizer.iterations.numpy()) == 8
    _, resumed = p2p.train_pix2pix(dataclasses.replace(config, epochs=3), digits, workdir=tmp_path, verbose=0)
    assert resumed.history["l1"][:2] == history.history["l1"] and len(resumed.history["l1"]) == 3


def test_bad_input_raises_clear_errors(digits):
    with pytest.raises(ValueError, match="adversarial_weight"):
        p2p.Pix2PixConfig(adversarial_weight=-0.1)
    with pytest.raises(ValueError, match="Unknown degradation"):
        p2p.Pix2PixConfig(degradation="rain")
    with pytest.raises(ValueError, match="must remove pixels"):
        p2p.train_pix2pix(p2p.Pix2PixConfig(degradation="noise_0.3", init_from=None, filters=4), digits)
    with pytest.raises(ValueError, match="init_from"):
        p2p.train_pix2pix(p2p.Pix2PixConfig(init_from="dncnn"), digits)
    with pytest.raises(ValueError, match="must lie in"):
        p2p.train_pix2pix(p2p.Pix2PixConfig(init_from=None, filters=4), digits * 255)
    with pytest.raises(ValueError, match="keras.Model"):
        p2p.pix2pix_restorer("unet")
    # a generator shape other than the U-Net it starts from is refused before any training
    unet_manifest = {"config": {"filters": 24, "levels": 2}}
    p2p.check_generator_shape(p2p.Pix2PixConfig(filters=24, levels=2), unet_manifest)
    with pytest.raises(ValueError, match="filters=32.*set them to match"):
        p2p.check_generator_shape(p2p.Pix2PixConfig(filters=32, levels=2), unet_manifest)


def test_restorer_handles_the_12_pixel_hole_only_and_pastes_known_pixels(digits):
    generator = learned.build_unet(filters=4)
    restorer = p2p.pix2pix_restorer(generator, batch_size=25)
    damaged = deg.get_degradation("hole_12").apply(digits, seed=0)
    restored = restorer(damaged)                                                   # batched = one call
    conditioning = learned.model_inputs(damaged, "unet")
    np.testing.assert_allclose(restored, np.asarray(p2p.paste_known(generator(conditioning), conditioning)), atol=1e-6)
    known = damaged.mask.astype(bool)
    np.testing.assert_array_equal(restored[known], damaged.images[known])
    for other in ("blur", "hole_8", "missing_50"):
        with pytest.raises(ValueError, match="cannot restore"):
            restorer(deg.get_degradation(other).apply(digits[:2]))


def test_shipped_generator_round_trips_with_its_sha256_and_beats_the_damaged_input(digits):
    manifest = training.read_manifest(p2p.SHIPPED_NAME)
    path = training.pretrained_dir() / manifest["file"]
    assert data.sha256_of(path) == manifest["sha256"] and path.stat().st_size < 2 * 1024 ** 2
    assert manifest["command"] == "python -m course_lib.pix2pix --train"
    assert manifest["metrics"]["cgan"]["fid"] < manifest["metrics"]["mse_unet"]["fid"]          # the target
    assert manifest["metrics"]["cgan"]["psnr"] > manifest["metrics"]["mse_unet"]["psnr"] - 1.5
    generator, loaded = p2p.load_pix2pix()
    assert loaded == manifest
    damaged = deg.get_degradation("hole_12").apply(digits, seed=0)
    restored = p2p.pix2pix_restorer(generator)(damaged)
    from course_lib import metrics

    assert metrics.psnr(restored, digits) > metrics.psnr(damaged.images, digits) + 4  # 12.4 dB -> about 20
    copy = learned.build_unet(**{key: manifest["config"][key] for key in ("filters", "levels")})
    training.load_pretrained(copy, p2p.SHIPPED_NAME)                              # the same weights, saved and read
    for saved, read in zip(generator.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(saved, read)


def test_a_corrupted_shipped_generator_is_refused(data_copy):
    manifest = json.loads((data_copy / "pretrained" / f"{p2p.SHIPPED_NAME}.json").read_text())
    flip_byte(data_copy / "pretrained" / manifest["file"])
    with pytest.raises(ValueError, match="corrupted"):
        p2p.load_pix2pix()


def test_grey_share_counts_grey_missing_pixels_only():
    images = np.zeros((1, 4, 4, 1), np.float32)
    images[0, :2, :, 0] = 0.5                                   # the top half is grey
    mask = np.ones_like(images)
    mask[0, :, :2] = 0                                          # the left half is missing
    assert p2p.grey_share(images, mask) == pytest.approx(0.5)   # 4 of the 8 missing pixels are grey
    assert p2p.grey_share(np.clip(images * 2, 0, 1), mask) == 0.0
    with pytest.raises(ValueError, match="no missing pixels"):
        p2p.grey_share(images, np.ones_like(images))
