"""A Jekyll post made inert for Liquid: its body in one `{% raw %}` block that nothing closes early.

Jekyll runs Liquid over every post before kramdown sees it, so `{{ site.secret }}` in a note
would publish a config value and an unclosed `{% if %}` would fail the whole site build.
`render_with_liquid: false` works only on Jekyll 4, not on GitHub Pages; a raw block works on
both. Liquid ends a raw block at the first tag whose name is `endraw`, so each `{%` that could
start one inside the body is written as Liquid output instead (`{{ "{%" }}`, between a close
and a reopen): the rendered page shows the note's text unchanged. Import undoes both.
"""

from __future__ import annotations

import re

RAW_OPEN = "{% raw %}"
RAW_CLOSE = "{% endraw %}"
# `{%`, Liquid's optional `-`, any whitespace (newlines too), then the tag name `endraw`.
# Liquid compares the name exactly and its \w is ASCII-only, so `{% endrawé %}` closes the
# block too: no check of what follows the name.
_ENDRAW = re.compile(r"\{%(?=-?\s*endraw)", re.IGNORECASE)
ESCAPED_TAG_START = RAW_CLOSE + '{{ "{%" }}' + RAW_OPEN


def escape_raw(text: str) -> str:
    """Text that cannot close a raw block it is placed in."""
    return _ENDRAW.sub(lambda _: ESCAPED_TAG_START, text) if "{%" in text else text


def unwrap_raw(lines: list[str]) -> None:
    """Undo an export's raw wrapper in place, keeping line numbers (the wrapper lines go blank).

    The wrapper is the first non-blank line after the front matter and the last non-blank
    line of the file; a file without both is left as it is.
    """
    start = 0
    if lines and lines[0].strip() == "---":
        close = next((n for n in range(1, len(lines)) if lines[n].strip() in {"---", "..."}), None)
        if close is None:
            return
        start = close + 1
    first = next((n for n in range(start, len(lines)) if lines[n].strip()), None)
    last = next((n for n in range(len(lines) - 1, start - 1, -1) if lines[n].strip()), None)
    if first is None or last is None or first == last:
        return
    if lines[first].strip() != RAW_OPEN or lines[last].strip() != RAW_CLOSE:
        return
    lines[first] = lines[last] = ""
    for n in range(first + 1, last):
        if ESCAPED_TAG_START in lines[n]:
            lines[n] = lines[n].replace(ESCAPED_TAG_START, "{%")
