"""Restore lost Vietnamese diacritics and repair OCR noise, offline.

Model: a syllable trigram language model (interpolated Kneser-Ney, pruned,
stored ARPA-style as back-off log-probabilities) trained on ../shared/corpus by
:func:`train_lm`, a syllable inventory (every accented form of a stripped key
seen in the corpus) and an OCR confusion table learned by
:mod:`normalizers.ocr_confusions`.  Decoding is a beam-pruned trigram Viterbi
over the candidate lattice of each phrase (words between sentence punctuation,
across wrapped lines; commas, quotes and dashes are LM tokens of their own).

Per line, a detector decides whether the line is already good Vietnamese
(kept verbatim), lacks diacritics, is noisy OCR, or holds nothing to restore.

See docs/restore.md.
"""
from __future__ import annotations

import functools
import json
import math
import re
import sys
import time
import unicodedata
from array import array
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Optional, TextIO

import numpy as np

from normalizers.syllables import (VI_LOWER, _fix_word, apply_case, has_diacritics, key_of,
                                   parse_syllable, strip_accents)

VI_ALPHABET = set(VI_LOWER + "bcdfghjklmnpqrstvwxz")
BOUNDARY = 0     # sentence end: . ; : ! ? and paragraph ends
UNK = 1          # numbers, symbols, foreign words
SOFT = 2         # a comma, bracket, quote or dash inside a sentence
FIRST_ID = 3
HARD_PUNCT = set(".;:!?…")
LOGP_STEP = 0.05          # quantisation step of stored natural-log scores
MODEL_VERSION = 1

# punctuation that ends a phrase (the LM sees a boundary there)
PUNCT = ".,;:!?()[]{}\"'“”‘’…«»-–—/\\*•·|<>=+#%&@^~`_"


# --------------------------------------------------------------------------- tokenising

def _corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in Path(corpus_dir).glob("*.txt"))


