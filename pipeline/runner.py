"""One document, start to finish: the pure task function every executor runs."""
from __future__ import annotations

import hashlib
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pipeline.config import Config
from pipeline.model import Document, PipelineError
from pipeline.registry import get_stage


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class FileResult:
    """What one source file gave: its record (or none) and how it ended."""
    source: str
    status: str                      # ok | partial | failed
    document: Optional[dict[str, Any]] = None
    reason: Optional[str] = None     # reason code when failed, e.g. corrupt_pdf
    message: Optional[str] = None
    reasons: list[str] = field(default_factory=list)   # why partial
    timings: dict[str, float] = field(default_factory=dict)
    pages: int = 0
    pages_ocr: int = 0
    sha256: Optional[str] = None


# warnings that make a document "partial": something a clerk must look at
PARTIAL_CODES = {"invalid_date", "ocr_low_confidence", "page_failed", "not_official_letter_header"}


def run_stages(doc: Document, config: Config) -> Document:
    for name, settings in config.stages:
        started = time.perf_counter()
        doc = get_stage(name)(doc, settings)
        doc.timings[name] = round(time.perf_counter() - started, 4)
    return doc


def process_text(text: str, source: str = "<text>", config: Optional[Config] = None) -> Document:
    """Run the text stages over a string (tests, `directives` as a library)."""
    from pipeline.config import load_config
    from pipeline.model import Page
    config = config or load_config()
    doc = Document(doc_id=hashlib.sha256(text.encode()).hexdigest()[:16], source=source)
    doc.media_type = "text"
    doc.pages = [Page(number=1, text=text, origin="text")]
    stages = Config(stages=[(n, s) for n, s in config.stages if n != "ingest"],
                    executor=config.executor, outputs=config.outputs, raw=config.raw)
    return run_stages(doc, stages)


def process_file(path: str | Path, root: str | Path, config: Config) -> FileResult:
    """Read, extract and return one file's record; never raises for a bad file."""
    path = Path(path)
    root = Path(root)
    try:
        source = str(path.relative_to(root)) if root.is_dir() else path.name
    except ValueError:
        source = path.name
    result = FileResult(source=source, status="failed")
    try:
        digest = file_digest(path)
        result.sha256 = digest
        doc = Document(doc_id=digest[:16], source=source, path=str(path))
        doc = run_stages(doc, config)
    except PipelineError as exc:
        result.reason, result.message = exc.code, exc.message
        return result
    except Exception as exc:  # a bug or a library failure on this file: report, go on
        result.reason = "internal_error"
        result.message = f"{type(exc).__name__}: {exc}"
        result.reasons = traceback.format_exc().splitlines()[-6:]
        return result
    result.document = doc.to_record()
    result.timings = dict(doc.timings)
    result.pages = len(doc.pages)
    result.pages_ocr = sum(1 for p in doc.pages if p.origin == "ocr")
    result.reasons = sorted({w.code for w in doc.warnings if w.code in PARTIAL_CODES})
    result.status = "partial" if result.reasons else "ok"
    return result
