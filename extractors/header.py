"""The letter's header (Decree 30/2020 and Party rules): family, type, number and symbol,
place and date, issuer, subject (trích yếu).
"""
from __future__ import annotations

import functools
import re
from typing import Optional

from extractors.dates import LONG_DATE, iso_date
from normalizers.agency_names import expand_abbreviations, is_upper, sentence_case
from normalizers.unicode import collapse_spaces, match_key
from pipeline.model import Document
from pipeline.resources import load_data_yaml

MOTTO = re.compile(r"c[ộo]ng\s*h[òoà]a\s*x[ãa]\s*h[ộo]i\s*ch[ủu]\s*ngh[ĩi]a\s*vi[ệe]t\s*nam", re.I)
MOTTO_2 = re.compile(r"đ[ộo]c\s*l[ậa]p\s*[-–]\s*t[ựu]\s*do\s*[-–]\s*h[ạa]nh\s*ph[úu]c", re.I)
PARTY = re.compile(r"đ[ảa]ng\s*c[ộo]ng\s*s[ảa]n\s*vi[ệe]t\s*nam", re.I)
SEPARATOR = re.compile(r"^[\s\-_=*~.–—]+$")
# "Số: 15/CT-UBND", "Số 58-CV/TU", "Số: /UBND-VX", "Số: 030/2025/QĐ-UBND"
NUMBER_LINE = re.compile(   # "Số" as printed, or OCR-damaged ("Sbé:") when a colon follows
    r"(?<!\w)(?:S[ốô]\s*(?:[:.]\s*|\s)|S[^\s:/]{1,3}\s*:\s*)(?P<num>\d{1,6}(?:[a-z])?)?\s*(?P<sep>[/-])\s*"
    r"(?P<sym>[A-ZĐ0-9][A-Za-zĐđ0-9.&]*(?:\s*[-/]\s*[A-ZĐ0-9][A-Za-zĐđ0-9.&]*)*)")
PLACE_DATE = re.compile(
    r"(?P<place>[A-ZĐÀ-Ỹ][^\d,:;\n]{1,40}?)\s*,\s*" + LONG_DATE.pattern, re.I)
VV_LINE = re.compile(r"^\s*(?:V/v|V/V|v/v)\b\.?:?\s*(?P<rest>.*)$")
KINH_GUI = re.compile(r"^\s*kính\s*gửi\b", re.I)
LOCALITY = re.compile(r"^(TỈNH(?! ỦY| UỶ)|THÀNH PHỐ|TP\.?|HUYỆN(?! ỦY| UỶ)|QUẬN|THỊ XÃ|XÃ|PHƯỜNG|THỊ TRẤN)\b")
SUB_BODY = re.compile(r"^(SỞ|BAN|PHÒNG|TRUNG TÂM|CHI CỤC|CỤC|VĂN PHÒNG|ĐẢNG ỦY|ĐẢNG ĐOÀN|BAN CÁN SỰ|"
                      r"HỘI ĐỒNG|TRƯỜNG|BỆNH VIỆN|THANH TRA|KHO BẠC|CÔNG AN|BỘ CHỈ HUY|ĐÀI|BÁO|"
                      r"TỔNG CỤC|VỤ|VIỆN|ỦY BAN|UỶ BAN|BCĐ|BAN CHỈ ĐẠO)\b")
# where the header ends at the latest
BODY_START = re.compile(r"^\s*(căn cứ|thực hiện|theo|xét|hiện nay|trong|nhằm|để|ngày\s+\d)", re.I)


@functools.lru_cache(maxsize=1)
def doc_types():
    data = load_data_yaml("doc_types.yaml")
    by_key = {match_key(name): name for name in data["types"]}
    by_code = {}
    for name, codes in data["types"].items():
        for code in codes:
            by_code[code.upper()] = name
    return by_key, by_code, data


