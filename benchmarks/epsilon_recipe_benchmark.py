"""Benchmark: which schedule and sampler the generation benchmark's noise-predicting model uses.

An unconditional epsilon-prediction model (``DiffusionConfig(prediction="epsilon",
num_classes=0)``) is trained for ``--seconds`` of training time under the cosine and the
linear schedule, from the same seed on the shipped 8,000 MNIST training digits; each is then
sampled from the same noise with 16 DDIM steps, 16 DDPM steps, 64 DDIM steps and 16 DDIM steps
without its moving-average weights, and scored with the frozen evaluator (FID of ``--samples``
samples against the 2,000 held-out digits). ``benchmarks/generation_benchmark.py`` races the
best of these (the linear schedule with 16 DDPM steps, in its docstring with this run's numbers).

    python benchmarks/epsilon_recipe_benchmark.py                 # 200 s per schedule, 1,000 samples
    python benchmarks/epsilon_recipe_benchmark.py --seconds 5 --images 256 --samples 100   # a quick look
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from course_lib import data, diffusion, metrics, runtime  # noqa: E402

SAMPLERS = {"16 DDIM steps": dict(num_steps=16, method="ddim"), "16 DDPM steps": dict(num_steps=16, method="ddpm"),
            "64 DDIM steps": dict(num_steps=64, method="ddim"),
            "16 DDIM steps, no EMA": dict(num_steps=16, method="ddim", use_ema=False)}


def compare(train_images, evaluator, reference_features, *, seconds: float, samples: int, seed: int = 0) -> dict:
    """``{schedule: {sampler: FID}}`` for the cosine and linear schedules after ``seconds`` of training."""
    results = {}
    for schedule in ("cosine", "linear"):
        runtime.seed_everything(seed)
        config = diffusion.DiffusionConfig(schedule=schedule, prediction="epsilon", num_classes=0, epochs=1_000_000,
                                           max_seconds=seconds, seed=seed)
        with tempfile.TemporaryDirectory() as workdir:
            model, _ = diffusion.train_diffusion(config, train_images, workdir=workdir, verbose=0, restart=True)
        results[schedule] = {name: metrics.frechet_distance(
            evaluator.features(model.generate(samples, seed=seed, **options)), reference_features)
            for name, options in SAMPLERS.items()}
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=200.0, help="training seconds per schedule")
    parser.add_argument("--samples", type=int, default=1000, help="samples per FID")
    parser.add_argument("--images", type=int, default=None, help="train on the first N training digits")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from course_lib.evaluator import load_evaluator

    mnist = data.load_dataset("mnist", source="subset", verbose=False)
    images = mnist.x_train if args.images is None else mnist.x_train[:args.images]
    evaluator, _ = load_evaluator()
    reference = evaluator.features(mnist.x_test)
    floor = metrics.frechet_distance(evaluator.features(mnist.x_train[:len(mnist.x_test)]), reference)
    results = compare(images, evaluator, reference, seconds=args.seconds, samples=args.samples, seed=args.seed)
    print(f"FID of {args.samples:,} samples after {args.seconds:.0f} s of training (floor {floor:.2f}):")
    print("| schedule | " + " | ".join(SAMPLERS) + " |")
    print("|---|" + "---:|" * len(SAMPLERS))
    for schedule, row in results.items():
        print(f"| {schedule} | " + " | ".join(f"{value:,.0f}" for value in row.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
