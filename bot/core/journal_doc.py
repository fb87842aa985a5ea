"""Reading a whole journal post (front matter, title, sections, day headings) into note trees.

Built on markdown-it tokens, not line scans: headings, lists, quotes and code blocks are
what markdown-it says they are. What a person got wrong (typos in years, days out of
order, the same day twice) is kept as written where it can be, and reported with a line
number and, where one is obvious, a suggested correction.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from bot.core.blocks import blocks_to_drafts, strip_done
from bot.core.days import DayRange, same_day_in
from bot.core.frontmatter import clean_front_matter
from bot.core.liquid import unwrap_raw
from bot.core.mdparser import clean_text, in_fences, parser
from bot.core.notes import LIST_LEVELS, MAX_DEPTH, NoteDraft
from bot.core.sanitize import (
    defang_lines,
    neutralize_line,
    opens_block_pattern,
    rule_pattern,
    safe_heading,
)

if TYPE_CHECKING:
    from markdown_it.token import Token


@dataclass
class Section:
    """A non-date part of the journal: the preamble under the title, TODO, 自省…"""

    title: str | None
    level: int
    notes: list[NoteDraft]
    line: int


@dataclass
class Day:
    """A day (or range of days) and its notes, with the line its heading was on."""

    days: DayRange
    notes: list[NoteDraft]
    line: int
    heading: str
    written: DayRange | None = None  # the heading's own date, when --fix-dates moved the day

    @property
    def source(self) -> DayRange:
        """The day as the file wrote it: what an import keys its notes on."""
        return self.written or self.days


@dataclass(frozen=True)
class Anomaly:
    """Something in the file that looks wrong, with its 1-based line number."""

    line: int
    message: str
    suggestion: str | None = None
    fix: DayRange | None = field(default=None, compare=False)  # what --fix-dates applies

    def __str__(self) -> str:
        tail = f" (suggested: {self.suggestion})" if self.suggestion else ""
        return f"line {self.line}: {self.message}{tail}"


@dataclass
class ParsedJournal:
    """Everything read from a journal file."""

    front_matter: str | None = None
    title: str | None = None
    sections: list[Section] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def note_count(self) -> int:
        total = sum(len(n.walk()) for d in self.days for n in d.notes)
        return total + sum(len(n.walk()) for s in self.sections for n in s.notes)


_D = r"\d{4,5}-\d{1,2}-\d{1,2}"
# Only the gap around the separator may hold spaces, and it is read possessively: `\s*` on
# both sides of an optional group backtracked quadratically over a long run of spaces.
_DATE_HEADING = re.compile(
    rf"(?P<a>{_D})(?:\s*+(?:~|～|〜|–|—|-|to)\s*+(?P<b>{_D}))?", re.IGNORECASE
)
_FULLWIDTH_HEADING = re.compile(r"^(#{1,6})[\u3000\u00a0]+(.*)$")


def _fix_year(raw: str, context: date | None) -> tuple[date | None, str | None]:
    """Parse y-m-d; a 5-digit year (20202, 20201) is a typo: pick the nearest sensible year."""
    y, m, d = raw.split("-")
    years = [int(y)]
    fixed = None
    if len(y) == 5:
        candidates = sorted({int(y[:i] + y[i + 1 :]) for i in range(5)})
        candidates = [c for c in candidates if 1990 <= c <= 2100]
        if not candidates:
            return None, None
        ref = context.year if context else candidates[-1]
        years = sorted(candidates, key=lambda c: (abs(c - ref), c))
        fixed = str(years[0])
    try:
        return date(years[0], int(m), int(d)), fixed
    except ValueError:
        return None, None


def parse_heading(text: str, context: date | None) -> tuple[DayRange | None, str | None]:
    """A date heading → its DayRange and a note about any typo fixed; (None, None) if not one."""
    m = _DATE_HEADING.fullmatch(text.strip())
    if not m:
        return None, None
    a, b = m.group("a"), m.group("b")
    fix_b = None
    if b and len(a.split("-")[0]) == 5 and len(b.split("-")[0]) == 4:
        # the typo is in the start: the end of the range is the better clue
        end_parsed, _ = _fix_year(b, context)
        start, fix_a = _fix_year(a, end_parsed)
        if start is None or end_parsed is None:
            return None, "not a real date"
        end = end_parsed
    else:
        start, fix_a = _fix_year(a, context)
        if start is None:
            return None, "not a real date"
        end = start
        if b:
            end_parsed, fix_b = _fix_year(b, start)
            if end_parsed is None:
                return None, "not a real date"
            end = end_parsed
    if end < start:
        start, end = end, start
    notes = [f"year {f} read as a typo" for f in (fix_a, fix_b) if f]
    return DayRange(start, end), "; ".join(notes) or None


def _heading_text(tokens: list[Token], i: int) -> str:
    # stored and exported as written, except what kramdown would turn into markup
    return safe_heading(str(tokens[i + 1].content))


@dataclass
class _Unit:
    level: int
    title: str
    line: int  # 0-based
    drafts: list[NoteDraft]


_ATX = re.compile(r"^#{1,6}(?:[ \t]|$)")


def _chunks(lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges that each start at a top-level ATX heading (outside code fences).

    markdown-it-py slows down on very long documents; a journal parsed a day at a time is
    the same journal (an ATX heading at column 0 always ends the block before it).
    """
    starts = [0]
    for n, (line, fenced) in enumerate(zip(lines, in_fences(lines), strict=True)):
        if n and not fenced and _ATX.match(line):
            starts.append(n)
    return list(zip(starts, [*starts[1:], len(lines)], strict=True))


