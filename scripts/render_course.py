"""Render executed notebooks into the course site: a sidebar, search and typeset formulas, offline.

    python scripts/render_course.py --executed build/cpu --output build/html

Each executed notebook becomes ``<name>.html`` through nbconvert's lab rendering inside the
course's template (``scripts/site/templates/course``): a sidebar with the syllabus
(``course_lib.syllabus``), a search box over every section of every page, the glossary, and above
each notebook its run time and budget (from the ``timings.json`` that ``run_notebooks.py``
wrote), its headline numbers (the outputs that ``course_lib.report.headline`` tagged), a link
that opens it in Colab and one that downloads it (the repository's notebook, without outputs);
below it, links to the previous and the next notebook. Links between notebooks point at their
pages. ``index.html`` lists the syllabus with run times and headline numbers; the glossary
(``notebooks/glossary.md``) becomes ``glossary.html``.

Nothing on a page comes from the web, so the site reads the same on a closed machine: the
formulas are typeset by MathJax 3, copied from the PyPI package ``django-static-mathjax`` (a
development dependency: it holds MathJax's files and nothing else; ``--mathjax`` names another
``tex-svg-full.js``), the Colab badge is drawn by
the stylesheet instead of loaded as an image, and papermill's injected parameters cell is left
out (the header says what papermill set).
"""

from __future__ import annotations

import argparse
import html
import html.parser
import importlib.util
import json
import pathlib
import re
import shutil
import sys

import nbformat
from nbconvert import HTMLExporter

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from course_lib.report import HEADLINE_MIME  # noqa: E402
from course_lib.syllabus import SYLLABUS  # noqa: E402
from sync_notebook_headers import colab_url, repository_url  # noqa: E402

NOTEBOOK_LINK = re.compile(r'href="(?:\.\./notebooks/|\./)?(\d\d_[a-z0-9_]+|glossary)\.(?:ipynb|md)(#[^"]*)?"')
# the badge image that the notebooks show on GitHub and in Jupyter; offline it would be missing
REMOTE_COLAB_BADGE = re.compile(r'<img\s[^>]*src="https://colab\.research\.google\.com/assets/colab-badge\.svg"[^>]*>')
GLOSSARY = ROOT / "notebooks" / "glossary.md"
SITE = ROOT / "scripts" / "site"


def installed_mathjax() -> pathlib.Path | None:
    """MathJax 3's ``es5/tex-svg-full.js`` from the installed package django-static-mathjax, or None."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5" / "tex-svg-full.js"
    return path if path.is_file() else None


DEFAULT_MATHJAX = installed_mathjax()
COURSE_TITLE = "Deep Learning for Image Generation and Restoration"
INJECTED_TAG = "injected-parameters"


def exporter() -> HTMLExporter:
    """nbconvert's HTML exporter with the course's template; pass ``resources={"site": ...}``."""
    return HTMLExporter(template_name="course", extra_template_basedirs=[str(SITE / "templates")])


# what a page without the course's navigation gets (the checker's tests render single pages)
NO_NAVIGATION = {"sidebar": "", "page_header": "", "page_footer": ""}


def html_links(body: str) -> str:
    """Point links to notebooks (.ipynb) and to the glossary (.md) at their rendered pages."""
    return NOTEBOOK_LINK.sub(lambda match: f'href="{match.group(1)}.html{match.group(2) or ""}"', body)


def local_badge(body: str) -> str:
    """The remote Colab badge image replaced by a label that the stylesheet draws."""
    return REMOTE_COLAB_BADGE.sub('<span class="course-colab-badge">Open in Colab</span>', body)


def headlines(notebook) -> list[dict]:
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(HEADLINE_MIME)
            if record:
                found.append(record)
    return found


def error_outputs(notebook) -> int:
    return sum(output.get("output_type") == "error" for cell in notebook.cells for output in cell.get("outputs", []))


def without_injected_parameters(notebook) -> tuple[object, list[str]]:
    """The notebook without papermill's injected cell, and the assignments that cell made."""
    assignments = []
    kept = []
    for cell in notebook.cells:
        if INJECTED_TAG in cell.metadata.get("tags", []):
            assignments += [line.strip() for line in cell.source.splitlines() if line.strip() and not line.startswith("#")]
        else:
            kept.append(cell)
    notebook.cells = kept
    return notebook, assignments


