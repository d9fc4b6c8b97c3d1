"""Agency names: sentence case for upper-case headers, and the full form of abbreviations."""
from __future__ import annotations

import functools
import re

from normalizers.unicode import match_key
from pipeline.resources import load_data_yaml

# Abbreviations of body names written out in issuer fields (viết tắt → tên đầy đủ).
ABBREVIATIONS = {
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "MTTQ": "Mặt trận Tổ quốc",
    "TP.": "thành phố",
    "TP": "thành phố",
}


@functools.lru_cache(maxsize=1)
def _places():
    data = load_data_yaml("places.yaml")
    names = sorted(set(data["provinces"]) | set(data["proper_words"]), key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n.lower()) for n in names) + r")(?!\w)")
    fixed = {n.lower(): n for n in names}
    heads = sorted(data["capitalise_after"], key=len, reverse=True)
    head_re = re.compile(r"(?<!\w)(?<!ủy )(?<!uỷ )(" + "|".join(re.escape(h) for h in heads) + r") (\w)")
    return pattern, fixed, head_re, data["provinces"]


def provinces() -> list[str]:
    return _places()[3]


def expand_abbreviations(name: str) -> str:
    for short, full in ABBREVIATIONS.items():
        name = re.sub(rf"(?<!\w){re.escape(short)}(?!\w)", full, name)
    return name


def is_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def sentence_case(name: str, context: str = "") -> str:
    """"ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK" -> "Ủy ban nhân dân tỉnh Đắk Lắk".

    The casing the letter itself uses in running text wins; otherwise the first letter,
    place names, proper words and the word after a body head are capitalised.
    """
    name = re.sub(r"\s+", " ", name).strip()
    if not is_upper(name):
        return name[:1].upper() + name[1:]
    pattern, fixed, head_re, _ = _places()
    if context and head_re.match(name.lower() + " x") and not re.match(r"(ủy|uỷ) ban", name.lower()):
        # a named body (Bộ, Sở, Ban…): the casing the letter uses for it in running text
        found = _find_in_context(name, context)
        if found:
            return found[:1].upper() + found[1:]
    lowered = name.lower()
    lowered = head_re.sub(lambda m: f"{m.group(1)} {m.group(2).upper()}", lowered)
    if re.match(r"(bộ|sở) ", lowered):  # each field of a ministry's name: Văn hóa, Thể thao và Du lịch
        lowered = re.sub(r"( và | - |, )(\w)", lambda m: m.group(1) + m.group(2).upper(), lowered)
    lowered = pattern.sub(lambda m: fixed[m.group(1)], lowered)
    # keep short all-capital codes (UBND, HĐND, MTTQ) as printed
    words = name.split(" ")
    out = lowered.split(" ")
    if len(words) == len(out):
        out = [w if (o.islower() and len(w) <= 8 and w.isupper() and not _is_word(w.strip(",.;:"))) else o
               for w, o in zip(words, out)]
    result = " ".join(out)
    return result[:1].upper() + result[1:]



def _is_word(w: str) -> bool:
    """An upper-case token that is an ordinary syllable (TỈNH) rather than a code (UBND)."""
    from normalizers.syllables import is_valid_syllable
    return is_valid_syllable(w.lower())


def _find_in_context(name: str, context: str) -> str | None:
    key = match_key(name)
    words = key.split()
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.I)
    found = [re.sub(r"\s+", " ", m.group(0)) for m in pattern.finditer(context)]
    found = [s for s in found if s[:1].isupper() and not any(
        len(w) > 1 and w.isupper() and _is_word(w) for w in s.split())]
    # the casing the letter uses most often
    return max(set(found), key=found.count) if found else None
