"""Documents the text cites (văn bản viện dẫn): type, number and symbol, date, issuer."""
from __future__ import annotations

import re
from typing import Optional

from extractors.dates import iso_date
from extractors.header import doc_types
from normalizers.agency_names import expand_abbreviations
from normalizers.unicode import collapse_spaces
from pipeline.model import Document, Reference

# number and symbol as cited: 15/CT-UBND, 58-CV/TU, 23/2021/QĐ-TTg, 9816-CV/BTGTW
NS = r"\d{1,6}[a-z]?\s?[/-]\s?(?:\d{4}/)?[A-ZĐ][A-Za-zĐđ0-9]*(?:[-/.][A-ZĐ0-9][A-Za-zĐđ0-9]*)*"
DATE = (r"(?:ngày\s+(?:(?P<d1>\d{1,2})\s*[/.-]\s*(?P<m1>\d{1,2})\s*[/.-]\s*(?P<y1>\d{4})"
        r"|(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})\s+năm\s+(?P<y2>\d{4})))")
ISSUER_STOP = re.compile(r"\s+(?:về|v/v|quy định|ban hành|hướng dẫn|thông báo|phê duyệt|tại|đã|trong|"
                         r"và\s+(?=[a-zà-ỹđ]))|[;,.(:]", re.I)


def _type_pattern() -> str:
    _, _, data = doc_types()
    names = sorted(set(data["types"]) | set(data["citation_only"]), key=len, reverse=True)
    return "|".join(re.escape(n) for n in names)


def _cite_re() -> re.Pattern:
    return re.compile(
        rf"(?P<type>{_type_pattern()})?\s*(?:số\s*:?\s*)?(?P<ns>{NS})\s*,?\s*(?:{DATE})?"
        rf"(?:\s*(?:của|do)\s+(?P<issuer>[^;]{{3,80}}))?", re.I)


def _issuer_text(raw: Optional[str]) -> Optional[str]:
    if not raw:
        return None
    cut = ISSUER_STOP.search(raw)
    name = collapse_spaces(raw[:cut.start()] if cut else raw)
    return name or None


def issuer_from_symbol(symbol_ns: str) -> Optional[str]:
    _, _, data = doc_types()
    parts = re.split(r"[-/]", symbol_ns)
    for part in reversed(parts):
        if part in data["org_codes"]:
            return data["org_codes"][part]
    return None


def canonical_issuer(name: Optional[str], ns: str, doc: Document) -> Optional[str]:
    """"UBND tỉnh" in a letter of that same province means its own People's Committee."""
    if name:
        name = expand_abbreviations(name)
        if doc.issuer and re.fullmatch(r"(Ủy ban nhân dân|Hội đồng nhân dân|Tỉnh ủy)\s+(tỉnh|thành phố)", name, re.I):
            local = re.match(r"(.+?)\s+(tỉnh|thành phố)\s+(.+)$", doc.issuer or "")
            if local:
                return f"{name[:1].upper()}{name[1:]} {local.group(3)}"
        if not re.search(r"(Chính phủ|Bộ|Ban|Ủy ban|Hội đồng|Tỉnh ủy|Thành ủy|Văn phòng|Sở|Cục|Quốc hội|Thủ tướng|"
                         r"Trung ương|Chủ tịch|Tòa án|Viện|Kho bạc|Ngân hàng|Thanh tra|Đảng)", name):
            name = None
    return name or issuer_from_symbol(ns)


def _ns_key(ns: str) -> str:
    return re.sub(r"[^0-9A-ZĐ]", "", ns.upper())


def extract_references(doc: Document, settings: dict) -> Document:
    text = re.sub(r"(?<=[A-ZĐ0-9])([/-])\s*\n\s*(?=[A-ZĐ])", r"\1", doc.text)  # "4869/UBND-\nSYT"
    text = re.sub(r"\s*\n\s*", " ", text)
    own = _ns_key(doc.number_symbol) if doc.number_symbol else None
    found: dict[str, Reference] = {}
    last_type: Optional[str] = None
    last_issuer: Optional[str] = None
    last_end = -1
    for m in _cite_re().finditer(text):
        ns = re.sub(r"\s+", "", m.group("ns"))
        if not re.search(r"[A-ZĐ]{2,}", ns):
            continue
        key = _ns_key(ns)
        if own and key == own:
            continue
        dtype = m.group("type")
        gap = text[last_end:m.start()] if last_end >= 0 else ""
        if not dtype and last_type and len(gap) < 200 and re.search(r"(;|,|và)\s*(số\s*)?$", gap.strip() + " ") \
                and re.search(r"\bsố\s*$", text[max(0, m.start() - 6):m.start()] + text[m.start():m.start("ns")], re.I):
            dtype = last_type     # "Nghị quyết của Chính phủ: Số 68/NQ-CP …; số 105/NQ-CP …"
        if not dtype:
            # "các Nghị quyết của Chính phủ: Số 68/NQ-CP …": the type stands before a colon
            before = text[max(0, m.start() - 80):m.start()]
            lead = re.search(rf"({_type_pattern()})[^.;:]{{0,60}}:\s*$", before, re.I)
            if lead and not re.search(NS, before[lead.end():]):
                dtype = lead.group(1)
        if not dtype:
            continue
        dtype = _type_name(dtype)
        date = None
        if m.group("y1") or m.group("y2"):
            date, _ = iso_date(m.group("d1") or m.group("d2"), m.group("m1") or m.group("m2"),
                               m.group("y1") or m.group("y2"))
        issuer = canonical_issuer(_issuer_text(m.group("issuer")), ns, doc)
        if not issuer and dtype == last_type and last_issuer:
            issuer = last_issuer
        if dtype == "Văn bản":
            dtype = _type_from_ns(ns) or dtype
        ref = Reference(doc_type=dtype, number_symbol=ns, issue_date=date, issuer=issuer)
        prev = found.get(key)
        if prev is None:
            found[key] = ref
        else:
            _merge(prev, ref, doc)
        last_type, last_issuer, last_end = dtype, issuer, m.end()
    doc.references = list(found.values())
    return doc


def _type_name(printed: str) -> str:
    by_key, _, data = doc_types()
    for name in list(data["types"]) + data["citation_only"]:
        if name.lower() == printed.lower():
            return name
    return printed


def _type_from_ns(ns: str) -> Optional[str]:
    from extractors.header import type_from_symbol
    sym = re.sub(r"^\d+[a-z]?[/-]", "", ns)
    return type_from_symbol(sym)


def _merge(prev: Reference, new: Reference, doc: Document) -> None:
    """The same document cited twice: keep the first type; prefer the form that fits its family."""
    prev.issue_date = prev.issue_date or new.issue_date
    prev.issuer = prev.issuer or new.issuer
    state_form = re.compile(r"^\d+[a-z]?/(\d{4}/)?[A-ZĐ]+-")
    party_codes = ("TW", "TU", "HU", "ĐU", "BTGTW", "BTCTW", "TrU")
    is_party = prev.number_symbol.split("/")[-1] in party_codes or new.number_symbol.split("/")[-1] in party_codes
    if not is_party and not state_form.match(prev.number_symbol) and state_form.match(new.number_symbol):
        prev.number_symbol = new.number_symbol
