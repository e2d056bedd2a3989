"""Headline numbers: a notebook's key results, shown in the notebook and collected by the index.

``headline("evaluator accuracy", 0.991, reference="clean held-out digits")`` displays one line
and tags it with a machine-readable MIME type that ``scripts/render_course.py`` reads from the
executed notebook to put the number on the course's index page. A headline always says what it
should be read against (a floor, a baseline). Introduced in notebook 00_welcome_and_setup.
"""

from __future__ import annotations

import math

HEADLINE_MIME = "application/vnd.course.headline+json"


def format_value(value: float, unit: str = "", digits: int = 4) -> str:
    """A number as the headline cells print it: ``digits`` significant digits and its unit.

    Introduced in notebook 00_welcome_and_setup.
    """
    if isinstance(value, float) and not math.isfinite(value):
        text = str(value)
    elif isinstance(value, (int, float)):
        text = f"{value:.{digits}g}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def headline(label: str, value, *, unit: str = "", reference: str | None = None, digits: int = 4) -> dict:
    """Display ``label: value unit (reference)`` and record it for the course index.

    Introduced in notebook 00_welcome_and_setup.
    """
    if not isinstance(label, str) or not label:
        raise ValueError("label must be a non-empty string.")
    text = f"{label}: {format_value(value, unit, digits)}" + (f" ({reference})" if reference else "")
    record = {"label": label, "value": value if isinstance(value, (int, float, str)) else str(value),
              "unit": unit, "reference": reference, "text": text}
    try:
        from IPython.display import display
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": text, HEADLINE_MIME: record}, raw=True)
    else:
        print(text)
    return record


def dataset_note(dataset: str) -> None:
    """Say, for a dataset other than MNIST, that the notebook's prose describes its MNIST run.

    A notebook's text is written against the outputs of its MNIST run; with another
    ``DATASET`` every printed number and figure is the new dataset's, and this line says so
    once, where the data is loaded. For ``"mnist"`` it prints nothing.

    Introduced in notebook 03_dcgan_mnist.
    """
    from course_lib.data import DATASET_NAMES
    from course_lib._checks import one_of

    one_of(dataset, DATASET_NAMES, "dataset name")
    if dataset != "mnist":
        print(f"DATASET = {dataset!r}: every number and figure below is measured on these images, with their own "
              f"judge; the text between the cells describes the MNIST run and its numbers, not these.")
