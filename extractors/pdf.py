"""PDF text layer with pdfplumber; pages with no usable layer are marked for OCR."""
from __future__ import annotations

import re
from pathlib import Path

from pipeline.model import Page, PipelineError

_CID = re.compile(r"\(cid:\d+\)")


def layer_is_usable(text: str) -> bool:
    """A text layer is real text when it has letters and no (cid:N) runs or mojibake."""
    from extractors.sources import looks_legacy_vietnamese
    stripped = text.strip()
    if len(stripped) < 20:
        return False
    if len(_CID.findall(text)) > 3:
        return False
    if stripped.count("\ufffd") > 0.01 * len(stripped):
        return False
    letters = sum(ch.isalpha() for ch in stripped)
    if letters < 0.4 * len(stripped.replace(" ", "").replace("\n", "")):
        return False
    return not looks_legacy_vietnamese(text)


def read_pdf_pages(path: Path, settings: dict) -> list[Page]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    try:
        pdf = pdfplumber.open(str(path), password=settings.get("password", ""))
    except PDFPasswordIncorrect as exc:
        raise PipelineError("encrypted_pdf", "the PDF is encrypted and the empty password does not open it") from exc
    except Exception as exc:
        # pdfplumber wraps the password error: PdfminerException(PDFPasswordIncorrect())
        if any(isinstance(e, PDFPasswordIncorrect) for e in (*exc.args, exc.__cause__, exc.__context__)):
            raise PipelineError("encrypted_pdf",
                                "the PDF is encrypted and the empty password does not open it") from exc
        raise PipelineError("corrupt_pdf", f"cannot open PDF: {type(exc).__name__}: {exc}") from exc
    pages: list[Page] = []
    with pdf:
        try:
            if len(pdf.pages) == 0:
                raise PipelineError("empty_file", "the PDF has no pages")
            for i, page in enumerate(pdf.pages, start=1):
                text = page.extract_text(layout=False) or ""
                usable = layer_is_usable(text)
                pages.append(Page(number=i, text=text if usable else "",
                                  origin="layer" if usable else "image",
                                  width=int(page.width), height=int(page.height)))
        except PipelineError:
            raise
        except Exception as exc:
            raise PipelineError("corrupt_pdf", f"cannot read PDF: {type(exc).__name__}: {exc}") from exc
    return pages
