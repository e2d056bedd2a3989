"""Open every page of the rendered course in headless Chromium and check what a learner sees.

    python scripts/check_rendered_course.py --html build/html --executed build/cpu

For each page of ``--html`` (``index.html``, ``glossary.html``, one page per notebook): it loads,
it has a title and a heading, every image has loaded (complete, with a natural width), its
figures are as many as the image outputs of the executed notebook in ``--executed``, no output
area shows an error (a traceback, or papermill's "stopped here" cell; warnings on stderr are
fine), and every relative link resolves to a file of the folder, its ``#anchor`` to an element
of that page. ``index.html`` must link every notebook page and the glossary. Formulas: once
MathJax has typeset the page (the site's template marks ``<html data-mathjax="typeset">``), the
visible text (code and outputs in ``<pre>``/``<code>`` aside) shows no TeX source (``$$``, ``$...$``,
``\frac``, ``\mathbb`` or any other ``\command``), no formula shows MathJax's error, and there are
as many typeset formulas as the executed notebook's Markdown holds. Nothing on a page may come
from the web (a closed machine shows it missing): no image, no script; and papermill's injected
parameters cell is not shown. One line per page; the exit status is non-zero if anything failed,
with what failed where.

Chromium (Debian's package ``chromium``) is driven over the DevTools protocol through a pipe
(``--remote-debugging-pipe``): no driver, no network port, nothing beyond the standard library.
Pages are opened as file:// URLs. ``--screenshots DIR`` saves each page at desktop (1280 px)
and phone (390 px) widths, at its top and at its first displayed formula. The pure part (what a page shows,
what a notebook expects, the verdict) needs no browser; tests/test_check_rendered_course.py
tests it.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import html.parser
import json
import os
import pathlib
import posixpath
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.parse

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium's background connections are refused on a closed machine;
# --no-sandbox because maintainers and CI machines run this as root.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--remote-debugging-pipe", "--window-size=1280,1600")
PHONE_WIDTH = 390  # CSS pixels, a common phone
SEARCH_INPUT_ID = "course-search-input"
STDERR_MIME = "application/vnd.jupyter.stderr"
PAPERMILL_ERROR_ID = "papermill-error-cell"
# nbconvert's lab template marks error outputs and stderr streams alike (a div with the stderr
# MIME type); only the content tells them apart. An IPython traceback has the header line
# "ValueError    Traceback (most recent call last)", or, for a SyntaxError, a last line
# "SyntaxError: invalid syntax". A warning reads "path.py:12: UserWarning: ...", not at line start.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*[A-Za-z_][\w.]*(?:Error|Exception|Interrupt)\b:?",
                       re.MULTILINE)
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
INJECTED_PARAMETERS_CLASS = "celltag_injected-parameters"  # nbconvert's class for papermill's cell tag
# TeX that MathJax should have replaced: display delimiters, an inline $...$ span, any \command
RAW_TEX = re.compile(r"\$\$.{0,300}?\$\$|\$\$|\$[^$\n]{1,300}?\$|\\[A-Za-z]{2,}")
# text in these is not prose: code, outputs, typeset formulas (MathJax's own markup), scripts
NOT_PROSE = {"pre", "code", "script", "style", "textarea", "noscript", "template", "mjx-container", "svg", "math"}
# the formulas of a Markdown cell: display $$...$$ first, then inline $...$ (escaped \$ is a dollar)
MARKDOWN_FORMULA = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$(?!\$)(?:\\.|[^$\\])+?\$", re.DOTALL)
MARKDOWN_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


# --- what a page shows and what a notebook expects (no browser needed) ---------------------------

@dataclasses.dataclass
class PageFacts:
    """What the DOM of one page shows: read from the browser's live DOM or from an HTML file."""

    title: str = ""
    heading: str = ""  # the text of the first <h1>, without nbconvert's "¶" anchor link
    links: list[str] = dataclasses.field(default_factory=list)  # every <a href>, as written
    anchors: set[str] = dataclasses.field(default_factory=set)  # every id (and <a name>)
    figures: int = 0  # image outputs: .jp-OutputArea-output that is .jp-RenderedImage or .jp-RenderedSVG
    errors: list[str] = dataclasses.field(default_factory=list)  # first line of each error shown
    visible_text: str = ""  # the page's prose: text outside code, outputs in <pre>, formulas, scripts
    formulas: int = 0  # typeset formulas (<mjx-container>)
    formula_errors: list[str] = dataclasses.field(default_factory=list)  # MathJax's message per failed formula
    asks_for_mathjax: bool = False  # a <script> loads MathJax
    web_scripts: list[str] = dataclasses.field(default_factory=list)  # <script src> from the web
    injected_parameters: bool = False  # papermill's injected cell is shown


