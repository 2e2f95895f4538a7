"""Page weight: what a browser requests on a first visit to a page, checked against budgets.toml.

A page is opened in headless chromium (phone viewport, empty cache) from the site served by
tools/static_server.py; every request it makes until the network is idle and fonts are
loaded is recorded. Sizes are read from the built files: raw bytes, and gzip bytes for the
types the server compresses (fonts and images travel as they are). data: URIs are not
requests and are counted inside the HTML that carries them.

    python tools/page_weight.py site            # measure every page, print the table, check budgets
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = ROOT / "budgets.toml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 412, "height": 823}

sys.path.insert(0, str(Path(__file__).parent))
from static_server import COMPRESSIBLE, gzip_body, serve  # noqa: E402

KINDS = {".html": "html", ".css": "css", ".js": "js", ".woff2": "font", ".woff": "font", ".ttf": "font",
         ".svg": "image", ".png": "image", ".jpg": "image", ".webp": "image", ".json": "data"}


@dataclass
class Request:
    path: str
    kind: str
    raw: int
    gzip: int


@dataclass
class PageWeight:
    page: str
    page_type: str
    requests: list[Request] = field(default_factory=list)
    third_party: list[str] = field(default_factory=list)

    def total(self, kind: str | None = None, exclude: str | None = None, compressed: bool = True) -> int:
        return sum(r.gzip if compressed else r.raw for r in self.requests
                   if (kind is None or r.kind == kind) and r.kind != exclude)

    @property
    def gzip_kb_without_fonts(self) -> float:
        return self.total(exclude="font") / 1024

    @property
    def font_kb(self) -> float:
        return self.total("font") / 1024


def page_type(site: Path, page: str) -> str:
    """The budget a page falls under: see budgets.toml."""
    if "/notebooks/" in f"/{page}":
        return "notebook"
    if page == "resources/question-bank/":
        return "question-bank"
    html = (site / page / "index.html").read_text(encoding="utf-8")
    return "math-page" if 'class="katex' in html else "text-page"


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, as URL paths relative to the root ('' is the home page)."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        rel = index.parent.relative_to(site).as_posix()
        if 'http-equiv="refresh"' in index.read_text(encoding="utf-8")[:2000]:
            continue  # a mkdocs-redirects stub, not a page
        pages.append("" if rel == "." else rel + "/")
    return pages


def file_for(site: Path, url_path: str) -> Path:
    path = site / url_path.lstrip("/")
    return path / "index.html" if url_path.endswith("/") or path.is_dir() else path


def sizes(path: Path, cache: dict[Path, tuple[int, int]]) -> tuple[int, int]:
    if path not in cache:
        data = path.read_bytes()
        cache[path] = (len(data), len(gzip_body(data)) if path.suffix in COMPRESSIBLE else len(data))
    return cache[path]


def measure(browser, site: Path, base_url: str, pages: list[str]) -> list[PageWeight]:
    """Open each page in a fresh browser context and record what it requests."""
    host = urlsplit(base_url).netloc
    cache: dict[Path, tuple[int, int]] = {}
    results = []
    for page in pages:
        context = browser.new_context(viewport=PHONE)
        tab = context.new_page()
        urls: list[str] = []
        tab.on("request", lambda request: urls.append(request.url))
        tab.goto(base_url + page, wait_until="networkidle")
        tab.evaluate("document.fonts.ready.then(() => true)")
        tab.wait_for_load_state("networkidle")
        context.close()
        weight = PageWeight(page, page_type(site, page))
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if parts.netloc != host:
                weight.third_party.append(url)
                continue
            path = file_for(site, parts.path)
            raw, gz = sizes(path, cache)
            weight.requests.append(Request(parts.path, KINDS.get(path.suffix, "other"), raw, gz))
        results.append(weight)
    return results


def load_budgets(path: Path = BUDGETS) -> dict[str, dict]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def over_budget(weight: PageWeight, budgets: dict[str, dict]) -> list[str]:
    """Every limit this page breaks, as readable sentences naming the page."""
    budget = budgets[weight.page_type]
    name = f"/{weight.page} ({weight.page_type})"
    problems = []
    if len(weight.requests) > budget["max_requests"]:
        problems.append(f"{name}: {len(weight.requests)} requests > {budget['max_requests']}")
    if weight.gzip_kb_without_fonts > budget["max_gzip_kb_without_fonts"]:
        problems.append(f"{name}: {weight.gzip_kb_without_fonts:.1f} KB gzip without fonts > {budget['max_gzip_kb_without_fonts']} KB")
    if weight.font_kb > budget["max_font_kb"]:
        problems.append(f"{name}: {weight.font_kb:.1f} KB of fonts > {budget['max_font_kb']} KB")
    if len(weight.third_party) > budget["max_third_party_requests"]:
        problems.append(f"{name}: third-party requests {weight.third_party}")
    return problems


def table(weights: list[PageWeight]) -> list[str]:
    rows = ["| page | type | requests | HTML gzip | CSS gzip | JS gzip | fonts | images | total gzip without fonts | raw without fonts |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for w in weights:
        kb = lambda n: f"{n / 1024:.1f}"  # noqa: E731
        rows.append(f"| /{w.page} | {w.page_type} | {len(w.requests)} | {kb(w.total('html'))} | {kb(w.total('css'))} | "
                    f"{kb(w.total('js'))} | {kb(w.total('font'))} | {kb(w.total('image'))} | {w.gzip_kb_without_fonts:.1f} | "
                    f"{kb(w.total(exclude='font', compressed=False))} |")
    return rows


def representative_pages(site: Path) -> dict[str, str]:
    """The pages Lighthouse and the benchmark look at: the home page, the topic page with the
    most formulas, and the notebook page with the largest HTML."""
    pages = site_pages(site)
    def html(page: str) -> str:
        return (site / page / "index.html").read_text(encoding="utf-8")
    topics = [p for p in pages if page_type(site, p) == "math-page"]
    notebooks = [p for p in pages if page_type(site, p) == "notebook"]
    return {
        "home": "",
        "math-heaviest": max(topics, key=lambda p: html(p).count('class="katex"')),
        "notebook": max(notebooks, key=lambda p: len(html(p))),
    }


def main() -> int:
    from playwright.sync_api import sync_playwright

    site = Path(sys.argv[1] if len(sys.argv) > 1 else "site").resolve()
    server, url = serve(site)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        weights = measure(browser, site, url, site_pages(site))
        browser.close()
    server.shutdown()
    print("\n".join(table(weights)))
    problems = [p for w in weights for p in over_budget(w, load_budgets())]
    print("\n".join(problems) or "all pages within budget")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

