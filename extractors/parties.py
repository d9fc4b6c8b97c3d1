"""Who the letter is to and from: Kính gửi (recipients), Nơi nhận (distribution), signature."""
from __future__ import annotations

import functools
import re
from typing import Optional

from normalizers.agency_names import expand_abbreviations, is_upper, sentence_case
from normalizers.unicode import collapse_spaces
from pipeline.model import Document, Signer
from pipeline.resources import load_data_yaml

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
        if i >= 0:
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
    # the letter's Nơi nhận sits beside its signature; a form in an annex may end in a blank
    # one ("Nơi nhận: - ……; NGƯỜI KÝ (Ký, ghi rõ họ tên)"): the last one with a signed name
    # wins, and the distribution list is the Nơi nhận next to that signature
    noi_nhan = [i for i in range(len(lines) - 1, -1, -1) if NOI_NHAN.match(lines[i])]
    doc.signer, at = _signer_at(lines, noi_nhan[0] if noi_nhan else len(lines))
    for i in noi_nhan[1:]:
        if doc.signer.name:
            break
        earlier, earlier_at = _signer_at(lines, i)
        if earlier.name:
            doc.signer, at = earlier, earlier_at
    if noi_nhan:
        # the nearest Nơi nhận above the signature, else (signature printed first) below it
        above = [i for i in noi_nhan if at is not None and i <= at]
        closing_start = noi_nhan[0] if at is None else (above[0] if above else min(noi_nhan))
        rest = NOI_NHAN.match(lines[closing_start]).group("rest")
        doc.distribution, _ = split_list_block(lines[closing_start + 1:], rest)
    if not doc.issuer:
        doc.issuer = issuer_from_signature(doc)
    return doc


def _signer_at(lines: list[str], closing_start: int) -> tuple[Signer, Optional[int]]:
    """The signer and the line its block starts on.  The signature block sits beside or
    after Nơi nhận (line ``closing_start``; len(lines) when there is none): authority,
    capacity, title, name.  The first signature-like block that ends in a name is taken (a quyết định opens with its signer's title, "CHỦ TỊCH ỦY BAN
    NHÂN DÂN TỈNH …", which signs nothing); when none does, what the first one gives."""
    if closing_start >= len(lines):     # no Nơi nhận: anywhere after the first lines
        lo, hi = 5, len(lines)
    else:
        lo, hi = max(0, closing_start - 12), closing_start + 120
    region = [(i, lines[i].strip().strip("*").strip()) for i in range(lo, min(hi, len(lines)))]
    region = _join_prefix_lines([(i, l) for i, l in region if l and not BULLET.match(l)])
    texts = [l for _, l in region]
    first: Optional[tuple[Signer, int]] = None
    for start, (line_no, line) in enumerate(region):
        if not _is_sign_line(line):
            continue
        signer = _read_block(texts[start:start + 8])
        if signer.name:
            return signer, line_no
        first = first or (signer, line_no)
    return first or (Signer(), None)


def _read_block(block: list[str]) -> Signer:
    signer = Signer()
    k = 0
    while k < len(block):
        s = block[k].rstrip(",").strip()
        nxt = block[k + 1] if k + 1 < len(block) else ""
        m_auth, m_cap = AUTHORITY.match(s), CAPACITY.match(s)
        name = _ranks().sub("", s)      # "Thượng tướng Vũ Hải Sản": the rank is not the name
        # a line cut short in a narrow column goes on below: "TM. ỦY BAN / NHÂN DÂN",
        # "KT. BỘ / TRƯỞNG": a capital line that is no title or signature line of its own,
        # with a title line still to come below it
        after = block[k + 2] if k + 2 < len(block) else ""
        wrapped = is_upper(nxt) and not _is_sign_line(nxt) and len(nxt) < 40 and is_upper(after)
        if m_auth and is_upper(s):
            body = m_auth.group("rest")
            if wrapped:
                body, k = f"{body} {nxt}", k + 1
            signer.authority = signer.authority or _prefix(s) + _title_case(body)
        elif m_cap and is_upper(s):
            cap = m_cap.group("rest")
            # "KT. BỘ TRƯỞNG, / CHỦ NHIỆM": a comma carries the capacity onto the next line
            if block[k].rstrip().endswith(",") and is_upper(nxt):
                cap = f"{cap}, {nxt}"
                k += 1
            elif not TITLE_WORDS.search(cap) and (wrapped or TITLE_WORDS.fullmatch(nxt)):
                cap, k = f"{cap} {nxt}", k + 1
            signer.capacity = signer.capacity or _prefix(s) + _title_case(cap)
        elif is_upper(s) and not signer.title and len(s) < 60:
            title = s
            # "TRƯỞNG BAN BAN CHÍNH SÁCH, / THUẾ QUỐC TẾ": the title goes on after a comma
            if block[k].rstrip().endswith(",") and is_upper(nxt) and not TITLE_WORDS.match(nxt):
                title = f"{s}, {nxt}"
                k += 1
            signer.title = _title_case(title)
        elif signer.title and is_upper(s) and TITLE_WORDS.match(s) and len(s) < 60:
            # "TL. CỤC TRƯỞNG / KT. TRƯỞNG BAN … / PHÓ TRƯỞNG BAN": the last title is the signer's
            signer.title = _title_case(s)
        elif NAME.match(name) and not is_upper(name):
            # a surname alone on its line: the name goes on below ("Bùi / Xuân Cường")
            signer.name = f"{name} {nxt}" if re.fullmatch(r"[A-ZĐÀ-Ỹ][a-zà-ỹđ]+", nxt) else name
            break
        elif re.fullmatch(r"[A-ZĐÀ-Ỹ][a-zà-ỹđ]+", name) and NAME.match(f"{name} {nxt}"):
            signer.name = f"{name} {nxt}"
            break
        elif signer.title and is_upper(s) and any(NAME.match(_ranks().sub("", b)) and not is_upper(b)
                                                   for b in block[k + 1:k + 4]):
            # a name in mixed case follows: this capital line still belongs to the title
            # ("TRƯỞNG BAN / NGHIỆP VỤ THUẾ HQ / PHÓ TRƯỞNG BAN / Đào Thu Hương")
            signer.title = f"{signer.title} {_title_case(s)}"
        elif signer.title and is_upper(name) and NAME.match(name.title()) and not TITLE_WORDS.match(name):
            signer.name = name.title()
            break
        else:
            break
        k += 1
    return signer


@functools.lru_cache(maxsize=1)
def _ranks() -> re.Pattern:
    """Ranks and degrees written before a signer's name (data/grammar.yaml: signer_ranks)."""
    ranks = sorted(load_data_yaml("grammar.yaml")["signer_ranks"], key=len, reverse=True)
    return re.compile(rf"^(?:(?:{'|'.join(ranks)})(?:\.\s*|\s+))+", re.I)


def _is_sign_line(s: str) -> bool:
    return bool(is_upper(s) and (AUTHORITY.match(s) or CAPACITY.match(s)
                                 or (TITLE_WORDS.match(s) and len(s) < 40)))


def _join_prefix_lines(region: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """"TL." alone on a line belongs to the line under it (line numbers kept)."""
    out: list[tuple[int, str]] = []
    for i, s in region:
        if out and re.fullmatch(r"(TM|T/M|KT|K/T|TL|T/L|TUQ|Q)\.?", out[-1][1]):
            out[-1] = (out[-1][0], f"{out[-1][1]} {s}")
        else:
            out.append((i, s))
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