@dataclasses.dataclass
class Expected:
    """What an executed notebook should show once rendered."""

    figures: int
    errors: int
    heading: str
    formulas: int = 0  # formulas in the Markdown cells


class _DomReader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self._in_title = False
        self._heading: list[str] | None = None  # collecting the first <h1>
        self._heading_done = False
        self._stderr: list[str] | None = None  # collecting one stderr-marked output area
        self._stderr_depth = 0
        self._not_prose = 0  # depth inside NOT_PROSE elements
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        if tag in NOT_PROSE:
            self._not_prose += 1
        if tag == "mjx-container":
            self.facts.formulas += 1
        if attributes.get("data-mjx-error") is not None:
            self.facts.formula_errors.append(attributes["data-mjx-error"] or "(no message)")
        if tag == "script" and attributes.get("src"):
            if "mathjax" in attributes["src"].lower():
                self.facts.asks_for_mathjax = True
            if is_external(attributes["src"]):
                self.facts.web_scripts.append(attributes["src"])
        if INJECTED_PARAMETERS_CLASS in classes:
            self.facts.injected_parameters = True
        if attributes.get("id"):
            self.facts.anchors.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.facts.anchors.add(attributes["name"])
        if attributes.get("id") == PAPERMILL_ERROR_ID:
            self.facts.errors.append("papermill stopped the notebook here (an exception in the next cell)")
        if tag == "title":
            self._in_title = True
        elif tag == "h1" and not self._heading_done and self._heading is None:
            self._heading = []
        elif tag == "a" and "href" in attributes:
            self.facts.links.append(attributes["href"] or "")
        if "jp-OutputArea-output" in classes and classes & {"jp-RenderedImage", "jp-RenderedSVG"}:
            self.facts.figures += 1
        if tag == "div":
            if self._stderr is not None:
                self._stderr_depth += 1
            elif attributes.get("data-mime-type") == STDERR_MIME:
                self._stderr, self._stderr_depth = [], 1

    def handle_endtag(self, tag):
        if tag in NOT_PROSE and self._not_prose:
            self._not_prose -= 1
        if tag == "title":
            self._in_title = False
        elif tag == "h1" and self._heading is not None:
            self.facts.heading = " ".join("".join(self._heading).replace("¶", " ").split())
            self._heading, self._heading_done = None, True
        elif tag == "div" and self._stderr is not None:
            self._stderr_depth -= 1
            if self._stderr_depth == 0:
                text = "".join(self._stderr)
                if TRACEBACK.search(text):
                    self.facts.errors.append(error_summary(text))
                self._stderr = None

    def handle_data(self, data):
        if not self._not_prose and not self._in_title and data != "¶":  # "¶": nbconvert's hidden anchor link
            self._text.append(data)
        if self._in_title:
            self.facts.title += data.strip()
        if self._heading is not None:
            self._heading.append(data)
        if self._stderr is not None:
            self._stderr.append(data)


def error_summary(traceback_text: str) -> str:
    """The line that names the exception ("ValueError: ..."), else the first non-blank line."""
    lines = [line.strip() for line in traceback_text.splitlines() if line.strip() and not set(line.strip()) <= {"-"}]
    named = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(?:Error|Exception|Interrupt)\b:", line)]
    return ((named or lines or ["(empty)"])[-1])[:160]


