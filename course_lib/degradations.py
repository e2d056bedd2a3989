"""Degradations: the damage that notebooks 08-10 teach networks and classical methods to undo.

Each function takes a batch of clean images (float32 NHWC in [0, 1]) and a ``seed``, and returns
the damaged batch, still float32 NHWC in [0, 1]; the same seed always gives the same damage.
Degradations that remove pixels also return their **mask**, float32 of shape (N, H, W, 1) with
**1 = known pixel, 0 = missing pixel** (the convention of every restorer in the course); the
missing pixels of the damaged image are set to 0. :class:`Degradation` names a degradation and its
level (``"noise_0.3"``, ``"hole_12"``, ``"missing_50"``, ``"blur"``, ``"down_2"``) so that the
benchmark, the notebooks and the restorers all refer to the same damage the same way;
:func:`get_degradation` parses those names. Introduced in notebook
08_degradations_and_classical_restoration. What it leaves out: colour-specific damage (JPEG
artefacts, demosaicking) and unknown-kernel (blind) blur.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import re

import numpy as np
import scipy.ndimage

from course_lib._checks import (as_image_batch, as_mask, boolean, non_negative_number, one_of,
                                positive_int, positive_number)
from course_lib._checks import fraction as check_fraction
from course_lib._checks import seed as check_seed

__all__ = [
    "add_gaussian_noise", "add_salt_and_pepper", "remove_random_pixels", "cut_square_hole",
    "draw_strokes", "gaussian_psf", "gaussian_blur", "downsample", "upsample", "apply_mask",
    "Degradation", "Damaged", "get_degradation", "linear_operator", "BENCHMARK_DEGRADATIONS", "KINDS",
]

KINDS = ("noise", "salt_pepper", "missing", "hole", "strokes", "blur", "down")
HOLE_POSITIONS = ("centre", "random")
UPSAMPLING_METHODS = ("nearest", "bilinear", "bicubic")
# spline order of each interpolation method in scipy / scikit-image
SPLINE_ORDER = {"nearest": 0, "bilinear": 1, "bicubic": 3}
# The blur of the course's benchmark: a Gaussian point-spread function of standard deviation
# 1.5 pixels (strokes of MNIST digits are 2-3 pixels wide, so it merges nearby strokes).
DEFAULT_BLUR_SIGMA = 1.5
# The eight degradations of the restoration benchmark, by name.
BENCHMARK_DEGRADATIONS = ("noise_0.1", "noise_0.3", "noise_0.5", "hole_12", "missing_50", "blur",
                          "down_2", "down_4")
# Size limits. Beyond them a 28 x 28 digit (or a 512 x 512 photograph) is wiped out or the
# call asks for gigabytes: a blur of sigma 10 already spreads a pixel over a whole digit, a
# PSF of radius 50 covers a 101 x 101 window, and a factor of 32 turns a 28 x 28 digit into a
# 896 x 896 image.
MAX_BLUR_SIGMA = 10.0
# A PSF narrower than this is no blur at all (and its exponent would divide by zero).
MIN_BLUR_SIGMA = 0.01
# Noise of standard deviation 10 on the [0, 1] scale already leaves only clipped 0s and 1s.
MAX_NOISE_SIGMA = 10.0
MAX_PSF_RADIUS = 50
MAX_UPSAMPLING_FACTOR = 32
MAX_STROKES = 50
# A stroke may be at most this fraction of the shorter image side wide (7 pixels on a digit).
MAX_STROKE_WIDTH_SHARE = 0.25


# --------------------------------------------------------------------------------------------
# Noise
# --------------------------------------------------------------------------------------------

def add_gaussian_noise(images, sigma: float, seed: int = 0, clip: bool = True) -> np.ndarray:
    """Additive white Gaussian noise of standard deviation ``sigma`` on the [0, 1] scale.

    ``y = clip(x + sigma * n, 0, 1)`` with ``n ~ N(0, 1)`` drawn independently per pixel from
    ``numpy.random.default_rng(seed)``. With ``clip=True`` (the default, and the course's
    benchmark) the result stays a valid image in [0, 1], but the noise is then **no longer
    zero-mean** where the image is near 0 or 1: on MNIST's black background the clipped noise
    averages ``sigma / sqrt(2 pi)`` (0.12 for sigma 0.3). ``clip=False`` returns ``x + sigma n``
    unclipped (values outside [0, 1]; for studying the noise itself, not for restorers).
    ``sigma`` is at most ``MAX_NOISE_SIGMA`` (10).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    images = as_image_batch(images)
    sigma = non_negative_number(sigma, "sigma", maximum=MAX_NOISE_SIGMA)
    clip = boolean(clip, "clip")
    generator = np.random.default_rng(check_seed(seed))
    noise = generator.standard_normal(images.shape).astype(np.float32)   # (N, H, W, C)
    noisy = images + np.float32(sigma) * noise                            # y = x + sigma n
    return np.clip(noisy, 0.0, 1.0) if clip else noisy


