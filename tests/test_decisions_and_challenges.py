"""Notebook 13's library: the decision table equals the shipped manifests, measured numbers are
marked, bad names fail clearly; the challenge helpers keep their contracts (a copy of the
training set is at distance 0, augmentation only shifts, the size curve never invents data)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from course_lib import challenges, decisions
from course_lib import learned_restoration as learned
from tests.conftest import ROOT


def manifest(name: str) -> dict:
    return json.loads((ROOT / "data" / "pretrained" / f"{name}.json").read_text())


# --------------------------------------------------------------------------- decision table

@pytest.mark.parametrize("name", list(decisions.SHIPPED_MODELS))
def test_every_row_holds_its_manifest_numbers(name):
    row = decisions.manifest_row(name)
    expected = manifest(name)
    metrics = expected["metrics"]
    assert row.parameters == expected["parameters"]
    if name == "dcgan_mnist":
        assert (row.fid, row.fid_floor, row.training_seconds) == (
            metrics["fid"], metrics["fid_floor_real_vs_real"], metrics["training_seconds"])
    elif name == "flow_mnist":
        assert (row.fid, row.fid_floor, row.recognition, row.ms_per_image, row.training_seconds) == tuple(
            metrics[key] for key in ("fid", "fid_floor_real_vs_real", "recognition_rate",
                                     "sampling_milliseconds_per_image", "training_seconds"))
        whole_run = not metrics.get("resumed_after_seconds")   # else its CPU time covers only the resumed part
        assert row.process_cpu_seconds == (metrics["process_cpu_seconds"] if whole_run else None)
        assert row.psnr is None and row.negative_elbo is None
    elif name.startswith("vae_"):
        assert (row.negative_elbo, row.iw_nll, row.training_seconds) == (
            metrics["test_negative_elbo"], metrics["test_importance_weighted_nll_k100"], metrics["training_seconds"])
        assert row.psnr is None and row.fid is None
    elif name.startswith("pix2pix"):
        start = manifest(expected["config"]["init_from"])
        assert (row.fid, row.psnr, row.ssim, row.recognition) == tuple(
            metrics["cgan"][key] for key in ("fid", "psnr", "ssim", "recognition"))
        assert row.training_seconds == pytest.approx(metrics["training_seconds"] + start["metrics"]["training_seconds"])
    else:
        assert (row.fid, row.psnr, row.ssim, row.recognition, row.damaged_psnr, row.ms_per_image,
                row.training_seconds) == tuple(metrics[key] for key in (
                    "fid", "psnr", "ssim", "recognition", "damaged_input_psnr", "milliseconds_per_image",
                    "training_seconds"))
    assert decisions.matches_manifest(row)


def test_a_changed_number_no_longer_matches_but_a_measured_one_does():
    row = decisions.manifest_row("unet_blur")
    assert not decisions.matches_manifest(dataclasses.replace(row, psnr=row.psnr + 0.01))
    table = decisions.decision_table(["unet_blur"], measured={"unet_blur": {"ms_per_image": 123.0}})
    assert table[0].ms_per_image == 123.0 and table[0].measured == ("ms_per_image",)
    assert decisions.matches_manifest(table[0])
    assert "123.000*" in decisions.format_table(table)


FLOW_MANIFEST = {  # the fields course_lib.diffusion.train_and_save writes
    "command": "python -m course_lib.diffusion --train", "parameters": 679489,
    "config": {"schedule": "straight", "prediction": "velocity", "num_classes": 10},
    "metrics": {"fid": 3.456, "fid_floor_real_vs_real": 1.198, "recognition_rate": 0.9721,
                "sampling_milliseconds_per_image": 7.85, "training_seconds": 1800.3, "process_cpu_seconds": 3456.7,
                "precision": 0.8, "recall": 0.7}}


def test_the_flow_row_reads_quality_recognition_sampling_time_and_cpu_time_from_its_manifest():
    row = decisions.manifest_row("flow_mnist", FLOW_MANIFEST)
    assert (row.method, row.task, row.fid, row.fid_floor, row.recognition, row.ms_per_image) == (
        "flow matching, 8 Heun steps", "generation", 3.456, 1.198, 0.9721, 7.85)
    assert (row.training_seconds, row.process_cpu_seconds, row.parameters) == (1800.3, 3456.7, 679489)
    assert row.psnr is None and row.negative_elbo is None and "labels" in row.training_data
    header, _, line = decisions.format_table([row]).splitlines()
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert "process CPU s" in header and cells[2] == "3.46" and cells[5] == "97.2%"
    assert cells[7] == "1,800 (3,457)" and cells[8] == "7.850" and cells[9] == "679,489"
    measured = dataclasses.replace(row, ms_per_image=2.5, measured=("ms_per_image",))
    assert decisions.format_table([measured]).splitlines()[2].count("2.500*") == 1
    resumed = {**FLOW_MANIFEST, "metrics": {**FLOW_MANIFEST["metrics"], "resumed_after_seconds": 900.0}}
    row = decisions.manifest_row("flow_mnist", resumed)   # its CPU time covers only the last 900 s: left out
    assert row.process_cpu_seconds is None and row.training_seconds == 1800.3
    assert "| 1,800 |" in decisions.format_table([row])


def test_a_diffusion_generator_is_timed_on_class_balanced_labels_and_others_on_latent_codes():
    from course_lib import diffusion, vae

    flow = diffusion.build_diffusion(diffusion.DiffusionConfig(widths=(8,), embedding_dim=8, groups=4))
    labels = decisions._generator_inputs(flow, 20, seed=3)
    assert labels.dtype == np.int32 and np.bincount(labels).tolist() == [2] * 10
    samples = decisions._families()["flow"][1](flow, labels[:3])
    assert samples.shape == (3, 28, 28, 1) and samples.min() >= 0 and samples.max() <= 1
    codes = decisions._generator_inputs(vae.build_vae(vae.VAEConfig(latent_dim=3)), 5, seed=3)
    np.testing.assert_array_equal(codes, np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32))


def test_unknown_names_raise_a_clear_error():
    with pytest.raises(ValueError, match="Unknown model 'gan_cifar'.*dcgan_mnist"):
        decisions.manifest_row("gan_cifar")
    with pytest.raises(ValueError, match="Unknown model"):
        decisions.decision_table(["dcgan_mnist", "stylegan"])
    with pytest.raises(ValueError, match="not among the table's models"):
        decisions.decision_table(["dcgan_mnist"], measured={"unet_blur": {"fid": 1.0}})
    with pytest.raises(ValueError, match="Unknown fields"):
        decisions.decision_table(["dcgan_mnist"], measured={"dcgan_mnist": {"speed": 1.0}})
    with pytest.raises(ValueError, match="No classical candidates"):
        decisions.classical_rows(np.zeros((2, 28, 28, 1)), np.zeros(2), np.zeros((2, 28, 28, 1)),
                                 degradations=["noise_0.9"])


def test_classical_rows_sit_before_the_learned_rows_of_their_task_and_the_table_has_one_line_each():
    classical = decisions.DecisionRow(name="classical:blur", method="Wiener (classical)", task="deblurring", psnr=20.0)
    rows = decisions.decision_table(["dcgan_mnist", "unet_blur", "unet_down_2"], classical=[classical])
    assert [row.name for row in rows] == ["dcgan_mnist", "classical:blur", "unet_blur", "unet_down_2"]
    table = decisions.format_table(rows).splitlines()
    assert len(table) == 2 + len(rows) and all(line.count("|") == 11 for line in table)
    assert f"floor {manifest('dcgan_mnist')['metrics']['fid_floor_real_vs_real']:.2f}" in table[0]


def test_a_classical_row_is_measured_and_beats_the_damaged_input():
    from course_lib import data

    dataset = data.load_dataset("mnist", source="subset", verbose=False)
    (row,) = decisions.classical_rows(dataset.x_test[:20], dataset.y_test[:20], dataset.x_train[:100],
                                      degradations=["down_2"])
    assert row.method == "bicubic interpolation (classical)" and row.task == "super-resolution × 2"
    assert row.psnr > row.damaged_psnr and 0 < row.ssim <= 1 and row.parameters == 0
    assert set(row.measured) >= {"psnr", "ms_per_image"}


def test_milliseconds_per_image_is_the_best_timed_call_per_item_after_a_warm_up(monkeypatch):
    import types

    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(decisions, "time", types.SimpleNamespace(perf_counter=lambda: clock.now))
    durations = iter([9.0, 0.3, 0.1, 0.2])  # seconds: the warm-up (tracing) is slowest, then three timed calls
    calls = []

    def function(batch):
        calls.append(len(batch))
        clock.now += next(durations)

    assert decisions.milliseconds_per_image(function, [0] * 4, repeats=3) == pytest.approx(1000 * 0.1 / 4)
    assert calls == [4, 4, 4, 4]  # one warm-up, three timed, each on the whole batch
    with pytest.raises(ValueError, match="at least one"):
        decisions.milliseconds_per_image(len, [])


# --------------------------------------------------------------------------- challenges

def test_measured_shipped_models_are_loaded_by_family_and_vae_fid_is_of_its_own_samples():
    from course_lib import data, diffusion, metrics, vae
    from course_lib.evaluator import load_evaluator

    judge, _ = load_evaluator()
    test_digits = data.load_dataset("mnist", source="subset", verbose=False).x_test[:64]
    names = ["dcgan_mnist", "vae_mnist_latent2", "flow_mnist", "unet_blur", "pix2pix_hole_12"]
    models, measured = decisions.measure_shipped_models(test_digits, judge, names=names, num_timed=8,
                                                        num_samples=64, seed=3, fid_floor=1.2)
    assert list(models) == list(measured) == names
    assert all(numbers["ms_per_image"] > 0 for numbers in measured.values())
    assert isinstance(models["vae_mnist_latent2"], vae.VAE) and models["vae_mnist_latent2"].latent_dim == 2
    assert "fid" not in measured["dcgan_mnist"] and "fid" not in measured["flow_mnist"]  # manifests hold them
    assert isinstance(models["flow_mnist"], diffusion.Diffusion) and models["flow_mnist"].family == "flow matching"
    samples = models["vae_mnist_latent2"].generate(64, seed=3)
    expected = metrics.frechet_distance(judge.features(samples), judge.features(test_digits))
    assert measured["vae_mnist_latent2"]["fid"] == pytest.approx(expected)
    assert measured["vae_mnist_latent2"]["fid_floor"] == 1.2
    table = decisions.decision_table(names, measured=measured)
    assert [row.measured for row in table] == [("ms_per_image",), ("fid", "fid_floor", "ms_per_image"),
                                               ("ms_per_image",), ("ms_per_image",), ("ms_per_image",)]


def test_epochs_for_updates_gives_about_the_asked_number_of_steps():
    assert challenges.epochs_for_updates(500, 640) == 43            # 15 steps an epoch
    assert challenges.epochs_for_updates(8000, 100) == 1            # never zero epochs
    for size in (250, 500, 2000, 8000):
        epochs = challenges.epochs_for_updates(size, 600)
        assert abs(epochs * (size // 32) - 600) <= size // 32
    with pytest.raises(ValueError, match="fewer than one batch"):
        challenges.epochs_for_updates(10, 100)


def test_size_curve_refuses_sizes_it_cannot_honestly_train():
    images = np.zeros((100, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match="larger than the training split"):
        challenges.size_curve(images, images, [50, 101], updates=10)
    with pytest.raises(ValueError, match="smaller than one batch"):
        challenges.size_curve(images, images, [16], updates=10)
    with pytest.raises(ValueError, match="at least one"):
        challenges.size_curve(images, images, [], updates=10)


def test_shifted_copies_only_move_the_pixels():
    rng = np.random.default_rng(0)
    images = np.zeros((5, 28, 28, 1), np.float32)
    images[:, 6:22, 6:22] = rng.random((5, 16, 16, 1))   # zero border wider than the shift
    shifted = challenges.shifted_copies(images, 3, max_shift=2, seed=1)
    assert shifted.shape == (15, 28, 28, 1) and shifted.dtype == np.float32
    np.testing.assert_allclose(shifted.sum(axis=(1, 2, 3)), np.tile(images.sum(axis=(1, 2, 3)), 3), rtol=1e-5)
    for index, copy in enumerate(shifted):
        original = images[index % 5]
        assert any(np.array_equal(copy, np.roll(original, (down, right), axis=(0, 1)))
                   for down in range(-2, 3) for right in range(-2, 3))
    np.testing.assert_array_equal(challenges.shifted_copies(images, 2, max_shift=0), np.concatenate([images] * 2))
    with pytest.raises(ValueError, match="out of frame"):
        challenges.shifted_copies(images, 1, max_shift=14)
    with pytest.raises(ValueError, match="non-negative"):
        challenges.shifted_copies(images, 1, max_shift=-1)


def test_a_copy_of_the_training_set_has_distance_zero_and_ratio_zero():
    rng = np.random.default_rng(0)
    train = rng.random((40, 28, 28, 1)).astype(np.float32)
    held_out = rng.random((30, 28, 28, 1)).astype(np.float32)
    copies = challenges.nearest_training_distances(train[:10], train)
    np.testing.assert_allclose(copies, 0.0, atol=1e-3)
    held_out_distances = challenges.nearest_training_distances(held_out, train)
    assert np.all(held_out_distances > 1)
    assert challenges.memorisation_ratio(copies, held_out_distances) == pytest.approx(0.0, abs=1e-3)
    assert challenges.memorisation_ratio(held_out_distances, held_out_distances) == 1.0
    with pytest.raises(ValueError, match="cannot serve as the reference"):
        challenges.memorisation_ratio(held_out_distances, copies * 0)
    with pytest.raises(ValueError, match="non-negative distances"):
        challenges.memorisation_ratio([-1.0], held_out_distances)
    with pytest.raises(ValueError, match="must hold images of one shape"):
        challenges.nearest_training_distances(np.zeros((2, 14, 14, 1)), train)


class FakeVAE:
    """Decodes z to an image whose first pixels are z: enough to check the traversal's bookkeeping."""

    latent_dim = 3

    def decode(self, z):
        images = np.zeros((len(z), 28, 28, 1), np.float32)
        images[:, 0, :3, 0] = z
        return images

    def encode(self, images):
        mean = np.tile([[0.0, 1.0, 2.0]], (len(images), 1))
        log_var = np.tile([[0.0, 0.0, np.log(4.0)]], (len(images), 1))   # variances 1, 1, 4
        return mean, log_var


