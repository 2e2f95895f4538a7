"""Hook: executed notebooks, published next to the pages they support.

Sources live in the top-level ``notebooks/<section>/<name>.py`` (jupytext
percent format); they are published at ``/<section>/notebooks/<name>/``. The
mkdocs-jupyter plugin executes and converts them; this hook fills its gaps:

* places the notebooks in the site (``on_files``, before mkdocs-jupyter looks);
* an execution timeout per cell (mkdocs-jupyter has no option for it);
* Markdown cells: math in markdown-katex syntax rendered server-side with the
  same renderer as pages, bad TeX failing the build with the notebook's path
  (stray ``$x$`` math is caught by math_syntax.py);
* a cache key that also covers the code notebooks import (``interview_code/``)
  and the math macros, so a stale cached output is never published;
* Unicode heading ids and a TOC that links to them (mkdocs-jupyter emits
  ``id=""`` for Chinese headings); duplicate ids fail the build;
* no inline JupyterLab CSS or scripts on every page: one shared stylesheet
  (``assets/stylesheets/notebook.css``) is linked by overrides/main.html;
* download links for the ``.py`` source and an ``.ipynb`` copy, and an
  「编辑此页」 link that points at the real source file.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import jupytext
import markdown_katex.extension as mdkatex
import mkdocs_jupyter.convert
import mkdocs_jupyter.nbconvert2
import mkdocs_jupyter.plugin
from bs4 import BeautifulSoup
from jinja2 import pass_context
from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File
from mkdocs.structure.toc import get_toc
from nbconvert.exporters.html import HTMLExporter
from pymdownx.slugs import slugify

import katex_render
from common import ROOT, source_path

NOTEBOOK_DIR = ROOT / "notebooks"
CELL_TIMEOUT_SECONDS = int(os.environ.get("NB_CELL_TIMEOUT", "120"))
# Inputs a notebook's output depends on besides its own bytes.
CACHE_INPUTS = [ROOT / "interview_code", katex_render.MACRO_FILE, Path(__file__)]
SLUGIFY = slugify(case="lower")


def notebook_uri(path: Path) -> str:
    """notebooks/transformer/x.py -> transformer/notebooks/x.py (the page's docs-relative path)."""
    relative = path.relative_to(NOTEBOOK_DIR)
    return "/".join([*relative.parts[:-1], "notebooks", relative.name])


def is_notebook(page) -> bool:
    return page.file.abs_src_path is not None and Path(page.file.abs_src_path).resolve().is_relative_to(NOTEBOOK_DIR)


# --- placing notebooks in the site ------------------------------------------


@event_priority(100)  # before mkdocs-jupyter wraps notebook files
def _add_notebooks(files, config):
    for path in sorted(NOTEBOOK_DIR.rglob("*.py")):
        if "__pycache__" in path.parts or path.name.startswith("_"):
            continue
        files.append(File.generated(config, notebook_uri(path), abs_src_path=str(path)))
    return files


@event_priority(-100)  # after mkdocs-jupyter wrapped them
def _restore_source_paths(files, config):
    # mkdocs-jupyter's NotebookFile wrapper recomputes abs_src_path from src_dir,
    # which a generated file does not have; hand it the real path again.
    for file in files:
        inner = getattr(file, "file", None)
        if inner is not None and file.abs_src_path is None:
            file.abs_src_path = inner.abs_src_path
    return files


on_files = CombinedEvent(_add_notebooks, _restore_source_paths)


# --- execution: timeout, error naming, cache key ------------------------------

_original_get_app = mkdocs_jupyter.nbconvert2.get_nbconvert_app
_original_nb2html = mkdocs_jupyter.convert.nb2html
_original_cache_key = mkdocs_jupyter.plugin._compute_cache_key
_original_markdown2html = HTMLExporter.markdown2html


def _get_app_with_timeout(*args, **kwargs):
    app = _original_get_app(*args, **kwargs)
    app.config["ExecutePreprocessor"]["timeout"] = CELL_TIMEOUT_SECONDS
    return app


def _nb2html(nb_path, *args, **kwargs):
    where = source_path(nb_path)
    katex_render.current_source = where  # stray math was already checked by math_syntax.py
    try:
        return _original_nb2html(nb_path, *args, **kwargs)
    except (katex_render.MathError, PluginError):
        raise
    except Exception as error:  # CellExecutionError, timeouts, kernel deaths
        raise PluginError(f"Notebook {where} failed to execute:\n{error}") from error


def _cache_key(nb_path, config, exec_nb):
    hasher = hashlib.sha256(_original_cache_key(nb_path, config, exec_nb).encode())
    for root in CACHE_INPUTS:
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            if "__pycache__" not in path.parts:
                hasher.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return hasher.hexdigest()


@pass_context  # jinja hands the template context to this filter, like the original
def _markdown2html(self, context, source):
    """Render markdown-katex math in a Markdown cell before nbconvert sees it."""
    rendered = {}

    def keep(html: str) -> str:
        marker = f"KATEXMARKER{len(rendered)}X"
        rendered[marker] = html
        return marker

    def block(match):
        return "\n\n" + keep(katex_render.render_tex(match.group(2), display=True)) + "\n\n"

    source = re.sub(r"^(`{3,}|~{3,})math[ \t]*\n(.*?)\n\1[ \t]*$", block, source, flags=re.S | re.M)
    for item in reversed(list(mdkatex.iter_inline_katex(source))):
        tex = mdkatex._clean_inline_text(item.inline_text)
        source = source[: item.start] + keep(katex_render.render_tex(tex, display=False)) + source[item.end :]
    html = _original_markdown2html(self, context, source)
    for marker, math_html in rendered.items():
        html = html.replace(f"<p>{marker}</p>", math_html).replace(marker, math_html)
    return html


mkdocs_jupyter.nbconvert2.get_nbconvert_app = _get_app_with_timeout
mkdocs_jupyter.convert.nb2html = _nb2html
mkdocs_jupyter.plugin._compute_cache_key = _cache_key
HTMLExporter.markdown2html = _markdown2html


# --- the published page -------------------------------------------------------


def _fix_headings(soup: BeautifulSoup, where: str) -> list[dict]:
    """Give every heading a Unicode slug id and return TOC tokens for them."""
    seen: set[str] = set()
    tokens: list[dict] = []
    stack: list[dict] = []
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        for link in heading.select("a.anchor-link"):
            link.decompose()
        text = heading.get_text(" ", strip=True)
        anchor = SLUGIFY(text, "-")
        if not anchor:
            raise PluginError(f"{where}: heading {text!r} has no usable id")
        if anchor in seen:
            raise PluginError(f"{where}: duplicate heading id {anchor!r} ({text!r})")
        seen.add(anchor)
        heading["id"] = anchor
        permalink = soup.new_tag("a", attrs={"class": "headerlink", "href": f"#{anchor}", "title": "本节链接"})
        permalink.string = "¶"
        heading.append(permalink)
        token = {"level": int(heading.name[1]), "id": anchor, "name": text, "children": []}
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
    return tokens


STYLE_AND_SCRIPT = re.compile(r"<(style|script)\b[^>]*>.*?</\1\s*>", re.S | re.I)


def _use_material_code_blocks(soup: BeautifulSoup) -> None:
    """Style notebook code like the rest of the site and drop nbconvert's JS-only bits.

    One pass over the elements (CSS selectors over the whole tree cost seconds per build)."""
    for div in soup.find_all(True):
        if vars(div).get("_decomposed"):
            continue  # inside a removed widget (Tag.decomposed would search the subtree for "_decomposed")
        classes = div.get("class") or []
        if "zeroclipboard-container" in classes or "clipboard-copy-txt" in classes:
            div.decompose()  # nbconvert's copy button needs its own script; Material adds one
            continue
        if div.get("id", "").startswith("cell-id="):
            del div["id"]  # random per conversion: not a stable link target
        if div.get("tabindex") == "0" and ("jp-Cell-inputWrapper" in classes or "jp-Cell-outputWrapper" in classes):
            del div["tabindex"]
        if "highlight-ipynb" in classes:
            div["class"] = ["highlight"]
            pre = div.find("pre")
            if pre is not None and pre.find("code", recursive=False) is None:
                code = soup.new_tag("code")
                for child in list(pre.contents):
                    code.append(child.extract())
                pre.append(code)


def _describe_plots(soup: BeautifulSoup) -> None:
    """nbconvert's alt text says nothing ("No description has been provided"); name the section instead."""
    title = soup.find("h1")
    heading = None  # the nearest heading before the image, found in one pass in document order
    for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "img"]):
        if tag.name != "img":
            heading = tag
        elif tag.find_parent(class_="jp-RenderedImage") is not None:
            parts = [h.get_text(" ", strip=True).rstrip("¶").strip() for h in (title, heading) if h is not None]
            tag["alt"] = "notebook 生成的图：" + " · ".join(dict.fromkeys(parts))


