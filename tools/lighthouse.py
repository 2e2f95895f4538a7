"""Run Lighthouse (npm `lighthouse`, pinned in package-lock.json) against a served page.

Uses Debian's chromium (CHROME_PATH); mobile is Lighthouse's default profile (Moto G
Power viewport, simulated slow 4G, 4x CPU slowdown), desktop is `--preset=desktop`.

    python tools/lighthouse.py http://127.0.0.1:8000/transformer/attention/ [mobile|desktop]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def run(url: str, profile: str = "mobile", categories: tuple[str, ...] = CATEGORIES) -> dict:
    """The Lighthouse report (parsed JSON) for one URL; raises with Lighthouse's output on failure."""
    if profile not in ("mobile", "desktop"):
        raise ValueError(f"unknown profile {profile!r}")
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        out = Path(tmp) / "report.json"
        args = [
            str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
            f"--only-categories={','.join(categories)}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
        ]
        if profile == "desktop":
            args.append("--preset=desktop")
        result = subprocess.run(args, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True,
                                text=True, timeout=300)
        if result.returncode != 0 or not out.exists():
            raise RuntimeError(f"lighthouse failed on {url} ({profile}):\n{result.stdout}\n{result.stderr}")
        return json.loads(out.read_text(encoding="utf-8"))


def version() -> str:
    return json.loads((ROOT / "node_modules" / "lighthouse" / "package.json").read_text(encoding="utf-8"))["version"]


def scores(report: dict) -> dict[str, int]:
    """Category scores as Lighthouse shows them (0-100)."""
    return {name: round(category["score"] * 100) for name, category in report["categories"].items()}


def failed_audits(report: dict, category: str) -> list[str]:
    """The audits that cost points in a category, for a readable test failure."""
    failed = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
            failed.append(f"{audit['id']}: {audit['title']}")
    return failed


if __name__ == "__main__":
    report = run(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "mobile")
    print(scores(report))
