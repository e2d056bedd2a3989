"""Bad input to the model code, the theory helpers, the figures and the exercise checks.

Every public function a learner calls in ``gan``, ``vae``, ``pix2pix``, ``diffusion``, the training
configs (``DCGANConfig``, ``VAEConfig``, ``Pix2PixConfig``, ``EvaluatorConfig``, ``LearnedRestorerConfig``,
``DiffusionConfig``), ``gan_theory``, ``vae_theory``, ``diffusion_theory``, ``viz`` and ``exercises``
must answer bad input with a ``ValueError`` or ``TypeError`` that names the argument, never with a
number or a figure. The configs and the array arguments are probed with generated values
(``hypothesis``); the rest with a table of hand-picked cases. Valid values are generated too, so
that a rule that is too strict fails here as well.
"""

from __future__ import annotations

import dataclasses
import math
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib import diffusion, diffusion_theory, evaluator, exercises, gan, gan_theory, learned_restoration
from course_lib import flow_restorer, pix2pix, vae, vae_theory, viz

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------------------------ configs

NOT_A_NUMBER = st.one_of(st.text(max_size=3), st.booleans(), st.just([1]), st.just(object()))
NON_FINITE = st.sampled_from([NAN, INF, -INF])
NEGATIVE = st.floats(max_value=-1e-9, allow_nan=False)


def bad_widths(lengths):
    """Tuples of layer widths that break a rule: an entry <= 0, too large or not an integer, or a wrong length."""
    good = st.integers(1, 64)
    bad_entry = st.one_of(st.integers(max_value=0), st.integers(min_value=2049), st.floats(0.5, 64.5),
                          st.text(max_size=2))
    wrong_length = st.just([]) if lengths is None else \
        st.lists(good, max_size=6).filter(lambda entries: len(entries) not in lengths)
    with_bad_entry = st.lists(good, min_size=1, max_size=3).flatmap(
        lambda entries: bad_entry.map(lambda entry: tuple(entries) + (entry,)))
    return st.one_of(wrong_length.map(tuple), with_bad_entry.filter(lambda e: not lengths or len(e) in lengths),
                     st.integers(1, 64), st.none(), st.text(max_size=3))


def good_widths(lengths):
    sizes = lengths or (1, 2, 3)
    return st.sampled_from(sizes).flatmap(lambda size: st.lists(st.integers(1, 2048), min_size=size, max_size=size))


BAD = {
    "positive_integer": st.one_of(st.integers(max_value=0), st.floats(allow_nan=True), st.none(), NOT_A_NUMBER),
    "non_negative_integer": st.one_of(st.integers(max_value=-1), st.floats(0.5, 10.5), st.none(), NOT_A_NUMBER),
    "learning_rate": st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0), NON_FINITE, st.none(), NOT_A_NUMBER),
    "optional_learning_rate": st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0), NON_FINITE, NOT_A_NUMBER),
    "rate": st.one_of(NEGATIVE, st.floats(min_value=1.0), NON_FINITE, st.none(), NOT_A_NUMBER),
    "non_negative": st.one_of(NEGATIVE, NON_FINITE, st.none(), NOT_A_NUMBER),
    "positive": st.one_of(st.floats(max_value=0.0), NON_FINITE, st.none(), NOT_A_NUMBER),
    "seconds": st.one_of(st.floats(max_value=0.0), NON_FINITE, NOT_A_NUMBER),
    "seed": st.one_of(st.integers(max_value=-1), st.floats(), st.none(), NOT_A_NUMBER),
    "flag": st.one_of(st.text(max_size=3), st.integers(), st.none(), st.floats()),
    "fraction_of_side": st.one_of(NEGATIVE, st.floats(min_value=0.5001), NON_FINITE, NOT_A_NUMBER),
    "dncnn_depth": st.one_of(st.integers(max_value=1), st.floats(), st.none(), NOT_A_NUMBER),
    "levels": st.one_of(st.integers(max_value=0), st.integers(min_value=3), st.floats(), st.none(), NOT_A_NUMBER),
}
GOOD = {
    "positive_integer": st.integers(1, 28),    # up to a 28x28 image's side: within every field's maximum
    "non_negative_integer": st.integers(0, 256),
    "learning_rate": st.floats(1e-7, 0.999),
    "optional_learning_rate": st.one_of(st.none(), st.floats(1e-7, 0.999)),
    "rate": st.floats(0.0, 0.999),
    "non_negative": st.floats(0.0, 1e6),
    "positive": st.floats(1e-6, 1e6),
    "seconds": st.one_of(st.none(), st.floats(1e-3, 1e6)),
    "seed": st.integers(0, 2**31 - 1),
    "flag": st.booleans(),
    "fraction_of_side": st.floats(0.0, 0.5),
    "dncnn_depth": st.integers(2, 28),
    "levels": st.integers(1, 2),              # 28 -> 14 -> 7
}