def on_page_content(html, page, config, files):
    if not is_notebook(page):
        return html
    where = source_path(page.file.abs_src_path, page.file.src_uri)
    # Search lands on the topic page first; the notebook that supports it ranks below.
    page.meta.setdefault("search", {}).setdefault("boost", 0.3)
    # JupyterLab's ~600 KB of CSS and nbconvert's scripts (clipboard, an empty
    # MathJax tag): the shared notebook.css and Material's own code copy serve.
    # Cut before parsing: the parser then reads a fifth of the text.
    soup = BeautifulSoup(STYLE_AND_SCRIPT.sub("", html), "html.parser")
    _use_material_code_blocks(soup)
    page.toc = get_toc(_fix_headings(soup, where))
    _describe_plots(soup)
    stem = Path(page.file.abs_src_path).stem
    actions = BeautifulSoup(
        '<p class="notebook-downloads">'
        f'<a class="md-button" href="{stem}.py" download>下载源码（.py，jupytext）</a> '
        f'<a class="md-button" href="{stem}.ipynb" download>下载 .ipynb</a></p>',
        "html.parser",
    )
    first_heading = soup.find("h1")
    if first_heading is not None:
        first_heading.insert_after(actions)
    else:
        soup.insert(0, actions)
    return str(soup)


def on_page_context(context, page, config, nav):
    if is_notebook(page) and config.repo_url:
        relative = Path(page.file.abs_src_path).resolve().relative_to(ROOT).as_posix()
        page.edit_url = f"{config.repo_url.rstrip('/')}/edit/main/{relative}"
    return context


def on_post_page(output, page, config):
    if is_notebook(page):
        # mkdocs-jupyter copies the .py source (include_source); add an .ipynb
        # (inputs only) for readers who open notebooks in Jupyter directly.
        target = Path(page.file.abs_dest_path).parent / (Path(page.file.abs_src_path).stem + ".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(jupytext.read(page.file.abs_src_path), target, fmt="ipynb")
    return output
