"""Ingest of each source kind, run through the whole text route."""
from pathlib import Path

import pytest

from pipeline.config import Config, load_config
from pipeline.runner import process_file
from tests.test_extractors import LETTER

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


def _text_only_config() -> Config:
    cfg = load_config()
    return Config(stages=[(n, s) for n, s in cfg.stages if n != "restore_diacritics"], raw=cfg.raw)


def _check(result):
    assert result.status == "ok", (result.reason, result.message)
    doc = result.document
    assert doc["number_symbol"] == "2451/UBND-KGVX" and doc["issue_date"] == "2024-09-05"
    assert doc["issuer"] == "Ủy ban nhân dân tỉnh Điện Biên"
    assert [t["id"] for t in doc["tasks"]] == ["1", "1.a", "1.b", "2", "3"]
    return doc


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_text_files_in_each_encoding(tmp_path, encoding):
    path = tmp_path / "cv.txt"
    path.write_text(LETTER, encoding=encoding)
    doc = _check(process_file(path, tmp_path, _text_only_config()))
    assert doc["source"] == "cv.txt" and len(doc["doc_id"]) == 16


def test_markdown_file(tmp_path):
    md = LETTER.replace("ỦY BAN NHÂN DÂN\n", "**ỦY BAN NHÂN DÂN**  \n").replace("Nơi nhận:", "**Nơi nhận:**")
    path = tmp_path / "sub" / "cv.md"
    path.parent.mkdir()
    path.write_text(md, encoding="utf-8")
    doc = _check(process_file(path, tmp_path, _text_only_config()))
    assert doc["source"] == "sub/cv.md" and "**" not in doc["text"]


def test_docx_file(tmp_path):
    import docx
    document = docx.Document()
    for line in LETTER.split("\n"):
        document.add_paragraph(line)
    path = tmp_path / "cv.docx"
    document.save(str(path))
    _check(process_file(path, tmp_path, _text_only_config()))


@pytest.mark.skipif(not FONT.exists(), reason="fonts-dejavu-core is not installed")
def test_pdf_with_a_text_layer(tmp_path):
    from fpdf import FPDF
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVuSerif", fname=str(FONT))
    pdf.set_font("DejaVuSerif", size=12)
    pdf.add_page()
    for line in LETTER.split("\n"):
        pdf.multi_cell(0, 6, line or " ", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "cv.pdf"
    pdf.output(str(path))
    result = process_file(path, tmp_path, _text_only_config())
    doc = _check(result)
    assert doc["pages"][0]["origin"] == "layer"


def test_legacy_and_unsupported_inputs_fail_clearly(tmp_path):
    legacy = tmp_path / "old.txt"
    legacy.write_bytes(("Uû ban nh©n d©n tØnh Lai Ch©u ®· ban hµnh ChØ thÞ vÒ viÖc t¨ng c­êng c«ng t¸c " * 5)
                       .encode("cp1252", errors="replace"))
    result = process_file(legacy, tmp_path, _text_only_config())
    assert (result.status, result.reason) == ("failed", "legacy_encoding")
    odd = tmp_path / "table.xls"
    odd.write_bytes(b"\xd0\xcf\x11\xe0")
    assert process_file(odd, tmp_path, _text_only_config()).reason == "unsupported_type"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert process_file(empty, tmp_path, _text_only_config()).reason == "empty_file"
