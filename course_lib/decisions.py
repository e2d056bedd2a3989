"""The measured decision table of notebook 13_choosing_methods_and_challenges.

The source article advises "if compute is limited choose CNNs; if speed is needed choose GANs or
VAEs" without a single measurement (erratum 8 in the course design). Notebook 13 replaces that
advice with one table built from the course's own models: one row per shipped model (the DCGAN,
the two VAEs, the flow-matching model, the DnCNN, every U-Net, the conditional GAN) and, for each
restoration task, the best classical restorer measured live. Every number of a shipped model's
row comes from its manifest in ``data/pretrained/<name>.json`` (:func:`manifest_row`), the file
the track notebooks 03-10 load, so the table and those notebooks agree by construction; :func:`matches_manifest`
re-reads the manifest and says whether a row still equals it. What cannot be in a manifest (time
per image on *this* machine, the FID of VAE samples) is measured in the notebook and added with
``measured=``, and the table says which numbers were measured now. Classical rows
(:func:`classical_rows`) run :func:`course_lib.benchmark.benchmark` on a few hundred held-out
digits. What it leaves out: any ranking into one score: the table shows the trade-offs, and the
notebook reads them.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable, Sequence

import numpy as np

from course_lib._checks import as_image_batch, positive_int

__all__ = ["SHIPPED_MODELS", "CLASSICAL_CANDIDATES", "DecisionRow", "manifest_row", "matches_manifest",
           "classical_rows", "decision_table", "format_table", "milliseconds_per_image", "load_shipped_model",
           "measure_shipped_models"]


@dataclasses.dataclass(frozen=True)
class ShippedModel:
    """A shipped model as the decision table reads it: method, task, degradation and the family whose loader reads it.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    method: str
    task: str
    degradation: str | None = None  # restoration tasks: the degradation name
    family: str = "learned_restorer"  # whose loader reads it: a key of FAMILIES


# manifest name -> what it does; the table lists them in this order
SHIPPED_MODELS = {
    "dcgan_mnist": ShippedModel("DCGAN", "generation", family="dcgan"),
    "vae_mnist_latent2": ShippedModel("VAE, latent 2", "generation", family="vae"),
    "vae_mnist_latent16": ShippedModel("VAE, latent 16", "generation", family="vae"),
    "flow_mnist": ShippedModel("flow matching, 8 Heun steps", "generation", family="flow"),
    "dncnn_noise_0.3": ShippedModel("DnCNN", "denoising, σ 0.3", "noise_0.3"),
    "unet_hole_12": ShippedModel("U-Net (MSE)", "inpainting, 12 × 12 hole", "hole_12"),
    "pix2pix_hole_12": ShippedModel("cGAN (pix2pix)", "inpainting, 12 × 12 hole", "hole_12", family="pix2pix"),
    "unet_missing_50": ShippedModel("U-Net", "inpainting, 50% missing", "missing_50"),
    "unet_blur": ShippedModel("U-Net", "deblurring", "blur"),
    "unet_down_2": ShippedModel("U-Net", "super-resolution × 2", "down_2"),
    "unet_down_4": ShippedModel("U-Net", "super-resolution × 4", "down_4"),
}
TASK_OF_DEGRADATION = {model.degradation: model.task for model in SHIPPED_MODELS.values() if model.degradation}

# the classical restorers worth trying per task (notebook 08's table: the best of them wins the row)
CLASSICAL_CANDIDATES = {
    "noise_0.3": ("non_local_means", "total_variation", "wavelet"),
    "hole_12": ("biharmonic", "mean_image_fill"),
    "missing_50": ("biharmonic",),
    "blur": ("richardson_lucy", "wiener"),
    "down_2": ("bicubic",),
    "down_4": ("bicubic",),
}