def type_from_line(line: str) -> Optional[str]:
    by_key, _, _ = doc_types()
    s = collapse_spaces(line).strip(" :.*")
    if not s or not is_upper(s) and not s.istitle():
        return None
    return by_key.get(match_key(s))


def type_from_symbol(symbol: Optional[str]) -> Optional[str]:
    """"CT-UBND" -> Chỉ thị; "CV/TU" -> Công văn; "2025/QĐ-UBND" -> Quyết định."""
    if not symbol:
        return None
    _, by_code, _ = doc_types()
    for part in re.split(r"[-/]", symbol):
        code = part.strip().upper()
        if code.isdigit():
            continue
        return by_code.get(code)
    return None


def parse_number_symbol(text: str) -> Optional[dict]:
    m = NUMBER_LINE.search(text)
    if not m:
        return None
    num = m.group("num")
    symbol = re.sub(r"\s+", "", m.group("sym")).rstrip(".-/")
    ns = f"{num}{m.group('sep')}{symbol}" if num else None
    return {"number": num, "symbol": symbol, "number_symbol": ns, "match": m}


def parse_place_date(text: str) -> Optional[dict]:
    m = PLACE_DATE.search(text) or _bare_place_date(text)
    if not m:
        return None
    place = collapse_spaces(m.group("place")).strip(" -*")
    place = re.sub(r"^(?:.*\b)?(?:phúc|NAM)\s+", "", place)  # motto remains on the same line
    place = re.sub(r"^(?:\S*[/\d]\S*\s+|[A-ZĐ]+-[A-ZĐ]\S*\s+)+", "", place)  # a symbol on the same line
    place = gazetteer_place(place)
    iso, invalid = iso_date(m.group("d"), m.group("m"), m.group("y"))
    return {"place": place, "issue_date": iso, "invalid": invalid,
            "printed": collapse_spaces(m.group(0)[m.start("d") - m.start() if m.group("d") else 0:]),
            "match": m}


# "Hà Nội ngày 01 tháng 12 năm 2025": the comma left out; taken only when a line opens with
# a province of the gazetteer (a body line "Căn cứ Luật … ngày …" has the same shape)
BARE_PLACE_DATE = re.compile(r"^\s*(?P<place>[A-ZĐÀ-Ỹ][^\d,:;\n]{1,30}?)\s+" + LONG_DATE.pattern,
                             re.I | re.M)


def _bare_place_date(text: str):
    from normalizers.agency_names import provinces
    for m in BARE_PLACE_DATE.finditer(text):
        if gazetteer_place(collapse_spaces(m.group("place")).strip(" -*")) in provinces():
            return m
    return None


def gazetteer_place(place: str) -> str:
    """A province name as the gazetteer spells it when only its accents differ ("Lại Châu")."""
    from normalizers.agency_names import provinces
    from normalizers.syllables import strip_accents
    key = strip_accents(place).lower()
    for name in provinces():
        if strip_accents(name).lower() == key:
            return name
    return place


def header_region(lines: list[str], limit: int = 60) -> int:
    """Index of the first body line: the header ends at Kính gửi, a long paragraph or a body opener."""
    in_vv = False        # a V/v block may wrap into long lines (scans): it is still header
    for i, raw in enumerate(lines[:limit]):
        s = raw.strip()
        if not s:
            in_vv = False
            continue
        if VV_LINE.match(s):
            in_vv = True
        if KINH_GUI.match(s):
            return i
        if type_from_line(s):
            continue
        if len(s) > 160 and not in_vv or (len(s) > 100 and not in_vv and not is_upper(s) and not PLACE_DATE.search(s)) \
                or (BODY_START.match(s) and not NUMBER_LINE.search(s) and i > 0):
            return i
        if re.match(r"^(\d{1,2}|[IVX]{1,4})\s*[.)-](\s|$)", s):   # the first task label
            return i
    return min(limit, len(lines))


def blank_motto(text: str) -> str:
    """Remove the national motto / Party name, which may span lines, keeping the line count."""
    for pattern in (MOTTO, MOTTO_2, PARTY):
        text = pattern.sub(lambda m: " " + "\n" * m.group(0).count("\n"), text)
    return text


