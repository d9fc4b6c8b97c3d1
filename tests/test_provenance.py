"""The locate stage: page, box and confidence of extracted fields, from OCR words."""
from __future__ import annotations

from extractors.provenance import locate_fields
from pipeline.model import Agency, Document, Page, Signer, Task, Word


def _page(number: int, lines: list[str], conf: dict[str, float] | None = None) -> Page:
    """A page whose words sit on a grid: line n at top 100 + 70 n, words 20 px apart."""
    conf = conf or {}
    words, texts = [], []
    for n, line in enumerate(lines):
        x = 350
        for token in line.split():
            width = 25 * len(token)
            words.append(Word(token, x, 100 + 70 * n, width, 45, conf.get(token, 95.0), n))
            x += width + 20
        texts.append(line)
    return Page(number=number, text="\n".join(texts), origin="ocr", words=words,
                width=2480, height=3508, mean_conf=90.0)


LINES_1 = [
    "ỦY BAN NHÂN DÂN", "TỈNH LAI CHÂU", "Số: 15/CT-UBND",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
    "Lai Châu, ngày 13 tháng 10 năm 2021",
    "CHỈ THỊ", "VỀ VIỆC TĂNG CƯỜNG PHÒNG, CHỐNG DỊCH COVID-19",
    "Để chủ động phòng, chống dịch, Chủ tịch yêu cầu:",
    "1. Sở Y tế chủ trì, phối hợp với các cơ quan, đơn vị liên quan tổ",
    "chức tiêm vắc xin kịp thời, an toàn, đúng đối tượng.",
]
LINES_2 = [
    "2. Công an tỉnh tăng cường kiểm tra, xử lý nghiêm các trường",
    "hợp vi phạm quy định về phòng, chống dịch.",
    "Nơi nhận:", "- Như trên;", "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH",
    "Tống Thanh Hải",
]


def _doc(conf1=None, conf2=None) -> Document:
    doc = Document(doc_id="x", source="scan.pdf", media_type="pdf",
                   number_symbol="15/CT-UBND", issue_date="2021-10-13", place="Lai Châu",
                   issuer="Ủy ban nhân dân tỉnh Lai Châu",
                   subject="Về việc tăng cường phòng, chống dịch Covid-19",
                   signer=Signer(name="Tống Thanh Hải"))
    doc.pages = [_page(1, LINES_1, conf1), _page(2, LINES_2, conf2)]
    doc.tasks = [
        Task(id="1", label="1", text="Sở Y tế chủ trì, phối hợp với các cơ quan, đơn vị liên quan tổ chức tiêm",
             agencies=[Agency("Sở Y tế", "lead"), Agency("Các cơ quan, đơn vị liên quan", "coordinate")]),
        Task(id="2", label="2", text="Công an tỉnh tăng cường kiểm tra, xử lý nghiêm",
             agencies=[Agency("Công an tỉnh", "lead")]),
    ]
    return doc


def test_fields_located_with_page_box_conf():
    doc = locate_fields(_doc(), {})
    p = doc.provenance
    assert p["number_symbol"]["page"] == 1
    l, t, r, b = p["number_symbol"]["box"]
    assert t == 100 + 70 * 2 and b == t + 45 and l < r
    assert p["issue_date"]["box"][1] == 100 + 70 * 5
    assert p["place"]["box"][1] == 100 + 70 * 5          # the date line's place, not the issuer's
    assert p["issuer"]["box"][1] == 100 and p["issuer"]["box"][3] == 100 + 70 + 45   # two lines
    assert p["subject"]["box"][1] == 100 + 70 * 7
    assert p["signer"] == {"page": 2, "box": [350, 100 + 70 * 7, p["signer"]["box"][2], 100 + 70 * 7 + 45],
                           "conf": 95.0}
    assert doc.needs_review == []


def test_tasks_located_in_order():
    doc = locate_fields(_doc(), {})
    t1, t2 = doc.tasks
    assert t1.page == 1 and t1.box[1] == 100 + 70 * 9
    assert t2.page == 2 and t2.box[1] == 100
    assert not t1.needs_review and not t2.needs_review


def test_low_confidence_flags_review():
    doc = locate_fields(_doc(conf1={"15/CT-UBND": 41.0, "Y": 30.0}), {"review_conf": 60})
    assert doc.provenance["number_symbol"]["conf"] == 41.0
    assert "number_symbol" in doc.needs_review
    t1 = doc.tasks[0]
    assert t1.needs_review and t1.agencies[0].needs_review      # "Sở Y tế" read unsurely
    assert not t1.agencies[1].needs_review
    assert "tasks" in doc.needs_review and not doc.tasks[1].needs_review


def test_text_sources_untouched():
    doc = Document(doc_id="x", source="a.txt", media_type="text", number_symbol="15/CT-UBND",
                   pages=[Page(number=1, text="Số: 15/CT-UBND", origin="text")])
    assert locate_fields(doc, {}).provenance == {} and doc.needs_review == []


def test_on_real_ocr(tmp_path):
    """End to end on a rendered scan: boxes land on the words of the page image."""
    import pytest
    from pipeline.doctor import check_ocr
    if check_ocr():
        pytest.skip("Tesseract is not installed")
    from extractors.ocr import ocr_stage
    from tests import scanmaker
    r = scanmaker.render(scanmaker.short_letter(), seal=True)
    img = scanmaker.degrade(r.pages, seed=21)[0]
    path = scanmaker.save_png(img, tmp_path / "scan.png", 200)
    doc = Document(doc_id="x", source="scan.png", media_type="image", path=str(path))
    doc = ocr_stage(doc, {})
    doc.number_symbol, doc.issue_date = "15/CT-UBND", "2021-10-13"
    doc.signer = Signer(name="Tống Thanh Hải")
    doc = locate_fields(doc, {})
    page = doc.pages[0]
    for field in ("number_symbol", "issue_date", "signer"):
        info = doc.provenance[field]
        l, t, r_, b = info["box"]
        assert info["page"] == 1 and 0 <= l < r_ <= page.width and 0 <= t < b <= page.height
        assert info["conf"] > 60
    # the number is in the upper left, the signer in the lower right (300 dpi page)
    assert doc.provenance["number_symbol"]["box"][0] < page.width / 2
    assert doc.provenance["signer"]["box"][0] > page.width / 2
    assert doc.provenance["signer"]["box"][1] > doc.provenance["number_symbol"]["box"][3]


def test_signer_found_in_signature_not_in_distribution():
    doc = _doc()
    doc.pages[1] = _page(2, ["Nơi nhận:", "- PCN Tống Thanh Hải;", "- Lưu: VT.", "PHÓ CHỦ TỊCH",
                             "Tống Thanh Hải"])
    doc = locate_fields(doc, {})
    assert doc.provenance["signer"]["page"] == 2
    assert doc.provenance["signer"]["box"][1] == 100 + 70 * 4
