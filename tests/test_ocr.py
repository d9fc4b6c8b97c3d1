"""The ocr stage with real Tesseract on letters rendered by tests.scanmaker.

Two documents are OCR'd once per module (a clean image-only PDF and a degraded
three-frame TIFF: upside down with a red seal / blank / skewed), the other tests are cheap.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from extractors import images
from extractors.layout import OcrWord, fold, order_page
from extractors.ocr import (authority_line_ok, date_line_ok, number_line_ok, ocr_stage,
                            reread_header_zones, _authority_score, _Clock, _settings, _tidy_number)
from extractors.sources import ingest
from pipeline.doctor import FIX_COMMAND, check_ocr
from pipeline.model import Document, Page, PipelineError
from tests import scanmaker

pytestmark = pytest.mark.skipif(bool(check_ocr()), reason="Tesseract with vie/osd is not installed")


def cer(truth: str, text: str) -> float:
    a, b = " ".join(truth.split()), " ".join(text.split())
    return Levenshtein.distance(a, b) / max(1, len(a))


def _doc(path: Path) -> Document:
    doc = Document(doc_id=hashlib.sha256(path.read_bytes()).hexdigest()[:16], source=path.name,
                   path=str(path))
    return ingest(doc, {})


@pytest.fixture(scope="module")
def rendered():
    return scanmaker.render(scanmaker.short_letter())


@pytest.fixture(scope="module")
def clean_doc(rendered, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    pdf = scanmaker.save_pdf(rendered.pages, out / "letter.pdf", 300)
    doc = _doc(pdf)
    assert [p.origin for p in doc.pages] == ["image"]     # no text layer: left for OCR
    return ocr_stage(doc, {"keep_images": str(out / "pages")})


@pytest.fixture(scope="module")
def scan_doc(tmp_path_factory):
    """Frame 1: upside down, red seal over the signature, 200 dpi, blur, noise, JPEG;
    frame 2: blank; frame 3: the same letter upright, skewed, no seal.  No DPI tag."""
    letter = scanmaker.short_letter()
    sealed = scanmaker.render(letter, seal=True)
    plain = scanmaker.render(letter)
    blank = Image.new("RGB", sealed.pages[0].size, "white")
    frames = (scanmaker.degrade(sealed.pages, seed=11, upside_down=0)
              + scanmaker.degrade([blank], seed=12, jpeg=None)
              + scanmaker.degrade(plain.pages, seed=13))
    out = tmp_path_factory.mktemp("scan")
    tif = scanmaker.save_tiff(frames, out / "letter.tif", None)
    doc = _doc(tif)
    assert doc.media_type == "image" and doc.pages == []
    return ocr_stage(doc, {}), sealed


def _lines(page: Page) -> list[str]:
    return page.text.split("\n")


def _nonblank(page: Page) -> list[str]:
    return [l for l in page.text.split("\n") if l]


# ---------------------------------------------------------------- clean PDF

def test_clean_pdf_cer(clean_doc, rendered):
    assert len(clean_doc.pages) == 1
    page = clean_doc.pages[0]
    assert page.origin == "ocr"
    assert cer(rendered.truth, page.text) <= 0.01, page.text


def test_header_columns_are_split(clean_doc):
    lines = _nonblank(clean_doc.pages[0])
    # (TỈNH may come out TĨNH here: normalize's upper-case slips mend it, see test_extractors)
    issuer = next(i for i, l in enumerate(lines) if "tinh lai chau" in fold(l))
    motto = next(i for i, l in enumerate(lines) if "Độc lập" in l)
    assert issuer != motto and "Độc lập" not in lines[issuer] and "CHÂU" not in lines[motto]
    assert "Số: 15/CT-UBND" in lines                           # the number line intact
    assert any(re.fullmatch(r"Lai Châu, ngày 13 tháng 10 năm 2021", l) for l in lines)
    # the letter's order: left column, right column, body, Nơi nhận, signature
    assert issuer < lines.index("Số: 15/CT-UBND") < motto
    noi = next(i for i, l in enumerate(lines) if l.startswith("Nơi nhận"))
    tm = next(i for i, l in enumerate(lines) if l.startswith("TM."))
    assert motto < noi < tm and lines[-1] == "Tống Thanh Hải"
    assert all("TM." not in l for l in lines[noi:tm])       # no merged "- Như trên; TM. ỦY BAN"


def test_words_boxes_and_confidence(clean_doc):
    page = clean_doc.pages[0]
    assert page.words and page.mean_conf and page.mean_conf > 80
    assert page.width > 2000 and page.height > 3000
    text_lines = _lines(page)
    assert {w.line for w in page.words} == {i for i, l in enumerate(text_lines) if l}
    for w in page.words:
        assert w.text in text_lines[w.line].split()
    for w in page.words:
        assert 0 <= w.left < page.width and 0 <= w.top < page.height and w.width > 0
    assert page.image_path and Path(page.image_path).exists()


def test_zone_reread_restores_number_line(clean_doc):
    """A number line that fails its grammar is re-read from its zone of the page image."""
    page = clean_doc.pages[0]
    grey = Image.open(page.image_path).convert("L")
    words = [OcrWord(w.text, w.left, w.top, w.width, w.height, w.conf, 1, 1, w.line)
             for w in page.words]
    lines = order_page(words, page.width, page.height)
    i = next(i for i, l in enumerate(lines) if l.text.startswith("Số"))
    for w in lines[i].words:   # what a bad first reading looks like
        w.text = {"Số:": "S6;", "15/CT-UBND": "1S/CT-UBNĐ"}.get(w.text, w.text)
    notes: list = []
    reread_header_zones(grey, lines, _settings({}), _Clock(120, 1), notes)
    assert lines[i].text == "Số: 15/CT-UBND"
    assert notes and notes[0][0] == "zone_reread"


# ---------------------------------------------------------------- degraded TIFF

def test_multipage_tiff_blank_dropped(scan_doc):
    doc, _ = scan_doc
    assert [p.number for p in doc.pages] == [1, 3]
    assert any(w.code == "blank_page" and w.page == 2 for w in doc.warnings)


def test_upside_down_page_is_read(scan_doc):
    doc, sealed = scan_doc
    assert any(w.code == "page_rotated" and w.page == 1 for w in doc.warnings)
    for page in doc.pages:
        assert cer(sealed.truth, page.text) <= 0.03, page.text


def test_red_seal_does_not_break_signer(scan_doc):
    doc, sealed = scan_doc
    # the seal was stamped over the signature block
    sx0, sy0, sx1, sy1 = sealed.seal_boxes[0]
    assert sx0 < sealed.name_boxes[0][0] + 400
    lines = _lines(doc.pages[0])
    assert "Tống Thanh Hải" in lines
    assert "PHÓ CHỦ TỊCH" in lines and "KT. CHỦ TỊCH" in lines


# ---------------------------------------------------------------- cheap checks

def test_text_pages_untouched():
    doc = Document(doc_id="x", source="a.pdf", media_type="pdf",
                   pages=[Page(number=1, text="Số: 1/CT-UBND", origin="layer")])
    assert ocr_stage(doc, {}).pages[0].text == "Số: 1/CT-UBND"


def test_ocr_unavailable(monkeypatch, tmp_path):
    import pipeline.doctor
    monkeypatch.setattr(pipeline.doctor, "check_ocr", lambda: ["the Vietnamese model 'vie' is missing"])
    doc = Document(doc_id="x", source="a.png", media_type="image", path=str(tmp_path / "a.png"))
    with pytest.raises(PipelineError) as exc:
        ocr_stage(doc, {})
    assert exc.value.code == "ocr_unavailable" and FIX_COMMAND in exc.value.message


def test_doctor_ok():
    assert check_ocr() == []


def test_decompression_bomb_refused(tmp_path):
    path = tmp_path / "big.png"
    Image.new("L", (400, 300), 255).save(path)
    doc = Document(doc_id="x", source="big.png", media_type="image", path=str(path))
    with pytest.raises(PipelineError) as exc:
        ocr_stage(doc, {"max_image_pixels": 10_000})
    assert exc.value.code == "image_too_large"


def test_timeout(rendered, tmp_path):
    path = scanmaker.save_png(rendered.pages[0], tmp_path / "p.png", 300)
    doc = Document(doc_id="x", source="p.png", media_type="image", path=str(path))
    with pytest.raises(PipelineError) as exc:
        ocr_stage(doc, {"page_timeout_s": 0.001})
    assert exc.value.code == "ocr_timeout"


def test_effective_dpi_and_upsample():
    img = Image.new("L", (1654, 2339), 255)          # A4 at 200 dpi, untagged
    assert round(images.effective_dpi(img, None)) == 200
    up, dpi = images.upsample(img, 200)
    assert dpi == 300 and up.width == 2481
    assert images.upsample(img, 300)[0] is img


def test_red_ink_removed_black_kept():
    img = Image.new("RGB", (100, 50), "white")
    img.paste((205, 30, 35), (0, 0, 50, 50))         # seal ink
    img.paste((0, 0, 0), (60, 0, 70, 50))           # text
    grey = images.remove_colour_ink(img)
    assert grey.getpixel((10, 10)) > 230 and grey.getpixel((65, 10)) < 30


def test_grammars():
    assert number_line_ok("Số: 15/CT-UBND") and number_line_ok("Số 58-CV/TU")
    assert number_line_ok("Số: /UBND-VX") and number_line_ok("Số: 11299/VPCP-KGVX")
    assert not number_line_ok("S6: 1S/CT-UBND") and not number_line_ok("Số: 15/CT UBND lạ")
    assert date_line_ok("Lai Châu, ngày 13 tháng 10 năm 2021")
    assert date_line_ok("Lai Châu, ngày tháng 6 năm 2021")
    assert not date_line_ok("Lai Châu, ngày 77 tháng 70 năm 2021")
    assert _tidy_number("Sô; 15 / CT-UBND") == "Số: 15/CT-UBND"
    assert _tidy_number("Số 58-CV/TU") == "Số 58-CV/TU"
    assert authority_line_ok("T/M BAN THƯỜNG VỤ") and authority_line_ok("TM. ỦY BAN NHÂN DÂN")
    assert not authority_line_ok("T1/M BAN THƯỜNG VỤ") and _authority_score("T1/M BAN THƯỜNG VỤ")
    assert not _authority_score("PHÓ CHỦ TỊCH")


def _w(text, left, top, width, line, block=1):
    return OcrWord(text, left, top, width, 45, 95.0, block, 1, line)


def test_layout_splits_merged_header_and_end_rows():
    """Tesseract's merged lines are cut at the gutter and put in the letter's order."""
    words = [
        _w("UỶ", 470, 230, 60, 1), _w("BAN", 540, 230, 90, 1), _w("NHÂN", 640, 230, 110, 1),
        _w("DÂN", 760, 230, 90, 1), _w("CỘNG", 1160, 230, 120, 1), _w("HÒA", 1290, 230, 100, 1),
        _w("TỈNH", 500, 300, 100, 2), _w("LAI", 610, 300, 70, 2), _w("CHÂU", 690, 300, 110, 2),
        _w("Độc", 1290, 300, 80, 2), _w("lập", 1380, 300, 70, 2),
        _w("Số:", 520, 440, 70, 3), _w("15/CT-UBND", 600, 440, 300, 3),
        _w("Lai", 1190, 440, 70, 3), _w("Châu,", 1270, 440, 120, 3), _w("ngày", 1400, 440, 100, 3),
        _w("13", 1510, 440, 50, 3), _w("năm", 1570, 440, 90, 3), _w("2021", 1670, 440, 100, 3),
        _w("CHỈ", 1190, 570, 80, 4), _w("THỊ", 1280, 570, 80, 4),
        _w("Nội", 360, 800, 80, 5), _w("dung", 450, 800, 100, 5),
        _w("Nơi", 355, 1500, 80, 6), _w("nhận:", 445, 1500, 120, 6),
        _w("TM.", 1450, 1500, 80, 6), _w("UBND", 1540, 1500, 120, 6),
        _w("-", 356, 1570, 20, 7), _w("Như", 386, 1570, 80, 7), _w("trên;", 476, 1570, 100, 7),
        _w("CHỦ", 1580, 1570, 100, 7), _w("TỊCH", 1690, 1570, 100, 7),
        _w("Tống", 1570, 1930, 110, 8), _w("Thanh", 1690, 1930, 130, 8), _w("Hải", 1830, 1930, 70, 8),
    ]
    lines = [l.text for l in order_page(words, 2480, 3508)]
    assert lines == ["UỶ BAN NHÂN DÂN", "TỈNH LAI CHÂU", "Số: 15/CT-UBND",
                     "CỘNG HÒA", "Độc lập", "Lai Châu, ngày 13 năm 2021",
                     "CHỈ THỊ", "Nội dung",
                     "Nơi nhận:", "- Như trên;", "TM. UBND", "CHỦ TỊCH", "Tống Thanh Hải"]


def test_scanmaker_is_reproducible():
    letter = scanmaker.short_letter()
    a = scanmaker.degrade(scanmaker.render(letter, seal=True).pages, seed=5)
    b = scanmaker.degrade(scanmaker.render(letter, seal=True).pages, seed=5)
    assert a[0].tobytes() == b[0].tobytes()
    r = scanmaker.render(letter)
    first = r.truth.split("\n")
    assert first[:3] == ["ỦY BAN NHÂN DÂN", "TỈNH LAI CHÂU", "Số: 15/CT-UBND"]
    assert first[-1] == "Tống Thanh Hải"


def test_scanmaker_parses_seeds():
    party = scanmaker.load_letter(scanmaker.SHARED / "seeds" / "004_7377f7c58ea67fe5.txt")
    assert party.header_right[0] == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert "Số 58-CV/TU" in party.header_left
    cv = scanmaker.load_letter(scanmaker.SHARED / "seeds" / "001_161b9cd3f6c97b82.txt")
    assert cv.header_left[:3] == ["ỦY BAN NHÂN DÂN", "TỈNH LAI CHÂU", "Số: /UBND-VX"]
    assert cv.end_left[0] == "Nơi nhận:" and cv.end_right[-1] == "Tổng Thanh Hải"


def test_scanmaker_cli(tmp_path):
    letters = [scanmaker.SHARED / "seeds" / "004_7377f7c58ea67fe5.txt"]
    written = scanmaker.make_set(tmp_path, letters, max_body=1)
    stem = written[0]["stem"]
    for suffix in ("_clean.pdf", "_clean.tif", "_scan.pdf", "_scan.tif", "_scan_p1.png", ".truth.txt"):
        assert (tmp_path / f"{stem}{suffix}").exists()


def test_vv_subject_reset_in_typed_lines():
    from extractors.layout import Line
    from extractors.ocr import join_subject_lines

    def line(text, top, zone="header_left"):
        ws, x = [], 400
        for tok in text.split():
            ws.append(OcrWord(tok, x, top, 20 * len(tok), 45, 95.0))
            x += 20 * len(tok) + 15
        return Line(ws, zone)

    lines = [line("Số: /UBND-VX", 440), line("V/v thực hiện kết luận, chỉ", 510),
             line("đạo của Thủ tướng Chính phủ,", 565), line("Phó Thủ tướng Chính phủ về", 620),
             line("phòng, chống dịch Covid-19", 675), line("CỘNG HÒA", 230, "header_right")]
    out = [l.text for l in join_subject_lines(lines)]
    assert out == ["Số: /UBND-VX",
                   "V/v thực hiện kết luận, chỉ đạo của Thủ tướng Chính phủ, Phó Thủ tướng Chính phủ về phòng,",
                   "chống dịch Covid-19", "CỘNG HÒA"]
    assert all(len(t) <= 90 for t in out)


def test_jpeg_turned_sideways(rendered, tmp_path):
    """A JPEG photo of the page lying on its side (with a DPI tag) is turned upright by OSD."""
    path = tmp_path / "side.jpg"
    rendered.pages[0].rotate(90, expand=True).save(path, "JPEG", quality=85, dpi=(300, 300))
    doc = ocr_stage(_doc(path), {})
    assert len(doc.pages) == 1 and doc.pages[0].width < doc.pages[0].height
    assert any(w.code == "page_rotated" for w in doc.warnings)
    assert cer(rendered.truth, doc.pages[0].text) <= 0.01


@pytest.mark.parametrize("degraded", [False, True])
def test_line_direction_tells_upright_from_sideways(rendered, degraded):
    """The cheap check that spares OSD: lines run across an upright or upside-down page,
    down a page lying on its side, clearly enough to pass the bar that skips OSD."""
    from extractors.ocr import DEFAULTS
    page = rendered.pages[0]
    if degraded:
        page = scanmaker.degrade([page], seed=5)[0]
    grey = images.remove_colour_ink(page)
    for turn, expected in ((0, "horizontal"), (180, "horizontal"), (90, "vertical"), (270, "vertical")):
        direction, strength = images.line_direction(grey.rotate(turn, expand=True, fillcolor=255))
        assert direction == expected, (turn, direction, strength)
        assert strength >= DEFAULTS["lines_clear"], (turn, strength)


def test_colour_ink_check_keeps_plain_pages_grey():
    """A page without coloured ink comes back as its plain luma; a red mark is lifted."""
    img = Image.new("RGB", (200, 100), "white")
    img.paste((0, 0, 0), (20, 40, 180, 50))
    plain = images.remove_colour_ink(img)
    assert plain.mode == "L" and plain.getpixel((100, 45)) == 0 and plain.getpixel((5, 5)) == 255
    img.paste((220, 30, 30), (20, 60, 180, 80))          # seal red
    lifted = images.remove_colour_ink(img)
    assert lifted.getpixel((100, 70)) > 200 and lifted.getpixel((100, 45)) == 0
