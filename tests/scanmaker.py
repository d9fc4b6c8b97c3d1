"""Make scanned letters for tests: render a letter's text on A4 the way letters are laid out.

The page has a two-column header (issuer, "Số", "V/v" on the left; motto or Party name and
place-date on the right), a 13 pt body and a two-column end block ("Nơi nhận" list in
11 pt on the left, signature on the right), in DejaVu Serif at 300 dpi.  ``degrade`` makes
it look scanned (seeded, reproducible): rotation, blur, noise, JPEG, 200 dpi, a red seal
over the signature, one page upside down.  ``render`` also returns the ground-truth text
in reading order (left header column, right header column, body, Nơi nhận, signature) for
measuring the character error rate.

CLI: ``python -m tests.scanmaker OUT_DIR`` writes the standard letters clean and degraded
as PDF (image only), PNG (page 1) and multi-page TIFF, with ``.truth.txt`` beside them.
"""
from __future__ import annotations

import io
import math
import random
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    "regular": FONT_DIR / "DejaVuSerif.ttf",
    "bold": FONT_DIR / "DejaVuSerif-Bold.ttf",
    "italic": FONT_DIR / "DejaVuSerif-Italic.ttf",
    "bolditalic": FONT_DIR / "DejaVuSerif-BoldItalic.ttf",
}
SHARED = Path("/work/shared")
# the letters the benchmark and the CLI render: two seeds and a few real texts
STANDARD_LETTERS = [
    SHARED / "seeds" / "001_161b9cd3f6c97b82.txt",
    SHARED / "seeds" / "004_7377f7c58ea67fe5.txt",
    SHARED / "docs" / "tvpl_11299_VPCP_KGVX_06690fd4.txt",
    SHARED / "docs" / "tvpl_010_CT_UBND_6bac4a0d.txt",
    SHARED / "docs" / "tvpl_012_CT_UBND_541cde0f.txt",
    SHARED / "docs" / "tvpl_141_KH_UBND_09daab28.txt",
]

DOC_TYPES = ("CHỈ THỊ", "KẾ HOẠCH", "QUYẾT ĐỊNH", "CÔNG ĐIỆN", "THÔNG BÁO", "NGHỊ QUYẾT",
             "BÁO CÁO", "HƯỚNG DẪN", "TỜ TRÌNH", "CÔNG VĂN", "THÔNG TƯ", "NGHỊ ĐỊNH")
_MOTTO = re.compile(r"^(CỘNG H(?:OÀ|ÒA)|CHỦ NGHĨA|Độc lập|ĐẢNG CỘNG SẢN)", re.I)
_DATE = re.compile(r",?\s*ngày\b.*\bnăm\s+\d{4}")
_SEPARATOR = re.compile(r"^[-_=~.]{3,}$")
_ITEM = re.compile(r"^([-+•]\s|\d+[.)-]\s|[a-zđ][.)]\s|[IVX]+\.\s)")


@dataclass
class Letter:
    """A letter split into the parts a page lays out separately."""
    header_left: list[str] = field(default_factory=list)   # issuer, *, Số, V/v …
    header_right: list[str] = field(default_factory=list)  # motto / Party name, place-date
    title: list[str] = field(default_factory=list)         # type line and its subject, centred
    body: list[str] = field(default_factory=list)          # paragraphs
    end_left: list[str] = field(default_factory=list)      # Nơi nhận: and its items
    end_right: list[str] = field(default_factory=list)     # authority, title, name (last)


@dataclass
class Rendered:
    pages: list[Image.Image]
    truth: str                     # whole document in reading order
    page_truths: list[str]         # per page, in reading order
    dpi: int = 300
    seal_boxes: dict[int, tuple] = field(default_factory=dict)   # page index -> seal box
    name_boxes: dict[int, tuple] = field(default_factory=dict)   # page index -> signer name box


# ---------------------------------------------------------------- parsing the text

