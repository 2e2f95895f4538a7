"""Performance and quality budgets, enforced where they are deterministic.

* Page weight: every page of the built site, first visit, against budgets.toml.
* Lighthouse accessibility, best practices and SEO must be 100 on the home page, the
  topic page with the most formulas and the largest notebook page, mobile and desktop.
  (Lighthouse performance varies by a few points run to run: `make bench` reports it.)
* Search starts on demand: no worker or index download until the reader searches.
"""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT, Tab

sys.path.insert(0, str(ROOT / "tools"))
import lighthouse  # noqa: E402
import page_weight  # noqa: E402

pytestmark = pytest.mark.browser

SEARCH_DOWNLOADS = ("search/search_index.json", "/workers/search.")


def search_requests(tab: Tab) -> list[str]:
    return [u for u in tab.requests if any(s in u for s in SEARCH_DOWNLOADS)]


# --- page weight ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def weights(browser, site, site_url):
    return page_weight.measure(browser, site, site_url, page_weight.site_pages(site))


def test_every_page_is_within_its_budget(weights):
    budgets = page_weight.load_budgets()
    problems = [p for w in weights for p in page_weight.over_budget(w, budgets)]
    assert not problems, "over budget (see budgets.toml):\n" + "\n".join(problems)


def test_weights_cover_every_page_type(weights, site):
    types = {w.page_type for w in weights}
    assert types == set(page_weight.load_budgets()), types
    assert len(weights) == len(page_weight.site_pages(site)) > 50


def test_math_page_budget_is_the_issue_target():
    math = page_weight.load_budgets()["math-page"]
    assert math["max_gzip_kb_without_fonts"] <= 125
    assert math["max_requests"] <= 15
    assert all(b["max_third_party_requests"] == 0 for b in page_weight.load_budgets().values())


def test_budget_check_names_the_page_and_the_limit():
    heavy = page_weight.PageWeight("x/heavy/", "math-page", [
        page_weight.Request("/x/heavy/", "html", 900_000, 200_000),
        *[page_weight.Request(f"/f{i}.woff2", "font", 30_000, 30_000) for i in range(16)],
    ], ["https://cdn.example.com/a.js"])
    problems = page_weight.over_budget(heavy, page_weight.load_budgets())
    text = "\n".join(problems)
    assert len(problems) == 4, text
    assert "/x/heavy/" in text and "17 requests > 15" in text and "third-party" in text


def test_first_load_counts_what_the_browser_fetched(weights):
    """The measurement itself: the math-heavy page really loads KaTeX fonts and CSS, no search index."""
    by_page = {w.page: w for w in weights}
    attention = by_page["transformer/attention/"]
    paths = [r.path for r in attention.requests]
    assert any(p.endswith("katex.min.css") for p in paths) and attention.total("font") > 0
    assert not any(s in p for p in paths for s in SEARCH_DOWNLOADS), paths
    html = next(r for r in attention.requests if r.kind == "html")
    assert 0 < html.gzip < html.raw


# --- Lighthouse -------------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["mobile", "desktop"])
@pytest.mark.parametrize("which", ["home", "math-heaviest", "notebook"])
def test_lighthouse_quality_scores_are_100(site, site_url, which, profile):
    page = page_weight.representative_pages(site)[which]
    report = lighthouse.run(site_url + page, profile, ("accessibility", "best-practices", "seo"))
    scores = lighthouse.scores(report)
    failures = {c: lighthouse.failed_audits(report, c) for c, s in scores.items() if s < 100}
    assert scores == {"accessibility": 100, "best-practices": 100, "seo": 100}, f"/{page} {profile}: {failures}"


# --- search on demand ---------------------------------------------------------------------

def test_search_downloads_nothing_until_the_reader_searches(tab):
    page = tab.open("transformer/attention/")
    page.wait_for_timeout(500)
    assert search_requests(tab) == []
    page.keyboard.press("/")
    search = page.locator("input.md-search__input")
    search.fill("缩放点积注意力")
    search.press("End")  # Material searches on keyup
    page.locator("a.md-search-result__link").first.wait_for(timeout=10000)
    assert len(search_requests(tab)) == 2, search_requests(tab)


def test_clicking_the_search_box_starts_search(tab):
    page = tab.open("")
    page.locator("input.md-search__input").click()
    page.keyboard.type("KV")
    page.locator("a.md-search-result__link").first.wait_for(timeout=10000)


def test_shared_search_link_opens_results(tab):
    page = tab.open("?q=%E5%A4%9A%E5%A4%B4%E6%B3%A8%E6%84%8F%E5%8A%9B")  # ?q=多头注意力 (search.share)
    page.locator("a.md-search-result__link").first.wait_for(timeout=10000)
    hrefs = page.locator("a.md-search-result__link").evaluate_all("els => els.map(e => e.href)")
    assert any("/transformer/multi-head-attention/" in h for h in hrefs), hrefs


def test_search_index_is_utf8_json(site):
    raw = (site / "search" / "search_index.json").read_bytes()
    assert "注意力".encode() in raw and b"\\u6ce8" not in raw


def test_question_bank_is_not_indexed_twice(site):
    """The bank repeats every short answer; search results point at the topic pages instead."""
    import json
    docs = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    assert not [d for d in docs if d["location"].startswith("resources/question-bank/")]
    assert any(d["location"].startswith("transformer/attention/") for d in docs)
