"""Reading order of an OCR'd letter page from word geometry, not from Tesseract's text order.

A letter's header has two columns (left: issuing body, "Số: …", "V/v …"; right: motto or
Party name, then place and date) and so does its end (left: "Nơi nhận:" list; right:
authority, title, name).  Tesseract often reads such a row as one line ("TỈNH LAI CHÂU
Độc lập - Tự do - Hạnh phúc").  Here words are grouped into rows by their boxes, rows are
cut into segments at wide gaps in x, and the header and end bands are split at the gutter
between the columns.  The page text then reads: left header column, right header column,
body, left end column (Nơi nhận), right end column (signature) — the order of a letter
typed as text.
"""
from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

from normalizers.syllables import strip_accents


@dataclass
class OcrWord:
    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    block: int = 0
    par: int = 0
    line: int = 0

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def cy(self) -> float:
        return self.top + self.height / 2


@dataclass
class WordGroup:
    """Words read together (a segment, a row, a line), with the box around them."""
    words: list[OcrWord]

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.right for w in self.words)

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.bottom for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)


@dataclass
class Segment(WordGroup):
    pass


@dataclass
class Row(WordGroup):
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Line(WordGroup):
    """One output line: its words, and which part of the letter it belongs to."""
    zone: str = "body"     # header_left | header_right | body | end_left | end_right


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d), for matching damaged OCR text."""
    return strip_accents(text.lower())


# characters Tesseract's Vietnamese model emits that Vietnamese never uses, and the letter
# they stand for (Icelandic eth for Đ, inverted ! for i, © in "(b/©)")
_CONFUSABLES = str.maketrans({"Ð": "Đ", "ð": "đ", "¡": "i", "©": "c", "ï": "i", "ƒ": "f",
                              "ı": "i", "Ƒ": "F"})


def words_from_data(data: dict, min_conf: float = 0.0) -> list[OcrWord]:
    """Word entries of pytesseract.image_to_data(output_type=DICT)."""
    words = []
    for i, text in enumerate(data.get("text", [])):
        text = (text or "").strip()
        if not text:
            continue
        try:
            conf = float(data["conf"][i])
        except (TypeError, ValueError):
            conf = -1.0
        if conf < min_conf:
            continue
        text = unicodedata.normalize("NFC", text).translate(_CONFUSABLES)
        words.append(OcrWord(text, int(data["left"][i]),
                             int(data["top"][i]), int(data["width"][i]), int(data["height"][i]),
                             conf, int(data["block_num"][i]), int(data["par_num"][i]),
                             int(data["line_num"][i])))
    return words


def drop_noise(words: list[OcrWord]) -> list[OcrWord]:
    """Remove specks and ink marks read as words: no letter or digit and low confidence,
    or far taller than the text (seal rings, rules)."""
    if not words:
        return words
    h = median_height(words)
    out = []
    for w in words:
        has_alnum = any(ch.isalnum() for ch in w.text)
        if not has_alnum and w.conf < 60 and w.text not in {"*", "-", "+", "–"}:
            continue
        if w.height > 3.5 * h and w.conf < 80:
            continue
        if w.height < 0.4 * h and w.conf < 50 and w.text not in {"-", "–", "."}:
            continue
        out.append(w)
    return out


def median_height(words: list[OcrWord]) -> float:
    hs = [w.height for w in words if any(ch.isalnum() for ch in w.text)] or [w.height for w in words]
    return float(statistics.median(hs)) if hs else 30.0


def group_rows(words: list[OcrWord]) -> list[Row]:
    """Rows of words whose boxes overlap vertically; Tesseract's own lines are kept whole."""
    lines: dict[tuple, list[OcrWord]] = {}
    for w in words:
        lines.setdefault((w.block, w.par, w.line), []).append(w)
    units = sorted(lines.values(), key=lambda ws: statistics.median(w.cy for w in ws))
    rows: list[Row] = []
    for unit in units:
        top = statistics.median(w.top for w in unit)
        bottom = statistics.median(w.bottom for w in unit)
        cy = (top + bottom) / 2
        placed = False
        for row in reversed(rows[-3:]):
            rtop = statistics.median(w.top for w in row.words)
            rbot = statistics.median(w.bottom for w in row.words)
            overlap = min(bottom, rbot) - max(top, rtop)
            if overlap > 0.5 * min(bottom - top, rbot - rtop) and rtop <= cy <= rbot:
                row.words.extend(unit)
                placed = True
                break
        if not placed:
            rows.append(Row(list(unit)))
    for row in rows:
        row.words.sort(key=lambda w: w.left)
    rows.sort(key=lambda r: statistics.median(w.cy for w in r.words))
    return rows


