"""Render executed notebooks to a browsable HTML course with an index page.

    python scripts/render_course.py --executed build/cpu --output build/html

Each executed notebook becomes ``<name>.html`` (links between notebooks point at the HTML
pages); ``index.html`` lists the syllabus with each notebook's run time (from the
``timings.json`` that ``run_notebooks.py`` wrote) and its headline numbers (the outputs that
``course_lib.report.headline`` tagged). The glossary (``notebooks/glossary.md``) becomes
``glossary.html``, rendered through the same exporter so that its formulas look like the
notebooks'; the index and every notebook link to it.
"""

from __future__ import annotations

import argparse
import html
import json
import pathlib
import re
import sys

import nbformat
from nbconvert import HTMLExporter

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.report import HEADLINE_MIME  # noqa: E402
from course_lib.syllabus import SYLLABUS  # noqa: E402

NOTEBOOK_LINK = re.compile(r'href="(?:\.\./notebooks/|\./)?(\d\d_[a-z0-9_]+|glossary)\.(?:ipynb|md)(#[^"]*)?"')
GLOSSARY = ROOT / "notebooks" / "glossary.md"


def html_links(body: str) -> str:
    """Point links to notebooks (.ipynb) and to the glossary (.md) at their rendered pages."""
    return NOTEBOOK_LINK.sub(lambda match: f'href="{match.group(1)}.html{match.group(2) or ""}"', body)


def render_glossary(exporter, output: pathlib.Path) -> None:
    """``glossary.md`` as a one-cell notebook through the notebooks' exporter."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(GLOSSARY.read_text())])
    notebook.metadata["title"] = "Glossary and notation"
    body, _ = exporter.from_notebook_node(notebook)
    (output / "glossary.html").write_text(html_links(body))


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


def render(executed: pathlib.Path, output: pathlib.Path) -> int:
    output.mkdir(parents=True, exist_ok=True)
    timings_path = executed / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    exporter = HTMLExporter(template_name="lab")
    rows = []
    for lesson in SYLLABUS:
        source = executed / lesson.filename
        if not source.exists():
            continue
        notebook = nbformat.read(source, as_version=4)
        body, _ = exporter.from_notebook_node(notebook)
        body = html_links(body)
        (output / f"{lesson.number}_{lesson.slug}.html").write_text(body)
        timing = timings.get(lesson.filename, {})
        numbers = "<br>".join(html.escape(record["text"]) for record in headlines(notebook)) or "&ndash;"
        seconds = f"{timing['seconds']:.0f} s ({timing['budget']})" if timing else "&ndash;"
        errors = error_outputs(notebook)
        status = " <strong>(errors)</strong>" if errors else ""
        rows.append(f"<tr><td>{lesson.number}</td><td><a href=\"{lesson.number}_{lesson.slug}.html\">"
                    f"{html.escape(lesson.title)}</a>{status}</td><td>{html.escape(lesson.teaches)}</td>"
                    f"<td>{seconds}</td><td>{numbers}</td></tr>")
    if not rows:
        raise SystemExit(f"No executed notebooks found in {executed}.")
    render_glossary(exporter, output)
    total = sum(timing.get("seconds", 0) for timing in timings.values())
    index = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Deep Learning for Image Generation and Restoration</title>
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; }}
 table {{ border-collapse: collapse; width: 100%; }}
 th, td {{ border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }}
 th {{ background: #f4f4f4; }}
</style></head><body>
<h1>Deep Learning for Image Generation and Restoration</h1>
<p>The executed notebooks of the course. Run times are wall-clock seconds on the machine that
rendered this page; every headline number is printed beside what it should be read against.
Symbols and terms, with their Chinese names: <a href="glossary.html">glossary and notation</a>.</p>
<table><thead><tr><th>#</th><th>notebook</th><th>teaches</th><th>run time</th><th>headline numbers</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p>Total run time: {total:.0f} s.</p>
</body></html>
"""
    (output / "index.html").write_text(index)
    print(f"Rendered {len(rows)} notebook(s), glossary.html and index.html into {output}.")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executed", type=pathlib.Path, required=True)
    parser.add_argument("--output", type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    return render(args.executed, args.output)


if __name__ == "__main__":
    sys.exit(main())
