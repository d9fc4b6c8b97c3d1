"""Unit tests of each extractor on realistic snippets (variants seen in real letters)."""
import pytest

from extractors.dates import iso_date, parse_date
from extractors.deadlines import find_deadline
from extractors.duties import roles_in_text
from extractors.header import parse_number_symbol, parse_place_date, type_from_symbol
from extractors.references import extract_references
from extractors.sources import looks_legacy_vietnamese, read_text_bytes, strip_markdown
from extractors.tasks import match_label
from normalizers.agency_names import sentence_case
from normalizers.cleanup import join_broken_header_lines, remove_furniture
from pipeline.model import Document, PipelineError
from pipeline.runner import process_text


@pytest.mark.parametrize("line, number, symbol, ns", [
    ("Số: 15/CT-UBND", "15", "CT-UBND", "15/CT-UBND"),
    ("Số: 15 /CT-UBND", "15", "CT-UBND", "15/CT-UBND"),
    ("Số 58-CV/TU", "58", "CV/TU", "58-CV/TU"),
    ("Số: /UBND-VX", None, "UBND-VX", None),
    ("Số: 031/2025/QĐ-UBND", "031", "2025/QĐ-UBND", "031/2025/QĐ-UBND"),
    ("Số: 11554/VPCP-V.I", "11554", "VPCP-V.I", "11554/VPCP-V.I"),
])
def test_number_symbol_variants(line, number, symbol, ns):
    got = parse_number_symbol(line)
    assert (got["number"], got["symbol"], got["number_symbol"]) == (number, symbol, ns)


def test_dates_partial_and_impossible():
    assert parse_place_date("Lai Châu, ngày  tháng 6 năm 2021")["issue_date"] == "2021-06"
    bad = parse_place_date("Lai Châu, ngày 77 tháng 70 năm 2021")
    assert bad["issue_date"] is None and bad["invalid"]
    assert parse_place_date("Đắk Lắk, ngày 17 tháng 11 năm 2025")["place"] == "Đắk Lắk"
    assert iso_date("31", "2", "2024") == (None, True)
    assert parse_date("ban hành ngày 05/3/2024")[0] == "2024-03-05"


def test_type_from_symbol_state_party_and_legal_norm():
    assert type_from_symbol("CT-UBND") == "Chỉ thị"
    assert type_from_symbol("CV/TU") == "Công văn"
    assert type_from_symbol("2025/QĐ-UBND") == "Quyết định"
    assert type_from_symbol("UBND-VX") is None


def test_header_lines_broken_by_a_website_are_joined():
    text = "ỦY\nBAN NHÂN DÂN\nTỈNH ĐẮK LẮK\n\nĐắk Lắk, ngày 17\ntháng 11 năm 2025"
    joined = join_broken_header_lines(text)
    assert "ỦY BAN NHÂN DÂN" in joined and "ngày 17 tháng 11 năm 2025" in joined


def test_furniture_removed_page_numbers_urls_widgets():
    text = "Nội dung.\n\n2\n\nhttps://example.vn/van-ban\nTiếp theo.\nThống kê truy cập\nĐang online: 16"
    cleaned, removed = remove_furniture(text)
    assert "https" not in cleaned and "\n2\n" not in cleaned and "online" not in cleaned
    assert "Tiếp theo." in cleaned and removed >= 3


def test_sentence_case_of_upper_case_issuers():
    assert sentence_case("ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK") == "Ủy ban nhân dân tỉnh Đắk Lắk"
    assert sentence_case("BỘ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI") == "Bộ Lao động - Thương binh và Xã hội"
    assert sentence_case("TỈNH ỦY LAI CHÂU") == "Tỉnh ủy Lai Châu"


def test_encodings_and_legacy_text():
    text = "Kính gửi: Sở Y tế tỉnh Lai Châu và các đơn vị liên quan"
    assert read_text_bytes(("\ufeff" + text).encode("utf-8")) == text
    assert read_text_bytes(text.encode("utf-16")) == text
    tcvn3 = "Uû ban nh©n d©n tØnh Lai Ch©u ®· ban hµnh ChØ thÞ vÒ viÖc t¨ng c­êng c«ng t¸c phßng chèng dÞch " * 3
    assert looks_legacy_vietnamese(tcvn3)
    with pytest.raises(PipelineError) as err:
        read_text_bytes(tcvn3.encode("cp1252", errors="replace"))
    assert err.value.code == "legacy_encoding"
    assert not looks_legacy_vietnamese("Sbé: 15 /CT-UBND Lai Chau, ngay 77 thang 70 nam 2021 dic bi¢t " * 5)