class _SectionReader(html.parser.HTMLParser):
    """The text of a page's Markdown cells, split at its headings (h1 to h3, with their ids)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: list[dict] = []
        self._markdown_depth = 0  # >0 inside a rendered Markdown cell
        self._heading: list[str] | None = None
        self._skip = 0  # inside <pre>, <script>, <style> (code cells and outputs are not searched)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("pre", "script", "style"):
            self._skip += 1
        if tag == "div":
            if self._markdown_depth:
                self._markdown_depth += 1
            elif "jp-MarkdownOutput" in (attributes.get("class") or "").split():
                self._markdown_depth = 1
        if self._markdown_depth and tag in ("h1", "h2", "h3"):
            self._heading = []
            self.sections.append({"section": "", "anchor": attributes.get("id") or "", "text": []})
        if tag == "a" and self._heading is not None and "anchor-link" in (attributes.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("pre", "script", "style") and self._skip:
            self._skip -= 1
        if tag == "a" and self._heading is not None and self._skip:
            self._skip -= 1
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.sections[-1]["section"] = " ".join("".join(self._heading).replace("¶", "").split())
            self._heading = None
        if tag == "div" and self._markdown_depth:
            self._markdown_depth -= 1

    def handle_data(self, data):
        if not self._markdown_depth or (self._skip and self._heading is None):
            return
        if self._heading is not None:
            if not self._skip:
                self._heading.append(data)
        elif self.sections:
            self.sections[-1]["text"].append(data)


def search_entries(page: str, title: str, body: str) -> list[dict]:
    """One entry per section of a rendered page, for the search box (formulas left out of the text)."""
    reader = _SectionReader()
    reader.feed(body)
    entries = []
    for section in reader.sections:
        text = " ".join("".join(section["text"]).split())
        text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text)
        section_title = re.sub(r"\$[^$]*\$", "", section["section"]).strip()
        entries.append({"page": page, "title": title, "section": section_title or title,
                        "anchor": section["anchor"], "text": " ".join(text.split())})
    return entries


def sidebar(current: str, lessons: list) -> str:
    items = []
    for lesson in lessons:
        page = f"{lesson.number}_{lesson.slug}.html"
        mark = ' class="current"' if page == current else ""
        items.append(f'<li{mark}><a href="{page}"><span class="course-number">{lesson.number}</span>'
                     f'<span>{html.escape(lesson.title)}</span></a></li>')
    glossary_mark = ' class="current"' if current == "glossary.html" else ""
    return f"""<nav class="course-sidebar" aria-label="Course">
<a class="course-home" href="index.html">{COURSE_TITLE}</a>
<label for="course-menu-toggle" class="course-menu-button">Menu</label>
<div class="course-menu">
<form class="course-search" role="search" onsubmit="return false">
<input type="search" id="course-search-input" placeholder="Search the course" aria-label="Search the course">
</form>
<ol class="course-search-results" id="course-search-results"></ol>
<p class="course-nav-heading">Notebooks</p>
<ol class="course-syllabus">
{chr(10).join(items)}
</ol>
<p class="course-nav-heading">Reference</p>
<ol class="course-syllabus"><li{glossary_mark}><a href="glossary.html"><span class="course-number">·</span><span>Glossary and notation</span></a></li></ol>
</div>
</nav>"""


def run_time(timing: dict, assignments: list[str]) -> str:
    """"Executed at the cpu budget in 37 s", with what papermill set."""
    ran = "Executed"
    if timing:
        ran += f" at the {html.escape(timing['budget'])} budget in {timing['seconds']:.0f} s"
    if assignments:
        ran += " (papermill set " + ", ".join(f"<code>{html.escape(item)}</code>" for item in assignments) + ")"
    return ran if timing or assignments else "Run time not recorded"


def page_header(lesson, timing: dict, numbers: list[dict], assignments: list[str], repository: str) -> str:
    numbers_html = "".join(f"<li>{html.escape(record['text'])}</li>" for record in numbers)
    return f"""<header class="course-page-header">
<div class="course-actions">
<a class="course-colab" href="{colab_url(lesson.filename, repository)}">Open in Colab</a>
<a class="course-download" download href="notebooks/{lesson.filename}">Download the notebook (.ipynb)</a>
<span class="course-run">{run_time(timing, assignments)}</span>
</div>
{f'<ul class="course-headlines" aria-label="Headline numbers">{numbers_html}</ul>' if numbers else ""}
</header>"""


def pager(previous, following) -> str:
    links = []
    if previous is not None:
        links.append(f'<a class="course-previous" href="{previous[0]}"><small>Previous</small>{html.escape(previous[1])}</a>')
    if following is not None:
        links.append(f'<a class="course-next" href="{following[0]}"><small>Next</small>{html.escape(following[1])}</a>')
    return f'<nav class="course-pager" aria-label="Previous and next">{"".join(links)}</nav>'


def index_body(cards: list[str], total: float) -> str:
    return f"""<h1 id="course-title">{COURSE_TITLE}</h1>