# A chunk markdown-it need not read: an ATX heading, then bullets of one line each with
# nothing between them but the blank lines around the list, no tab and no `|` anywhere. A
# bullet is then the child of the nearest open bullet whose content column (marker + 2) its
# marker reaches, else a sibling, as long as it is at most 3 columns past that column (4 would
# be code or a continuation line); its text is one paragraph line unless it starts a block
# (sanitize.opens_block). Any other chunk goes through markdown-it; tests/test_journal_shortcut.py
# holds the two paths equal.
_PLAIN_HEADING = re.compile(r"(#{1,6}) ([^\s#|](?:[^#\t|]*[^\s#|])?)")
# Every line of a chunk's body at once (re.M: `$` is a line's end): a bullet that is no
# thematic break (sanitize.is_rule) and whose text opens no block (sanitize.opens_block), the
# text's characters none of tab, `|` and a line break. findall gives (rule, indent, opens,
# text) for each line that is one; a body is plain when every line gave one.
_PLAIN_ITEMS = re.compile(
    rf"^(?! *{rule_pattern('r')})( *)[-+*] (?!{opens_block_pattern('o')})([^\s|][^\t|\n]*)$",
    re.M,
)


def _plain_unit(part: list[str], first: int) -> _Unit | None:
    """The chunk read without markdown-it when it is only a heading and one-line bullets."""
    head = _PLAIN_HEADING.fullmatch(part[0])
    if head is None:
        return None
    start, end = 1, len(part)
    while start < end and not part[start].strip():
        start += 1
    while end > start and not part[end - 1].strip():
        end -= 1
    body = "\n".join(part[start:end])
    items = _PLAIN_ITEMS.findall(body)
    if len(items) != end - start:
        return None
    # one search for the chunk: neutralize_line() of a text that opens no block and has
    # nothing to defang is the text without its trailing white space, unless it starts with `*`
    defang = defang_lines(body)
    roots: list[NoteDraft] = []
    open_items: list[tuple[int, list[NoteDraft]]] = []  # (content column, children)
    column, siblings = 0, roots  # the last open item's (or the roots')
    for n, (_, spaces, _, raw) in enumerate(items):
        indent = len(spaces)
        if indent < column:
            while open_items and indent < open_items[-1][0]:
                open_items.pop()
            column, siblings = open_items[-1] if open_items else (0, roots)
        if indent - column > 3 or len(open_items) >= MAX_DEPTH:
            return None  # deep lists go to markdown-it, which reads LIST_LEVELS (and says so)
        text = raw.rstrip()
        if text[0] == "*" or n in defang:
            text = neutralize_line(raw)
        done = False
        if text[:2] == "~~":
            text, done = strip_done(text)
        children: list[NoteDraft] = []
        siblings.append(NoteDraft(text, "item", False, done, False, children))
        open_items.append((indent + 2, children))
        column, siblings = indent + 2, children
    return _Unit(len(head.group(1)), safe_heading(head.group(2)), first, roots)