def _clean_markdown(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\\*", "*").replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?!\w)", r"\1", text)
    text = re.sub(r"\\([\\`_{}\[\]()#+\-.!|>])", r"\1", text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    return blocks


def _join_block(block: list[str]) -> list[str]:
    """Join hard-wrapped lines of a block into paragraphs; list items start new ones."""
    out: list[str] = []
    for line in block:
        if out and not _ITEM.match(line) and not out[-1].endswith(":"):
            out[-1] = out[-1] + " " + line
        else:
            out.append(line)
    return out


def _split_issuer(text: str) -> list[str]:
    """'ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK' -> two lines, as printed."""
    if text.startswith("TỈNH ỦY") or len(text) < 22:
        return [text]
    for key in ("TỈNH", "THÀNH PHỐ", "HUYỆN", "SỞ", "XÃ", "PHƯỜNG"):
        m = re.search(r"\s" + key + r"\s", text)
        if m and m.start() > 3:
            return [text[:m.start()].strip(), text[m.start():].strip()]
    return [text]


def parse_letter(text: str) -> Letter:
    """Roughly split a letter's text into header columns, title, body and end block."""
    lines = [l for l in _clean_markdown(text).splitlines()]
    lines = [l for l in lines if not _SEPARATOR.match(l.strip())]
    blocks = _blocks(lines)
    letter = Letter()
    # ----- header: blocks until the date line, plus V/v continuation blocks
    i = 0
    seen_date = False
    while i < len(blocks) and i < 12:
        block = blocks[i]
        joined = " ".join(block)
        first = block[0]
        if seen_date and not first.startswith("V/v"):
            break
        if any(joined.upper().startswith(t) and joined.isupper() for t in DOC_TYPES) and not seen_date:
            break
        if first.startswith("Kính gửi"):
            break
        if _DATE.search(joined) and len(joined) < 80:
            letter.header_right.append(joined)
            seen_date = True
        elif _MOTTO.match(first):
            if first.upper().startswith("ĐẢNG"):
                letter.header_right.append(joined)
            else:
                m = re.search(r"Độc lập", joined)
                motto = joined[:m.start()].strip() if m else joined
                letter.header_right.append(re.sub(r"\s+", " ", motto))
                if m:
                    letter.header_right.append(joined[m.start():].strip())
        elif first.startswith("Số"):
            letter.header_left.append(first)
            rest = " ".join(block[1:])
            if rest:
                letter.header_left.append(rest)
        elif first.startswith("V/v"):
            letter.header_left.append(re.sub(r"^V/v\s*", "V/v ", joined))
        elif joined == "*":
            letter.header_left.append("*")
        else:
            letter.header_left.extend(_split_issuer(joined))
        i += 1
    # ----- end block: from the last "Nơi nhận"
    rest = blocks[i:]
    end_at = None
    for j in range(len(rest) - 1, -1, -1):
        head = " ".join(rest[j][:2])
        if re.match(r"^Nơi\s+nhận", head):
            end_at = j
            break
    body_blocks = rest if end_at is None else rest[:end_at]
    end_blocks = [] if end_at is None else rest[end_at:]
    # ----- title: the type line and the all-caps subject under it
    k = 0
    if body_blocks and " ".join(body_blocks[0]).upper() in DOC_TYPES:
        letter.title.append(" ".join(body_blocks[0]))
        k = 1
        if k < len(body_blocks) and " ".join(body_blocks[k]).isupper():
            letter.title.append(" ".join(body_blocks[k]))
            k += 1
    for block in body_blocks[k:]:
        letter.body.extend(_join_block(block))
    # ----- end block
    end_lines = [l for b in end_blocks for l in b]
    if end_lines:
        head = end_lines.pop(0)
        if head == "Nơi" and end_lines:
            head = head + " " + end_lines.pop(0)
        letter.end_left.append(head.split(":")[0] + ":")
        after = head.split(":", 1)[1].strip() if ":" in head else ""
        if after:
            end_lines.insert(0, after)
        for line in end_lines:
            if line.startswith(("-", "+")) or (letter.end_left and not letter.end_right
                                                 and letter.end_left[-1].endswith(",")):
                letter.end_left.append(line)
            elif not letter.end_right and len(letter.end_left) > 1 and not line.isupper() \
                    and not re.match(r"^(T/?M|KT|TL|TUQ|Q)\.?", line):
                letter.end_left[-1] += " " + line
            elif letter.end_right and len(line.split()) == 1 and line.isupper():
                letter.end_right[-1] += " " + line
            else:
                letter.end_right.append(line)
    return letter


# ---------------------------------------------------------------- rendering

def _font(style: str, pt: float, dpi: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS[style]), int(round(pt * dpi / 72)))


