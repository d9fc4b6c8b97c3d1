"""Fields read from words the restorer was unsure of: flagged for a clerk (needs_review).

restore_diacritics keeps every token it restored or repaired, with its confidence and its
offset in the restored text (``doc.provenance["restoration_tokens"]``).  A field whose words
in the letter include such a token below ``review_confidence`` is listed in
``doc.needs_review``; a task's agency likewise sets ``agency.needs_review`` and
``task.needs_review`` and lists "tasks", as the locate stage does for OCR words read with
low confidence.  The words are found again accent- and case-blind, because extraction may
have mended them ("đoàn thể tinh" is the agency "… đoàn thể tỉnh").
"""
from __future__ import annotations

import bisect
import re
from typing import Iterator, Optional

from pipeline.ids import fold    # one character per character: offsets stay valid
from pipeline.model import Document

DEFAULT_REVIEW_CONFIDENCE = 0.6
FIELDS = ("number_symbol", "place", "issuer", "subject")


def flag_restored_fields(doc: Document, settings: dict) -> Document:
    limit = float((settings or {}).get("review_confidence", DEFAULT_REVIEW_CONFIDENCE))
    tokens = doc.provenance.get("restoration_tokens") or []
    doubtful = sorted(t["start"] for t in tokens if t.get("confidence", 1.0) < limit)
    if not doubtful or not doc.text:
        return doc
    folded = fold(doc.text)

    def doubted(value: Optional[str], lo: int = 0, hi: Optional[int] = None) -> bool:
        return any(_covers(doubtful, s, e) for s, e in _spans(folded, value, lo, hi))

    for name in FIELDS:
        if doubted(getattr(doc, name)):
            _flag(doc, name)
    if doubted(doc.signer.name):
        _flag(doc, "signer")
    if any(doubted(r) for r in doc.recipients):
        _flag(doc, "recipients")
    task_at = {}
    for task in doc.tasks:
        span = next(_spans(folded, task.text[:120]), None)
        if span is not None:
            task_at[task.id] = span[0]
    # the addressees stand in the intro, before the first task
    intro_end = min(task_at.values(), default=len(doc.text))
    for task in doc.tasks:
        if task.id not in task_at:
            continue
        lo = task_at[task.id]
        hi = lo + len(task.text) + 40      # whitespace may differ a little
        for agency in task.agencies:
            where = (0, intro_end) if agency.role == "addressee" else (lo, hi)
            if doubted(agency.name, *where):
                agency.needs_review = task.needs_review = True
                _flag(doc, "tasks")
    return doc


def _spans(folded: str, value: Optional[str], lo: int = 0, hi: Optional[int] = None) -> Iterator[tuple[int, int]]:
    """Where value's words stand in the folded text, line breaks and spacing aside."""
    words = fold(value or "").split()
    if not words:
        return
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    for m in pattern.finditer(folded, lo, len(folded) if hi is None else min(hi, len(folded))):
        yield m.start(), m.end()


def _covers(starts: list[int], s: int, e: int) -> bool:
    i = bisect.bisect_left(starts, s)
    return i < len(starts) and starts[i] < e


def _flag(doc: Document, name: str) -> None:
    if name not in doc.needs_review:
        doc.needs_review.append(name)
