"""The whole benchmark in one command: `make bench` (writes bench-report.md).

Works on a throw-away copy of the repository (the files git tracks plus the working
tree's changes to them), so the developer's own caches are neither used nor destroyed.

1. Build: cold (empty notebook and KaTeX caches), warm (caches hot), rebuild after
   editing one page; where a warm build spends its time (tools/build_profile.py).
2. Page weight of every page against budgets.toml (tools/page_weight.py).
3. Lighthouse, all four categories, mobile and desktop, on the home page, the topic
   page with the most formulas and the largest notebook page (tools/lighthouse.py).
4. Server-side KaTeX vs arithmatex + client-side KaTeX on the math-heaviest page
   (tools/bench_math.py).
5. Search: index size, and for 20 typed Chinese queries the time from keyup to results.

Usage: python tools/bench.py [--report bench-report.md] [--skip-cold]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_math  # noqa: E402
import lighthouse  # noqa: E402
import page_weight  # noqa: E402
from static_server import gzip_body, serve  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
EDITED_PAGE = "docs/transformer/attention.md"

# Typed the way a reader would: topic words, in-sentence words and compounds.
QUERIES = ["注意力", "缩放点积", "多头注意力", "位置编码", "旋转位置编码", "层归一化", "残差连接", "激活函数",
           "混合专家", "分词", "显存", "分布式训练", "学习率预热", "低秩", "强化学习", "量化", "幻觉", "复读机",
           "解码策略", "梯度消失"]


def copy_repository(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    return dest


def timed_build(repo: Path, site_url: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"], cwd=repo, check=True,
                   env={**ENV, "PYTHONPATH": str(repo), "SITE_URL": site_url},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def profiled_build(repo: Path, site_url: str) -> dict:
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "build_profile.py"), "site"], cwd=repo, check=True,
                            env={**ENV, "PYTHONPATH": str(repo), "SITE_URL": site_url},
                            capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def gzip_size(path: Path) -> int:
    return len(gzip_body(path.read_bytes()))


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


SEARCH_PROBE = """
window.__t0 = null; window.__t1 = null;
document.addEventListener("keyup", e => {
  if (e.target.matches("[data-md-component=search-query]")) window.__t0 = performance.now();
}, true);
new MutationObserver(() => {
  if (window.__t0 !== null && window.__t1 === null)
    requestAnimationFrame(() => { if (window.__t1 === null) window.__t1 = performance.now(); });
}).observe(document.querySelector(".md-search-result"), {childList: true, subtree: true, characterData: true});
"""


def search_latency(browser, url: str) -> dict:
    """Milliseconds from the keyup that completes a query to the results being painted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(url, wait_until="networkidle")
    box = tab.locator("input.md-search__input")
    start = time.perf_counter()
    box.click()  # the index download starts here (search on demand)
    tab.evaluate(SEARCH_PROBE)
    box.press_sequentially("注意")
    box.press("End")
    tab.locator("a.md-search-result__link").first.wait_for(timeout=30000)
    first_search_ms = (time.perf_counter() - start) * 1000
    latencies = {}
    for query in QUERIES:
        box.fill("")
        box.press("End")
        tab.wait_for_timeout(300)
        tab.evaluate("window.__t0 = null; window.__t1 = null")
        box.fill(query)
        box.press("End")  # Material searches on keyup
        tab.wait_for_function("window.__t0 !== null && window.__t1 !== null", timeout=10000)
        latencies[query] = (tab.evaluate("window.__t1 - window.__t0"), tab.locator("a.md-search-result__link").count())
    context.close()
    times = sorted(t for t, _ in latencies.values())
    return {"first_search_ms": first_search_ms, "per_query": latencies, "p50": statistics.median(times),
            "p95": statistics.quantiles(times, n=20, method="inclusive")[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default="bench-report.md")
    parser.add_argument("--skip-cold", action="store_true", help="reuse the repository's caches (faster, no cold build)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        repo = copy_repository(Path(tmp) / "repo")
        if args.skip_cold and (ROOT / ".cache").exists():
            shutil.copytree(ROOT / ".cache", repo / ".cache")
        site = repo / "site"
        site.mkdir()
        server, url = serve(site)
        cold = timed_build(repo, url)
        warm = timed_build(repo, url)
        profile = profiled_build(repo, url)
        page = repo / EDITED_PAGE
        page.write_text(page.read_text(encoding="utf-8") + "\n本行由 bench 添加。\n", encoding="utf-8")
        edited = timed_build(repo, url)
        pages = page_weight.representative_pages(site)

        client_site = Path(tmp) / "client-site"
        client_repo = copy_repository(Path(tmp) / "client-repo")
        bench_math.build_client_variant(client_repo, pages["math-heaviest"], client_site)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=page_weight.CHROMIUM,
                                                 args=["--no-sandbox", "--disable-gpu"])
            weights = page_weight.measure(browser, site, url, page_weight.site_pages(site))
            math = bench_math.compare(browser, site, client_site, pages["math-heaviest"])
            search = search_latency(browser, url)
            browser.close()
        reports = {(name, profile_name): lighthouse.run(url + path, profile_name)
                   for name, path in pages.items() for profile_name in ("mobile", "desktop")}
        server.shutdown()
        index = site / "search" / "search_index.json"
        index_ascii = json.dumps(json.loads(index.read_text(encoding="utf-8"))).encode()
        index_bytes, index_gzip = index.stat().st_size, gzip_size(index)
        site_bytes = dir_size(site)
        html_pages = len(page_weight.site_pages(site))

    budgets = page_weight.load_budgets()
    problems = [p for w in weights for p in page_weight.over_budget(w, budgets)]
    kb = lambda n: f"{n / 1024:.1f} KB"  # noqa: E731
    lines = [
        "# Benchmark report", "",
        f"Machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; {html_pages} HTML pages; "
        f"date {time.strftime('%Y-%m-%d %H:%M')}.", "",
        "## 1. Build", "",
        "| build | seconds |", "| --- | --- |",
        f"| cold (empty notebook and KaTeX caches{', skipped: caches copied' if args.skip_cold else ''}) | {cold:.1f} |",
        f"| warm (caches hot) | {warm:.1f} |",
        f"| rebuild after editing `{EDITED_PAGE}` | {edited:.1f} |", "",
        f"Where a warm build's {profile['total']:.1f} s go (plugin and hook events, wall-clock; the rest is MkDocs "
        "itself: Markdown, templates, writing files):", "",
        "| event | seconds |", "| --- | --- |",
        *[f"| `{name}` | {seconds:.2f} |" for name, seconds in list(profile["events"].items())[:8]], "",
        "## 2. Page weight (first visit, phone viewport; budgets.toml)", "",
        f"Site: {kb(site_bytes)} ({site_bytes / 2**20:.1f} MiB). Over budget: {len(problems)} page(s). "
        + ("; ".join(problems) if problems else "Every page is within its budget."), "",
    ]
    by_type: dict[str, list[page_weight.PageWeight]] = {}
    for w in weights:
        by_type.setdefault(w.page_type, []).append(w)
    lines += ["| page type | pages | budget: requests / KB gzip w/o fonts | requests (max) | gzip w/o fonts (median / max) | fonts (max) | third-party |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for kind, ws in by_type.items():
        b = budgets[kind]
        gz = [w.gzip_kb_without_fonts for w in ws]
        lines.append(f"| {kind} | {len(ws)} | {b['max_requests']} / {b['max_gzip_kb_without_fonts']} | "
                     f"{max(len(w.requests) for w in ws)} | {statistics.median(gz):.1f} / {max(gz):.1f} KB | "
                     f"{max(w.font_kb for w in ws):.1f} KB | {sum(len(w.third_party) for w in ws)} |")
    chosen = {path: name for name, path in pages.items()}
    lines += ["", "The three pages Lighthouse looks at:", "", *page_weight.table([w for w in weights if w.page in chosen]), ""]
    lines += [f"## 3. Lighthouse {lighthouse.version()} (simulated throttling; performance varies a few points run to run)", "",
              "| page | profile | performance | accessibility | best practices | SEO | FCP | LCP | TBT | CLS |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (name, profile_name), report in reports.items():
        s = lighthouse.scores(report)
        a = report["audits"]
        metric = lambda key: a[key]["displayValue"].replace("\xa0", " ")  # noqa: E731
        lines.append(f"| {name} `/{pages[name]}` | {profile_name} | {s['performance']} | {s['accessibility']} | "
                     f"{s['best-practices']} | {s['seo']} | {metric('first-contentful-paint')} | "
                     f"{metric('largest-contentful-paint')} | {metric('total-blocking-time')} | "
                     f"{metric('cumulative-layout-shift')} |")
    lines += ["", "## 4. Math: server-side KaTeX vs arithmatex + client-side KaTeX", "",
              *bench_math.report(math, pages["math-heaviest"]), ""]
    lines += ["## 5. Search", "",
              f"- Index as Material writes it (ASCII escapes): {kb(len(index_ascii))} raw, {kb(len(gzip_body(index_ascii)))} gzip; "
              f"as published (UTF-8, hooks/search_index_utf8.py): {kb(index_bytes)} raw, {kb(index_gzip)} gzip.",
              "- Downloaded only when the reader starts a search (overrides/partials/search-on-demand.html).",
              f"- First search on a fresh page (click into the box, download and build the index, type 注意 and see results): "
              f"{search['first_search_ms']:.0f} ms.",
              f"- Keyup → results painted, {len(QUERIES)} queries (index ready): **p50 {search['p50']:.0f} ms, "
              f"p95 {search['p95']:.0f} ms**.", "",
              "| query | ms | results |", "| --- | --- | --- |",
              *[f"| {q} | {t:.0f} | {n} |" for q, (t, n) in search["per_query"].items()], ""]
    report_text = "\n".join(lines)
    Path(args.report).write_text(report_text, encoding="utf-8")
    print(report_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