@dataclasses.dataclass(frozen=True)
class DecisionRow:
    """One method on one task. ``None`` means "does not apply" (no PSNR for a generator).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """

    name: str                       # manifest name, or "classical:<degradation>"
    method: str
    task: str
    fid: float | None = None        # generation: samples vs held-out; restoration: restored vs clean
    fid_floor: float | None = None  # real-vs-real floor at 2,000 vs 2,000
    psnr: float | None = None       # dB
    ssim: float | None = None
    recognition: float | None = None        # evaluator accuracy on the outputs (clean: 0.991); a class-
                                            # conditional generator: share of samples read as the class asked for
    damaged_psnr: float | None = None       # the damaged input's PSNR: the bar
    negative_elbo: float | None = None      # nats per image, VAEs
    iw_nll: float | None = None             # importance-weighted NLL, k = 100, VAEs
    training_seconds: float | None = None   # on 2 CPU cores, inside epochs (the cGAN: plus its U-Net start;
                                            # the VAEs' manifests predate that: wall time with checkpoints)
    process_cpu_seconds: float | None = None  # CPU time of the training process, all cores together, where a
                                              # manifest records it for the whole run (the flow model's includes
                                              # its FID checkpoints)
    ms_per_image: float | None = None
    parameters: int | None = None
    training_data: str = ""
    source: str = ""                # where the numbers come from
    measured: tuple[str, ...] = ()  # fields measured now rather than read from a manifest


def _known(name: str) -> ShippedModel:
    if name not in SHIPPED_MODELS:
        raise ValueError(f"Unknown model {name!r}; the decision table knows the shipped models "
                         f"{', '.join(SHIPPED_MODELS)}.")
    return SHIPPED_MODELS[name]


def manifest_row(name: str, manifest: dict | None = None) -> DecisionRow:
    """The decision-table row of shipped model ``name``, every number read from its manifest.

    ``manifest`` defaults to
    ``data/pretrained/<name>.json``. The cGAN's training time adds the U-Net it starts from
    (``unet_hole_12``), since a learner reproducing it must train both.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import training

    model = _known(name)
    manifest = manifest if manifest is not None else training.read_manifest(name)
    metrics = manifest["metrics"]
    common = dict(name=name, method=model.method, task=model.task, parameters=int(manifest["parameters"]),
                  training_seconds=float(metrics["training_seconds"]), source=manifest["command"])
    if model.family == "dcgan":
        return DecisionRow(**common, fid=metrics["fid"], fid_floor=metrics["fid_floor_real_vs_real"],
                           training_data="8,000 MNIST training digits")
    if model.family == "flow":
        # a resumed run's process CPU time covers only the part trained after the resumption: left out
        whole_run = not metrics.get("resumed_after_seconds")
        return DecisionRow(**common, fid=metrics["fid"], fid_floor=metrics["fid_floor_real_vs_real"],
                           recognition=metrics["recognition_rate"],
                           process_cpu_seconds=float(metrics["process_cpu_seconds"]) if whole_run else None,
                           ms_per_image=metrics["sampling_milliseconds_per_image"],
                           training_data="8,000 MNIST training digits and their labels")
    if model.family == "vae":
        return DecisionRow(**common, negative_elbo=metrics["test_negative_elbo"],
                           iw_nll=metrics["test_importance_weighted_nll_k100"],
                           training_data="8,000 MNIST training digits")
    if model.family == "pix2pix":
        start = training.read_manifest(manifest["config"]["init_from"])
        cgan = metrics["cgan"]
        common["training_seconds"] += float(start["metrics"]["training_seconds"])
        return DecisionRow(**common, fid=cgan["fid"], fid_floor=metrics["fid_floor_real_vs_real"], psnr=cgan["psnr"],
                           ssim=cgan["ssim"], recognition=cgan["recognition"],
                           damaged_psnr=start["metrics"]["damaged_input_psnr"],
                           training_data=f"{start['metrics']['training_set']}, then the same digits adversarially")
    return DecisionRow(**common, fid=metrics["fid"], psnr=metrics["psnr"], ssim=metrics["ssim"],
                       recognition=metrics["recognition"], damaged_psnr=metrics["damaged_input_psnr"],
                       ms_per_image=metrics["milliseconds_per_image"], training_data=metrics["training_set"])


def matches_manifest(row: DecisionRow) -> bool:
    """Whether every manifest-sourced number of ``row`` equals its manifest today (measured fields
    are skipped).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    reference = manifest_row(row.name)
    for field in dataclasses.fields(DecisionRow):
        if field.name in ("measured", "source") or field.name in row.measured:
            continue
        if getattr(row, field.name) != getattr(reference, field.name):
            return False
    return True