def page_facts(dom: str) -> PageFacts:
    """Read a page's title, heading, links, anchors, figures and shown errors from its HTML."""
    reader = _DomReader()
    reader.feed(dom)
    reader.close()
    reader.facts.visible_text = " ".join(" ".join(reader._text).split())
    return reader.facts


def raw_tex(text: str) -> list[str]:
    """TeX source left in a page's visible text, each with a little context."""
    return [text[max(0, match.start() - 20):match.end() + 20].strip() for match in RAW_TEX.finditer(text)]


def markdown_formulas(source: str) -> int:
    """How many formulas MathJax should typeset in a Markdown cell (code spans and fences aside)."""
    return len(MARKDOWN_FORMULA.findall(MARKDOWN_CODE.sub(" ", source)))


def notebook_expectations(notebook: dict) -> Expected:
    """Figures, error outputs and the ``# NN · Title`` heading of an executed notebook (its JSON).

    A figure is an output that the lab template renders as an image: image data and no HTML
    (nbconvert prefers text/html over images).
    """
    figures = errors = formulas = 0
    heading = ""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = "".join(cell.get("source", ""))
            formulas += markdown_formulas(source)
            match = re.search(r"^#\s+(.+)$", source, re.MULTILINE)
            if not heading:
                heading = " ".join(match.group(1).split()) if match else ""
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            figures += any(mime in data for mime in IMAGE_MIMES) and "text/html" not in data
            errors += output.get("output_type") == "error"
    return Expected(figures=figures, errors=errors, heading=heading, formulas=formulas)


def relative_target(href: str, page: str) -> tuple[str, str] | None:
    """``(file, anchor)`` that a link of ``page`` points at inside the folder, None for the web.

    ``file`` is relative to the folder ("" anchor when there is none); ``#x`` is ``(page, "x")``.
    The anchor stays as written: a browser tries it as it is, then percent-decoded (nbconvert
    writes the ids of headings percent-encoded, "00-%C2%B7-Welcome").
    """
    parsed = urllib.parse.urlsplit(href)
    if parsed.scheme or parsed.netloc:  # https:, mailto:, data:, file:, //host
        return None
    path = urllib.parse.unquote(parsed.path)
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), path)) if path else page
    return target, parsed.fragment


def page_problems(page: str, facts: PageFacts, images: list[dict], expected: Expected | None,
                  files: set[str], anchors: dict[str, set[str]], mathjax: dict | None = None) -> list[str]:
    """Everything wrong with one page; an empty list means it passes.

    ``images``: what the browser says of each <img> (``src``, ``complete``, ``naturalWidth``);
    ``files``: every file of the folder (relative paths); ``anchors``: the ids of every page;
    ``mathjax``: what the browser says of MathJax (``loaded``, ``typeset``), None when not asked.
    """
    problems = []
    if not facts.title:
        problems.append("no <title>")
    if not facts.heading:
        problems.append("no <h1> heading")
    elif expected and expected.heading and facts.heading != expected.heading:
        problems.append(f"heading {facts.heading!r}, the notebook's is {expected.heading!r}")
    for image in images:
        if is_external(image["src"]):
            problems.append(f"image from the web (missing on a closed machine): {short(image['src'])}")
        elif not image["complete"] or not image["naturalWidth"]:
            problems.append(f"image not loaded: {short(image['src'])}")
    problems += [f"script from the web (missing on a closed machine): {short(src)}" for src in facts.web_scripts]
    if facts.injected_parameters:
        problems.append("papermill's injected parameters cell is shown")
    if mathjax is not None and facts.asks_for_mathjax:
        if not mathjax.get("loaded"):
            problems.append("MathJax did not load (is mathjax/tex-svg-full.js in the folder?)")
        elif not mathjax.get("typeset"):
            problems.append("MathJax did not finish typesetting the page")
    problems += [f"raw TeX shown: '{snippet}'" for snippet in raw_tex(facts.visible_text)[:5]]
    problems += [f"formula not typeset: {message}" for message in facts.formula_errors[:5]]
    if expected is not None and expected.formulas and not facts.formula_errors and facts.formulas != expected.formulas:
        problems.append(f"{facts.formulas} typeset formula(s), the notebook's Markdown has {expected.formulas}")
    if expected is not None:
        if facts.figures != expected.figures:
            problems.append(f"{facts.figures} figure(s) shown, the executed notebook has {expected.figures}")
        if expected.errors:
            problems.append(f"the executed notebook has {expected.errors} error output(s)")
    problems += [f"error shown: {error}" for error in facts.errors]
    for href in facts.links:
        target = relative_target(href, page)
        if target is None:
            continue
        path, anchor = target
        if path not in files:
            problems.append(f"link {href!r}: no file {path} in the folder")
        elif anchor and path in anchors and not {anchor, urllib.parse.unquote(anchor)} & anchors[path]:
            problems.append(f"link {href!r}: no element with id {anchor!r} in {path}")
    return problems