# (config class, field, kind, extra): extra is the widths' allowed lengths or the names' choices
CONFIG_FIELDS = [
    (gan.DCGANConfig, "latent_dim", "positive_integer", None),
    (gan.DCGANConfig, "generator_filters", "widths", (2, 3)),
    (gan.DCGANConfig, "discriminator_filters", "widths", None),
    (gan.DCGANConfig, "kernel_size", "positive_integer", None),
    (gan.DCGANConfig, "dropout", "rate", None),
    (gan.DCGANConfig, "learning_rate", "learning_rate", None),
    (gan.DCGANConfig, "discriminator_learning_rate", "optional_learning_rate", None),
    (gan.DCGANConfig, "beta_1", "rate", None),
    (gan.DCGANConfig, "batch_size", "positive_integer", None),
    (gan.DCGANConfig, "generator_loss", "name", gan.GENERATOR_LOSSES),
    (gan.DCGANConfig, "r1_weight", "non_negative", None),
    (gan.DCGANConfig, "spectral_norm", "flag", None),
    (gan.DCGANConfig, "ema_decay", "rate", None),
    (gan.DCGANConfig, "jit_compile", "flag", None),
    (gan.DCGANConfig, "epochs", "positive_integer", None),
    (gan.DCGANConfig, "max_seconds", "seconds", None),
    (gan.DCGANConfig, "seed", "seed", None),
    (vae.VAEConfig, "latent_dim", "positive_integer", None),
    (vae.VAEConfig, "encoder_filters", "widths", None),
    (vae.VAEConfig, "decoder_filters", "widths", (2,)),
    (vae.VAEConfig, "encoder_hidden_units", "non_negative_integer", None),
    (vae.VAEConfig, "decoder_hidden_units", "non_negative_integer", None),
    (vae.VAEConfig, "likelihood", "name", vae.LIKELIHOODS),
    (vae.VAEConfig, "observation_std", "positive", None),
    (vae.VAEConfig, "beta", "non_negative", None),
    (vae.VAEConfig, "learning_rate", "learning_rate", None),
    (vae.VAEConfig, "batch_size", "positive_integer", None),
    (vae.VAEConfig, "epochs", "positive_integer", None),
    (vae.VAEConfig, "max_seconds", "seconds", None),
    (vae.VAEConfig, "seed", "seed", None),
    (pix2pix.Pix2PixConfig, "filters", "positive_integer", None),
    (pix2pix.Pix2PixConfig, "levels", "levels", None),
    (pix2pix.Pix2PixConfig, "discriminator_filters", "widths", (1, 2)),
    (pix2pix.Pix2PixConfig, "adversarial_weight", "non_negative", None),
    (pix2pix.Pix2PixConfig, "generator_learning_rate", "learning_rate", None),
    (pix2pix.Pix2PixConfig, "discriminator_learning_rate", "learning_rate", None),
    (pix2pix.Pix2PixConfig, "beta_1", "rate", None),
    (pix2pix.Pix2PixConfig, "batch_size", "positive_integer", None),
    (pix2pix.Pix2PixConfig, "epochs", "positive_integer", None),
    (pix2pix.Pix2PixConfig, "max_seconds", "seconds", None),
    (pix2pix.Pix2PixConfig, "init_from", "name", (pix2pix.MSE_UNET_NAME, None)),
    (pix2pix.Pix2PixConfig, "jit_compile", "flag", None),
    (pix2pix.Pix2PixConfig, "seed", "seed", None),
    (evaluator.EvaluatorConfig, "filters", "widths", (1, 2, 3, 4)),
    (evaluator.EvaluatorConfig, "feature_dim", "positive_integer", None),
    (evaluator.EvaluatorConfig, "dropout", "rate", None),
    (evaluator.EvaluatorConfig, "max_shift", "fraction_of_side", None),
    (evaluator.EvaluatorConfig, "max_rotation", "fraction_of_side", None),
    (evaluator.EvaluatorConfig, "epochs", "positive_integer", None),
    (evaluator.EvaluatorConfig, "batch_size", "positive_integer", None),
    (evaluator.EvaluatorConfig, "learning_rate", "learning_rate", None),
    (evaluator.EvaluatorConfig, "seed", "seed", None),
    (learned_restoration.LearnedRestorerConfig, "architecture", "name", ("dncnn", "unet")),
    (learned_restoration.LearnedRestorerConfig, "depth", "dncnn_depth", None),
    (learned_restoration.LearnedRestorerConfig, "levels", "levels", None),
    (learned_restoration.LearnedRestorerConfig, "filters", "positive_integer", None),
    (learned_restoration.LearnedRestorerConfig, "batch_norm", "flag", None),
    (learned_restoration.LearnedRestorerConfig, "dilated", "flag", None),
    (learned_restoration.LearnedRestorerConfig, "epochs", "positive_integer", None),
    (learned_restoration.LearnedRestorerConfig, "batch_size", "positive_integer", None),
    (learned_restoration.LearnedRestorerConfig, "learning_rate", "learning_rate", None),
    (learned_restoration.LearnedRestorerConfig, "max_seconds", "seconds", None),
    (learned_restoration.LearnedRestorerConfig, "num_copies", "positive_integer", None),
    (learned_restoration.LearnedRestorerConfig, "jit_compile", "flag", None),
    (learned_restoration.LearnedRestorerConfig, "seed", "seed", None),
    # DiffusionConfig's schedule and prediction, widths, embedding_dim, groups and label_dropout have
    # rules across fields or an interval of their own: tests/test_diffusion.py names each
    (diffusion.DiffusionConfig, "num_classes", "non_negative_integer", None),
    (diffusion.DiffusionConfig, "learning_rate", "learning_rate", None),
    (diffusion.DiffusionConfig, "batch_size", "positive_integer", None),
    (diffusion.DiffusionConfig, "epochs", "positive_integer", None),
    (diffusion.DiffusionConfig, "ema_decay", "rate", None),
    (diffusion.DiffusionConfig, "max_seconds", "seconds", None),
    (diffusion.DiffusionConfig, "jit_compile", "flag", None),
    (diffusion.DiffusionConfig, "seed", "seed", None),
]
FIELD_IDS = [f"{config.__name__}.{field}" for config, field, _, _ in CONFIG_FIELDS]


def bad_values(kind, extra):
    if kind == "widths":
        return bad_widths(extra)
    if kind == "name":
        return st.one_of(st.text(max_size=12), st.integers(), st.none(), st.booleans()).filter(
            lambda value: not any(value is choice or (isinstance(value, str) and value == choice) for choice in extra))
    return BAD[kind]


def good_values(kind, extra):
    if kind == "widths":
        return good_widths(extra)
    if kind == "name":
        return st.sampled_from(extra)
    return GOOD[kind]


