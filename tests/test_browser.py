"""Real-browser tests: Debian chromium driven by Playwright (no `playwright install`).

Every page load records all requests; any request that leaves 127.0.0.1 fails the test.
Screenshots of the exemplar page (light/dark × desktop/mobile) are written to
test-artifacts/screenshots/ for a developer to look at.
"""

from __future__ import annotations

import pytest

from conftest import ARTIFACTS, ROOT, Tab

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules/axe-core/axe.min.js"
SCREENSHOTS = ARTIFACTS / "screenshots"
EXEMPLAR = "transformer/attention/"
NOTEBOOK = "transformer/notebooks/softmax-saturation/"


# In-sentence words (findable only with jieba segmentation), compounds and a term in full-width brackets.
@pytest.mark.parametrize("query", ["饱和", "雅可比", "缩放点积注意力", "复杂度", "（softmax）"])
def test_chinese_query_finds_the_page(tab, query):
    page = tab.open("")
    page.keyboard.press("/")
    search = page.locator("input.md-search__input")
    search.wait_for(state="visible")
    page.wait_for_timeout(700)  # the search worker loads its index
    search.fill(query)
    search.press("End")  # Material searches on keyup
    result = page.locator("a.md-search-result__link").first
    result.wait_for(timeout=5000)
    hrefs = page.locator("a.md-search-result__link").evaluate_all("els => els.map(e => e.href)")
    assert any("/transformer/attention/" in h for h in hrefs), hrefs


def test_formula_is_rendered_with_local_katex_fonts(tab):
    page = tab.open(EXEMPLAR)
    assert page.locator(".katex").count() > 20
    assert page.locator(".katex-error").count() == 0
    assert page.locator(".katex-display").first.is_visible()
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px KaTeX_Main')")
    font_requests = [u for u in tab.requests if u.endswith(".woff2")]
    assert font_requests and all("/assets/katex/fonts/" in u for u in font_requests), font_requests


def test_palette_toggle_switches_to_dark(tab):
    page = tab.open(EXEMPLAR)
    for _ in range(3):  # system → light → dark
        if page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate":
            break
        page.locator("form[data-md-component=palette] label:visible").first.click()
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"


def test_deep_link_lands_on_the_question(tab):
    page = tab.open(EXEMPLAR + "#why-scale-sqrt-dk")
    heading = page.locator("#why-scale-sqrt-dk")
    assert "√d_k" in heading.inner_text()
    top = heading.evaluate("el => el.getBoundingClientRect().top")
    assert 0 <= top < 200, f"heading is at {top}px, not at the top of the viewport"


def test_notebook_page_shows_outputs_and_plot(tab):
    page = tab.open(NOTEBOOK)
    assert page.get_by_text("通过：", exact=False).first.is_visible()
    image = page.locator(".jp-RenderedImage img").first
    image.scroll_into_view_if_needed()
    assert image.evaluate("img => img.complete && img.naturalWidth > 300")
    assert image.get_attribute("alt"), "plot without alt text"
    assert page.locator("a[href$='.py'][download]").is_visible()


@pytest.mark.parametrize("path", ["", EXEMPLAR, NOTEBOOK, "about/"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(browser, site_url, path, scheme):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    tab = Tab(context.new_page(), site_url)
    page = tab.open(path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
    context.close()
    assert serious == [], "\n".join(serious)
    assert tab.third_party_requests() == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width, name", [(1280, "desktop"), (390, "mobile")])
def test_exemplar_screenshots(browser, site_url, scheme, width, name):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme, device_scale_factor=1)
    tab = Tab(context.new_page(), site_url)
    page = tab.open(EXEMPLAR + "#why-scale-sqrt-dk")
    page.evaluate("document.fonts.ready")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"attention-{scheme}-{name}.png"
    page.screenshot(path=str(target))
    # Display math never widens the page on a phone: it scrolls inside its own box.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    context.close()
    assert target.stat().st_size > 20_000
    assert overflow <= 0, f"page is {overflow}px wider than the {width}px viewport"
    assert tab.third_party_requests() == []