def search_word(heading: str) -> str:
    """The longest word of a page's heading: what the search probe types."""
    return max(re.findall(r"[A-Za-z][A-Za-z-]+", heading) or [""], key=len)


def search_problems(word: str, page: str, results: list[str]) -> list[str]:
    """Searching the index for a word of ``page``'s heading must list a section of ``page``."""
    if any(result.split("#")[0] == page for result in results):
        return []
    return [f"searching for {word!r} lists {len(results)} result(s), none on {page}"]


def index_problems(facts: PageFacts, pages: list[str]) -> list[str]:
    """index.html must link every notebook page (``NN_name.html``) and the glossary, and have
    the search box."""
    linked = {target[0] for target in (relative_target(href, "index.html") for href in facts.links) if target}
    wanted = [page for page in pages if re.fullmatch(r"\d\d_[a-z0-9_]+\.html", page) or page == "glossary.html"]
    if "glossary.html" not in wanted:
        wanted.append("glossary.html")
    problems = [f"index.html does not link {page}" for page in sorted(wanted) if page not in linked]
    if SEARCH_INPUT_ID not in facts.anchors:
        problems.append("index.html has no search box")
    return problems


def is_external(src: str) -> bool:
    return bool(urllib.parse.urlsplit(src).netloc) or src.startswith(("http:", "https:"))


def short(src: str) -> str:
    return src[:60] + "..." if len(src) > 60 else src


# --- the browser -------------------------------------------------------------------------------