def test_markdown_markup_removed():
    assert strip_markdown("**ỦY BAN NHÂN DÂN**  \n\\*\n*sao gửi kèm theo*") == "ỦY BAN NHÂN DÂN\n*\nsao gửi kèm theo"


@pytest.mark.parametrize("line, kind, label", [
    ("I. MỤC ĐÍCH, YÊU CẦU", "roman", "I"), ("VI. TỔ CHỨC THỰC HIỆN", "roman", "VI"),
    ("1. Mục đích", "arabic", "1"), ("3- Đảng ủy Bộ đội Biên phòng", "arabic", "3"),
    ("2) Tăng cường", "arabic", "2"), ("a) Tập thể", "letter", "a"), ("c. Giấy khen", "letter", "c"),
    ("Điều 2. Tổ chức thực hiện", "article", "2"), ("2.1. Sở Y tế", "decimal", "2.1"),
])
def test_task_labels(line, kind, label):
    got = match_label(line)
    assert got[0] == kind and got[1] == label


def test_labels_do_not_fire_on_wrapped_numbers():
    assert match_label("10/2025/NĐ-CP quy định") is None
    assert match_label("2025 và các năm tiếp theo") is None


def test_roles_lead_coordinate_requested():
    pairs = roles_in_text("Sở Nội vụ chủ trì, phối hợp với Sở Y tế và các đơn vị liên quan kiểm tra, đôn đốc.")
    assert pairs == [("Sở Nội vụ", "lead"), ("Sở Y tế", "coordinate"), ("Các đơn vị liên quan", "coordinate")]
    pairs = roles_in_text("Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh, các tổ chức chính trị - xã hội tỉnh tuyên truyền.")
    assert {r for _, r in pairs} == {"requested"} and len(pairs) == 2
    assert roles_in_text("Giao Sở Tài chính chủ trì theo dõi, tổng hợp.") == [("Sở Tài chính", "lead")]


def test_directed_and_reported_bodies_hold_no_duty():
    pairs = roles_in_text("Ban cán sự đảng UBND tỉnh bám sát chỉ đạo. Chỉ đạo ngành y tế phối hợp với các cơ quan, "
                          "địa phương có liên quan chuẩn bị; báo cáo về Sở Nội vụ.")
    assert pairs == [("Ban cán sự đảng UBND tỉnh", "lead")]


def test_shared_head_split_into_institutions():
    pairs = roles_in_text("Đảng ủy Bộ đội Biên phòng, Quân sự, Công an tỉnh phối hợp với cấp ủy, chính quyền các địa "
                          "phương tiếp tục lãnh đạo.")
    assert [n for n, r in pairs if r == "lead"] == ["Đảng ủy Bộ đội Biên phòng tỉnh", "Đảng ủy Quân sự tỉnh",
                                                    "Đảng ủy Công an tỉnh"]
    assert ("Cấp ủy, chính quyền các địa phương", "coordinate") in pairs


@pytest.mark.parametrize("text, deadline", [
    ("báo cáo UBND tỉnh trước ngày 30/11/2025.", "2025-11-30"),
    ("hoàn thành trước ngày 15 tháng 6 năm 2024", "2024-06-15"),
    ("chậm nhất là ngày 05/01/2026", "2026-01-05"),
    ("Định kỳ hàng năm báo cáo kết quả", "hàng năm"),
    ("hằng quý tổng hợp", "hàng quý"),
    ("Định kỳ sơ kết, tổng kết", "định kỳ"),
    ("Thường xuyên theo dõi", None),
])
def test_deadlines(text, deadline):
    assert find_deadline(text) == deadline


def test_references_types_dates_issuers_and_lists():
    doc = Document(doc_id="x", source="x", issuer="Ủy ban nhân dân tỉnh Lai Châu")
    doc.text = ("Triển khai các Nghị quyết của Chính phủ: Số 68/NQ-CP ngày 01/7/2021 về hỗ trợ; số 105/NQ-CP ngày "
                "09/9/2021 về doanh nghiệp. Thực hiện Quyết định số 23/2021/QĐ-TTg ngày 07/7/2021 và Chỉ thị số "
                "15/CT-UBND ngày 13/10/2021 của UBND tỉnh về phát động; Công văn số 9816-CV/BTGTW, ngày 03/12/2020 "
                "của Ban Tuyên giáo Trung ương.")
    refs = {r.number_symbol: r for r in extract_references(doc, {}).references}
    assert refs["105/NQ-CP"].doc_type == "Nghị quyết" and refs["105/NQ-CP"].issue_date == "2021-09-09"
    assert refs["23/2021/QĐ-TTg"].issuer == "Thủ tướng Chính phủ"
    assert refs["15/CT-UBND"].issuer == "Ủy ban nhân dân tỉnh Lai Châu"
    assert refs["9816-CV/BTGTW"].issuer == "Ban Tuyên giáo Trung ương"