@pytest.mark.parametrize("config_class, field, kind, extra", CONFIG_FIELDS, ids=FIELD_IDS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_config_field_refuses_bad_values_naming_the_field(config_class, field, kind, extra, data):
    value = data.draw(bad_values(kind, extra), label=field)
    with pytest.raises(ValueError, match=rf"{config_class.__name__}\.{field} must be"):
        config_class(**{field: value})


@pytest.mark.parametrize("config_class, field, kind, extra", CONFIG_FIELDS, ids=FIELD_IDS)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_every_config_field_accepts_what_the_rule_allows(config_class, field, kind, extra, data):
    value = data.draw(good_values(kind, extra), label=field)
    config = config_class(**{field: value})
    stored = getattr(config, field)
    assert stored == (tuple(value) if isinstance(value, list) else value)
    assert dataclasses.replace(config) == config  # replace() runs the same checks


def test_the_issue_cases_and_cross_field_rules():
    with pytest.raises(ValueError, match=r"DCGANConfig\.learning_rate must be a finite number in \(0, 1\), got -1.0"):
        gan.DCGANConfig(learning_rate=-1.0)
    with pytest.raises(ValueError, match=r"DCGANConfig\.beta_1 must be a finite number in \[0, 1\), got 5"):
        gan.DCGANConfig(beta_1=5)
    with pytest.raises(ValueError, match=r"VAEConfig\.decoder_filters must be a tuple of 2 positive"):
        vae.VAEConfig(decoder_filters=(64,))       # used to build a VAE that returns 14x14 images
    with pytest.raises(ValueError, match=r"filters must hold exactly 2 widths"):
        vae.build_decoder(2, filters=(64,))
    with pytest.raises(ValueError, match=r"VAEConfig\.final_learning_rate must be None or at most learning_rate"):
        vae.VAEConfig(learning_rate=1e-3, final_learning_rate=1e-2)
    with pytest.raises(ValueError, match=r"LearnedRestorerConfig\.final_learning_rate must be None or at most"):
        learned_restoration.LearnedRestorerConfig(learning_rate=1e-3, final_learning_rate=0.5)
    with pytest.raises(ValueError, match=r"DCGANConfig\.jit_compile must be True or False, got 'no'"):
        gan.DCGANConfig(jit_compile="no")
    assert gan.DCGANConfig(generator_filters=[64, 32]).generator_filters == (64, 32)  # JSON lists become tuples


def test_every_shipped_manifest_config_passes_the_rules():
    import json

    from course_lib import training

    classes = {"dcgan_mnist": gan.DCGANConfig, "evaluator": evaluator.EvaluatorConfig,
               "evaluator_fashion_mnist": evaluator.EvaluatorConfig,
               "pix2pix_hole_12": pix2pix.Pix2PixConfig, "vae_mnist_latent2": vae.VAEConfig,
               "vae_mnist_latent16": vae.VAEConfig, "flow_mnist": diffusion.DiffusionConfig,
               "flow_mnist_unconditional": diffusion.DiffusionConfig,
               "flow_restorer_hole_12": flow_restorer.FlowRestorerConfig}
    for path in sorted(training.pretrained_dir().glob("*.json")):
        recorded = json.loads(path.read_text())["config"]
        config_class = classes.get(path.stem, learned_restoration.LearnedRestorerConfig)
        config = config_class(**recorded)
        assert dataclasses.asdict(config) == {key: tuple(value) if isinstance(value, list) else value
                                              for key, value in recorded.items()}


# ------------------------------------------------------------------- models: tiny and shared

@pytest.fixture(scope="module")
def models():
    tiny_gan = gan.build_dcgan(gan.DCGANConfig(latent_dim=4, generator_filters=(4, 2), discriminator_filters=(2, 4),
                                               ema_decay=0.0, jit_compile=False))
    tiny_vae = vae.build_vae(vae.VAEConfig(latent_dim=2, encoder_filters=(2,), decoder_filters=(2, 2)))
    tiny_diffusion = diffusion.build_diffusion(diffusion.DiffusionConfig(widths=(4,), embedding_dim=8, groups=4))
    return types.SimpleNamespace(gan=tiny_gan, vae=tiny_vae, diffusion=tiny_diffusion)


def latents_with_a_bad_value(columns):
    """(rows, columns) float arrays with at least one NaN or infinite entry somewhere."""
    return st.tuples(st.integers(1, 6), st.data()).flatmap(lambda shape_and_data: hnp.arrays(
        np.float32, (shape_and_data[0], columns), elements=st.floats(-3, 3, width=32)).flatmap(
        lambda array: st.tuples(st.integers(0, array.size - 1), st.sampled_from([NAN, INF, -INF])).map(
            lambda where: np.where(np.arange(array.size).reshape(array.shape) == where[0], where[1], array)
            .astype(np.float32))))


@SETTINGS
@given(noise=latents_with_a_bad_value(4))
def test_generate_refuses_nan_or_infinite_noise(models, noise):
    with pytest.raises(ValueError, match="noise must hold .* finite values"):
        models.gan.generate(noise=noise)


@SETTINGS
@given(z=latents_with_a_bad_value(2))
def test_decode_refuses_nan_or_infinite_codes(models, z):
    with pytest.raises(ValueError, match="z must hold .* finite values"):
        models.vae.decode(z)


@SETTINGS
@given(rows=st.integers(1, 5), asked=st.integers(1, 5))
def test_generate_returns_exactly_what_was_asked_or_refuses(models, rows, asked):
    noise = np.zeros((rows, 4), np.float32)
    if rows == asked:
        assert models.gan.generate(asked, noise=noise).shape == (asked, 28, 28, 1)
    else:
        with pytest.raises(ValueError, match=f"num_samples={asked} but noise holds {rows} rows"):
            models.gan.generate(asked, noise=noise)


def images(count=4, channels=1, side=28):
    return np.random.default_rng(0).random((count, side, side, channels), dtype=np.float32)


# (call, error type, fragment of the message): each must raise that error
CASES = {
    # gan
    "generate: 2 noise rows for 4": (lambda m: m.gan.generate(4, noise=np.zeros((2, 4))), ValueError, "num_samples=4"),
    "generate: empty noise": (lambda m: m.gan.generate(noise=np.zeros((0, 4))), ValueError, "at least one row"),
    "generate: noise of strings": (lambda m: m.gan.generate(noise=np.full((2, 4), "a")), ValueError, "of numbers"),
    "generate: noise of the wrong width": (lambda m: m.gan.generate(noise=np.zeros((2, 5))), ValueError, "(batch, 4)"),
    "generate: 0 samples": (lambda m: m.gan.generate(0), ValueError, "num_samples"),
    "generate: 10**9 samples": (lambda m: m.gan.generate(10**9), ValueError, "at most 100,000"),
    "generate: batch_size 0": (lambda m: m.gan.generate(2, batch_size=0), ValueError, "batch_size"),
    "generate: neither count nor noise": (lambda m: m.gan.generate(), ValueError, "num_samples"),
    "class_histogram: label 12 of 10": (lambda m: gan.class_histogram([12, 1]), ValueError, r"\[0, 10\)"),
    "class_histogram: negative label": (lambda m: gan.class_histogram([-1, 1]), ValueError, r"\[0, 10\)"),
    "class_histogram: no labels": (lambda m: gan.class_histogram(np.array([], int)), ValueError, "empty"),
    "class_histogram: float labels": (lambda m: gan.class_histogram([0.5, 1.0]), ValueError, "integer"),
    "class_histogram: num_classes 0": (lambda m: gan.class_histogram([0], num_classes=0), ValueError, "num_classes"),
    "generator builder: kernel 0": (lambda m: gan.build_dcgan_generator(4, (4, 2), kernel_size=0), ValueError,
                                    "kernel_size"),
    "discriminator builder: kernel 0": (lambda m: gan.build_dcgan_discriminator(kernel_size=0), ValueError,
                                        "kernel_size"),
    "discriminator builder: dropout 1.5": (lambda m: gan.build_dcgan_discriminator(dropout=1.5), ValueError,
                                           "dropout"),
    "discriminator builder: NaN dropout": (lambda m: gan.build_dcgan_discriminator(dropout=NAN), ValueError,
                                           "dropout"),
    "toy generator: 0 hidden units": (lambda m: gan.build_mlp_generator(hidden_units=0), ValueError, "hidden_units"),
    "toy generator: output_dim -2": (lambda m: gan.build_mlp_generator(output_dim=-2), ValueError, "output_dim"),
    "toy discriminator: 0 hidden units": (lambda m: gan.build_mlp_discriminator(hidden_units=0), ValueError,
                                          "hidden_units"),
    "GAN: ema_decay NaN": (lambda m: gan.GAN(m.gan.generator, m.gan.discriminator, 4, ema_decay=NAN), ValueError,
                           "ema_decay"),
    "GAN: r1_weight -1": (lambda m: gan.GAN(m.gan.generator, m.gan.discriminator, 4, r1_weight=-1.0), ValueError,
                          "r1_weight"),
    "GAN: latent_dim unlike the generator's": (lambda m: gan.GAN(m.gan.generator, m.gan.discriminator, 5), ValueError,
                                              "latent_dim=4"),
    "generator loss: unknown": (lambda m: gan.generator_loss("hinge"), ValueError, "generator loss"),
    "sample callback: num_grid 0": (lambda m: gan.SampleAndFIDCallback(num_grid=0), ValueError, "num_grid"),
    # vae
    "decode: empty z": (lambda m: m.vae.decode(np.zeros((0, 2))), ValueError, "at least one row"),
    "decode: z of the wrong width": (lambda m: m.vae.decode(np.zeros((3, 5))), ValueError, "(batch, 2)"),
    "decode: z of strings": (lambda m: m.vae.decode(np.full((3, 2), "x")), ValueError, "of numbers"),
    "decode: batch_size 0": (lambda m: m.vae.decode(np.zeros((3, 2)), batch_size=0), ValueError, "batch_size"),
    "encode: NaN images": (lambda m: m.vae.encode(np.full((2, 28, 28, 1), NAN, np.float32)), ValueError, "NaN"),
    "encode: 0-255 images": (lambda m: m.vae.encode(images() * 255), ValueError, r"\[0.0, 1.0\]"),
    "encode: 3 channels": (lambda m: m.vae.encode(images(channels=3)), ValueError, "channel"),
    "encode: batch_size -1": (lambda m: m.vae.encode(images(), batch_size=-1), ValueError, "batch_size"),
    "reconstruct: 14x14 images": (lambda m: m.vae.reconstruct(images(side=14)), ValueError, "shape"),
    "vae generate: 0 samples": (lambda m: m.vae.generate(0), ValueError, "num_samples"),
    "vae generate: 10**9 samples": (lambda m: m.vae.generate(10**9), ValueError, "at most 100,000"),
    "vae generate: seed -1": (lambda m: m.vae.generate(2, seed=-1), ValueError, "seed"),
    "decoder builder: 3 widths": (lambda m: vae.build_decoder(2, (8, 8, 8)), ValueError, "exactly 2 widths"),
    "decoder builder: width 0": (lambda m: vae.build_decoder(2, (8, 0)), ValueError, "filters"),
    "VAE: beta -1": (lambda m: vae.VAE(m.vae.encoder, m.vae.decoder, beta=-1.0), ValueError, "beta"),
    "VAE: infinite beta": (lambda m: vae.VAE(m.vae.encoder, m.vae.decoder, beta=INF), ValueError, "beta"),
    "VAE: infinite observation_std": (lambda m: vae.VAE(m.vae.encoder, m.vae.decoder, observation_std=INF),
                                      ValueError, "observation_std"),
    "VAE: unknown likelihood": (lambda m: vae.VAE(m.vae.encoder, m.vae.decoder, likelihood="poisson"), ValueError,
                                "likelihood"),
    "importance weighting: 0 samples": (lambda m: vae.importance_weighted_log_likelihood(m.vae, images(),
                                                                                         num_samples=0),
                                        ValueError, "num_samples"),
    "elbo: batch_size 0": (lambda m: vae.elbo_per_image(m.vae, images(), batch_size=0), ValueError, "batch_size"),
    "importance weighting: batch_size 0": (lambda m: vae.importance_weighted_log_likelihood(
        m.vae, images(), num_samples=2, batch_size=0), ValueError, "batch_size"),
    "binarize: seed -1": (lambda m: vae.binarize(images(), seed=-1), ValueError, "seed"),
    "Gaussian likelihood: infinite std": (lambda m: vae.gaussian_log_likelihood(images(), images(), INF), ValueError,
                                          "std"),
    # pix2pix
    "grey_share: low above high": (lambda m: pix2pix.grey_share(images(), np.zeros((4, 28, 28, 1)), low=0.9,
                                                                high=0.1), ValueError, "low < high"),
    "grey_share: high above 1": (lambda m: pix2pix.grey_share(images(), np.zeros((4, 28, 28, 1)), high=2.0),
                                 ValueError, "high <= 1"),
    "grey_share: NaN low": (lambda m: pix2pix.grey_share(images(), np.zeros((4, 28, 28, 1)), low=NAN), ValueError,
                            "low"),
    "receptive field: lengths differ": (lambda m: pix2pix.patch_receptive_field([4, 4, 4], [2, 2]), ValueError,
                                        "same"),
    "receptive field: stride 0": (lambda m: pix2pix.patch_receptive_field([4], [0]), ValueError, "strides"),
    "patch discriminator: no filters": (lambda m: pix2pix.build_patch_discriminator(()), ValueError, "filters"),
    "pix2pix restorer: a string": (lambda m: pix2pix.pix2pix_restorer("unet"), ValueError, "keras.Model"),
    # diffusion
    "diffusion generate: 0 samples": (lambda m: m.diffusion.generate(0), ValueError, "num_samples"),
    "diffusion generate: 10**9 samples": (lambda m: m.diffusion.generate(10**9), ValueError, "at most 100,000"),
    "diffusion generate: label 10 of 10": (lambda m: m.diffusion.generate(2, labels=[0, 10]), ValueError,
                                           r"\[0, 10\)"),
    "diffusion generate: 1 label for 2": (lambda m: m.diffusion.generate(2, labels=[3]), ValueError, r"\(2,\)"),
    "diffusion generate: float labels": (lambda m: m.diffusion.generate(2, labels=[1.0, 2.0]), ValueError, "integer"),
    "diffusion generate: 0 steps": (lambda m: m.diffusion.generate(2, num_steps=0), ValueError, "num_steps"),
    "diffusion generate: unknown sampler": (lambda m: m.diffusion.generate(2, method="rk4"), ValueError, "sampler"),
    "diffusion generate: eta 2": (lambda m: m.diffusion.generate(2, method="ddim", eta=2.0), ValueError, "eta"),
    "diffusion generate: seed -1": (lambda m: m.diffusion.generate(2, seed=-1), ValueError, "seed"),
    "diffusion generate: NaN guidance": (lambda m: m.diffusion.generate(2, labels=[0, 1], guidance=NAN), ValueError,
                                         "guidance"),
    "diffusion generate: guidance without labels": (lambda m: m.diffusion.generate(2, guidance=3.0), ValueError,
                                                    "needs labels"),
    "diffusion generate: use_ema 'yes'": (lambda m: m.diffusion.generate(2, use_ema="yes"), ValueError, "use_ema"),
    "denoiser: negative guidance": (lambda m: m.diffusion.denoiser([0], guidance=-1.0), ValueError, "guidance"),
    "denoiser: batch_size 0": (lambda m: m.diffusion.denoiser(None, batch_size=0), ValueError, "batch_size"),
    "time embedding: odd dim": (lambda m: diffusion.SinusoidalEmbedding(5), ValueError, "dim must be even"),
    "Diffusion: linear schedule with velocity": (lambda m: diffusion.Diffusion(m.diffusion.network, schedule="linear",
                                                                               prediction="velocity"),
                                                 ValueError, "supported pair"),
    "Diffusion: unknown schedule": (lambda m: diffusion.Diffusion(m.diffusion.network, schedule="sigmoid"), ValueError,
                                    "schedule"),
    "Diffusion: NaN ema_decay": (lambda m: diffusion.Diffusion(m.diffusion.network, ema_decay=NAN), ValueError,
                                 "ema_decay"),
    "Diffusion: label_dropout 2": (lambda m: diffusion.Diffusion(m.diffusion.network, label_dropout=2.0), ValueError,
                                   "label_dropout"),
    "build_diffusion: a model class of another family": (lambda m: diffusion.build_diffusion(
        diffusion.DiffusionConfig(), model_class=gan.GAN), TypeError, "DiffusionBase"),
    "balanced_labels: 0 classes": (lambda m: diffusion.balanced_labels(4, 0), ValueError, "num_classes"),
    "load_diffusion: unknown name": (lambda m: diffusion.load_diffusion("flow_cifar"), ValueError,
                                     "shipped diffusion model"),
    # diffusion_theory
    "Schedule: unknown name": (lambda m: diffusion_theory.Schedule("sigmoid"), ValueError, "schedule"),
    "Schedule: t = 1.5": (lambda m: diffusion_theory.Schedule("cosine").alpha([0.5, 1.5]), ValueError,
                          r"t must be times in \[0, 1\]"),
    "Schedule: NaN t": (lambda m: diffusion_theory.Schedule().sigma(NAN), ValueError, r"\[0, 1\]"),
    "schedule_coefficients: unknown name": (lambda m: diffusion_theory.schedule_coefficients("sigmoid", 0.5),
                                            ValueError, "schedule"),
    "ddpm_betas: 0 steps": (lambda m: diffusion_theory.ddpm_betas(0), ValueError, "num_steps"),
    "ddpm_betas: straight path": (lambda m: diffusion_theory.ddpm_betas(10, "straight"), ValueError,
                                  "DDPM schedule"),
    "ddpm_posterior: step 0": (lambda m: diffusion_theory.ddpm_posterior(0.0, 0.0, 0, diffusion_theory.ddpm_betas(10)),
                               ValueError, "step"),
    "ddpm_posterior: step past the chain": (lambda m: diffusion_theory.ddpm_posterior(
        0.0, 0.0, 11, diffusion_theory.ddpm_betas(10)), ValueError, "at most 10"),
    "forward_sample: t = -0.1": (lambda m: diffusion_theory.forward_sample(
        np.zeros((2, 1)), -0.1, diffusion_theory.Schedule(), np.zeros((2, 1))), ValueError, r"\[0, 1\]"),
    "split_prediction: unknown kind": (lambda m: diffusion_theory.split_prediction(0.0, 0.0, 1.0, 0.0, -1.0, 1.0,
                                                                                   "score"),
                                       ValueError, "prediction kind"),
    "time_grid: 0 steps": (lambda m: diffusion_theory.time_grid(0), ValueError, "num_steps"),
    "network_calls: unknown sampler": (lambda m: diffusion_theory.network_calls(4, "rk4"), ValueError, "sampler"),
    "sample: eta -1": (lambda m: diffusion_theory.sample(lambda x, t: (x, x), np.zeros((2, 1)),
                                                         diffusion_theory.Schedule(), num_steps=2, eta=-1.0),
                       ValueError, "eta"),
    "mixture: weights summing to 2": (lambda m: diffusion_theory.GaussianMixture([1.0, 1.0], [[0.0], [1.0]],
                                                                                 [1.0, 1.0]),
                                      ValueError, "sum to 1"),
    "mixture: std 0": (lambda m: diffusion_theory.GaussianMixture([1.0], [[0.0]], [0.0]), ValueError, "stds"),
    "mixture: means of the wrong length": (lambda m: diffusion_theory.GaussianMixture([0.5, 0.5], [[0.0]], [1.0, 1.0]),
                                           ValueError, "must agree"),
    "mixture score: 3-D points for a 1-D mixture": (lambda m: diffusion_theory.GaussianMixture([1.0], [[0.0]], [1.0])
                                                    .score(np.zeros((4, 3)), 0.5, diffusion_theory.Schedule()),
                                                    ValueError, r"\(N, 1\)"),
    "mixture sample: 0 points": (lambda m: diffusion_theory.GaussianMixture([1.0], [[0.0]], [1.0]).sample(0),
                                 ValueError, "num_samples"),
    # gan_theory
    "mode_coverage: empty sample": (lambda m: gan_theory.mode_coverage(np.zeros((0, 2))), ValueError,
                                    "non-empty"),
    "mode_coverage: NaN points": (lambda m: gan_theory.mode_coverage(np.full((5, 2), NAN)), ValueError, "NaN"),
    "mode_coverage: 3-D points": (lambda m: gan_theory.mode_coverage(np.zeros((5, 3))), ValueError, "(N, 2)"),
    "mode_coverage: std 0": (lambda m: gan_theory.mode_coverage(np.zeros((5, 2)), std=0.0), ValueError, "std"),
    "mode_coverage: 0 modes": (lambda m: gan_theory.mode_coverage(np.zeros((5, 2)), num_modes=0), ValueError,
                               "num_modes"),
    "optimal_discriminator: NaN density": (lambda m: gan_theory.optimal_discriminator([NAN, 1.0], [1.0, 1.0]),
                                           ValueError, "NaN"),
    "optimal_discriminator: negative density": (lambda m: gan_theory.optimal_discriminator([-1.0, 1.0], [1.0, 1.0]),
                                                ValueError, "negative"),
    "optimal_discriminator: shapes differ": (lambda m: gan_theory.optimal_discriminator([1.0, 1.0], [1.0, 1.0, 1.0]),
                                             ValueError, "same shape"),
    "optimal_discriminator: empty": (lambda m: gan_theory.optimal_discriminator([], []), ValueError, "non-empty"),
    "value_function: D = 3": (lambda m: gan_theory.value_function(3.0, np.ones(3), np.ones(3), np.arange(3.0)),
                              ValueError, r"\[0, 1\]"),
    "value_function: D with NaN": (lambda m: gan_theory.value_function([0.5, NAN, 0.5], np.ones(3), np.ones(3),
                                                                       np.arange(3.0)), ValueError, "NaN"),
    "value_function: D of the wrong length": (lambda m: gan_theory.value_function(np.full(4, 0.5), np.ones(3),
                                                                                  np.ones(3), np.arange(3.0)),
                                              ValueError, "one probability per grid point"),
    "gaussian_density: NaN std": (lambda m: gan_theory.gaussian_density(np.arange(3.0), 0.0, NAN), ValueError, "std"),
    "gaussian_density: infinite mean": (lambda m: gan_theory.gaussian_density(np.arange(3.0), INF, 1.0), ValueError,
                                        "mean"),
    "kl_divergence: NaN grid": (lambda m: gan_theory.kl_divergence(np.ones(3), np.ones(3), [0.0, NAN, 2.0]),
                                ValueError, "grid"),
    "jensen_shannon: NaN density": (lambda m: gan_theory.jensen_shannon_divergence([1.0, NAN, 1.0], np.ones(3),
                                                                                   np.arange(3.0)),
                                    ValueError, "NaN"),
    "ring: negative std": (lambda m: gan_theory.ring_of_gaussians(10, std=-1.0), ValueError, "std"),
    "ring: radius 0": (lambda m: gan_theory.ring_of_gaussians(10, radius=0.0), ValueError, "radius"),
    "ring: seed -1": (lambda m: gan_theory.ring_of_gaussians(10, seed=-1), ValueError, "seed"),
    "ring_centres: NaN radius": (lambda m: gan_theory.ring_centres(radius=NAN), ValueError, "radius"),
    # vae_theory
    "kl_gaussians: negative variance": (lambda m: vae_theory.kl_gaussians(np.zeros(2), np.diag([1.0, -0.5]),
                                                                          np.zeros(2), np.eye(2)),
                                        ValueError, "covariance_q must be positive definite"),
    "kl_gaussians: singular prior": (lambda m: vae_theory.kl_gaussians(np.zeros(2), np.eye(2), np.zeros(2),
                                                                       np.zeros((2, 2))),
                                     ValueError, "covariance_p must be positive definite"),
    "kl_gaussians: not symmetric": (lambda m: vae_theory.kl_gaussians(np.zeros(2), [[1.0, 0.5], [0.0, 1.0]],
                                                                      np.zeros(2), np.eye(2)),
                                    ValueError, "symmetric"),
    "kl_gaussians: means of other sizes": (lambda m: vae_theory.kl_gaussians(np.zeros(2), np.eye(2), np.zeros(3),
                                                                             np.eye(2)), ValueError, "mean_p"),
    "kl_gaussians: NaN mean": (lambda m: vae_theory.kl_gaussians([NAN, 0.0], np.eye(2), np.zeros(2), np.eye(2)),
                               ValueError, "mean_q"),
    "kl_diagonal: NaN log_var": (lambda m: vae_theory.kl_diagonal_standard_normal(np.zeros(2), [0.0, NAN]),
                                 ValueError, "log_var"),
    "kl_monte_carlo: infinite mean": (lambda m: vae_theory.kl_monte_carlo([INF], [0.0]), ValueError, "mean"),
    "kl_univariate: NaN mean": (lambda m: vae_theory.kl_univariate(NAN, 1.0, 0.0, 1.0), ValueError, "means"),
    "kl_univariate: std 0": (lambda m: vae_theory.kl_univariate(0.0, 0.0, 0.0, 1.0), ValueError, "standard dev"),
    "multivariate_log_normal: not positive definite": (lambda m: vae_theory.multivariate_log_normal(
        np.zeros((1, 2)), np.zeros(2), -np.eye(2)), ValueError, "positive definite"),
    "multivariate_log_normal: mean of another size": (lambda m: vae_theory.multivariate_log_normal(
        np.zeros((1, 2)), np.zeros(3), np.eye(2)), ValueError, "mean"),
    "linear-Gaussian model: NaN weights": (lambda m: vae_theory.LinearGaussianModel(np.full((3, 2), NAN), np.zeros(3),
                                                                                    0.5), ValueError, "finite"),
    "linear-Gaussian model: infinite noise": (lambda m: vae_theory.LinearGaussianModel(np.ones((3, 2)), np.zeros(3),
                                                                                       INF), ValueError, "noise_std"),
    "log_marginal: NaN data": (lambda m: vae_theory.log_marginal(vae_theory.random_linear_gaussian(),
                                                                 np.full((2, 5), NAN)), ValueError, "NaN"),
    "log_marginal: no rows": (lambda m: vae_theory.log_marginal(vae_theory.random_linear_gaussian(),
                                                                np.zeros((0, 5))), ValueError, "batch >= 1"),
    "log_joint: codes of the wrong size": (lambda m: vae_theory.log_joint(vae_theory.random_linear_gaussian(),
                                                                          np.zeros((2, 5)), np.zeros((2, 3))),
                                           ValueError, "z must have shape"),
    "elbo: NaN posterior means": (lambda m: vae_theory.elbo(vae_theory.random_linear_gaussian(), np.zeros((1, 5)),
                                                            np.full((1, 2), NAN), np.eye(2)), ValueError, "q_means"),
    "elbo: negative variance": (lambda m: vae_theory.elbo(vae_theory.random_linear_gaussian(), np.zeros((1, 5)),
                                                          np.zeros((1, 2)), -np.eye(2)), ValueError,
                                "q_covariance must be positive definite"),
    "gradient_estimates: not a function": (lambda m: vae_theory.gradient_estimates(0.0, 1.0, 10, function=3),
                                           TypeError, "function"),
    "gradient_estimates: NaN mean": (lambda m: vae_theory.gradient_estimates(NAN, 1.0, 10), ValueError, "mean"),
    # viz
    "image_grid: 0 columns": (lambda m: viz.image_grid(images(), num_columns=0), ValueError, "num_columns"),
    "image_grid: 10**6 columns": (lambda m: viz.image_grid(images(), num_columns=10**6), ValueError,
                                  "num_columns must be at most 100"),
    "image_grid: titles as one string": (lambda m: viz.image_grid(images(), titles="abcd"), ValueError, "titles"),
    "image_grid: 2 channels": (lambda m: viz.image_grid(images(channels=2)), ValueError, r"1 \(grey\) or 3 \(RGB\)"),
    "image_grid: channels first": (lambda m: viz.image_grid(np.moveaxis(images(), -1, 1)), ValueError,
                                   r"np\.moveaxis\(images, 1, -1\)"),
    "image_grid: 5,000 images": (lambda m: viz.image_grid(np.zeros((5000, 2, 2, 1))), ValueError, "at most 400"),
    "image_grid: cell_inches 0": (lambda m: viz.image_grid(images(), cell_inches=0), ValueError, "cell_inches"),
    "compare_images: num_images 0": (lambda m: viz.compare_images({"a": images()}, num_images=0), ValueError,
                                     "num_images"),
    "compare_images: a list of rows": (lambda m: viz.compare_images([images()]), ValueError, "dict"),
    "compare_images: 2 channels": (lambda m: viz.compare_images({"a": images(channels=2)}), ValueError, "channels"),
    "class_grid: per_class 0": (lambda m: viz.class_grid(images(), np.zeros(4, int), ["a"], per_class=0),
                                ValueError, "per_class"),
    "class_grid: no class names": (lambda m: viz.class_grid(images(), np.zeros(4, int), []), ValueError,
                                   "class_names"),
    "class_grid: class names as one string": (lambda m: viz.class_grid(images(), np.zeros(4, int), "ab"),
                                              ValueError, "class_names"),
    "plot_history: keys=[]": (lambda m: viz.plot_history({"loss": [1.0]}, keys=[]), ValueError, "at least one"),
    "plot_history: keys as one string": (lambda m: viz.plot_history({"loss": [1.0]}, keys="loss"), ValueError,
                                         r"\['loss'\]"),
    "plot_history: empty curve": (lambda m: viz.plot_history({"loss": []}), ValueError, "non-empty list"),
    "plot_history: baseline without a label": (lambda m: viz.plot_history({"loss": [1.0]}, baselines={"loss": 1.0}),
                                                ValueError, "baselines"),
    "confusion matrix: negative counts": (lambda m: viz.plot_confusion_matrix(-np.eye(2, dtype=int), ["a", "b"]),
                                          ValueError, "non-negative"),
    "confusion matrix: NaN counts": (lambda m: viz.plot_confusion_matrix(np.full((2, 2), NAN), ["a", "b"]),
                                     ValueError, "finite"),
    "confusion matrix: class names as one string": (lambda m: viz.plot_confusion_matrix(np.eye(2, dtype=int), "ab"),
                                                    ValueError, "class_names"),
    # exercises
    "check: num_cases 0": (lambda m: exercises.check("to_unit_range", lambda x: x, num_cases=0, verbose=False),
                           ValueError, "num_cases"),
    "check: num_cases -3": (lambda m: exercises.check("to_unit_range", lambda x: x, num_cases=-3, verbose=False),
                            ValueError, "num_cases"),
    "check: num_cases 10**9": (lambda m: exercises.check("to_unit_range", lambda x: x, num_cases=10**9,
                                                         verbose=False), ValueError, "num_cases"),
    "check: unknown exercise": (lambda m: exercises.check("nope", lambda x: x, verbose=False), ValueError,
                                "exercise"),
    "check: seed -1": (lambda m: exercises.check("to_unit_range", lambda x: x, seed=-1, verbose=False), ValueError,
                       "seed"),
    "show_solution: unknown exercise": (lambda m: exercises.show_solution("nope"), ValueError, "exercise"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_a_clear_error(models, name):
    call, error, fragment = CASES[name]
    with pytest.raises(error, match=fragment):
        call(models)


@SETTINGS
@given(channels=st.integers(2, 16).filter(lambda channels: channels != 3))
def test_figures_refuse_images_that_are_neither_grey_nor_rgb(channels):
    batch = np.zeros((2, 5, 5, channels), np.float32)
    for draw in (lambda: viz.image_grid(batch), lambda: viz.compare_images({"a": batch}),
                 lambda: viz.class_grid(batch, np.zeros(2, int), ["a"])):
        with pytest.raises(ValueError, match=r"channel(s|\(s\))? in the last axis"):
            draw()


@SETTINGS
@given(num_cases=st.one_of(st.integers(max_value=0), st.integers(min_value=exercises.MAX_CASES + 1),
                           st.floats(), st.booleans(), st.text(max_size=2)))
def test_an_exercise_check_that_would_try_no_case_is_an_error_not_a_pass(num_cases):
    with pytest.raises(ValueError, match="num_cases"):
        exercises.check("to_unit_range", exercises.EXERCISES["to_unit_range"].reference, num_cases=num_cases,
                        verbose=False)


@SETTINGS
@given(size=st.integers(3, 12), data=st.data())
def test_theory_helpers_refuse_a_density_with_one_bad_value(size, data):
    grid = np.linspace(-3, 3, size)
    density = gan_theory.gaussian_density(grid, 0.0, 1.0)
    damaged = density.copy()
    damaged[data.draw(st.integers(0, size - 1))] = data.draw(st.sampled_from([NAN, INF, -1.0]))
    for call in (lambda: gan_theory.optimal_discriminator(damaged, density),
                 lambda: gan_theory.value_function(np.full(size, 0.5), damaged, density, grid),
                 lambda: gan_theory.kl_divergence(density, damaged, grid),
                 lambda: gan_theory.jensen_shannon_divergence(damaged, density, grid)):
        with pytest.raises(ValueError, match="finite and non-negative"):
            call()


@SETTINGS
@given(variances=st.lists(st.floats(-5, 5), min_size=1, max_size=4).filter(lambda values: min(values) <= 0))
def test_kl_gaussians_refuses_a_covariance_that_is_not_positive_definite(variances):
    dimension = len(variances)
    with pytest.raises(ValueError, match="covariance_q must be positive definite"):
        vae_theory.kl_gaussians(np.zeros(dimension), np.diag(variances), np.zeros(dimension), np.eye(dimension))


def test_valid_edge_values_still_give_answers():
    """The rules refuse what is wrong, not what is unusual."""
    grid, ones = np.arange(3.0), np.ones(3)
    # a constant D = 1/2: V = (log 1/2 + log 1/2) * (integral of 1 over [0, 2] = 2)
    assert gan_theory.value_function(0.5, ones, ones, grid) == pytest.approx(2 * 2 * math.log(0.5))
    assert gan_theory.value_function(ones, ones, np.zeros(3), grid) == pytest.approx(0.0, abs=1e-12)  # D = 1 on data
    np.testing.assert_allclose(gan.class_histogram([9, 9]), np.eye(10)[9])
    assert pix2pix.grey_share(np.full((1, 2, 2, 1), 0.5, np.float32), np.zeros((1, 2, 2, 1)), low=0.0, high=1.0) == 1.0
    assert exercises.check("to_unit_range", exercises.EXERCISES["to_unit_range"].reference, num_cases=1,
                           verbose=False).passed
    assert exercises.check("to_unit_range", "x / 255", verbose=False).status == "wrong"  # reported, not raised
    assert len(viz.image_grid(images(), num_columns=6).axes) == 6  # more columns than images: blank cells
    assert pix2pix.patch_receptive_field([4, 4, 4], [2, 2, 1]) == 22