def _wrap(text: str, font, width: int, indent: int = 0) -> list[str]:
    words = text.split()
    lines, cur = [], ""
    for w in words:
        trial = (cur + " " + w).strip()
        avail = width - (indent if not lines else 0)
        if cur and font.getlength(trial) > avail:
            lines.append(cur)
            cur = w
        else:
            cur = trial
    if cur:
        lines.append(cur)
    return lines


class _Canvas:
    def __init__(self, dpi: int):
        self.dpi = dpi
        self.mm = dpi / 25.4
        self.W, self.H = int(round(210 * self.mm)), int(round(297 * self.mm))
        self.left, self.right = int(30 * self.mm), self.W - int(15 * self.mm)
        self.top, self.bottom = int(20 * self.mm), self.H - int(20 * self.mm)
        self.pages: list[Image.Image] = []
        self.truths: list[list[str]] = []
        self.new_page()

    def new_page(self):
        self.img = Image.new("RGB", (self.W, self.H), "white")
        self.draw = ImageDraw.Draw(self.img)
        self.pages.append(self.img)
        self.truths.append([])
        self.y = self.top

    def text_at(self, x: int, y: int, text: str, font) -> tuple[int, int, int, int]:
        self.draw.text((x, y), text, font=font, fill=(0, 0, 0))
        return self.draw.textbbox((x, y), text, font=font)

    def centred(self, x0: int, x1: int, y: int, text: str, font):
        w = font.getlength(text)
        return self.text_at(int((x0 + x1 - w) / 2), y, text, font)


def _fit(text_lines: list[str], style: str, pt: float, dpi: int, width: int):
    """The largest font, from pt down, in which every line fits the width."""
    while pt > 7:
        font = _font(style, pt, dpi)
        if all(font.getlength(t) <= width for t in text_lines):
            return font
        pt -= 0.5
    return _font(style, pt, dpi)


