"""Strip outputs from the committed notebooks, keeping those of golden cells.

A golden cell carries the tag ``nbval-check-output``: its outputs are deterministic at the
smoke budget and nbval compares them in CI. Every other cell is committed without outputs or
execution counts, so diffs stay readable and the repository stays small.

    python scripts/strip_outputs.py notebooks/*.ipynb          # rewrite in place
    python scripts/strip_outputs.py --check notebooks/*.ipynb  # exit 1 if any would change
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat

GOLDEN_TAG = "nbval-check-output"


def strip(notebook) -> None:
    # papermill's injected parameters belong to one run, not to the notebook
    notebook.cells = [cell for cell in notebook.cells if "injected-parameters" not in cell.metadata.get("tags", [])]
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if GOLDEN_TAG not in cell.metadata.get("tags", []):  # golden cells keep their execution
            cell.outputs = []                                  # count: nbval skips unrun cells
            cell.execution_count = None
        for key in ("execution", "papermill", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    notebook.metadata.pop("papermill", None)
    notebook.metadata.pop("widgets", None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    changed = []
    for path in args.notebooks:
        before = path.read_text()
        notebook = nbformat.reads(before, as_version=4)
        strip(notebook)
        after = nbformat.writes(notebook) + "\n"
        if after != before:
            changed.append(path)
            if not args.check:
                path.write_text(after)
    if args.check and changed:
        print("Notebooks with outputs outside golden cells: " + ", ".join(map(str, changed)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
