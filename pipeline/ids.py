"""Stable ids for the feed: documents, tasks and duties.

- document: ``doc_id``, the first 16 hex digits of the SHA-256 of the source bytes
  (RECORDS.md), so the same file always has the same id wherever it lies;
- task: ``<doc_id>:<task_id>`` (task ids are printed label paths: ``6.d``, ``VI.1``);
- duty: ``<doc_id>:<task_id>:<agency-key>:<role>``, where the agency key is the agency
  name folded to lower-case ASCII words joined by ``-`` (``Sở Nội vụ`` -> ``so-noi-vu``),
  so that a re-run that only changes case, spacing, punctuation or restored diacritics
  of a name keeps the id.

A duty a clerk corrected keeps the id it had when the pipeline extracted it, so a
tracking system sees an update rather than a delete and an insert.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path
from typing import Union

ROLES = ("lead", "coordinate", "requested", "addressee")

_SPECIAL = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ơ": "o", "ư": "u"})


class _FoldTable(dict):
    """code point -> its folded character, computed when first met (a ``str.translate`` table)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        base = unicodedata.normalize("NFD", ch.translate(_SPECIAL))[0].lower()
        self[code] = folded = base[:1] or ch
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lower-case text without diacritics (``Đ`` -> ``d``), one output char per input char.
    (``str.translate`` over a cached table: no list of one-character strings, which for a
    100,000-character letter took ~6 MB at once.)"""
    return unicodedata.normalize("NFC", text or "").translate(_FOLD)


def doc_id_from_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def doc_id_from_file(path: Union[str, Path]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def agency_key(name: str) -> str:
    """``Sở Nội vụ (Ban Thi đua - Khen thưởng tỉnh)`` -> ``so-noi-vu-ban-thi-dua-khen-thuong-tinh``."""
    words = re.findall(r"[0-9a-z]+", fold(name or ""))
    return "-".join(words) or "_"


def task_key(doc_id: str, task_id: str) -> str:
    return f"{doc_id}:{task_id}"


def duty_id(doc_id: str, task_id: str, agency: str, role: str) -> str:
    return f"{doc_id}:{task_id}:{agency_key(agency)}:{role}"


def split_duty_id(value: str) -> tuple[str, str, str, str]:
    """Inverse of ``duty_id`` (doc_id, task_id, agency_key, role); task ids hold no ``:``."""
    doc_id, task_id, key, role = value.rsplit(":", 3) if value.count(":") >= 3 else (value, "", "", "")
    if ":" in doc_id:  # cannot happen for our ids; be strict
        raise ValueError(f"not a duty id: {value!r}")
    return doc_id, task_id, key, role


def normalize_number_symbol(value: str) -> str:
    """Comparable form of a number and symbol: no spaces, upper-case, no diacritics, one kind of dash."""
    v = re.sub(r"\s+", "", unicodedata.normalize("NFC", value or ""))
    v = re.sub(r"[‐‑‒–—―]", "-", v)
    return fold(v).upper()
