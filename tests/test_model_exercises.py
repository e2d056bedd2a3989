"""The two exercises that change a model's training code: the hinge loss in ``GAN.train_step``
(notebook 03) and a KL warm-up in ``VAE.compute_loss`` (notebook 05).

Each check runs the learner's class and the reference for one real training step (or one loss)
on a toy model and compares what comes out. These tests prove that the checks accept the
reference, call an untouched stub "not attempted", and reject the mistakes a learner is likely
to make, on every seed tried.
"""

from __future__ import annotations

import pytest

from course_lib import exercises, gan, solutions, vae
from course_lib.runtime import import_tensorflow

tf = import_tensorflow()
from keras import ops  # noqa: E402

SEEDS = (0, 1, 2)


# ------------------------------------------------------------------ notebook 03: the hinge loss

def gan_with_objectives(discriminator_objective, generator_objective):
    """What a learner writes: notebook 03's GAN with its two objectives replaced."""

    class Candidate(gan.GAN):
        def discriminator_objective(self, real_logits, fake_logits):
            return discriminator_objective(real_logits, fake_logits)

        def generator_objective(self, generated_logits):
            return generator_objective(generated_logits)

    return Candidate


def gan_written_from_scratch(discriminator_objective, generator_objective):
    """A GAN whose train_step is written anew (no packing, no R1, no moving average): the check
    must judge what a step does, not how the class is laid out."""

    class Candidate(gan.GANBase):
        def train_step(self, real):
            batch_size = ops.shape(real)[0]
            noise = self.sample_noise(batch_size)
            with tf.GradientTape() as tape:
                real_logits = self.discriminator(real, training=True)
                fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
                d_loss = discriminator_objective(real_logits, fake_logits)
            gradients = tape.gradient(d_loss, self.discriminator.trainable_variables)
            self.discriminator_optimizer.apply_gradients(zip(gradients, self.discriminator.trainable_variables))
            noise = self.sample_noise(batch_size)
            with tf.GradientTape() as tape:
                g_loss = generator_objective(self.discriminator(self.generator(noise, training=True), training=True))
            gradients = tape.gradient(g_loss, self.generator.trainable_variables)
            self.generator_optimizer.apply_gradients(zip(gradients, self.generator.trainable_variables))
            return {"d_loss": d_loss, "g_loss": g_loss}

    return Candidate


def hinge_discriminator(real, fake):
    return ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))


def hinge_generator(fake):
    return -ops.mean(fake)


@pytest.mark.parametrize("seed", SEEDS)
def test_hinge_check_accepts_the_reference_and_right_answers(seed):
    assert exercises.check("hinge_gan", solutions.HingeGAN, seed=seed, verbose=False).passed
    for right in (gan_with_objectives(hinge_discriminator, hinge_generator),
                  gan_written_from_scratch(hinge_discriminator, hinge_generator)):
        result = exercises.check("hinge_gan", right, seed=seed, verbose=False)
        assert result.passed, result.message


HINGE_MISTAKES = {
    "margins with the wrong sign": (lambda real, fake: ops.mean(ops.relu(1.0 + real)) + ops.mean(ops.relu(1.0 - fake)),
                                    hinge_generator),
    "generator loss with the wrong sign": (hinge_discriminator, lambda fake: ops.mean(fake)),
    "a margin on the generator too": (hinge_discriminator, lambda fake: ops.mean(ops.relu(1.0 - fake))),
    "no relu (the Wasserstein critic)": (lambda real, fake: ops.mean(1.0 - real) + ops.mean(1.0 + fake),
                                         hinge_generator),
    "a missing factor: the two terms averaged": (lambda real, fake: 0.5 * hinge_discriminator(real, fake),
                                                 hinge_generator),
    "the cross-entropy left in place": (gan.discriminator_loss, gan.generator_loss_non_saturating),
}


@pytest.mark.parametrize("mistake", sorted(HINGE_MISTAKES))
@pytest.mark.parametrize("seed", SEEDS)
def test_hinge_check_rejects_plausible_mistakes(mistake, seed):
    result = exercises.check("hinge_gan", gan_with_objectives(*HINGE_MISTAKES[mistake]), seed=seed, verbose=False)
    assert result.status == "wrong", f"{mistake}: {result.message}"
    assert "Hint" in result.message