def add_salt_and_pepper(images, fraction: float, seed: int = 0) -> np.ndarray:
    """Set a ``fraction`` of the pixels of each image to 0 (pepper) or 1 (salt), half each.

    Exactly
    ``round(fraction * H * W)`` pixel positions per image are hit (all channels of a hit pixel
    take the same value). It simulates dead and stuck sensor pixels or transmission errors;
    unlike a mask, the restorer is not told where they are.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    images, generator, num_hit, draws = _random_pixels(images, fraction, seed)
    damaged = images.copy()
    for index, (rows, columns) in draws:
        values = generator.integers(0, 2, size=num_hit).astype(np.float32)  # 0 pepper, 1 salt
        damaged[index, rows, columns, :] = values[:, None]
    return damaged


def _random_pixels(images, fraction, seed):
    """Checked ``images``, the seeded generator, the count ``round(fraction * H * W)`` and, lazily
    for each image in turn, ``(index, (rows, columns))`` of that many distinct random pixels."""
    images = as_image_batch(images)
    fraction = check_fraction(fraction, "fraction")
    generator = np.random.default_rng(check_seed(seed))
    count, height, width, _ = images.shape
    num_pixels = int(round(fraction * height * width))

    def draws():
        for index in range(count):
            positions = generator.choice(height * width, size=num_pixels, replace=False)
            yield index, np.unravel_index(positions, (height, width))

    return images, generator, num_pixels, draws()


# --------------------------------------------------------------------------------------------
# Masks: 1 = known pixel, 0 = missing pixel
# --------------------------------------------------------------------------------------------

def apply_mask(images, mask) -> np.ndarray:
    """Zero the missing pixels: ``images * mask`` with mask 1 = known, 0 = missing.

    ``mask`` has shape
    (N, H, W, 1) and holds only 0 and 1; it applies to every channel.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    images = as_image_batch(images)
    mask = as_mask(mask, images)
    return images * mask


