"""Server-side math renderer used by the build (a plain module, not a hook).

markdown-katex finds ``$`...`$`` and ```` ```math ```` blocks and calls
``markdown_katex.wrapper.tex2html`` for each formula. Upstream, that spawns one
process per formula (about 2 s each where ``npx`` exists) and keeps a temp-dir
cache that ignores the macro file. hooks/katex_math.py replaces it with
``render_tex`` below:

* one long-lived ``node hooks/katex_worker.js`` process using the npm ``katex``
  package pinned in package-lock.json (the same 0.15.1 that markdown-katex
  bundles, and the same version whose CSS and fonts the site serves);
* a disk cache in ``.cache/katex/`` keyed on the KaTeX version, the macro file's
  contents, the display flag and the TeX source, so it survives between builds
  and a changed macro file or KaTeX upgrade invalidates it;
* an error that names the page (or notebook) being rendered.

The rendered ``<span class="katex">`` gets ``data-search-exclude`` so formulas do
not flood Material's search index (they would enter it three times otherwise).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import subprocess

from common import ROOT

WORKER = ROOT / "hooks" / "katex_worker.js"
MACRO_FILE = ROOT / "hooks" / "katex_macros.txt"
KATEX_PACKAGE = ROOT / "node_modules" / "katex" / "package.json"
CACHE_DIR = ROOT / ".cache" / "katex"

# Which document is being rendered, so that an error can name it. Set by
# hooks/katex_math.py for pages and by hooks/notebooks.py for notebook cells.
current_source = "<unknown>"


class MathError(Exception):
    """Invalid TeX (or a broken KaTeX install). The message names the file."""


def _katex_version() -> str:
    if not KATEX_PACKAGE.exists():
        raise MathError(
            f"KaTeX is not installed ({KATEX_PACKAGE} missing): run `make setup` (npm ci)."
        )
    return json.loads(KATEX_PACKAGE.read_text(encoding="utf-8"))["version"]


def read_macros() -> dict[str, str]:
    """The shared TeX macros (katex_macros.txt, one `\\name:body` per line)."""
    macros = {}
    for line in MACRO_FILE.read_text(encoding="utf-8").splitlines():
        name, sep, body = line.partition(":")
        if sep and name.strip():
            macros[name.strip()] = body.strip()
    return macros


class _Renderer:
    def __init__(self) -> None:
        self.version = _katex_version()
        self.macros = read_macros()
        salt = json.dumps([self.version, self.macros], sort_keys=True)
        self.salt = hashlib.sha256(salt.encode("utf-8")).hexdigest()
        self.proc: subprocess.Popen | None = None

    def _worker(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                ["node", str(WORKER)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
            atexit.register(self.close)
        return self.proc

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)

    def render(self, tex: str, display: bool) -> str:
        key = hashlib.sha256(f"{self.salt}\0{int(display)}\0{tex}".encode("utf-8")).hexdigest()
        path = CACHE_DIR / key[:2] / f"{key}.html"
        if path.exists():
            return path.read_text(encoding="utf-8")
        proc = self._worker()
        request = {"tex": tex, "display": display, "macros": self.macros}
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise MathError(f"{current_source}: the KaTeX worker exited unexpectedly")
        answer = json.loads(line)
        if "error" in answer:
            raise MathError(
                f"{current_source}: invalid TeX {tex.strip()!r}: {answer['error']}"
            )
        html = _exclude_from_search(answer["html"])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)  # atomic: a killed build never leaves half an entry
        return html


def _exclude_from_search(html: str) -> str:
    return html.replace('<span class="katex">', '<span class="katex" data-search-exclude>', 1)


_renderer: _Renderer | None = None


def reset() -> None:
    """Forget the renderer so the next formula re-reads the macro file (mkdocs serve rebuilds)."""
    global _renderer
    if _renderer is not None:
        _renderer.close()
    _renderer = None


def render_tex(tex: str, display: bool) -> str:
    """Render one formula to HTML (used by markdown-katex and by notebook cells)."""
    global _renderer
    if _renderer is None:
        _renderer = _Renderer()
    return _renderer.render(tex, display)
