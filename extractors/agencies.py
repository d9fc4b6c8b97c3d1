"""Find agencies (cơ quan, tổ chức) in a text: a spaCy PhraseMatcher over the gazetteer in
data/agencies.yaml, plus grammar for the bodies it does not list ("Sở …", "Ban …",
"UBND các xã, phường", "các sở, ban, ngành, đoàn thể tỉnh").
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Optional

from pipeline.resources import load_data_yaml

TOKEN = re.compile(r"\w+(?:[/.&]\w+)*|[^\w\s]")


@dataclass
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()


@dataclass
class Mention:
    """An agency named in the text, over tokens [start, end)."""
    name: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _phrases(items: list[str]) -> list[tuple[str, ...]]:
    return sorted({tuple(t.lower() for t in TOKEN.findall(x)) for x in items}, key=len, reverse=True)


@functools.lru_cache(maxsize=1)
def grammar():
    data = load_data_yaml("agencies.yaml")
    g = {key: _phrases(data[key]) for key in
         ("heads", "complete", "person_titles", "generic", "modifiers", "localities", "never_in_names",
                  "aside_openers")}
    g["stop_first"] = {s.split()[0].lower() for s in data["stop_words"]} | {
        "của", "với", "trong", "về", "cho", "tại", "các", "những", "đối", "từ", "đến", "trên", "dưới",
        "thì", "mà", "này", "đó", "khi", "nếu", "như", "gồm", "nhằm", "sau", "trước", "bằng", "vào", "ra"}
    return g


@functools.lru_cache(maxsize=1)
def phrase_matcher():
    """spaCy PhraseMatcher of the gazetteer's names, on lower-cased syllable tokens."""
    import spacy
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc
    nlp = spacy.blank("vi", config={"nlp": {"tokenizer": {"use_pyvi": False}}})
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    names = load_data_yaml("agencies.yaml")["names"]
    matcher.add("AGENCY", [Doc(nlp.vocab, words=[t.text for t in tokenize(n)]) for n in names])
    return nlp, matcher


def _match_phrase(tokens: list[Token], i: int, phrases) -> int:
    """Length of the longest phrase of the list starting at token i (0 when none)."""
    for p in phrases:
        if tuple(t.low for t in tokens[i:i + len(p)]) == p:
            return len(p)
    return 0


def _is_cap(t: Token) -> bool:
    return t.text[:1].isupper() and t.text[:1].isalpha()


def _is_word(t: Token) -> bool:
    return t.text[:1].isalpha()


def find_agencies(text: str) -> tuple[list[Token], list[Mention]]:
    tokens = tokenize(text)
    known = _known_spans(tokens)
    mentions: list[Mention] = []
    g = grammar()
    i = 0
    while i < len(tokens):
        # the motto and role verbs start no name; an aside "(sau đây gọi là …)" names none
        skip = _match_phrase(tokens, i, g["never_in_names"]) or _aside_end(tokens, i)
        if skip:
            i += skip
            continue
        end = known.get(i) or _grammar_span(tokens, i)
        if end and end > i:
            found = _shared_head(text, tokens, Mention(_span_text(text, tokens, i, end), i, end))
            mentions.extend(found)
            i = found[-1].end
        else:
            i += 1
    return tokens, mentions


def _close_bracket(tokens: list[Token], k: int) -> Optional[int]:
    return next((j for j in range(k + 1, min(len(tokens), k + 14)) if tokens[j].text == ")"), None)


def _aside_end(tokens: list[Token], k: int) -> int:
    """Length of a bracket defining a short name at k ("(sau đây gọi là …)"), else 0."""
    if k >= len(tokens) or tokens[k].text != "(":
        return 0
    first = next((j for j in range(k + 1, len(tokens)) if tokens[j].text != "*"), k + 1)
    if not _match_phrase(tokens, first, grammar()["aside_openers"]):
        return 0
    close = _close_bracket(tokens, k)
    return close + 1 - k if close else 0


