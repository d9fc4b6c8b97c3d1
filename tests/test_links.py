"""Archive-wide links (pipeline/links.py) on synthetic documents shaped like the gold records.

The builders here (``seed_like_documents``) are shared with the other issue-6 tests.
"""
from __future__ import annotations

import json

from pipeline.links import build_links, citation_snippet, issuers_compatible, write_links
from pipeline.model import Agency, Document, Reference, Signer, Task, Warning

CT15_ID = "6f412e6739b6846b"
PLAN_ID = "a187bca7278db11c"
CV58_ID = "7377f7c58ea67fe5"

CT15_TEXT = """TINH LAI CHAU Doc lap - Tu do - Hanh phuc
Số: 15 /CT-UBND Lai Châu, ngày 77 tháng 70 năm 2021
CHỈ THỊ
Phát động Phong trào thi đua đặc biệt “Lai Châu đoàn kết, chung sức,
đồng lòng thi đua phòng, chống và chiến thắng đại dịch Covid-19”
6. Tổ chức thực hiện
c) Sở Thông tin và Truyền thông chỉ đạo các cơ quan báo chí tuyên truyền Chỉ thị.
d) Sở Nội vụ chủ trì, phối hợp với Sở Y tế và các đơn vị liên quan kiểm tra, đôn đốc thực hiện.
CHỦ TỊCH
"""

PLAN_TEXT = """KẾ HOẠCH
Triển khai phong trào thi đua đặc biệt “Lai Châu đoàn kết, chung sức, đồng lòng thi đua
phòng, chống và chiến thắng đại dịch Covid-19”
Thực hiện Quyết định số 1497/QĐ-TTg ngày 10/9/2021 của Thủ tướng Chính phủ.
VI. TỔ CHỨC THỰC HIỆN
1. Sở Nội vụ (Ban Thi đua - Khen thưởng tỉnh)
- Tham mưu tổ chức triển khai Kế hoạch; tổng hợp kết quả trước ngày 31/12/2021.
3. Ban Tuyên giáo Tỉnh ủy, Sở Thông tin và Truyền thông
- Đề nghị Ban Tuyên giáo Tỉnh ủy chỉ đạo, định hướng các cơ quan báo chí
tuyên truyền những nội dung của Chỉ thị số 15/CT-UBND ngày 13/10/2021 của
UBND tỉnh và các phong trào thi đua đến cán bộ, đảng viên và Nhân dân.
KT. CHỦ TỊCH PHÓ CHỦ TỊCH Tống Thanh Hải
"""

CV58_TEXT = """TỈNH ỦY LAI CHÂU ĐẢNG CỘNG SẢN VIỆT NAM
Số 58-CV/TU Lai Châu, ngày 08 tháng 12 năm 2020
V/v tăng cường chỉ đạo công tác phòng, chống dịch Covid-19
Kính gửi: - Các ban đảng tỉnh, đảng đoàn, ban cán sự đảng
1- Các ban đảng, đảng đoàn, ban cán sự đảng lãnh đạo quyết liệt công tác phòng dịch.
"""


def ct15() -> dict:
    return Document(
        doc_id=CT15_ID, source="000_6f412e6739b6846b.txt", doc_family="state", doc_type="Chỉ thị",
        number="15", symbol="CT-UBND", number_symbol="15/CT-UBND", issue_date=None, place="Lai Châu",
        issuer="Ủy ban nhân dân tỉnh Lai Châu",
        subject="Phát động Phong trào thi đua đặc biệt “Lai Châu đoàn kết, chung sức, đồng lòng thi đua "
                "phòng, chống và chiến thắng đại dịch Covid-19”",
        distribution=["TT. Tỉnh ủy (B/c)", "Lưu: VT, Th3"], signer=Signer(title="Chủ tịch"),
        references=[Reference("Nghị quyết", "68/NQ-CP", "2021-07-01", "Chính phủ")],
        tasks=[
            Task(id="6", title="Tổ chức thực hiện", text="Tổ chức thực hiện", level=0),
            Task(id="6.c", text="Sở Thông tin và Truyền thông chỉ đạo các cơ quan báo chí tuyên truyền Chỉ thị.",
                 agencies=[Agency("Sở Thông tin và Truyền thông", "lead")], level=1),
            Task(id="6.d", text="Sở Nội vụ chủ trì, phối hợp với Sở Y tế và các đơn vị liên quan kiểm tra, "
                                "đôn đốc thực hiện.",
                 agencies=[Agency("Sở Nội vụ", "lead"), Agency("Sở Y tế", "coordinate"),
                           Agency("Các đơn vị liên quan", "coordinate", needs_review=True)], level=1),
        ],
        text=CT15_TEXT, warnings=[Warning("invalid_date", "ngày 77 tháng 70", 1)],
        needs_review=["issue_date"],
    ).to_record()


