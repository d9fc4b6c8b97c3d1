#!/usr/bin/env bash
# Installs everything the pipeline and its tests need on a fresh Debian machine.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Tesseract with Vietnamese (and the script/Vietnamese model), fonts for test scans,
# poppler for PDF checks, Chromium for the review-page test.
$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-vie tesseract-ocr-script-viet tesseract-ocr-osd \
  fonts-dejavu-core fonts-noto-core poppler-utils chromium >/dev/null
cd "$(dirname "$0")/.."
python3 -m pip install -q -e ".[dev]"
