"""The numbered task tree of the operative part (I. / 1. / 1- / a) / bullets / Điều 1)."""
from __future__ import annotations

import functools
import re
from typing import Optional

from extractors.header import KINH_GUI, header_region
from extractors.parties import AUTHORITY, CAPACITY, NOI_NHAN
from normalizers.agency_names import is_upper
from normalizers.unicode import collapse_spaces
from pipeline.model import Document, Task
from pipeline.resources import load_data_yaml

# (kind, pattern): the label as printed without its punctuation is group "lab"
LABELS = [
    ("article", re.compile(r"^\s*Điều\s+(?P<lab>\d{1,3})\s*[.:]?\s*(?P<rest>.*)$")),
    ("roman", re.compile(r"^\s*(?P<lab>(?:X{0,3})(?:IX|IV|V?I{0,3}))\s*[.)/]\s*(?P<rest>.*)$")),
    ("decimal", re.compile(r"^\s*(?P<lab>\d{1,2}(?:\.\d{1,2})+)\.?\s+(?P<rest>.*)$")),
    ("arabic", re.compile(r"^\s*(?P<lab>\d{1,2})\s*(?:[.)]|\s-|-)\s*(?P<rest>.*)$")),
    ("letter", re.compile(r"^\s*(?P<lab>[a-zđ])\s*[).]\s+(?P<rest>.*)$")),
]
BULLET = re.compile(r"^\s*[-–+•*]\s*\S")


@functools.lru_cache(maxsize=1)
def _closing_openers() -> list[re.Pattern]:
    return [re.compile(rf"^\s*(?:{p})", re.I) for p in load_data_yaml("grammar.yaml")["closing_openers"]]


def match_label(line: str) -> Optional[tuple[str, str, str]]:
    """(kind, label, rest) when the line opens a labelled item."""
    for kind, pattern in LABELS:
        m = pattern.match(line)
        if not m or not m.group("lab"):
            continue
        rest = m.group("rest").strip()
        if kind == "arabic" and re.match(r"^\d|^/", rest):       # "10/2025", "1.000"
            continue
        if kind == "roman" and rest and rest[:1].islower():
            continue
        if kind == "letter" and not rest:
            continue
        return kind, m.group("lab"), rest
    return None


def is_closing(line: str) -> bool:
    return any(p.match(line) for p in _closing_openers())


def _skip_lines(lines: list[str]) -> set[int]:
    """Lines of the Nơi nhận lists and signature blocks: not part of any task."""
    from extractors.parties import split_list_block
    skip: set[int] = set()
    for i, line in enumerate(lines):
        m = NOI_NHAN.match(line)
        if m:
            _, used = split_list_block(lines[i + 1:], m.group("rest"))
            skip.update(range(i, i + 1 + used))
        s = line.strip().strip("*").strip()
        if (AUTHORITY.match(s) or CAPACITY.match(s)) and is_upper(s):
            skip.update(range(i, min(len(lines), i + 8)))
    return skip


def extract_tasks(doc: Document, settings: dict) -> Document:
    lines = doc.text.split("\n")
    start = header_region(lines)
    # a Kính gửi list belongs to the header
    while start < len(lines) and (not lines[start].strip() or KINH_GUI.match(lines[start])
                                  or (BULLET.match(lines[start]) and start < 80 and not doc.tasks and _in_kinh_gui(lines, start))):
        start += 1
    skip = _skip_lines(lines)
    tasks: list[Task] = []
    stack: list[tuple[str, str]] = []   # (kind, label) from the top
    current: Optional[Task] = None
    body: list[str] = []
    closed = False
    intro: list[str] = []
    bodies: dict[int, list[str]] = {}

    def finish():
        if current is not None:
            current.text = _join(body)
            bodies[id(current)] = list(body)

    for i in range(start, len(lines)):
        line = lines[i]
        if i in skip:
            if current is not None:
                finish()
                current, body = None, []
            stack = []          # an annex after the signature numbers afresh
            continue
        s = line.strip()
        if not s:
            continue
        found = match_label(s)
        if found:
            kind, label, rest = found
            if kind == "decimal":
                label = label.split(".")[-1]
            kinds = [k for k, _ in stack]
            if kind in kinds:
                stack = stack[:kinds.index(kind)]
            stack.append((kind, label))
            finish()
            ids = [lab for _, lab in stack]
            current = Task(id=".".join(ids), label=label, level=len(stack) - 1)
            body = [rest] if rest else []
            tasks.append(current)
            closed = False
            continue
        if current is None and not tasks:
            intro.append(s)
        if current is None or closed:
            continue
        if not BULLET.match(s) and is_closing(s):
            closed = True
            continue
        body.append(s)
    finish()
    ids = {t.id for t in tasks}
    for t in tasks:
        t.title = heading_title(bodies.get(id(t), []), has_children=any(x.startswith(t.id + ".") for x in ids))
    doc.tasks = _dedupe_ids(tasks)
    doc.intro = _join(intro)
    return doc


def _in_kinh_gui(lines: list[str], i: int) -> bool:
    for j in range(i - 1, max(-1, i - 12), -1):
        if KINH_GUI.match(lines[j]):
            return True
        if lines[j].strip() and not BULLET.match(lines[j]):
            return False
    return False


def heading_title(parts: list[str], has_children: bool) -> Optional[str]:
    """The item's heading, when its first paragraph is one: "Sở Nội vụ (…)", "MỤC ĐÍCH, YÊU CẦU",
    "Các cơ quan đăng ký đầu tư (Sở Tài chính, …):". Wrapped lines of the heading are joined."""
    if not parts:
        return None
    head: list[str] = []
    for p in parts:                      # the label paragraph: up to the first bullet
        if BULLET.match(p):
            break
        head.append(p)
    followed = has_children or len(head) < len(parts)
    if is_upper(parts[0]):
        caps = []
        for p in parts:
            if not is_upper(p) or BULLET.match(p):
                break
            caps.append(p)
        return collapse_spaces(" ".join(caps)).rstrip(":").strip()
    text = collapse_spaces(" ".join(head))
    if text.endswith(":") and len(text) < 250:
        return text.rstrip(":").strip()
    first = parts[0]
    if followed and len(head) == 1 and len(first) < 160 and not re.search(r"[.;,]$", first):
        return first.rstrip(":").strip()
    return None


def _join(parts: list[str]) -> str:
    """Wrapped lines joined with spaces; a bullet keeps its own line."""
    text = "".join(("\n" if BULLET.match(p) and i else (" " if i else "")) + p for i, p in enumerate(parts))
    text = re.sub(r"(\w)- (\w)", lambda m: m.group(1) + "-" + m.group(2) if m.group(2).isdigit() else m.group(0), text)
    return "\n".join(collapse_spaces(line) for line in text.split("\n"))


def _dedupe_ids(tasks: list[Task]) -> list[Task]:
    """A misnumbered letter (two "b)") still needs distinct ids: the second becomes "b~2"."""
    seen: dict[str, int] = {}
    for t in tasks:
        n = seen.get(t.id, 0) + 1
        seen[t.id] = n
        if n > 1:
            t.id = f"{t.id}~{n}"
    return tasks
