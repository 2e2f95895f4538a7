"""Hook: give every content image its size and let the browser load it lazily.

Our figures are SVG files next to the pages (docs/<section>/img/*.svg). For each <img>
pointing at one, this adds width/height from the SVG's viewBox (so the page does not
shift when the figure arrives), loading="lazy" (figures below the fold are fetched
when the reader scrolls to them) and decoding="async". Attributes already on the tag
are kept. A figure whose file has no usable size fails the build, naming the file.
"""

from __future__ import annotations

import re
import posixpath
from pathlib import Path

from mkdocs.exceptions import PluginError

IMG = re.compile(r"<img\b[^>]*>")
SRC = re.compile(r'\ssrc="([^"]+)"')
SVG_TAG = re.compile(r"<svg\b[^>]*>", re.S)
VIEWBOX = re.compile(r'viewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"')


def svg_size(path: Path) -> tuple[int, int]:
    tag = SVG_TAG.search(path.read_text(encoding="utf-8"))
    box = VIEWBOX.search(tag.group(0)) if tag else None
    if not box:
        raise PluginError(f"{path}: the <svg> element needs a viewBox so the page can reserve its size")
    return round(float(box.group(1))), round(float(box.group(2)))


def on_page_content(html, page, config, files):
    # Links in the HTML are already relative to the page's URL (mkdocs rewrote them).
    page_url_dir = page.url if page.url.endswith("/") or not page.url else posixpath.dirname(page.url) + "/"

    def add_attributes(match: re.Match) -> str:
        tag = match.group(0)
        src = SRC.search(tag)
        if not src or ":" in src.group(1) or not src.group(1).endswith(".svg"):
            return tag  # data: URIs (notebook plots) and non-SVG images are left alone
        file = files.get_file_from_path(posixpath.normpath(page_url_dir + src.group(1)))
        if file is None:
            return tag  # a missing image is reported by the link checks (tools/check_site.py)
        width, height = svg_size(Path(file.abs_src_path))
        extra = ""
        for name, value in (("width", width), ("height", height), ("loading", "lazy"), ("decoding", "async")):
            if f" {name}=" not in tag:
                extra += f' {name}="{value}"'
        return tag[:4] + extra + tag[4:]

    return IMG.sub(add_attributes, html)
