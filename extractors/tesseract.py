"""Tesseract, the OCR engine: word boxes and confidences for an image.

Tesseract's command line starts a process and loads the language model on every call.
When tesserocr (Tesseract's C++ API) is installed, one engine per model stays loaded in each
worker and a page costs only its recognition: the ocr stage's second read of the header and
end columns costs a small crop, not another start-up.  tesserocr's wheel also carries a newer
Tesseract (5.5) that reads a 300 dpi page in ~1.3 s where Debian's 5.3 command line takes
~2.1 s, with the same text.  Without tesserocr, or with ``DIRECTIVES_TESSERACT_CLI=1``,
the command line is used through pytesseract.  Both give the rows of Tesseract's TSV output
as the dict of lists that ``pytesseract.image_to_data(output_type=DICT)`` returns.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import Optional

from PIL import Image

from pipeline.model import PipelineError

TSV_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
               "left", "top", "width", "height", "conf", "text")


def image_to_data(img: Image.Image, lang: str, psm: int, dpi: int, timeout_s: float) -> dict:
    """Read ``img`` (page segmentation mode ``psm``, resolution ``dpi``) within
    ``timeout_s`` seconds; raises PipelineError("ocr_timeout") when it takes longer."""
    engine = _engine(lang)
    if engine is None:
        return _cli(img, lang, psm, dpi, timeout_s)
    engine.SetPageSegMode(psm)
    engine.SetImage(img)
    engine.SetSourceResolution(dpi)
    try:
        if not engine.Recognize(timeout=max(1, int(timeout_s * 1000))):
            raise PipelineError("ocr_timeout", f"Tesseract took longer than {timeout_s:.0f} s")
        return parse_tsv(engine.GetTSVText(0))
    finally:
        engine.Clear()     # frees the page's results; the model stays loaded


def parse_tsv(tsv: str) -> dict:
    """Tesseract's TSV rows (without the header line) as a dict of column lists."""
    data: dict[str, list] = {c: [] for c in TSV_COLUMNS}
    for row in tsv.splitlines():
        cells = row.split("\t", len(TSV_COLUMNS) - 1)
        if len(cells) < len(TSV_COLUMNS) - 1 or not cells[0].isdigit():
            continue    # the header line of the command line's output, or a torn row
        cells += [""] * (len(TSV_COLUMNS) - len(cells))
        for column, cell in zip(TSV_COLUMNS, cells):
            data[column].append(cell if column in ("text", "conf") else int(cell))
    return data


def _cli(img: Image.Image, lang: str, psm: int, dpi: int, timeout_s: float) -> dict:
    import pytesseract
    img.format = "BMP"   # pytesseract hands Tesseract a temp file: BMP is written fastest
    try:
        return pytesseract.image_to_data(img, lang=lang, config=f"--psm {psm} --dpi {dpi}",
                                         output_type=pytesseract.Output.DICT,
                                         timeout=max(1.0, timeout_s))
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise PipelineError("ocr_timeout", f"Tesseract took longer than {timeout_s:.0f} s") from exc
        raise


def in_process(lang: str = "vie") -> bool:
    """Whether pages in ``lang`` are read by the in-process engine here."""
    return _engine(lang) is not None


def engine_name() -> str:
    """What reads pages here, for `directives doctor` and the benchmarks."""
    if _tessdata_dir() and _api_class() is not None:
        import tesserocr
        return f"tesserocr {tesserocr.__version__} ({tesserocr.tesseract_version().splitlines()[0]}, in-process)"
    return "tesseract command line (pytesseract)"


# one engine per model and thread (an engine reads one image at a time; Dask may run
# workers as threads of one process); a forked child builds its own
_local = threading.local()


def _engine(lang: str):
    if os.environ.get("DIRECTIVES_TESSERACT_CLI"):
        return None
    engines = getattr(_local, "engines", None)
    if engines is None or _local.pid != os.getpid():
        engines = _local.engines = {}
        _local.pid = os.getpid()
    if lang not in engines:
        api, path = _api_class(), _tessdata_dir()
        if api is None or path is None:
            return None
        try:
            engines[lang] = api(path=path, lang=lang)
        except RuntimeError:     # the library cannot load this model: the command line may
            return None
    return engines[lang]


@functools.lru_cache(maxsize=1)
def _api_class():
    try:
        from tesserocr import PyTessBaseAPI
    except ImportError:
        return None
    return PyTessBaseAPI


def _tessdata_dir() -> Optional[str]:
    """The folder of the installed models: TESSDATA_PREFIX, else what the command line
    reports (tesserocr's wheel carries its own library but no models)."""
    if os.environ.get("TESSDATA_PREFIX"):
        return os.environ["TESSDATA_PREFIX"].rstrip("/") + "/"
    from pipeline.doctor import tessdata_dir
    return tessdata_dir()
