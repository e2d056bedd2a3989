"""Benchmark: this course's DCGAN against the TensorFlow DCGAN tutorial's configuration.

Both train on the shipped 8,000-digit MNIST split for the same wall-clock time on this machine,
then each draws 2,000 samples whose FID on the frozen evaluator is measured against the 2,000
held-out digits. The real-vs-real floor (2,000 training digits against the same 2,000 held-out
digits) is printed beside them.

    python benchmarks/dcgan_benchmark.py --seconds 300

The tutorial's configuration, reimplemented from its description: noise 100; generator
Dense 7x7x256 then 5x5 transposed convolutions 128 (stride 1), 64 (stride 2), 1 (stride 2,
tanh) with batch normalisation and leaky ReLU; discriminator 5x5 convolutions 64-128 (stride 2)
with leaky ReLU and dropout 0.3; Adam 1e-4 for both players; batch 256; non-saturating loss.
Both training steps are compiled with XLA (Keras leaves XLA off on CPU-only machines).
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from course_lib import data, gan, runtime, training  # noqa: E402
from course_lib.evaluator import load_evaluator  # noqa: E402

keras = gan.keras
layers = gan.layers


def build_tutorial_gan(seed: int) -> gan.GAN:
    keras.utils.set_random_seed(seed)
    noise = keras.Input((100,))
    x = layers.Dense(7 * 7 * 256, use_bias=False)(noise)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((7, 7, 256))(x)
    x = layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False)(x)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False)(x)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    image = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x)
    generator = keras.Model(noise, image)
    inputs = keras.Input((28, 28, 1))
    y = layers.Dropout(0.3)(layers.LeakyReLU()(layers.Conv2D(64, 5, strides=2, padding="same")(inputs)))
    y = layers.Dropout(0.3)(layers.LeakyReLU()(layers.Conv2D(128, 5, strides=2, padding="same")(y)))
    discriminator = keras.Model(inputs, layers.Dense(1)(layers.Flatten()(y)))
    model = gan.GAN(generator, discriminator, 100, seed=seed)
    # compiled with XLA like the course's DCGAN: the comparison is of configurations, not of compilers
    model.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4), jit_compile=True)
    model.build((None, 100))
    return model


def train_for(model: gan.GAN, images: np.ndarray, batch_size: int, seconds: float, seed: int):
    """Train until ``seconds`` have passed; returns (images seen, seconds spent)."""
    import tensorflow as tf

    dataset = (tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed)
               .repeat().batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    limit = training.TimeLimit(seconds)
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: counted.append(1))
    counted = []
    started = time.perf_counter()
    model.fit(dataset, steps_per_epoch=len(images) // batch_size, epochs=10_000, callbacks=[limit, counter],
              verbose=0)
    spent = time.perf_counter() - started
    return len(counted) * batch_size, spent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    runtime.seed_everything(args.seed)
    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    evaluator, _ = load_evaluator()
    test_features = evaluator.features(mnist.x_test)
    from course_lib import metrics

    floor = metrics.frechet_distance(evaluator.features(mnist.x_train[:2000]), test_features)
    course_config = dataclasses.replace(gan.DCGANConfig(), seed=args.seed)
    contenders = {
        "course DCGAN": (gan.build_dcgan(course_config), course_config.batch_size),
        "TF tutorial DCGAN": (build_tutorial_gan(args.seed), 256),
    }
    rows = []
    for name, (model, batch_size) in contenders.items():
        seen, spent = train_for(model, mnist.x_train, batch_size, args.seconds, args.seed)
        samples = model.generate(2000)
        fid = metrics.frechet_distance(evaluator.features(samples), test_features)
        rows.append((name, spent, seen / spent, fid))
        print(f"{name}: {spent:.0f} s, {seen / spent:.0f} images/s, FID {fid:.2f}", flush=True)
    print(f"\nSame wall-clock budget: {args.seconds:.0f} s on {runtime.device_report().cpu_cores} CPU core(s); "
          f"FID of 2,000 samples against the 2,000 held-out digits (evaluator features).")
    print(f"{'model':<20} {'seconds':>8} {'images/s':>9} {'FID':>8} {'FID / floor':>12}")
    for name, spent, speed, fid in rows:
        print(f"{name:<20} {spent:>8.0f} {speed:>9.0f} {fid:>8.2f} {fid / floor:>12.1f}")
    print(f"{'real vs real floor':<20} {'':>8} {'':>9} {floor:>8.2f} {1.0:>12.1f}")
    print(f"FID ratio tutorial / course: {rows[1][3] / rows[0][3]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
