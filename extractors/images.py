"""Page images for OCR: load frames and PDF pages, then clean them for Tesseract.

Everything here works on PIL images with numpy; no OpenCV.  The steps, in the order the
OCR stage applies them: load (with a guard against decompression bombs) -> remove seal
and signature ink (strongly red or blue pixels become white) -> grey -> upsample low
resolution -> blank test -> orientation (Tesseract OSD, 90/180/270) -> deskew (±3°).
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
from PIL import Image, ImageChops, ImageFilter, ImageOps

from pipeline.model import PipelineError

DEFAULT_MAX_PIXELS = 150_000_000   # A3 at 600 dpi is 70 Mpx; anything far above is hostile
A4_SHORT_IN = 8.27


@dataclass
class Frame:
    """One page image as loaded, with the resolution it claims (None when untagged)."""
    image: Image.Image
    dpi: Optional[float]
    index: int                      # 0-based frame or page index in the source


def _max_pixels(settings: dict) -> int:
    return int(settings.get("max_image_pixels", DEFAULT_MAX_PIXELS))


def _check_size(w: int, h: int, settings: dict, what: str) -> None:
    if w <= 0 or h <= 0:
        raise PipelineError("corrupt_image", f"{what} has no pixels")
    if w * h > _max_pixels(settings):
        raise PipelineError("image_too_large",
                            f"{what} is {w}x{h} pixels, above the limit of {_max_pixels(settings)} "
                            "(possible decompression bomb)")


def load_image_frames(path: str | Path, settings: dict) -> Iterator[Frame]:
    """Every frame of an image file (multi-page TIFF gives several), size-checked before decoding."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = _max_pixels(settings)
    try:
        yield from _frames(path, settings)
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _frames(path: str | Path, settings: dict) -> Iterator[Frame]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PipelineError("image_too_large", f"image refused: {exc}") from exc
        except Exception as exc:
            raise PipelineError("corrupt_image", f"cannot open image: {type(exc).__name__}: {exc}") from exc
        with img:
            n = getattr(img, "n_frames", 1)
            if n > int(settings.get("max_frames", 500)):
                raise PipelineError("image_too_large", f"image has {n} frames")
            for i in range(n):
                try:
                    img.seek(i)
                    _check_size(img.width, img.height, settings, f"frame {i + 1}")
                    img.load()
                    frame = img.copy()
                except PipelineError:
                    raise
                except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                    raise PipelineError("image_too_large", f"image refused: {exc}") from exc
                except Exception as exc:
                    raise PipelineError("corrupt_image",
                                        f"cannot decode frame {i + 1}: {type(exc).__name__}: {exc}") from exc
                yield Frame(frame, image_dpi(img), i)


def image_dpi(img: Image.Image) -> Optional[float]:
    """The resolution tag of an image, or None when absent or implausible."""
    dpi = img.info.get("dpi")
    if isinstance(dpi, tuple) and dpi:
        try:
            value = float(dpi[0])
        except (TypeError, ValueError):
            return None
        if 50 <= value <= 2400 and abs(value - 72) > 0.5:   # 72 is "unknown" in most writers
            return value
    return None


def render_pdf_page(path: str | Path, index: int, dpi: int, settings: dict) -> Image.Image:
    """Render one PDF page (0-based) at dpi with pdfium."""
    import pypdfium2 as pdfium
    try:
        pdf = pdfium.PdfDocument(str(path), password=settings.get("password") or None)
    except Exception as exc:
        raise PipelineError("corrupt_pdf", f"pdfium cannot open PDF: {exc}") from exc
    try:
        page = pdf[index]
        w_pt, h_pt = page.get_size()
        scale = dpi / 72.0
        _check_size(int(w_pt * scale), int(h_pt * scale), settings, f"page {index + 1}")
        bitmap = page.render(scale=scale, grayscale=False)
        img = bitmap.to_pil().convert("RGB")
        page.close()
        return img
    finally:
        pdf.close()


# ------------------------------------------------------------------ cleaning

