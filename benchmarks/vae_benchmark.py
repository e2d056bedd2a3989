"""Benchmark: this course's VAE against the TensorFlow CVAE tutorial's configuration.

Both train on the shipped 8,000-digit MNIST split for the same wall-clock time on this machine,
then each is scored by its test negative ELBO (nats per digit, beta = 1) on the 2,000 held-out
digits, binarised once with seed 0, the same binary images for both.

    python benchmarks/vae_benchmark.py --seconds 180

The tutorial's configuration (tensorflow.org/tutorials/generative/cvae), reimplemented from its
description: latent 2; encoder two 3x3 convolutions of stride 2 with 32 and 64 filters, ReLU,
then one dense layer giving mean and log-variance; decoder Dense 7x7x32, 3x3 transposed
convolutions 64 and 32 (stride 2, ReLU) and a 3x3 transposed convolution to one logit per pixel;
batch 32; Adam 1e-4. Both sides run through the same ``course_lib.vae.VAE`` and
``train_vae`` (dynamic binarisation, closed-form KL), so that only the configuration differs:
the tutorial itself thresholds the pixels at 0.5 once and estimates the KL by sampling.
The course side is the shipped latent-2 configuration (``vae.SHIPPED_CONFIGS``).
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from course_lib import data, runtime, vae  # noqa: E402

keras = vae.keras
layers = vae.layers

TUTORIAL_CONFIG = vae.VAEConfig(latent_dim=2, batch_size=32, learning_rate=1e-4, epochs=1000)


def build_tutorial_vae(seed: int) -> vae.VAE:
    keras.utils.set_random_seed(seed)
    image = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, strides=2, activation="relu")(image)
    x = layers.Conv2D(64, 3, strides=2, activation="relu")(x)
    x = layers.Flatten()(x)
    mean, log_var = layers.Dense(2)(x), layers.Dense(2)(x)       # the tutorial's Dense(2 * latent), split
    encoder = keras.Model(image, [mean, log_var])
    z = keras.Input((2,))
    y = layers.Reshape((7, 7, 32))(layers.Dense(7 * 7 * 32, activation="relu")(z))
    y = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(y)
    y = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(y)
    logits = layers.Conv2DTranspose(1, 3, strides=1, padding="same")(y)
    model = vae.VAE(encoder, keras.Model(z, logits), seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(TUTORIAL_CONFIG.learning_rate))
    model.build((None, 28, 28, 1))
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--importance-samples", type=int, default=0,
                        help="also report the importance-weighted NLL with this many samples (0: skip)")
    parser.add_argument("--only", choices=("course", "tutorial"), help="train one side only")
    args = parser.parse_args(argv)
    runtime.seed_everything(args.seed)
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    binary_test = vae.binarize(mnist.x_test, seed=0)
    course_config = dataclasses.replace(vae.SHIPPED_CONFIGS["vae_mnist_latent2"], max_seconds=args.seconds, seed=args.seed)
    tutorial_config = dataclasses.replace(TUTORIAL_CONFIG, max_seconds=args.seconds, seed=args.seed)
    contenders = {
        "course": ("course VAE (latent 2)", course_config, lambda: None),
        "tutorial": ("TF tutorial CVAE", tutorial_config, lambda: build_tutorial_vae(args.seed)),
    }
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for key, (name, config, build) in contenders.items():
            if args.only and key != args.only:
                continue
            model = build()
            started = time.perf_counter()
            model, history = vae.train_vae(config, mnist.x_train, model=model, workdir=workdir, verbose=0, restart=True)
            spent = time.perf_counter() - started
            seen = int(model.optimizer.iterations.numpy()) * config.batch_size
            negative_elbo = -vae.elbo_per_image(model, binary_test).mean()
            nll = (-vae.importance_weighted_log_likelihood(model, binary_test, num_samples=args.importance_samples).mean()
                   if args.importance_samples else float("nan"))
            rows.append((name, spent, seen / spent, seen / len(mnist.x_train), negative_elbo, nll))
            print(f"{name}: {spent:.0f} s, {seen / spent:.0f} images/s, negative ELBO {negative_elbo:.1f} nats", flush=True)
    print(f"\nSame wall-clock budget: {args.seconds:.0f} s on {runtime.device_report().cpu_cores} CPU core(s); test negative "
          f"ELBO in nats per digit on the 2,000 held-out digits (binarised, seed 0); lower is better.")
    header = "| model | seconds | images/s | epochs | test negative ELBO |" + (
        f" NLL (k = {args.importance_samples}) |" if args.importance_samples else "")
    print(header)
    print("|---|---:|---:|---:|---:|" + ("---:|" if args.importance_samples else ""))
    for name, spent, speed, epochs, negative_elbo, nll in rows:
        print(f"| {name} | {spent:.0f} | {speed:.0f} | {epochs:.1f} | {negative_elbo:.1f} |"
              + (f" {nll:.1f} |" if args.importance_samples else ""))
    print(f"| independent pixels (baseline) | | | | {independent_pixel_baseline(mnist.x_train, binary_test):.1f} |"
          + (" |" if args.importance_samples else ""))
    if len(rows) == 2:
        print(f"Difference tutorial - course: {rows[1][4] - rows[0][4]:.1f} nats")
    return 0


def independent_pixel_baseline(train_images, binary_test) -> float:
    """Negative log-likelihood of a model with independent pixels at their training frequencies."""
    frequencies = np.clip(train_images.mean(axis=0), 1e-3, 1 - 1e-3)
    log_likelihood = binary_test * np.log(frequencies) + (1 - binary_test) * np.log(1 - frequencies)
    return float(-log_likelihood.reshape(len(binary_test), -1).sum(axis=1).mean())


if __name__ == "__main__":
    sys.exit(main())