def render(letter: Letter, dpi: int = 300, seal: bool = False, max_body: Optional[int] = None,
           blank_page: bool = False) -> Rendered:
    """Lay the letter out on A4 pages; returns the pages and the text in reading order."""
    c = _Canvas(dpi)
    text_w = c.right - c.left
    split = c.left + int(0.40 * text_w)          # header left column | right column
    lh = lambda font: int(font.size * 1.32)     # noqa: E731  line height
    # ----- header
    truth_left, truth_right = [], []
    y_left = y_right = c.y
    issuer = [l for l in letter.header_left if not l.startswith(("Số", "V/v")) and l != "*"]
    if issuer:
        f = _fit(issuer, "bold", 12.5, dpi, split - c.left - 10)
        fr = _fit(issuer[:1], "regular", 12.5, dpi, split - c.left - 10)
        for idx, line in enumerate(issuer):
            font = fr if (idx == 0 and len(issuer) > 1) else f
            c.centred(c.left, split, y_left, line, font)
            truth_left.append(line)
            y_left += lh(font)
        c.draw.line([(c.left + (split - c.left) // 2 - 80, y_left + 6),
                     (c.left + (split - c.left) // 2 + 80, y_left + 6)], fill=0, width=3)
        y_left += 25
    if "*" in letter.header_left:
        c.centred(c.left, split, y_left, "*", _font("regular", 12, dpi))
        truth_left.append("*")
        y_left += lh(_font("regular", 12, dpi))
    motto = [l for l in letter.header_right if not _DATE.search(l)]
    if motto:
        for idx, line in enumerate(motto):
            style = "bold"
            font = _fit([line], style, 12.5 if idx == 0 else 13, dpi, c.right - split - 10)
            box = c.centred(split, c.right, y_right, line, font)
            truth_right.append(line)
            y_right += lh(font)
        c.draw.line([(box[0], y_right + 6), (box[2], y_right + 6)], fill=0, width=3)
        y_right += 25
    y_row = max(y_left, y_right) + int(0.5 * lh(_font("regular", 13, dpi)))
    y_left = y_right = y_row
    font_num = _font("regular", 13, dpi)
    for line in letter.header_left:
        if line.startswith("Số"):
            c.centred(c.left, split, y_left, line, font_num)
            truth_left.append(line)
            y_left += lh(font_num)
    font_vv = _font("regular", 11.5, dpi)
    for line in letter.header_left:
        if line.startswith("V/v"):
            for wrapped in _wrap(line, font_vv, split - c.left - 40):
                c.centred(c.left, split, y_left, wrapped, font_vv)
                truth_left.append(wrapped)
                y_left += lh(font_vv)
    for line in letter.header_right:
        if _DATE.search(line):
            font = _fit([line], "italic", 13, dpi, c.right - split - 10)
            c.centred(split, c.right, y_right, line, font)
            truth_right.append(line)
            y_right += lh(font)
    c.truths[0].extend(truth_left + truth_right)
    c.y = max(y_left, y_right) + lh(font_num)
    # ----- title
    for idx, line in enumerate(letter.title):
        font = _font("bold", 14 if idx == 0 else 13, dpi)
        for wrapped in _wrap(line, font, text_w - 100):
            c.centred(c.left, c.right, c.y, wrapped, font)
            c.truths[-1].append(wrapped)
            c.y += lh(font)
        c.y += lh(font) // 3
    # ----- body
    font = _font("regular", 13, dpi)
    indent = int(12.7 * c.mm)
    body = letter.body if max_body is None else letter.body[:max_body]
    for para in body:
        lines = _wrap(para, font, text_w, indent)
        for n, line in enumerate(lines):
            if c.y + lh(font) > c.bottom:
                c.new_page()
            c.text_at(c.left + (indent if n == 0 else 0), c.y, line, font)
            c.truths[-1].append(line)
            c.y += lh(font)
        c.y += lh(font) // 4
    # ----- end block
    rendered = Rendered(pages=c.pages, truth="", page_truths=[], dpi=dpi)
    if letter.end_left or letter.end_right:
        f_head = _font("bolditalic", 12, dpi)
        f_item = _font("regular", 11, dpi)
        f_sig = _font("bold", 13, dpi)
        items = [w for line in letter.end_left[1:] for w in _wrap(line, f_item, int(0.47 * text_w))]
        left_h = lh(f_head) + len(items) * lh(f_item)
        right_h = (len(letter.end_right) + 4) * lh(f_sig)
        y0 = c.y + lh(font) // 2
        if y0 + max(left_h, right_h) > c.bottom:
            c.new_page()
            y0 = c.y
        yl = y0
        if letter.end_left:
            c.text_at(c.left, yl, letter.end_left[0], f_head)
            c.truths[-1].append(letter.end_left[0])
            yl += lh(f_head)
            for line in items:
                c.text_at(c.left, yl, line, f_item)
                c.truths[-1].append(line)
                yl += lh(f_item)
        sig_x0 = c.left + int(0.50 * text_w)
        yr = y0
        sig = letter.end_right
        name_box = None
        for idx, line in enumerate(sig):
            if idx == len(sig) - 1 and len(sig) > 1:
                yr += 3 * lh(f_sig)      # room for the handwritten signature
            box = c.centred(sig_x0, c.right, yr, line, f_sig)
            c.truths[-1].append(line)
            yr += lh(f_sig)
            if idx == len(sig) - 1:
                name_box = box
        page_index = len(c.pages) - 1
        if name_box:
            rendered.name_boxes[page_index] = name_box
        if seal and sig:
            cx = sig_x0 + int(0.25 * (c.right - sig_x0))
            cy = y0 + int(2.2 * lh(f_sig))
            rendered.seal_boxes[page_index] = _stamp_seal(c.img, cx, cy, int(19 * c.mm))
    if blank_page:
        c.new_page()
    rendered.pages = c.pages
    rendered.page_truths = ["\n".join(t) for t in c.truths]
    rendered.truth = "\n".join(t for t in rendered.page_truths if t)
    return rendered


def _stamp_seal(img: Image.Image, cx: int, cy: int, r: int) -> tuple:
    """A round red seal (two rings, a star, ring text) multiplied onto the page like ink."""
    seal = Image.new("RGB", img.size, "white")
    d = ImageDraw.Draw(seal)
    red = (205, 30, 35)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=max(6, r // 22))
    ri = int(r * 0.72)
    d.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], outline=red, width=max(4, r // 40))
    star = []
    for k in range(10):
        rad = (r * 0.3) if k % 2 == 0 else (r * 0.12)
        a = -math.pi / 2 + k * math.pi / 5
        star.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    d.polygon(star, fill=red)
    font = ImageFont.truetype(str(FONTS["bold"]), max(12, r // 7))
    ring_text = "ỦY BAN NHÂN DÂN * TỈNH LAI CHÂU * "
    for k, ch in enumerate(ring_text):
        a = -math.pi + k * 2 * math.pi / len(ring_text)
        rr = (r + ri) / 2
        glyph = Image.new("L", (font.size * 2, font.size * 2), 0)
        ImageDraw.Draw(glyph).text((font.size // 2, font.size // 3), ch, font=font, fill=255)
        glyph = glyph.rotate(-math.degrees(a) - 90, resample=Image.BICUBIC)
        gx = int(cx + rr * math.cos(a) - glyph.width / 2)
        gy = int(cy + rr * math.sin(a) - glyph.height / 2)
        seal.paste(Image.new("RGB", glyph.size, red), (gx, gy), glyph)
    from PIL import ImageChops
    inked = ImageChops.multiply(img.convert("RGB"), seal)
    img.paste(inked)
    return (cx - r, cy - r, cx + r, cy + r)


# ---------------------------------------------------------------- degrading

def degrade(pages: list[Image.Image], seed: int = 0, dpi: int = 300, rotate: float = 2.0,
            blur: float = 0.7, noise: float = 10.0, jpeg: Optional[int] = 70,
            out_dpi: Optional[int] = 200, upside_down: Optional[int] = None) -> list[Image.Image]:
    """Make clean renders look scanned; the same seed gives the same pages."""
    import numpy as np
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    out = []
    for idx, page in enumerate(pages):
        img = page.convert("RGB")
        if rotate:
            angle = rng.uniform(-rotate, rotate)
            img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(255, 255, 255))
        if blur:
            img = img.filter(ImageFilter.GaussianBlur(blur))
        if out_dpi and out_dpi != dpi:
            img = img.resize((round(img.width * out_dpi / dpi), round(img.height * out_dpi / dpi)),
                             Image.LANCZOS)
        if noise:
            arr = np.asarray(img).astype(np.float32)
            arr += nrng.normal(0, noise, arr.shape[:2])[..., None]
            img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        if jpeg:
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=jpeg)
            img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        if upside_down is not None and idx == upside_down:
            img = img.rotate(180)
        img.info["dpi"] = (out_dpi or dpi, out_dpi or dpi)
        out.append(img)
    return out


# ---------------------------------------------------------------- writing files

def save_pdf(pages: list[Image.Image], path: Path, dpi: int) -> Path:
    """An image-only PDF (no text layer), one page per image."""
    first, rest = pages[0].convert("RGB"), [p.convert("RGB") for p in pages[1:]]
    first.save(path, "PDF", resolution=float(dpi), save_all=True, append_images=rest, quality=92)
    return path


def save_tiff(pages: list[Image.Image], path: Path, dpi: Optional[int]) -> Path:
    kw = {"dpi": (dpi, dpi)} if dpi else {}
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw", **kw)
    return path


def save_png(page: Image.Image, path: Path, dpi: Optional[int]) -> Path:
    kw = {"dpi": (dpi, dpi)} if dpi else {}
    page.save(path, "PNG", **kw)
    return path


def load_letter(path: Path) -> Letter:
    return parse_letter(Path(path).read_text(encoding="utf-8"))


SHORT_LETTER = """ỦY BAN NHÂN DÂN
TỈNH LAI CHÂU

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: 15/CT-UBND

Lai Châu, ngày 13 tháng 10 năm 2021

CHỈ THỊ

VỀ VIỆC TĂNG CƯỜNG PHÒNG, CHỐNG DỊCH COVID-19

Để chủ động phòng, chống dịch Covid-19 trên địa bàn tỉnh, Chủ tịch Ủy ban nhân dân tỉnh yêu cầu các sở, ban, ngành, đoàn thể tỉnh và Ủy ban nhân dân các huyện, thành phố thực hiện tốt các nội dung sau:

1. Sở Y tế chủ trì, phối hợp với các cơ quan, đơn vị liên quan tổ chức tiêm vắc xin kịp thời, an toàn, đúng đối tượng; hoàn thành trước ngày 30 tháng 11 năm 2021.

2. Công an tỉnh tăng cường kiểm tra, xử lý nghiêm các trường hợp vi phạm quy định về phòng, chống dịch.

Nơi nhận:
- Như trên;
- TT. Tỉnh ủy (b/c);
- Lưu: VT, VX1.

TM. ỦY BAN NHÂN DÂN
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH
Tống Thanh Hải
"""


def short_letter() -> Letter:
    """A one-page chỉ thị used by the unit tests."""
    return parse_letter(SHORT_LETTER)


def make_set(out_dir: Path, letters: Optional[list[Path]] = None, seed: int = 7,
             max_body: Optional[int] = None) -> list[dict]:
    """Render letters clean and degraded into out_dir; returns what was written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for n, src in enumerate(letters or STANDARD_LETTERS):
        letter = load_letter(src)
        stem = Path(src).stem.split("_")[0] + "_" + Path(src).stem.split("_")[1] \
            if Path(src).parent.name == "docs" else Path(src).stem.split("_")[0]
        clean = render(letter, max_body=max_body)
        dirty = render(letter, seal=True, max_body=max_body)
        pages = degrade(dirty.pages, seed=seed + n,
                        upside_down=(1 if len(dirty.pages) > 1 else None))
        (out_dir / f"{stem}.truth.txt").write_text(clean.truth + "\n", encoding="utf-8")
        save_pdf(clean.pages, out_dir / f"{stem}_clean.pdf", 300)
        save_tiff(clean.pages, out_dir / f"{stem}_clean.tif", 300)
        save_png(clean.pages[0], out_dir / f"{stem}_clean_p1.png", 300)
        save_pdf(pages, out_dir / f"{stem}_scan.pdf", 200)
        save_tiff(pages, out_dir / f"{stem}_scan.tif", 200)
        save_png(pages[0], out_dir / f"{stem}_scan_p1.png", None)
        written.append({"source": str(src), "stem": stem, "pages": len(clean.pages)})
    return written


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m tests.scanmaker OUT_DIR [LETTER.txt ...]", file=sys.stderr)
        return 2
    letters = [Path(a) for a in argv[1:]] or None
    for item in make_set(Path(argv[0]), letters):
        print(f"{item['stem']}: {item['pages']} page(s) from {item['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
