"""The browser-free part of scripts/check_rendered_course.py: what a rendered page shows, what an
executed notebook expects, and the verdict. Pages are rendered through render_course.py's exporter
(nbconvert's lab rendering in the course's template), so the checker reads the markup the course
really has. Only the last tests open Chromium, and only where Debian's package is installed (CI has
none: they are skipped there)."""

from __future__ import annotations

import os
import shutil

import nbformat
import pytest

import check_rendered_course as checker
import render_course

# a 1x1 PNG (Chromium decodes it to naturalWidth 1), as a figure output carries it
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
# ipykernel's traceback of `raise ValueError("bad")`, with its colour codes
VALUE_ERROR = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[
    "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
    "\x1b[0;31mValueError\x1b[0m                                Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[1], line 1\x1b[0m\n\x1b[0;32m----> 1\x1b[0m \x1b[38;5;28;01mraise\x1b[39;00m ValueError(\"bad\")\n",
    "\x1b[0;31mValueError\x1b[0m: bad"])
# a SyntaxError's traceback has no "Traceback (most recent call last)" line
SYNTAX_ERROR = nbformat.v4.new_output("error", ename="SyntaxError", evalue="invalid syntax", traceback=[
    "\x1b[0;36m  Cell \x1b[0;32mIn[2], line 1\x1b[0m\n\x1b[0;31m    x =\x1b[0m\n\x1b[0m       ^\x1b[0m\n",
    "\x1b[0;31mSyntaxError\x1b[0m\x1b[0;31m:\x1b[0m invalid syntax\n"])
WARNING = nbformat.v4.new_output("stream", name="stderr",
                                 text="/tmp/lesson.py:3: UserWarning: the learning rate is high\n  warnings.warn(\n")


def notebook(*outputs, links="[the glossary](glossary.html#kl) and [next](01_next.html)"):
    figure = nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 1x1>"})
    cells = [nbformat.v4.new_markdown_cell(f"# 00 · A tiny lesson\n\nRead {links}.\n\n## Setup"),
             nbformat.v4.new_code_cell("plot()", outputs=[figure, *outputs])]
    return nbformat.v4.new_notebook(cells=cells)


def rendered(notebook_node) -> str:
    body, _ = render_course.exporter().from_notebook_node(notebook_node, resources={"site": render_course.NO_NAVIGATION})
    return body


# the markup MathJax 3 leaves for one typeset formula (SVG output), and for one it could not typeset
TYPESET = ('<mjx-container class="MathJax" jax="SVG"><svg><g data-mml-node="math"><path d="M1 1"></path></g></svg>'
           '<mjx-assistive-mml><math><mi>x</mi></math></mjx-assistive-mml></mjx-container>')
TEX_ERROR = ('<mjx-container class="MathJax" jax="SVG"><svg><g data-mml-node="merror" '
             'data-mjx-error="Undefined control sequence \\fraq"><text>\\fraq{a}{b}</text></g></svg></mjx-container>')
MATH_LESSON = "# 04 · Maths\n\nThe bound $$\\frac{a}{b} \\le 1$$ holds, and so does $\\mathbb{E}[x] = 0$.\n\n## Setup"


def verdict(notebook_node, *, page="00_tiny.html", files=("00_tiny.html", "01_next.html", "glossary.html"),
            images=None, expected=None):
    facts = checker.page_facts(rendered(notebook_node))
    images = [{"src": "data:image/png;base64,...", "complete": True, "naturalWidth": 1}] if images is None else images
    expected = checker.notebook_expectations(notebook_node) if expected is None else expected
    anchors = {page: facts.anchors, "glossary.html": {"kl"}, "01_next.html": set()}
    return facts, checker.page_problems(page, facts, images, expected, set(files), anchors)


def test_a_page_with_its_figure_links_and_a_warning_passes():
    facts, problems = verdict(notebook(WARNING))
    assert problems == []
    assert facts.title and facts.heading == "00 · A tiny lesson"  # nbconvert's "¶" anchor is not part of it
    assert facts.figures == 1 and facts.errors == []  # a warning on stderr is not an error
    assert {"00-%C2%B7-A-tiny-lesson", "Setup"} <= facts.anchors  # ids of headings, percent-encoded as written