LETTER = """ỦY BAN NHÂN DÂN
TỈNH ĐIỆN BIÊN
-------
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 2451/UBND-KGVX
V/v tăng cường công tác phòng,
chống dịch sốt xuất huyết
Điện Biên, ngày 05 tháng 9 năm 2024

Kính gửi:
- Sở Y tế;
- Ủy ban nhân dân các huyện, thị xã, thành phố.

Để chủ động phòng, chống dịch, Ủy ban nhân dân tỉnh yêu cầu:
1. Sở Y tế:
a) Chủ trì, phối hợp với Sở Tài chính bảo đảm thuốc, vật tư; báo cáo UBND tỉnh trước ngày 30/9/2024.
b) Hướng dẫn các cơ sở y tế thu dung, điều trị.
2. Tăng cường tuyên truyền phòng bệnh trong cộng đồng.
3. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh vận động Nhân dân diệt lăng quăng hằng tháng.
Trên đây là chỉ đạo của UBND tỉnh, yêu cầu các cơ quan, đơn vị thực hiện./.

Nơi nhận:
- Như trên;
- TT. Tỉnh ủy (b/c);
- Lưu: VT, KGVX.
TM. ỦY BAN NHÂN DÂN
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH
Lò Văn Cương
"""


def test_whole_letter_through_the_text_stages():
    doc = process_text(LETTER, "letter.txt")
    assert (doc.doc_type, doc.number_symbol, doc.issue_date, doc.place) == \
        ("Công văn", "2451/UBND-KGVX", "2024-09-05", "Điện Biên")
    assert doc.issuer == "Ủy ban nhân dân tỉnh Điện Biên"
    assert doc.subject == "tăng cường công tác phòng, chống dịch sốt xuất huyết"
    assert doc.recipients == ["Sở Y tế", "Ủy ban nhân dân các huyện, thị xã, thành phố"]
    assert doc.distribution == ["Như trên", "TT. Tỉnh ủy (b/c)", "Lưu: VT, KGVX"]
    assert (doc.signer.authority, doc.signer.capacity, doc.signer.title, doc.signer.name) == \
        ("TM. Ủy ban nhân dân", "KT. Chủ tịch", "Phó Chủ tịch", "Lò Văn Cương")
    tasks = {t.id: t for t in doc.tasks}
    assert list(tasks) == ["1", "1.a", "1.b", "2", "3"]
    assert tasks["1"].agencies == []                       # a heading with labelled children
    assert [(a.name, a.role) for a in tasks["1.a"].agencies] == [("Sở Y tế", "lead"), ("Sở Tài chính", "coordinate")]
    assert tasks["1.a"].deadline == "2024-09-30"
    assert [(a.name, a.role) for a in tasks["1.b"].agencies] == [("Sở Y tế", "lead")]
    assert {a.role for a in tasks["2"].agencies} == {"addressee"} and len(tasks["2"].agencies) == 2
    assert [(a.name, a.role) for a in tasks["3"].agencies] == [("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "requested")]
    assert tasks["3"].deadline == "hàng tháng"
    assert "Trên đây" not in tasks["3"].text


def test_news_page_is_not_an_official_letter():
    doc = process_text("Tỉnh Lào Cai phát động phong trào thi đua\n\nNgày 21/9/2021, UBND tỉnh ban hành Kế hoạch số "
                       "353/KH-UBND về việc thực hiện phong trào.\n\nThu Giang\nThống kê truy cập\nĐang online: 16",
                       "news.txt")
    assert doc.doc_type is None and doc.number_symbol is None and doc.issuer is None
    assert any(w.code == "not_official_letter" for w in doc.warnings)
    assert [r.number_symbol for r in doc.references] == ["353/KH-UBND"]


def test_heading_titles_and_body_headings():
    from extractors.tasks import heading_title
    assert heading_title(["MỤC", "ĐÍCH, YÊU CẦU", "- Huy động"], has_children=True) == "MỤC ĐÍCH, YÊU CẦU"
    assert heading_title(["Sở Nội vụ (Ban Thi đua - Khen thưởng tỉnh)", "- Giúp Hội đồng"], False) == \
        "Sở Nội vụ (Ban Thi đua - Khen thưởng tỉnh)"
    assert heading_title(["Các cơ quan đăng ký đầu tư (Sở Tài chính,", "Ban quản lý Khu Kinh tế):"], True) == \
        "Các cơ quan đăng ký đầu tư (Sở Tài chính, Ban quản lý Khu Kinh tế)"
    assert heading_title(["Tăng cường tuyên truyền, vận động Nhân dân."], False) is None


def test_children_of_a_body_heading_act_as_that_body():
    text = ("Ủy ban nhân dân tỉnh yêu cầu:\n1.\nCác cơ quan đăng ký đầu tư (Sở Tài chính, Ban quản lý\n"
            "Khu Kinh tế tỉnh):\na) Là đầu mối tiếp nhận hồ sơ.\nb) Tổ chức lấy ý kiến thẩm định.\n"
            "2. Sở Xây dựng chủ trì thẩm định thiết kế.\n")
    doc = process_text(text, "x.txt")
    tasks = {t.id: t for t in doc.tasks}
    assert [(a.name, a.role) for a in tasks["1.a"].agencies] == \
        [("Các cơ quan đăng ký đầu tư (Sở Tài chính, Ban quản lý Khu Kinh tế tỉnh)", "lead")]
    assert [(a.name, a.role) for a in tasks["2"].agencies] == [("Sở Xây dựng", "lead")]


def test_place_is_cleaned_of_symbols_and_spelled_as_the_gazetteer():
    assert parse_place_date("Số: 15 /CT-UBND Lại Châu, ngày 13 tháng 10 năm 2021")["place"] == "Lai Châu"
    assert parse_place_date("Thành phố Hồ Chí Minh, ngày 01 tháng 2 năm 2020")["place"] == "Thành phố Hồ Chí Minh"


def test_upper_case_ocr_slips_fixed_only_in_upper_case_lines():
    from normalizers.cleanup import fix_upper_case_slips
    assert fix_upper_case_slips("T/M BẠN THƯỜNG VỤ\nbạn đọc") == "T/M BAN THƯỜNG VỤ\nbạn đọc"
    assert fix_upper_case_slips("ỦY BAN NHÂN DÂN TỈNH HÀ TĨNH") == "ỦY BAN NHÂN DÂN TỈNH HÀ TĨNH"
    # the level before a place name starts a header line; Hà Tĩnh keeps its tilde
    assert fix_upper_case_slips("ỦY BAN NHÂN DÂN\nTĨNH LAI CHÂU\nTĨNH HÀ TĨNH") == \
        "ỦY BAN NHÂN DÂN\nTỈNH LAI CHÂU\nTỈNH HÀ TĨNH"
    assert fix_upper_case_slips("SỞ Y TẾ TĨNH") == "SỞ Y TẾ TĨNH"     # not the first word
    assert fix_upper_case_slips("b) Đề nghị\n¢) Sở Thông tin\ngiá 5¢) x") == "b) Đề nghị\nc) Sở Thông tin\ngiá 5¢) x"


def test_mobilised_bodies_are_not_partners():
    assert roles_in_text("Huy động tối đa sự tham gia của các lực lượng ở cơ sở, phối hợp với các đoàn thể.") == []
    assert roles_in_text("Sở Y tế tổ chức tiêm chủng với sự tham gia của các đơn vị liên quan.") == \
        [("Sở Y tế", "lead"), ("Các đơn vị liên quan", "coordinate")]


# ------------------------------------------------------------------ the signature block

def _signer(text: str):
    from extractors.parties import extract_parties
    doc = extract_parties(Document(doc_id="x", source="x.txt", text=text), {})
    return doc, (doc.signer.capacity, doc.signer.title, doc.signer.name)


QD_OPENING = """ỦY BAN NHÂN DÂN
TỈNH HÀ GIANG
Số: 12/QĐ-UBND
QUYẾT ĐỊNH
Về việc công bố danh mục thủ tục hành chính
CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH HÀ GIANG
Căn cứ Luật Tổ chức chính quyền địa phương;
QUYẾT ĐỊNH:
Điều 1. Công bố kèm theo Quyết định này danh mục thủ tục hành chính.
Điều 2. Quyết định này có hiệu lực kể từ ngày ký./.
"""


def test_signer_without_noi_nhan_is_the_block_that_ends_in_a_name():
    """A quyết định opens with its signer's title; the signature proper is further down."""
    _, got = _signer(QD_OPENING + "\nKT.\nCHỦ TỊCH\nPHÓ CHỦ TỊCH\nTrần Văn Minh\n")
    assert got == ("KT. Chủ tịch", "Phó Chủ tịch", "Trần Văn Minh")


def test_signer_of_the_letter_not_of_an_annex_form():
    """An annex's form ends in a Nơi nhận with no signed name: the letter's own block wins,
    and the distribution list is the one beside it."""
    text = (QD_OPENING + "\nNơi nhận:\n- Như Điều 3;\n- Lưu: VT.\n\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nĐỗ Thị Hoa\n\n"
            "PHỤ LỤC\nMẫu giấy phép\nNơi nhận:\n- ……….;\n\n(…) NGƯỜI KÝ\n(Ký, ghi rõ họ tên)\n")
    doc, got = _signer(text)
    assert got == ("KT. Chủ tịch", "Phó Chủ tịch", "Đỗ Thị Hoa")
    assert doc.distribution == ["Như Điều 3", "Lưu: VT"]


@pytest.mark.parametrize("lines, name", [
    (["Thiếu tướng Nguyễn Văn Bình"], "Nguyễn Văn Bình"),        # quân hàm before the name
    (["PGS.TS. Lê Thu Hà"], "Lê Thu Hà"),                         # học hàm, học vị
    (["Phạm", "Quang Huy"], "Phạm Quang Huy"),                    # surname alone on its line
    (["Tsang Văn Lâm"], "Tsang Văn Lâm"),                         # not a rank: a name's own letters
])
def test_signer_name_forms(lines, name):
    _, got = _signer("Nơi nhận:\n- Lưu: VT.\n\nKT. BỘ TRƯỞNG\nTHỨ TRƯỞNG\n" + "\n".join(lines) + "\n")
    assert got == ("KT. Bộ trưởng", "Thứ trưởng", name)


def test_signer_title_wrapped_and_delegated_twice():
    # thừa lệnh, then ký thay: the last title line is the signer's; a capital line before a
    # mixed-case name continues the title, it is not the name
    _, got = _signer("Nơi nhận:\n- Lưu: VT.\n\nTL. CỤC TRƯỞNG\nKT. TRƯỞNG BAN QUẢN LÝ RỦI RO\nHẢI QUAN\n"
                     "PHÓ TRƯỞNG BAN\nNgô Minh Tâm\n")
    assert got[1:] == ("Phó trưởng ban", "Ngô Minh Tâm")
    # a title that goes on after a comma
    _, got = _signer("Nơi nhận:\n- Lưu: VT.\n\nTL. BỘ TRƯỞNG\nVỤ TRƯỞNG VỤ PHÁP CHẾ,\nTỔ CHỨC CÁN BỘ\n"
                     "Hoàng Anh Tuấn\n")
    assert (got[1].lower(), got[2]) == ("vụ trưởng vụ pháp chế, tổ chức cán bộ", "Hoàng Anh Tuấn")


@pytest.mark.parametrize("block, want", [
    (["TM. ỦY BAN", "NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Huỳnh Văn Lợi"],
     ("TM. Ủy ban nhân dân", "KT. Chủ tịch", "Phó Chủ tịch", "Huỳnh Văn Lợi")),
    (["KT. BỘ", "TRƯỞNG", "THỨ TRƯỞNG", "Vương Đình Huệ"],
     (None, "KT. Bộ trưởng", "Thứ trưởng", "Vương Đình Huệ")),
    # the line under a complete authority is the title, not the rest of the authority
    (["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lò Văn Cương"],
     ("TM. Ủy ban nhân dân", None, "Chủ tịch", "Lò Văn Cương")),
])
def test_signature_lines_cut_by_a_narrow_column(block, want):
    from extractors.parties import _read_block
    got = _read_block(block)
    assert (got.authority, got.capacity, got.title, got.name) == want


def test_consolidated_text_and_a_capital_title_that_starts_like_a_body():
    """A văn bản hợp nhất repeats the type line of the text it consolidates: its symbol's code
    decides.  A capital title line that opens with "THỰC HIỆN" or "TRONG" still belongs to
    the title, and a line ending in "VỀ" goes on."""
    text = ("BỘ NỘI VỤ\nSố: 7/VBHN-BNV\nHà Nội, ngày 2 tháng 3 năm 2025\n\nNGHỊ ĐỊNH\nVỀ\n"
            "THỰC HIỆN CHẾ ĐỘ HƯU TRÍ ĐỐI VỚI CÁN BỘ\nTRONG CƠ QUAN HÀNH CHÍNH\n\n"
            "Nghị định số 1/2020/NĐ-CP ngày 1 tháng 1 năm 2020 của Chính phủ.\n")
    doc = process_text(text, "x.txt")
    assert doc.doc_type == "Văn bản hợp nhất"
    assert doc.subject == "VỀ THỰC HIỆN CHẾ ĐỘ HƯU TRÍ ĐỐI VỚI CÁN BỘ TRONG CƠ QUAN HÀNH CHÍNH"


def test_place_date_without_its_comma_only_for_a_known_place():
    got = parse_place_date("Số: 12/NQ-CP\nĐà Nẵng ngày 03\ntháng 12 năm 2025\nNGHỊ QUYẾT")
    assert (got["place"], got["issue_date"]) == ("Đà Nẵng", "2025-12-03")
    # the same shape in a body line is a citation, not the letter's date
    assert parse_place_date("Căn cứ Luật Tổ chức Chính phủ ngày 18 tháng 02 năm 2025;") is None


def test_locality_read_with_the_wrong_tone_closes_an_agency_name():
    """A restorer cannot tell tỉnh from tính or tinh by the words around it: where such a word
    closes an agency's name it is the locality; elsewhere it is left alone."""
    from extractors.agencies import find_agencies
    names = lambda s: [m.name for m in find_agencies(s)[1]]   # noqa: E731
    assert names("Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tính và các tổ chức chính trị - xã hội tỉnh") \
        == ["Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Các tổ chức chính trị - xã hội tỉnh"]
    assert names("Thủ trưởng các sở, ban, ngành, đoàn thể tinh, Chủ tịch UBND các huyện") \
        == ["Thủ trưởng các sở, ban, ngành, đoàn thể tỉnh", "Chủ tịch UBND các huyện"]
    assert names("Sở Nội vụ tinh giản biên chế") == ["Sở Nội vụ"]
    # "liên quan" is not "liên quận": only tỉnh, huyện, xã are read so (data/agencies.yaml)
    assert names("Các cơ quan, đơn vị liên quan") == ["Các cơ quan, đơn vị liên quan"]


def test_a_capitalised_role_verb_ends_the_agency_name():
    """A table cell or a careless capital ("Sở Tư pháp Thực hiện …") does not make the verb
    part of the name; a name's own capitalised words (Ban Chỉ đạo, Sở Xây dựng) stay."""
    assert roles_in_text("Sở Tư pháp Thực hiện chức năng thường trực") == [("Sở Tư pháp", "lead")]
    assert roles_in_text("Sở Y tế Chủ trì, phối hợp với Sở Tài chính") == \
        [("Sở Y tế", "lead"), ("Sở Tài chính", "coordinate")]
    assert roles_in_text("Sở Nội vụ Phối hợp với Công an tỉnh rà soát") == \
        [("Sở Nội vụ", "lead"), ("Công an tỉnh", "coordinate")]
    assert roles_in_text("Sở Xây dựng thực hiện") == [("Sở Xây dựng", "lead")]


def test_agency_name_stops_at_an_aside_and_at_the_national_motto():
    from extractors.agencies import find_agencies
    names = lambda s: [m.name for m in find_agencies(s)[1]]   # noqa: E731
    # a bracket defining a short name is no part of the name, and names no second agency
    assert names("Ủy ban nhân dân các xã (sau đây gọi là Ủy ban nhân dân cấp xã) thực hiện") == \
        ["Ủy ban nhân dân các xã"]
    assert names("Chi cục Thủy lợi (*sau đây viết tắt là Chi cục*) chủ trì") == ["Chi cục Thủy lợi"]
    # a bracket that names a unit stays
    assert names("Công an tỉnh (Phòng Cảnh sát giao thông) chủ trì") == ["Công an tỉnh (Phòng Cảnh sát giao thông)"]
    # a form's header the text runs into
    assert names("BAN CHỈ ĐẠO PHÒNG CHỐNG THIÊN TAI CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập") == \
        ["BAN CHỈ ĐẠO PHÒNG CHỐNG THIÊN TAI"]
