"""The locate stage: where on a scanned page each extracted field was read, and how surely.

After extraction, each header field (number_symbol, issue_date, issuer, subject, signer
name) and each task (its label and first words) is found again among the OCR words of
the pages, by fuzzy alignment on text folded to lower case without diacritics.  The page,
the box around the words and their lowest confidence go to ``doc.provenance[field]`` and
``task.page``/``task.box`` (the signer's name is stored under "signer", the key the review
page shows; boxes are in pixels of the page image as read: upright, deskewed, at the OCR
dpi); a field read with words below ``review_conf`` is listed in
``doc.needs_review`` (for tasks: "tasks", with ``task.needs_review`` /
``agency.needs_review`` set).  Documents
read from text have no words and are left as they are.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from extractors.layout import fold
from pipeline.model import Document, Page

DEFAULT_REVIEW_CONF = 60.0
MIN_SCORE = 78.0


@dataclass
class _Index:
    """A page's words as one folded string, with each word's span in it."""
    page: Page
    text: str
    spans: list[tuple[int, int, int]]        # (start, end, word index)
    line_starts: list[tuple[int, int]]       # (char offset, line number)


def _index(page: Page) -> _Index:
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    line_starts: list[tuple[int, int]] = []
    pos = 0
    last_line = None
    for i, w in enumerate(page.words):
        if last_line != w.line:
            line_starts.append((pos, w.line))
            last_line = w.line
        token = fold(w.text)
        parts.append(token)
        spans.append((pos, pos + len(token), i))
        pos += len(token) + 1
    return _Index(page, " ".join(parts), spans, line_starts)


@dataclass
class Hit:
    page: int
    box: list[int]
    conf: Optional[float]
    start: int
    end: int
    score: float


def _hit(ix: _Index, start: int, end: int, score: float) -> Optional[Hit]:
    words = [ix.page.words[i] for s, e, i in ix.spans if s < end and e > start]
    if not words:
        return None
    box = [min(w.left for w in words), min(w.top for w in words),
           max(w.left + w.width for w in words), max(w.top + w.height for w in words)]
    confs = [w.conf for w in words if w.conf >= 0 and any(ch.isalnum() for ch in w.text)]
    conf = round(min(confs), 1) if confs else None
    return Hit(ix.page.number, box, conf, start, end, score)


def find(ix: _Index, needle: str, start: int = 0, min_score: float = MIN_SCORE) -> Optional[Hit]:
    """The best fuzzy occurrence of needle in the page from char offset start on."""
    from rapidfuzz import fuzz
    needle = re.sub(r"\s+", " ", fold(needle)).strip()
    hay = ix.text[start:]
    if not needle or not hay:
        return None
    if len(needle) > len(hay):
        needle = needle[:len(hay)]
    al = fuzz.partial_ratio_alignment(needle, hay, score_cutoff=min_score)
    if al is None:
        return None
    return _hit(ix, start + al.dest_start, start + al.dest_end, al.score)


def find_last(ix: _Index, needle: str, min_score: float = MIN_SCORE) -> Optional[Hit]:
    """The last good occurrence (a signer's name also appears in the Nơi nhận list above)."""
    best, start = None, 0
    while True:
        hit = find(ix, needle, start=start, min_score=min_score)
        if hit is None or (best is not None and hit.score < best.score - 3):
            return best
        best, start = hit, hit.end


def _line_hit(ix: _Index, pattern: re.Pattern) -> Optional[Hit]:
    """The first whole line whose folded text matches pattern."""
    bounds = ix.line_starts + [(len(ix.text) + 1, -1)]
    for (s, _), (e, _) in zip(bounds, bounds[1:]):
        if pattern.search(ix.text[s:e - 1]):
            return _hit(ix, s, e - 1, 100.0)
    return None


def _record(doc: Document, field: str, hit: Optional[Hit], review_conf: float) -> bool:
    """Store a field's provenance; True when it needs review."""
    if hit is None:
        return False
    doc.provenance[field] = {"page": hit.page, "box": hit.box, "conf": hit.conf}
    low = hit.conf is not None and hit.conf < review_conf
    if low and field not in doc.needs_review:
        doc.needs_review.append(field)
    return low


def locate_fields(doc: Document, settings: dict) -> Document:
    """Fill doc.provenance, task.page/box and review flags from the OCR words."""
    settings = settings or {}
    review_conf = float(settings.get("review_conf", DEFAULT_REVIEW_CONF))
    indexes = [_index(p) for p in doc.pages if p.words]
    if not indexes:
        return doc   # text sources: nothing was read from an image
    first = indexes[0]

    def search(needle: Optional[str], order: list[_Index], last: bool = False) -> Optional[Hit]:
        if not needle:
            return None
        for ix in order:
            hit = find_last(ix, needle[:120]) if last else find(ix, needle[:120])
            if hit:
                return hit
        return None

    _record(doc, "number_symbol", search(doc.number_symbol, indexes), review_conf)
    date_hit, date_ix = None, None
    if doc.issue_date:
        year = doc.issue_date[:4]
        pattern = re.compile(r"(ngay|thang).*nam\s*" + re.escape(year))
        for ix in indexes:
            date_hit = _line_hit(ix, pattern)
            if date_hit:
                date_ix = ix
                break
        _record(doc, "issue_date", date_hit, review_conf)
    _record(doc, "issuer", search(doc.issuer, [first] + indexes[1:]), review_conf)
    _record(doc, "subject", search(doc.subject, indexes), review_conf)
    if doc.place:
        # the place of the date line, not the province in the issuer's name
        if date_hit is not None:
            hit = find(date_ix, doc.place, start=date_hit.start)
        else:
            hit = search(doc.place, [first])
        _record(doc, "place", hit, review_conf)
    if doc.signer and doc.signer.name:
        # the key the review page shows the signer under; the box is the name's
        _record(doc, "signer", search(doc.signer.name, list(reversed(indexes)), last=True), review_conf)
    _locate_tasks(doc, indexes, review_conf)
    return doc


def _task_needle(task) -> str:
    body = (task.title or task.text or "").split()
    return " ".join(([task.label] if task.label else []) + body[:8])


def _locate_tasks(doc: Document, indexes: list[_Index], review_conf: float) -> None:
    """Tasks are in reading order: each is searched from where the previous one was found."""
    cursor_page, cursor = 0, 0
    for task in doc.tasks:
        needle = _task_needle(task)
        if not needle.strip():
            continue
        hit, where = None, None
        for k in range(cursor_page, len(indexes)):
            hit = find(indexes[k], needle, start=cursor if k == cursor_page else 0)
            if hit:
                where = k
                break
        if not hit:
            continue
        cursor_page, cursor = where, hit.end
        task.page, task.box = hit.page, hit.box
        low = hit.conf is not None and hit.conf < review_conf
        # the agencies named in the task: searched on the task's page and the next one
        for agency in task.agencies:
            ahit = None
            for ix in indexes[where:where + 2]:
                ahit = find(ix, agency.name, start=hit.start if ix is indexes[where] else 0)
                if ahit:
                    break
            if ahit and ahit.conf is not None and ahit.conf < review_conf:
                agency.needs_review = True
                low = True
        if low:
            task.needs_review = True
            if "tasks" not in doc.needs_review:
                doc.needs_review.append("tasks")