def test_expectations_of_an_executed_notebook_count_images_and_errors():
    expected = checker.notebook_expectations(notebook(WARNING, VALUE_ERROR, SYNTAX_ERROR))
    assert expected == checker.Expected(figures=1, errors=2, heading="00 · A tiny lesson")
    html_output = nbformat.v4.new_output("display_data", data={"text/html": "<b>table</b>", "image/png": PNG})
    assert checker.notebook_expectations(notebook(html_output)).figures == 1  # HTML wins over the image


@pytest.mark.parametrize("error, named", [(VALUE_ERROR, "ValueError: bad"), (SYNTAX_ERROR, "SyntaxError: invalid syntax")])
def test_an_error_output_is_reported_with_its_exception(error, named):
    facts, problems = verdict(notebook(WARNING, error))
    assert facts.errors == [named]
    assert f"error shown: {named}" in problems
    assert "the executed notebook has 1 error output(s)" in problems


def test_papermills_error_cell_is_reported():
    stopped = notebook()
    stopped.cells.insert(0, nbformat.v4.new_markdown_cell(
        '<span style="color:red" id="papermill-error-cell">Execution using papermill encountered an exception</span>'))
    assert checker.page_facts(rendered(stopped)).errors[0].startswith("papermill stopped")


def test_missing_link_targets_and_anchors_are_reported():
    lesson = notebook(links="[gone](05_gone.html), [bad anchor](glossary.html#elbo), [up](../notebooks/x.ipynb), "
                            "[here](#Setup), [encoded](glossary.html#k%6C), [web](https://keras.io) and [missing here](#nowhere)")
    _, problems = verdict(lesson)
    assert problems == ["link '05_gone.html': no file 05_gone.html in the folder",
                        "link 'glossary.html#elbo': no element with id 'elbo' in glossary.html",
                        "link '../notebooks/x.ipynb': no file ../notebooks/x.ipynb in the folder",
                        "link '#nowhere': no element with id 'nowhere' in 00_tiny.html"]


def test_relative_targets_resolve_inside_the_folder_and_skip_the_web():
    assert checker.relative_target("#Setup", "00_tiny.html") == ("00_tiny.html", "Setup")
    assert checker.relative_target("glossary.html#KL%20divergence", "00_tiny.html") == ("glossary.html", "KL%20divergence")
    assert checker.relative_target("./sub/../01_next.html", "00_tiny.html") == ("01_next.html", "")
    assert all(checker.relative_target(href, "00_tiny.html") is None
               for href in ("https://colab.research.google.com/x", "mailto:a@b.c", "//cdn.example/x.js"))


def test_unloaded_images_web_images_and_a_wrong_figure_count_fail():
    images = [{"src": "data:image/png;base64,AAAA", "complete": True, "naturalWidth": 0},
              {"src": "https://colab.research.google.com/assets/colab-badge.svg", "complete": True, "naturalWidth": 88}]
    expected = checker.Expected(figures=2, errors=0, heading="00 · Another lesson")
    _, problems = verdict(notebook(), images=images, expected=expected)
    assert problems == ["heading '00 · A tiny lesson', the notebook's is '00 · Another lesson'",
                        "image not loaded: data:image/png;base64,AAAA",
                        "image from the web (missing on a closed machine): https://colab.research.google.com/assets/colab-badge.svg",
                        "1 figure(s) shown, the executed notebook has 2"]


def test_a_page_with_raw_tex_fails():
    lesson = notebook()
    lesson.cells[0] = nbformat.v4.new_markdown_cell(MATH_LESSON)
    facts, problems = verdict(lesson, page="04_maths.html", files=("04_maths.html",))
    assert checker.notebook_expectations(lesson).formulas == 2 and facts.formulas == 0
    shown = [problem for problem in problems if problem.startswith("raw TeX shown")]
    assert any("$$\\frac{a}{b}" in problem for problem in shown) and any("\\mathbb{E}" in problem for problem in shown)
    assert "0 typeset formula(s), the notebook's Markdown has 2" in problems


