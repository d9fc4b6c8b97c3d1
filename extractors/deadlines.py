"""Deadlines of a task (thời hạn): a date, a month, or a recurrence word of RECORDS.md."""
from __future__ import annotations

import re
from typing import Optional

from extractors.dates import iso_date

_BEFORE = r"(?:trước|chậm nhất(?:\s+là)?|không quá|hạn chót|xong trước|hoàn thành trước|trong thời hạn đến|đến hết)"
EXPLICIT = re.compile(
    _BEFORE + r"\s+(?:ngày\s+)?(?:(?P<d1>\d{1,2})\s*[/.-]\s*(?P<m1>\d{1,2})(?:\s*[/.-]\s*(?P<y1>\d{4}))?"
    r"|(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})(?:\s+năm\s+(?P<y2>\d{4}))?)", re.I)
MONTH = re.compile(r"(?:trước|trong|chậm nhất(?:\s+là)?|đến hết)\s+tháng\s+(?P<m>\d{1,2})\s*(?:/|năm)\s*(?P<y>\d{4})", re.I)
RECURRENCES = [  # most specific first
    ("hàng tháng", re.compile(r"\b(hàng|hằng)\s+tháng\b", re.I)),
    ("hàng quý", re.compile(r"\b(hàng|hằng)\s+quý\b", re.I)),
    ("hàng năm", re.compile(r"\b(hàng|hằng)\s+năm\b", re.I)),
    ("định kỳ", re.compile(r"\bđịnh\s+kỳ\b", re.I)),
]


def find_deadline(text: str, default_year: Optional[int] = None) -> Optional[str]:
    for m in EXPLICIT.finditer(text):
        year = m.group("y1") or m.group("y2") or (str(default_year) if default_year else None)
        iso, invalid = iso_date(m.group("d1") or m.group("d2"), m.group("m1") or m.group("m2"), year)
        if iso and not invalid and len(iso) == 10:
            return iso
    m = MONTH.search(text)
    if m:
        iso, invalid = iso_date(None, m.group("m"), m.group("y"))
        if iso and not invalid:
            return iso
    for word, pattern in RECURRENCES:
        if pattern.search(text):
            return word
    return None