def plan() -> dict:
    return Document(
        doc_id=PLAN_ID, source="002_a187bca7278db11c.txt", doc_family="state", doc_type="Kế hoạch",
        issuer="Ủy ban nhân dân tỉnh Lai Châu",
        subject="Triển khai phong trào thi đua đặc biệt “Lai Châu đoàn kết, chung sức, đồng lòng thi đua "
                "phòng, chống và chiến thắng đại dịch Covid-19”",
        signer=Signer("TM. Ủy ban nhân dân", "KT. Chủ tịch", "Phó Chủ tịch", "Tống Thanh Hải"),
        references=[Reference("Quyết định", "1497/QĐ-TTg", "2021-09-10", "Thủ tướng Chính phủ"),
                    Reference("Chỉ thị", "15/CT-UBND", "2021-10-13", "Ủy ban nhân dân tỉnh Lai Châu")],
        tasks=[
            Task(id="VI", title="TỔ CHỨC THỰC HIỆN", text="TỔ CHỨC THỰC HIỆN"),
            Task(id="VI.1", title="Sở Nội vụ (Ban Thi đua - Khen thưởng tỉnh)",
                 text="Tham mưu tổ chức triển khai Kế hoạch; tổng hợp kết quả trước ngày 31/12/2021.",
                 agencies=[Agency("Sở Nội vụ (Ban Thi đua - Khen thưởng tỉnh)", "lead")], deadline="2021-12-31",
                 page=3),
            Task(id="VI.3", title="Ban Tuyên giáo Tỉnh ủy, Sở Thông tin và Truyền thông",
                 text="Đề nghị Ban Tuyên giáo Tỉnh ủy chỉ đạo, định hướng các cơ quan báo chí tuyên truyền "
                      "những nội dung của Chỉ thị số 15/CT-UBND ngày 13/10/2021 của UBND tỉnh.",
                 agencies=[Agency("Ban Tuyên giáo Tỉnh ủy", "requested"),
                           Agency("Sở Thông tin và Truyền thông", "lead")], page=3, needs_review=True),
        ],
        text=PLAN_TEXT,
    ).to_record()


def cv58(doc_id: str = CV58_ID, source: str = "004_7377f7c58ea67fe5.txt") -> dict:
    return Document(
        doc_id=doc_id, source=source, doc_family="party", doc_type="Công văn", number="58", symbol="CV/TU",
        number_symbol="58-CV/TU", issue_date="2020-12-08", place="Lai Châu", issuer="Tỉnh ủy Lai Châu",
        subject="tăng cường chỉ đạo công tác phòng, chống dịch Covid-19",
        recipients=["Các ban đảng tỉnh, đảng đoàn, ban cán sự đảng"],
        signer=Signer("T/M Ban Thường vụ", None, "Phó Bí thư", "Lê Văn Lương"),
        tasks=[Task(id="1", text="Các ban đảng, đảng đoàn, ban cán sự đảng lãnh đạo quyết liệt công tác phòng dịch.",
                    agencies=[Agency("Các ban đảng, đảng đoàn, ban cán sự đảng", "lead")])],
        text=CV58_TEXT,
    ).to_record()


def seed_like_documents() -> list[dict]:
    return [ct15(), plan(), cv58()]


def test_plan_links_to_the_directive_it_implements():
    links = build_links(seed_like_documents())
    cites = [c for c in links["citations"] if c["from_doc"] == PLAN_ID]
    assert len(cites) == 1
    c = cites[0]
    assert c["to_doc"] == CT15_ID and c["to_number_symbol"] == "15/CT-UBND"
    assert c["match"] == "number_symbol+issuer"
    assert c["date_agrees"] is False            # the directive's own date was unreadable
    assert "Chỉ thị số 15/CT-UBND ngày 13/10/2021" in c["snippet"]
    # the other references point outside this archive
    unresolved = {u["reference"]["number_symbol"] for u in links["unresolved_references"]}
    assert {"1497/QĐ-TTg", "68/NQ-CP"} <= unresolved


def test_invalid_date_gets_the_cited_date_with_evidence():
    links = build_links(seed_like_documents())
    [s] = links["date_suggestions"]
    assert s["doc_id"] == CT15_ID
    assert s["current"] is None and s["reason"] == "invalid_date"
    assert s["suggested"] == "2021-10-13" and s["suggested_display"] == "13/10/2021"
    [ev] = s["evidence"]
    assert ev["citing_doc"] == PLAN_ID and ev["citing_doc_type"] == "Kế hoạch"
    assert "15/CT-UBND ngày 13/10/2021" in ev["snippet"]


def test_a_differing_date_is_offered_too():
    docs = seed_like_documents()
    docs[0]["issue_date"] = "2021-10-18"         # OCR read 13 as 18
    docs[0]["warnings"] = []
    [s] = build_links(docs)["date_suggestions"]
    assert s["reason"] == "differs" and s["current"] == "2021-10-18" and s["suggested"] == "2021-10-13"