def test_typeset_formulas_pass_and_one_that_mathjax_could_not_typeset_fails():
    lesson = notebook()
    lesson.cells[0] = nbformat.v4.new_markdown_cell(MATH_LESSON)
    page = rendered(lesson)
    typeset = page.replace("$$\\frac{a}{b} \\le 1$$", TYPESET).replace("$\\mathbb{E}[x] = 0$", TYPESET)
    assert typeset.count("mjx-container") == 4  # both formulas were found in the rendered markup
    expected = checker.notebook_expectations(lesson)
    passing = checker.page_facts(typeset)
    assert passing.formulas == 2 and passing.asks_for_mathjax
    assert checker.page_problems("04_maths.html", passing, [], expected, {"04_maths.html"}, {},
                                 {"loaded": True, "typeset": True}) == []
    failing = checker.page_facts(typeset.replace(TYPESET, TEX_ERROR, 1))
    assert checker.page_problems("04_maths.html", failing, [], expected, {"04_maths.html"}, {},
                                 {"loaded": True, "typeset": True}) == ["formula not typeset: Undefined control sequence \\fraq"]


def test_mathjax_that_did_not_load_or_finish_fails():
    facts = checker.page_facts(rendered(notebook()))
    assert facts.asks_for_mathjax and not facts.web_scripts  # MathJax comes from the site's own folder
    files, anchors = {"00_tiny.html", "01_next.html", "glossary.html"}, {"glossary.html": {"kl"}}
    assert checker.page_problems("00_tiny.html", facts, [], None, files, anchors, {"loaded": False}) == [
        "MathJax did not load (is mathjax/tex-svg-full.js in the folder?)"]
    assert checker.page_problems("00_tiny.html", facts, [], None, files, anchors,
                                 {"loaded": True, "typeset": False}) == ["MathJax did not finish typesetting the page"]


def test_markdown_formulas_skip_code_and_escaped_dollars():
    assert checker.markdown_formulas("$a$ costs \\$5, `$x$` is code,\n```\n$y$\n```\n$$b\n+ c$$ and $$d$$") == 3
    assert checker.markdown_formulas("no formulas, only $ signs: \\$3 and \\$4") == 0


def test_web_scripts_and_papermills_injected_cell_fail():
    lesson = notebook()
    injected = nbformat.v4.new_code_cell('# Parameters\nBUDGET = "cpu"\n')
    injected.metadata["tags"] = ["injected-parameters"]
    lesson.cells.insert(1, injected)
    page = rendered(lesson).replace("</head>", '<script src="https://cdn.example/require.js"></script></head>')
    facts = checker.page_facts(page)
    _, problems = verdict(lesson)
    assert "papermill's injected parameters cell is shown" in problems
    assert checker.page_problems("00_tiny.html", facts, [], None, {"00_tiny.html", "01_next.html", "glossary.html"},
                                 {"00_tiny.html": facts.anchors, "glossary.html": {"kl"}}) == [
        "script from the web (missing on a closed machine): https://cdn.example/require.js",
        "papermill's injected parameters cell is shown"]


