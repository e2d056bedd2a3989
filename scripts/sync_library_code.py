"""Keep the model code that notebooks show in cells identical to its ``course_lib`` counterpart.

The code a learner should read and change (the DCGAN builders and ``GAN.train_step`` in notebook
03, the sampling layer and ``VAE.compute_loss`` in 05, the restoration builders in 07,
``Pix2Pix.train_step`` and the PatchGAN in 08) lives in notebook cells tagged ``library-code``.
Each such cell opens with one line naming its library object,

    # The same code as course_lib.gan.GAN (tests/test_notebook_code.py keeps the two identical).

followed by that one definition, line for line as ``inspect.getsource`` gives it. The
notebook's version is the one that runs in the notebook; the library's is the one that the tests,
the benchmarks and the shipped weights use. tests/test_notebook_code.py fails when the two
differ. This script copies the library's version into the cells:

    python scripts/sync_library_code.py notebooks/*.ipynb          # rewrite the drifted cells
    python scripts/sync_library_code.py --check notebooks/*.ipynb  # exit 1 if any cell differs

When the cell's version is the one you meant, copy it into the library instead and run the tests.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import inspect
import pathlib
import re
import sys
import textwrap

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
TAG = "library-code"
MARKER = "# The same code as {name} (tests/test_notebook_code.py keeps the two identical)."
MARKER_PATTERN = re.compile(r"# The same code as (course_lib(?:\.\w+)+) "
                            r"\(tests/test_notebook_code\.py keeps the two identical\)\.")


def resolve(qualified: str):
    """The object ``course_lib.module.Name`` names: the longest importable module, then attributes."""
    parts = qualified.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is not None and module_name.startswith(error.name):
                continue
            raise
        for attribute in parts[cut:]:
            if not hasattr(obj, attribute):
                raise ValueError(f"{qualified}: {obj.__name__} has no {attribute!r}.")
            obj = getattr(obj, attribute)
        return obj
    raise ValueError(f"{qualified} does not name an object in course_lib.")


def library_source(qualified: str) -> str:
    """The library's source text of ``qualified``, dedented, without trailing blank lines."""
    return textwrap.dedent(inspect.getsource(resolve(qualified))).rstrip("\n")


def split_cell(source: str) -> tuple[str, str]:
    """``(qualified name, definition text)`` of a library-code cell, or a ValueError saying what is wrong.

    The first line must be the marker; the rest must be exactly one ``def`` or ``class`` whose
    name is the last part of the qualified name, and nothing else (no code hides beside it).
    """
    first_line, _, body = source.partition("\n")
    match = MARKER_PATTERN.fullmatch(first_line.strip())
    if match is None:
        raise ValueError(f"its first line must be {MARKER.format(name='course_lib.MODULE.NAME')!r}, "
                         f"got {first_line!r}.")
    qualified = match.group(1)
    tree = ast.parse(body)
    definitions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    if len(tree.body) != 1 or len(definitions) != 1:
        raise ValueError(f"after its first line it must hold exactly one def or class ({qualified}) and "
                         f"nothing else; it holds {len(tree.body)} statement(s).")
    if definitions[0].name != qualified.rsplit(".", 1)[1]:
        raise ValueError(f"it defines {definitions[0].name!r} but its first line names {qualified}.")
    return qualified, body.rstrip("\n")


def library_cells(notebook) -> list[tuple[int, object]]:
    """``(index, cell)`` of every code cell tagged ``library-code``, in notebook order."""
    return [(index, cell) for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])]


def drift(cell_text: str, qualified: str) -> str | None:
    """``None`` when the cell's definition is the library's text; otherwise a unified diff."""
    library = library_source(qualified)
    if cell_text == library:
        return None
    module_path = inspect.getsourcefile(resolve(qualified))
    where = pathlib.Path(module_path).resolve()
    where = where.relative_to(ROOT) if where.is_relative_to(ROOT) else where
    return "\n".join(difflib.unified_diff(library.splitlines(), cell_text.splitlines(),
                                          fromfile=f"{where} ({qualified})", tofile="notebook cell", lineterm=""))


def sync(path: pathlib.Path, *, check: bool = False) -> list[str]:
    """Copy the library's version into every drifted library-code cell of ``path``; the names changed."""
    notebook = nbformat.read(path, as_version=4)
    changed = []
    for _, cell in library_cells(notebook):
        qualified, text = split_cell(cell.source)
        if drift(text, qualified) is not None:
            changed.append(qualified)
            cell.source = MARKER.format(name=qualified) + "\n" + library_source(qualified)
    if changed and not check:
        nbformat.write(notebook, path)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--check", action="store_true", help="report drifted cells, change nothing")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # this checkout's course_lib, not an installed one
    drifted = 0
    for path in args.notebooks:
        for qualified in sync(path, check=args.check):
            drifted += 1
            print(f"{path}: {qualified} {'differs from' if args.check else 'copied from'} the library")
    return 1 if args.check and drifted else 0


if __name__ == "__main__":
    raise SystemExit(main())
