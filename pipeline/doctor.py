"""`directives doctor`: is everything the pipeline needs installed?  (OCR part.)"""
from __future__ import annotations

import functools
import re
import shutil
from typing import Optional

FIX_COMMAND = ("apt-get install -y tesseract-ocr tesseract-ocr-vie "
               "tesseract-ocr-script-viet tesseract-ocr-osd")
MIN_TESSERACT = (4, 1)
ALT_MODELS = ("script/Vietnamese", "Vietnamese")   # Debian installs the script model at the root


def check_ocr() -> list[str]:
    """Problems that stop OCR of scanned letters; empty when Tesseract is ready."""
    problems: list[str] = []
    try:
        import pytesseract
    except ImportError:
        return ["the Python package pytesseract is not installed (pip install pytesseract)"]
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return [f"the tesseract binary ({pytesseract.pytesseract.tesseract_cmd}) is not on PATH"]
    try:
        version = pytesseract.get_tesseract_version()
        if (version.major, version.minor) < MIN_TESSERACT:
            problems.append(f"tesseract {version} is too old; {'.'.join(map(str, MIN_TESSERACT))} "
                            "or newer is needed (LSTM models)")
    except Exception as exc:  # binary present but broken
        return [f"tesseract does not run: {exc}"]
    langs = set(available_languages())
    if "vie" not in langs:
        problems.append("the Vietnamese model 'vie' (tesseract-ocr-vie) is missing")
    if "osd" not in langs:
        problems.append("the orientation model 'osd' (tesseract-ocr-osd) is missing")
    if not any(m in langs for m in ALT_MODELS):
        problems.append("the Vietnamese script model 'script/Vietnamese' "
                        "(tesseract-ocr-script-viet) is missing")
    return problems


@functools.lru_cache(maxsize=1)
def _list_langs() -> str:
    """What ``tesseract --list-langs`` prints (empty when it cannot run)."""
    import subprocess

    import pytesseract
    try:
        out = subprocess.run([pytesseract.pytesseract.tesseract_cmd, "--list-langs"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout + out.stderr


def available_languages() -> tuple[str, ...]:
    # pytesseract.get_languages() drops names such as "Vietnamese" and "script/Vietnamese"
    return tuple(line.strip() for line in _list_langs().splitlines()
                 if line.strip() and not line.startswith("List of") and " " not in line.strip())


def tessdata_dir() -> Optional[str]:
    """The folder of the installed models, as ``tesseract --list-langs`` names it."""
    m = re.search(r'"([^"]+)"', _list_langs())
    return m.group(1).rstrip("/") + "/" if m else None


def resolve_lang(name: str) -> str:
    """The installed spelling of a model name ('script/Vietnamese' may be 'Vietnamese')."""
    langs = set(available_languages())
    if name in langs or not langs:
        return name
    if name in ALT_MODELS:
        for alt in ALT_MODELS:
            if alt in langs:
                return alt
    return name


def report() -> str:
    """Human-readable doctor output for the OCR part."""
    problems = check_ocr()
    if not problems:
        import pytesseract

        from extractors.tesseract import engine_name
        return f"OCR: ok (tesseract {pytesseract.get_tesseract_version()}, models: " \
               f"{', '.join(sorted(available_languages()))}; pages read by {engine_name()})"
    return "OCR: problems\n" + "\n".join(f"  - {p}" for p in problems) + f"\n  fix: {FIX_COMMAND}"


if __name__ == "__main__":
    print(report())
