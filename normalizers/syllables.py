"""Vietnamese syllable helpers: accent stripping, tone/mark decomposition,
a phonotactic validity check, and tone-mark placement normalisation.

Everything works on NFC text.  A *key* is a syllable stripped of every
diacritic (tone marks, vowel marks, đ→d) and lower-cased: the form an
accent-less typist or a wrong-language OCR produces.

Tone-mark placement ("hòa" vs "hoà"): the pipeline uses the placement that
Decree 30 documents and the training corpus use most: in an open syllable
ending in oa/oe/uy (not after q) the tone sits on the first vowel:
hòa, khỏe, thủy, Ủy ban.  :func:`normalize_tone_placement` maps the other
placement onto that one.
"""
from __future__ import annotations

import functools
import re
import unicodedata

# combining marks
TONE_MARKS = {"\u0300": 2, "\u0301": 1, "\u0309": 3, "\u0303": 4, "\u0323": 5}  # huyền sắc hỏi ngã nặng
TONE_CHAR = {v: k for k, v in TONE_MARKS.items()}
VOWEL_MARKS = {"\u0302", "\u0306", "\u031b"}  # circumflex, breve, horn

VI_LOWER = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
VI_LETTERS = VI_LOWER + VI_LOWER.upper() + "bcdfghjklmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ"
VOWELS_BASE = set("aăâeêioôơuưy")

_WORD_RE = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]+")


@functools.lru_cache(maxsize=200_000)
def strip_accents(s: str) -> str:
    """Remove every diacritic (tones and vowel marks) and map đ/Đ to d/D. Case kept."""
    d = unicodedata.normalize("NFD", s)
    out = "".join(ch for ch in d if not unicodedata.combining(ch))
    return out.replace("đ", "d").replace("Đ", "D")


def key_of(s: str) -> str:
    """Lower-cased accent-free key of a syllable."""
    return strip_accents(s).lower()


@functools.lru_cache(maxsize=200_000)
def split_tone(syl: str) -> tuple[str, int]:
    """("người") -> ("ngươi", 2).  Tone 0 = ngang, 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng."""
    d = unicodedata.normalize("NFD", syl)
    tone = 0
    chars = []
    for ch in d:
        t = TONE_MARKS.get(ch)
        if t is not None:
            tone = t
        else:
            chars.append(ch)
    return unicodedata.normalize("NFC", "".join(chars)), tone


ONSETS = ["ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu",
          "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", ""]

_RHYMES = """
a ai ao au ay ac ach am an ang anh ap at
ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e eo ec em en eng ep et
ê êu êch ênh êm ên êng êp êt
i ia iu ich inh im in ip it ic
iêc iêm iên iêng iêp iêt iêu
y yêm yên yêng yêt yêu
o oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt oc oe oen oeo oet oi om on ong op ot oong ooc
ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uân uâng uât uây uê uêch uênh uơ uy uya uych uyên uyêt uynh uyt uyu uc ui um un ung up ut uôc uôi uôm uôn uông uôt uyn uôp
ư ưa ưc ưi ưu ưm ưn ưng ưt ươc ươi ươm ươn ương ươp ươt ươu
"""
RHYMES = frozenset(_RHYMES.split())
_STOP_CODA = ("c", "ch", "p", "t")


@functools.lru_cache(maxsize=200_000)
def parse_syllable(syl: str) -> tuple[str, str, int] | None:
    """Lower-case syllable -> (onset, rhyme, tone) or None if not a Vietnamese syllable."""
    base, tone = split_tone(syl)
    if not base or len(base) > 7:
        return None
    for on in ONSETS:
        if not base.startswith(on):
            continue
        rhyme = base[len(on):]
        if on == "qu":
            # quả = qu + a; quốc = qu + ôc; quy = qu + y
            if rhyme and ("u" + rhyme in RHYMES or rhyme in RHYMES) and rhyme[0] != "u":
                pass
            else:
                continue
        elif on == "gi":
            # già = gi + a; gìn = g + in (handled by onset g); giếng = gi + êng
            if rhyme and rhyme not in RHYMES and ("i" + rhyme) not in RHYMES:
                continue
        elif rhyme not in RHYMES:
            continue
        if not rhyme and on not in ("gi",):
            continue
        if on in ("k", "gh", "ngh") and rhyme[:1] not in ("i", "e", "ê", "y"):
            continue
        if on in ("c", "g", "ng") and rhyme[:1] in ("i", "e", "ê", "y"):
            continue
        if rhyme.endswith(_STOP_CODA) and tone not in (1, 5):
            continue
        if tone and apply_tone(base, tone) != _fix_word(syl):
            return None      # tone mark on the wrong vowel: "taị", "qúy"
        return on, rhyme, tone
    return None


