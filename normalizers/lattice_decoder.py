"""The trigram Viterbi of :mod:`normalizers.diacritics`, compiled with numba.

The decoder is the restorer's hot loop (≈70 % of its time in pure Python).  Here the
LM lives in two open-addressing hash tables of numpy arrays (int64 key -> int32 value)
and the beam search runs in one ``@njit(cache=True)`` call per phrase.  It computes
exactly what ``Restorer._viterbi_py`` computes: same integer costs, same tie-breaks
(lowest (cost, state, candidate) first), same confidences, so the output is identical.

Compiled code is cached on disk (``__pycache__`` or numba's user cache folder), so a new
worker process loads it instead of compiling (see docs/restore.md for the times).
``AVAILABLE`` is False when numba cannot be imported or ``DIRECTIVES_NO_NUMBA=1``;
the restorer then falls back to its pure-Python decoder.
"""
from __future__ import annotations

import os

import numpy as np

try:
    if os.environ.get("DIRECTIVES_NO_NUMBA", "") not in ("", "0"):
        raise ImportError("disabled by DIRECTIVES_NO_NUMBA")
    from numba import njit
    AVAILABLE = True
except ImportError:          # pure-Python fallback in diacritics.py
    njit = None
    AVAILABLE = False


def _jit(f):
    if njit is None:         # keeps the definitions below importable (never called)
        return f
    try:
        return njit(cache=True)(f)
    except RuntimeError:     # no writable cache folder (set NUMBA_CACHE_DIR): compile per process
        return njit(f)


EMPTY = -1                   # free slot (keys are >= 0)
BOUNDARY = 0                 # = diacritics.BOUNDARY
# bigram table values pack three fields: q (bits 0-7) | back-off of the bigram as a
# trigram context (bits 8-15) | "has stored trigrams" (bit 16)
_Q_MASK = 0xFF
_CTX_FLAG = 1 << 16


@_jit
def _slot(key, mask):
    # Fibonacci hashing: multiply by 2^64/phi, keep well-mixed bits 29+ (mask = capacity - 1)
    h = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
    return np.int64(h >> np.uint64(29)) & mask


@_jit
def _build(keys, vals, cap):
    tk = np.full(cap, EMPTY, np.int64)
    tv = np.zeros(cap, np.int32)
    mask = cap - 1
    for n in range(len(keys)):
        k = keys[n]
        s = _slot(k, mask)
        while tk[s] != EMPTY and tk[s] != k:
            s = (s + 1) & mask
        tk[s] = k
        tv[s] = vals[n]
    return tk, tv


@_jit
def _get(tk, tv, key):
    """The value stored for ``key``, or -1."""
    mask = len(tk) - 1
    s = _slot(key, mask)
    while True:
        k = tk[s]
        if k == key:
            return np.int64(tv[s])
        if k == EMPTY:
            return np.int64(-1)
        s = (s + 1) & mask