def _known_spans(tokens: list[Token]) -> dict[int, int]:
    if not tokens:
        return {}
    from spacy.tokens import Doc
    nlp, matcher = phrase_matcher()
    doc = Doc(nlp.vocab, words=[t.text for t in tokens])
    spans: dict[int, int] = {}
    for _, start, end in matcher(doc):
        end = _extend_tail(tokens, end)
        if end > spans.get(start, 0):
            spans[start] = end
    return spans


def _grammar_span(tokens: list[Token], i: int) -> int:
    g = grammar()
    j = i
    title = _match_phrase(tokens, j, g["person_titles"])
    if title and _is_cap(tokens[j]) or title and j + title < len(tokens) and tokens[j + title].low == "các":
        j += title
    if j < len(tokens) and tokens[j].low == "các":
        end = _collective(tokens, j + 1)
        if end:
            return end
        if title:
            return 0
    first = _match_phrase(tokens, j, g["generic"])
    if not title and first and j + first < len(tokens) and tokens[j + first].text == "," and not _is_cap(tokens[j]):
        # a bare list of generic nouns: "cấp ủy, chính quyền các địa phương"
        end = _collective(tokens, j)
        if end and any(tokens[x].text == "," for x in range(j, end)):
            return end
    n = _match_phrase(tokens, j, g["complete"])
    if n and _is_cap(tokens[j]):
        k = j + n
        if k < len(tokens) and tokens[k].low == "các":
            end = _collective(tokens, k + 1)
            if end:
                return end
        return _name(tokens, k, allow_empty=True)
    n = _match_phrase(tokens, j, g["heads"])
    if n and _is_cap(tokens[j]):
        k = j + n
        if k < len(tokens) and tokens[k].low == "các":   # "Ban Chỉ đạo các cấp"
            end = _collective(tokens, k + 1)
            if end:
                return end
        end = _name(tokens, k, allow_empty=False)
        return end
    return 0


def _collective(tokens: list[Token], j: int) -> int:
    """After "các": generic nouns joined by commas, with their modifiers; 0 when none."""
    g = grammar()
    n = _match_phrase(tokens, j, g["generic"])
    if not n:
        return 0
    end = j + n
    while end < len(tokens):
        m = _match_phrase(tokens, end, g["modifiers"])
        if m:
            end += m
            continue
        if tokens[end].text == "," and end + 1 < len(tokens):
            k = end + 1
            if tokens[k].low == "các":
                k += 1
            m = _match_phrase(tokens, k, g["generic"])
            if m and not (_is_cap(tokens[k]) and tokens[k - 1].low != "các"):  # "…, Ban Thường vụ" is a body
                end = k + m
                continue
        if tokens[end].low == "các" and _match_phrase(tokens, end + 1, g["generic"]):
            end += 1 + _match_phrase(tokens, end + 1, g["generic"])   # "chính quyền các địa phương"
            continue
        if tokens[end].low == "và" and end + 1 < len(tokens):
            m = _match_phrase(tokens, end + 1, g["generic"])
            if m and not _match_phrase(tokens, end + 1, g["heads"]) or m and not _is_cap(tokens[end + 1]):
                end = end + 1 + m
                continue
        break
    return _extend_tail(tokens, end)


def _name(tokens: list[Token], k: int, allow_empty: bool) -> int:
    """The capitalised name after a head: "Nội vụ", "Thông tin và Truyền thông", "Lao động tỉnh"."""
    g = grammar()
    start = k
    while k < len(tokens):
        t = tokens[k]
        if _is_cap(t) or (t.text.isupper() and len(t.text) > 1):
            if k > start and _match_phrase(tokens, k, g["never_in_names"]):
                break
            if k > start and (_match_phrase(tokens, k, g["heads"]) or _match_phrase(tokens, k, g["complete"])) \
                    and tokens[k - 1].low in ("và",):
                k -= 1
                break
            k += 1
            if k < len(tokens) and tokens[k].text.islower() and _is_word(tokens[k]) \
                    and tokens[k].low not in g["stop_first"] and not _match_phrase(tokens, k, g["localities"]):
                k += 1
            continue
        if t.low in ("và", "-") and k + 1 < len(tokens) and _is_cap(tokens[k + 1]) and k > start \
                and not _match_phrase(tokens, k + 1, g["heads"]) and not _match_phrase(tokens, k + 1, g["complete"]) \
                and not _match_phrase(tokens, k + 1, g["person_titles"]):
            k += 1
            continue
        break
    if k == start and not allow_empty:
        return 0
    return _extend_tail(tokens, k)


