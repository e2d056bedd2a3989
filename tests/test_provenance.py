"""Every public function and class of course_lib names the notebook that introduces it, in one form."""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK_STEMS = {path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
PROVENANCE = re.compile(r"^Introduced in notebook (\d\d_[a-z0-9_]+)\.$")


def public_definitions():
    for path in sorted((ROOT / "course_lib").glob("*.py")):
        if path.name.startswith("_"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                yield f"{path.stem}.{node.name}", ast.get_docstring(node)


DEFINITIONS = list(public_definitions())


def test_there_are_public_definitions_to_check():
    assert len(DEFINITIONS) > 250


@pytest.mark.parametrize("name, docstring", DEFINITIONS, ids=[name for name, _ in DEFINITIONS])
def test_each_public_definition_closes_its_docstring_with_the_notebook_that_introduces_it(name, docstring):
    assert docstring, f"{name} has no docstring; end it with 'Introduced in notebook NN_name.'"
    last_line = docstring.strip().splitlines()[-1].strip()
    match = PROVENANCE.match(last_line)
    assert match, f"{name}'s docstring must end with its own line 'Introduced in notebook NN_name.', got {last_line!r}"
    assert match.group(1) in NOTEBOOK_STEMS, f"{name} names notebook {match.group(1)!r}, which does not exist"
    assert docstring.count("Introduced in notebook") == 1, f"{name} states its provenance more than once"
