"""Project instructions: Markdown rendered to HTML that is safe to show (nh3 keeps only
harmless tags and attributes, so a project's text cannot run script in a worker's page)."""

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_instructions(text: str) -> str:
    return nh3.clean(_MARKDOWN.render(text or ""), link_rel="noopener noreferrer nofollow")