def remove_colour_ink(img: Image.Image, red: bool = True, blue: bool = True) -> Image.Image:
    """A grey page without seal (red) and signature (blue) ink; black text under the ink stays.

    Where a pixel leans red, its grey value is raised to its red channel: red ink is bright in
    the red channel while black text stays dark, so a seal over a signature name fades out
    without eating the letters it covers (blue ink likewise with the blue channel).
    """
    if img.mode not in ("RGB", "RGBA", "P", "CMYK", "LA", "PA"):
        return to_grey(img)
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    plain = rgb.convert("L")            # ITU-R 601 luma
    # look for coloured ink with PIL's channel operations (no full-page numpy copies):
    # tint = the ink's channel minus the brighter of the other two, clipped at 0
    bands = rgb.split()
    tints = []
    for on, k, others in ((red, 0, (1, 2)), (blue, 2, (0, 1))):
        if on:
            tint = ImageChops.subtract(bands[k], ImageChops.lighter(*(bands[o] for o in others)))
            if tint.getextrema()[1] > 45:
                tints.append((np.asarray(bands[k]), np.asarray(tint).astype(np.int16)))
    if not tints:
        return plain                    # no coloured ink: most pages, spared the float work
    grey = np.asarray(plain).astype(np.float32)
    inked = np.zeros(grey.shape, bool)
    for chan, tint in tints:
        # in the ink's own channel the ink is bright and black text stays dark
        grey = np.where(tint > 12, np.maximum(grey, chan * np.float32(1.2)), grey)
        # ink edges whose colour JPEG washed out (light, tinted), but not dark text under ink
        grey = np.where((tint > 20) & (grey > 70), np.float32(255), grey)
        inked |= tint > 45
    # near the ink, what is left of it is light grey: make it paper, keep dark strokes
    # (a 9 x 9 dilation as a box blur > 0: PIL's MaxFilter(9) costs seconds on a page)
    near = Image.fromarray((inked * 255).astype(np.uint8)).filter(ImageFilter.BoxBlur(4))
    near = np.asarray(near) > 0
    paper = float(np.median(grey))
    grey = np.where(near & (grey > 0.62 * paper), np.float32(255), grey)
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L")


def to_grey(img: Image.Image) -> Image.Image:
    if img.mode.startswith("I") or img.mode == "F":     # 16-bit or float grey: scale to 8 bits
        arr = np.asarray(img).astype(np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        return Image.fromarray(np.clip(arr * 255.0 / top, 0, 255).astype(np.uint8), "L")
    if img.mode in ("1", "P", "LA", "RGBA", "I;16", "I", "F", "CMYK"):
        img = img.convert("RGB")
    return img.convert("L") if img.mode != "L" else img


def effective_dpi(img: Image.Image, tagged: Optional[float]) -> float:
    """The tag when present, else the resolution the page would have if it were A4."""
    if tagged:
        return tagged
    return min(img.width, img.height) / A4_SHORT_IN


def upsample(img: Image.Image, dpi: float, target: int = 300, below: int = 250) -> tuple[Image.Image, float]:
    """Scale a low-resolution scan up to target dpi; returns the image and its new dpi."""
    if dpi < below:
        factor = target / dpi
        if factor > 1.05:
            img = img.resize((round(img.width * factor), round(img.height * factor)), Image.LANCZOS)
            return img, float(target)
    return img, dpi


def ink_fraction(grey: Image.Image) -> float:
    """Share of the page covered by ink, measured on a reduced copy (noise averages out)."""
    small = grey.reduce(4) if min(grey.size) > 800 else grey
    arr = np.asarray(small)
    # ignore a 3% border, where scanner edges and punch holes live
    h, w = arr.shape
    arr = arr[int(0.03 * h):int(0.97 * h), int(0.03 * w):int(0.97 * w)]
    return float((arr < 150).mean())


def is_blank(grey: Image.Image, threshold: float = 0.0003) -> bool:
    return ink_fraction(grey) < threshold


def binarise(grey: Image.Image) -> np.ndarray:
    """Ink mask by a global Otsu threshold."""
    arr = np.asarray(grey)
    hist = np.bincount(arr.ravel(), minlength=256).astype(float)
    total = arr.size
    sum_all = np.dot(np.arange(256), hist)
    w0 = np.cumsum(hist)
    s0 = np.cumsum(np.arange(256) * hist)
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (s0 * w1 - (sum_all - s0) * w0) ** 2 / (w0 * w1)
    t = int(np.nanargmax(between)) if np.isfinite(between).any() else 128
    return arr <= t


def estimate_skew(grey: Image.Image, max_angle: float = 3.0) -> float:
    """Skew in degrees (counter-clockwise positive, as PIL rotates) by projection profiles."""
    small = grey.reduce(3) if min(grey.size) > 1500 else grey
    ink = binarise(small)
    h, w = ink.shape
    ys, xs = np.nonzero(ink)
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - w / 2
    pad = int(w * np.tan(np.radians(max_angle + 1))) + 2

    def score(angle: float) -> float:
        # the row profile of the ink turned by ``angle``: for a few degrees a shear of the
        # ink pixels' coordinates is the rotation, and a bincount is ~5 x cheaper than rotating
        t = np.tan(np.radians(angle))
        rows = np.bincount(np.rint(ys - xs * t).astype(np.int64) + pad, minlength=h + 2 * pad)
        return float(np.var(np.diff(rows.astype(np.float64))))

    best, best_s = 0.0, score(0.0)
    for a in np.arange(-max_angle, max_angle + 1e-6, 0.5):
        s = score(float(a))
        if s > best_s:
            best, best_s = float(a), s
    for a in np.arange(best - 0.4, best + 0.41, 0.1):
        s = score(float(a))
        if s > best_s:
            best, best_s = float(a), s
    return round(best, 2)


def deskew(grey: Image.Image, max_angle: float = 3.0, min_angle: float = 0.15) -> tuple[Image.Image, float]:
    angle = estimate_skew(grey, max_angle)
    if abs(angle) < min_angle:
        return grey, 0.0
    return grey.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255), angle


