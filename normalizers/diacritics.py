"""Restore lost Vietnamese diacritics and repair OCR noise, offline.

Model: a syllable trigram language model (interpolated Kneser-Ney, pruned,
stored ARPA-style as back-off log-probabilities) trained on ../shared/corpus by
:func:`train_lm`, a syllable inventory (every accented form of a stripped key
seen in the corpus) and an OCR confusion table learned by
:mod:`normalizers.ocr_confusions`.  Decoding is a beam-pruned trigram Viterbi
over the candidate lattice of each phrase (a run of words between punctuation).

Per line, a detector decides whether the line is already good Vietnamese
(kept verbatim), lacks diacritics, is noisy OCR, or holds nothing to restore.

See docs/restore.md.
"""
from __future__ import annotations

import functools
import io
import json
import math
import os
import re
import sys
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, TextIO

import numpy as np

from normalizers.syllables import (_fix_word, apply_case, has_diacritics, key_of,
                                   parse_syllable, strip_accents)

BOUNDARY = 0
UNK = 1
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
    cache: dict[str, int] = {}
    stream = array("i")
    app = stream.append
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
                for chunk in line.split():
                    core = chunk.strip(punct)
                    if core is not chunk and core != chunk:
                        lead = not chunk.startswith(core) if core else True
                        if lead and not prev_b:
                            app(BOUNDARY)
                            prev_b = True
                        if not core:
                            continue
                        trail = not chunk.endswith(core)
                    else:
                        trail = False
                    i = cache.get(core)
                    if i is None:
                        i = UNK
                        if core.isalpha():
                            w = _fix_word(core.lower())
                            if parse_syllable(w) is not None:
                                i = vocab.get(w)
                                if i is None:
                                    i = vocab[w] = len(vocab) + 2
                        if len(cache) < 2_000_000:
                            cache[core] = i
                    app(i)
                    prev_b = False
                    if trail:
                        app(BOUNDARY)
                        prev_b = True
                if not prev_b:
                    app(BOUNDARY)
        ends.append(len(stream))
        log(f"  {f.name}: {len(stream):,} tokens so far ({time.time() - t0:.0f}s)")
    return stream, vocab, ends


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
    if any(w != 1 for w in weights.values()):
        parts, start = [], 0
        for f, end in zip(files, ends):
            parts.extend([s[start:end]] * int(weights.get(f.name, 1)))
            start = end
        s = np.concatenate(parts)
    n_ids = len(vocab) + 2
    raw_uni = np.bincount(s, minlength=n_ids)
    # prune rare syllables to UNK, renumber by frequency (deterministic tie-break by text)
    id2syl = [None, None] + [None] * len(vocab)
    for w, i in vocab.items():
        id2syl[i] = w
    keep = [(int(raw_uni[i]), id2syl[i]) for i in range(2, n_ids) if raw_uni[i] >= min_syllable_count]
    keep.sort(key=lambda t: (-t[0], t[1]))
    new_syls = [w for _, w in keep]
    remap = np.full(n_ids, UNK, dtype=np.int64)
    remap[BOUNDARY] = BOUNDARY
    for j, w in enumerate(new_syls):
        remap[vocab[w]] = j + 2
    s = remap[s]
    V = len(new_syls) + 2
    log(f"train_lm: {len(s):,} tokens, {V - 2:,} syllables kept")
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
    w3 = k3 % V
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
    )
    with open(out_dir / "syllables.txt", "w", encoding="utf-8") as fh:
        for j, w in enumerate(new_syls):
            fh.write(f"{w}\t{int(uni[j + 2])}\n")
    stats = {
        "tokens": int(len(s)), "syllables": V - 2,
        "bigrams": int(keep2.sum()), "trigrams": int(keep3.sum()),
        "bigram_types": int(len(k2)), "trigram_types": int(len(k3)),
        "discounts": [D1, float(D2), float(D3)],
        "bytes": sum(p.stat().st_size for p in (out_dir / "lm.npz", out_dir / "syllables.txt")),
        "seconds": round(time.time() - t_start, 1),
    }
    with open(out_dir / "lm_stats.json", "w", encoding="utf-8") as fh:
        json.dump(stats, fh, indent=1)
    log(f"train_lm: {stats}")
    return stats
