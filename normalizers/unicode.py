"""Unicode clean-up: NFC, one tone-mark placement, look-alike characters, matching keys."""
from __future__ import annotations

import re
import unicodedata

from normalizers.syllables import normalize_tone_placement

_LOOKALIKES = str.maketrans({
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": "", "\ufeff": "", "\u00ad": "",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-",
    "\r": "",
})
_SPACES = re.compile(r"[ \t]+")


def clean_unicode(text: str) -> str:
    """NFC with one tone-mark placement (hòa, thủy) so that equal words compare equal."""
    text = unicodedata.normalize("NFC", text).translate(_LOOKALIKES)
    return normalize_tone_placement(text)


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def match_key(text: str) -> str:
    """The form two names are compared in: NFC, one tone style, case-folded, spaces collapsed."""
    return collapse_spaces(clean_unicode(text or "")).casefold()
