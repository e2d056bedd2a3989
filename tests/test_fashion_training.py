"""Every training entry point runs on Fashion-MNIST images, and the same recipe on other images is another run."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import data, diffusion, evaluator, gan, learned_restoration, pix2pix, training, vae

try:
    data.fashion_mnist_dir()
except FileNotFoundError:
    pytest.skip("Fashion-MNIST is not installed (make fashion-mnist)", allow_module_level=True)


@pytest.fixture(scope="module")
def clothes():
    split = data.judged_split("fashion_mnist")
    return split.x_train[:64], split.y_train[:64]


def finite_losses(history, key="loss"):
    values = np.asarray(history.history[key], dtype=float)
    return len(values) == 1 and np.isfinite(values).all()


def test_the_evaluator_trains_on_clothes(clothes, tmp_path):
    images, labels = clothes
    config = evaluator.EvaluatorConfig(filters=(4,), feature_dim=8, epochs=1, batch_size=32, dataset="fashion_mnist",
                                       horizontal_flip=True, max_rotation=0.0)
    model, history = evaluator.train_evaluator(config, images, labels, workdir=tmp_path, verbose=0)
    assert finite_losses(history) and model.output_shape == (None, 10)


def test_the_dcgan_trains_on_clothes(clothes, tmp_path):
    config = gan.DCGANConfig(latent_dim=4, generator_filters=(4, 2), discriminator_filters=(2, 4), epochs=1,
                             batch_size=32, jit_compile=False)
    model, history = gan.train_dcgan(config, clothes[0], workdir=tmp_path, verbose=0)
    samples = model.generate(3)
    assert finite_losses(history, "d_loss") and samples.shape == (3, 28, 28, 1)
    assert 0.0 <= samples.min() and samples.max() <= 1.0


def test_the_vae_trains_on_clothes(clothes, tmp_path):
    config = vae.VAEConfig(latent_dim=2, encoder_filters=(2,), decoder_filters=(2, 2), epochs=1, batch_size=32)
    model, history = vae.train_vae(config, clothes[0], workdir=tmp_path, verbose=0)
    assert finite_losses(history) and model.generate(3, seed=0).shape == (3, 28, 28, 1)


def test_the_diffusion_model_trains_on_clothes_and_their_labels(clothes, tmp_path):
    config = diffusion.DiffusionConfig(widths=(4,), embedding_dim=8, groups=4, num_classes=10, epochs=1, batch_size=32)
    model, history = diffusion.train_diffusion(config, *clothes, workdir=tmp_path, verbose=0)
    samples = model.generate(2, labels=np.array([0, 9], "int32"), num_steps=1, seed=0)
    assert finite_losses(history) and samples.shape == (2, 28, 28, 1)


@pytest.mark.parametrize("name", ["dncnn_noise_0.3", "unet_hole_12"])
def test_the_learned_restorers_train_on_clothes(clothes, tmp_path, name):
    recipe = learned_restoration.SHIPPED_RESTORERS[name]
    config = learned_restoration.LearnedRestorerConfig(recipe.architecture, recipe.degradation, filters=4, depth=3,
                                                       levels=1, epochs=1, batch_size=32,
                                                       paste_known=recipe.paste_known)
    model, history = learned_restoration.train_learned_restorer(config, clothes[0], workdir=tmp_path, verbose=0)
    assert finite_losses(history)


def test_the_cgan_restorer_trains_on_clothes(clothes, tmp_path):
    config = pix2pix.Pix2PixConfig(filters=4, levels=1, discriminator_filters=(4,), epochs=1, batch_size=32,
                                   init_from=None, jit_compile=False)
    model, history = pix2pix.train_pix2pix(config, clothes[0], workdir=tmp_path, verbose=0)
    assert np.isfinite(np.asarray(history.history["l1"], dtype=float)).all()


def test_the_same_recipe_on_clothes_is_not_the_digits_run(clothes, tmp_path):
    digits = data.judged_split("mnist").x_train[:64]
    config = {"recipe": 1}
    on_digits = training.run_folder(config, seed=0, batch_size=32, workdir=tmp_path, images=digits)
    on_clothes = training.run_folder(config, seed=0, batch_size=32, workdir=tmp_path, images=clothes[0])
    assert on_digits != on_clothes
    assert on_digits == training.run_folder(config, seed=0, batch_size=32, workdir=tmp_path, images=digits.copy())
    assert training.images_fingerprint(digits) != training.images_fingerprint(digits[:63])