def _extend_tail(tokens: list[Token], k: int) -> int:
    """A locality ("tỉnh", "thành phố Đà Nẵng") or a parenthesised unit after a name."""
    g = grammar()
    m = _match_phrase(tokens, k, g["localities"]) or (1 if _misread_locality(tokens, k) else 0)
    if m:
        k += m
        while k < len(tokens) and _is_cap(tokens[k]) and not _match_phrase(tokens, k, g["heads"]):
            k += 1
    if k < len(tokens) and tokens[k].text == "(" and not _aside_end(tokens, k):
        close = _close_bracket(tokens, k)
        if close and any(_is_cap(t) for t in tokens[k + 1:close]) and not any(
                t.text.isdigit() for t in tokens[k + 1:close]):
            k = close + 1
    return k


def _misread_locality(tokens: list[Token], k: int) -> str | None:
    """The locality a name ends on when its tone came out wrong: "Mặt trận Tổ quốc Việt Nam
    tính và …", "đoàn thể tinh, …" (a restorer cannot tell tỉnh from tính or tinh by the
    words around it).  Only the localities listed in data/agencies.yaml (retoned_localities;
    not "quận", whose letters are "liên quan"'s) and only where it closes the name (a comma,
    "và" or the end follows): "Sở Nội vụ tinh giản …" is no locality."""
    from normalizers.syllables import strip_accents
    if k >= len(tokens):
        return None
    nxt = tokens[k + 1].low if k + 1 < len(tokens) else ""
    if nxt not in ("", ",", ";", ".", ":", ")", "và"):
        return None
    word = _retoned_localities().get(strip_accents(tokens[k].low))
    return word if word and word != tokens[k].low and tokens[k].text.islower() else None


@functools.lru_cache(maxsize=1)
def _retoned_localities() -> dict[str, str]:
    """Accent-free spelling -> locality (data/agencies.yaml: retoned_localities)."""
    from normalizers.syllables import strip_accents
    return {strip_accents(w): w for w in load_data_yaml("agencies.yaml")["retoned_localities"]}


def _span_text(text: str, tokens: list[Token], i: int, j: int) -> str:
    s = text[tokens[i].start:tokens[j - 1].end]
    locality = _misread_locality(tokens, j - 1)
    if locality and j - 1 > i:
        s = text[tokens[i].start:tokens[j - 1].start] + locality
    s = re.sub(r"\s+", " ", s).strip(" ,;:-")
    return s[:1].upper() + s[1:]


def _shared_head(text: str, tokens: list[Token], m: Mention) -> list[Mention]:
    """"Đảng ủy Bộ đội Biên phòng, Quân sự, Công an tỉnh": one body per name, sharing the head
    and the locality (RECORDS.md: distinct institutions get one entry each)."""
    g = grammar()
    head_len = _match_phrase(tokens, m.start, g["heads"])
    if not head_len:
        return [m]
    head = _span_text(text, tokens, m.start, m.start + head_len)
    extra: list[Mention] = []
    k = m.end
    while k + 1 < len(tokens) and tokens[k].text == "," and _is_cap(tokens[k + 1]) \
            and not _match_phrase(tokens, k + 1, g["heads"]) and not _match_phrase(tokens, k + 1, g["person_titles"]):
        end = _name(tokens, k + 1, allow_empty=False)
        if not end:
            break
        extra.append(Mention(f"{head} {_span_text(text, tokens, k + 1, end)}", k + 1, end))
        k = end
    if not extra:
        return [m]
    tail = re.search(r"\s(tỉnh|thành phố|huyện|xã)$", extra[-1].name)
    out = [m] + extra
    if tail:
        word = tail.group(1)
        out = [x if x.name.endswith(word) else Mention(f"{x.name} {word}", x.start, x.end) for x in out]
    return out