def test_same_number_other_issuer_or_year_is_not_linked():
    other_province = ct15()
    other_province.update(doc_id="0000000000000001", source="x.txt", issuer="Ủy ban nhân dân tỉnh Lào Cai")
    docs = [other_province, plan()]
    assert build_links(docs)["citations"] == []
    other_year = ct15()
    other_year.update(doc_id="0000000000000002", source="y.txt", issue_date="2019-03-01", warnings=[],
                      needs_review=[])
    assert build_links([other_year, plan()])["citations"] == []


def test_duplicates_are_reported():
    docs = seed_like_documents() + [cv58("1111111111111111", "scan/cv58_ban_chup.pdf")]
    dups = build_links(docs)["duplicates"]
    assert len(dups) == 1
    assert dups[0]["number_symbol"] == "58-CV/TU"
    assert {d["doc_id"] for d in dups[0]["documents"]} == {CV58_ID, "1111111111111111"}
    # same number and symbol, another year: numbering restarts each year, not a duplicate
    later = cv58("2222222222222222", "cv58_2021.md")
    later["issue_date"] = "2021-02-01"
    assert build_links(seed_like_documents() + [later])["duplicates"] == []


def test_helpers():
    assert issuers_compatible("UBND tỉnh", "Ủy ban nhân dân tỉnh Lai Châu") is True
    assert issuers_compatible("Tỉnh ủy Lai Châu", "Ủy ban nhân dân tỉnh Lai Châu") is False
    assert issuers_compatible(None, "Tỉnh ủy Lai Châu") is None
    # OCR text without diacritics and with a space in the symbol still yields the snippet
    assert "15 /CT-UBND" in citation_snippet("theo Chi thi so 15 /CT-UBND ngay 13/10/2021 cua UBND tinh",
                                             "15/CT-UBND")


def test_write_links(tmp_path):
    links = write_links(tmp_path, seed_like_documents())
    on_disk = json.loads((tmp_path / "links.json").read_text(encoding="utf-8"))
    assert on_disk == links and on_disk["counts"]["citations"] == 1


def _many_documents() -> list[dict]:
    """The seed-like letters, copies of them (duplicates, several targets per number), a
    differing and a doubtful date, a letter citing itself and an empty entry."""
    docs = seed_like_documents()
    for k in range(3):
        copy_ = ct15()
        copy_.update(doc_id=f"c{k:015d}", source=f"copies/ct15_{k}.txt",
                     issue_date=[None, "2021-10-18", "2021-10"][k])
        docs.append(copy_)
        p = plan()
        p.update(doc_id=f"p{k:015d}", source=f"copies/plan_{k}.txt")
        p["references"] = p["references"] + [{"number_symbol": p.get("number_symbol") or "x",
                                              "issue_date": "2021-10-14"}]
        docs.append(p)
    docs.append(cv58("1111111111111111", "scan/cv58_ban_chup.pdf"))
    docs.append({})
    return docs


def test_links_built_on_disk_are_those_built_in_memory(tmp_path):
    """write_links (LinkSpool: summaries and links in a temporary SQLite database) gives the
    links of build_links, and links.json is their to_json bytes; the review page and the task
    list read the spooled links as they read the dict."""
    from pipeline import clerk
    from pipeline.links import LinkSpool, link_summary
    from pipeline.outputs import to_json
    from pipeline.review import page_chunks, review_summary
    for docs in (_many_documents(), seed_like_documents(), [], [{}]):
        expected = build_links(docs)
        assert expected == build_links([link_summary(d) for d in docs if d])
        got = write_links(tmp_path, docs)
        assert got == expected
        assert (tmp_path / "links.json").read_text(encoding="utf-8") == to_json(expected)
    docs = [d for d in _many_documents() if d]
    expected = build_links(docs)
    assert expected["counts"]["date_suggestions"] >= 2 and expected["counts"]["duplicates"] >= 2
    by_id = {d["doc_id"]: d for d in docs}
    summaries = [review_summary(d) for d in docs]
    with LinkSpool() as spool:
        for d in docs:
            spool.add(link_summary(d))
        links = spool.write(tmp_path / "spooled")
        assert links.to_dict() == expected
        for d in docs:
            assert links.suggestions.get(d["doc_id"], []) == [s for s in expected["date_suggestions"]
                                                              if s["doc_id"] == d["doc_id"]]
        page = "".join(page_chunks(summaries, by_id.__getitem__, tmp_path, links, max_documents=5))
        assert page == "".join(page_chunks(summaries, by_id.__getitem__, tmp_path, expected, max_documents=5))
        assert 'class="date-suggestion"' in page
        assert clerk.task_rows(docs, links) == clerk.task_rows(docs, expected)
