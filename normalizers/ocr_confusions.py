"""Learn how Tesseract misreads Vietnamese, and propose repairs for noisy OCR tokens.

Learning (:func:`learn_confusions`): lines of clean text (../shared/docs/*.txt, dev
part only) are rendered to page images with PIL in three serif fonts with Vietnamese
glyphs (DejaVu Serif, Liberation Serif 2.x — metric twin of Times New Roman, the
office font —, Noto Serif), clean and degraded like a scan, read back by
``tesseract -l eng`` (the failure mode of old archives OCR'd with the wrong
model), aligned with the truth line by line and word by word (rapidfuzz
Levenshtein opcodes), and counted into

* a token table: OCR token → truth syllable (``dgng``→``động``, ``1a``→``là``,
  ``pay``→``đẩy``), kept when seen at least twice;
* character-segment rules on accent-free forms: OCR segment (1–2 chars) →
  truth segment (0–2 chars) with P(truth | OCR) (``ir``→``u`` as in sirc/sức,
  ``¢``→``e``, ``1``→``l``, ``g``→``o``);
* initial-capital rules: the capital a capitalised word starts with, as read,
  → the truth's first letter (``B``→``Đ`` as in Bé/Đề, Bai/Đài; ``P``→``Đ``),
  which the case-blind segment rules see only diluted by the lower-case ``b``.

Both go to ``data/lm/ocr_confusions.json``.  At run time
:class:`ConfusionModel` turns a noisy token into candidate syllables with a
channel cost; the LM decides among them.
"""
from __future__ import annotations

import json
import math
import os
import random
import subprocess
import tempfile
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Optional

from normalizers.syllables import _fix_word, has_diacritics, key_of, parse_syllable, strip_accents

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
# fonts the learner renders with: name -> (file, size factor giving a similar x-height).
# Times-like serif faces are what Vietnamese offices print in; each misreads differently
# (Noto: S& for Sở, & for ở; Liberation: Thi for Thủ), so the table learns from all.
# Their thinner strokes suffer more from the same scan damage ("mild" Liberation reads
# like "medium" DejaVu); learning from all of it still repairs every font best.
FONTS = {
    "dejavu": (FONT, 1.0),
    "liberation": ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf", 1.15),
    "noto": ("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf", 1.0),
}
PUNCT = ".,;:!?()[]{}\"'“”‘’…«»-–—/\\*•·|<>=+#%&@^~`_"
TABLE_NAME = "ocr_confusions.json"


# --------------------------------------------------------------------------- rendering + OCR

# scan degradations: (downscale factor, blur radius, noise sigma); None = clean rendering.
# "mild" reproduces the kind of damage seen in ../shared/seeds/000 (dgng, dac, sic, hé).
DEGRADATIONS = {"clean": None, "mild": (0.5, 0.8, 20.0), "medium": (0.42, 0.8, 22.0)}


def _render_page(lines: list[str], path: Path, size: int = 30, font_path: str = FONT,
                 degrade: Optional[tuple] = None, seed: int = 0, size_factor: float = 1.0) -> None:
    from PIL import Image, ImageDraw, ImageFilter, ImageFont
    if degrade:
        size = 40
    font = ImageFont.truetype(font_path, int(round(size * size_factor)))
    h_line = int(size * 1.6)
    width = 60 + max(int(font.getlength(l)) for l in lines)
    img = Image.new("L", (width + 60, h_line * len(lines) + 80), 255)
    d = ImageDraw.Draw(img)
    for i, l in enumerate(lines):
        d.text((40, 40 + i * h_line), l, font=font, fill=0)
    if degrade:
        import numpy as np
        scale, blur, noise = degrade
        small = img.resize((int(img.width * scale), int(img.height * scale)), Image.BILINEAR)
        small = small.filter(ImageFilter.GaussianBlur(blur))
        a = np.asarray(small).astype(float)
        a += np.random.RandomState(seed).normal(0, noise, a.shape)
        img = Image.fromarray(np.where(a > 150, 255, 0).astype(np.uint8))
    img.save(path)


