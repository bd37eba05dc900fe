#!/usr/bin/env bash
# Install what recto needs to build and test on a fresh Debian machine.
# Idempotent: each part is skipped when already in place.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

# System packages (Debian). Only installed when missing, so a second run is fast.
packages=(
  pkg-config curl openssl python3 bc
  # Tesseract 5 through its C API (bindgen needs libclang), with
  # orientation detection and the languages scholars need most (docs/ocr.md):
  # English, German, French, Italian, Spanish, Latin, Dutch, and Fraktur
  # (the `frk` language and the `Fraktur` script model).
  clang libclang-dev libtesseract-dev libleptonica-dev
  # The tesseract command: tests compare recto's hOCR/ALTO with its renderers.
  tesseract-ocr
  tesseract-ocr-osd tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra
  tesseract-ocr-ita tesseract-ocr-spa tesseract-ocr-lat tesseract-ocr-nld
  tesseract-ocr-frk tesseract-ocr-script-frak
  # The tests encrypt generated PDFs with qpdf and check exported
  # searchable PDFs with qpdf and Poppler (pdftotext, pdfinfo).
  qpdf poppler-utils
  # The web app's tests drive a real headless Chromium through chromedriver.
  chromium chromium-driver
  # The cluster tests run a one-node Slurm (scripts/slurm.sh starts it).
  slurmctld slurmd slurm-client munge
  # Spelling dictionaries: the segmentation step decides whether a hyphen
  # at a line end is a break or a real hyphen with them (docs/segmentation.md).
  hunspell-en-us hunspell-de-de hunspell-fr hunspell-it hunspell-es hunspell-nl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cd "$here"
# One profile for everything (the binary, clippy, the tests, the wheel), so
# MuPDF's C sources are compiled once per machine, not once per profile.
cargo build --release --locked --bin recto