def _tokenise_corpus(files: list[Path], max_bytes_per_file: Optional[int], log) -> tuple[array, dict, list]:
    """Corpus -> flat id stream (BOUNDARY between phrases), syllable -> id, per-file ends."""
    vocab: dict[str, int] = {}
    ends = []
    words: dict[str, int] = {}      # non-syllable alphabetic words (HĐND, Đắk, ôtô, HDND)
    cache: dict[str, int] = {}
    stream = array("i")
    app = stream.append
    titles = array("i")          # ids of Title-case words inside a sentence (Sở, Phường)
    # ... and of the words inside a sentence that a lower-case word follows (no punctuation
    # between), all and Title-case ones: "Thủ trưởng" vs a name's "Nguyễn Thị Mai"
    nl_all, nl_titles = array("i"), array("i")
    title_core: dict[str, bool] = {}
    lower_core: dict[str, bool] = {}
    punct = PUNCT
    for f in files:
        t0 = time.time()
        nbytes = 0
        with open(f, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                nbytes += len(line)
                if max_bytes_per_file and nbytes > max_bytes_per_file:
                    break
                prev_b = True
                last = -1            # the previous word's id when it may start a "next lower" pair
                last_title = False
                for chunk in line.split():
                    core = chunk.strip(punct)
                    if core != chunk:
                        if not core:
                            last = -1
                            pk = _punct_kind(chunk)
                            if not prev_b:
                                app(pk)
                                prev_b = True
                            elif pk == BOUNDARY:
                                stream[-1] = BOUNDARY
                            continue
                        s0 = chunk.find(core)
                        if s0 > 0:
                            last = -1
                            pk = _punct_kind(chunk[:s0])
                            if not prev_b:
                                app(pk)
                            elif pk == BOUNDARY and len(stream):
                                stream[-1] = BOUNDARY
                        trail = s0 + len(core) < len(chunk)
                        if trail:
                            trail_kind = _punct_kind(chunk[s0 + len(core):])
                    else:
                        trail = False
                    i = cache.get(core)
                    if i == UNK and core in words:
                        words[core] += 1
                    elif i is None:
                        i = UNK
                        if core.isalpha():
                            w = _fix_word(core.lower())
                            if parse_syllable(w) is not None:
                                i = vocab.get(w)
                                if i is None:
                                    i = vocab[w] = len(vocab) + FIRST_ID
                        if i == UNK and core.isalpha() and len(core) <= 12:
                            words[core] = words.get(core, 0) + 1
                        if len(cache) < 2_000_000:
                            cache[core] = i
                    if last >= 0:
                        lw = lower_core.get(core)
                        if lw is None:
                            lw = lower_core[core] = core.isalpha() and core.islower()
                        if lw:
                            nl_all.append(last)
                            if last_title:
                                nl_titles.append(last)
                    last = -1
                    if i >= FIRST_ID and len(stream) and stream[-1] != BOUNDARY:
                        t = title_core.get(core)
                        if t is None:
                            t = title_core[core] = core[:1].isupper() and core[1:].islower()
                        if t:
                            titles.append(i)
                        last, last_title = i, t
                    app(i)
                    prev_b = False
                    if trail:
                        app(trail_kind)
                        prev_b = True
                        last = -1
                if not prev_b:
                    app(BOUNDARY)
                elif len(stream):
                    stream[-1] = BOUNDARY
        ends.append(len(stream))
        log(f"  {f.name}: {len(stream):,} tokens so far ({time.time() - t0:.0f}s)")
    _tokenise_corpus.words = words
    _tokenise_corpus.titles = titles
    _tokenise_corpus.next_lower = (nl_all, nl_titles)
    return stream, vocab, ends


def key_set_of(syls: list[str]) -> set:
    return {key_of(w) for w in syls}


def _punct_kind(p: str) -> int:
    return BOUNDARY if any(ch in HARD_PUNCT for ch in p) else SOFT


def _quant(logp: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(-logp / LOGP_STEP), 0, 255).astype(np.uint8)


def _encode_keys(keys: np.ndarray) -> np.ndarray:
    """Sorted int64 keys -> first key + deltas (compress well)."""
    if len(keys) == 0:
        return keys.astype(np.int64)
    d = np.empty_like(keys)
    d[0] = keys[0]
    d[1:] = np.diff(keys)
    return d


def _decode_keys(d: np.ndarray) -> np.ndarray:
    return np.cumsum(d.astype(np.int64))


def _discount(counts: np.ndarray) -> float:
    n1 = int((counts == 1).sum())
    n2 = int((counts == 2).sum())
    if n1 == 0 or n2 == 0:
        return 0.5
    return min(0.95, max(0.1, n1 / (n1 + 2 * n2)))


def _unique_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.sort(keys, kind="stable")
    flag = np.empty(len(keys), dtype=bool)
    flag[0] = True
    np.not_equal(keys[1:], keys[:-1], out=flag[1:])
    idx = np.flatnonzero(flag)
    uniq = keys[idx]
    cnt = np.diff(np.append(idx, len(keys)))
    return uniq, cnt


def train_lm(corpus_dir: str | Path, out_dir: str | Path, *, min_syllable_count: int = 3,
             min_bigram_count: int = 2, min_trigram_count: int = 2,
             max_bytes_per_file: Optional[int] = None, weights: Optional[dict] = None,
             min_foreign_count: int = 30,
             verbose: bool = True, **_ignored) -> dict:
    """Train the syllable trigram LM on ``corpus_dir``/*.txt and write it to ``out_dir``.

    Deterministic: files are read in sorted order, counts are exact.  Writes
    ``out_dir/syllables.txt`` (inventory with counts) and ``out_dir/lm.npz``.
    ``weights`` maps a file name to a repeat factor (default: the Công báo legal
    texts count twice, being closest to the documents we restore).
    Returns statistics.
    """
    t_start = time.time()
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if verbose else (lambda m: None)
    corpus_dir, out_dir = Path(corpus_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _corpus_files(corpus_dir)
    if not files:
        raise FileNotFoundError(f"no *.txt in {corpus_dir}")
    if weights is None:
        weights = {f.name: (2 if "congbao" in f.name or "bo_luat" in f.name else 1) for f in files}
    log(f"train_lm: tokenising {len(files)} files")
    stream, vocab, ends = _tokenise_corpus(files, max_bytes_per_file, log)
    s = np.frombuffer(stream, dtype=np.int32).astype(np.int64)
    del stream
    plain_counts = np.bincount(s, minlength=len(vocab) + FIRST_ID)
    title_counts = np.bincount(np.frombuffer(_tokenise_corpus.titles, dtype=np.int32),
                               minlength=len(vocab) + FIRST_ID)
    nl_counts, nl_title_counts = (np.bincount(np.frombuffer(a, dtype=np.int32), minlength=len(vocab) + FIRST_ID)
                                  for a in _tokenise_corpus.next_lower)
    if any(w != 1 for w in weights.values()):
        parts, start = [], 0
        for f, end in zip(files, ends):
            parts.extend([s[start:end]] * int(weights.get(f.name, 1)))
            start = end
        s = np.concatenate(parts)
    n_ids = len(vocab) + FIRST_ID
    raw_uni = np.bincount(s, minlength=n_ids)
    # prune rare syllables to UNK, renumber by frequency (deterministic tie-break by text)
    id2syl = [None] * n_ids
    for w, i in vocab.items():
        id2syl[i] = w
    keep = [(int(raw_uni[i]), id2syl[i]) for i in range(FIRST_ID, n_ids) if raw_uni[i] >= min_syllable_count]
    keep.sort(key=lambda t: (-t[0], t[1]))
    new_syls = [w for _, w in keep]
    remap = np.full(n_ids, UNK, dtype=np.int64)
    remap[BOUNDARY] = BOUNDARY
    remap[SOFT] = SOFT
    for j, w in enumerate(new_syls):
        remap[vocab[w]] = j + FIRST_ID
    s = remap[s]
    V = len(new_syls) + FIRST_ID
    # per syllable: occurrences (unweighted) and Title-case occurrences inside a sentence;
    # rows 2-3: the same among those a lower-case word follows
    case_counts = np.zeros((4, V), dtype=np.int64)
    keep_ids = remap >= FIRST_ID
    for row, counts in enumerate((plain_counts, title_counts, nl_counts, nl_title_counts)):
        np.add.at(case_counts[row], remap[keep_ids], counts[keep_ids])
    log(f"train_lm: {len(s):,} tokens, {V - FIRST_ID:,} syllables kept")
    uni = np.bincount(s, minlength=V).astype(np.float64)

    # n-gram keys
    a, b = s[:-1], s[1:]
    m2 = ~((a == BOUNDARY) & (b == BOUNDARY))
    k2, c2 = _unique_counts(a[m2] * V + b[m2])
    a, b, c = s[:-2], s[1:-1], s[2:]
    m3 = (b != BOUNDARY) & ~((a == BOUNDARY) & (c == BOUNDARY))
    k3, c3 = _unique_counts((a[m3] * V + b[m3]) * V + c[m3])
    del a, b, c, m2, m3
    log(f"train_lm: {len(k2):,} bigram types, {len(k3):,} trigram types")

    D3 = _discount(c3)
    # continuation counts for bigrams: distinct left extensions (u, v, w)
    k3_suffix = k3 % (V * V)
    suf_keys, suf_cnt = _unique_counts(k3_suffix)
    pos = np.searchsorted(suf_keys, k2)
    pos_c = np.minimum(pos, len(suf_keys) - 1)
    has = suf_keys[pos_c] == k2
    cc2 = np.where(has, suf_cnt[pos_c], c2).astype(np.float64)
    # bigram starting at a boundary: use raw counts (no left context exists)
    cc2 = np.where(k2 // V == BOUNDARY, c2, cc2)
    D2 = _discount(cc2.astype(np.int64))
    # unigram continuation counts
    cc1 = np.bincount(k2 % V, minlength=V).astype(np.float64)
    cc1[BOUNDARY] = 0.0
    D1 = 0.5
    tot1 = cc1.sum()
    n_pos1 = float((cc1 > 0).sum())
    p1 = np.maximum(cc1 - D1, 0) / tot1 + (D1 * n_pos1 / tot1) / V
    p1[BOUNDARY] = 1.0 / V
    logp1 = np.log(p1)

    # bigram level
    ctx2 = k2 // V
    w2 = k2 % V
    sum_cc2 = np.bincount(ctx2, weights=cc2, minlength=V)
    n1p_2 = np.bincount(ctx2, minlength=V).astype(np.float64)
    gamma1 = np.where(sum_cc2 > 0, D2 * n1p_2 / np.maximum(sum_cc2, 1e-9), 1.0)
    p2 = np.maximum(cc2 - D2, 0) / sum_cc2[ctx2] + gamma1[ctx2] * p1[w2]
    logp2 = np.log(p2)
    bow1 = np.log(np.maximum(gamma1, 1e-12))

    # trigram level
    ctx3 = k3 // V
    uctx, inv = np.unique(ctx3, return_inverse=True)
    sum_c3 = np.bincount(inv, weights=c3).astype(np.float64)
    n1p_3 = np.bincount(inv).astype(np.float64)
    gamma2_ctx = D3 * n1p_3 / sum_c3
    # p2 for the suffix (v, w) of each trigram
    suf = k3_suffix
    pos = np.searchsorted(k2, suf)
    p2_suf = p2[np.minimum(pos, len(k2) - 1)]
    p3 = np.maximum(c3 - D3, 0) / sum_c3[inv] + gamma2_ctx[inv] * p2_suf
    logp3 = np.log(p3)

    # gamma2 for each bigram used as a context (log 1 = 0 when it has no trigram)
    pos = np.searchsorted(uctx, k2)
    pos_c = np.minimum(pos, len(uctx) - 1)
    is_ctx = uctx[pos_c] == k2
    bow2 = np.where(is_ctx, np.log(np.maximum(gamma2_ctx[pos_c], 1e-12)), 0.0)

    # pruning: keep frequent n-grams; keep a bigram also when it is the context of a kept trigram
    keep3 = c3 >= min_trigram_count
    kept_ctx = np.unique(ctx3[keep3])
    pos = np.searchsorted(kept_ctx, k2)
    in_ctx = kept_ctx[np.minimum(pos, max(len(kept_ctx) - 1, 0))] == k2 if len(kept_ctx) else np.zeros(len(k2), bool)
    keep2 = (c2 >= min_bigram_count) | in_ctx
    # store
    np.savez_compressed(
        out_dir / "lm.npz",
        version=np.array([MODEL_VERSION]),
        V=np.array([V]),
        step=np.array([LOGP_STEP]),
        uni_logp=logp1.astype(np.float32),
        uni_bow=bow1.astype(np.float32),
        bi_keys=_encode_keys(k2[keep2]),
        bi_q=_quant(logp2[keep2]),
        bi_bow=_quant(bow2[keep2]),
        tri_keys=_encode_keys(k3[keep3]),
        tri_q=_quant(logp3[keep3]),
        case_counts=case_counts.astype(np.int32),
    )
    # words outside the syllable inventory that carry diacritics and dominate their
    # accent-free spelling: HDND -> HĐND, Dak -> Đắk, oto -> ôtô
    by_key: dict[str, dict[str, int]] = {}
    for w, n in _tokenise_corpus.words.items():
        by_key.setdefault(strip_accents(w).lower(), {}).setdefault(w.lower(), 0)
        by_key[strip_accents(w).lower()][w.lower()] += n
    # restore = 1: used to restore the accent-free spelling; 0: only known as a word
    word_rows = []
    syl_keys = key_set_of(new_syls)
    for k, forms in sorted(by_key.items()):
        best = max(sorted(forms), key=lambda f: forms[f])
        tot = sum(forms.values())
        for f in sorted(forms):
            if f == k or forms[f] < 20 or not all(ch in VI_ALPHABET for ch in f):
                continue
            restore = int(f == best and forms[f] >= 0.5 * tot and forms.get(k, 0) <= 0.1 * tot
                          and k not in syl_keys)
            word_rows.append((k, f, forms[f], restore))
    with open(out_dir / "words.tsv", "w", encoding="utf-8") as fh:
        for row in word_rows:
            fh.write("\t".join(map(str, row)) + "\n")
    # frequent foreign (mostly English) words: a line made of them is not Vietnamese to restore
    foreign: dict[str, int] = {}
    for w, n in _tokenise_corpus.words.items():
        lw = w.lower()
        # two-letter words only from lower-case use: "of", "by", but not "TW" (Trung ương)
        if lw.isascii() and (len(lw) >= 3 or (len(lw) == 2 and w.islower())):
            foreign[lw] = foreign.get(lw, 0) + n
    foreign_rows = sorted(w for w, n in foreign.items() if n >= min_foreign_count and w not in syl_keys)
    with open(out_dir / "foreign.txt", "w", encoding="utf-8") as fh:
        fh.write("".join(w + "\n" for w in foreign_rows))
    with open(out_dir / "syllables.txt", "w", encoding="utf-8") as fh:
        for j, w in enumerate(new_syls):
            fh.write(f"{w}\t{int(uni[j + FIRST_ID])}\n")
    stats = {
        "tokens": int(len(s)), "syllables": V - FIRST_ID, "words": len(word_rows),
        "foreign_words": len(foreign_rows),
        "bigrams": int(keep2.sum()), "trigrams": int(keep3.sum()),
        "bigram_types": int(len(k2)), "trigram_types": int(len(k3)),
        "discounts": [D1, float(D2), float(D3)],
        "bytes": sum(p.stat().st_size for p in (out_dir / "lm.npz", out_dir / "syllables.txt",
                                                 out_dir / "words.tsv", out_dir / "foreign.txt")),
        "seconds": round(time.time() - t_start, 1),
    }
    with open(out_dir / "lm_stats.json", "w", encoding="utf-8") as fh:
        json.dump(stats, fh, indent=1)
    log(f"train_lm: {stats}")
    return stats


# --------------------------------------------------------------------------- model

class SyllableLM:
    """The trained trigram LM, held in dicts of integer costs (-log p / LOGP_STEP)."""

    NL_PRIOR = 4.0           # pseudo-counts of the overall Title share in the next-lower one

    def __init__(self, model_dir: Path):
        model_dir = Path(model_dir)
        z = np.load(model_dir / "lm.npz")
        self.V = V = int(z["V"][0])
        step = float(z["step"][0])
        self.step = step
        syls = ["<b>", "<unk>", "<p>"]
        counts = [0, 0, 0]
        with open(model_dir / "syllables.txt", encoding="utf-8") as fh:
            for line in fh:
                w, c = line.rstrip("\n").split("\t")
                syls.append(w)
                counts.append(int(c))
        assert len(syls) == V, (len(syls), V)
        self.syls = syls
        self.counts = counts
        self.syl2id = {w: i for i, w in enumerate(syls) if i >= FIRST_ID}
        self.uni = np.rint(-z["uni_logp"].astype(np.float64) / step).astype(np.int64).tolist()
        self.bow1 = np.rint(-z["uni_bow"].astype(np.float64) / step).astype(np.int64).tolist()
        # n-gram tables: sorted keys and 8-bit costs; the decoder in use builds its own
        # look-up structure from them (hash tables, or the dicts below for the Python one)
        self.bi_keys = _decode_keys(z["bi_keys"])
        self.bi_q = z["bi_q"]
        self.bi_bow_q = z["bi_bow"]
        self.tri_keys = _decode_keys(z["tri_keys"])
        self.tri_q = z["tri_q"]
        self.tri_ctx_keys = np.unique(self.tri_keys // V)     # contexts with stored trigrams
        # case channel: how likely a form is to be written Title-case / lower-case
        # inside a sentence (Sở Tư pháp vs số 15): costs in LM units
        self.title_cost = self.lower_cost = self.title_nl_cost = None
        if "case_counts" in z.files:
            cc = z["case_counts"].astype(np.float64)
            share = (cc[1] + 0.5) / (cc[0] + 1.0)
            self.title_cost = np.rint(-np.log(share) / step).astype(np.int64).tolist()
            self.lower_cost = np.rint(-np.log(np.maximum(1.0 - share, 0.02)) / step).astype(np.int64).tolist()
            if len(cc) >= 4:
                # Title-case share among the uses a lower-case word follows, smoothed
                # towards the overall share (rare forms): names are Title + Title
                nl = (cc[3] + self.NL_PRIOR * share) / (cc[2] + self.NL_PRIOR)
                self.title_nl_cost = np.rint(-np.log(nl) / step).astype(np.int64).tolist()
        # candidates per stripped key, most frequent first
        by_key: dict[str, list[int]] = {}
        for i in range(FIRST_ID, V):
            by_key.setdefault(key_of(syls[i]), []).append(i)
        self.key2ids = {k: tuple(v) for k, v in by_key.items()}
        self.words: dict[str, str] = {}          # accent-free spelling -> word (HDND -> HĐND)
        self.known_words: set[str] = set()       # accented non-syllable words (đắk, hđnd)
        fp = model_dir / "foreign.txt"
        self.foreign: set[str] = set(fp.read_text(encoding="utf-8").split()) if fp.exists() else set()
        wp = model_dir / "words.tsv"
        if wp.exists():
            with open(wp, encoding="utf-8") as fh:
                for line in fh:
                    k, w, _, restore = line.rstrip("\n").split("\t")
                    self.known_words.add(w)
                    if restore == "1":
                        self.words[k] = w

    # dicts for the pure-Python decoder, built on first use (≈2 s, ≈300 MB: the compiled
    # decoder does without them)
    @functools.cached_property
    def bi(self) -> dict[int, int]:
        return dict(zip(self.bi_keys.tolist(), self.bi_q.astype(np.int64).tolist()))

    @functools.cached_property
    def bi_bow(self) -> dict[int, int]:
        nz = self.bi_bow_q > 0
        return dict(zip(self.bi_keys[nz].tolist(), self.bi_bow_q[nz].astype(np.int64).tolist()))

    @functools.cached_property
    def tri(self) -> dict[int, int]:
        return dict(zip(self.tri_keys.tolist(), self.tri_q.astype(np.int64).tolist()))

    @functools.cached_property
    def tri_ctx(self) -> set[int]:
        return set(self.tri_ctx_keys.tolist())

    @functools.cached_property
    def tables(self):
        """The LM for :mod:`normalizers.lattice_decoder`: (V, uni, bow1, bigram table, trigram table)."""
        from normalizers import lattice_decoder as ld
        return (self.V, np.array(self.uni, np.int64), np.array(self.bow1, np.int64),
                ld.pack_bigrams(self.bi_keys, self.bi_q, self.bi_bow_q, self.tri_ctx_keys),
                ld.build_table(self.tri_keys, self.tri_q))

    def cost3(self, u: int, v: int, w: int) -> int:
        V = self.V
        uv = u * V + v
        t = self.tri.get(uv * V + w)
        if t is not None:
            return t
        t = self.bi.get(v * V + w)
        if t is None:
            t = self.bow1[v] + self.uni[w]
        return t + self.bi_bow.get(uv, 0)


@dataclass
class TokenChange:
    original: str
    restored: str
    confidence: float
    start: int  # offset in the restored text


@dataclass
class Restoration:
    """The result of :meth:`Restorer.restore`.

    ``text`` has the same lines, in the same order, as the input; ``tokens`` lists
    only the tokens that changed (``start`` = offset in ``text``); ``line_kinds`` has
    one entry per input line: "good" | "no_diacritics" | "noisy" | "other"."""
    text: str
    original: str
    changed: bool
    tokens: list[TokenChange] = field(default_factory=list)   # only the tokens that changed
    line_kinds: list[str] = field(default_factory=list)


# chunk = lead punctuation + core + trail punctuation
_CHUNK_RE = re.compile(r"\S+")
_LETTER_RE = re.compile(r"[^\W\d_]")
_LABEL_RE = re.compile(r"\s*([a-zđ])\)")
_MIXED_RE = re.compile(r"[^\W_]*\d[^\W_]*")                       # letters and digits
_JUNK_RE = re.compile(r"[\d¢€©®§£¥|$¬°™@&#]")
_PLAIN_JUNK_RE = re.compile(r"[^\W_]*[¢€©®§£¥|$¬°™@&#]?[^\W_]*")   # letters/digits + at most one glyph


def _split_chunk(chunk: str) -> tuple[int, int]:
    """(start, end) of the core inside the chunk.  An "&" glued to a letter stays in the
    core: OCR reads a lost vowel so (S& = Sở, x& = xã, &p = áp)."""
    core = chunk.strip(PUNCT)
    if not core:
        return len(chunk), len(chunk)
    s = chunk.find(core)
    e = s + len(core)
    if e < len(chunk) and chunk[e] == "&" and core[-1].isalpha():
        e += 1
    elif s > 0 and chunk[s - 1] == "&" and core[0].isalpha():
        s -= 1
    return s, e


def _default_model_dir() -> Path:
    from pipeline.resources import data_path
    return data_path("lm")


class Restorer:
    """Detects, per line, what kind of text it holds and restores what needs it."""

    PARTIAL_COST = 40      # channel cost (LM units) of re-accenting an already accented word
    DOC_PAIR_NATS = 1.0    # document cache: bonus of a pair restored confidently elsewhere
    DOC_PAIR_CONFIDENCE = 0.9

    def __init__(self, model_dir: str | Path | None = None, *, beam: int = 16, prune: int = 200,
                 max_candidates: int = 8, min_ratio: float = 1e-4):
        self.model_dir = Path(model_dir) if model_dir else _default_model_dir()
        self.lm = SyllableLM(self.model_dir)
        self.beam = beam
        self.case_weight = 1.0
        self.prune = prune        # drop states costing more than the best + prune (LM units)
        lm = self.lm
        # prune rare alternatives: keep forms whose count is >= min_ratio * best count
        self.key2ids: dict[str, tuple[int, ...]] = {}
        for k, ids in lm.key2ids.items():
            top = lm.counts[ids[0]]
            self.key2ids[k] = tuple(i for i in ids if lm.counts[i] >= top * min_ratio)[:max_candidates]
        self._confusions = None
        self._noisy_cache: dict[str, list] = {}
        self._phrase_cache: dict[tuple, tuple] = {}
        self._rowcache: dict[str, dict] = {}
        self._info_cache: dict[str, tuple] = {}
        self._chunk_cache: dict[str, tuple] = {}
        self._cand_cache: dict[tuple, tuple] = {}
        self._case_cache: dict[tuple, str] = {}
        self._bicache: dict[str, dict] = {}
        self._nrows = 0
        self._stepcache: dict[str, dict] = {}
        self._cand_keys: dict[int, tuple] = {}
        self._key_cands: dict[str, list] = {}
        # the compiled decoder when numba imports (identical output, the search ≈10 × faster);
        # warmed up here so that loading (or compiling, once per machine) is part of the load
        from normalizers import lattice_decoder      # imports numba (≈0.4 s): only here
        self._decoder = lattice_decoder if lattice_decoder.AVAILABLE else None
        self.compiled = self._decoder is not None
        if self.compiled:
            cands = [(FIRST_ID, 0, None), (FIRST_ID + 1, 1, None)]
            self._viterbi([self._lattice_key(cands)])
        else:
            lm.tri, lm.bi, lm.bi_bow, lm.tri_ctx      # the Python decoder's dicts, at load time

    # ------------------------------------------------------------------ helpers
    @property
    def confusions(self):
        if self._confusions is None:
            from normalizers.ocr_confusions import ConfusionModel
            self._confusions = ConfusionModel.load(self.model_dir, self)
        return self._confusions

    def _syl_id(self, core_lower: str) -> int:
        return self.lm.syl2id.get(core_lower, UNK)

    def classify(self, cores: list[str]) -> str:
        """"good" | "no_diacritics" | "noisy" | "other" for the cores of one line."""
        return self._classify(cores)[0]

    # token categories (cached per core string)
    _EMPTY, _ACC_OK, _ACC_BAD, _KEY, _NONKEY, _UPPER, _JUNK, _NONWORD, _FOREIGN, _RARE = range(10)
    RARE_COUNT = 30          # a key whose commonest form is rarer than this looks like OCR damage

    def _info(self, c: str) -> tuple[int, bool]:
        """(category, is an all-capital word) of one core."""
        got = self._info_cache.get(c)
        if got is not None:
            return got
        up = False
        if not c:
            cat = self._EMPTY
        elif c.isalpha():
            lc = c.lower()
            up = c.isupper()
            if has_diacritics(c):
                if (parse_syllable(_fix_word(lc)) is None and lc not in self.lm.known_words
                        and not (up and len(c) >= 2)):
                    cat = self._ACC_BAD
                else:
                    cat = self._ACC_OK
            elif lc in self.key2ids:
                cat = self._KEY if self.lm.counts[self.key2ids[lc][0]] >= self.RARE_COUNT else self._RARE
            elif not up and lc in self.lm.foreign:
                cat = self._FOREIGN
            elif not up:
                cat = self._NONKEY
            else:
                cat = self._UPPER
        elif _LETTER_RE.search(c) and not c.isdigit() and self._is_junk(c):
            cat = self._JUNK
        else:
            cat = self._NONWORD
        got = (cat, up)
        if len(self._info_cache) > 500_000:
            self._info_cache.clear()
        self._info_cache[c] = got
        return got

    def _classify(self, cores: list[str]) -> tuple[str, int]:
        """(kind, number of suspicious tokens)."""
        return self._classify_infos([self._info(c) for c in cores])[:2]

    def _classify_infos(self, infos) -> tuple[str, int, int, int]:
        """(kind, number of suspicious tokens, number of words, number of all-capital words)."""
        counts = [0] * 10
        n_up = 0
        for cat, up in infos:
            counts[cat] += 1
            n_up += up
        acc = counts[self._ACC_OK] + counts[self._ACC_BAD]
        bad_acc = counts[self._ACC_BAD]
        rare = counts[self._RARE]
        ascii_key = counts[self._KEY] + rare
        ascii_nonkey = counts[self._NONKEY]
        junk = counts[self._JUNK]
        foreign = counts[self._FOREIGN]
        n = acc + ascii_key + ascii_nonkey + counts[self._UPPER] + foreign
        if n == 0:
            return "other", 0, n, n_up
        if foreign >= 0.4 * n and acc + junk <= 0.1 * n:
            return "other", 0, n, n_up          # an English line: nothing to restore
        if acc == 0:
            if ascii_key == 0:
                return "other", 0, n, n_up
            if ascii_nonkey + junk > max(1, 0.34 * n):
                return "noisy", ascii_nonkey + junk + rare, n, n_up
            return "no_diacritics", ascii_nonkey + junk + rare, n, n_up
        bad = bad_acc + junk
        if bad == 0:
            if acc >= 0.2 * n:
                return "good", 0, n, n_up
            return (("noisy" if ascii_nonkey > max(1, 0.2 * n) else "no_diacritics"),
                    ascii_nonkey + junk + acc, n, n_up)
        if acc >= 0.4 * n and bad <= max(1, 0.1 * n):
            return "good", 0, n, n_up
        return "noisy", bad + ascii_nonkey, n, n_up

    def _is_junk(self, c: str) -> bool:
        """Letters mixed with OCR junk (bi¢t) or with digits that stand for letters (1a, t6, v6i);
        not units and codes (km2, g1, 15/CT-UBND)."""
        if any(ch in "¢€©®§£¥|$¬°™" for ch in c) or (len(c) > 1 and "&" in (c[0], c[-1])):
            return True
        if not _MIXED_RE.fullmatch(c):
            return False
        lc = c.lower()
        conf = self.confusions
        if lc in conf.tokens:
            return True
        mapped = "".join((conf.rules.get(ch) or [(ch, 0)])[0][0] if ch.isdigit() else ch for ch in lc)
        return key_of(mapped) in self.key2ids

    # ------------------------------------------------------------------ decoding
    def _viterbi(self, lattice: list) -> tuple[list[int], list[float]]:
        """Beam-pruned trigram Viterbi (see :meth:`_viterbi_py`), compiled when possible."""
        if not self.compiled:
            return self._viterbi_py(lattice)
        # flat int64 arrays of the lattice (joining the bytes kept per candidate list)
        offs = np.array(list(accumulate([len(x[0]) for x in lattice], initial=0)), np.int64)
        ids = np.frombuffer(b"".join([x[3] for x in lattice]), np.int64)
        chans = np.frombuffer(b"".join([x[4] for x in lattice]), np.int64)
        V, uni, bow1, (bk, bv), (tk, tv) = self.lm.tables
        out, confs = self._decoder.viterbi(offs, ids, chans, V, uni, bow1, bk, bv, tk, tv,
                                           self.beam, self.prune, self.lm.step)
        confs = confs.tolist()
        if confs and min(confs) < 0:       # rounding too close to call in the compiled code
            confs = [c if c >= 0 else round(1.0 / -c, 4) for c in confs]
        return out.tolist(), confs

    def _viterbi_py(self, lattice: list) -> tuple[list[int], list[float]]:
        """Beam-pruned trigram Viterbi in pure Python (used when numba is unavailable).

        ``lattice`` = per position a pair (ids, channel costs or None).  Returns the
        chosen candidate index per position and a confidence per position: the
        share of the chosen candidate in the soft-max of the best prefix costs
        of the beam at that position (1.0 for single-candidate positions)."""
        lm = self.lm
        V = lm.V
        tri_get, bi_get, bib_get = lm.tri.get, lm.bi.get, lm.bi_bow.get
        tri_ctx = lm.tri_ctx
        uni, bow1 = lm.uni, lm.bow1
        B = self.beam
        costs, us, vs = [0], [BOUNDARY], [BOUNDARY]
        backs = []
        rowcache = self._rowcache
        bicache = self._bicache
        stepcache = self._stepcache
        if len(rowcache) > 20_000 or self._nrows > 500_000:     # bound the caches
            rowcache.clear()
            bicache.clear()
            stepcache.clear()
            self._nrows = 0
        prune = self.prune

        def make_row(uv, v, ids, chans, rows_k, bis_k):
            """LM + channel cost of each candidate after the words (u, v)."""
            got = bis_k.get(v)
            if got is None:
                # bigram (back-off) costs plus channel costs; a stored trigram (u, v, c)
                # implies a stored bigram (v, c), so only those candidates need a look-up
                vV = v * V
                b1 = bow1[v]
                brow = []
                hits = []
                for j, c in enumerate(ids):
                    t = bi_get(vV + c)
                    if t is None:
                        brow.append(b1 + uni[c])
                    else:
                        brow.append(t)
                        hits.append(j)
                if chans is not None:
                    brow = [x + y for x, y in zip(brow, chans)]
                got = bis_k[v] = (brow, hits)
            brow, hits = got
            bw = bib_get(uv, 0)
            rowc = [x + bw for x in brow] if bw else brow[:]
            if hits and uv in tri_ctx:
                uvV = uv * V
                for j in hits:
                    t = tri_get(uvV + ids[j])
                    if t is not None:
                        rowc[j] = t + chans[j] if chans is not None else t
            rows_k[uv] = rowc
            self._nrows += 1
            return rowc

        for ids, chans, kstr, _, _ in lattice:
            n = len(ids)
            rows_k = rowcache.get(kstr)
            if rows_k is None:
                rows_k = rowcache[kstr] = {}
                bis_k = bicache[kstr] = {}
                steps_k = stepcache[kstr] = {}
            else:
                bis_k = bicache[kstr]
                steps_k = stepcache[kstr]
            if len(costs) == 1:
                # one state (the beam often collapses): cached pruned successors
                v = vs[0]
                uv = us[0] * V + v
                step = steps_k.get(uv)
                if step is None:
                    rowc = rows_k.get(uv) or make_row(uv, v, ids, chans, rows_k, bis_k)
                    rel = sorted(zip(rowc, [0] * n, range(n)))[:B]
                    lim = rel[0][0] + prune
                    rel = [e for e in rel if e[0] <= lim]
                    step = steps_k[uv] = (rel, [ids[e[2]] for e in rel])
                cost = costs[0]
                rel, nvs = step
                vals = [(cost + e[0], 0, e[2]) for e in rel]
                costs = [e[0] for e in vals]
                us = [v] * len(vals)
                vs = nvs
                backs.append(vals)
                continue
            if n == 1:
                # one candidate (a fixed word, a number, a comma): best state per previous word
                best: dict[int, tuple] = {}
                for si in range(len(costs)):
                    v = vs[si]
                    uv = us[si] * V + v
                    rowc = rows_k.get(uv) or make_row(uv, v, ids, chans, rows_k, bis_k)
                    x = costs[si] + rowc[0]
                    e = best.get(v)
                    if e is None or x < e[0]:
                        best[v] = (x, si, 0)
                vals = sorted(best.values())[:B]
                lim = vals[0][0] + prune
                if vals[-1][0] > lim:
                    vals = [e for e in vals if e[0] <= lim]
                us = [vs[e[1]] for e in vals]
                costs = [e[0] for e in vals]
                vs = [ids[0]] * len(vals)
                backs.append(vals)
                continue
            rng = range(n)
            entries = []
            gd: dict[int, list[int]] = {}
            for si in range(len(costs)):
                gd.setdefault(vs[si], []).append(si)
            for v, sis in gd.items():
                bestc = None
                for si in sis:
                    cost = costs[si]
                    uv = us[si] * V + v
                    rowc = rows_k.get(uv) or make_row(uv, v, ids, chans, rows_k, bis_k)
                    if bestc is None:
                        bestc = [cost + x for x in rowc]
                        bests = [si] * n
                    else:
                        for j in rng:
                            x = cost + rowc[j]
                            if x < bestc[j]:
                                bestc[j] = x
                                bests[j] = si
                entries.extend(zip(bestc, bests, rng))
            entries.sort()
            vals = entries[:B]
            lim = vals[0][0] + prune
            if vals[-1][0] > lim:
                vals = [e for e in vals if e[0] <= lim]
            costs = [e[0] for e in vals]
            us = [vs[e[1]] for e in vals]
            vs = [ids[e[2]] for e in vals]
            backs.append(vals)
        # end of phrase
        bsi, btot = 0, None
        for si in range(len(costs)):
            tot = costs[si] + lm.cost3(us[si], vs[si], BOUNDARY)
            if btot is None or tot < btot:
                bsi, btot = si, tot
        m = len(lattice)
        out = [0] * m
        conf = [1.0] * m
        si = bsi
        step = lm.step
        for i in range(m - 1, -1, -1):
            vals = backs[i]
            e = vals[si]
            out[i] = e[2]
            if len(lattice[i][0]) > 1:
                # soft-max over the best prefix cost of each candidate in the beam
                seen = {}
                for x in vals:
                    if x[2] not in seen:
                        seen[x[2]] = x[0]
                c0 = seen.get(e[2], e[0])
                z = 0.0
                for c in seen.values():
                    d = (c0 - c) * step
                    z += math.exp(d) if d < 50 else 1e21
                conf[i] = round(1.0 / z, 4) if z > 0 else 1.0
            si = e[1]
        return out, conf

    # ------------------------------------------------------------------ candidates
    def _candidates(self, core: str, kind: str, upper_line: bool,
                    suspicious: bool = True, doc_noisy: bool = False) -> list[tuple[int, int, Optional[str]]]:
        """[(id, channel cost, lower-case surface or None = keep)] for one core.  ``doc_noisy``:
        the document is mostly OCR damage, so a capital with a digit or glyph (S6, S&) is a
        misread word (Số, Sở); elsewhere it is a code (Vitamin B6, V4)."""
        if not core:
            return []
        if kind == "noisy":
            if (core.isupper() and (sum(ch.isalpha() for ch in core) >= 2 or not doc_noisy)
                    and len(core) >= 2 and not upper_line
                    and (len(core) < 3 or core.lower() not in self.key2ids)
                    and self._syl_id(_fix_word(core.lower())) == UNK):
                return [(UNK, 0, None)]                  # acronym
            return self._noisy(core)
        lc = core.lower()
        if not core.isalpha():
            if (suspicious and len(core) <= 6 and _LETTER_RE.search(core) and _JUNK_RE.search(core)
                    and _PLAIN_JUNK_RE.fullmatch(core) and self._is_junk(core)):
                return self._noisy(core)                 # bi¢t, 1a inside an unaccented line
            return [(UNK, 0, None)]
        if has_diacritics(core):
            i = self._syl_id(_fix_word(lc))
            if i == UNK or suspicious:
                return self._noisy(core)                 # hién, xuét, chéng in an OCR-like line
            # a valid accented word in an unaccented line: keep it unless the LM
            # strongly prefers another accenting of the same letters
            syls = self.lm.syls
            return [(i, 0, None)] + [(j, self.PARTIAL_COST, syls[j])
                                     for j in self.key2ids.get(key_of(lc), ()) if j != i]
        if core.isupper() and len(core) >= 2 and not upper_line and (len(core) < 3 or lc not in self.key2ids):
            w = self.lm.words.get(lc)
            return [(self._syl_id(lc), 0, w)]           # acronym: UBND; HDND -> HĐND
        ids = self.key2ids.get(lc)
        if ids and suspicious and self.lm.counts[ids[0]] < self.RARE_COUNT and len(core) > 1:
            return self._noisy(core)                     # Poc: a rare word in an OCR-like line
        if not ids:
            w = self.lm.words.get(lc)
            if w is not None:
                return [(UNK, 0, w)]                     # Dak -> Đắk, oto -> ôtô
            if suspicious and (core.islower() or core.istitle()) and 2 <= len(core) <= 7:
                return self._noisy(core)                 # dgng, sirc: OCR damage
            return [(UNK, 0, None)]
        got = self._key_cands.get(lc)
        if got is None:
            syls = self.lm.syls
            got = self._key_cands[lc] = [(i, 0, syls[i]) for i in ids]
        return got

    def _lattice_key(self, cands) -> tuple:
        """The lattice entry of a candidate list: (ids, channel costs or None, a naming
        string, ids and channel costs as int64 bytes for the compiled decoder)."""
        k = self._cand_keys.get(id(cands))
        if k is None or k[0] is not cands:
            ids = tuple(c[0] for c in cands)
            chans = tuple(c[1] for c in cands)
            k = (cands, (ids, chans if any(chans) else None,
                         ",".join(f"{c[0]}:{c[1]}" for c in cands),
                         array("q", ids).tobytes(), array("q", chans).tobytes()))
            if len(self._cand_keys) > 200_000:
                self._cand_keys.clear()
            self._cand_keys[id(cands)] = k
        return k[1]

    def _case_channel(self, core: str, cands, next_lower: bool = False):
        """Add the cost of the observed letter case inside a sentence to each form
        (``next_lower``: a lower-case word follows, no punctuation between)."""
        lm = self.lm
        one = False
        if not core.isalpha():                 # S6, S&: one capital letter reads as Title case
            core = "".join(ch for ch in core if ch.isalpha())
            one = len(core) == 1
        if lm.title_cost is None or (core.isupper() and not one):
            return cands
        if core[:1].isupper() and (one or core[1:].islower()):
            table = lm.title_nl_cost if next_lower and lm.title_nl_cost is not None else lm.title_cost
        elif core.islower():
            table = lm.lower_cost
        else:
            return cands
        w = self.case_weight
        out = [(i, ch + (int(w * table[i]) if i >= FIRST_ID else 0), s) for i, ch, s in cands]
        base = min(c for _, c, _ in out)
        return [(i, c - base, s) for i, c, s in out]

    def _pair_bonus(self, phrase: list, pairs: dict) -> None:
        """Lower the channel cost of both words of each cached pair (``pairs``: first id ->
        set of second ids) found among the candidates of neighbouring positions of
        ``phrase`` (in place)."""
        bonus = int(round(self.DOC_PAIR_NATS / self.lm.step))
        n = len(phrase)
        cut: dict[int, set] = {}
        for i in range(n - 1):
            p0, p1 = phrase[i], phrase[i + 1]
            if p0[0] < 0 or p1[0] < 0 or (len(p0[3]) == 1 and len(p1[3]) == 1):
                continue
            ids1 = None
            for c in p0[3]:
                nxt = pairs.get(c[0])
                if nxt is None:
                    continue
                if ids1 is None:
                    ids1 = {d[0] for d in p1[3]}
                common = nxt & ids1
                if common:
                    cut.setdefault(i, set()).add(c[0])
                    cut.setdefault(i + 1, set()).update(common)
        for i, ids in cut.items():
            ln, a, b, cands, _ = phrase[i]
            if len(cands) < 2:
                continue
            new = [(c, max(0, ch - bonus) if c in ids else ch, sf) for c, ch, sf in cands]
            phrase[i] = (ln, a, b, new, self._lattice_key(new))

    def _noisy(self, core: str):
        got = self._noisy_cache.get(core)
        if got is None:
            got = self.confusions.candidates(core)
            if len(self._noisy_cache) < 200_000:
                self._noisy_cache[core] = got
        return got

    # ------------------------------------------------------------------ main
    def restore(self, text: str, _pairs: Optional[dict] = None) -> Restoration:
        """Restore ``text``; see :class:`Restoration`.  Input is read as NFC.

        A text that is mostly OCR damage is decoded twice: the second pass makes the
        syllable pairs the first pass restored confidently a little cheaper wherever
        both are candidates of neighbouring words (a document cache: the letter that
        says "Thủ trưởng các sở" once says it again where the letters are worse)."""
        original = text
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        lines = text.split("\n")
        kinds: list[str] = []
        noises: list[int] = []
        nwords: list[int] = []
        uppers: list[bool] = []
        spans: list[list[tuple[int, int, int, int]]] = []
        flawed: list[bool] = []     # "good" only by the tolerance for one broken word
        chunk_cache = self._chunk_cache
        if len(chunk_cache) > 500_000:
            chunk_cache.clear()
        info = self._info
        for line in lines:
            toks = []
            infos = []
            for m in _CHUNK_RE.finditer(line):
                ch = m.group(0)
                got = chunk_cache.get(ch)
                if got is None:
                    a, b = _split_chunk(ch)
                    got = chunk_cache[ch] = (a, b, info(ch[a:b]))
                s0 = m.start()
                toks.append((s0 + got[0], s0 + got[1], s0, m.end()))
                infos.append(got[2])
            spans.append(toks)
            if toks:
                kind, noise, nw, nup = self._classify_infos(infos)
            else:
                kind, noise, nw, nup = "other", 0, 0, 0
            kinds.append(kind)
            noises.append(noise)
            nwords.append(nw)
            uppers.append(nup >= 0.6 * max(1, nw))
            flawed.append(kind == "good" and any(c[0] in (self._ACC_BAD, self._JUNK) for c in infos))

        # document context: in a text that is mostly good Vietnamese, a short line without
        # accents is a wrapped fragment ("quan", "7. Trung"), not an unaccented text
        long_kinds = [k for k, n in zip(kinds, nwords) if n >= 4 and k != "other"]
        if len(long_kinds) >= 3 and long_kinds.count("good") >= 0.8 * len(long_kinds):
            kinds = ["good" if k in ("no_diacritics", "noisy") and n < 4 else k
                     for k, n in zip(kinds, nwords)]
        # ... and in a text that is mostly OCR damage, a line that passed as good despite a
        # broken word ("thong tin, béo céo.", "- UBND cac huyén, thanh phé;") is damaged too
        doc_noisy = len(long_kinds) >= 3 and long_kinds.count("noisy") >= 0.5 * len(long_kinds)
        if doc_noisy:
            kinds = ["noisy" if f else k for k, f in zip(kinds, flawed)]

        # phrases over consecutive restorable lines
        replacements: dict[int, dict[int, tuple[int, str, float]]] = {}
        phrase: list = []       # [(line, a, b, cands)]

        case_cache = self._case_cache

        found: set = set()          # confident neighbouring pairs (first pass of a noisy text)
        collect = doc_noisy and _pairs is None and self.DOC_PAIR_NATS > 0

        def flush():
            if not phrase:
                return
            if _pairs:
                self._pair_bonus(phrase, _pairs)
            lattice = [p[4] for p in phrase]
            multi = False
            for x in lattice:
                if len(x[0]) > 1:
                    multi = True
                    break
            if multi:
                key = tuple([x[2] for x in lattice])
                got = self._phrase_cache.get(key)
                if got is None:
                    got = self._viterbi(lattice)
                    if len(self._phrase_cache) > 50_000:
                        self._phrase_cache.clear()
                    self._phrase_cache[key] = got
            else:
                got = ([0] * len(lattice), [1.0] * len(lattice))
            choice, confs = got
            if collect:
                th = self.DOC_PAIR_CONFIDENCE
                for i in range(len(choice) - 1):
                    p0, p1 = phrase[i], phrase[i + 1]
                    if p0[0] >= 0 and p1[0] >= 0 and confs[i] >= th and confs[i + 1] >= th:
                        u, v = p0[3][choice[i]][0], p1[3][choice[i + 1]][0]
                        if u >= FIRST_ID and v >= FIRST_ID:
                            found.add((u, v))
            for i, ci in enumerate(choice):
                ln, a, b, cands, _ = phrase[i]
                surf = cands[ci][2] if ln >= 0 else None
                if surf is None:
                    continue
                orig = lines[ln][a:b]
                new = case_cache.get((surf, orig))
                if new is None:
                    if len(case_cache) > 200_000:
                        case_cache.clear()
                    new = case_cache[(surf, orig)] = apply_case(surf, orig)
                if new != orig:
                    replacements.setdefault(ln, {})[a] = (b, new, confs[i])
            phrase.clear()

        soft = [(SOFT, 0, None)]
        soft_key = self._lattice_key(soft)

        def push_punct(pk):
            if pk == BOUNDARY:
                flush()
            elif phrase and phrase[-1][3] is not soft:
                phrase.append((-1, -1, -1, soft, soft_key))

        for ln, (line, kind) in enumerate(zip(lines, kinds)):
            if kind not in ("no_diacritics", "noisy"):
                flush()
                continue
            toks = spans[ln]
            upper_line = uppers[ln]
            suspicious = noises[ln] >= 2
            ccache = self._cand_cache
            if len(ccache) > 300_000:
                ccache.clear()
            for k, (a, b, cs, ce) in enumerate(toks):
                if a > cs:
                    push_punct(_punct_kind(line[cs:a]))
                if b > a:
                    core = line[a:b]
                    mid = bool(phrase) and self.case_weight > 0
                    # a Title-case word that a lower-case word follows (Thủ trưởng, not a
                    # name's Thị Mai): the next word on this line, or the next line's first
                    nl = False
                    if mid and ce == b and core[:1].isupper():
                        nxt = None
                        if k + 1 < len(toks):
                            nxt = (line, toks[k + 1])
                        elif ln + 1 < len(lines) and spans[ln + 1]:
                            nxt = (lines[ln + 1], spans[ln + 1][0])
                        if nxt is not None and nxt[1][0] == nxt[1][2]:
                            w = nxt[0][nxt[1][0]:nxt[1][1]]
                            nl = w.isalpha() and w.islower()
                    ck = (core, kind, upper_line, suspicious, mid, doc_noisy, nl)
                    got = ccache.get(ck)
                    if got is None:
                        cands = self._candidates(core, kind, upper_line, suspicious, doc_noisy)
                        if mid and len(cands) > 1 and (kind == "no_diacritics" or core.istitle()):
                            cands = self._case_channel(core, cands, nl)
                        got = ccache[ck] = (cands, self._lattice_key(cands))
                    phrase.append((ln, a, b, got[0], got[1]))
                if ce > b:
                    push_punct(_punct_kind(line[b:ce]))
        flush()

        # list labels: the "d)" that follows a "d)" was an "đ)" (a, b, c, d, đ, e, …)
        prev_label = None
        for ln, line in enumerate(lines):
            m = _LABEL_RE.match(line)
            if not m:
                continue
            lab = m.group(1)
            if lab == "d" and prev_label == "d" and kinds[ln] in ("no_diacritics", "noisy"):
                replacements.setdefault(ln, {})[m.start(1)] = (m.end(1), "đ", 0.9)
                lab = "đ"
            prev_label = lab

        out_lines = []
        changes: list[TokenChange] = []
        offset = 0
        for ln, line in enumerate(lines):
            rep = replacements.get(ln)
            if rep:
                pieces, pos, plen = [], 0, 0
                for a in sorted(rep):
                    b, new, conf = rep[a]
                    pieces.append(line[pos:a])
                    plen += a - pos
                    changes.append(TokenChange(line[a:b], new, conf, offset + plen))
                    pieces.append(new)
                    plen += len(new)
                    pos = b
                pieces.append(line[pos:])
                line = "".join(pieces)
            out_lines.append(line)
            offset += len(line) + 1
        if collect and found:
            by_first: dict[int, set] = {}
            for u, v in found:
                by_first.setdefault(u, set()).add(v)
            return self.restore(original, _pairs=by_first)
        new_text = "\n".join(out_lines)
        return Restoration(text=new_text, original=original, changed=new_text != original,
                           tokens=changes, line_kinds=kinds)


@functools.lru_cache(maxsize=4)
def _get_restorer(model_dir: str) -> Restorer:
    return Restorer(model_dir)


def get_restorer(model_dir: str | Path | None = None) -> Restorer:
    """A cached :class:`Restorer` (loads data/lm by default; one instance per model folder)."""
    return _get_restorer(str(Path(model_dir or _default_model_dir()).resolve()))


def restore_text(text: str) -> str:
    return get_restorer().restore(text).text


def restore_stream(inp: TextIO, out: TextIO) -> None:
    """Restore a whole stream (for ``directives restore [FILE]``)."""
    out.write(get_restorer().restore(inp.read()).text)