def _ocr(path: Path, lang: str, timeout: int = 120) -> list[str]:
    out = subprocess.run(["tesseract", str(path), "stdout", "-l", lang, "--psm", "6"],
                         capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return [l for l in unicodedata.normalize("NFC", out.stdout).split("\n") if l.strip()]


def sample_lines(docs: Iterable[Path], n_lines: int, seed: int = 13) -> list[str]:
    """Deterministic sample of text lines (20–90 chars, mostly letters)."""
    pool = []
    for p in sorted(docs):
        for line in p.read_text(encoding="utf-8").split("\n"):
            line = unicodedata.normalize("NFC", line.strip())
            if 20 <= len(line) <= 90 and sum(c.isalpha() for c in line) > 0.6 * len(line):
                pool.append(line)
    rng = random.Random(seed)
    rng.shuffle(pool)
    return pool[:n_lines]


def _has_vietnamese(font_path: str) -> bool:
    """Does the font carry the Vietnamese letters (Debian's Liberation 1.07 does not)?"""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:       # pragma: no cover - fontTools ships with matplotlib
        return os.path.exists(font_path)
    if not os.path.exists(font_path):
        return False
    cmap = TTFont(font_path, lazy=True).getBestCmap()
    return all(ord(c) in cmap for c in "ĐđỦủởỡữệặẫ")


def ocr_pairs(lines: list[str], lang: str = "eng", lines_per_page: int = 25,
              cache: Optional[Path] = None, degrade: Optional[tuple] = None,
              font: str = "dejavu", jobs: int = 2) -> list[tuple[str, str]]:
    """Render ``lines`` in ``font`` (a :data:`FONTS` name) and OCR them; return
    (truth line, OCR line) pairs.  ``jobs`` pages are OCR'd at a time."""
    from concurrent.futures import ThreadPoolExecutor
    from rapidfuzz import fuzz
    if cache and cache.exists():
        return [tuple(x) for x in json.loads(cache.read_text(encoding="utf-8"))]
    font_path, factor = FONTS[font][:2]
    pairs = []
    with tempfile.TemporaryDirectory() as td:
        pages = []
        for k in range(0, len(lines), lines_per_page):
            img = Path(td) / f"p{k}.png"
            _render_page(lines[k:k + lines_per_page], img, font_path=font_path, degrade=degrade,
                         seed=k, size_factor=factor)
            pages.append((k, img))
        with ThreadPoolExecutor(max(1, jobs)) as ex:
            outs = list(ex.map(lambda kp: _ocr(kp[1], lang), pages))
        for (k, _), got in zip(pages, outs):
            page = lines[k:k + lines_per_page]
            if len(got) == len(page):
                pairs.extend(zip(page, got))
            else:   # match each truth line with its most similar OCR line
                for t in page:
                    best = max(got, key=lambda g: fuzz.ratio(strip_accents(t), strip_accents(g)), default="")
                    if best and fuzz.ratio(strip_accents(t), strip_accents(best)) > 60:
                        pairs.append((t, best))
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(pairs, ensure_ascii=False), encoding="utf-8")
    return pairs


# --------------------------------------------------------------------------- alignment

def _cores(line: str) -> list[str]:
    return [c for c in (ch.strip(PUNCT) for ch in line.split()) if c]


def _simple(s: str) -> str:
    """OCR/truth token -> accent-free lower form used by the character rules."""
    return strip_accents(s.lower())