class Chromium:
    """Headless Chromium spoken to over the DevTools protocol on the pipe (fds 3 and 4).

    Messages are JSON, each ended by a NUL byte; events in between are skipped.
    """

    def __init__(self, binary: str = CHROMIUM, timeout: float = 30.0):
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="check-html-")
        self._log = open(pathlib.Path(self._profile.name) / "chromium.log", "w+")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def connect_pipe():  # in the child: the protocol expects its input on fd 3, output on fd 4
            read_end, write_end = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        # close_fds=False keeps the fds 3 and 4 made in connect_pipe; Python's own fds are
        # close-on-exec, so nothing else leaks into the browser.
        self._process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile.name}/profile", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            close_fds=False, preexec_fn=connect_pipe)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        except Exception:
            self.close()
            raise

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise RuntimeError(f"Chromium exited; its log ends:\n{self.log_tail()}") from None
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" not in self._buffer:
                ready, _, _ = select.select([self._from_browser], [], [], max(0.0, deadline - time.monotonic()))
                chunk = os.read(self._from_browser, 1 << 20) if ready else None
                if chunk is None:
                    raise TimeoutError(f"Chromium did not answer {method} within {self.timeout:.0f} s")
                if not chunk:
                    raise RuntimeError(f"Chromium exited; its log ends:\n{self.log_tail()}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply["result"]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self._session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def open(self, url: str) -> dict:
        """Load ``url``; return its readyState, MathJax's state, its images and live DOM.

        It waits for the load event, every image, and (on a page that loads MathJax) for MathJax to
        have typeset the page or failed to load.

        ``{"error": ...}`` if the navigation failed (no such file).
        """
        navigation = self.send("Page.navigate", {"url": url}, self._session)
        if navigation.get("errorText"):
            return {"error": navigation["errorText"]}
        deadline = time.monotonic() + self.timeout
        # wait for this page's load event, then for every image to have finished (loaded or broken)
        loaded = (f"document.URL === {json.dumps(url)} && document.readyState === 'complete'"
                  " && Array.from(document.images).every(image => image.complete)"
                  " && (!document.querySelector('script[src*=\"mathjax\" i]')"
                  "     || document.documentElement.dataset.mathjax === 'typeset' || !window.MathJax?.version)")
        while not self.evaluate(loaded):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return json.loads(self.evaluate("""JSON.stringify({
            readyState: document.readyState,
            mathjax: {loaded: Boolean(window.MathJax && window.MathJax.version),
                      typeset: document.documentElement.dataset.mathjax === 'typeset'},
            images: Array.from(document.images, image => ({
                src: image.getAttribute('src') || '', complete: image.complete, naturalWidth: image.naturalWidth})),
            dom: document.documentElement.outerHTML})"""))

    def search(self, words: str) -> list[str]:
        """Type ``words`` into the page's search box; the links of the results it lists."""
        return self.evaluate(f"""(() => {{
            const input = document.getElementById({json.dumps(SEARCH_INPUT_ID)});
            if (!input) return [];
            input.value = {json.dumps(words)};
            input.dispatchEvent(new Event('input'));
            return Array.from(document.querySelectorAll('#course-search-results a'), link => link.getAttribute('href'));
        }})()""")

    def screenshot(self, path: pathlib.Path, scroll_to: str | None = None, width: int | None = None,
                   height: int = 1600) -> bool:
        """PNG of the viewport, scrolled to the first element matching ``scroll_to`` (False if there
        is none: no file then); ``width`` emulates a phone-sized screen of that many CSS pixels."""
        if width is not None:
            self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 2,
                                                             "mobile": True}, self._session)
        try:
            if scroll_to:
                found = self.evaluate(f"(element => element ? (element.scrollIntoView({{block: 'center'}}), true)"
                                      f" : false)(document.querySelector({json.dumps(scroll_to)}))")
                if not found:
                    return False
            else:
                self.evaluate("window.scrollTo(0, 0)")
            image = self.send("Page.captureScreenshot", {"format": "png"}, self._session)["data"]
            path.write_bytes(base64.b64decode(image))
            return True
        finally:
            if width is not None:
                self.send("Emulation.clearDeviceMetricsOverride", {}, self._session)

    def log_tail(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return "".join(self._log.readlines()[-5:])

    def close(self) -> None:
        try:
            if self._process.poll() is None:
                try:
                    self.timeout = 5.0
                    self.send("Browser.close")
                except Exception:
                    pass
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)
            self._log.close()
            self._profile.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


# --- the check ---------------------------------------------------------------------------------

def executed_notebooks(executed: pathlib.Path | None) -> dict[str, Expected]:
    """``{"NN_name.html": Expected}`` for every executed notebook of the folder."""
    if executed is None:
        return {}
    return {f"{path.stem}.html": notebook_expectations(json.loads(path.read_text()))
            for path in sorted(executed.glob("[0-9][0-9]_*.ipynb"))}