def milliseconds_per_image(function: Callable, inputs, *, repeats: int = 3) -> float:
    """Best-of-``repeats`` wall time of ``function(inputs)`` per input, in milliseconds, after one
    warm-up call (which pays for tracing and compilation).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    repeats = positive_int(repeats, "repeats")
    count = len(inputs)
    if count == 0:
        raise ValueError("inputs must hold at least one item to time.")
    function(inputs)
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        function(inputs)
        best = min(best, time.perf_counter() - started)
    return 1000.0 * best / count


# ------------------------------------------------------------------ the shipped models, loaded

def _families() -> dict:
    """family -> (loader, what to time): a generator maps its inputs (:func:`_generator_inputs`) to
    images; a restorer is wrapped as a Restorer that reads damaged images. Every loader returns
    ``(model, manifest)``."""
    from course_lib import diffusion, gan, learned_restoration, pix2pix, training, vae

    def learned(model, manifest):
        config = training.config_from_manifest(learned_restoration.LearnedRestorerConfig, manifest)
        return learned_restoration.learned_restorer(model, config.architecture, (config.degradation,))

    return {
        "dcgan": (gan.load_generator, lambda model, latent: model.generate(noise=latent)),
        "vae": (vae.load_vae, lambda model, latent: model.decode(latent)),
        "flow": (diffusion.load_diffusion, _flow_samples),
        "learned_restorer": (learned_restoration.load_learned_restorer, learned),
        "pix2pix": (pix2pix.load_pix2pix, lambda model, manifest: pix2pix.pix2pix_restorer(model)),
    }


def _flow_samples(model, labels) -> np.ndarray:
    """One sample per label, 8 Heun steps (15 network calls) at guidance 1: the manifest's sampler."""
    return model.generate(len(labels), labels=labels if model.num_classes else None, num_steps=8, method="heun")


def _generator_inputs(model, count: int, seed: int) -> np.ndarray:
    """What a generator's timed function reads: ``count`` latent codes drawn with ``seed`` (DCGAN,
    VAE), or ``count`` class-balanced labels (a diffusion or flow model, whose sampler draws its own
    noise)."""
    if hasattr(model, "latent_dim"):
        return np.random.default_rng(seed).standard_normal((count, model.latent_dim)).astype(np.float32)
    from course_lib.diffusion import balanced_labels

    return balanced_labels(count, max(model.num_classes, 1))


