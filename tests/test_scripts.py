"""The maintainer scripts' own logic: run_notebooks.py's progress estimate and check_versions.py's
pairs, which must be the ones that pyproject.toml's lower bounds name."""

from __future__ import annotations

import re

from packaging.requirements import Requirement

import check_versions
import run_notebooks
from tests.conftest import ROOT


def test_remaining_time_uses_the_previous_run_then_the_mean_so_far():
    previous = {"03.ipynb": 40.0, "04.ipynb": 10.0}
    done = {"01.ipynb": 20.0, "02.ipynb": 30.0}
    assert run_notebooks.remaining_seconds(["03.ipynb", "04.ipynb"], done, previous) == 50.0
    assert run_notebooks.remaining_seconds(["03.ipynb", "05.ipynb"], done, previous) == 40.0 + 25.0
    assert run_notebooks.remaining_seconds([], done, previous) == 0.0
    assert run_notebooks.remaining_seconds(["05.ipynb"], {}, previous) is None  # nothing to go by yet


def test_progress_line_names_the_notebook_its_time_and_what_remains():
    assert run_notebooks.progress_line(3, 11, "03_dcgan_mnist.ipynb", "ok", 37.2, 570.0) == \
        "[3/11] 03_dcgan_mnist.ipynb  ok in 37 s  (about 9.5 min left)"
    assert run_notebooks.progress_line(11, 11, "10_x.ipynb", "FAILED", 125.0, 0.0) == "[11/11] 10_x.ipynb  FAILED in 2.1 min  (done)"
    assert run_notebooks.progress_line(1, 2, "a.ipynb", "ok", 5.0, None) == "[1/2] a.ipynb  ok in 5 s"


def test_the_oldest_pair_checked_is_what_the_lower_bounds_of_pyproject_allow():
    text = "\n".join(line for line in (ROOT / "pyproject.toml").read_text().splitlines() if not line.startswith("#"))
    lower = {}
    for item in re.findall(r'"((?:tensorflow|keras)[^"]*)"', text):
        requirement = Requirement(item)
        (bound,) = [specifier.version for specifier in requirement.specifier if specifier.operator == ">="]
        lower[requirement.name] = bound
    pins = dict(requirement.split("==") for requirement in check_versions.PAIRS["oldest"].requirements)
    assert pins == {"tensorflow-cpu": lower["tensorflow"], "keras": lower["keras"]}
    assert check_versions.PAIRS["oldest"].python == re.search(r'requires-python = ">=([\d.]+)"', text).group(1)


def test_the_version_check_installs_the_course_with_the_setup_cells_command():
    import sync_notebook_headers

    command = " ".join(sync_notebook_headers.INSTALL_ARGUMENTS)
    assert command == "-m pip install --quiet -e"  # no extra: the runtime's TensorFlow stays
    assert f'sys.executable, {", ".join(repr(a).replace(chr(39), chr(34)) for a in sync_notebook_headers.INSTALL_ARGUMENTS)}, str(COURSE)' \
        in sync_notebook_headers.setup_source("https://github.com/owner/name")
