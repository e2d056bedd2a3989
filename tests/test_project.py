"""Project-level contracts: dependencies agree, notebooks are clean and share one header,
the package imports without TensorFlow, data files match their manifest, CI runs the README's
test command."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import nbformat
import pytest
from packaging.requirements import Requirement

from course_lib import syllabus
from course_lib.data import sha256_of
from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def pyproject_requirements() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text()
    blocks = re.findall(r"^(?:dependencies|tensorflow|dev) = \[(.*?)\]", text, re.MULTILINE | re.DOTALL)
    return {item for block in blocks for item in re.findall(r'"([^"]+)"', block)}


def environment_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    return {line.strip()[2:] for line in lines[start + 1:] if line.strip().startswith("- ") and line.strip() != "- -e ."}


def test_environment_yml_and_pyproject_name_the_same_dependencies():
    assert pyproject_requirements() and pyproject_requirements() == environment_requirements()


def test_learners_get_keras_3_tensorflow_that_colab_keeps():
    requirements = {Requirement(item).name: Requirement(item).specifier for item in pyproject_requirements()}
    # the oldest pair that scripts/check_versions.py ran (2.16.2), and every newer release Colab ships
    assert "2.16.2" in requirements["tensorflow"] and "2.16.1" not in requirements["tensorflow"]
    assert "2.19.0" in requirements["tensorflow"] and "3.0.5" in requirements["keras"]
    assert all(not str(specifier).startswith("==") for specifier in requirements.values())


def test_the_lock_pins_every_dependency_within_its_range():
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    for item in pyproject_requirements():
        requirement = Requirement(item)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in requirements-lock.txt"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement.specifier}"


def test_importing_the_package_does_not_import_tensorflow():
    code = "import sys, course_lib, course_lib.data, course_lib.exercises; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_shipped_data_files_match_their_manifest():
    manifest = json.loads((ROOT / "data" / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert sha256_of(ROOT / "data" / name) == entry["sha256"], name
        assert entry["license"] and entry["source"] and entry["command"]
    for path in (ROOT / "data" / "pretrained").glob("*.json"):
        weights = json.loads(path.read_text())
        assert sha256_of(path.parent / weights["file"]) == weights["sha256"], path.name
        if "progress_file" in weights:
            assert sha256_of(path.parent / weights["progress_file"]) == weights["progress_sha256"], path.name
    readme = (ROOT / "data" / "README.md").read_text()
    assert "CC BY-SA 3.0" in readme and "MIT" in readme


def test_ci_runs_the_readme_test_command():
    ci_commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                   if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert ci_commands == ["make test"]
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make course" in readme


def test_every_notebook_is_in_the_syllabus_and_the_syllabus_links_resolve():
    names = {lesson.filename for lesson in syllabus.SYLLABUS}
    assert {path.name for path in NOTEBOOKS} <= names
    table = syllabus.syllabus_markdown()
    for link in re.findall(r"\]\(([^)]+\.ipynb)\)", table):
        assert (ROOT / "notebooks" / link).exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_opens_with_title_goals_run_time_and_literal_parameters(path):
    notebook = nbformat.read(path, as_version=4)
    title = notebook.cells[0]
    assert title.cell_type == "markdown" and title.source.startswith(f"# {path.name[:2]} ·")
    assert "Learning goals" in title.source and "Expected run time" in title.source
    assert f"/blob/main/notebooks/{path.name})" in title.source  # the Colab badge opens this notebook
    assert "](glossary.md)" in title.source  # and the glossary is one click away
    parameters = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameters) == 1
    names = set()
    for statement in ast.parse(parameters[0].source).body:
        assert isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant), \
            f"{path.name}: the parameters cell holds literals only"
        names.update(target.id for target in statement.targets)
    assert {"BUDGET", "SEED"} <= names


def test_notebook_headers_are_in_sync_with_the_repository_url():
    result = subprocess.run([sys.executable, "scripts/sync_notebook_headers.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_notebooks_are_committed_without_outputs_except_golden_cells():
    result = subprocess.run([sys.executable, "scripts/strip_outputs.py", "--check", *map(str, NOTEBOOKS)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    golden = sum("nbval-check-output" in cell.metadata.get("tags", [])
                 for path in NOTEBOOKS for cell in nbformat.read(path, as_version=4).cells)
    assert golden >= len(NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_links_between_notebooks_resolve(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for target in re.findall(r"\]\((\d\d_[a-z0-9_]+\.ipynb)(?:#[^)]*)?\)", cell.source):
                assert (ROOT / "notebooks" / target).exists(), f"{path.name} links to the missing {target}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_links_between_notebooks_carry_the_syllabus_number_and_title(path):
    lessons = {lesson.filename: lesson for lesson in syllabus.SYLLABUS}
    notebook = nbformat.read(path, as_version=4)
    lesson = lessons[path.name]
    assert notebook.cells[0].source.startswith(f"# {lesson.number} · {lesson.title}\n")
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for number, title, target in re.findall(r"\[(\d\d) · ([^\]]+)\]\((\d\d_[a-z0-9_]+\.ipynb)\)", cell.source):
                assert (number, title) == (lessons[target].number, lessons[target].title), \
                    f"{path.name} calls {target} '{number} · {title}'"
    position = list(lessons).index(path.name)
    if position + 1 < len(lessons):     # every notebook but the last says which one comes next
        following = list(lessons.values())[position + 1]
        assert f"Next: [{following.number} · {following.title}]({following.filename})" in notebook.cells[-1].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_no_cell_echoes_the_record_of_a_headline(path):
    # report.headline displays its line and returns its record; as a cell's last expression Jupyter
    # would print that dict under the line. A trailing ";" keeps the output to the line.
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        # IPython magics and shell escapes are not Python; blank them before parsing
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
        body = ast.parse(code).body
        if not body:
            continue
        last = body[-1]
        is_headline = (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
                       and getattr(last.value.func, "attr", getattr(last.value.func, "id", "")) == "headline")
        assert not (is_headline and not cell.source.rstrip().endswith(";")), \
            f"{path.name} cell {index} ends with a headline call without ';'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_cell_sources_hold_no_control_characters(path):
    # "\frac" or "\text" written into a non-raw Python string becomes a form feed or a tab plus "rac"
    # / "ext": the LaTeX then renders as garbage. Newlines are the only control characters a cell needs.
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        bad = sorted({repr(char) for char in cell.source if ord(char) < 32 and char != "\n"})
        assert not bad, f"{path.name} cell {index} holds control characters {', '.join(bad)}"


def glossary_rows() -> list[list[str]]:
    """The body rows of every table in the glossary, as lists of cells."""
    rows = []
    for line in (ROOT / "notebooks" / "glossary.md").read_text().splitlines():
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return [row for row in rows if row[0] not in ("symbol", "English")]  # headers out


def test_every_glossary_entry_has_its_chinese_term():
    rows = glossary_rows()
    assert len(rows) > 80
    missing = [row[0] for row in rows if not any("\u4e00" <= char <= "\u9fff" for char in " ".join(row))]
    assert not missing, f"entries without a Chinese term: {missing}"


def test_glossary_names_only_notebooks_of_the_syllabus():
    numbers = {lesson.number for lesson in syllabus.SYLLABUS}
    for row in glossary_rows():
        if len(row) == 5:  # notation: symbol, meaning, Chinese, shape, notebook(s)
            assert set(re.findall(r"\d\d", row[4])) <= numbers and row[4], row


def test_rendered_course_links_notebooks_and_glossary(tmp_path):
    import render_course

    executed = tmp_path / "executed"
    executed.mkdir()
    for path in NOTEBOOKS[:2]:
        (executed / path.name).write_text(path.read_text())
    assert render_course.render(executed, tmp_path / "html") == 0
    index = (tmp_path / "html" / "index.html").read_text()
    assert 'href="glossary.html"' in index and f'href="{NOTEBOOKS[0].stem}.html"' in index
    glossary = (tmp_path / "html" / "glossary.html").read_text()
    assert "Kullback-Leibler" in glossary and "证据下界" in glossary
    page = (tmp_path / "html" / f"{NOTEBOOKS[0].stem}.html").read_text()
    assert 'href="glossary.html"' in page and 'glossary.md"' not in page
    # links between pages stay in the site; the download link is the one link to a notebook file
    download = f'<a class="course-download" download="" href="notebooks/{NOTEBOOKS[0].name}">'  # as nbconvert writes it
    assert download in page and (tmp_path / "html" / "notebooks" / NOTEBOOKS[0].name).read_text() == NOTEBOOKS[0].read_text()
    assert not re.search(r'href="(?!https?:)[^"]*\d\d_[a-z0-9_]+\.ipynb', page.replace(download, ""))
    # the sidebar names every lesson rendered, the page links to the next one and opens in Colab
    assert all(f'href="{path.stem}.html"' in page for path in NOTEBOOKS[:2])
    assert f'class="course-next" href="{NOTEBOOKS[1].stem}.html"' in page
    assert f"colab.research.google.com/github/" in page and "colab-badge.svg" not in page
    assert 'id="course-search-input"' in page and (tmp_path / "html" / "search_index.js").exists()


def test_installing_the_course_never_installs_tensorflow_over_another_build():
    text = (ROOT / "pyproject.toml").read_text()
    core = re.search(r"^dependencies = \[(.*?)\]", text, re.MULTILINE | re.DOTALL).group(1)
    names = {Requirement(item).name.lower() for item in re.findall(r'"([^"]+)"', core)}
    assert names and not {name for name in names if name.startswith("tensorflow")}
    extra = re.search(r"^tensorflow = \[(.*?)\]", text, re.MULTILINE | re.DOTALL).group(1)
    assert [Requirement(item).name for item in re.findall(r'"([^"]+)"', extra)] == ["tensorflow"]


def test_importing_the_package_without_tensorflow_says_what_to_install():
    # site-packages leave sys.path, so no TensorFlow can be found; course_lib itself comes from ROOT
    code = (f"import sys; sys.path[:] = [{str(ROOT)!r}] + [p for p in sys.path if 'packages' not in p]\n"
            "import course_lib")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ImportError: course_lib needs TensorFlow" in result.stderr
    assert 'pip install -e ".[tensorflow]"' in result.stderr and "tensorflow-cpu" in result.stderr


class _Completed:
    def __init__(self, returncode, stdout="", stderr=""):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _colab_part_of_the_setup_cell() -> str:
    import sync_notebook_headers

    source = sync_notebook_headers.setup_source("https://github.com/owner/course")
    return source.split("\nimport course_lib")[0]


def test_setup_cell_on_colab_installs_once_and_is_quiet_when_run_again(monkeypatch, tmp_path):
    import importlib.metadata
    import subprocess as subprocess_module
    import types

    commands, installed = [], set()

    def fake_run(command, **options):
        commands.append(command)
        if command[0] == "git":
            (tmp_path / "pyproject.toml").write_text("")
        else:
            installed.add("course_lib")
        return _Completed(0)

    def fake_version(name):
        if name not in installed:
            raise importlib.metadata.PackageNotFoundError(name)
        return "0.4.0"

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess_module, "run", fake_run)
    monkeypatch.setattr(importlib.metadata, "version", fake_version)
    monkeypatch.setattr(sys, "path", list(sys.path))
    source = _colab_part_of_the_setup_cell().replace('"/content/course"', repr(str(tmp_path)))
    exec(source, {})
    assert [command[0] for command in commands] == ["git", sys.executable]
    assert list(commands[1][1:]) == ["-m", "pip", "install", "--quiet", "-e", str(tmp_path)]
    assert "https://github.com/owner/course" in commands[0]
    exec(source, {})  # a second run: nothing to fetch or install, the path is added once
    assert len(commands) == 2 and sys.path.count(str(tmp_path)) == 1


def test_setup_cell_on_colab_explains_a_failed_install(monkeypatch, tmp_path):
    import importlib.metadata
    import subprocess as subprocess_module
    import types

    def failing_pip(command, **options):
        return _Completed(1, stdout="Collecting keras\n", stderr="ERROR: No matching distribution found for keras>=3.0\n")

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess_module, "run", failing_pip)
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    source = _colab_part_of_the_setup_cell().replace('"/content/course"', repr(str(tmp_path)))
    with pytest.raises(RuntimeError, match=r"Installing the course failed: .* -m pip install --quiet -e .* exited with 1") as caught:
        exec(source, {})
    assert "No matching distribution found for keras" in str(caught.value)