def _mean_run(ink: np.ndarray, gap: int) -> float:
    """Mean length of the ink runs along each row once gaps of up to ``gap`` pixels are
    closed (run-length smoothing): letters of a line merge into long runs, lines do not."""
    h, w = ink.shape
    c = np.zeros((h, w + 1), np.int32)
    np.cumsum(ink, axis=1, out=c[:, 1:])
    idx = np.arange(w)
    left = c[:, idx + 1] - c[:, np.maximum(idx - gap, 0)]          # ink in [x-gap, x]
    right = c[:, np.minimum(idx + gap + 1, w)] - c[:, idx]          # ink in [x, x+gap]
    filled = (left > 0) & (right > 0)
    starts = filled[:, 0].sum() + (filled[:, 1:] & ~filled[:, :-1]).sum()
    return float(filled.sum()) / starts if starts else 0.0


def line_direction(grey: Image.Image) -> tuple[str, float]:
    """("horizontal" | "vertical", strength): which way the text lines of a page run.

    Upright and upside-down pages both have horizontal lines: with small gaps closed, the
    letters of a line merge into runs many times longer across the page than down it; on a
    page turned by 90° it is the other way round.  A numpy look at a ~75 dpi copy, so that
    the Tesseract OSD pass (~15% of the time of a page) is only needed when the lines run
    vertically or the page is too sparse to tell."""
    # ~75 dpi for an A4 page whatever the scan's resolution: the closed gap must stay
    # below the gap between lines
    small = grey.reduce(max(1, round(min(grey.size) / 620)))
    ink = binarise(small)
    h, w = ink.shape
    ink = ink[int(0.05 * h):int(0.95 * h), int(0.05 * w):int(0.95 * w)]   # scanner edges
    across, down = _mean_run(ink, 3), _mean_run(ink.T, 3)
    if across >= down:
        return "horizontal", across / max(down, 1e-9)
    return "vertical", down / max(across, 1e-9)


_OSD_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_OSD_CONF = re.compile(r"Orientation confidence:\s*([\d.]+)")


def detect_orientation(grey: Image.Image, timeout: float = 30) -> tuple[int, float]:
    """Clockwise rotation (0/90/180/270) that makes the page upright, per Tesseract OSD."""
    import pytesseract
    small = grey
    if min(grey.size) > 1800:   # OSD needs ~150-200 dpi text, not 300 (box filter keeps it crisp)
        small = grey.reduce(2)
    try:
        small.format = "BMP"
        out = pytesseract.image_to_osd(small, config="--psm 0 --dpi 150 -c min_characters_to_try=10",
                                       timeout=timeout)
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise
        return 0, 0.0
    except pytesseract.TesseractError:
        return 0, 0.0   # too little text to decide
    rot = _OSD_ROTATE.search(out)
    conf = _OSD_CONF.search(out)
    return (int(rot.group(1)) if rot else 0), (float(conf.group(1)) if conf else 0.0)


def rotate_upright(img: Image.Image, rotate_cw: int) -> Image.Image:
    """Apply OSD's 'Rotate: N' (degrees clockwise)."""
    if rotate_cw % 360 == 0:
        return img
    return img.rotate(-rotate_cw, expand=True, fillcolor=255 if img.mode == "L" else None)


def crop_zone(grey: Image.Image, box: tuple[int, int, int, int], pad: int, scale: float = 2.0) -> Image.Image:
    """A padded crop of a line, scaled up and with a white border, for re-reading."""
    l, t, r, b = box
    l, t = max(0, l - pad), max(0, t - pad)
    r, b = min(grey.width, r + pad), min(grey.height, b + pad)
    crop = grey.crop((l, t, r, b))
    if scale != 1:
        crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
                           Image.LANCZOS)
    return ImageOps.expand(crop, border=20, fill=255)


def sharpen(grey: Image.Image) -> Image.Image:
    return grey.filter(ImageFilter.UnsharpMask(radius=2, percent=120, threshold=3))
