"""Tune DPS's step size per degradation on training digits: the values behind
``course_lib.diffusion_restoration.DPS_STEP_SIZES``.

For each degradation DPS restores the first ``--num-images`` digits of the training split's
validation digits (``restoration.validation_split``, never the held-out ones) with the shipped
unconditional prior (``diffusion_restoration.load_prior``), ``--samples`` samples each, at every
step size of ``--step-sizes``, and prints the PSNR of one sample, of the mean of the samples, the
evaluator's recognition rate of one sample, and the step size with the best one-sample PSNR. For
damage with known pixels (holes, missing pixels) it also scores RePaint on the same digits, the
choice behind ``diffusion_restoration.DEFAULT_ALGORITHM``.

    python benchmarks/dps_step_size.py                       # 16 digits x 2 samples, 50 steps
    python benchmarks/dps_step_size.py --num-images 4 --num-steps 4 --step-sizes 1 3   # a quick look
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from course_lib import data, diffusion_restoration, metrics, restoration  # noqa: E402
from course_lib import degradations as deg  # noqa: E402
from course_lib.evaluator import load_evaluator  # noqa: E402

DEGRADATIONS = ("hole_12", "missing_50", "blur", "down_2", "down_4")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-images", type=int, default=16)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--num-steps", type=int, default=50)
    parser.add_argument("--step-sizes", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0])
    parser.add_argument("--degradations", nargs="+", default=list(DEGRADATIONS))
    arguments = parser.parse_args(argv)

    started = time.perf_counter()
    dataset = data.load_dataset("mnist", source="subset", verbose=False)
    validation = restoration.validation_split(len(dataset.x_train))[: arguments.num_images]
    clean, labels = dataset.x_train[validation], dataset.y_train[validation]
    prior, _ = diffusion_restoration.load_prior()
    evaluator, _ = load_evaluator()
    print(f"DPS on {len(clean)} validation training digits, {arguments.samples} samples, {arguments.num_steps} steps")
    print(f"{'degradation':<11} {'step':>5} {'PSNR 1':>7} {'PSNR mean':>9} {'recog. 1':>8} {'s':>6}")
    best = {}
    for name in arguments.degradations:
        damaged = deg.get_degradation(name).apply(clean, seed=0)
        scores = {}
        for step_size in arguments.step_sizes:
            tick = time.perf_counter()
            samples = diffusion_restoration.restore_samples(prior, damaged, num_samples=arguments.samples,
                                                            algorithm="dps", num_steps=arguments.num_steps,
                                                            step_size=step_size, seed=0)
            one = metrics.psnr(samples[:, 0], clean)
            scores[step_size] = one
            print(f"{name:<11} {step_size:5g} {one:7.2f} {metrics.psnr(samples.mean(axis=1), clean):9.2f} "
                  f"{np.mean(evaluator.predict_labels(samples[:, 0]) == labels):8.1%} {time.perf_counter() - tick:6.1f}",
                  flush=True)
        best[name] = max(scores, key=scores.get)
        if damaged.mask is not None:
            tick = time.perf_counter()
            samples = diffusion_restoration.restore_samples(prior, damaged, num_samples=arguments.samples,
                                                            algorithm="repaint", num_steps=arguments.num_steps, seed=0)
            print(f"{name:<11} {'RePaint':>7} {metrics.psnr(samples[:, 0], clean):5.2f} "
                  f"{metrics.psnr(samples.mean(axis=1), clean):9.2f} "
                  f"{np.mean(evaluator.predict_labels(samples[:, 0]) == labels):8.1%} {time.perf_counter() - tick:6.1f}",
                  flush=True)
    print("best step size by one-sample PSNR:", {name: best[name] for name in best})
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