def split_segments(rows: list[Row], gap: float) -> None:
    for row in rows:
        segs: list[list[OcrWord]] = []
        for w in row.words:
            if segs and w.left - max(x.right for x in segs[-1]) <= gap:
                segs[-1].append(w)
            else:
                segs.append([w])
        row.segments = [Segment(s) for s in segs]


_DATE_HINT = re.compile(r"\b(ngay|thang)\b|\bnam\s*\d|\b(19|20)\d\d\b")
_SIGN_HINT = re.compile(r"^(t/?m|kt|tl|tuq|q)\b\.?|chu tich|giam doc|bi thu|truong|thu truong")


def _gutter(rows: list[Row], width: int) -> Optional[tuple[float, float]]:
    """The x interval between the two columns of a band: the widest gap of its two-segment rows."""
    lo, hi = None, None
    for row in rows:
        if len(row.segments) < 2:
            continue
        gaps = [(row.segments[i + 1].left - row.segments[i].right, row.segments[i].right,
                 row.segments[i + 1].left) for i in range(len(row.segments) - 1)]
        gaps = [g for g in gaps if 0.2 * width < (g[1] + g[2]) / 2 < 0.8 * width]
        if not gaps:
            continue
        _, a, b = max(gaps)
        if lo is None:
            lo, hi = a, b
        else:
            nlo, nhi = max(lo, a), min(hi, b)
            if nlo < nhi:
                lo, hi = nlo, nhi
    if lo is None:
        return None
    return lo, hi


def _side(seg: Segment, gx: float, slack: float) -> str:
    if seg.right <= gx + slack:
        return "L"
    if seg.left >= gx - slack:
        return "R"
    return "X"