def _issuer_lines(lines: list[str]) -> list[str]:
    out = []
    for raw in blank_motto("\n".join(lines)).split("\n"):
        s = collapse_spaces(raw.strip().strip("*"))
        number = NUMBER_LINE.search(s)
        if number:
            if s[:number.start()].strip():
                out.append(s[:number.start()].strip())
            break
        if PLACE_DATE.search(raw) or KINH_GUI.match(s) or type_from_line(s):
            break
        if not s or SEPARATOR.match(s):
            continue
        if not is_upper(s):
            break
        if not out or out[-1] != s:   # a serialised header can repeat its line
            out.append(s)
    return out


def compose_issuer(lines: list[str], symbol: Optional[str], context: str) -> tuple[Optional[str], Optional[str]]:
    """(issuer, parent) from the header lines: "UBND TỈNH X / SỞ Y TẾ" -> Sở Y tế tỉnh X, UBND tỉnh X."""
    lines = [l for l in lines if l]
    if not lines:
        return None, None
    parent = None
    if len(lines) >= 2 and SUB_BODY.match(lines[-1].upper()) and not LOCALITY.match(lines[-1].upper()):
        parent_raw = " ".join(lines[:-1])
        locality = re.search(r"\b(TỈNH|THÀNH PHỐ|TP\.?|HUYỆN|QUẬN|THỊ XÃ|XÃ|PHƯỜNG)\b.*$", parent_raw)
        raw = lines[-1] + (" " + locality.group(0) if locality else "")
        parent = expand_abbreviations(sentence_case(parent_raw, context))
    else:
        raw = " ".join(lines)
    issuer = expand_abbreviations(sentence_case(raw, context))
    if LOCALITY.match(raw.upper()) and symbol:
        # only the locality survived (scan damage): the body comes from the symbol's code
        body = _body_from_symbol(symbol)
        if body:
            issuer = f"{body} {issuer[:1].lower()}{issuer[1:]}"
    return issuer, parent


def _body_from_symbol(symbol: str) -> Optional[str]:
    _, _, data = doc_types()
    for part in reversed(re.split(r"[-/]", symbol)):
        if part in data["local_org_codes"]:
            return data["local_org_codes"][part]
    return None


def extract_header(doc: Document, settings: dict) -> Document:
    lines = doc.text.split("\n")
    end = header_region(lines)
    head = lines[:end]
    head_text = "\n".join(head)
    body_text = "\n".join(lines[end:])

    number = parse_number_symbol(head_text)
    if number:
        doc.number, doc.symbol, doc.number_symbol = number["number"], number["symbol"], number["number_symbol"]
    # the date line may sit below a Kính gửi block that ends the left column (scans)
    date = parse_place_date(head_text) or parse_place_date("\n".join(lines[:end + 15]))
    if date:
        doc.place = date["place"] or None
        doc.issue_date = date["issue_date"]
        if date["invalid"]:
            doc.warn("invalid_date", collapse_spaces(date["match"].group(0)))
    has_motto = bool(MOTTO.search(head_text) or MOTTO_2.search(head_text))
    is_party = bool(PARTY.search(head_text)) or bool(
        doc.number_symbol and re.match(r"^\d+-[A-ZĐ]+/", doc.number_symbol))

    # type line and the subject under it
    type_idx = next((i for i, l in enumerate(head) if type_from_line(l)), None)
    vv_idx = next((i for i, l in enumerate(head) if VV_LINE.match(l)), None)
    doc_type = type_from_line(head[type_idx]) if type_idx is not None else None
    if vv_idx is not None:
        doc.subject = _subject_lines(head, vv_idx + 1, first=VV_LINE.match(head[vv_idx]).group("rest"),
                                     block=True)
    elif type_idx is not None:
        doc.subject = _subject_lines(lines, type_idx + 1, first=None)
    if not doc_type and vv_idx is not None:
        doc_type = "Công văn"   # a V/v line makes a công văn, whatever its symbol's codes
    by_symbol = type_from_symbol(doc.symbol)
    if not doc_type or by_symbol in doc_types()[2].get("symbol_decides", []):
        doc_type = by_symbol or doc_type
    if not doc_type and doc.symbol:
        doc_type = "Công văn"   # a công văn's symbol names no type; it has a V/v line
    doc.doc_type = doc_type

    issuer_lines = _issuer_lines(head[: type_idx if type_idx is not None else len(head)])
    doc.issuer, doc.parent_issuer = compose_issuer(issuer_lines, doc.symbol, body_text)

    if doc.doc_type or doc.number_symbol or has_motto:
        doc.doc_family = "party" if is_party else "state"
    else:
        doc.doc_family = "none"
        doc.warn("not_official_letter", "no national motto, number, type line or V/v line: "
                                        "not an official letter; no header fields are given")
        first = next((l.strip() for l in lines if l.strip()), "")
        if len(first) < 200 and not first.endswith((".", ":", ";")):
            doc.subject = first      # a headline is the nearest thing to a title line
    return doc


