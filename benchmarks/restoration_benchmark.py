"""Benchmark: every restorer on every degradation, on the same 2,000 held-out MNIST digits.

For each degradation of the course (noise sigma 0.1 / 0.3 / 0.5, a 12x12 centre hole, 50%
missing pixels, Gaussian blur, x2 and x4 downsampling) it damages the held-out digits once
(seed 0) and scores the damaged input and every restorer that handles it: PSNR, SSIM,
recognition rate of the frozen evaluator (and its ratio to the accuracy on the clean digits),
FID of the restored set against the clean digits (with the floor: as many training digits
against the held-out ones), and time per image. It prints one table
(``course_lib.benchmark.format_table``).

    python benchmarks/restoration_benchmark.py                      # all 2,000 digits
    python benchmarks/restoration_benchmark.py --slow-images 300    # BM3D on the first 300 only
    python benchmarks/restoration_benchmark.py --num-images 200     # a quick look

BM3D takes about 0.4 s per digit on one CPU core (40 minutes for three noise levels on 2,000
digits), so ``--slow-images`` runs restorers marked ``slow`` on the first N digits; their rows
say how many digits they saw. The shipped learned restorers of notebook 09
(``learned_restoration.shipped_restorers()``: the DnCNN on noise sigma 0.3, U-Nets on the hole, missing
pixels, blur and x2 / x4 downsampling) and the conditional GAN of notebook 10
(``pix2pix.shipped_restorers()``, on the hole) join the same list, each on the degradation it was
trained for; ``--no-learned`` leaves them out.

    python benchmarks/restoration_benchmark.py --no-learned         # classical restorers only

``--diffusion`` adds zero-shot restoration with the shipped unconditional flow-matching prior
(``diffusion_restoration.shipped_restorers()``, notebook 11: notebook 07's network without labels): one
posterior sample and the mean of ``--diffusion-samples`` samples, on every degradation but
salt-and-pepper; they are marked slow, so ``--slow-images`` sets how many digits they restore. With
them come the same two rows of the flow-matching restorer trained for the hole
(``flow_restorer.shipped_restorers()``: the same network reading the damaged digit and its mask).

    python benchmarks/restoration_benchmark.py --diffusion --slow-images 200

``--cgan-sweep`` adds notebook 10's lambda sweep (``pix2pix.sweep_adversarial_weight``: one
250-update fine-tune of the hole U-Net per lambda in 0, 0.03, 0.1, 0.3) as rows of ``hole_12``, so
the perception-distortion plane holds the cGAN at each lambda. ``--output PATH`` also writes the
result as JSON (``benchmark.save_result``); the committed
``benchmarks/results/restoration_benchmark.json``, which notebook 11 draws, came from

    python benchmarks/restoration_benchmark.py --num-images 200 --degradations hole_12 blur down_4 noise_0.3 \\
        --diffusion --diffusion-samples 8 --cgan-sweep --output benchmarks/results/restoration_benchmark.json
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from course_lib import benchmark, data, learned_restoration, pix2pix, restoration  # noqa: E402
from course_lib import degradations as deg  # noqa: E402
from course_lib.evaluator import load_evaluator  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-images", type=int, default=2000, help="held-out digits to score (default all 2,000)")
    parser.add_argument("--slow-images", type=int, default=None,
                        help="digits for restorers marked slow (BM3D); default: as many as --num-images")
    parser.add_argument("--degradations", nargs="*", default=list(deg.BENCHMARK_DEGRADATIONS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-learned", action="store_true",
                        help="leave out the shipped learned restorers (data/pretrained/dncnn_*, unet_*, pix2pix_*)")
    parser.add_argument("--diffusion", action="store_true",
                        help="add zero-shot diffusion restoration with the shipped unconditional prior and the "
                             "flow restorer trained for the hole (slow rows)")
    parser.add_argument("--diffusion-samples", type=int, default=16,
                        help="posterior samples averaged in the diffusion 'mean' rows (default 16)")
    parser.add_argument("--cgan-sweep", action="store_true",
                        help="add notebook 10's lambda sweep of the hole cGAN (4 fine-tunes of 250 updates)")
    parser.add_argument("--output", type=pathlib.Path, default=None, help="also write the result as JSON here")
    parser.add_argument("--dataset", choices=data.DATASET_NAMES, default="mnist",
                        help="the images to restore, scored by that dataset's judge")
    parser.add_argument("--train-seconds", type=float, default=None,
                        help="with --dataset fashion_mnist: one training limit for every learned restorer")
    arguments = parser.parse_args(argv)
    if arguments.dataset != "mnist" and (arguments.diffusion or arguments.cgan_sweep):
        parser.error("--diffusion and --cgan-sweep use models shipped for digits only; leave them out with --dataset")

    started = time.perf_counter()
    dataset = data.judged_split(arguments.dataset)
    items = data.ITEM_NAMES[arguments.dataset]
    count = min(arguments.num_images, len(dataset.x_test))
    clean, labels = dataset.x_test[:count], dataset.y_test[:count]
    restorers = restoration.classical_restorers(dataset.x_train)
    trained_seconds = {}
    if not arguments.no_learned and arguments.dataset != "mnist":
        learned, trained_seconds = trained_now(dataset.x_train, arguments.train_seconds)
        restorers += learned
    elif not arguments.no_learned:
        learned = learned_restoration.shipped_restorers() + pix2pix.shipped_restorers()
        print(f"learned restorers: {', '.join(f'{r.name} ({r.handles[0]})' for r in learned) or 'none shipped'}")
        restorers += learned
    if arguments.diffusion:
        from course_lib import diffusion_restoration

        from course_lib import flow_restorer

        restorers += diffusion_restoration.shipped_restorers(num_samples=(1, arguments.diffusion_samples))
        restorers += flow_restorer.shipped_restorers(num_samples=(1, arguments.diffusion_samples))
    print(f"{len(restorers)} restorers x {len(arguments.degradations)} degradations on the first {count} of "
          f"{len(dataset.x_test):,} held-out {items} (slow restorers: "
          f"{arguments.slow_images or count} {items}); parameters tuned on training digits only.\n")
    print(benchmark.TABLE_HEADER)
    result = benchmark.benchmark(restorers, clean, labels, degradations=arguments.degradations,
                                 evaluator=load_evaluator(dataset=arguments.dataset)[0],
                                 reference_images=dataset.x_train, seed=arguments.seed,
                                 slow_num_images=arguments.slow_images, dataset=arguments.dataset)
    if arguments.cgan_sweep and "hole_12" in arguments.degradations:
        result = benchmark.BenchmarkResult(result.rows + tuple(cgan_sweep_rows(dataset, clean, labels)),
                                           result.clean_accuracy, result.fid_floor,
                                           time.perf_counter() - started)
    print("\n" + benchmark.format_table(result, items=items))
    if arguments.output is not None:
        path = benchmark.save_result(result, arguments.output, command="python " + " ".join(
            [pathlib.Path(__file__).relative_to(pathlib.Path(__file__).parents[1]).as_posix(), *(argv or sys.argv[1:])]),
            date=datetime.date.today().isoformat(), slow_images=arguments.slow_images or count,
            diffusion_samples=arguments.diffusion_samples if arguments.diffusion else None,
            dataset=arguments.dataset, training_seconds=trained_seconds or None)
        print(f"wrote {path}")
    print(f"\nBenchmark {result.seconds:.0f} s; whole script {time.perf_counter() - started:.0f} s.")
    return 0


def trained_now(images, seconds=None) -> tuple[list, dict]:
    """Every shipped learned recipe (and the cGAN, from the hole U-Net) trained now on ``images``
    for its shipped time limit, or ``seconds`` each: ``(restorers, training seconds by name)``."""
    restorers, spent, models = [], {}, {}
    for name, recipe in learned_restoration.SHIPPED_RESTORERS.items():
        config = recipe if seconds is None else dataclasses.replace(recipe, max_seconds=seconds)
        model, history = learned_restoration.train_learned_restorer(config, images, verbose=0, restart=True)
        models[name], spent[name] = model, round(history.training_seconds, 1)
        restorers.append(learned_restoration.learned_restorer(model, recipe.architecture, (recipe.degradation,)))
        print(f"trained {name}: {spent[name]:.0f} s", flush=True)
    config = pix2pix.SHIPPED_CONFIG if seconds is None else dataclasses.replace(pix2pix.SHIPPED_CONFIG,
                                                                               max_seconds=seconds)
    cgan, history = pix2pix.train_pix2pix(config, images, generator=models[pix2pix.MSE_UNET_NAME], verbose=0,
                                          restart=True)
    spent["pix2pix_hole_12"] = round(history.training_seconds, 1)
    restorers.append(pix2pix.pix2pix_restorer(cgan.generator))
    print(f"trained the cGAN from that U-Net: {spent['pix2pix_hole_12']:.0f} s", flush=True)
    return restorers, spent


def cgan_sweep_rows(dataset, clean, labels, weights=(0.0, 0.03, 0.1, 0.3)) -> list:
    """Notebook 10's lambda sweep at its ``cpu`` budget (one epoch of 250 updates per lambda, from
    the shipped hole U-Net), scored on ``clean`` as benchmark rows named ``cGAN lambda=...``."""
    from course_lib.evaluator import load_evaluator

    config = dataclasses.replace(pix2pix.SHIPPED_CONFIG, max_seconds=None, epochs=1, jit_compile=True)
    unet, _ = pix2pix.mse_unet()
    sweep = pix2pix.sweep_adversarial_weight(weights, config, dataset.x_train, clean, labels, generator=unet,
                                             evaluator=load_evaluator()[0])
    rows = []
    for entry in sweep:
        rows.append(benchmark.BenchmarkRow(
            degradation="hole_12", restorer=f"cGAN lambda={entry['adversarial_weight']:g} (sweep)",
            num_images=len(clean), psnr=entry["psnr"], ssim=entry["ssim"], recognition=entry["recognition"],
            relative_recognition=entry["relative_recognition"], fid=entry["fid"],
            seconds_per_image=float("nan")))
        print(benchmark._format_row(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