def _narrow_gutter(rows: list[Row], width: int, line_h: float) -> Optional[tuple[float, float]]:
    """When no header row has a wide gap: the widest word gap of the top rows that is clearly
    wider than the other word gaps of its row (columns set close together)."""
    best = None
    for row in rows:
        ws = row.words
        gaps = [(ws[i + 1].left - ws[i].right, ws[i].right, ws[i + 1].left) for i in range(len(ws) - 1)]
        if len(gaps) < 2:
            continue
        inside = [g for g in gaps if 0.25 * width < (g[1] + g[2]) / 2 < 0.7 * width]
        if not inside:
            continue
        g = max(inside)
        others = sorted(x[0] for x in gaps if x is not g)
        typical = others[len(others) // 2] if others else 0
        if g[0] >= 0.6 * line_h and g[0] >= 2.5 * max(typical, 1):
            if best is None or g[0] > best[0]:
                best = g
    return (best[1], best[2]) if best else None


def _resplit(row: Row, lo: float, hi: float, line_h: float) -> None:
    """Cut a row's segments at a word gap that lies in the gutter [lo, hi]."""
    segs: list[Segment] = []
    for seg in row.segments:
        ws = seg.words
        cut = None
        for i in range(len(ws) - 1):
            if ws[i].right <= hi and ws[i + 1].left >= lo and ws[i + 1].left - ws[i].right >= 0.8 * line_h:
                cut = i + 1
                break
        if cut:
            segs += [Segment(ws[:cut]), Segment(ws[cut:])]
        else:
            segs.append(seg)
    row.segments = segs


_MOTTO_HINT = re.compile(r"cong hoa|chu nghia|doc lap|hanh phuc|dang cong san")


def header_band(rows: list[Row], width: int, height: int, line_h: float,
                require_motto: bool = False) -> tuple[int, list, list]:
    """How many rows form the two-column header, and their left and right segments.
    With require_motto (pages after the first), only a letter's own header counts."""
    probe = [r for r in rows[:5] if r.top < 0.3 * height]
    gutter = _gutter(probe, width) or _narrow_gutter(probe[:3], width, line_h)
    if gutter is None:
        return 0, [], []
    saved = [(row, row.segments) for row in rows[:8]]
    for row in rows[:8]:
        _resplit(row, gutter[0], gutter[1], line_h)
    n, left, right = _header_rows(rows, width, height, line_h, gutter)
    if not n or (require_motto and not any(_MOTTO_HINT.search(fold(seg.text)) for seg in right)):
        for row, segments in saved:     # not a letter's header: leave the rows as they were
            row.segments = segments
        return 0, [], []
    return n, left, right


def _header_rows(rows: list[Row], width: int, height: int, line_h: float,
                 gutter: tuple[float, float]) -> tuple[int, list, list]:
    gx = (gutter[0] + gutter[1]) / 2
    slack = 0.25 * (gutter[1] - gutter[0])
    left: list[Segment] = []
    right: list[Segment] = []
    date_seen = False
    prev_bottom = None
    n = 0
    for row in rows:
        if row.top > 0.45 * height:
            break
        sides = [_side(s, gx, slack) for s in row.segments]
        if "X" in sides:
            break
        if date_seen and prev_bottom is not None and row.top - prev_bottom > 0.9 * line_h:
            break
        if date_seen and "L" not in sides:
            break          # the type line (CHỈ THỊ) centred under the date
        for seg, side in zip(row.segments, sides):
            (left if side == "L" else right).append(seg)
            if side == "R" and _DATE_HINT.search(fold(seg.text)):
                date_seen = True
        prev_bottom = row.bottom
        n += 1
    if not left or not right:
        return 0, [], []
    return n, left, right


def end_band_start(rows: list[Row], first: int, width: int) -> Optional[int]:
    """Index of the row where the Nơi nhận | signature band starts, or None."""
    for i in range(first, len(rows)):
        for seg in rows[i].segments:
            if re.match(r"^\W{0,2}n[oơ0][il1]\s*nh[aâậ]n", fold(seg.text)):
                return i
    # no "Nơi nhận": a signature cue on the right half in the lower part of the page
    for i in range(max(first, len(rows) // 2, len(rows) - 12), len(rows)):
        for seg in rows[i].segments:
            if seg.left > 0.45 * width and _SIGN_HINT.search(fold(seg.text)):
                return i
    return None


def _row_lines(segs: list[Segment], zone: str) -> list[Line]:
    """Segments of one column, one line per row (segments on the same row joined)."""
    out: list[Line] = []
    for seg in segs:
        if out and min(seg.bottom, out[-1].box[3]) - max(seg.top, out[-1].box[1]) > \
                0.5 * (seg.bottom - seg.top) and seg.left > out[-1].box[2]:
            out[-1].words.extend(seg.words)
        else:
            out.append(Line(list(seg.words), zone))
    return out


def order_page(words: list[OcrWord], width: int, height: int, first_page: bool = True) -> list[Line]:
    """The page's lines in the letter's reading order."""
    words = drop_noise(words)
    if not words:
        return []
    line_h = median_height(words)
    rows = group_rows(words)
    split_segments(rows, gap=max(2.5 * line_h, 0.03 * width))
    lines: list[Line] = []
    start = 0
    n, left, right = header_band(rows, width, height, line_h, require_motto=not first_page)
    if n:
        lines += _row_lines(left, "header_left") + _row_lines(right, "header_right")
        start = n
    end = end_band_start(rows, start, width)
    body_rows = rows[start:end] if end is not None else rows[start:]
    for row in body_rows:
        lines.append(Line([w for s in row.segments for w in s.words], "body"))
    if end is not None:
        band = rows[end:]
        gutter = _gutter(band, width)
        lo = gutter[0] if gutter else 0.45 * width
        left, right = [], []
        for row in band:
            for seg in row.segments:
                # Nơi nhận items start at the margin (a long one may run past the gutter);
                # signature lines start right of every left-column line
                (left if seg.left < lo else right).append(seg)
        lines += _row_lines(left, "end_left") + _row_lines(right, "end_right")
    return lines
