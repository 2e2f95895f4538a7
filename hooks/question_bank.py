"""Hook: generate the question bank (resources/question-bank) from the pages themselves.

Every question heading on every page (see question_anchors.py) becomes an entry,
grouped by section and page, linking to ``/page/#anchor``, with its short answer
(the paragraph marked ``{: .short-answer }``) folded underneath for self-testing.
Optional attributes on the heading add tags and a source credit::

    ## 怎么手写缩放点积注意力？ {#implement-sdpa data-tags="手撕代码 高频" data-source="阿里云大模型面经（知乎）"}

Nothing is maintained by hand: a new question on any page appears in the bank on
the next build. The page is a generated Markdown file, so links are validated by
``mkdocs build --strict`` and formulas in short answers are rendered like anywhere else.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

from question_anchors import question_headings

BANK_URI = "resources/question-bank.md"
ATTRIBUTE = re.compile(r'data-(tags|source)="([^"]*)"')
ATTR_LIST = re.compile(r"\s*\{[^}]*\}\s*$")
SHORT_ANSWER_MARK = re.compile(r"^\{:\s*\.short-answer\s*\}\s*$")
ANSWER_LABEL = re.compile(r"^\*\*简答\*\*[：:]\s*")
LINK_TARGET = re.compile(r"(\]\()([^)\s]+)(\))")
# Public 面经 that questions come from: credited with a link in the bank.
SOURCE_LINKS = {
    "Rooters": "https://zhuanlan.zhihu.com/p/657826357",
    "阿里云大模型面经": "https://zhuanlan.zhihu.com/p/27142695576",
    "wdndev/llm_interview_note": "https://github.com/wdndev/llm_interview_note",
}
FRONT_MATTER = re.compile(r"^---\n.*?\n---\n", re.S)
TITLE = re.compile(r"^#\s+(.+)$", re.M)


@dataclass
class Question:
    anchor: str
    text: str
    answer: str
    tags: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class PageQuestions:
    uri: str
    title: str
    questions: list[Question]


def _short_answer(lines: list[str], start: int) -> str:
    """The paragraph after a question heading, if it is marked as the short answer."""
    paragraph: list[str] = []
    for line in lines[start:]:
        if SHORT_ANSWER_MARK.match(line):
            return ANSWER_LABEL.sub("", "\n".join(paragraph).strip())
        if not line.strip():
            if paragraph:
                break
            continue
        if line.startswith("#"):
            break
        paragraph.append(line)
    return ""


def collect(uri: str, markdown: str) -> PageQuestions | None:
    body = FRONT_MATTER.sub("", markdown, count=1)
    offset = markdown.count("\n", 0, len(markdown) - len(body))
    lines = markdown.splitlines()
    questions = []
    for number, text, anchor in question_headings(body):
        if anchor is None:
            continue  # question_anchors.py fails the build for it
        attributes = dict(ATTRIBUTE.findall(text))
        questions.append(
            Question(
                anchor=anchor,
                text=ATTR_LIST.sub("", text).strip(),
                answer=rebase_links(_short_answer(lines, number + offset), uri),
                tags=attributes.get("tags", "").split(),
                source=attributes.get("source", ""),
            )
        )
    if not questions:
        return None
    title_match = re.search(r"^title:\s*(.+)$", markdown[: len(markdown) - len(body)], re.M) or TITLE.search(body)
    return PageQuestions(uri, title_match.group(1).strip() if title_match else uri, questions)


def rebase_links(answer: str, page_uri: str) -> str:
    """Links in a short answer are relative to its page; make them relative to the bank."""

    def rebase(match: re.Match) -> str:
        target = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", target):
            return match.group(0)  # absolute URL or site-absolute path
        if target.startswith("#"):
            target = posixpath.basename(page_uri) + target
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), target))
        return f"{match.group(1)}../{resolved}{match.group(3)}"

    return LINK_TARGET.sub(rebase, answer)


def _credit(source: str) -> str:
    parts = []
    for part in source.split("；"):
        url = next((u for key, u in SOURCE_LINKS.items() if part.startswith(key)), None)
        parts.append(f'<a href="{url}">{part}</a>' if url else part)
    return "；".join(parts)


def render(pages: list[PageQuestions], section_titles: dict[str, str]) -> str:
    total = sum(len(p.questions) for p in pages)
    sections: dict[str, list[PageQuestions]] = {}
    for page in pages:
        parts = PurePosixPath(page.uri).parts
        sections.setdefault(parts[0] if len(parts) > 1 else "misc", []).append(page)
    out = [
        "---",
        "title: 题库",
        "description: 全站所有面试题，按章节和页面分组，可折叠简答用于自测。",
        # Not in the search index: it repeats every question and short answer, and a
        # search should land the reader on the topic page that holds the full answer.
        "search:",
        "  exclude: true",
        "---",
        "",
        "# 题库",
        "",
        f"全站共 **{total}** 道题，来自 {len(pages)} 个页面。每道题的标题链接到完整答案；"
        "先自己回答，再点开「简答」对照；也可以「随机抽一题」。本页由各页面自动生成，新增的题目会自动出现在这里。",
        "",
        '<div class="bank-controls" hidden>',
        '<button type="button" class="md-button" data-bank-action="expand">显示全部</button>',
        '<button type="button" class="md-button" data-bank-action="collapse">隐藏全部</button>',
        '<label>范围 <select data-bank-scope><option value="">全部章节</option>'
        + "".join(f'<option value="{key}">{section_titles.get(key, key)}</option>' for key in sections)
        + "</select></label>",
        '<button type="button" class="md-button md-button--primary" data-bank-action="random">随机抽一题</button>',
        "</div>",
        "",
    ]
    for key, section_pages in sections.items():
        count = sum(len(p.questions) for p in section_pages)
        out += [f"## {section_titles.get(key, key)}（{count}） {{#bank-{key}}}", ""]
        for page in section_pages:
            link = "../" + page.uri
            out += [f"### [{page.title}]({link})", ""]
            for question in page.questions:
                labels = "".join(f' <span class="bank-tag">{tag}</span>' for tag in question.tags)
                source = f'<p class="bank-source">来源：{_credit(question.source)}</p>\n\n' if question.source else ""
                out += [
                    f'<div class="bank-question" data-section="{key}" markdown="1">',
                    f'<p class="bank-q" markdown="span">[{question.text}]({link}#{question.anchor}){{: .bank-link }}{labels}</p>',
                    "",
                    '<details markdown="1">',
                    "<summary>简答</summary>",
                    "",
                    question.answer or "（这道题还没有简答，请看原页面。）",
                    "",
                    source + "</details>",
                    "</div>",
                    "",
                ]
    return "\n".join(out)


def _nav_order(config) -> list[str]:
    order: list[str] = []

    def walk(items):
        for item in items or []:
            if isinstance(item, str):
                order.append(item)
            elif isinstance(item, dict):
                for value in item.values():
                    walk(value) if isinstance(value, list) else order.append(value)

    walk(config.nav)
    return order


def _section_titles(config) -> dict[str, str]:
    titles = {"misc": "其他"}
    for item in config.nav or []:
        if isinstance(item, dict):
            for title, children in item.items():
                if isinstance(children, list):
                    for child in children:
                        uri = child if isinstance(child, str) else next(iter(child.values()), "")
                        if isinstance(uri, str) and "/" in uri:
                            titles[uri.split("/")[0]] = title
                            break
    return titles


@event_priority(-50)  # after notebooks are placed; before pages are read
def on_files(files, config):
    pages = []
    order = {uri: index for index, uri in enumerate(_nav_order(config))}
    for file in sorted(files.documentation_pages(), key=lambda f: (order.get(f.src_uri, len(order)), f.src_uri)):
        if file.src_uri == BANK_URI or not file.src_uri.endswith(".md"):
            continue
        found = collect(file.src_uri, file.content_string)
        if found:
            pages.append(found)
    files.append(File.generated(config, BANK_URI, content=render(pages, _section_titles(config))))
    return files
