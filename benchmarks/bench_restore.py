"""Benchmark diacritic restoration on real documents.

    python benchmarks/bench_restore.py [--docs DIR] [--all] [--no-pyvi] [--limit N]

For each document of ../shared/docs (held-out quarter by default, see
:func:`split_docs`): strip every diacritic (NFD, drop combining marks, đ→d),
restore, and compare syllable by syllable with the original.  Also: the share of
syllables left unchanged when the original, correct text is fed in, the speed,
and the same figures for pyvi's ``ViUtils.add_accents`` as a baseline.

Speeds are syllables per CPU second of this process (time.process_time), on one core;
caches warm up over the run, so the larger "all" set reads faster.
"""
from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from normalizers.diacritics import get_restorer  # noqa: E402
from normalizers.syllables import normalize_tone_placement  # noqa: E402

DOCS = Path(__file__).resolve().parents[2] / "shared" / "docs"
if not DOCS.exists():
    DOCS = Path("/work/shared/docs")
PUNCT = ".,;:!?()[]{}\"'“”‘’…«»-–—/\\*•·|<>=+#%&@^~`_"


def strip_all(text: str) -> str:
    d = unicodedata.normalize("NFD", text)
    d = "".join(c for c in d if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", d.replace("đ", "d").replace("Đ", "D"))


def split_docs(docs_dir: Path = DOCS) -> tuple[list[Path], list[Path]]:
    """(dev, held_out): every 4th document (sorted by name) is held out.

    The OCR confusion learner renders only dev documents; the LM never sees any."""
    files = sorted(p for p in docs_dir.glob("*.txt"))
    held = [p for i, p in enumerate(files) if i % 4 == 0]
    dev = [p for i, p in enumerate(files) if i % 4 != 0]
    return dev, held


def syllables(text: str) -> list[list[str]]:
    """Per line, the alphabetic word cores (what is scored)."""
    out = []
    for line in text.split("\n"):
        row = []
        for ch in line.split():
            core = ch.strip(PUNCT)
            if core and core.isalpha():
                row.append(core)
        out.append(row)
    return out


def compare(ref: str, hyp: str, fold_case: bool = False) -> tuple[int, int, int, int]:
    """(correct, total, correct among syllables that carry diacritics, total of those)."""
    if fold_case:
        ref, hyp = ref.lower(), hyp.lower()
    ok = tot = ok_acc = tot_acc = 0
    for r, h in zip(syllables(ref), syllables(hyp)):
        if len(r) != len(h):
            tot += len(r)
            tot_acc += sum(1 for w in r if strip_all(w) != w)
            continue
        for a, b in zip(r, h):
            tot += 1
            acc = strip_all(a) != a
            tot_acc += acc
            if a == b:
                ok += 1
                ok_acc += acc
    return ok, tot, ok_acc, tot_acc


def load(p: Path) -> str:
    return normalize_tone_placement(unicodedata.normalize("NFC", p.read_text(encoding="utf-8")))


def run_restorer(files, restore) -> dict:
    ok = tot = ok_acc = tot_acc = 0
    ok_ci = 0
    un_ok = un_tot = 0
    t_strip = t_good = 0.0
    n_syl = 0
    for p in files:
        truth = load(p)
        stripped = strip_all(truth)
        t0 = time.process_time()
        hyp = restore(stripped)
        t_strip += time.process_time() - t0
        n_syl += sum(len(r) for r in syllables(stripped))
        hyp = normalize_tone_placement(hyp)
        a, b, c, d = compare(truth, hyp)
        ok, tot, ok_acc, tot_acc = ok + a, tot + b, ok_acc + c, tot_acc + d
        ok_ci += compare(truth, hyp, fold_case=True)[0]
        t0 = time.process_time()
        same = restore(truth)
        t_good += time.process_time() - t0
        a, b, _, _ = compare(truth, normalize_tone_placement(same))
        un_ok, un_tot = un_ok + a, un_tot + b
    return {
        "syllable_accuracy": ok / max(tot, 1),
        "accuracy_ignoring_case": ok_ci / max(tot, 1),
        "accuracy_on_accented": ok_acc / max(tot_acc, 1),
        "unchanged_share": un_ok / max(un_tot, 1),
        "syllables_per_s": n_syl / max(t_strip, 1e-9),
        "good_syllables_per_s": n_syl / max(t_good, 1e-9),
        "syllables": tot,
    }


def pyvi_restore():
    from pyvi import ViUtils

    def restore(text: str) -> str:
        out = []
        for line in text.split("\n"):
            try:
                r = ViUtils.add_accents(line)
                r = r if isinstance(r, str) else str(r)
            except Exception:  # crashes on some inputs
                r = line
            out.append(unicodedata.normalize("NFC", r))
        return "\n".join(out)
    return restore


def word_match(truth: str, hyp: str) -> tuple[int, int]:
    """(truth words found in order in hyp, truth words): word accuracy of an OCR line."""
    from difflib import SequenceMatcher
    t = [w for row in syllables(truth) for w in row]
    h = [w for row in syllables(hyp) for w in row]
    sm = SequenceMatcher(None, t, h, autojunk=False)
    return sum(b.size for b in sm.get_matching_blocks()), len(t)


def dev_ocr_lines(dev_files, n_lines: int) -> list[str]:
    """Lines of the dev documents for tuning the OCR repair: not in the held-out quarter,
    and not among the lines the confusion learner renders (its seed-13 sample of 2000)."""
    from normalizers.ocr_confusions import sample_lines
    pool = sample_lines(dev_files, 10 ** 9, seed=13)
    learned = set(pool[:2000])
    return [l for l in pool[2000:] if l not in learned][:n_lines]


def run_ocr(files, restore, n_lines: int, cache_dir: Path, dev: bool = False) -> None:
    """Render held-out lines, OCR them (eng on a degraded scan: the seed-000 failure;
    vie on a clean one; DejaVu Serif, then eng again in Liberation Serif and Noto Serif),
    restore, and compare word accuracy before/after.  ``dev``: dev lines instead
    (:func:`dev_ocr_lines`), eng only: what the repair's constants are tuned on."""
    from normalizers.ocr_confusions import DEGRADATIONS, ocr_pairs, sample_lines
    lines = dev_ocr_lines(files, n_lines) if dev else sample_lines(files, n_lines, seed=7)
    runs = (("eng", "mild", "dejavu"), ("vie", "clean", "dejavu"),
            ("eng", "mild", "liberation"), ("eng", "mild", "noto"))
    for lang, dg, font in runs:
        if dev and lang != "eng":
            continue
        tag = ("" if font == "dejavu" else "_" + font) + ("_dev" if dev else "")
        cache = cache_dir / f"bench_{lang}_{dg}_{n_lines}{tag}.json"
        pairs = ocr_pairs(lines, lang, cache=cache, degrade=DEGRADATIONS[dg], font=font)
        ocr_text = "\n".join(o for _, o in pairs)
        t0 = time.process_time()
        res = restore(ocr_text)
        dt = time.process_time() - t0
        hyp_lines = res.text.split("\n")
        raw_ok = fix_ok = tot = 0
        changed = words = 0
        for (truth, ocr), hyp in zip(pairs, hyp_lines):
            truth = normalize_tone_placement(truth)
            a, n = word_match(truth, normalize_tone_placement(ocr))
            b, _ = word_match(truth, normalize_tone_placement(hyp))
            raw_ok, fix_ok, tot = raw_ok + a, fix_ok + b, tot + n
            o, h = [w for r in syllables(ocr) for w in r], [w for r in syllables(hyp) for w in r]
            words += len(o)
            changed += sum(1 for x, y in zip(o, h) if x != y)
        print(f"ocr -l {lang} ({dg} scan, {font}, {len(pairs)} {'dev' if dev else 'held-out'} lines): word accuracy "
              f"{100 * raw_ok / max(tot, 1):6.2f}% raw -> {100 * fix_ok / max(tot, 1):6.2f}% restored; "
              f"{100 * changed / max(words, 1):5.2f}% of words changed; {words / max(dt, 1e-9):,.0f} words/s",
              flush=True)


def fmt(name: str, m: dict) -> str:
    return (f"{name:10s} accuracy {100 * m['syllable_accuracy']:6.2f}%  "
            f"(ignoring case {100 * m['accuracy_ignoring_case']:6.2f}%)  "
            f"(on accented syllables {100 * m['accuracy_on_accented']:6.2f}%)  "
            f"unchanged-on-correct {100 * m['unchanged_share']:7.3f}%  "
            f"{m['syllables_per_s']:9,.0f} syl/s (correct text: {m['good_syllables_per_s']:,.0f})  "
            f"[{m['syllables']:,} syllables]")


def calibrate() -> float:
    """Nanoseconds per Python loop step with one dict look-up on this machine (CPU time):
    about 40-60 ns on an idle modern desktop core; speeds scale roughly inversely."""
    d = {i * 7919: i for i in range(200_000)}
    g = d.get
    t0 = time.process_time()
    for i in range(1_000_000):
        g(i)
    return (time.process_time() - t0) * 1e3


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=Path, default=DOCS)
    ap.add_argument("--all", action="store_true", help="all documents, not only the held-out quarter")
    ap.add_argument("--no-pyvi", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--ocr", type=int, default=0, metavar="N",
                    help="also OCR N held-out lines with tesseract (eng on a degraded scan, vie) "
                         "and measure repair (cached in --cache)")
    ap.add_argument("--dev-ocr", type=int, default=0, metavar="N",
                    help="the same repair measure on N dev lines (the tuning set), eng only")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/bench_restore_ocr"))
    args = ap.parse_args(argv)
    dev, held = split_docs(args.docs)
    sets = {"held-out": held}
    if args.all:
        sets["all"] = sorted(dev + held)
    t0 = time.process_time()
    r = get_restorer()
    print(f"model load {time.process_time() - t0:.2f}s from {r.model_dir}; "
          f"machine: {calibrate():.0f} ns per Python dict look-up loop step")
    for name, files in sets.items():
        if args.limit:
            files = files[: args.limit]
        print(f"== {name}: {len(files)} documents from {args.docs}")
        m = run_restorer(files, lambda t: r.restore(t).text)
        print(fmt("restorer", m), flush=True)
        if not args.no_pyvi:
            try:
                m = run_restorer(files, pyvi_restore())
                print(fmt("pyvi", m), flush=True)
            except ImportError as e:
                print(f"pyvi unavailable: {e}")
    if args.ocr:
        print(f"== OCR repair on held-out lines")
        run_ocr(held, r.restore, args.ocr, args.cache)
    if args.dev_ocr:
        print(f"== OCR repair on dev lines")
        run_ocr(dev, r.restore, args.dev_ocr, args.cache, dev=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
