import unicodedata

import pytest

from normalizers.syllables import (apply_case, apply_tone, is_valid_syllable, key_of,
                                   normalize_tone_placement, split_tone, strip_accents)


def test_strip_accents():
    assert strip_accents("Đặc biệt") == "Dac biet"
    assert strip_accents("ĐỘC LẬP - TỰ DO") == "DOC LAP - TU DO"
    assert key_of("Người") == "nguoi"


@pytest.mark.parametrize("w", ["người", "quốc", "giếng", "việt", "khuỷu", "hòa", "Ủy", "xoong",
                               "gì", "nghiêng", "quý", "thuở", "oanh", "yêu", "CHỈ", "THỊ"])
def test_valid(w):
    assert is_valid_syllable(w)


@pytest.mark.parametrize("w", ["dgng", "hién", "viet", "sirc", "tmg", "UBND", "xuét", "méi",
                               "ce", "ghu", "kuy", "bi¢t", "covid", "ngé", "ge"])
def test_invalid(w):
    assert not is_valid_syllable(w)


def test_tone_placement():
    src = "Hoà bình, khoẻ, thuỷ lợi, Uỷ ban, HOÀ, Toà án, xoá, loè"
    assert normalize_tone_placement(src) == "Hòa bình, khỏe, thủy lợi, Ủy ban, HÒA, Tòa án, xóa, lòe"
    keep = "quý, quỳ, hoàn, hoài, khuya, thuyết, toán, ngoáy, quả, già"
    assert normalize_tone_placement(keep) == keep
    out = normalize_tone_placement(unicodedata.normalize("NFD", "Uỷ ban hoà giải"))
    assert out == "Ủy ban hòa giải" and unicodedata.is_normalized("NFC", out)
    # idempotent
    assert normalize_tone_placement(normalize_tone_placement(src)) == normalize_tone_placement(src)


def test_split_and_apply_tone_roundtrip():
    words = ["người", "việt", "hòa", "thủy", "quý", "già", "hoàn", "khuỷu", "giếng", "gìn",
             "thuở", "hoài", "của", "mùa", "ủy", "trưởng", "nghiêng", "quyết"]
    for w in words:
        base, tone = split_tone(w)
        assert apply_tone(base, tone) == w, w


def test_inventory_roundtrip():
    from pipeline.resources import data_path
    sy = [l.split("\t")[0] for l in open(data_path("lm") / "syllables.txt", encoding="utf-8")]
    assert len(sy) > 4000
    bad = [w for w in sy if apply_tone(*split_tone(w)) != w]
    assert len(bad) <= 0.01 * len(sy), bad[:20]
    assert all(is_valid_syllable(w) for w in sy)


def test_apply_case():
    assert apply_case("cộng", "CONG") == "CỘNG"
    assert apply_case("cộng", "Cong") == "Cộng"
    assert apply_case("cộng", "cong") == "cộng"