def is_valid_syllable(s: str) -> bool:
    """True for a well-formed Vietnamese syllable (any case, NFC)."""
    return parse_syllable(s.lower()) is not None


_NEEDS_MARK = set("ăâêôơư")


@functools.lru_cache(maxsize=200_000)
def apply_tone(base: str, tone: int) -> str:
    """Put ``tone`` on the toneless lower-case syllable ``base`` (placement: hòa, thủy, quý)."""
    if tone == 0:
        return base
    chars = list(base)
    # vowel span, skipping the u of qu and the i of gi when followed by a vowel
    start = 0
    if base.startswith("qu"):
        start = 2
    elif base.startswith("gi") and len(base) > 2 and base[2] in VOWELS_BASE:
        start = 2
    idx = [i for i in range(start, len(chars)) if chars[i] in VOWELS_BASE]
    if not idx:
        idx = [i for i in range(len(chars)) if chars[i] in VOWELS_BASE]
        if not idx:
            return base
    # contiguous first vowel run
    run = [idx[0]]
    for i in idx[1:]:
        if i == run[-1] + 1:
            run.append(i)
        else:
            break
    pos = None
    marked = [i for i in run if chars[i] in _NEEDS_MARK]
    if marked:
        pos = marked[-1]          # ươ -> ơ
    elif len(run) == 1:
        pos = run[0]
    else:
        has_coda = run[-1] < len(chars) - 1
        if has_coda:
            pos = run[-1]         # hoàn, toán
        elif len(run) == 3:
            pos = run[1]          # hoài, khuỷu
        else:
            pos = run[0]          # hòa, thủy, mùa, tái
    ch = unicodedata.normalize("NFD", chars[pos])
    chars[pos] = unicodedata.normalize("NFC", ch + TONE_CHAR[tone])
    return "".join(chars)


def _move_tone(first: str, second: str) -> tuple[str, str]:
    d = unicodedata.normalize("NFD", second)
    marks = "".join(c for c in d if c in TONE_MARKS)
    plain = "".join(c for c in d if c not in TONE_MARKS)
    return unicodedata.normalize("NFC", first + marks), unicodedata.normalize("NFC", plain)


@functools.lru_cache(maxsize=100_000)
def _fix_word(w: str) -> str:
    lw = w.lower()
    if len(lw) < 2:
        return w
    if lw.startswith("qu") and len(lw) == 3:   # quý, quỳ, quà
        return w
    if lw[-2] in "ou" and lw[-1] != lw[-2]:
        b, t = split_tone(lw[-1])
        if t and ((lw[-2] == "o" and b in ("a", "e")) or (lw[-2] == "u" and b == "y")):
            if len(lw) >= 3 and lw[-3] in "qQ":
                return w
            if len(lw) >= 3 and lw[-3] in "aăâeêioôơuưy":
                return w   # three-vowel run: not our case
            a, c = _move_tone(w[-2], w[-1])
            return w[:-2] + a + c
    return w


def normalize_tone_placement(text: str) -> str:
    """NFC, and the "hòa/thủy/Ủy ban" tone placement for open oa/oe/uy syllables.

    hoà→hòa, khoẻ→khỏe, thuỷ→thủy, Uỷ→Ủy; quý, hoàn, hoài, khuya are left alone.
    """
    text = unicodedata.normalize("NFC", text)
    return _WORD_RE.sub(lambda m: _fix_word(m.group(0)), text)


def case_pattern(tok: str) -> str:
    """"upper" | "title" | "lower" | "mixed"."""
    if tok.islower():
        return "lower"
    if tok.isupper():
        return "upper" if len(tok) > 1 else "title"
    if tok[0].isupper() and tok[1:].islower():
        return "title"
    return "mixed"


def apply_case(word: str, like: str) -> str:
    """Give ``word`` (lower case) the letter case of ``like``."""
    if like.islower():
        return word
    if like.isupper():
        if sum(c.isalpha() for c in like) == 1 and len(word) > 1:     # S, S6, S& -> Số, Sở
            return word[:1].upper() + word[1:]
        return word.upper()
    if like[:1].isupper() and like[1:].islower():
        return word[:1].upper() + word[1:]
    if len(like) == len(word):
        return "".join(c.upper() if l.isupper() else c for c, l in zip(word, like))
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def has_diacritics(tok: str) -> bool:
    return strip_accents(tok) != tok