def _read_units(
    lines: list[str], out: ParsedJournal, shortcut: bool = True
) -> tuple[list[NoteDraft], list[_Unit]]:
    """Front matter into `out`; the drafts before any heading; then each heading's body."""
    md = parser(inline=False)
    lead: list[NoteDraft] = []
    units: list[_Unit] = []
    too_deep: list[int] = []  # 1-based lines of list items nested past LIST_LEVELS
    for first, stop in _chunks(lines):
        deep: list[int] = []
        part = lines[first:stop]
        plain = _plain_unit(part, first) if shortcut else None
        if plain is not None:
            units.append(plain)
            continue
        tokens = md.parse("\n".join(part))
        heads: list[tuple[int, int]] = []  # (token index, 0-based line within part)
        for i, tok in enumerate(tokens):
            if tok.level != 0:
                continue
            if tok.type == "front_matter" and first == 0:
                out.front_matter, dropped = clean_front_matter(tok.content.strip("\n"))
                # line 1 is the opening `---`
                out.anomalies.extend(Anomaly(n + 2, message) for n, message in dropped)
            elif tok.type == "heading_open":
                heads.append((i, (tok.map or [0])[0]))
        body_end = heads[0][0] if heads else len(tokens)
        before = blocks_to_drafts(tokens, part, 0, body_end, deep)
        if before:
            if units:
                units[-1].drafts.extend(before)
            else:
                lead.extend(before)
        for n, (i, line) in enumerate(heads):
            stop_tok = heads[n + 1][0] if n + 1 < len(heads) else len(tokens)
            drafts = blocks_to_drafts(tokens, part, i + 3, stop_tok, deep)
            level = int(tokens[i].tag[1])
            units.append(_Unit(level, _heading_text(tokens, i), first + line, drafts))
        too_deep.extend(first + n + 1 for n in deep)
    if too_deep:
        out.anomalies.append(
            Anomaly(
                min(too_deep),
                f"{len(too_deep)} list items are nested deeper than {LIST_LEVELS} levels: "
                f"each is kept as text of the item at level {LIST_LEVELS} above it",
            )
        )
    return lead, units


def parse_journal(text: str, *, shortcut: bool = True) -> ParsedJournal:
    """Parse a journal post in the sample's style (an export's Liquid raw wrapper undone).

    shortcut=False reads every chunk with markdown-it (what the shortcut is tested against).
    """
    lines = clean_text(text).split("\n")
    unwrap_raw(lines)
    out = ParsedJournal()
    wide = "\u3000" in text or "\u00a0" in text  # else no line can match: none is looked at
    for n, raw in enumerate(lines if wide else ()):
        m = _FULLWIDTH_HEADING.match(raw)
        if m:  # `##　2021-4-8`: CommonMark wants an ASCII space; its author meant a heading
            lines[n] = f"{m.group(1)} {m.group(2)}"
            out.anomalies.append(Anomaly(n + 1, "full-width space after # read as a heading"))
    lead, units = _read_units(lines, out, shortcut)

    by_key: dict[str, Day] = {}
    last_day: date | None = None
    day_level: int | None = None
    for unit in units:
        level, title, line, drafts = unit.level, unit.title, unit.line, unit.drafts
        days, note = parse_heading(title, last_day)
        if days is None and note:
            out.anomalies.append(Anomaly(line + 1, f"heading “{title}”: {note}; kept as a section"))
        if days is not None:
            if note:
                out.anomalies.append(Anomaly(line + 1, f"heading “{title}”: {note}", days.label()))
            if (days.end - days.start).days > 62:
                out.anomalies.append(
                    Anomaly(line + 1, f"range “{title}” spans {(days.end - days.start).days} days")
                )
            day_level = day_level or level
            last_day = days.start
            if days.key in by_key:
                earlier = by_key[days.key]
                earlier.notes.extend(drafts)
                out.anomalies.append(
                    Anomaly(
                        line + 1,
                        f"day {days.label()} appears again; merged into line {earlier.line}",
                    )
                )
                continue
            day = Day(days=days, notes=drafts, line=line + 1, heading=title)
            by_key[days.key] = day
            out.days.append(day)
            continue
        if out.title is None and level == 1 and not out.days and not out.sections:
            out.title = title
            if drafts:
                out.sections.append(Section(None, 0, drafts, line + 1))
            continue
        if out.days:
            out.anomalies.append(
                Anomaly(line + 1, f"heading “{title}” among the days is kept as a section")
            )
        section = next((s for s in out.sections if s.title == title), None)
        if section is not None:
            section.notes.extend(drafts)
        else:
            out.sections.append(Section(title, level, drafts, line + 1))
    # text before the first heading (after front matter) joins the preamble
    lead = [d for d in lead if d.text]
    if lead:
        pre = next((s for s in out.sections if s.title is None), None)
        if pre is None:
            out.sections.insert(0, Section(None, 0, lead, 1))
        else:
            pre.notes[:0] = lead
    out.anomalies.extend(_order_anomalies(out.days))
    out.anomalies.sort(key=lambda a: a.line)
    return out


