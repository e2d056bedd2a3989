"""Zero-shot restoration with a diffusion or flow-matching model: posterior samples of the clean digit
given any damage of notebook 08, from a model trained only to generate.

:func:`restore_samples` is the one entry point the notebook, the tests and the restoration
benchmark share. It maps the damaged batch into the model's [-1, 1] space, builds the damage's
linear operator from ``course_lib.degradations.linear_operator`` (no second copy of any
degradation), runs one of the samplers of :mod:`course_lib.posterior_sampling` with the model's
unconditional denoiser, and returns ``k`` restorations per damaged image:

- ``"repaint"`` (holes, missing pixels, strokes): known pixels replaced along the path, with
  ``resample`` passes over blocks of ``jump`` steps;
- ``"matched_noise"`` (Gaussian noise): the reverse path started at the time whose noise level
  equals the damage's;
- ``"dps"`` (any of them, and the only one for blur and downsampling): gradient steps of size
  ``step_size`` on the measurement error through the denoised estimate; where a mask says which
  pixels are known, those are pasted back at the end.

:func:`diffusion_restorer` wraps it in the :class:`course_lib.restorer.Restorer` contract, one
sample or the mean of ``k``, so the benchmark scores it beside every other restorer.

Introduced in notebook 11_diffusion_restoration.
"""

from __future__ import annotations

import numpy as np

from course_lib import degradations as deg
from course_lib import posterior_sampling as ps
from course_lib._checks import one_of, positive_int, seed as check_seed
from course_lib.degradations import Damaged
from course_lib.restorer import Restorer

ALGORITHMS = ("repaint", "matched_noise", "dps")
DEFAULT_ALGORITHM = {"hole": "dps", "missing": "dps", "strokes": "dps", "noise": "matched_noise",
                     "blur": "dps", "down": "dps"}
DPS_STEP_SIZES = {"hole_12": 2.0, "missing_50": 4.0, "down_2": 2.0, "down_4": 6.0,     # tuned degradations
                  "hole": 2.0, "missing": 4.0, "strokes": 2.0, "noise": 1.0, "blur": 2.0, "down": 2.0}  # kinds
"""DPS's step size per degradation, then per kind of damage for the others (the course's blur is
named ``"blur"``, its kind's name): the best one-sample PSNR
on 16 validation training digits (2 samples, 50 steps, sizes 0.5 to 8) of ``benchmarks/dps_step_size.py``.
RePaint scored 5 dB lower on holes and missing pixels there, hence DPS for every masked damage. The
step's length scales with ``||A^T u||`` for a unit residual ``u``: ×4 block means (``A A^T = I / 16``)
want a larger step than ×2 (``I / 4``)."""


def dps_step_size(degradation) -> float:
    """The tuned DPS step for ``degradation`` (a :class:`course_lib.degradations.Degradation`): its
    name's entry of :data:`DPS_STEP_SIZES`, else its kind's.

    Introduced in notebook 11_diffusion_restoration.
    """
    if not isinstance(degradation, deg.Degradation):
        raise TypeError(f"degradation must be a degradations.Degradation (get_degradation(name)), "
                        f"got {type(degradation).__name__}.")
    if degradation.name not in DPS_STEP_SIZES and degradation.kind not in DPS_STEP_SIZES:
        raise ValueError(f"DPS has no step size for {degradation.name!r}: it restores damage of the form "
                         f"y = A x + Gaussian noise ({', '.join(DEFAULT_ALGORITHM)}).")
    return DPS_STEP_SIZES.get(degradation.name, DPS_STEP_SIZES[degradation.kind])


HANDLES = {"repaint": ("hole", "missing", "strokes"), "matched_noise": ("noise",),
           "dps": ("hole", "missing", "strokes", "noise", "blur", "down")}