def _dangling(line: str) -> bool:
    """A subject line that ends in a word needing more ("VỀ", "VỀ VIỆC", "CỦA"): the subject
    goes on after a blank line (data/grammar.yaml: subject_needs_more)."""
    words = line.lower().split()
    return bool(words) and words[-1] in load_data_yaml("grammar.yaml")["subject_needs_more"]


def _subject_lines(lines: list[str], start: int, first: Optional[str], block: bool = False) -> Optional[str]:
    """Join the subject's lines: stop at a blank line, unless a quote is open or the next
    line plainly continues (starts in lower case). A V/v block (``block``) runs to its blank
    line whatever its lines start with ("Covid-19", "Chính phủ")."""
    parts: list[str] = [first.strip()] if first and first.strip() else []
    i = start
    while i < len(lines):
        s = lines[i].strip().strip("*").strip()
        if not s:
            nxt = next((l.strip() for l in lines[i + 1:i + 4] if l.strip()), "")
            if parts and (_open_quote(" ".join(parts)) or nxt[:1].islower() or _dangling(parts[-1])):
                i += 1
                continue
            if parts:
                break
            i += 1
            continue
        if SEPARATOR.match(s) or PLACE_DATE.search(s) or KINH_GUI.match(s) or MOTTO.search(s) \
                or MOTTO_2.search(s) or PARTY.search(s) or NUMBER_LINE.search(s):
            break
        if parts and not block and not _open_quote(" ".join(parts)):
            prev_upper = is_upper(parts[-1])
            if s[:1].isupper() and not (prev_upper and is_upper(s)) and not parts[-1].endswith((",", "-")):
                break
            if prev_upper and is_upper(s) and _is_authority_line(s):
                break
        if BODY_START.match(s) and parts and not s[:1].islower() and not _dangling(parts[-1]) \
                and not (is_upper(s) and is_upper(parts[-1])):    # a capital title goes on
            break
        parts.append(s)
        i += 1
        if len(parts) > 8:
            break
    subject = collapse_spaces(" ".join(parts))
    subject = re.sub(r"(\w)- (\w)", r"\1-\2", subject) if re.search(r"\w- \d", subject) else subject
    return subject or None


def _open_quote(s: str) -> bool:
    return s.count("“") > s.count("”") or s.count('"') % 2 == 1


def _is_authority_line(s: str) -> bool:
    return bool(re.match(r"^(CHỦ TỊCH|THỦ TƯỚNG|BỘ TRƯỞNG|GIÁM ĐỐC|HỘI ĐỒNG|ỦY BAN|UỶ BAN|BAN CHẤP HÀNH|"
                         r"BAN THƯỜNG VỤ|CHÁNH|TỔNG|THỦ TRƯỞNG)\b", s))
