"""Benchmark: the course's four generators raced for the same training time on the same digits.

The DCGAN of notebook 03, the best VAE of notebook 05 (the latent-16 recipe of
``vae.SHIPPED_CONFIGS``), a diffusion model and a flow-matching model of notebook 07, all
unconditional, each trained from the same seed on the shipped 8,000 MNIST training digits for
the same training seconds (time inside epochs, as ``course_lib.training.TimeLimit`` counts it
for every family). One run per family goes to the largest of ``--seconds``; on the way,
``course_lib.training.MeasureAtSeconds`` measures it after the first epoch ending past each of
``--seconds`` (``--samples`` samples, default 2,000) and past every ``--every`` seconds
(``--curve-samples``, default 1,000: FID is biased upwards at fewer samples, so those points
are a little pessimistic). Each measurement draws samples from fixed noise (the same seed at
every point) and scores them with the frozen evaluator against the 2,000 held-out digits: FID,
precision and recall; the measuring is not counted as training, while building the training
step in the first epoch (tracing, XLA compilation: seconds) is, for every family, as in every
manifest. At the end it times sampling
(milliseconds per image, best of three batches of ``--timed`` after a warm-up) and counts the
parameters of the network that samples.

    python benchmarks/generation_benchmark.py                          # 300 s and 1,800 s per family
    python benchmarks/generation_benchmark.py --seconds 60 --families flow vae
    python benchmarks/generation_benchmark.py --seconds 5 --images 256 --samples 200 --every 0  # a quick look
    python benchmarks/generation_benchmark.py --dataset fashion_mnist --seconds 300 \
        --output benchmarks/results/generation_benchmark_fashion_mnist   # the same race on clothes

``--dataset fashion_mnist`` races on the 8,000 training images of Fashion-MNIST's judged split
(:func:`course_lib.data.judged_split`) and scores with its own judge against its 2,000 held-out
images; the recipes are the digits', unchanged, which is the point of the comparison.

Recipes (each family's own, with the changes a race for time needs):
- DCGAN: ``gan.DCGANConfig()``, the shipped configuration (its moving-average generator samples).
  Its FID is known to reach its best early and then degrade on long runs, so the table gives its
  best measured point ("best FID", with where it was measured) beside the last.
- VAE: ``vae.SHIPPED_CONFIGS["vae_mnist_latent16"]``; samples are decoded pixel probabilities of
  z ~ N(0, I).
- diffusion: ``DiffusionConfig(schedule="linear", prediction="epsilon", num_classes=0)``, sampled
  with 16 ancestral DDPM steps (16 network calls). Both choices were measured: after 200 s of
  training (1,000 samples, seed 0) the cosine schedule scored FID 1,284 with 16 DDIM steps and
  840 with 16 DDPM steps, the linear one 1,035 and 534. An early epsilon model's errors at high
  noise are amplified by 1 / alpha into grey backgrounds and white blobs; DDIM's deterministic
  path keeps them, DDPM's fresh noise washes part of them out (``benchmarks/epsilon_recipe_benchmark.py``
  prints this comparison).
- flow matching: ``DiffusionConfig(schedule="straight", prediction="velocity", num_classes=0)``,
  sampled with 8 Heun steps (15 network calls); both use their EMA weights.
Every learning rate is held constant (the VAE's shipped recipe decays it over 50 epochs: a
decay needs the run's length in updates, which a time budget does not fix in advance), and the
epoch count is set high enough that only time ends a run.

It prints one table (family, seconds, FID, best FID so far and where, precision, recall,
ms / image, parameters) with the real-vs-real floor, and writes ``--output`` ``.json`` (every
measured point, the recipes, the settings) and ``.png`` (FID against training seconds for all
families, ``course_lib.viz.plot_fid_over_training``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
import tempfile
import time
import typing

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from course_lib import data, decisions, diffusion, gan, metrics, runtime, training, vae, viz  # noqa: E402

DEFAULT_OUTPUT = pathlib.Path(__file__).resolve().parent / "results" / "generation_benchmark"
RACE_EPOCHS = 1_000_000  # only time ends a run


class Family(typing.NamedTuple):
    """One contender: its recipe, its training entry point and how it samples."""
    label: str
    config: object
    train: typing.Callable          # train_<family>(config, images, *, callbacks, workdir, verbose, restart)
    sample: typing.Callable         # (model, num_samples, seed) -> images in [0, 1]
    sampler: str
    sampling_network: typing.Callable  # model -> the keras.Model that samples


def dcgan_samples(model, num_samples: int, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal((num_samples, model.latent_dim)).astype(np.float32)
    return model.generate(noise=noise)


def families(seed: int = 0) -> dict:
    """The four contenders, each with its recipe for a race of ``seed``."""
    race = {"epochs": RACE_EPOCHS, "max_seconds": None, "seed": seed}
    return {
        "dcgan": Family("DCGAN", dataclasses.replace(gan.DCGANConfig(), **race), gan.train_dcgan, dcgan_samples,
                        "one generator call (EMA weights)",
                        lambda model: model.ema_generator if model.ema_generator is not None else model.generator),
        "vae": Family("VAE, latent 16", dataclasses.replace(vae.SHIPPED_CONFIGS["vae_mnist_latent16"],
                                                            final_learning_rate=None, **race),
                      vae.train_vae, lambda model, count, seed: model.generate(count, seed=seed),
                      "one decoder call (pixel probabilities)", lambda model: model.decoder),
        "diffusion": Family("diffusion", diffusion.DiffusionConfig(schedule="linear", prediction="epsilon",
                                                                   num_classes=0, **race),
                            diffusion.train_diffusion,
                            lambda model, count, seed: model.generate(count, num_steps=16, method="ddpm", seed=seed),
                            "DDPM, 16 steps (16 network calls, EMA weights)", lambda model: model.ema_network),
        "flow": Family("flow matching", diffusion.DiffusionConfig(schedule="straight", prediction="velocity",
                                                                  num_classes=0, **race),
                       diffusion.train_diffusion,
                       lambda model, count, seed: model.generate(count, num_steps=8, method="heun", seed=seed),
                       "Heun, 8 steps (15 network calls, EMA weights)", lambda model: model.ema_network),
    }


def measurement_seconds(budgets, every: float) -> list:
    """The training seconds to measure at: every budget, and every ``every`` seconds up to the largest."""
    budgets = sorted({float(value) for value in budgets})
    if not budgets or budgets[0] <= 0:
        raise ValueError(f"seconds must be positive numbers, got {budgets}.")
    if every < 0:
        raise ValueError(f"every must be a number of seconds >= 0 (0: no extra points), got {every}.")
    grid = list(np.arange(every, budgets[-1], every)) if every else []
    return sorted(set(budgets) | {round(float(value), 6) for value in grid})


def score(images, evaluator, reference_features) -> dict:
    """FID, precision and recall of ``images`` against the reference features (frozen evaluator)."""
    features = evaluator.features(images)
    quality = metrics.precision_recall(reference_features, features)
    return {"fid": metrics.frechet_distance(features, reference_features), "precision": quality.precision,
            "recall": quality.recall}


def race(names, train_images, evaluator, reference_features, *, budgets, every: float = 0.0, samples: int = 2000,
         curve_samples: int = 1000, timed: int = 100, seed: int = 0, clock=time.perf_counter, verbose: bool = True,
         contenders: dict | None = None) -> dict:
    """Train each family in ``names`` for ``max(budgets)`` training seconds, measuring on the way.

    Returns ``{name: result}``: ``points`` (every measurement: training seconds, epoch, batches,
    the budgets it reached, number of samples, FID, precision, recall), ``rows`` (one per
    budget: the first point at or past it, and the best FID measured up to it), the sampling
    milliseconds per image, the parameters of the sampling network, the recipe and the sampler.
    ``clock`` is the time source of the training-time count (a test passes a fake one).
    """
    contenders = contenders if contenders is not None else families(seed)
    unknown = [name for name in names if name not in contenders]
    if unknown:
        raise ValueError(f"unknown families {unknown}; expected some of {list(contenders)}.")
    budgets = sorted({float(value) for value in budgets})
    points_at = measurement_seconds(budgets, every)
    results = {}
    for name in names:
        family = contenders[name]

        def measure(model, reached, family=family):
            count = samples if any(value in budgets for value in reached) or not reached else curve_samples
            started = time.perf_counter()
            point = {"num_samples": count, **score(family.sample(model, count, seed), evaluator, reference_features)}
            point["measuring_seconds"] = round(time.perf_counter() - started, 1)
            if verbose:
                print(f"  {family.label}: {measurer.training_seconds:7.1f} s trained, FID ({count:,} samples) "
                      f"{point['fid']:7.2f}, precision {point['precision']:.3f}, recall {point['recall']:.3f}",
                      flush=True)
            return point

        measurer = training.MeasureAtSeconds(measure, points_at, stop=True, clock=clock)
        runtime.seed_everything(seed)
        with tempfile.TemporaryDirectory() as workdir:
            model, _ = family.train(family.config, train_images, callbacks=[measurer], workdir=workdir, verbose=0,
                                    restart=True)
        milliseconds = decisions.milliseconds_per_image(
            lambda batch, model=model, family=family: family.sample(model, len(batch), seed), np.arange(timed))
        results[name] = {"label": family.label, "sampler": family.sampler,
                         "recipe": dataclasses.asdict(family.config), "points": measurer.points,
                         "rows": budget_rows(measurer.points, budgets),
                         "milliseconds_per_image": milliseconds,
                         "parameters": int(family.sampling_network(model).count_params())}
    return results


def budget_rows(points, budgets) -> list:
    """One row per budget: the first point at or past it (its FID, precision, recall) and the best
    (lowest) FID of the points up to that one, with the training seconds it was measured at."""
    rows = []
    for budget in budgets:
        index = next((i for i, point in enumerate(points) if budget in point["reached"]), None)
        if index is None:  # the run ended before this budget: its last point
            index = len(points) - 1
        if index < 0:
            continue
        best = min(points[:index + 1], key=lambda point: point["fid"])
        point = points[index]
        rows.append({"budget_seconds": budget, "training_seconds": point["training_seconds"],
                     "fid": point["fid"], "num_samples": point["num_samples"], "precision": point["precision"],
                     "recall": point["recall"], "best_fid": best["fid"],
                     "best_training_seconds": best["training_seconds"], "best_num_samples": best["num_samples"]})
    return rows


TABLE_COLUMNS = ("family", "seconds", "FID", "best FID (at s)", "precision", "recall", "ms / image", "parameters")


def format_table(results: dict, floor: float | None = None) -> str:
    """The benchmark as one Markdown table, one line per family and budget, with the floor."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|---|" + "---:|" * (len(TABLE_COLUMNS) - 1)]
    for result in results.values():
        for row in result["rows"]:
            best = f"{row['best_fid']:.2f} ({row['best_training_seconds']:,.0f})"
            if row["best_num_samples"] != row["num_samples"]:
                best += f", {row['best_num_samples']:,} samples"
            lines.append(f"| {result['label']} | {row['training_seconds']:,.0f} | {row['fid']:.2f} | {best} "
                         f"| {row['precision']:.3f} | {row['recall']:.3f} | {result['milliseconds_per_image']:.2f} "
                         f"| {result['parameters']:,} |")
    if floor is not None:
        lines.append(f"| real vs real (floor) | | {floor:.2f} | | | | | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[300.0, 1800.0],
                        help="training-second budgets (one run per family, to the largest)")
    parser.add_argument("--families", nargs="+", default=list(families()), choices=list(families()))
    parser.add_argument("--samples", type=int, default=2000, help="samples per measurement at each budget")
    parser.add_argument("--curve-samples", type=int, default=1000, help="samples per extra point of the curve")
    parser.add_argument("--every", type=float, default=150.0,
                        help="extra curve points every this many seconds (0: none)")
    parser.add_argument("--images", type=int, default=None, help="train on the first N training digits (a small run)")
    parser.add_argument("--timed", type=int, default=100, help="images per timed sampling batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset", choices=data.DATASET_NAMES, default="mnist",
                        help="the images to race on, scored by that dataset's judge")
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT,
                        help="path without suffix: writes .json and .png")
    args = parser.parse_args(argv)
    from course_lib.evaluator import load_evaluator

    started = time.perf_counter()
    mnist = data.judged_split(args.dataset)
    items = data.ITEM_NAMES[args.dataset]
    train_images = mnist.x_train if args.images is None else mnist.x_train[:args.images]
    evaluator, _ = load_evaluator(dataset=args.dataset)
    reference_features = evaluator.features(mnist.x_test)
    floor = metrics.frechet_distance(evaluator.features(mnist.x_train[:len(mnist.x_test)]), reference_features)
    print(f"{len(args.families)} families x {max(args.seconds):.0f} training seconds on {len(train_images):,} {items}, "
          f"{runtime.device_report().cpu_cores} CPU core(s); FID against the {len(mnist.x_test):,} held-out {items}.",
          flush=True)
    results = race(args.families, train_images, evaluator, reference_features, budgets=args.seconds,
                   every=args.every, samples=args.samples, curve_samples=args.curve_samples, timed=args.timed,
                   seed=args.seed)
    print(f"\nSame training time (inside epochs) for every family, seed {args.seed}; FID of {args.samples:,} samples "
          f"at each budget (the first epoch ending past it; best FID: the lowest measured up to there, "
          f"{args.curve_samples:,} samples at the extra points) against the {len(mnist.x_test):,} held-out {items}.")
    print(format_table(results, floor))
    for result in results.values():
        print(f"  {result['label']}: {result['sampler']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    settings = {key: (str(value) if isinstance(value, pathlib.Path) else value) for key, value in vars(args).items()}
    report = {"settings": settings, "dataset": args.dataset, "num_training_images": len(train_images),
              "fid_floor_real_vs_real": floor,
              "cpu_cores": runtime.device_report().cpu_cores, "families": results,
              "wall_seconds": round(time.perf_counter() - started, 1)}
    args.output.with_suffix(".json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    curves = {result["label"]: ([point["training_seconds"] for point in result["points"]],
                                [point["fid"] for point in result["points"]]) for result in results.values()}
    figure = viz.plot_fid_over_training(curves, floor=floor, budgets=args.seconds,
                                        title=f"FID against training time, same {items} and seed")
    figure.savefig(args.output.with_suffix(".png"), dpi=120, bbox_inches="tight")
    print(f"Wrote {args.output.with_suffix('.json')} and {args.output.with_suffix('.png')} "
          f"({time.perf_counter() - started:.0f} s in all).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
