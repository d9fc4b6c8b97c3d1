"""Ingest: read a source file into pages of text (nguồn: txt, md, docx, pdf, images).

Scanned pages are left empty with origin "image" for the OCR stage to fill.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from pipeline.model import Document, Page, PipelineError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
SUPPORTED = TEXT_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES | IMAGE_SUFFIXES

# TCVN3 (ABC) and VNI fonts store Vietnamese letters in Latin-1 code points; text
# decoded as Unicode then shows runs of these characters instead of accented letters.
# Only the symbol code points: accented Latin letters also come from OCR noise ("dic bi¢t", "é").
_TCVN3_MARKERS = set("¸µ¶·¹¨»¾¼½©®ª«¬¯°±²³´ºÆ×÷þØÞÖÒÑÐßÝ")
_VNI_PATTERN = re.compile(r"[aeiouyAEIOUY][ØÙÛÕÏÂÊÔøùûõïâêô]|ñ|Ñ")


def read_text_bytes(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or UTF-16; refuse legacy 8-bit encodings."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16")
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    # UTF-16 without BOM: every other byte is NUL for Vietnamese/ASCII text
    if len(data) > 8 and data[1::2].count(0) > len(data) // 4:
        return data.decode("utf-16-le", errors="strict")
    if len(data) > 8 and data[0::2].count(0) > len(data) // 4:
        return data.decode("utf-16-be", errors="strict")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if looks_legacy_vietnamese(text):
            raise PipelineError("legacy_encoding",
                                "text is in a legacy Vietnamese encoding (TCVN3/VNI); "
                                "convert it to Unicode first (unsupported for now)")
        raise PipelineError("unsupported_encoding", "text is neither UTF-8 nor UTF-16")
    if looks_legacy_vietnamese(text):
        raise PipelineError("legacy_encoding",
                            "text looks like TCVN3/VNI legacy Vietnamese decoded as Unicode; "
                            "convert it to Unicode first (unsupported for now)")
    return text


def looks_legacy_vietnamese(text: str) -> bool:
    """True when the text reads as TCVN3/VNI bytes rather than Unicode Vietnamese."""
    sample = text[:20000]
    letters = sum(ch.isalpha() for ch in sample)
    if letters < 40:
        return False
    # â, ê, ô are TCVN3 bytes too (for ấ, ờ, ố): only letters TCVN3 cannot produce count as Unicode
    real_vn = sum(1 for ch in sample if "\u1ea0" <= ch <= "\u1ef9" or ch in "ăđơưĂĐƠƯ")
    legacy = sum(1 for ch in sample if ch in _TCVN3_MARKERS)
    vni = len(_VNI_PATTERN.findall(sample))
    return real_vn < 0.05 * letters and (legacy + vni) > 0.03 * letters


_MD_RULES = [
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])"), r"\1"),     # escaped characters
    (re.compile(r"(\*\*|__)(.+?)\1", re.S), r"\2"),           # bold
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?!\w)"), r"\1"),  # italics
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?!\w)"), r"\1"),
    (re.compile(r"^#{1,6}\s*", re.M), ""),                     # headings
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),                 # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),             # links
    (re.compile(r"^\s*>\s?", re.M), ""),                       # block quotes
    (re.compile(r" {2,}$", re.M), ""),                         # hard-break spaces
    (re.compile(r"^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*$", re.M), ""),  # table rules
]


def looks_like_markdown(text: str) -> bool:
    """Markdown saved as .txt (bold markers, escaped characters, # headings)."""
    bold = len(re.findall(r"\*\*[^*\n]+\*\*", text))
    escapes = len(re.findall(r"\\[*_#\-.]", text))
    headings = len(re.findall(r"^#{1,6} \S", text, re.M))
    return bold >= 2 or escapes >= 2 or headings >= 2


def strip_markdown(text: str) -> str:
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    return text.replace("\\*", "*")


def read_docx(path: Path) -> str:
    import docx  # python-docx
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # zip or XML damage
        raise PipelineError("corrupt_file", f"cannot open .docx: {exc}") from exc
    lines: list[str] = []

    def cell_text(cell) -> str:
        return "\n".join(p.text for p in cell.paragraphs)

    # header tables (two columns: issuer | motto) come first in letters; keep document order
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            for column in range(len(table.columns)):
                for row in table.rows:
                    try:
                        lines.append(cell_text(row.cells[column]))
                    except IndexError:
                        pass
                lines.append("")
    return "\n".join(lines)


def ingest(doc: Document, settings: dict) -> Document:
    path = Path(doc.path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise PipelineError("missing_file", f"no such file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise PipelineError("empty_file", "the file is empty")
    if size > settings.get("max_file_mb", 200) * 1024 * 1024:
        raise PipelineError("too_large", f"file is larger than {settings.get('max_file_mb', 200)} MB")
    if suffix in TEXT_SUFFIXES:
        text = read_text_bytes(path.read_bytes())
        if suffix in {".md", ".markdown"} or looks_like_markdown(text):
            text = strip_markdown(text)
        doc.media_type = "text"
        doc.pages = [Page(number=1, text=text, origin="text")]
    elif suffix in DOCX_SUFFIXES:
        doc.media_type = "docx"
        doc.pages = [Page(number=1, text=read_docx(path), origin="text")]
    elif suffix in PDF_SUFFIXES:
        from extractors.pdf import read_pdf_pages
        doc.media_type = "pdf"
        doc.pages = read_pdf_pages(path, settings)
    elif suffix in IMAGE_SUFFIXES:
        doc.media_type = "image"
        doc.pages = []  # the OCR stage reads images frame by frame
    else:
        raise PipelineError("unsupported_type", f"unsupported file type {suffix or '(none)'}")
    if doc.media_type in {"text", "docx"} and not any(p.text.strip() for p in doc.pages):
        raise PipelineError("empty_file", "the file has no text")
    return doc
