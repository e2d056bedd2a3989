"""benchmarks/restoration_benchmark.py (its JSON and the cGAN sweep's rows) and
benchmarks/dps_step_size.py, run at a tiny size."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from course_lib import benchmark, diffusion, diffusion_restoration
from tests.conftest import ROOT


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_writes_a_result_that_loads_back_with_its_command(tmp_path, capsys):
    script = load_script("restoration_benchmark")
    output = tmp_path / "result.json"
    assert script.main(["--num-images", "12", "--degradations", "hole_12", "--no-learned", "--output", str(output)]) == 0
    result, extra = benchmark.load_result(output)
    printed = capsys.readouterr().out
    assert {row.restorer for row in result.rows} >= {"damaged input", "biharmonic inpainting"}
    assert all(row.num_images == 12 and row.degradation == "hole_12" for row in result.rows)
    assert extra["command"].startswith("python benchmarks/restoration_benchmark.py --num-images 12")
    assert extra["slow_images"] == 12 and extra["diffusion_samples"] is None
    biharmonic = result.row("hole_12", "biharmonic inpainting")
    assert f"{biharmonic.psnr:.2f}" in printed and str(output) in printed


def test_the_cgan_sweep_becomes_untimed_hole_rows(monkeypatch):
    script = load_script("restoration_benchmark")
    fake = [{"adversarial_weight": weight, "psnr": 20.0 - weight, "ssim": 0.8, "recognition": 0.9,
             "relative_recognition": 0.91, "fid": 2.0 + weight, "grey_share": 0.15, "training_seconds": 1.0}
            for weight in (0.0, 0.3)]
    seen = {}

    def sweep(weights, config, *args, **kwargs):
        seen.update(weights=tuple(weights), epochs=config.epochs, max_seconds=config.max_seconds)
        return fake

    monkeypatch.setattr(script.pix2pix, "sweep_adversarial_weight", sweep)
    monkeypatch.setattr(script.pix2pix, "mse_unet", lambda: (None, None))
    clean = np.zeros((5, 28, 28, 1), np.float32)
    dataset = type("Digits", (), {"x_train": clean})
    rows = script.cgan_sweep_rows(dataset, clean, np.zeros(5, int), weights=(0.0, 0.3))
    assert seen == {"weights": (0.0, 0.3), "epochs": 1, "max_seconds": None}   # notebook 10's cpu sweep
    assert [row.restorer for row in rows] == ["cGAN lambda=0 (sweep)", "cGAN lambda=0.3 (sweep)"]
    assert all(row.degradation == "hole_12" and row.num_images == 5 and np.isnan(row.seconds_per_image)
               for row in rows)
    assert rows[1].psnr == pytest.approx(19.7) and rows[1].fid == pytest.approx(2.3)


def test_the_step_size_script_picks_the_best_one_sample_psnr(monkeypatch, capsys):
    config = diffusion.DiffusionConfig(widths=(8, 16), embedding_dim=16, groups=4, num_classes=0)
    tiny = diffusion.build_diffusion(config)
    monkeypatch.setattr(diffusion_restoration, "load_prior", lambda retrain=False: (tiny, None))
    script = load_script("dps_step_size")
    assert script.main(["--num-images", "2", "--num-steps", "2", "--step-sizes", "0", "3",
                        "--degradations", "blur"]) == 0
    lines = capsys.readouterr().out.splitlines()
    scores = {float(line.split()[1]): float(line.split()[2]) for line in lines if line.startswith("blur ")}
    assert set(scores) == {0.0, 3.0}
    chosen = json.loads(lines[-2].split(": ", 1)[1].replace("'", '"'))["blur"]
    assert chosen == max(scores, key=scores.get)


def test_the_benchmark_on_clothes_trains_its_learned_restorers_and_records_it(tmp_path):
    from course_lib import data

    try:
        data.fashion_mnist_dir()
    except FileNotFoundError:
        pytest.skip("Fashion-MNIST is not installed (make fashion-mnist)")
    script = load_script("restoration_benchmark")
    output = tmp_path / "clothes.json"
    assert script.main(["--dataset", "fashion_mnist", "--num-images", "12", "--degradations", "hole_12",
                        "--train-seconds", "0.5", "--output", str(output)]) == 0
    result, extra = benchmark.load_result(output)
    assert extra["dataset"] == "fashion_mnist"
    assert set(extra["training_seconds"]) == {*script.learned_restoration.SHIPPED_RESTORERS, "pix2pix_hole_12"}
    hole_rows = {row.restorer for row in result.rows if row.degradation == "hole_12"}
    assert {"damaged input", "biharmonic inpainting", "U-Net", "cGAN (pix2pix)"} <= hole_rows
    assert all(row.num_images == 12 for row in result.rows)


def test_the_benchmark_refuses_digit_only_models_on_clothes():
    script = load_script("restoration_benchmark")
    for option in ("--diffusion", "--cgan-sweep"):
        with pytest.raises(SystemExit):
            script.main(["--dataset", "fashion_mnist", option])


def test_the_two_priors_results_differ_only_in_their_diffusion_rows():
    """Notebook 11 and the README set the first prior's diffusion rows beside the shipped one's: a fair
    comparison only if the same command scored the same restorers on the same digits."""
    results = ROOT / "benchmarks" / "results"
    shipped, shipped_extra = benchmark.load_result(results / "restoration_benchmark.json")
    first, first_extra = benchmark.load_result(results / "restoration_benchmark_first_prior.json")
    assert first_extra["command"] == shipped_extra["command"]
    assert "FID 54.26" in first_extra["prior"] and "prior" not in shipped_extra
    # the flow restorer trained for the hole joined the command after the first prior was replaced
    trained = [row for row in shipped.rows if row.restorer.startswith("trained flow")]
    assert [(row.degradation, row.restorer) for row in trained] == [("hole_12", "trained flow, 1 sample"),
                                                                    ("hole_12", "trained flow, mean of 8")]
    shared = [row for row in shipped.rows if row not in trained]
    assert [(row.degradation, row.restorer) for row in first.rows] == [(row.degradation, row.restorer)
                                                                       for row in shared]
    assert first.fid_floor == pytest.approx(shipped.fid_floor, rel=1e-6)
    diffusion_rows = 0
    for old, new in zip(first.rows, shared):
        assert old.num_images == new.num_images == 200
        scores = lambda row: (row.psnr, row.ssim, row.recognition, row.fid)   # noqa: E731
        if old.restorer.startswith("diffusion"):
            diffusion_rows += 1
            assert scores(old) != pytest.approx(scores(new), rel=1e-6), old.restorer   # the prior did change them
        else:   # the other restorers, re-run: equal up to the round-off of other CPU kernels
            assert scores(old) == pytest.approx(scores(new), rel=1e-4), (old.degradation, old.restorer)
    assert diffusion_rows == 8
