"""OUT/review.html in a real headless Chromium (Debian's /usr/bin/chromium).

The page must open without a server or any external file, show each document's fields
and tasks beside the text with the source words highlighted, flag what needs review, and
show the page image of a scan: a distinctive test image is embedded and its colours are
looked for in a screenshot.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.links import build_links
from pipeline.review import highlight_spans, write_review_page
from tests.test_links import CT15_ID, PLAN_ID, seed_like_documents

CHROMIUM = Path("/usr/bin/chromium")
MAGENTA = (255, 0, 255)
TEAL = (0, 128, 128)
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium is not installed (/usr/bin/chromium missing): apt-get install -y chromium")


def test_image(path: Path) -> Path:
    """A 'scanned page': magenta with a teal band, unlike anything else on the page."""
    im = Image.new("RGB", (800, 1000), MAGENTA)
    draw = ImageDraw.Draw(im)
    draw.rectangle([0, 400, 800, 600], fill=TEAL)
    im.save(path)
    return path


test_image.__test__ = False  # a helper, not a test


def documents(tmp: Path) -> list[dict]:
    docs = seed_like_documents()
    ct15 = docs[0]
    ct15["pages"] = [{"number": 1, "origin": "ocr", "mean_conf": 54.0,
                      "image_path": str(test_image(tmp / "page1.png"))}]
    ct15["provenance"] = {"number_symbol": {"page": 1, "box": [40, 60, 300, 100], "conf": 41.0}}
    ct15["tasks"][2]["box"] = [40, 620, 760, 760]
    ct15["tasks"][2]["page"] = 1
    return docs


def write_page(tmp: Path) -> Path:
    docs = documents(tmp)
    out = tmp / "out"
    out.mkdir()
    return write_review_page(out, docs, links=build_links(docs), report={"files": 3, "seconds": 1.2})


def chromium(*args: str, timeout: int = 90) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        return subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class _Collect(HTMLParser):
    """Elements with data-field / data-task-id / class flag, and the text inside header-field rows."""

    def __init__(self):
        super().__init__()
        self.marks, self.field_rows, self.tasks, self.flags, self.imgs = [], {}, [], 0, []
        self._row = None
        self._depth = 0
        self._doc = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article":
            self._doc = a.get("data-doc-id")
        if tag == "mark":
            self.marks.append(a.get("data-field"))
        if tag == "tr" and a.get("data-field"):
            self._row, self._depth = (self._doc, a["data-field"]), 0
            self.field_rows[self._row] = {"flag": "flag" in (a.get("class") or ""), "text": ""}
        if self._row and tag == "tr":
            self._depth += 1
        if tag == "tr" and a.get("data-task-id"):
            self.tasks.append(a["data-task-id"])
        if "flag" in (a.get("class") or "").split():
            self.flags += 1
        if tag == "img":
            self.imgs.append(a.get("src") or "")

    def handle_endtag(self, tag):
        if self._row and tag == "tr":
            self._depth -= 1
            if self._depth <= 0:
                self._row = None

    def handle_data(self, data):
        if self._row:
            self.field_rows[self._row]["text"] += data


def test_page_is_self_contained(tmp_path):
    html = write_page(tmp_path).read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:|//|file:)""", html)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert html.count('src="data:image/png;base64,') == 1


def test_highlights_follow_the_fields():
    ct15 = seed_like_documents()[0]
    text = ct15["text"]
    found = {s["field"]: text[s["start"]:s["end"]] for s in reversed(highlight_spans(ct15))}
    assert found["number_symbol"] == "15 /CT-UBND"                 # printed with a space
    assert found["issue_date"] == "ngày 77 tháng 70"                # the unreadable date, flagged
    assert found["doc_type"] == "CHỈ THỊ"
    assert found["agency"] in {"Sở Thông tin và Truyền thông", "Sở Nội vụ", "Sở Y tế", "các đơn vị liên quan"}
    # words whose diacritics were restored with low confidence are marked where no field is
    start = text.index("Doc lap")
    ct15["provenance"] = {"restoration_tokens": [
        {"original": "Doc", "restored": "Doc", "confidence": 0.1, "start": start},
        {"original": "Tu", "restored": "Tu", "confidence": 0.9, "start": text.index("Tu do")},
        {"original": "So", "restored": "Số", "confidence": 0.2, "start": text.index("Số:")}]}
    low = [text[s["start"]:s["end"]] for s in highlight_spans(ct15) if s["field"] == "restoration"]
    assert low == ["Doc", "Số"]
    plan = seed_like_documents()[1]
    spans = highlight_spans(plan)
    assert any(plan["text"][s["start"]:s["end"]] == "Tống Thanh Hải" for s in spans)
    assert any(s["field"] == "references" and plan["text"][s["start"]:s["end"]] == "15/CT-UBND" for s in spans)


