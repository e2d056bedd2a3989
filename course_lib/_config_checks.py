"""One rule set for the fields of every training configuration in ``course_lib``.

``DCGANConfig`` (notebook 03), ``VAEConfig`` (05), ``DiffusionConfig`` (07),
``LearnedRestorerConfig`` (09), ``Pix2PixConfig`` (10), ``FlowRestorerConfig`` (11) and ``EvaluatorConfig`` (01)
call these checks from their
``__post_init__``, so a config that could not train, or would train into nonsense (a negative
learning rate, an Adam beta of 5, a string where a flag belongs), is refused when it is built,
with a ``ValueError`` that names the class and the field: ``DCGANConfig.learning_rate must be
a finite number in (0, 1), got -1.0.`` The same rule applies to the same kind of field in every
config: learning rates are finite and in (0, 1) (Adam steps of 1 or more diverge), Adam betas
in [0, 1), epochs, batch sizes, widths and depths positive integers, flags booleans, seeds
non-negative integers, time limits ``None`` or positive. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib._checks import _is_integer, _is_number

MAX_WIDTH = 2048  # channels or units in one layer: far beyond what 28x28 digits need, and still fits in memory


def _refuse(config, field: str, expected: str):
    raise ValueError(f"{type(config).__name__}.{field} must be {expected}, got {getattr(config, field)!r}.")


def positive_integer(config, field: str, *, maximum: int | None = None) -> None:
    """``field`` is an integer >= 1 (and <= ``maximum`` when given)."""
    value = getattr(config, field)
    if not _is_integer(value) or value < 1 or (maximum is not None and value > maximum):
        _refuse(config, field, "a positive integer" + (f" of at most {maximum}" if maximum is not None else ""))


def non_negative_integer(config, field: str, *, maximum: int | None = None) -> None:
    """``field`` is an integer >= 0 (0 usually turns a part off)."""
    value = getattr(config, field)
    if not _is_integer(value) or value < 0 or (maximum is not None and value > maximum):
        _refuse(config, field, "an integer >= 0" + (f" and <= {maximum}" if maximum is not None else ""))


def seed(config, field: str = "seed") -> None:
    """``field`` is a non-negative integer (what NumPy's and Keras's generators accept)."""
    value = getattr(config, field)
    if not _is_integer(value) or value < 0:
        _refuse(config, field, "a non-negative integer")


def flag(config, field: str) -> None:
    """``field`` is ``True`` or ``False`` (the string ``"no"`` is truthy, so it is refused)."""
    if not isinstance(getattr(config, field), (bool, np.bool_)):
        _refuse(config, field, "True or False")


def number(config, field: str, low: float, high: float, *, low_open: bool = False, high_open: bool = False,
           optional: bool = False) -> None:
    """``field`` is a finite number between ``low`` and ``high`` (``None`` too when ``optional``)."""
    value = getattr(config, field)
    if optional and value is None:
        return
    inside = _is_number(value) and math.isfinite(value) and \
        (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not inside:
        if math.isinf(high):
            expected = f"a finite number {'>' if low_open else '>='} {low:g}"
        else:
            expected = f"a finite number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        _refuse(config, field, expected + (" or None" if optional else ""))


def learning_rate(config, field: str, *, optional: bool = False) -> None:
    """A learning rate: finite, in (0, 1); ``None`` allowed when ``optional``."""
    number(config, field, 0.0, 1.0, low_open=True, high_open=True, optional=optional)


def final_learning_rate(config, field: str = "final_learning_rate", start_field: str = "learning_rate") -> None:
    """``None`` (constant rate) or a learning rate no larger than the one the cosine decay starts from."""
    learning_rate(config, field, optional=True)
    final, start = getattr(config, field), getattr(config, start_field)
    if final is not None and final > start:
        _refuse(config, field, f"None or at most {start_field} ({start!r}): the cosine schedule decays to it")


def adam_beta(config, field: str) -> None:
    """An Adam moment decay rate: finite, in [0, 1)."""
    number(config, field, 0.0, 1.0, high_open=True)


def non_negative(config, field: str) -> None:
    """A finite number >= 0 (a loss weight, a penalty)."""
    number(config, field, 0.0, math.inf)


def positive(config, field: str) -> None:
    """A finite number > 0 (a standard deviation)."""
    number(config, field, 0.0, math.inf, low_open=True)


def seconds(config, field: str = "max_seconds") -> None:
    """A time limit: ``None`` (no limit) or a finite number of seconds > 0."""
    number(config, field, 0.0, math.inf, low_open=True, optional=True)


def name(config, field: str, choices) -> None:
    """``field`` is one of ``choices``."""
    value = getattr(config, field)
    if not any(value is choice or (isinstance(value, str) and value == choice) for choice in choices):
        _refuse(config, field, "one of " + ", ".join(repr(choice) for choice in choices))


def widths(config, field: str, *, lengths=None, maximum: int = MAX_WIDTH) -> None:
    """``field`` is a sequence of positive integer layer widths (each <= ``maximum``), stored as a tuple.

    ``lengths``: the numbers of entries allowed (any non-empty length when ``None``).
    """
    value = getattr(config, field)
    entries = tuple(value) if isinstance(value, (tuple, list)) else None
    if lengths is None:
        allowed = "one or more"
    elif len(lengths) > 2 and tuple(lengths) == tuple(range(lengths[0], lengths[-1] + 1)):
        allowed = f"{lengths[0]} to {lengths[-1]}"
    else:
        allowed = " or ".join(str(length) for length in lengths)
    expected = f"a tuple of {allowed} positive integers of at most {maximum}"
    if entries is None or not entries or (lengths is not None and len(entries) not in lengths) \
            or not all(_is_integer(entry) and 1 <= entry <= maximum for entry in entries):
        _refuse(config, field, expected)
    object.__setattr__(config, field, tuple(int(entry) for entry in entries))


def diffusion_unet(config) -> None:
    """The U-Net fields of notebook 07's network: ``widths`` (1 to 3 levels), an even
    ``embedding_dim`` and ``groups`` that divide every width."""
    widths(config, "widths", lengths=(1, 2, 3))
    positive_integer(config, "embedding_dim", maximum=MAX_WIDTH)
    if config.embedding_dim % 2:
        raise ValueError(f"{type(config).__name__}.embedding_dim must be even, got {config.embedding_dim}.")
    positive_integer(config, "groups")
    # GroupNorm sees each width, and twice it where the way up concatenates a skip connection
    if any(channels % min(config.groups, channels) for width in config.widths for channels in (width, 2 * width)):
        raise ValueError(f"{type(config).__name__}.widths {config.widths} must each be a multiple of "
                         f"groups={config.groups} or smaller than it, and so must twice each width (the way "
                         f"up concatenates skip connections).")