def align_tokens(truth: str, ocr: str) -> list[tuple[str, str]]:
    """1:1 word pairs (truth core, OCR core) of one line."""
    from difflib import SequenceMatcher
    t, o = _cores(truth), _cores(ocr)
    ts, os_ = [_simple(x) for x in t], [_simple(x) for x in o]
    out = []
    sm = SequenceMatcher(None, ts, os_, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            out.extend(zip(t[i1:i2], o[j1:j2]))
    return out


def char_segments(truth: str, ocr: str) -> list[tuple[str, str]]:
    """Aligned (truth segment, OCR segment) pairs of two accent-free words."""
    from rapidfuzz.distance import Levenshtein
    out = []
    for op in Levenshtein.opcodes(truth, ocr):
        a, b = truth[op.src_start:op.src_end], ocr[op.dest_start:op.dest_end]
        if op.tag == "equal":
            out.extend(zip(a, b))
        elif op.tag == "replace" and len(a) == len(b):
            out.extend(zip(a, b))
        else:
            out.append((a, b))
    return out


def learn_confusions(docs: Iterable[str | Path], out_dir: str | Path, *, n_lines: int = 2000,
                     langs: tuple[str, ...] = ("eng", "vie"),
                     degradations: tuple[str, ...] = ("clean", "mild", "medium"),
                     fonts: tuple[str, ...] = tuple(FONTS),
                     cache_dir: Optional[str | Path] = None, jobs: int = 2,
                     min_token_count: int = 2, seed: int = 13) -> dict:
    """Render + OCR sampled lines of ``docs``, learn the confusion table, write it to out_dir.

    Each font (a :data:`FONTS` name; fonts without Vietnamese glyphs are skipped) is
    rendered clean and with every degradation; every language reads the clean
    rendering, ``eng`` also the degraded ones (the wrong-model failure of old scanned
    archives).  Deterministic given the same Tesseract version and fonts."""
    docs = [Path(p) for p in docs]
    lines = sample_lines(docs, n_lines, seed)
    tok_counts: dict[str, Counter] = defaultdict(Counter)
    seg_counts: dict[str, Counter] = defaultdict(Counter)
    ocr_seg_total: Counter = Counter()
    init_counts: dict[str, Counter] = defaultdict(Counter)
    n_pairs = 0
    fonts = tuple(f for f in fonts if _has_vietnamese(FONTS[f][0]))
    runs = [(font, lang, dg) for font in fonts for lang in langs for dg in degradations
            if dg == "clean" or lang == "eng"]
    for font, lang, dg in runs:
        tag = ("" if dg == "clean" else "_" + dg) + ("" if font == "dejavu" else "_" + font)
        cache = Path(cache_dir) / f"pairs_{lang}_{n_lines}_{seed}{tag}.json" if cache_dir else None
        pairs = ocr_pairs(lines, lang, cache=cache, degrade=DEGRADATIONS[dg], font=font, jobs=jobs)
        for truth, ocr in pairs:
            for t, o in align_tokens(truth, ocr):
                tl, ol = _fix_word(t.lower()), o.lower()
                if parse_syllable(tl) is None:
                    continue
                n_pairs += 1
                if t[:1].isupper() and o[:1].isupper() and o[:1].isalpha():
                    init_counts[o[0]][_simple(t[0])] += 1
                if tl != ol:
                    tok_counts[ol][tl] += 1
                else:
                    tok_counts[ol][tl] += 0  # seen as itself
                ts, os_ = _simple(tl), _simple(ol)
                for a, b in char_segments(ts, os_):
                    if len(a) <= 2 and len(b) <= 2 and b:
                        seg_counts[b][a] += 1
                # OCR segment occurrences (denominator of P(truth | ocr seg))
                for L in (1, 2):
                    for i in range(len(os_) - L + 1):
                        ocr_seg_total[os_[i:i + L]] += 1
    token_table = {}
    for o, c in sorted(tok_counts.items()):
        tot = sum(c.values())
        # only true misreadings: an accent-free OCR form is already covered by the key lookup
        best = [(t, n) for t, n in c.most_common()
                if n >= min_token_count and t != o and key_of(t) != _simple(o)]
        if best and not o.isdigit():
            token_table[o] = [[t, round(-math.log(n / max(tot, n)), 3)] for t, n in best[:4]]
    rules = {}
    for b, c in sorted(seg_counts.items()):
        den = max(ocr_seg_total.get(b, 0), sum(c.values()))
        lst = [[a, round(-math.log(n / den), 3)] for a, n in c.most_common()
               if a != b and n >= 2 and n / den >= 0.002]
        if lst:
            rules[b] = lst[:8]
    # a capital read as another capital: only what the lower-case rules underrate, and only
    # from letters Vietnamese words start with (an F, J, W, Z word is foreign: Fit, Zalo)
    initial = {}
    for b, c in sorted(init_counts.items()):
        if _simple(b.lower()) not in "abcdeghiklmnopqrstuvxy":
            continue
        den = sum(c.values())
        low = dict(rules.get(b.lower(), ()))
        lst = [[a, round(-math.log(n / den), 3)] for a, n in c.most_common()
               if a != _simple(b.lower()) and n >= 3 and n / den >= 0.01
               and -math.log(n / den) < low.get(a, 99.0) - 0.5]
        if lst:
            initial[b] = lst[:4]
    table = {"version": 1, "runs": [list(x) for x in runs], "lines": len(lines), "word_pairs": n_pairs,
             "tokens": token_table, "rules": rules, "initial": initial}
    out = Path(out_dir) / TABLE_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
    return {"word_pairs": n_pairs, "tokens": len(token_table), "rules": len(rules),
            "initial": len(initial), "runs": len(runs), "path": str(out)}


# --------------------------------------------------------------------------- run time

class ConfusionModel:
    """Candidate syllables for a noisy OCR token, with channel costs (LM cost units)."""

    KEEP_NATS = 5.0          # cost of keeping a token that is not a Vietnamese syllable
    KEEP_WORD_NATS = 9.0     # ... when it is a lower-case, all-letter token
    # ... when it looks like a damaged syllable: its letters spell a syllable whose accents
    # are lost (Truong), or it carries accents or an OCR glyph yet is no syllable (khéi, S&), and a candidate
    # costs at most CLOSE_NATS.  On OCR'd dev lines such tokens were the printed word in
    # 0 of ~6,400 cases; values tuned on those lines (not the held-out ones)
    KEEP_KEY_NATS = 12.0
    KEEP_ACCENTED_NATS = 12.0
    CLOSE_NATS = 4.0
    MAX_NATS = 7.0           # candidates dearer than this are dropped
    MAX_CANDIDATES = 40      # per token, cheapest first
    SAME_KEY_NATS = 0.0      # re-accenting a token whose letters are right
    REACCENT_NATS = 1.5      # changing the accents of a token that is a valid syllable
    # back-off for confusions the sample did not show: any vowel read as another
    # vowel, and a non-letter glyph inside a word standing for a lost vowel
    FALLBACK_VOWEL_NATS = 4.0
    FALLBACK_JUNK_NATS = 2.5
    # a capital consonant standing alone is a syllable whose vowel was lost (T for Tổ):
    # the commonest open syllables it starts, at this cost
    LOST_VOWEL_CANDIDATES = 12
    LOST_VOWEL_NATS = 6.0

    def __init__(self, table: dict, restorer):
        self.restorer = restorer
        self.step = restorer.lm.step
        self.tokens = {k: [(t, c) for t, c in v] for k, v in table.get("tokens", {}).items()}
        self.rules: dict[str, list[tuple[str, float]]] = {
            k: [(a, c) for a, c in v] for k, v in table.get("rules", {}).items()}
        self.initial: dict[str, list[tuple[str, float]]] = {
            k: [(a, c) for a, c in v] for k, v in table.get("initial", {}).items()}
        self._rule_cache: dict[str, list] = {}
        vowels = "aeiouy"
        for ch in vowels:
            have = {a for a, _ in self.rules.get(ch, ())}
            self.rules.setdefault(ch, []).extend(
                (v, self.FALLBACK_VOWEL_NATS) for v in vowels if v != ch and v not in have)

    def _rules_for(self, seg: str):
        got = self._rule_cache.get(seg)
        if got is None:
            got = list(self.rules.get(seg, ()))
            if len(seg) == 1 and not seg.isalnum():
                have = {a for a, _ in got}
                got += [(v, self.FALLBACK_JUNK_NATS) for v in "aeiouy" + "" if v not in have]
                if "" not in have:
                    got.append(("", self.FALLBACK_JUNK_NATS))
            self._rule_cache[seg] = got
        return got

    def _open_syllables(self, letter: str) -> list[int]:
        """The LOST_VOWEL_CANDIDATES commonest syllables spelt ``letter`` + vowels only."""
        got = self._rule_cache.get("open:" + letter)
        if got is None:
            lm = self.restorer.lm
            ids = [i for k, v in self.restorer.key2ids.items()
                   if k[:1] == letter and len(k) > 1 and all(ch in "aeiouy" for ch in k[1:]) for i in v]
            got = sorted(ids, key=lambda i: (lm.uni[i], i))[:self.LOST_VOWEL_CANDIDATES]
            self._rule_cache["open:" + letter] = got
        return got

    @classmethod
    def load(cls, model_dir, restorer) -> "ConfusionModel":
        p = Path(model_dir) / TABLE_NAME
        table = json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
        return cls(table, restorer)

    def _keys(self, s: str) -> dict[str, float]:
        """Accent-free keys reachable from ``s`` by at most two learned rewrites."""
        key2ids = self.restorer.key2ids
        found: dict[str, float] = {}
        frontier = {s: 0.0}
        for _ in range(2):
            nxt: dict[str, float] = {}
            for w, cost in frontier.items():
                for i in range(len(w)):
                    for L in (1, 2):
                        seg = w[i:i + L]
                        if len(seg) < L:
                            continue
                        for a, c in self._rules_for(seg):
                            nc = cost + c
                            if nc > self.MAX_NATS:
                                continue
                            v = w[:i] + a + w[i + L:]
                            if nc < nxt.get(v, 1e9):
                                nxt[v] = nc
            for v, c in nxt.items():
                if v in key2ids and c < found.get(v, 1e9):
                    found[v] = c
            frontier = {v: c for v, c in nxt.items() if len(v) <= 8}
            if len(frontier) > 400:
                frontier = dict(sorted(frontier.items(), key=lambda kv: kv[1])[:400])
        return found

    def candidates(self, core: str) -> list[tuple[int, int, Optional[str]]]:
        from normalizers.diacritics import UNK
        r = self.restorer
        lm = r.lm
        q = 1.0 / self.step
        lc = core.lower()
        if lc.isdigit() or not any(ch.isalpha() for ch in lc) or any(ch in "-/.:," for ch in lc) \
                or len(lc) > 8 or sum(ch.isdigit() for ch in lc) > 1:
            return [(UNK, 0, None)]      # numbers, symbols (15/CT-UBND, Covid-19) stay
        if core[:1].isupper() and core[1:].isdigit() and lc not in self.tokens:
            return [(UNK, 0, None)]      # codes (V2, F0); S6, T6 were learned as words (Số, Tổ)
        out: dict[int, tuple[int, Optional[str]]] = {}

        def add(i: int, nats: float, surf: Optional[str]):
            c = int(round(nats * q))
            if i not in out or c < out[i][0]:
                out[i] = (c, surf)

        fixed = _fix_word(lc)
        sid = lm.syl2id.get(fixed)
        if len(lc) == 1 and lc not in "aeiouy":
            keep = (sid if sid is not None else UNK, 0, None)
            if not core.isupper() or not self.LOST_VOWEL_CANDIDATES or sid is not None:
                return [keep]                            # list labels: b), d), đ)
            # a capital consonant alone (Mặt trận T quốc): the vowel may be lost; the LM
            # decides between keeping it and the commonest open syllables it starts
            got = self._open_syllables(lc)
            return [keep] + [(i, int(round(self.LOST_VOWEL_NATS * q)), lm.syls[i]) for i in got]
        s = _simple(lc)
        keep_nats = damaged_nats = None
        if sid is not None:
            add(sid, 0.0, None)            # a real syllable: keeping it is free
        elif (lc.isalpha() and not core.istitle() and not core.isupper()
              and lc not in lm.foreign):
            keep_nats = self.KEEP_WORD_NATS   # a lower-case non-word: most likely misread
        else:
            keep_nats = self.KEEP_NATS
        if keep_nats is not None and lc.isalpha() and lc not in lm.foreign:
            if s in r.key2ids:
                damaged_nats = self.KEEP_KEY_NATS       # Truong, thac: accents lost
            elif has_diacritics(lc) and lc not in lm.known_words:
                damaged_nats = self.KEEP_ACCENTED_NATS  # Thué, khéi: accents no syllable has
        elif keep_nats is not None and r._is_junk(core):
            damaged_nats = self.KEEP_ACCENTED_NATS      # S&, bi¢t: an OCR glyph inside a word
        for i in r.key2ids.get(s, ()):
            if s == lc:
                c = self.SAME_KEY_NATS                  # no accents read: any accenting
            elif sid is not None:
                c = self.REACCENT_NATS                 # a valid accented word: keep, mostly
            else:
                c = self.SAME_KEY_NATS + 0.5           # hién: letters right, accents not
            add(i, c, lm.syls[i])
        for t, c in self.tokens.get(lc, ()):
            i = lm.syl2id.get(t)
            if i is not None:
                add(i, c, t)
        def add_rewrites(key: str, base: float) -> None:
            """The syllables of the keys learned rewrites reach from ``key`` (at ``base`` +
            their cost, while that stays within MAX_NATS)."""
            for k, c in self._keys(key).items():
                if base + c <= self.MAX_NATS:
                    for i in r.key2ids.get(k, ()):
                        add(i, base + c + 0.5, lm.syls[i])

        add_rewrites(s, 0.0)
        # a capital misread as another capital (Bé -> Đề, Bai -> Đài), then the usual rewrites
        for a, c0 in self.initial.get(core[:1], ()):
            s2 = a + s[1:]
            for i in r.key2ids.get(s2, ()):
                add(i, c0 + 0.5, lm.syls[i])
            add_rewrites(s2, c0)
        if keep_nats is not None:
            # a token that looks like a damaged syllable (a learned misreading explains it
            # cheaply) pays more to be kept than a name or code; Sbé, which nothing
            # explains well, pays the plain cost (estimated on rendered dev lines, see
            # benchmarks/bench_restore.py --dev-ocr)
            if damaged_nats is not None and out and min(c for c, _ in out.values()) <= self.CLOSE_NATS * q:
                keep_nats = max(keep_nats, damaged_nats)
            add(UNK, keep_nats, None)
        items = sorted(out.items(), key=lambda kv: (kv[1][0], kv[0]))[:self.MAX_CANDIDATES]
        return [(i, c, surf) for i, (c, surf) in items]
