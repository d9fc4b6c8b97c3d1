"""Who the letter is to and from: Kính gửi (recipients), Nơi nhận (distribution), signature."""
from __future__ import annotations

import re
from typing import Optional

from normalizers.agency_names import expand_abbreviations, is_upper, sentence_case
from normalizers.unicode import collapse_spaces
from pipeline.model import Document, Signer

KINH_GUI = re.compile(r"^\s*kính\s*gửi\s*:?\s*(?P<rest>.*)$", re.I)
# a công điện lists its addressees after "THỦ TƯỚNG CHÍNH PHỦ điện:"
DIEN = re.compile(r"^\s*(?P<who>[A-ZĐÀ-Ỹ][^:]{2,80}?)\s+điện\s*:?\s*(?P<rest>.*)$")
NOI_NHAN = re.compile(r"^\s*nơi\s*nhận\s*:?\s*(?P<rest>.*)$", re.I)
# TM. / T/M (thay mặt), KT. / K/T (ký thay), TL. / T/L (thừa lệnh), TUQ. (thừa ủy quyền), Q. (quyền)
AUTHORITY = re.compile(r"^(TM|T/M|T\.M)\s*[.:]?\s+(?P<rest>.+)$", re.I)
CAPACITY = re.compile(r"^(KT|K/T|TL|T/L|TUQ|Q|Q\.)\s*[.:]?\s+(?P<rest>.+)$", re.I)
TITLE_WORDS = re.compile(r"^(PHÓ\s+)?(CHỦ TỊCH|BÍ THƯ|BỘ TRƯỞNG|THỨ TRƯỞNG|THỦ TƯỚNG|GIÁM ĐỐC|CHÁNH VĂN PHÒNG|"
                         r"TRƯỞNG BAN|CHÁNH THANH TRA|CỤC TRƯỞNG|VIỆN TRƯỞNG|TỔNG GIÁM ĐỐC|HIỆU TRƯỞNG|"
                         r"TRƯỞNG PHÒNG|CHÁNH ÁN|TỔNG CỤC TRƯỞNG|CHỦ NHIỆM|TRƯỞNG|THỦ TRƯỞNG)\b", re.I)
NAME = re.compile(r"^(?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]+|[A-ZĐÀ-Ỹ]\.)(?:\s+[A-ZĐÀ-Ỹ][a-zà-ỹđ]+){1,5}$")
BULLET = re.compile(r"^\s*[-–+•*]\s*")
# person titles keep their capitals as in the signature block convention: Phó Chủ tịch, Bí thư
TITLE_CASE = {"chủ tịch": "Chủ tịch", "bí thư": "Bí thư", "bộ trưởng": "Bộ trưởng", "thứ trưởng": "Thứ trưởng",
              "thủ tướng": "Thủ tướng", "giám đốc": "Giám đốc", "ban thường vụ": "Ban Thường vụ",
              "ban chấp hành": "Ban Chấp hành", "thường trực": "Thường trực"}


def clean_entry(entry: str) -> str:
    entry = BULLET.sub("", entry.strip())
    entry = collapse_spaces(entry.strip("*").strip())
    return entry.rstrip(" ;,.").strip()


def _title_case(text: str) -> str:
    """"PHÓ CHỦ TỊCH" -> "Phó Chủ tịch"; "TM. ỦY BAN NHÂN DÂN" -> "TM. Ủy ban nhân dân"."""
    if not is_upper(text):
        return text
    s = sentence_case(text)
    low = s.lower()
    for key, value in TITLE_CASE.items():
        i = low.find(key)
        if i > 0:
            s = s[:i] + value + s[i + len(key):]
    return s[:1].upper() + s[1:]


def split_list_block(lines: list[str], start_rest: str) -> tuple[list[str], int]:
    """Entries of a Kính gửi / Nơi nhận list: dash items, or one inline entry; returns (entries, lines used)."""
    entries: list[str] = []
    used = 0
    if start_rest.strip():
        parts = re.split(r"\s+[-–]\s+(?=[A-ZĐÀ-Ỹa-z])", " " + start_rest.strip())
        entries.extend(p for p in (clean_entry(x) for x in parts) if p)
    for line in lines:
        s = line.strip().strip("*").strip()
        if not s:
            used += 1
            if entries and not BULLET.match(_next_nonblank(lines, used)):
                break
            continue
        if BULLET.match(s):
            entries.append(clean_entry(s))
        elif entries and _ends_open(lines, used) and not is_upper(s):
            entries[-1] = clean_entry(entries[-1] + " " + s)
        else:
            break
        used += 1
    return [e for e in entries if e], used


def _ends_open(lines: list[str], used: int) -> bool:
    prev = lines[used - 1].rstrip() if used else ""
    return bool(prev) and prev[-1] not in ";.:"


