"""Write every notebook's Colab badge, glossary link and setup cell from one template.

The repository URL is stated once, in ``pyproject.toml`` (``[project.urls] Repository``). This
script puts it into each notebook's badge (pointing at that notebook's own path) and setup
cell, and puts a link to the glossary (``notebooks/glossary.md``) beside the badge. A fork
changes the URL there and runs ``python scripts/sync_notebook_headers.py``;
``--check`` (used by the tests) exits 1 if any notebook is out of date.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
BADGE_PATTERN = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)(?: · \[[^\]]*\]\(glossary\.md\))?")
GLOSSARY_LINK = "[Glossary and notation · 术语与符号](glossary.md)"
SETUP_TAG = "setup"

# The command that installs the course on Colab; scripts/check_versions.py runs exactly this one.
# No extra: TensorFlow is whatever the runtime has (pyproject.toml keeps it out of the dependencies).
INSTALL_ARGUMENTS = ("-m", "pip", "install", "--quiet", "-e")

SETUP_TEMPLATE = '''\
# Setup. On Colab this fetches and installs the course library once, keeping Colab's TensorFlow
# (running it again changes nothing); on your machine `make lab` has installed it already.
import sys

if "google.colab" in sys.modules:
    import importlib.metadata
    import pathlib
    import subprocess

    REPOSITORY = "{repository}"
    COURSE = pathlib.Path("/content/course")

    def run_or_explain(*command):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            last_lines = "\\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"Installing the course failed: {{' '.join(command)}} exited with "
                               f"{{result.returncode}}. Its last lines:\\n{{last_lines}}")

    if not (COURSE / "pyproject.toml").exists():
        run_or_explain("git", "clone", "--quiet", "--depth", "1", REPOSITORY, str(COURSE))
    try:
        importlib.metadata.version("course_lib")
    except importlib.metadata.PackageNotFoundError:
        run_or_explain(sys.executable, {install_arguments}, str(COURSE))
    if str(COURSE) not in sys.path:
        sys.path.insert(0, str(COURSE))

import course_lib
from course_lib import runtime

budget = runtime.resolve_budget(BUDGET)
runtime.seed_everything(SEED)
print(runtime.device_report())
print(f"Budget: {{budget.name}} ({{budget.description}})")'''


def setup_source(repository: str) -> str:
    """The setup cell for a repository URL, with the install command of ``INSTALL_ARGUMENTS``."""
    install_arguments = ", ".join(f'"{argument}"' for argument in INSTALL_ARGUMENTS)
    return SETUP_TEMPLATE.format(repository=repository, install_arguments=install_arguments)


def repository_url() -> str:
    """``[project.urls] Repository`` from pyproject.toml (read without tomllib, for Python 3.10)."""
    match = re.search(r'^Repository\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    if match is None:
        raise ValueError("pyproject.toml must set Repository = \"https://github.com/OWNER/NAME\" under [project.urls].")
    return match.group(1)


def colab_url(notebook_name: str, repository: str) -> str:
    """Where Colab opens ``notebooks/<notebook_name>`` of the repository's main branch."""
    owner_and_name = repository.removeprefix("https://github.com/").rstrip("/")
    return f"https://colab.research.google.com/github/{owner_and_name}/blob/main/notebooks/{notebook_name}"


def badge(notebook_name: str, repository: str) -> str:
    target = colab_url(notebook_name, repository)
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({target}) · {GLOSSARY_LINK}"


def sync(path: pathlib.Path, repository: str) -> bool:
    """Update one notebook in memory and on disk; return True if it changed."""
    text = path.read_text()
    notebook = nbformat.reads(text, as_version=4)
    title_cell = notebook.cells[0]
    new_badge = badge(path.name, repository)
    if BADGE_PATTERN.search(title_cell.source):
        title_cell.source = BADGE_PATTERN.sub(lambda _: new_badge, title_cell.source)
    else:
        lines = title_cell.source.split("\n")
        title_cell.source = "\n".join(lines[:1] + ["", new_badge] + lines[1:])
    setup_cells = [cell for cell in notebook.cells if SETUP_TAG in cell.metadata.get("tags", [])]
    if len(setup_cells) != 1:
        raise ValueError(f"{path} must have exactly one cell tagged {SETUP_TAG!r}, found {len(setup_cells)}.")
    head, marker, tail = setup_cells[0].source.partition("# ---")
    setup_cells[0].source = setup_source(repository) + (("\n\n" + marker + tail) if marker else "")
    new_text = nbformat.writes(notebook) + "\n"
    if new_text != text:
        path.write_text(new_text)
        return True
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    repository = repository_url()
    stale = []
    for path in notebooks:
        original = path.read_text()
        if sync(path, repository):
            stale.append(path.name)
            if args.check:
                path.write_text(original)
    if stale:
        print(("Out of date: " if args.check else "Updated: ") + ", ".join(stale))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