def _order_anomalies(days: list[Day]) -> list[Anomaly]:
    """Days out of the file's newest-first order: the ones not on its longest ordered run."""
    if len(days) < 3:
        return []
    starts = [d.days.start for d in days]
    keep = _longest_non_increasing(starts)
    kept = sorted(keep)
    found: list[Anomaly] = []
    for i, day in enumerate(days):
        if i in keep:
            continue
        pos = bisect.bisect_left(kept, i)
        newer = starts[kept[pos - 1]] if pos > 0 else None
        older = starts[kept[pos]] if pos < len(kept) else None
        suggestion: DayRange | None = None
        for year in sorted({y.year for y in (newer, older) if y is not None}):
            try:
                candidate = day.days.start.replace(year=year)
            except ValueError:
                continue
            if (newer is None or candidate <= newer) and (older is None or candidate >= older):
                end = day.days.end
                if end.year == day.days.start.year:
                    end = same_day_in(end, year)
                suggestion = DayRange(candidate, max(end, candidate))
                break
        where = f"between {newer} and {older}" if newer and older else "out of order"
        found.append(
            Anomaly(
                day.line,
                f"{day.days.label()} is out of the file's order ({where})",
                suggestion.label() if suggestion else None,
                suggestion,
            )
        )
    return found


def fix_dates(parsed: ParsedJournal) -> ParsedJournal:
    """The journal with each suggested date applied to the day out of order.

    Only the order suggestions need applying: year typos are already read as meant. A moved
    day stays its own Day (it may land on a day the file has, and then joins it on import)
    and remembers what it was written as, so its notes keep their identity across imports.
    """
    fixes = {a.line: a.fix for a in parsed.anomalies if a.fix is not None}
    if not fixes:
        return parsed
    anomalies = [
        Anomaly(a.line, f"{a.message}; imported as {a.fix.label()}") if a.fix else a
        for a in parsed.anomalies
    ]
    first_line = {d.days.key: d.line for d in parsed.days if d.line not in fixes}
    days: list[Day] = []
    for day in parsed.days:
        moved_to = fixes.get(day.line)
        if moved_to is None:
            days.append(day)
            continue
        days.append(replace(day, days=moved_to, heading=moved_to.label(), written=day.days))
        if moved_to.key in first_line:
            where = first_line[moved_to.key]
            anomalies.append(Anomaly(day.line, f"{moved_to.label()} joins the day at line {where}"))
        first_line.setdefault(moved_to.key, day.line)
    anomalies.sort(key=lambda a: a.line)
    return replace(parsed, days=days, anomalies=anomalies)


def _longest_non_increasing(values: list[date]) -> set[int]:
    """Indexes of one longest non-increasing subsequence (O(n log n))."""
    keys = [-v.toordinal() for v in values]  # non-increasing dates = non-decreasing keys
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(keys)
    for i, k in enumerate(keys):
        pos = bisect.bisect_right(tails, k)
        if pos == len(tails):
            tails.append(k)
            tail_idx.append(i)
        else:
            tails[pos] = k
            tail_idx[pos] = i
        prev[i] = tail_idx[pos - 1] if pos > 0 else -1
    out: set[int] = set()
    i = tail_idx[-1] if tail_idx else -1
    while i != -1:
        out.add(i)
        i = prev[i]
    return out
