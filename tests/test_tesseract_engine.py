"""The OCR engine: the in-process Tesseract API (tesserocr) and the command line give the
same words; the engine stays loaded in a process; a page over its time limit is stopped."""
from __future__ import annotations

import pytest
from rapidfuzz.distance import Levenshtein

from extractors import tesseract
from extractors.layout import words_from_data
from pipeline.doctor import check_ocr
from pipeline.model import PipelineError
from tests import scanmaker

pytestmark = pytest.mark.skipif(bool(check_ocr()), reason="Tesseract with vie is not installed")
needs_api = pytest.mark.skipif(tesseract._api_class() is None or tesseract._tessdata_dir() is None,
                               reason="tesserocr is not installed")


@pytest.fixture(scope="module")
def page():
    return scanmaker.render(scanmaker.short_letter()).pages[0].convert("L")


def _text(data: dict) -> str:
    return " ".join(w.text for w in words_from_data(data))


def test_parse_tsv_keeps_words_and_skips_header():
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "4\t1\t1\t1\t1\t0\t10\t20\t300\t40\t-1\t\n"
           "5\t1\t1\t1\t1\t1\t10\t20\t60\t40\t96.5\tSố:\n"
           "5\t1\t1\t1\t1\t2\t80\t20\t200\t40\t91.0\t15/CT-UBND\n")
    data = tesseract.parse_tsv(tsv)
    assert data["level"] == [4, 5, 5] and data["left"] == [10, 10, 80]
    words = words_from_data(data)
    assert [(w.text, w.conf, w.block, w.line) for w in words] == [("Số:", 96.5, 1, 1),
                                                                  ("15/CT-UBND", 91.0, 1, 1)]


@needs_api
def test_in_process_engine_reads_as_the_command_line(page, monkeypatch):
    api = tesseract.image_to_data(page, "vie", 3, 300, 60)
    assert tesseract._engine("vie") is tesseract._engine("vie")      # loaded once per process
    monkeypatch.setenv("DIRECTIVES_TESSERACT_CLI", "1")
    assert tesseract._engine("vie") is None
    cli = tesseract.image_to_data(page, "vie", 3, 300, 60)
    a, b = _text(api), _text(cli)
    assert "UBND" in a and "Số" in a
    # the wheel's Tesseract may be a newer release than the system's: near-identical text
    assert Levenshtein.distance(a, b) / max(1, len(b)) < 0.02
    # boxes agree too (the same page segmentation)
    first_api = words_from_data(api)[0]
    first_cli = words_from_data(cli)[0]
    assert abs(first_api.left - first_cli.left) <= 3 and abs(first_api.top - first_cli.top) <= 3


@needs_api
def test_in_process_engine_stops_at_time_limit_and_reads_on(page):
    with pytest.raises(PipelineError) as exc:
        tesseract.image_to_data(page, "vie", 3, 300, 0.001)
    assert exc.value.code == "ocr_timeout"
    # the engine is left ready for the next page
    assert "UBND" in _text(tesseract.image_to_data(page, "vie", 6, 300, 60))


@needs_api
def test_threads_have_their_own_engine(page):
    """Dask may run workers as threads of one process: an engine reads one image at a time."""
    from concurrent.futures import ThreadPoolExecutor
    alone = _text(tesseract.image_to_data(page, "vie", 6, 300, 60))
    with ThreadPoolExecutor(2) as pool:
        both = list(pool.map(lambda _: (_text(tesseract.image_to_data(page, "vie", 6, 300, 60)),
                                        id(tesseract._engine("vie"))), range(4)))
    assert {text for text, _ in both} == {alone}
    assert id(tesseract._engine("vie")) not in {engine for _, engine in both}
