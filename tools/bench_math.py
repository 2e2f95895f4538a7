"""Side by side: our build-time KaTeX vs arithmatex + client-side KaTeX, on the same page.

Variant "server" is the page as this site publishes it (markdown-katex + hooks: HTML
rendered at build, KaTeX CSS and fonts only). Variant "client" is what most peer sites
do: pymdownx.arithmatex (generic) leaves the TeX in the page and KaTeX's JavaScript
(self-hosted: katex.min.js + auto-render, same KaTeX version) typesets it in the browser.
The client variant is built from a copy of the repository whose config swaps the math
extension and whose page source has `$`x`$` / ```math rewritten to `$x$` / `$$`.

Measured in headless chromium at a phone viewport with a 4x CPU slowdown, median of
several loads: bytes requested (gzip as served), JavaScript downloaded and time spent
running scripts, time until every formula is typeset and its fonts are loaded, and
cumulative layout shift.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "hooks"))
import katex_render  # noqa: E402  (the macros the site renders with)
import page_weight  # noqa: E402
from static_server import serve  # noqa: E402

CPU_SLOWDOWN = 4
RUNS = 5

# Waits for: document parsed, every arithmatex span typeset (none exist in the server
# variant), two frames (layout done, font loads started), then document.fonts.ready.
PROBE = """
window.__mathReady = null; window.__cls = 0;
new PerformanceObserver(list => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
}).observe({type: "layout-shift", buffered: true});
(function poll() {
  const typeset = document.readyState !== "loading" &&
    [...document.querySelectorAll(".arithmatex")].every(el => el.querySelector(".katex"));
  if (!typeset) return requestAnimationFrame(poll);
  requestAnimationFrame(() => requestAnimationFrame(() =>
    document.fonts.ready.then(() => { window.__mathReady = performance.now(); })));
})();
"""

CLIENT_INIT = """\
// Typeset arithmatex's output with KaTeX's auto-render, as Material's docs show.
document$.subscribe(() => {
  renderMathInElement(document.body, {
    delimiters: [
      {left: "$$", right: "$$", display: true},
      {left: "\\\\(", right: "\\\\)", display: false},
      {left: "\\\\[", right: "\\\\]", display: true},
    ],
    macros: %s,
  });
});
"""


def to_arithmatex(markdown: str) -> str:
    """$`x`$ -> $x$ and ```math fences -> $$ blocks (arithmatex's generic syntax)."""
    markdown = re.sub(r"\$`(.+?)`\$", lambda m: "$" + m.group(1) + "$", markdown)
    return re.sub(r"^(\s*)```math\n(.*?)\n\1```$", lambda m: f"{m.group(1)}$$\n{m.group(2)}\n{m.group(1)}$$",
                  markdown, flags=re.S | re.M)


def build_client_variant(repo: Path, page: str, out: Path) -> None:
    """Build `page` with arithmatex + client-side KaTeX from the repository copy at `repo`."""
    source = repo / "docs" / (page.rstrip("/") + ".md")
    source.write_text(to_arithmatex(source.read_text(encoding="utf-8")), encoding="utf-8")
    assets = repo / "docs" / "assets" / "katex-client"
    assets.mkdir(parents=True, exist_ok=True)
    dist = repo / "node_modules" / "katex" / "dist"
    shutil.copy2(dist / "katex.min.js", assets / "katex.min.js")
    shutil.copy2(dist / "contrib" / "auto-render.min.js", assets / "auto-render.min.js")
    (assets / "init.js").write_text(CLIENT_INIT % json.dumps(katex_render.read_macros()), encoding="utf-8")
    config = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"  - markdown_katex:\n(?:      .*\n)+", "  - pymdownx.arithmatex:\n      generic: true\n", config)
    config = re.sub(r"  - hooks/(katex_math|math_syntax|notebooks|question_bank)\.py\n", "", config)
    config = re.sub(r"  - mkdocs-jupyter:\n(?:      .*\n)+", "", config)
    config = re.sub(r"\nnav:\n(?:  .*\n)+", f"\nnav:\n  - {source.relative_to(repo / 'docs').as_posix()}\n", config)
    # KaTeX's CSS and fonts: hooks/katex_assets.py copies them to assets/katex/ in both variants.
    config = config.replace("extra_css:\n", "extra_css:\n  - assets/katex/katex.min.css\n")
    config = config.replace("extra_javascript:\n", "extra_javascript:\n  - assets/katex-client/katex.min.js\n"
                            "  - assets/katex-client/auto-render.min.js\n  - assets/katex-client/init.js\n")
    (repo / "mkdocs.client.yml").write_text(config, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", "mkdocs.client.yml", "-d", str(out)],
                            cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo), "DISABLE_MKDOCS_2_WARNING": "true"})
    if result.returncode != 0:
        raise RuntimeError(f"client-side KaTeX variant failed to build:\n{result.stderr[-3000:]}")
    html = (out / page / "index.html").read_text(encoding="utf-8")
    # The client variant must carry its math to the browser as TeX.
    if 'class="arithmatex"' not in html or 'class="katex"' in html:
        raise RuntimeError("client-side variant did not come out as arithmatex output")


def measure_once(browser, url: str) -> dict:
    context = browser.new_context(viewport=page_weight.PHONE)
    tab = context.new_page()
    cdp = context.new_cdp_session(tab)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    cdp.send("Performance.enable")
    tab.add_init_script(PROBE)
    tab.goto(url, wait_until="load")
    tab.wait_for_function("window.__mathReady !== null", timeout=60000)
    tab.wait_for_timeout(500)  # let late tasks (Material's setup) land in the metrics
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    result = {
        "math_ready_ms": tab.evaluate("window.__mathReady"),
        "cls": tab.evaluate("window.__cls"),
        "script_ms": metrics["ScriptDuration"] * 1000,
        "task_ms": metrics["TaskDuration"] * 1000,
        "formulas": tab.evaluate("document.querySelectorAll('.katex').length"),
        "layout_ms": metrics["LayoutDuration"] * 1000,
        "style_ms": metrics["RecalcStyleDuration"] * 1000,
        "fcp_ms": tab.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"),
        "dcl_ms": tab.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"),
    }
    context.close()
    return result


def compare(browser, server_site: Path, client_site: Path, page: str) -> dict[str, dict]:
    results = {}
    for name, site in (("server", server_site), ("client", client_site)):
        server, url = serve(site)
        try:
            weight = page_weight.measure(browser, site, url, [page])[0]
            runs = [measure_once(browser, url + page) for _ in range(RUNS)]
        finally:
            server.shutdown()
        results[name] = {
            "requests": len(weight.requests),
            "gzip_kb": weight.total() / 1024,
            "gzip_kb_without_fonts": weight.gzip_kb_without_fonts,
            "js_gzip_kb": weight.total("js") / 1024,
            "js_raw_kb": weight.total("js", compressed=False) / 1024,
            **{key: statistics.median(r[key] for r in runs) for key in runs[0]},
        }
    return results


def report(results: dict[str, dict], page: str) -> list[str]:
    s, c = results["server"], results["client"]

    def ratio(key: str) -> str:
        return f"{c[key] / s[key]:.1f}×" if s[key] else "—"

    rows = [
        ("formulas typeset", "formulas", "{:.0f}"),
        ("requests", "requests", "{:.0f}"),
        ("bytes, gzip (all)", "gzip_kb", "{:.1f} KB"),
        ("bytes, gzip without fonts", "gzip_kb_without_fonts", "{:.1f} KB"),
        ("JavaScript downloaded, gzip", "js_gzip_kb", "{:.1f} KB"),
        ("JavaScript downloaded, raw", "js_raw_kb", "{:.1f} KB"),
        ("time running scripts", "script_ms", "{:.0f} ms"),
        ("style recalculation", "style_ms", "{:.0f} ms"),
        ("layout", "layout_ms", "{:.0f} ms"),
        ("first contentful paint", "fcp_ms", "{:.0f} ms"),
        ("DOMContentLoaded", "dcl_ms", "{:.0f} ms"),
        ("main-thread task time", "task_ms", "{:.0f} ms"),
        ("math typeset and fonts loaded", "math_ready_ms", "{:.0f} ms"),
        ("cumulative layout shift", "cls", "{:.3f}"),
    ]
    lines = [f"Page `/{page}`; phone viewport, {CPU_SLOWDOWN}× CPU slowdown, loopback network, median of {RUNS} loads.", "",
             "| measure | server-side KaTeX (this site) | arithmatex + client-side KaTeX | client / server |",
             "| --- | --- | --- | --- |"]
    for label, key, fmt in rows:
        lines.append(f"| {label} | {fmt.format(s[key])} | {fmt.format(c[key])} | {ratio(key) if key != 'cls' else '—'} |")
    return lines