def test_the_untouched_gan_and_the_stub():
    assert exercises.check("hinge_gan", gan.GAN, seed=0, verbose=False).status == "wrong"

    class Stub(gan.GAN):
        def discriminator_objective(self, real_logits, fake_logits):
            raise NotImplementedError  # your code here

        def generator_objective(self, generated_logits):
            raise NotImplementedError  # your code here

    assert exercises.check("hinge_gan", Stub, verbose=False).status == "not attempted"
    instance = exercises.check("hinge_gan", object(), verbose=False)
    assert instance.status == "wrong" and "the class itself" in instance.message


# ------------------------------------------------------------------ notebook 05: a KL warm-up

def vae_with_kl_weight(kl_weight, weighted_kl_tracker: bool = False):
    """A VAE whose compute_loss weighs the KL by ``kl_weight(model)`` (the rest as the library's)."""

    class Candidate(vae.VAE):
        def __init__(self, encoder, decoder, *, warmup_epochs=5, steps_per_epoch=250, **kwargs):
            super().__init__(encoder, decoder, **kwargs)
            self.warmup_epochs = warmup_epochs
            self.steps_per_epoch = steps_per_epoch

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            y_pred = self(x, training=training)
            reconstruction = -self.log_likelihood(y_pred["targets"], y_pred["logits"])
            kl = vae.gaussian_kl(y_pred["mean"], y_pred["log_var"])
            weight = kl_weight(self)
            loss = ops.mean(reconstruction + weight * kl)
            self.loss_tracker.update_state(loss)
            self.reconstruction_tracker.update_state(ops.mean(reconstruction))
            self.kl_tracker.update_state(ops.mean(weight * kl) if weighted_kl_tracker else ops.mean(kl))
            return loss

    return Candidate


def iterations(model):
    return ops.cast(model.optimizer.iterations, "float32")


def epoch(model):
    return ops.floor(iterations(model) / model.steps_per_epoch)


def right_weight(model):
    return model.beta * ops.minimum(1.0, epoch(model) / model.warmup_epochs)


@pytest.mark.parametrize("seed", SEEDS)
def test_warmup_check_accepts_the_reference_and_an_independent_right_answer(seed):
    assert exercises.check("kl_warmup_vae", solutions.KLWarmupVAE, seed=seed, verbose=False).passed
    result = exercises.check("kl_warmup_vae", vae_with_kl_weight(right_weight), seed=seed, verbose=False)
    assert result.passed, result.message


WARMUP_MISTAKES = {
    "off by one epoch (epochs counted from 1)":
        vae_with_kl_weight(lambda model: model.beta * ops.minimum(1.0, (epoch(model) + 1) / model.warmup_epochs)),
    "a missing factor: beta left out":
        vae_with_kl_weight(lambda model: ops.minimum(1.0, epoch(model) / model.warmup_epochs)),
    "a fractional epoch (no floor)":
        vae_with_kl_weight(lambda model: model.beta * ops.minimum(
            1.0, iterations(model) / model.steps_per_epoch / model.warmup_epochs)),
    "warm-up counted in steps, not epochs":
        vae_with_kl_weight(lambda model: model.beta * ops.minimum(1.0, iterations(model) / model.warmup_epochs)),
    "no warm-up at all": vae_with_kl_weight(lambda model: model.beta),
    "the kl tracker weighted too": vae_with_kl_weight(right_weight, weighted_kl_tracker=True),
}


@pytest.mark.parametrize("mistake", sorted(WARMUP_MISTAKES))
@pytest.mark.parametrize("seed", SEEDS)
def test_warmup_check_rejects_plausible_mistakes(mistake, seed):
    result = exercises.check("kl_warmup_vae", WARMUP_MISTAKES[mistake], seed=seed, verbose=False)
    assert result.status == "wrong", f"{mistake}: {result.message}"


def test_warmup_stub_is_not_attempted_and_the_plain_vae_is_refused():
    class Stub(vae.VAE):
        def __init__(self, encoder, decoder, *, warmup_epochs=5, steps_per_epoch=250, **kwargs):
            super().__init__(encoder, decoder, **kwargs)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            raise NotImplementedError  # your code here

    assert exercises.check("kl_warmup_vae", Stub, verbose=False).status == "not attempted"
    plain = exercises.check("kl_warmup_vae", vae.VAE, seed=0, verbose=False)
    assert plain.status == "wrong" and "warmup_epochs" in plain.message