def build_table(keys: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash table of unique int64 ``keys`` -> int32 ``vals`` at most half full."""
    cap = 1 << max(4, int(2 * len(keys) - 1).bit_length())
    return _build(keys.astype(np.int64), vals.astype(np.int32), cap)


def pack_bigrams(bi_keys, bi_q, bi_bow, tri_ctx_keys) -> tuple[np.ndarray, np.ndarray]:
    """One table for every bigram: its cost, its back-off weight and whether stored
    trigrams continue it (all trigram contexts are stored bigrams, train_lm keeps them)."""
    vals = bi_q.astype(np.int64) | (bi_bow.astype(np.int64) << 8)
    pos = np.searchsorted(bi_keys, tri_ctx_keys)
    assert len(pos) == 0 or (bi_keys[np.minimum(pos, len(bi_keys) - 1)] == tri_ctx_keys).all()
    vals[pos] |= _CTX_FLAG
    return build_table(bi_keys, vals)


@_jit
def _better(c1, s1, j1, c2, s2, j2):
    # the order of Python's sort of (cost, state, candidate) tuples
    if c1 != c2:
        return c1 < c2
    if s1 != s2:
        return s1 < s2
    return j1 < j2


@_jit
def viterbi(offs, ids, chans, V, uni, bow1, bk, bv, tk, tv, B, prune, step):
    """Beam-pruned trigram Viterbi over a lattice of m positions.

    Position i has candidates ids[offs[i]:offs[i+1]] with channel costs chans[...].
    Returns (chosen candidate index per position, confidence per position): the share
    of the chosen candidate in the soft-max of the best prefix cost per candidate in
    the beam = 1/z, rounded to 4 decimals; 1.0 at single-candidate positions; -z where
    the rounding is too close to call here (the caller rounds 1/z as Python does)."""
    m = len(offs) - 1
    maxn = 1
    for i in range(m):
        maxn = max(maxn, offs[i + 1] - offs[i])
    # beam: states (cost, u, v); backs[i] = the beam at i as (cost, state at i-1, candidate)
    cost = np.zeros(B, np.int64)
    us = np.zeros(B, np.int64)
    vs = np.zeros(B, np.int64)
    ns = 1
    cost[0], us[0], vs[0] = 0, BOUNDARY, BOUNDARY
    back_c = np.zeros((m, B), np.int64)
    back_s = np.zeros((m, B), np.int64)
    back_j = np.zeros((m, B), np.int64)
    back_n = np.zeros(m, np.int64)
    # per (group of states sharing v, candidate): best cost and its state
    ecost = np.zeros(B * maxn, np.int64)
    esi = np.zeros(B * maxn, np.int64)
    group = np.zeros(B, np.int64)
    nc = np.zeros(B, np.int64)
    nu = np.zeros(B, np.int64)
    nv = np.zeros(B, np.int64)
    for i in range(m):
        o = offs[i]
        n = offs[i + 1] - o
        # states with the same v lead to the same next states: keep the cheapest
        # (the first state wins a tie, as in the Python decoder)
        for s in range(ns):
            g = s
            for r in range(s):
                if vs[r] == vs[s]:
                    g = group[r]
                    break
            group[s] = g
            v = vs[s]
            uv = us[s] * V + v
            pv = _get(bk, bv, uv)
            bw = 0
            ctx = False
            if pv >= 0:
                bw = (pv >> 8) & _Q_MASK
                ctx = (pv & _CTX_FLAG) != 0
            for j in range(n):
                c = ids[o + j]
                q = _get(bk, bv, v * V + c)
                if q >= 0:
                    x = (q & _Q_MASK) + chans[o + j] + bw
                    if ctx:
                        t = _get(tk, tv, uv * V + c)
                        if t >= 0:
                            x = t + chans[o + j]
                else:
                    x = bow1[v] + uni[c] + chans[o + j] + bw
                x += cost[s]
                e = g * maxn + j
                if g == s or x < ecost[e]:
                    ecost[e] = x
                    esi[e] = s
        # the B best (cost, state, candidate), then drop those beyond best + prune
        k = 0
        for s in range(ns):
            if group[s] != s:
                continue
            for j in range(n):
                e = s * maxn + j
                x, si = ecost[e], esi[e]
                if k == B and not _better(x, si, j, back_c[i, B - 1], back_s[i, B - 1], back_j[i, B - 1]):
                    continue
                p = k if k < B else B - 1
                while p > 0 and _better(x, si, j, back_c[i, p - 1], back_s[i, p - 1], back_j[i, p - 1]):
                    back_c[i, p] = back_c[i, p - 1]
                    back_s[i, p] = back_s[i, p - 1]
                    back_j[i, p] = back_j[i, p - 1]
                    p -= 1
                back_c[i, p], back_s[i, p], back_j[i, p] = x, si, j
                if k < B:
                    k += 1
        lim = back_c[i, 0] + prune
        while back_c[i, k - 1] > lim:
            k -= 1
        back_n[i] = k
        for p in range(k):
            nc[p] = back_c[i, p]
            nu[p] = vs[back_s[i, p]]
            nv[p] = ids[o + back_j[i, p]]
        for p in range(k):
            cost[p], us[p], vs[p] = nc[p], nu[p], nv[p]
        ns = k
    # end of phrase: + cost of the boundary (lm.cost3)
    bsi = 0
    btot = 0
    for s in range(ns):
        uv = us[s] * V + vs[s]
        t = _get(tk, tv, uv * V + BOUNDARY)
        if t < 0:
            t = _get(bk, bv, vs[s] * V + BOUNDARY)
            t = bow1[vs[s]] + uni[BOUNDARY] if t < 0 else t & _Q_MASK
            pv = _get(bk, bv, uv)
            if pv >= 0:
                t += (pv >> 8) & _Q_MASK
        tot = cost[s] + t
        if s == 0 or tot < btot:
            bsi, btot = s, tot
    out = np.zeros(m, np.int64)
    confs = np.ones(m, np.float64)
    seen = np.zeros(maxn, np.bool_)
    si = bsi
    for i in range(m - 1, -1, -1):
        jc = back_j[i, si]
        out[i] = jc
        if offs[i + 1] - offs[i] > 1:
            # soft-max over the best prefix cost of each candidate in the beam
            # (summed in beam order, like the Python decoder, for identical floats)
            c0 = back_c[i, si]
            for p in range(back_n[i]):
                if back_j[i, p] == jc:
                    c0 = back_c[i, p]
                    break
            seen[:] = False
            z = 0.0
            for p in range(back_n[i]):
                j = back_j[i, p]
                if seen[j]:
                    continue
                seen[j] = True
                d = (c0 - back_c[i, p]) * step
                z += np.exp(d) if d < 50 else 1e21
            # round(1/z, 4): the same double as Python's correctly rounded round()
            # unless 1e4/z lies within float error of a half (then flag it)
            y = 1.0 / z * 1e4
            if abs(y - np.floor(y) - 0.5) < 1e-6:
                confs[i] = -z
            else:
                confs[i] = np.rint(y) / 1e4
        si = back_s[i, si]
    return out, confs
