"""Shared fixtures: the real site built once per test session, and a loopback server for it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
BUILD_ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT),
    "DISABLE_MKDOCS_2_WARNING": "true",
    "NO_MKDOCS_2_WARNING": "1",
}
sys.path.insert(0, str(ROOT / "hooks"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import static_server  # noqa: E402  (tools/static_server.py)


def run_mkdocs(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args],
        cwd=cwd,
        env=BUILD_ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="session")
def _server(tmp_path_factory):
    """A loopback server on a free port (gzip and 404.html, like GitHub Pages); the site is built for exactly this URL."""
    root = tmp_path_factory.mktemp("site")
    server, url = static_server.serve(root)
    yield root, url
    server.shutdown()


@pytest.fixture(scope="session")
def site(_server) -> Path:
    """The whole site, built with --strict exactly as CI and the deploy job build it."""
    out, url = _server
    env = {**BUILD_ENV, "SITE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, f"strict build failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="session")
def site_url(site, _server) -> str:
    """The URL the built site is served at on 127.0.0.1 (its site_url)."""
    return _server[1]


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class Tab:
    """A page plus every URL it requested."""

    def __init__(self, page: Page, base: str):
        self.page, self.base, self.requests = page, base, []
        page.on("request", lambda request: self.requests.append(request.url))

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path, wait_until="networkidle")
        return self.page

    def third_party_requests(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).hostname not in ("127.0.0.1", None) and not u.startswith("data:")]


@pytest.fixture
def tab(browser, site_url):
    """A desktop-sized tab in the light palette; fails the test if any request left the site."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    tab = Tab(context.new_page(), site_url)
    yield tab
    assert tab.third_party_requests() == [], "requests left the site"
    context.close()


def pytest_sessionfinish(session, exitstatus):
    """A skipped test is not a passing test: fail the run if anything was skipped."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"{len(skipped)} test(s) skipped: skips count as failures here", red=True)
        session.exitstatus = 1