def remove_random_pixels(images, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Delete a random ``fraction`` of the pixels of each image; return ``(damaged, mask)``.

    Exactly
    ``round(fraction * H * W)`` pixels per image are missing (set to 0 in ``damaged``, 0 in
    ``mask``), at positions drawn independently for each image. It simulates lost
    measurements (a sensor that samples only some pixels, packet loss).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    images, _, _, draws = _random_pixels(images, fraction, seed)
    mask = np.ones(images.shape[:3] + (1,), dtype=np.float32)
    for index, (rows, columns) in draws:
        mask[index, rows, columns, 0] = 0.0
    return images * mask, mask


def hole_corner(image_size: int, hole_size: int) -> int:
    """Top (= left) index of a centred square hole: ``(image_size - hole_size) // 2``.

    Introduced in notebook 03_dcgan_mnist.
    """
    image_size = positive_int(image_size, "image_size")
    hole_size = positive_int(hole_size, "hole_size")
    if hole_size > image_size:
        raise ValueError(f"hole_size must be at most image_size ({image_size}), got {hole_size}.")
    return (image_size - hole_size) // 2


def cut_square_hole(images, size: int, position: str = "centre",
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cut a ``size`` x ``size`` square hole in each image; return ``(damaged, mask)``.

    ``position="centre"``
    puts the hole's top-left corner at row and column ``(H - size) // 2`` and
    ``(W - size) // 2`` (rows 8 to 19 for a 12-pixel hole in a 28-pixel digit), the same for every
    image; ``"random"`` draws its top-left corner uniformly per image so the hole lies wholly
    inside the image. It simulates occlusion and the classic inpainting task.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    images = as_image_batch(images)
    size = positive_int(size, "size")
    one_of(position, HOLE_POSITIONS, "hole position")
    count, height, width, _ = images.shape
    if size > min(height, width):
        raise ValueError(f"size must be at most the image side ({min(height, width)}), got {size}.")
    generator = np.random.default_rng(check_seed(seed))
    mask = np.ones((count, height, width, 1), dtype=np.float32)
    for index in range(count):
        if position == "centre":
            top, left = hole_corner(height, size), hole_corner(width, size)
        else:
            top = int(generator.integers(0, height - size + 1))
            left = int(generator.integers(0, width - size + 1))
        mask[index, top:top + size, left:left + size, 0] = 0.0
    return images * mask, mask


def draw_strokes(images, num_strokes: int = 3, width: int = 2,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Erase free-form strokes (random polylines) from each image; return ``(damaged, mask)``.

    Each image gets
    ``num_strokes`` polylines of 2 to 4 straight segments between random points, each
    ``width`` pixels thick; the pixels under them are missing. It simulates scratches, text
    overlays, or a user painting out an object (free-form inpainting). At most
    ``MAX_STROKES`` strokes, each at most a quarter of the shorter image side wide (7 pixels
    on a 28 x 28 digit): wider strokes erase the whole image.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from skimage.draw import line

    images = as_image_batch(images)
    num_strokes = positive_int(num_strokes, "num_strokes", maximum=MAX_STROKES)
    width = positive_int(width, "width")
    count, height, width_pixels, _ = images.shape
    widest = max(1, int(MAX_STROKE_WIDTH_SHARE * min(height, width_pixels)))
    if width > widest:
        raise ValueError(f"width must be at most a quarter of the shorter image side, {widest} "
                         f"pixels for {height} x {width_pixels} images, got {width}: wider "
                         f"strokes erase the whole image.")
    generator = np.random.default_rng(check_seed(seed))
    brush = np.ones((width, width), dtype=bool)
    mask = np.ones((count, height, width_pixels, 1), dtype=np.float32)
    for index in range(count):
        erased = np.zeros((height, width_pixels), dtype=bool)
        for _ in range(num_strokes):
            num_points = int(generator.integers(3, 6))
            rows = generator.integers(0, height, size=num_points)
            columns = generator.integers(0, width_pixels, size=num_points)
            for start in range(num_points - 1):
                line_rows, line_columns = line(rows[start], columns[start],
                                               rows[start + 1], columns[start + 1])
                erased[line_rows, line_columns] = True
        erased = scipy.ndimage.binary_dilation(erased, structure=brush)
        mask[index, erased, 0] = 0.0
    return images * mask, mask


# --------------------------------------------------------------------------------------------
# Blur and resolution
# --------------------------------------------------------------------------------------------

def gaussian_psf(sigma: float = DEFAULT_BLUR_SIGMA, radius: int | None = None) -> np.ndarray:
    """A normalised 2-D Gaussian point-spread function, shape (2 radius + 1, 2 radius + 1).

    ``radius`` defaults to
    ``ceil(3 sigma)``. ``psf[i, j] = exp(-(i^2 + j^2) / (2 sigma^2)) / Z`` with the sum equal to 1,
    so blurring keeps the mean brightness. The deblurring restorers use the same PSF.
    ``sigma`` lies between ``MIN_BLUR_SIGMA`` (0.01) and ``MAX_BLUR_SIGMA`` (10) pixels and
    ``radius`` is at most ``MAX_PSF_RADIUS`` (50).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    sigma = positive_number(sigma, "sigma (pixels)", maximum=MAX_BLUR_SIGMA)
    if sigma < MIN_BLUR_SIGMA:
        raise ValueError(f"sigma (pixels) must be at least {MIN_BLUR_SIGMA}, got {sigma!r}: a "
                         f"narrower PSF is no blur.")
    radius = (int(math.ceil(3 * sigma)) if radius is None
              else positive_int(radius, "radius", maximum=MAX_PSF_RADIUS))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    one_dimensional = np.exp(-offsets ** 2 / (2.0 * sigma ** 2))        # (2r + 1,)
    psf = np.outer(one_dimensional, one_dimensional)                     # (2r + 1, 2r + 1)
    return (psf / psf.sum()).astype(np.float32)


def gaussian_blur(images, sigma: float = DEFAULT_BLUR_SIGMA, seed: int = 0) -> np.ndarray:
    """Convolve each image with :func:`gaussian_psf` (``sigma`` pixels); borders reflect.

    ``y = k * x`` (no
    noise), computed by ``scipy.ndimage.convolve`` per image and channel with mode
    ``"reflect"``. It simulates defocus or a shaken camera with a known kernel. ``seed`` is
    accepted for a uniform interface and unused: this blur is deterministic. Images are
    channels-last (N, H, W, C); a channels-first array is refused, since blurring it would mix
    its rows with its channels.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    images = as_image_batch(images)
    check_seed(seed)
    return _blur(images, gaussian_psf(sigma)).astype(np.float32)


def _blur(values: np.ndarray, psf: np.ndarray) -> np.ndarray:
    """``values`` (N, H, W, C, any real numbers) convolved with ``psf``, borders reflected."""
    return scipy.ndimage.convolve(values, psf[None, :, :, None].astype(values.dtype), mode="reflect")


def _blur_adjoint(values: np.ndarray, psf: np.ndarray) -> np.ndarray:
    """The exact transpose of :func:`_blur`: a full convolution (the PSF is symmetric), then each value
    of the reflected border added back onto the pixel it copied (scipy's ``"reflect"`` is NumPy's
    ``"symmetric"`` padding, which reflects again and again when the PSF is wider than the image)."""
    radius = psf.shape[0] // 2
    padded = np.pad(values, ((0, 0), (radius, radius), (radius, radius), (0, 0)))
    full = scipy.ndimage.convolve(padded, psf[None, :, :, None].astype(values.dtype), mode="constant")
    for axis in (1, 2):
        size = values.shape[axis]
        source = np.pad(np.arange(size), radius, mode="symmetric")     # the pixel each padded place copies
        folded = np.zeros(full.shape[:axis] + (size,) + full.shape[axis + 1:], dtype=full.dtype)
        np.add.at(np.moveaxis(folded, axis, 0), source, np.moveaxis(full, axis, 0))
        full = folded
    return full


def _factor(factor) -> int:
    factor = positive_int(factor, "factor")
    if factor < 2:
        raise ValueError(f"factor must be an integer of at least 2, got {factor}.")
    return factor


def downsample(images, factor: int, seed: int = 0) -> np.ndarray:
    """Reduce the resolution by ``factor``: average each ``factor`` x ``factor`` block.

    (N, H, W, C) ->
    (N, H / factor, W / factor, C); H and W must be multiples of ``factor`` (28 -> 14 for 2,
    28 -> 7 for 4). Block averaging models a sensor with fewer, larger pixels (each low-
    resolution pixel integrates the light over its area). ``seed`` is unused (deterministic).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    images = as_image_batch(images)
    factor = _factor(factor)
    check_seed(seed)
    _, height, width, _ = images.shape
    if height % factor or width % factor:
        raise ValueError(f"the image height and width must be multiples of factor {factor}, "
                         f"got {height} x {width}.")
    return _block_mean(images, factor).astype(np.float32)              # (N, H/f, W/f, C)


def _block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """The mean of each ``factor`` x ``factor`` block of ``values`` (N, H, W, C, any real numbers)."""
    count, height, width, channels = values.shape
    blocks = values.reshape(count, height // factor, factor, width // factor, factor, channels)
    return blocks.mean(axis=(2, 4))


def upsample(images, factor: int, method: str = "nearest") -> np.ndarray:
    """Enlarge by ``factor`` with ``"nearest"``, ``"bilinear"`` or ``"bicubic"`` interpolation.

    (N, h, w, C) ->
    (N, h factor, w factor, C) via ``skimage.transform.resize`` with spline order 0, 1 or 3
    (pixel centres aligned, edges reflected, no anti-aliasing), one image and one channel at a
    time, so an image is enlarged the same whether it comes alone or in a batch; the result is
    clipped to [0, 1] because cubic splines overshoot. Nearest upsampling repeats each pixel in
    a ``factor`` x ``factor`` block, so it exactly inverts :func:`downsample` on images that are
    constant on those blocks. ``factor`` is at most ``MAX_UPSAMPLING_FACTOR`` (32).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from skimage.transform import resize

    images = as_image_batch(images)
    factor = _factor(factor)
    if factor > MAX_UPSAMPLING_FACTOR:
        raise ValueError(f"factor must be at most {MAX_UPSAMPLING_FACTOR} (a 28 x 28 digit "
                         f"becomes {28 * MAX_UPSAMPLING_FACTOR} x {28 * MAX_UPSAMPLING_FACTOR}), "
                         f"got {factor}.")
    one_of(method, UPSAMPLING_METHODS, "upsampling method")
    count, height, width, channels = images.shape
    if method == "nearest":
        return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)
    enlarged = np.empty((count, height * factor, width * factor, channels), dtype=np.float32)
    for index in range(count):
        for channel in range(channels):
            # clip=False: resize's own clip clamps to the range of the array it is given,
            # which would make each result depend on the other images of the batch
            enlarged[index, :, :, channel] = resize(
                images[index, :, :, channel], (height * factor, width * factor),
                order=SPLINE_ORDER[method], mode="symmetric", anti_aliasing=False,
                preserve_range=True, clip=False)
    return np.clip(enlarged, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Named degradations
# --------------------------------------------------------------------------------------------

class Damaged(collections.namedtuple("Damaged", ("images", "mask", "degradation"))):
    """A damaged batch: what a restorer is given.

    ``images``: the damaged images (for ``down`` degradations, the small low-resolution ones);
    ``mask``: (N, H, W, 1) with 1 = known pixel, 0 = missing, or ``None`` when no pixel is
    missing; ``degradation``: the :class:`Degradation` that made them (or its name, such as
    ``"hole_12"``). Building one by hand checks all three: the images are a batch in [0, 1], a
    degradation that removes pixels comes with its mask, and one that removes none has
    ``mask=None``.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """

    __slots__ = ()

    def __new__(cls, images, mask, degradation):
        if not isinstance(degradation, (Degradation, str)):
            raise ValueError(f"degradation must be a Degradation or its name (such as "
                             f"'hole_12'), got {degradation!r}.")
        degradation = get_degradation(degradation)
        images = as_image_batch(images, "images")
        if degradation.has_mask:
            mask = as_mask(mask, images)
        elif mask is not None:
            raise ValueError(f"mask must be None for {degradation.name!r}, which removes no "
                             f"pixels; got an array of shape {np.shape(mask)}.")
        return super().__new__(cls, images, mask, degradation)


def _level_text(level: float, percent: bool = False) -> str:
    """The shortest decimal that names ``level`` exactly (as a percentage with ``percent``).

    ``get_degradation`` reads it back to the same float: 0.3 -> ``"0.3"``, 0.07 as a percentage
    -> ``"7"`` (not ``"7.000000000000001"``), 0.505 -> ``"50.5"``.
    """
    if not percent:
        return np.format_float_positional(float(level), trim="-")
    for digits in range(17):
        text = np.format_float_positional(round(100 * float(level), digits), trim="-")
        if float(text) / 100 == level:
            return text
    return np.format_float_positional(100 * float(level), trim="-")


@dataclasses.dataclass(frozen=True)
class Degradation:
    """A named degradation and its level; ``apply(images, seed)`` damages a batch.

    ``kind`` is one of
    ``KINDS``; ``level`` is the noise sigma (``noise``), the fraction of pixels hit
    (``salt_pepper``, ``missing``), the hole side in pixels (``hole``), the number of strokes
    (``strokes``), the PSF sigma in pixels (``blur``) or the downsampling factor (``down``).
    ``position`` places holes (``"centre"`` or ``"random"``). Build them by name with
    :func:`get_degradation`. Levels that the name could not say exactly are refused: holes,
    strokes and factors are whole numbers (``Degradation("hole", 12.7)`` is an error, not
    ``hole_12``), a factor is at least 2, fractions lie in (0, 1], and only holes take a
    position.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """

    kind: str
    level: float
    position: str = "centre"

    def __post_init__(self):
        one_of(self.kind, KINDS, "degradation kind")
        one_of(self.position, HOLE_POSITIONS, "hole position")
        if self.position != "centre" and self.kind != "hole":
            raise ValueError(f"position applies only to holes; a {self.kind!r} degradation "
                             f"takes the default position 'centre', got {self.position!r}.")
        what = f"the level of a {self.kind!r} degradation"
        if self.kind == "noise":
            positive_number(self.level, f"{what} (noise sigma)", maximum=MAX_NOISE_SIGMA)
        elif self.kind in ("missing", "salt_pepper"):
            check_fraction(self.level, f"{what} (fraction of pixels)", allow_zero=False)
        elif self.kind == "blur":
            sigma = positive_number(self.level, f"{what} (PSF sigma in pixels)",
                                    maximum=MAX_BLUR_SIGMA)
            if sigma < MIN_BLUR_SIGMA:
                raise ValueError(f"{what} (PSF sigma in pixels) must be at least "
                                 f"{MIN_BLUR_SIGMA}, got {self.level!r}.")
        else:
            level = positive_number(self.level, what)
            if level != int(level):
                raise ValueError(f"{what} must be a whole number (hole side, number of strokes "
                                 f"or factor), got {self.level!r}.")
            if self.kind == "strokes":
                positive_int(int(level), f"{what} (number of strokes)", maximum=MAX_STROKES)
            if self.kind == "down" and not 2 <= level <= MAX_UPSAMPLING_FACTOR:
                raise ValueError(f"{what} (downsampling factor) must be an integer from 2 to "
                                 f"{MAX_UPSAMPLING_FACTOR}, got {self.level!r}.")

    @property
    def name(self) -> str:
        """The short name the benchmark and the notebooks use, e.g. ``"noise_0.3"``."""
        if self.kind == "noise":
            return f"noise_{_level_text(self.level)}"
        if self.kind in ("missing", "salt_pepper"):
            return f"{self.kind}_{_level_text(self.level, percent=True)}"
        if self.kind == "hole":
            return f"hole_{int(self.level)}" + ("_random" if self.position == "random" else "")
        if self.kind == "blur":
            return "blur" if self.level == DEFAULT_BLUR_SIGMA else f"blur_{_level_text(self.level)}"
        if self.kind == "strokes":
            return f"strokes_{int(self.level)}"
        return f"down_{int(self.level)}"

    @property
    def description(self) -> str:
        """What it does, in words (for table captions)."""
        level = self.level
        return {
            "noise": f"Gaussian noise, sigma {level:g} on the [0, 1] scale, clipped to [0, 1]",
            "salt_pepper": f"salt-and-pepper noise on {level:.0%} of the pixels",
            "missing": f"{level:.0%} of the pixels missing at random",
            "hole": f"{int(level)}x{int(level)} square hole ({self.position})",
            "strokes": f"{int(level)} free-form strokes erased",
            "blur": f"Gaussian blur, PSF sigma {level:g} pixels",
            "down": f"downsampled x{int(level)} by block averaging",
        }[self.kind]

    @property
    def has_mask(self) -> bool:
        """True when the restorer is told which pixels are missing."""
        return self.kind in ("missing", "hole", "strokes")

    def apply(self, images, seed: int = 0) -> Damaged:
        """Damage ``images`` (NHWC in [0, 1]) deterministically for ``seed``."""
        mask = None
        if self.kind == "noise":
            damaged = add_gaussian_noise(images, self.level, seed)
        elif self.kind == "salt_pepper":
            damaged = add_salt_and_pepper(images, self.level, seed)
        elif self.kind == "missing":
            damaged, mask = remove_random_pixels(images, self.level, seed)
        elif self.kind == "hole":
            damaged, mask = cut_square_hole(images, int(self.level), self.position, seed)
        elif self.kind == "strokes":
            damaged, mask = draw_strokes(images, int(self.level), seed=seed)
        elif self.kind == "blur":
            damaged = gaussian_blur(images, self.level, seed)
        else:
            damaged = downsample(images, int(self.level), seed)
        return Damaged(damaged, mask, self)


def linear_operator(degradation, mask=None):
    """``(apply, adjoint)``: the linear part ``A`` of a degradation, ``y = A x + noise``, and its transpose.

    Both act on batches (N, H, W, C) of any real values (a restorer working in [-1, 1], a residual),
    in float64: ``"noise"`` is the identity (its noise is the ``+ noise``); ``"blur"`` the same
    convolution as :func:`gaussian_blur` and its exact transpose; ``"down"`` the block mean of
    :func:`downsample` and its transpose, which spreads each value over its block divided by the
    block's size; ``"missing"``, ``"hole"`` and ``"strokes"`` multiply by ``mask`` (1 = known,
    required). Salt-and-pepper noise is not linear-Gaussian and is refused. Posterior samplers
    (``course_lib.posterior_sampling``) use these to pull a generative model towards the damaged image.

    Introduced in notebook 11_diffusion_restoration.
    """
    degradation = get_degradation(degradation)
    if degradation.kind == "salt_pepper":
        raise ValueError("salt-and-pepper noise replaces pixels, it is not y = A x + Gaussian noise; no linear "
                         "operator describes it.")
    if degradation.has_mask:
        if mask is None:
            raise ValueError(f"a {degradation.name!r} operator needs the mask of the damaged batch (1 = known).")
        known = np.asarray(as_mask(mask, np.asarray(mask)), dtype=np.float64)
        return (lambda values: np.asarray(values, np.float64) * known,
                lambda values: np.asarray(values, np.float64) * known)
    if degradation.kind == "noise":
        return (lambda values: np.array(values, np.float64), lambda values: np.array(values, np.float64))
    if degradation.kind == "blur":
        psf = gaussian_psf(degradation.level).astype(np.float64)
        return (lambda values: _blur(np.asarray(values, np.float64), psf),
                lambda values: _blur_adjoint(np.asarray(values, np.float64), psf))
    factor = int(degradation.level)

    def spread(values):
        values = np.asarray(values, np.float64)
        return np.repeat(np.repeat(values, factor, axis=1), factor, axis=2) / factor ** 2
    return lambda values: _block_mean(np.asarray(values, np.float64), factor), spread


_NAME_PATTERN = re.compile(r"^(?P<kind>noise|salt_pepper|missing|hole|strokes|blur|down)"
                           r"(?:_(?P<level>\d+(?:\.\d+)?))?(?P<random>_random)?$")


def get_degradation(name: str | Degradation) -> Degradation:
    """The :class:`Degradation` called ``name``; a :class:`Degradation` is returned as it is.

    Names:
    ``noise_<sigma>`` (``noise_0.3``), ``salt_pepper_<percent>``, ``missing_<percent>``
    (``missing_50``), ``hole_<side>`` (``hole_12``, centred) or ``hole_<side>_random``,
    ``strokes_<count>``, ``blur`` (PSF sigma 1.5) or ``blur_<sigma>``, ``down_<factor>``
    (``down_2``, ``down_4``).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    if isinstance(name, Degradation):
        return name
    if not isinstance(name, str):
        raise ValueError(f"a degradation is named by a string such as 'noise_0.3', got {name!r}.")
    match = _NAME_PATTERN.match(name)
    examples = "'noise_0.3', 'salt_pepper_10', 'missing_50', 'hole_12', 'hole_12_random', " \
               "'strokes_3', 'blur', 'blur_2', 'down_2', 'down_4'"
    if match is None:
        raise ValueError(f"Unknown degradation {name!r}; expected a name like {examples}.")
    kind, level, random_position = match["kind"], match["level"], match["random"]
    if random_position and kind != "hole":
        raise ValueError(f"Only holes take '_random', got {name!r}.")
    if level is None:
        if kind != "blur":
            raise ValueError(f"Degradation {name!r} needs a level, e.g. {kind}_... ; "
                             f"expected a name like {examples}.")
        return Degradation("blur", DEFAULT_BLUR_SIGMA)
    value = float(level)
    if kind in ("missing", "salt_pepper"):
        if not 0 < value <= 100:
            raise ValueError(f"{name!r}: the percentage must lie in (0, 100].")
        value = value / 100
    try:
        return Degradation(kind, value, "random" if random_position else "centre")
    except ValueError as error:
        raise ValueError(f"Degradation {name!r}: {error}") from error