def load_shipped_model(name: str, **options):
    """``(model, manifest)`` of shipped model ``name``, through its family's loader (``options``
    go to it, e.g. ``retrain=True``).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    loader, _ = _families()[_known(name).family]
    return loader(name, **options)


def measure_shipped_models(images, evaluator, *, names: Sequence[str] | None = None, num_timed: int = 100,
                           num_samples: int = 2000, seed: int = 0, reference_features=None,
                           fid_floor: float | None = None) -> tuple[dict, dict]:
    """Load every shipped model and measure what its manifest cannot hold: ``(models, measured)``.

    Each model is timed on this machine (:func:`milliseconds_per_image`) on ``num_timed``
    inputs: generators on latent codes drawn with ``seed`` (the flow-matching model: class-balanced
    labels, 8 Heun steps), restorers on the first ``images`` damaged as the benchmark damages them
    (seed 0). A generator whose manifest records no FID (the VAEs) is scored on ``num_samples``
    samples against ``reference_features`` (default: the evaluator's features of ``images``),
    with ``fid_floor`` beside it. ``models`` maps each name to its loaded model; ``measured``
    is what :func:`decision_table` takes as ``measured=``.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import degradations, metrics

    images = as_image_batch(images, "images", channels=1)
    num_timed = positive_int(num_timed, "num_timed")
    num_samples = positive_int(num_samples, "num_samples")
    names = list(SHIPPED_MODELS) if names is None else list(names)
    families = _families()
    models, measured = {}, {}
    for name in names:
        shipped = _known(name)
        model, manifest = load_shipped_model(name)
        models[name] = model
        _, run = families[shipped.family]
        if shipped.task == "generation":
            latent = _generator_inputs(model, num_timed, seed)
            measured[name] = {"ms_per_image": milliseconds_per_image(lambda codes: run(model, codes), latent)}
            if manifest is None or "fid" not in manifest["metrics"]:
                codes = _generator_inputs(model, num_samples, seed)
                reference = reference_features if reference_features is not None else evaluator.features(images)
                measured[name]["fid"] = metrics.frechet_distance(evaluator.features(run(model, codes)), reference)
                if fid_floor is not None:
                    measured[name]["fid_floor"] = fid_floor
        else:
            restorer = run(model, manifest)
            damaged = degradations.get_degradation(shipped.degradation).apply(images[:num_timed], seed=0)
            measured[name] = {"ms_per_image": milliseconds_per_image(
                lambda batch: restorer(damaged._replace(images=batch)), damaged.images)}
    return models, measured


def _classical_restorer(method: str, train_images):
    from course_lib import restoration as rst

    factories = {"non_local_means": rst.non_local_means, "total_variation": rst.total_variation,
                 "wavelet": rst.wavelet, "biharmonic": rst.biharmonic, "richardson_lucy": rst.richardson_lucy,
                 "wiener": rst.wiener, "bicubic": lambda: rst.interpolation("bicubic"),
                 "mean_image_fill": lambda: rst.mean_image_fill(train_images)}
    return factories[method]()


def classical_rows(clean_images, labels, train_images, *, degradations: Sequence[str] | None = None,
                   evaluator=None, seed: int = 0) -> list[DecisionRow]:
    """The best classical restorer (by PSNR) per task, measured now on ``clean_images``.

    Runs
    :func:`course_lib.benchmark.benchmark` with the tuned restorers of notebook 08 (the
    candidates in :data:`CLASSICAL_CANDIDATES`) on the held-out digits given, damaged with
    ``seed`` as the benchmark does. FID is left out: at a few hundred images it is biased upward
    and would not compare with the learned rows' FID at 2,000 (notebook 12). ``train_images``
    gives the mean image for mean-image fill.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    from course_lib import restoration as rst
    from course_lib.benchmark import benchmark

    clean_images = as_image_batch(clean_images, "clean_images", channels=1)
    degradations = list(CLASSICAL_CANDIDATES) if degradations is None else list(degradations)
    unknown = [name for name in degradations if name not in CLASSICAL_CANDIDATES]
    if unknown:
        raise ValueError(f"No classical candidates for {unknown}; expected some of {list(CLASSICAL_CANDIDATES)}.")
    rows = []
    for degradation in degradations:
        restorers = [_classical_restorer(method, train_images) for method in CLASSICAL_CANDIDATES[degradation]]
        result = benchmark([rst.damaged_input(), *restorers], clean_images, labels, degradations=[degradation],
                           evaluator=evaluator, seed=seed, verbose=False)
        best = result.best(degradation)
        rows.append(DecisionRow(
            name=f"classical:{degradation}", method=f"{best.restorer} (classical)", task=TASK_OF_DEGRADATION[degradation],
            psnr=round(best.psnr, 2), ssim=round(best.ssim, 4), recognition=round(best.recognition, 4),
            damaged_psnr=round(result.row(degradation, "damaged input").psnr, 2), training_seconds=0.0,
            ms_per_image=1000.0 * best.seconds_per_image, parameters=0,
            training_data="none (one parameter tuned on 200 validation digits)",
            source=f"benchmark.benchmark on {len(clean_images)} held-out digits, now",
            measured=("psnr", "ssim", "recognition", "damaged_psnr", "ms_per_image")))
    return rows


def decision_table(names: Sequence[str] | None = None, *, measured: dict | None = None,
                   classical: Sequence[DecisionRow] = ()) -> list[DecisionRow]:
    """Rows for the shipped models ``names`` (default: all of :data:`SHIPPED_MODELS`), with the
    ``classical`` rows placed before the learned rows of their task.

    ``measured`` maps a model name to
    numbers measured now (``{"vae_mnist_latent16": {"fid": 31.2, "ms_per_image": 0.05}}``); they
    replace the manifest's value of that field and are listed in the row's ``measured``.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    names = list(SHIPPED_MODELS) if names is None else list(names)
    for name in names:
        _known(name)
    measured = dict(measured or {})
    unknown = [name for name in measured if name not in names]
    if unknown:
        raise ValueError(f"measured names {unknown} are not among the table's models {names}.")
    fields = {field.name for field in dataclasses.fields(DecisionRow)}
    rows = []
    placed = set()
    for name in names:
        row = manifest_row(name)
        extra = measured.get(name, {})
        wrong = set(extra) - fields
        if wrong:
            raise ValueError(f"Unknown fields {sorted(wrong)} measured for {name}; expected DecisionRow fields.")
        if extra:
            row = dataclasses.replace(row, **extra, measured=tuple(sorted(extra)))
        for classical_row in classical:
            if classical_row.task == row.task and classical_row.name not in placed:
                rows.append(classical_row)
                placed.add(classical_row.name)
        rows.append(row)
    rows.extend(row for row in classical if row.name not in placed)
    return rows


def _number(value, pattern: str, measured: bool = False) -> str:
    if value is None:
        return ""
    return pattern.format(value) + ("*" if measured else "")


def format_table(rows: Sequence[DecisionRow]) -> str:
    """The decision table as Markdown; numbers measured now (not read from a manifest) carry a *, and
    the training time is followed by the process CPU time in brackets where a manifest records it.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    floors = sorted({f"{row.fid_floor:.2f}" for row in rows if row.fid_floor is not None})
    floor = f" (floor {', '.join(floors)})" if floors else ""
    header = (f"| task | method | FID{floor} | PSNR dB (input) | SSIM | recognition | −ELBO nats "
              "| training s, CPU (process CPU s) | ms / image | parameters |")
    lines = [header, "|" + "---|" * 10]
    for row in rows:
        marked = set(row.measured)
        psnr = _number(row.psnr, "{:.2f}", "psnr" in marked)
        if psnr and row.damaged_psnr is not None:
            psnr += f" ({row.damaged_psnr:.2f})"
        elbo = _number(row.negative_elbo, "{:.1f}")
        if elbo and row.iw_nll is not None:
            elbo += f" (IW {row.iw_nll:.1f})"
        training = _number(row.training_seconds, "{:,.0f}")
        if training and row.process_cpu_seconds is not None:
            training += f" ({row.process_cpu_seconds:,.0f})"
        cells = [row.task, row.method, _number(row.fid, "{:.2f}", "fid" in marked), psnr,
                 _number(row.ssim, "{:.3f}", "ssim" in marked), _number(row.recognition, "{:.1%}", "recognition" in marked),
                 elbo, training, _number(row.ms_per_image, "{:.3f}", "ms_per_image" in marked),
                 _number(row.parameters, "{:,}")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