<p>The executed notebooks of the course, in the order they teach. Run times are wall-clock seconds
on the machine that rendered this site; every headline number is printed beside what it should be
read against. Each page opens in Colab or downloads as a notebook from the links at its top.
Symbols and terms, with their Chinese names: <a href="glossary.html">glossary and notation</a>.</p>
<ol class="course-cards">
{chr(10).join(cards)}
</ol>
<p class="course-run">Total run time: {total:.0f} s.</p>"""


def index_card(lesson, page: str, timing: dict, numbers: list[dict], errors: int) -> str:
    status = ' <strong class="course-errors">(errors)</strong>' if errors else ""
    numbers_html = "".join(f"<li>{html.escape(record['text'])}</li>" for record in numbers)
    return (f'<li class="course-card"><a class="course-card-title" href="{page}"><span class="course-number">'
            f'{lesson.number}</span> {html.escape(lesson.title)}</a>{status}'
            f'<p class="course-card-teaches">{html.escape(lesson.teaches)}</p>'
            f'<p class="course-run">{run_time(timing, [])}</p>'
            + (f'<ul class="course-headlines">{numbers_html}</ul>' if numbers else "") + "</li>")


def render(executed: pathlib.Path, output: pathlib.Path, mathjax: pathlib.Path | None = None) -> int:
    """Write the site into ``output``; ``mathjax`` is MathJax 3's ``tex-svg-full.js`` (None: formulas
    stay TeX source unless a ``mathjax/`` folder is already there)."""
    output.mkdir(parents=True, exist_ok=True)
    timings_path = executed / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    repository = repository_url()
    page_exporter = exporter()
    lessons = [lesson for lesson in SYLLABUS if (executed / lesson.filename).exists()]
    if not lessons:
        raise SystemExit(f"No executed notebooks found in {executed}.")
    pages = [(f"{lesson.number}_{lesson.slug}.html", f"{lesson.number} · {lesson.title}") for lesson in lessons]
    (output / "notebooks").mkdir(exist_ok=True)
    cards, search = [], []
    for position, lesson in enumerate(lessons):
        notebook, assignments = without_injected_parameters(nbformat.read(executed / lesson.filename, as_version=4))
        timing = timings.get(lesson.filename, {})
        numbers = headlines(notebook)
        page = pages[position][0]
        site = {"sidebar": sidebar(page, lessons),
                "page_header": page_header(lesson, timing, numbers, assignments, repository),
                "page_footer": pager(pages[position - 1] if position else ("index.html", "Course home"),
                                     pages[position + 1] if position + 1 < len(pages) else ("glossary.html", "Glossary and notation"))}
        notebook.metadata["title"] = f"{lesson.number} · {lesson.title} · {COURSE_TITLE}"
        body, _ = page_exporter.from_notebook_node(notebook, resources={"site": site})
        body = local_badge(html_links(body))
        (output / page).write_text(body)
        search += search_entries(page, pages[position][1], body)
        source = ROOT / "notebooks" / lesson.filename
        if source.exists():
            shutil.copyfile(source, output / "notebooks" / lesson.filename)
        cards.append(index_card(lesson, page, timing, numbers, error_outputs(notebook)))

    glossary = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(GLOSSARY.read_text())])
    glossary.metadata["title"] = f"Glossary and notation · {COURSE_TITLE}"
    body, _ = page_exporter.from_notebook_node(glossary, resources={"site": {
        "sidebar": sidebar("glossary.html", lessons), "page_header": "",
        "page_footer": pager(pages[-1], ("index.html", "Course home"))}})
    body = html_links(body)
    (output / "glossary.html").write_text(body)
    search += search_entries("glossary.html", "Glossary and notation", body)

    total = sum(timing.get("seconds", 0) for timing in timings.values())
    index = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(index_body(cards, total))])
    index.metadata["title"] = COURSE_TITLE
    body, _ = page_exporter.from_notebook_node(index, resources={"site": {
        "sidebar": sidebar("index.html", lessons), "page_header": "",
        "page_footer": pager(None, pages[0])}})
    (output / "index.html").write_text(body)

    for asset in ("course.css", "search.js"):
        shutil.copyfile(SITE / asset, output / asset)
    (output / "search_index.js").write_text("window.COURSE_SEARCH = " + json.dumps(search, ensure_ascii=False) + ";\n")
    if mathjax is not None:
        (output / "mathjax").mkdir(exist_ok=True)
        shutil.copyfile(mathjax, output / "mathjax" / "tex-svg-full.js")
        licence = mathjax.parents[1] / "LICENSE"
        if licence.exists():
            shutil.copyfile(licence, output / "mathjax" / "LICENSE")
    elif not (output / "mathjax" / "tex-svg-full.js").exists():
        print(f"Note: no MathJax in {output / 'mathjax'}: the formulas show as TeX source (see --mathjax).")
    print(f"Rendered {len(lessons)} notebook(s), glossary.html and index.html into {output}.")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executed", type=pathlib.Path, required=True)
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument("--mathjax", type=pathlib.Path, default=DEFAULT_MATHJAX,
                        help="MathJax 3's es5/tex-svg-full.js (default: from the package django-static-mathjax)")
    args = parser.parse_args(argv)
    if args.mathjax is None or not args.mathjax.is_file():
        raise SystemExit(f"No MathJax at {args.mathjax}: install the course's development dependencies "
                         "(`make setup` does; the package is django-static-mathjax), "
                         "or pass --mathjax with the path of MathJax 3's es5/tex-svg-full.js.")
    return render(args.executed, args.output, args.mathjax)


if __name__ == "__main__":
    sys.exit(main())