def test_render_course_leaves_out_the_injected_cell_and_the_remote_badge():
    lesson = notebook()
    lesson.cells[0].source += ("\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                               "(https://colab.research.google.com/github/o/n/blob/main/notebooks/00_tiny.ipynb)")
    injected = nbformat.v4.new_code_cell('# Parameters\nBUDGET = "cpu"\n')
    injected.metadata["tags"] = ["injected-parameters"]
    lesson.cells.insert(1, injected)
    kept, assignments = render_course.without_injected_parameters(lesson)
    assert assignments == ['BUDGET = "cpu"'] and len(kept.cells) == 2
    page = render_course.local_badge(rendered(kept))
    facts = checker.page_facts(page)
    assert not facts.injected_parameters and "colab-badge.svg" not in page and "Open in Colab" in page


def test_the_search_probe_needs_a_result_on_the_page_searched():
    assert checker.search_word("03 · DCGAN on MNIST") == "DCGAN"
    assert checker.search_problems("DCGAN", "03_dcgan.html", ["glossary.html#gan", "03_dcgan.html#Training"]) == []
    assert checker.search_problems("DCGAN", "03_dcgan.html", ["glossary.html#gan"]) == [
        "searching for 'DCGAN' lists 1 result(s), none on 03_dcgan.html"]


def test_index_must_link_every_notebook_page_and_the_glossary():
    index = checker.page_facts('<title>Course</title><h1>Course</h1><a href="00_tiny.html">00</a>')
    assert checker.index_problems(index, ["00_tiny.html", "01_next.html", "glossary.html", "index.html"]) == [
        "index.html does not link 01_next.html", "index.html does not link glossary.html", "index.html has no search box"]


def test_a_page_without_title_or_heading_fails():
    facts = checker.page_facts("<html><body><p>nothing</p></body></html>")
    assert checker.page_problems("x.html", facts, [], None, {"x.html"}, {}) == ["no <title>", "no <h1> heading"]


def test_without_chromium_the_checker_says_how_to_install_it(tmp_path):
    with pytest.raises(SystemExit, match="apt-get install chromium"):
        checker.main(["--html", str(tmp_path), "--chromium", str(tmp_path / "no-chromium")])


needs_chromium = pytest.mark.skipif(not os.access(checker.CHROMIUM, os.X_OK),
                                    reason="Debian's Chromium is not installed (CI has none)")


@pytest.fixture
def mathjax():
    """MathJax 3's tex-svg-full.js from the development dependency django-static-mathjax."""
    if render_course.DEFAULT_MATHJAX is None:
        pytest.skip("the package django-static-mathjax is not installed")
    return render_course.DEFAULT_MATHJAX


@needs_chromium
def test_in_chromium_a_broken_image_and_a_missing_page_fail(tmp_path, capsys, mathjax):
    lesson = notebook(links="[the glossary](glossary.html)")
    (tmp_path / "mathjax").mkdir()
    shutil.copyfile(mathjax, tmp_path / "mathjax" / "tex-svg-full.js")
    (tmp_path / "00_tiny.html").write_text(rendered(lesson))
    (tmp_path / "glossary.html").write_text("<title>Glossary</title><h1>Glossary</h1><p id='kl'>KL</p>")
    (tmp_path / "index.html").write_text('<title>Course</title><h1>Course</h1><input id="course-search-input">'
                                         '<a href="00_tiny.html">00</a> <a href="glossary.html">glossary</a>')
    assert checker.check(tmp_path, None, checker.CHROMIUM) == 0
    broken = rendered(lesson).replace(f"base64,{PNG}", "base64,bm90IGEgcG5n")  # "not a png"
    (tmp_path / "00_tiny.html").write_text(broken.replace('href="glossary.html"', 'href="01_next.html"'))
    assert checker.check(tmp_path, None, checker.CHROMIUM) == 1
    report = capsys.readouterr()
    assert "00_tiny.html: image not loaded: data:image/png;base64,bm90IGEgcG5n" in report.err
    assert "00_tiny.html: link '01_next.html': no file 01_next.html in the folder" in report.err
    assert "00_tiny.html" in report.out and "0/1 images loaded" in report.out


@needs_chromium
def test_in_chromium_the_site_typesets_every_formula_offline_and_raw_tex_fails(tmp_path, capsys, mathjax):
    executed, site = tmp_path / "executed", tmp_path / "html"
    executed.mkdir()
    lesson = notebook(links="[the glossary](glossary.md)")
    lesson.cells[0] = nbformat.v4.new_markdown_cell(MATH_LESSON.replace("04 · Maths", "04 · VAE theory"))
    nbformat.write(lesson, executed / "04_vae_theory.ipynb")
    assert render_course.render(executed, site, mathjax) == 0
    assert checker.check(site, executed, checker.CHROMIUM) == 0  # with the search probe on index.html
    report = capsys.readouterr()
    assert "04_vae_theory.html" in report.out and "2 formulas (notebook: 2)" in report.out
    shutil.rmtree(site / "mathjax")  # what a site without its MathJax shows: the TeX source
    assert checker.check(site, executed, checker.CHROMIUM) == 1
    report = capsys.readouterr()
    assert "04_vae_theory.html: MathJax did not load" in report.err
    assert "04_vae_theory.html: raw TeX shown: " in report.err and "\\frac{a}{b}" in report.err
    assert "glossary.html: raw TeX shown: " in report.err