def test_a_latent_traversal_moves_one_coordinate_and_kl_reads_per_dimension():
    vae = FakeVAE()
    z, images = challenges.latent_traversal(vae, 1, [-2, 0, 2], base=np.array([0.5, 0.0, -0.5]))
    np.testing.assert_array_equal(z[:, 1], [-2, 0, 2])
    np.testing.assert_array_equal(z[:, [0, 2]], [[0.5, -0.5]] * 3)
    np.testing.assert_array_equal(images[:, 0, :3, 0], z)
    # KL(N(m, s^2) || N(0, 1)) = (s^2 + m^2 - 1 - log s^2) / 2: 0, 1/2, and (4 + 4 - 1 - log 4) / 2
    np.testing.assert_allclose(challenges.kl_per_dimension(vae, np.zeros((4, 28, 28, 1))),
                               [0.0, 0.5, (7.0 - np.log(4.0)) / 2])
    with pytest.raises(ValueError, match=r"dimension must be an integer in \[0, 3\)"):
        challenges.latent_traversal(vae, 3, [0.0])
    with pytest.raises(ValueError, match="base must have shape"):
        challenges.latent_traversal(vae, 0, [0.0], base=np.zeros(2))


def test_wider_u_nets_have_more_parameters_and_the_count_is_the_builders():
    points = challenges.step_time_vs_width([4, 8], steps=1, batch_size=4)
    assert [point.filters for point in points] == [4, 8]
    assert points[0].parameters == learned.build_unet(4, 2, paste_known=True).count_params()
    assert points[1].parameters > 3 * points[0].parameters    # convolutions grow with width squared
    assert all(point.ms_per_step > 0 for point in points)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        challenges.step_time_vs_width([0])
