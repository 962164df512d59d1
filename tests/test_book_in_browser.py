"""The built book, opened in headless Chromium from a local server: math typeset, plots shown,
navigation and search working, all without network access. Screenshots of a few pages go to
_build/screenshots/ (build artifacts, not committed).

`tools/test` builds the book before running this. Without Chromium the tests are skipped, unless
NN_REQUIRE_BROWSER=1 (set by CI, which installs Chromium) makes that a failure."""
import functools
import http.server
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--virtual-time-budget=15000"]

if not CHROMIUM or not HTML.is_dir():
    missing = "Chromium" if not CHROMIUM else "the built book (_build/html)"
    if os.environ.get("NN_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{missing} is required for the browser tests (NN_REQUIRE_BROWSER=1)")
    pytest.skip(f"{missing} not available", allow_module_level=True)


@pytest.fixture(scope="module")
def server():
    "The built book served on a free localhost port, for as long as the module's tests run."
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def chromium(*args):
    "Run headless Chromium with a fresh profile; its standard output."
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                                capture_output=True, text=True, timeout=120)
    return result.stdout


def dom(url):
    "The page's DOM after its scripts (MathJax, search) have run."
    return chromium("--dump-dom", url)


def chapters():
    "The chapters' HTML pages, in the order of the table of contents."
    toc = (ROOT / "_toc.yml").read_text()
    return [re.sub(r"\.(ipynb|md)$", "", name) for name in
            re.findall(r"(?:root|file):\s*(\S+)", toc)]


@pytest.mark.parametrize("page", ["book/01_tensor", "book/05_matmul", "book/08_functions"])
def test_math_is_typeset_offline(server, page):
    html = dom(f"{server}/{page}.html")
    source = (HTML / f"{page}.html").read_text()
    assert "mathjax/tex-chtml.js" in source and "cdn.jsdelivr" not in source
    formulas = source.count('class="math')
    assert formulas > 0
    assert html.count("<mjx-container") >= formulas, "some formulas were not typeset"


def test_no_page_loads_anything_from_the_network():
    for page in HTML.rglob("*.html"):
        text = page.read_text(errors="ignore")
        external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', text)
        assert not external, f"{page.relative_to(HTML)} loads {external[:3]}"


def test_plots_are_shown(server):
    html = dom(f"{server}/book/05_matmul.html")
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
    assert images, "the chapter shows no plot"
    for src in images:
        data = (HTML / "book" / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_navigation_follows_the_table_of_contents(server):
    order = chapters()
    for page, following in zip(order, order[1:]):
        html = (HTML / f"{page}.html").read_text()
        link = re.search(r'class="right-next"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*class="right-next"', html)
        assert link, f"{page} has no link to the next page"
        target = (HTML / page).parent / (link.group(1) or link.group(2))
        assert target.resolve() == (HTML / f"{following}.html").resolve()
    first = dom(f"{server}/{order[0]}.html")
    assert all(f'{Path(page).name}.html' in first for page in order[1:]), "the sidebar lists every chapter"


def test_search_finds_pages(server):
    html = dom(f"{server}/search.html?q=gradient")
    results = re.findall(r'<li[^>]*><a href="(book/[^"#?]+\.html)', html)
    assert len(set(results)) >= 3, f"search for 'gradient' found {results}"


def test_screenshots_of_a_few_pages(server):
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for page in ["book/00_introduction", "book/01_tensor", "book/05_matmul"]:
        path = shots / f"{Path(page).name}.png"
        chromium(f"--screenshot={path}", "--window-size=1280,1600", f"{server}/{page}.html")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