def restore_samples(model, damaged: Damaged, *, num_samples: int = 1, algorithm: str | None = None,
                    num_steps: int = 50, step_size: float | None = None, resample: int | None = None,
                    jump: int | None = None, method: str = "ddpm", seed: int = 0) -> np.ndarray:
    """``num_samples`` restorations of each damaged image, (N, num_samples, H, W, C) in [0, 1].

    ``model``: a ``course_lib.diffusion.DiffusionBase`` on [0, 1] images (its unconditional
    denoiser is used: a class-conditional model gets its "no label" class), or anything with its
    ``denoiser()``, ``denoiser_vjp()``, ``schedule``, ``data_shape`` and ``scale_images``.
    ``algorithm`` defaults to :data:`DEFAULT_ALGORITHM` for the damage's kind. ``num_steps``:
    reverse steps (``"repaint"`` calls the network ``num_steps * resample`` times, ``"dps"`` does a
    forward and a backward pass per step, ``"matched_noise"`` steps from the matching time only).
    ``step_size`` (``"dps"`` only, default :func:`dps_step_size`), ``resample`` and ``jump``
    (``"repaint"`` only, default 1) are refused by the algorithms that do not use them. ``seed``
    fixes every draw, so a call is reproducible. The course's noise is clipped to [0, 1] after it is
    added, so on the black background it is not the Gaussian noise ``"matched_noise"`` and
    ``"dps"`` assume: there they restore from a slightly wrong likelihood.

    Introduced in notebook 11_diffusion_restoration.
    """
    if not isinstance(damaged, Damaged):
        raise TypeError(f"damaged must be a degradations.Damaged batch (from Degradation.apply), "
                        f"got {type(damaged).__name__}.")
    degradation = damaged.degradation
    if degradation.kind not in DEFAULT_ALGORITHM:
        raise ValueError(f"zero-shot diffusion restoration handles {', '.join(DEFAULT_ALGORITHM)}, not "
                         f"{degradation.name!r} (it needs damage of the form y = A x + Gaussian noise).")
    algorithm = DEFAULT_ALGORITHM[degradation.kind] if algorithm is None else algorithm
    one_of(algorithm, ALGORITHMS, "restoration algorithm")
    if degradation.kind not in HANDLES[algorithm]:
        raise ValueError(f"{algorithm!r} cannot restore {degradation.name!r}; it handles "
                         f"{', '.join(HANDLES[algorithm])}. Use {DEFAULT_ALGORITHM[degradation.kind]!r}.")
    for option, value, owner in (("step_size", step_size, "dps"), ("resample", resample, "repaint"),
                                 ("jump", jump, "repaint")):
        if value is not None and algorithm != owner:
            raise ValueError(f"{option} is an option of {owner!r}, not of {algorithm!r}.")
    if not getattr(model, "scale_images", False):
        raise ValueError("model must be a diffusion model of [0, 1] images (scale_images=True), such as "
                         "load_diffusion()'s.")
    num_samples = positive_int(num_samples, "num_samples")
    seed = check_seed(seed)
    clean_shape = tuple(model.data_shape)
    factor = int(degradation.level) if degradation.kind == "down" else 1
    expected = (clean_shape[0] // factor, clean_shape[1] // factor, clean_shape[2])
    if tuple(damaged.images.shape[1:]) != expected:
        raise ValueError(f"the model restores {clean_shape} images, so {degradation.name!r} damage should be "
                         f"{expected}; got {tuple(damaged.images.shape[1:])}.")
    images = np.repeat(np.asarray(damaged.images, np.float64), num_samples, axis=0) * 2.0 - 1.0
    mask = None if damaged.mask is None else np.repeat(np.asarray(damaged.mask, np.float32), num_samples, axis=0)
    count = len(damaged.images)
    if algorithm == "repaint":
        restored = ps.inpaint(model.denoiser(), images * mask, mask, model.schedule, num_steps=num_steps,
                              resample=resample or 1, jump=jump or 1, method=method, seed=seed, clip=1.0)
    elif algorithm == "matched_noise":
        restored = ps.posterior_denoise(model.denoiser(), images, 2.0 * degradation.level, model.schedule,
                                        num_steps=num_steps, method=method, seed=seed, clip=1.0)
    else:
        apply, adjoint = deg.linear_operator(degradation, mask)
        measured = images * mask if mask is not None else images
        measurement = ps.LinearMeasurement(apply, adjoint, degradation.name)
        restored = ps.dps(model.denoiser_vjp(), measurement, measured, model.schedule, num_steps=num_steps,
                          step_size=dps_step_size(degradation) if step_size is None else step_size, method=method,
                          shape=clean_shape, seed=seed, clip=1.0)
        if mask is not None:                      # the known pixels are known exactly: keep them
            restored = mask * images + (1.0 - mask) * restored
    restored = np.clip((restored + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)
    return restored.reshape((count, num_samples) + clean_shape)


def diffusion_restorer(model, *, num_samples: int = 1, name: str | None = None, handles=None, **options) -> Restorer:
    """A :class:`course_lib.restorer.Restorer`: the mean of ``num_samples`` restorations of
    :func:`restore_samples` (one sample when ``num_samples`` is 1), marked slow for the benchmark.

    ``options`` go to :func:`restore_samples` (``algorithm``, ``num_steps``, ``step_size``, ...).

    Introduced in notebook 11_diffusion_restoration.
    """
    num_samples = positive_int(num_samples, "num_samples")
    algorithm = options.get("algorithm")
    if algorithm is not None:
        one_of(algorithm, ALGORITHMS, "restoration algorithm")
    handles = tuple(handles) if handles is not None else (HANDLES[algorithm] if algorithm else tuple(DEFAULT_ALGORITHM))
    label = name or ("diffusion, 1 sample" if num_samples == 1 else f"diffusion, mean of {num_samples}")

    def restore(damaged):
        return restore_samples(model, damaged, num_samples=num_samples, **options).mean(axis=1)

    return Restorer(label, restore, handles, description=f"zero-shot posterior sampling ({algorithm or 'by damage'})",
                    slow=True)


def load_prior(retrain: bool = False, *, config=None, images=None, verbose="auto"):
    """The shipped unconditional flow-matching model ``flow_mnist_unconditional`` (notebook 07's network
    without labels, 40 epochs at a constant learning rate, EMA weights, sha256 checked) or, with
    ``retrain``, one trained now (about 25 minutes on 2 CPU cores): ``(model, manifest_or_None)``.
    ``config`` and ``images`` (no labels) go to :func:`course_lib.diffusion.load_diffusion`: another
    recipe or time limit, other images.

    Introduced in notebook 11_diffusion_restoration.
    """
    from course_lib import diffusion

    return diffusion.load_diffusion(diffusion.UNCONDITIONAL_NAME, retrain=retrain, config=config, images=images,
                                    verbose=verbose)


def shipped_restorers(num_samples=(1, 16), **options) -> list:
    """The shipped unconditional prior (:func:`load_prior`) as restorers: one per entry of
    ``num_samples`` (one posterior sample, the mean of 16), every degradation it handles.

    Introduced in notebook 11_diffusion_restoration.
    """
    model, _ = load_prior()
    return [diffusion_restorer(model, num_samples=count, **options) for count in num_samples]