def check(site: pathlib.Path, executed: pathlib.Path | None, chromium: str,
          screenshots: pathlib.Path | None = None) -> int:
    files = {path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file()}
    pages = sorted(name for name in files if name.endswith(".html"))
    if "index.html" not in pages:
        raise SystemExit(f"No index.html in {site}: render the course first (make course).")
    expectations = executed_notebooks(executed)
    seen: dict[str, tuple[PageFacts, list[dict]]] = {}
    failures: dict[str, list[str]] = {}
    mathjax: dict[str, dict] = {}  # what the browser says of MathJax on each page
    searched: list[str] = []
    with Chromium(chromium) as browser:
        for page in pages:
            shown = browser.open((site / page).resolve().as_uri())
            if "error" in shown or shown["readyState"] != "complete":
                failures[page] = [f"did not load: {shown.get('error') or shown['readyState']}"]
                continue
            seen[page] = page_facts(shown["dom"]), shown["images"]
            mathjax[page] = shown["mathjax"]
            if page == "index.html":
                notebook_pages = [name for name in pages if re.fullmatch(r"\d\d_[a-z0-9_]+\.html", name)]
                probe = next((name for name in notebook_pages if name in expectations), None)
                if probe and SEARCH_INPUT_ID in seen[page][0].anchors:
                    word = search_word(expectations[probe].heading)
                    searched = search_problems(word, probe, browser.search(word))
            if screenshots:
                screenshots.mkdir(parents=True, exist_ok=True)
                stem = pathlib.Path(page).stem
                for width, suffix in ((None, "desktop"), (PHONE_WIDTH, "phone")):
                    browser.screenshot(screenshots / f"{stem}-{suffix}.png", width=width)
                    browser.screenshot(screenshots / f"{stem}-{suffix}-formula.png", 'mjx-container[display="true"]', width)
    anchors = {page: facts.anchors for page, (facts, _) in seen.items()}
    width = max(len(page) for page in pages)
    for page in pages:
        if page not in seen:
            print(f"{page:<{width}}  FAIL: {failures[page][0]}")
            continue
        facts, images = seen[page]
        problems = page_problems(page, facts, images, expectations.get(page), files, anchors, mathjax.get(page))
        if page == "index.html":
            problems += index_problems(facts, pages) + searched
        if problems:
            failures[page] = problems
        relative = sum(relative_target(href, page) is not None for href in facts.links)
        local = [image for image in images if not is_external(image["src"])]
        loaded = sum(image["complete"] and image["naturalWidth"] > 0 for image in local)
        expected = expectations.get(page)
        figures = f"{facts.figures} figures" + (f" (notebook: {expected.figures})" if expected else "")
        formulas = f"{facts.formulas} formulas" + (f" (notebook: {expected.formulas})" if expected else "")
        print(f"{page:<{width}}  {figures:<24} {formulas:<26} {f'{loaded}/{len(local)} images loaded':<18}"
              f"  {relative:>3} links checked  {'FAIL' if problems else 'ok'}")
    for name in sorted(set(expectations) - set(pages)):
        failures[name] = [f"the executed notebook {pathlib.Path(name).stem}.ipynb has no rendered page"]
    if failures:
        print(f"\n{sum(len(problems) for problems in failures.values())} problem(s):", file=sys.stderr)
        for page, problems in failures.items():
            for problem in problems:
                print(f"  {page}: {problem}", file=sys.stderr)
        return 1
    print(f"\nAll {len(pages)} pages of {site} pass.")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=pathlib.Path, required=True, help="the rendered course (build/html)")
    parser.add_argument("--executed", type=pathlib.Path,
                        help="the executed notebooks it was rendered from (build/<budget>): figure counts")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default {CHROMIUM})")
    parser.add_argument("--screenshots", type=pathlib.Path,
                        help="save screenshots of each page here (desktop and phone, top and first formula)")
    args = parser.parse_args(argv)
    if not os.access(args.chromium, os.X_OK):
        raise SystemExit(f"No Chromium at {args.chromium}: install Debian's (apt-get install chromium).")
    if args.executed is not None and not args.executed.is_dir():
        raise SystemExit(f"No executed notebooks in {args.executed}: run the notebooks first (make course).")
    return check(args.html, args.executed, args.chromium, args.screenshots)


if __name__ == "__main__":
    sys.exit(main())
