"""The one document model that flows through every stage.

A stage is a plain function ``stage(doc, settings) -> doc``; the fields below are
the record contract of ../shared/RECORDS.md, plus a few working fields (pages,
lines) that stages share and that are not written out.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

SCHEMA_VERSION = "1.0"


@dataclass
class Word:
    """One word read by OCR, with its box in page pixels and Tesseract confidence."""
    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    line: int = 0   # line number within the page, as read


@dataclass
class Page:
    """One page of a source: its text and where the text came from."""
    number: int                      # 1-based
    text: str = ""
    origin: str = "text"             # text | layer | ocr
    words: list[Word] = field(default_factory=list)
    width: int = 0
    height: int = 0
    mean_conf: Optional[float] = None
    image_path: Optional[str] = None  # a rendered image for review, when kept


@dataclass
class Warning:
    code: str
    message: str
    page: Optional[int] = None


@dataclass
class Signer:
    authority: Optional[str] = None   # TM. Ủy ban nhân dân
    capacity: Optional[str] = None    # KT. Chủ tịch
    title: Optional[str] = None       # Phó Chủ tịch
    name: Optional[str] = None


@dataclass
class Reference:
    """Another document cited by the text (văn bản được viện dẫn)."""
    doc_type: Optional[str] = None
    number_symbol: Optional[str] = None
    issue_date: Optional[str] = None
    issuer: Optional[str] = None


@dataclass
class Agency:
    """An agency that must act on a task, with its role (lead/coordinate/requested/addressee)."""
    name: str
    role: str
    needs_review: bool = False


@dataclass
class Task:
    """One labelled item of the operative part (nhiệm vụ)."""
    id: str
    title: Optional[str] = None
    text: str = ""
    agencies: list[Agency] = field(default_factory=list)
    deadline: Optional[str] = None
    page: Optional[int] = None
    label: str = ""                  # as printed: "1.", "a)", "VI."
    level: int = 0
    needs_review: bool = False
    box: Optional[list[int]] = None  # [left, top, right, bottom] on its page, for scans


@dataclass
class Document:
    doc_id: str
    source: str
    doc_family: Optional[str] = None     # state | party | none
    doc_type: Optional[str] = None
    number: Optional[str] = None
    symbol: Optional[str] = None
    number_symbol: Optional[str] = None
    issue_date: Optional[str] = None
    place: Optional[str] = None
    issuer: Optional[str] = None
    parent_issuer: Optional[str] = None  # cơ quan chủ quản: "Ủy ban nhân dân tỉnh X" above "Sở Y tế"
    subject: Optional[str] = None
    recipients: list[str] = field(default_factory=list)
    distribution: list[str] = field(default_factory=list)
    signer: Signer = field(default_factory=Signer)
    references: list[Reference] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    text: str = ""
    original_text: Optional[str] = None   # before diacritic restoration, when it changed anything
    warnings: list[Warning] = field(default_factory=list)
    needs_review: list[str] = field(default_factory=list)  # names of fields a clerk should check
    provenance: dict[str, Any] = field(default_factory=dict)  # field -> {page, box, conf}
    schema_version: str = SCHEMA_VERSION
    # working state shared between stages, not part of the record
    path: Optional[str] = dataclasses.field(default=None, repr=False)
    media_type: Optional[str] = None
    pages: list[Page] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    intro: str = ""                       # the text before the first task (who is asked to act)

    def warn(self, code: str, message: str, page: Optional[int] = None) -> None:
        self.warnings.append(Warning(code, message, page))

    def to_record(self) -> dict[str, Any]:
        """The Document object of RECORDS.md (plus added fields), ready for JSON."""
        d = dataclasses.asdict(self)
        for key in ("path", "pages", "timings", "intro"):
            d.pop(key, None)
        d["pages"] = [{"number": p.number, "origin": p.origin, "mean_conf": p.mean_conf,
                       "image_path": p.image_path, "width": p.width, "height": p.height}
                      for p in self.pages]
        return d


class PipelineError(Exception):
    """A per-file failure with a reason code (corrupt_pdf, legacy_encoding, …)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
