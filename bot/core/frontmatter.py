"""An imported post's front matter cut down to the keys a journal post may set, as safe YAML.

A file's front matter is copied into every later export, so it is untrusted input that
reaches the blog's layout: `permalink: /index.html` replaced a blog's home page and
`title: "<script>"` landed in `<title>`. Only these keys are kept, each value checked and
re-serialized (quoted whenever it is not a plain word); everything else is reported and
dropped:

* title, subtitle, description, author: one line of text; `<`, `>` and `"` become their
  full-width forms (＜ ＞ ＂), since a theme may print them without `| escape`.
* date: `YYYY-MM-DD`, optionally with a time and an offset.
* layout: `post`, `page` or `default` only (another layout can take over the page).
* tags, categories (lists or one word), category: words, each quoted when needed.
* catalog: true or false (the sample's theme).
* header-img: a relative path or an http(s) address of plain URL characters.

Never kept: permalink, redirect_from/redirect_to, published and any key a plugin might act
on; excerpt_separator is dropped silently (the export writes its own). Parsing is
deliberately small (no PyYAML): `key: value` lines, `- item` lists and `[a, b]` lists;
anything else (nested maps, `|` blocks, anchors, tags) is reported and dropped.
"""

from __future__ import annotations

import re

TEXT_KEYS = frozenset({"title", "subtitle", "description", "author"})
LIST_KEYS = frozenset({"tags", "categories", "category"})
LAYOUTS = frozenset({"post", "page", "default"})
ALLOWED_KEYS = TEXT_KEYS | LIST_KEYS | {"date", "layout", "catalog", "header-img"}

_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(?:([ \t]+)(.*))?$")
_ITEM = re.compile(r"^[ \t]+-(?:[ \t]+(.*))?$")
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?)?"
)
_URL = re.compile(r"(?:https?://)?[A-Za-z0-9._~/%+-]+")
_PLAIN = re.compile(r"[^\W\d_][\w .,/()+-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})
_HTML_SAFE = str.maketrans({"<": "＜", ">": "＞", '"': "＂"})


class _NotUnderstood(ValueError):
    pass


def html_safe(text: str) -> str:
    """Text a theme may print unescaped: one line, no `<`, `>` or `\"`."""
    return " ".join(text.split()).translate(_HTML_SAFE)


def yaml_scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly `value` (a string): plain when it is a plain
    word, else double-quoted."""
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS and value == value.strip():
        return value
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    out = re.sub(r"[\x00-\x1f\x7f]", "", out)
    return f'"{out}"'


def _scalar(raw: str) -> str:
    """One YAML scalar as written: quoted, or plain with a trailing `# comment` cut off."""
    raw = raw.strip()
    if raw[:1] == '"':
        m = re.match(r'"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$', raw)
        if not m:
            raise _NotUnderstood
        return re.sub(r"\\(.)", lambda e: {"t": "\t", "n": " "}.get(e.group(1), e.group(1)), m[1])
    if raw[:1] == "'":
        m = re.match(r"'((?:[^']|'')*)'\s*(?:#.*)?$", raw)
        if not m:
            raise _NotUnderstood
        return m[1].replace("''", "'")
    if raw[:1] == "#":
        return ""
    raw = re.split(r"\s#", raw, maxsplit=1)[0].strip()
    if raw[:1] in set("{[|>&*!%@`,?:") or raw[:2] == "- ":
        raise _NotUnderstood
    return raw


def _flow_list(raw: str) -> list[str]:
    m = re.fullmatch(r"\[([^\[\]{}]*)\]\s*(?:#.*)?", raw.strip())
    if m is None:
        raise _NotUnderstood
    return [_scalar(part) for part in m[1].split(",") if part.strip()]


def _check(key: str, value: str | list[str]) -> str | list[str]:
    """The value kept for an allowed key, or _NotUnderstood when it is not a safe one."""
    if isinstance(value, list):
        if key not in LIST_KEYS:
            raise _NotUnderstood
        return [html_safe(v) for v in value if v.strip()]
    value = value.strip()
    if key in TEXT_KEYS:
        return html_safe(value)
    if key in LIST_KEYS:
        return html_safe(value)
    if key == "date" and _DATE.fullmatch(value):
        return value
    if key == "layout" and value in LAYOUTS:
        return value
    if key == "catalog" and value in {"true", "false"}:
        return value
    if key == "header-img" and (value == "" or _URL.fullmatch(value)):
        return value
    raise _NotUnderstood


def _write(key: str, pad: str, value: str | list[str]) -> list[str]:
    if isinstance(value, list):
        return [f"{key}:", *(f"    - {yaml_scalar(v)}" for v in value)]
    if value == "":
        return [f"{key}:"]
    if key in {"date", "layout", "catalog"}:  # checked above: plain by construction
        return [f"{key}:{pad}{value}"]
    return [f"{key}:{pad}{yaml_scalar(value)}"]


def clean_front_matter(text: str) -> tuple[str | None, list[tuple[int, str]]]:
    """The front matter with only the allowed keys, and what was dropped.

    Returns the new YAML (None when nothing is left) and (line, message) for each dropped
    key or line; line is 0-based within `text` (the line after the opening `---` is 0).
    """
    lines = text.split("\n")
    kept: list[str] = []
    dropped: list[tuple[int, str]] = []
    seen: set[str] = set()
    n = 0
    while n < len(lines):
        line = lines[n].rstrip()
        n += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _KEY.match(line)
        if m is None:
            dropped.append((n - 1, "front matter line not understood; dropped"))
            continue
        key, pad, raw = m.group(1), (m.group(2) or " ").replace("\t", " ")[:40], m.group(3) or ""
        start = n - 1
        items: list[str] = []
        nested = False
        while n < len(lines) and (not lines[n].strip() or lines[n][:1] in " \t"):
            if lines[n].strip() and not lines[n].lstrip().startswith("#"):
                item = _ITEM.match(lines[n].rstrip())
                if item is None:
                    nested = True
                else:
                    items.append(item.group(1) or "")
            n += 1
        if key == "excerpt_separator":  # the export sets its own (export.NO_EXCERPT)
            continue
        if key not in ALLOWED_KEYS:
            dropped.append((start, f"front matter key “{key}” is not one a post may set; dropped"))
            continue
        if key in seen:
            dropped.append((start, f"front matter key “{key}” given twice; the second dropped"))
            continue
        try:
            if nested:
                raise _NotUnderstood
            value: str | list[str]
            if items:
                if _scalar(raw) if raw.strip() else "":
                    raise _NotUnderstood
                value = [_scalar(i) for i in items]
            elif raw.strip().startswith("["):
                value = _flow_list(raw)
            else:
                value = _scalar(raw)
            value = _check(key, value)
        except _NotUnderstood:
            dropped.append((start, f"front matter “{key}” has a value that is not safe; dropped"))
            continue
        seen.add(key)
        kept.extend(_write(key, pad, value))
    return ("\n".join(kept) if kept else None), dropped
