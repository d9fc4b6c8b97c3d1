"""Remove what is not letter text (page numbers, URLs, site chrome) and re-join broken lines."""
from __future__ import annotations

import functools
import re

from pipeline.resources import load_data_yaml


@functools.lru_cache(maxsize=1)
def _patterns():
    data = load_data_yaml("boilerplate.yaml")
    lines = [re.compile(rf"^(?:{p})$", re.I) for p in data["line_patterns"]]
    tails = [re.compile(rf"^(?:{p})", re.I) for p in data["tail_markers"]]
    return lines, tails


def is_furniture(line: str) -> bool:
    s = line.strip().strip("•·*").strip()
    if not s:
        return False
    line_patterns, _ = _patterns()
    return any(p.match(s) for p in line_patterns)


def remove_furniture(text: str) -> tuple[str, int]:
    """Drop page numbers, URLs and web widgets; cut the site chrome after a tail marker."""
    _, tails = _patterns()
    kept: list[str] = []
    removed = 0
    for line in text.split("\n"):
        s = line.strip().strip("•·*").strip()
        if any(t.match(s) for t in tails):
            removed += 1
            break
        if is_furniture(line):
            removed += 1
            continue
        kept.append(line.rstrip())
    return "\n".join(kept), removed


# A header field broken over two lines by a website's wrapping or a PDF's layout:
# "ngày 17\ntháng 11 năm 2025", "ỦY\nBAN NHÂN DÂN", "VĂN PHÒNG CHÍNH\nPHỦ".
_DATE_BREAK = re.compile(r"(ngày\s*\d{0,2})\s*\n\s*(tháng)", re.I)
_MONTH_BREAK = re.compile(r"(tháng\s*\d{0,2})\s*\n\s*(năm)", re.I)
_LABEL_BREAK = re.compile(r"^(Kính|Nơi)[ \t]*\n[ \t]*(gửi|nhận)", re.I | re.M)
_UPPER_WORD = r"[A-ZÀ-ỸĐ][A-ZÀ-ỸĐ]*"


def _is_upper_line(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def join_broken_header_lines(text: str) -> str:
    text = _DATE_BREAK.sub(r"\1 \2", text)
    text = _MONTH_BREAK.sub(r"\1 \2", text)
    text = _LABEL_BREAK.sub(r"\1 \2", text)
    grammar = load_data_yaml("grammar.yaml")
    openers, closers = set(grammar["header_openers"]), set(grammar["header_closers"])
    out: list[str] = []
    for line in text.split("\n"):
        s = line.strip()
        prev = out[-1].strip() if out else ""
        # one upper-case word alone on a line inside an upper-case name
        if prev in openers and _is_upper_line(s) or s in closers and _is_upper_line(prev) \
                and not prev.endswith((".", ":", ";")):
            out[-1] = f"{prev} {s}"
            continue
        out.append(line)
    return "\n".join(out)


@functools.lru_cache(maxsize=1)
def _upper_slips():
    slips = load_data_yaml("ocr_slips.yaml")["upper_words"]
    # a key starting with ^ is only a slip as the first word of the line
    return [(re.compile((r"^(\s*)" if k.startswith("^") else r"(?<!\w)()")
                        + re.escape(k.lstrip("^")) + r"(?!\w)"), v)
            for k, v in sorted(slips.items(), key=lambda kv: len(kv[0]), reverse=True)]


@functools.lru_cache(maxsize=1)
def _label_lookalikes():
    table = load_data_yaml("ocr_slips.yaml")["label_lookalikes"]
    return re.compile(r"^(\s*)([" + "".join(map(re.escape, table)) + r"])(\)\s)", re.M), table


def fix_upper_case_slips(text: str) -> str:
    """Known OCR slips: in upper-case lines (headers, signature blocks: "T/M BẠN THƯỜNG VỤ"),
    and the glyph read for a list label's letter ("¢) …" for "c) …")."""
    pattern, table = _label_lookalikes()
    text = pattern.sub(lambda m: m.group(1) + table[m.group(2)] + m.group(3), text)
    out = []
    for line in text.split("\n"):
        if _is_upper_line(line):
            for pattern, repl in _upper_slips():
                line = pattern.sub(lambda m, r=repl: m.group(1) + r, line)
        out.append(line)
    return "\n".join(out)