@needs_chromium
def test_chromium_opens_the_page_and_shows_fields(tmp_path):
    page = write_page(tmp_path)
    result = chromium("--dump-dom", page.resolve().as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "<article" in dom and f'data-doc-id="{CT15_ID}"' in dom and f'data-doc-id="{PLAN_ID}"' in dom
    p = _Collect()
    p.feed(dom)
    rows = {f: v for (d, f), v in p.field_rows.items() if d == CT15_ID}
    assert "15/CT-UBND" in rows["number_symbol"]["text"]
    assert "Ủy ban nhân dân tỉnh Lai Châu" in rows["issuer"]["text"]
    assert rows["number_symbol"]["flag"]                              # OCR confidence 41
    assert rows["issue_date"]["flag"] and "13/10/2021" in rows["issue_date"]["text"]   # the cited date
    plan = {f: v for (d, f), v in p.field_rows.items() if d == PLAN_ID}
    assert "Tống Thanh Hải" in plan["signer"]["text"] and not plan["number_symbol"]["flag"]
    assert {"number_symbol", "issue_date", "doc_type", "agency", "signer"} <= set(p.marks)
    assert {"6.c", "6.d", "VI.1", "VI.3", "1"} <= set(p.tasks)
    assert p.flags >= 3
    assert len(p.imgs) == 1 and p.imgs[0].startswith("data:image/png;base64,")
    assert "Sở Nội vụ (Ban Thi đua - Khen thưởng tỉnh)" in dom and "được đề nghị" in dom


@needs_chromium
def test_chromium_screenshot_shows_the_page_image(tmp_path):
    page = write_page(tmp_path)
    shot = tmp_path / "shot.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1280,2000", page.resolve().as_uri())
    assert shot.exists(), result.stderr[-2000:]
    im = Image.open(shot).convert("RGB")
    assert im.size == (1280, 2000)
    small = im.resize((320, 500))
    colours = small.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, "the screenshot is blank"

    pixels = np.asarray(im).astype(int)

    def count(target, tol=24):
        return int((np.abs(pixels - np.array(target)) <= tol).all(axis=2).sum())
    magenta, teal = count(MAGENTA), count(TEAL)
    # the 800x1000 image is shown scaled into its column: tens of thousands of pixels of each colour
    assert magenta > 40_000, magenta
    assert teal > 8_000, teal


def test_kept_page_images_are_found_by_name(tmp_path):
    """Without pages[].image_path, the OCR stage's keep_images folder (<doc_id>_p<n>.png) is used."""
    from pipeline import emitters
    from pipeline.config import Config
    keep = tmp_path / "pages"
    keep.mkdir()
    test_image(keep / f"{CT15_ID}_p1.png")
    docs = seed_like_documents()
    docs[0]["pages"] = [{"number": 1, "origin": "ocr", "mean_conf": 70.0}]
    out = tmp_path / "out"
    config = Config(stages=[("ocr", {"keep_images": str(keep)})], outputs={"strict": True})
    emitters.after_write(out, docs, {}, config)
    html = (out / "review.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 1


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_real_scan_run_shows_page_and_boxes(tmp_path):
    """A rendered scan through the whole pipeline (OCR with keep_images): the page image is on the
    review page with the boxes of the fields and tasks the locate stage found."""
    from pipeline.batch import run_paths
    from pipeline.config import load_config
    from tests.scanmaker import render, save_png, short_letter
    src = tmp_path / "in"
    src.mkdir()
    save_png(render(short_letter()).pages[0], src / "letter.png", 300)
    config = load_config()
    config.stages = [(n, dict(s, keep_images=str(tmp_path / "pages")) if n == "ocr" else s)
                     for n, s in config.stages]
    run_paths([str(src)], tmp_path / "out", config, workers=1)
    html = (tmp_path / "out" / "review.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 1
    assert html.count('class="box') >= 2, "no field or task boxes on the page image"