def _next_nonblank(lines: list[str], i: int) -> str:
    for line in lines[i:]:
        if line.strip():
            return line.strip()
    return ""


def extract_parties(doc: Document, settings: dict) -> Document:
    lines = doc.text.split("\n")
    for i, line in enumerate(lines[:80]):
        m = KINH_GUI.match(line)
        if m:
            doc.recipients, _ = split_list_block(lines[i + 1:], m.group("rest"))
            break
        m = DIEN.match(line)
        if m and doc.doc_type == "Công điện":
            doc.recipients, _ = split_list_block(lines[i + 1:], m.group("rest"))
            break
    closing_start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        m = NOI_NHAN.match(lines[i])
        if m:
            doc.distribution, _ = split_list_block(lines[i + 1:], m.group("rest"))
            closing_start = i
            break
    doc.signer = extract_signer(lines, closing_start)
    if not doc.issuer:
        doc.issuer = issuer_from_signature(doc)
    return doc


def extract_signer(lines: list[str], closing_start: int) -> Signer:
    """The signature block sits beside or after Nơi nhận: authority, capacity, title, name."""
    signer = Signer()
    if closing_start >= len(lines):     # no Nơi nhận: the first signature-like block after the body
        closing_start = next((i for i, l in enumerate(lines) if i > 5 and _is_sign_line(l.strip().strip("*").strip())),
                             max(0, len(lines) - 12))
    region = [l.strip().strip("*").strip() for l in lines[max(0, closing_start - 12):closing_start + 120]]
    region = _join_prefix_lines([l for l in region if l and not BULLET.match(l)])
    start = next((i for i, s in enumerate(region) if _is_sign_line(s)), None)
    if start is None:
        return signer
    block = region[start:start + 8]
    k = 0
    while k < len(block):
        s = block[k].rstrip(",").strip()
        m_auth, m_cap = AUTHORITY.match(s), CAPACITY.match(s)
        if m_auth and is_upper(s):
            signer.authority = signer.authority or _prefix(s) + _title_case(m_auth.group("rest"))
        elif m_cap and is_upper(s):
            cap = m_cap.group("rest")
            # "KT. BỘ TRƯỞNG, / CHỦ NHIỆM": a comma carries the capacity onto the next line
            if block[k].rstrip().endswith(",") and k + 1 < len(block) and is_upper(block[k + 1]):
                cap = f"{cap}, {block[k + 1]}"
                k += 1
            signer.capacity = signer.capacity or _prefix(s) + _title_case(cap)
        elif is_upper(s) and not signer.title and len(s) < 60:
            signer.title = _title_case(s)
        elif NAME.match(s) and not is_upper(s):
            nxt = block[k + 1] if k + 1 < len(block) else ""
            signer.name = f"{s} {nxt}" if re.fullmatch(r"[A-ZĐÀ-Ỹ][a-zà-ỹđ]+", nxt) else s
            break
        elif signer.title and is_upper(s) and NAME.match(s.title()) and not TITLE_WORDS.match(s):
            signer.name = s.title()
            break
        else:
            break
        k += 1
    return signer


def _is_sign_line(s: str) -> bool:
    return bool(is_upper(s) and (AUTHORITY.match(s) or CAPACITY.match(s)
                                 or (TITLE_WORDS.match(s) and len(s) < 40)))


def _join_prefix_lines(region: list[str]) -> list[str]:
    """"TL." alone on a line belongs to the line under it."""
    out: list[str] = []
    for s in region:
        if out and re.fullmatch(r"(TM|T/M|KT|K/T|TL|T/L|TUQ|Q)\.?", out[-1]):
            out[-1] = f"{out[-1]} {s}"
        else:
            out.append(s)
    return out


def _prefix(s: str) -> str:
    m = re.match(r"^([A-Za-z/.]+?\.?)\s+", s)
    head = m.group(1) if m else ""
    return (head if head.endswith(".") or "/" in head else head + ".") + " "


def issuer_from_signature(doc: Document) -> Optional[str]:
    """No header: the body named in "TM. Ủy ban nhân dân", with the level and province the text uses."""
    if not doc.signer.authority:
        return None
    body = re.sub(r"^\S+\s+", "", doc.signer.authority)          # drop "TM."
    level = re.search(rf"(?:{re.escape(body)}|UBND|HĐND)\s+(tỉnh|thành phố|huyện|xã|phường)", doc.text, re.I)
    from normalizers.agency_names import provinces
    counts = {p: doc.text.count(p) for p in provinces()}
    province = max(counts, key=counts.get) if counts and max(counts.values()) > 0 else None
    parts = [expand_abbreviations(body)]
    if level:
        parts.append(level.group(1).lower())
    if province and level:
        parts.append(province)
    return " ".join(parts)
