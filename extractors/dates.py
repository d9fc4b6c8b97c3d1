"""Dates as letters print them: "ngày 13 tháng 10 năm 2021", "13/10/2021", blanks and OCR damage."""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

# "ngày 17 tháng 11 năm 2025", with blanks for a draft ("ngày  tháng 6 năm 2021")
LONG_DATE = re.compile(
    r"ngày\s*(?P<d>\d{1,2})?\s*[/.-]?\s*tháng\s*(?P<m>\d{1,2})?\s*[/.-]?\s*năm\s*(?P<y>\d{4})", re.I)
SHORT_DATE = re.compile(r"(?<![\d/])(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4})(?!\d)")
MONTH_YEAR = re.compile(r"tháng\s*(?P<m>\d{1,2})\s*(?:[/.-]|năm)\s*(?P<y>\d{4})", re.I)


def iso_date(day: Optional[str], month: Optional[str], year: Optional[str]) -> tuple[Optional[str], bool]:
    """ISO date, partial when the day or month is blank; (None, True) when impossible."""
    if not year:
        return None, False
    y = int(year)
    if not 1900 <= y <= 2100:
        return None, True
    if not month:
        return (f"{y:04d}", False) if not day else (None, True)
    m = int(month)
    if not 1 <= m <= 12:
        return None, True
    if not day:
        return f"{y:04d}-{m:02d}", False
    try:
        return dt.date(y, m, int(day)).isoformat(), False
    except ValueError:
        return None, True


def parse_date(text: str) -> tuple[Optional[str], bool, Optional[re.Match]]:
    """The first date in text: (iso or None, impossible?, match)."""
    found = [m for m in (LONG_DATE.search(text), SHORT_DATE.search(text)) if m]
    if not found:
        return None, False, None
    m = min(found, key=lambda x: x.start())
    iso, invalid = iso_date(m.group("d"), m.group("m"), m.group("y"))
    return iso, invalid, m
