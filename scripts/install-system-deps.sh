#!/usr/bin/env bash
# System packages the Python environment cannot provide: Tesseract OCR and its Vietnamese model,
# used to read scanned (image-only) PDFs. See docs/ocr.md.
#
#   scripts/install-system-deps.sh            # install what is missing; warn (exit 0) if it cannot
#   scripts/install-system-deps.sh --require  # same, but exit 1 if Tesseract + vie are still missing
#   scripts/install-system-deps.sh --check    # install nothing; exit 0 if present, 1 if not
#
# Idempotent: when tesseract and its "vie" model are already there it does nothing.
# Installs with apt-get (Debian/Ubuntu) as root, or through sudo when sudo works without a prompt
# (or on a terminal). Without OCR the project still works: scanned PDFs are skipped with a reason.
set -u

PACKAGES=(tesseract-ocr tesseract-ocr-vie)
MODE=install
case "${1:-}" in
  --require) MODE=require ;;
  --check) MODE=check ;;
  -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
  "") ;;
  *) echo "install-system-deps: unknown option $1 (use --require, --check or --help)" >&2; exit 2 ;;
esac

have_ocr() {
  command -v tesseract >/dev/null 2>&1 || return 1
  tesseract --list-langs 2>/dev/null | tr -d '\r' | grep -qx 'vie'
}

give_up() {
  echo "install-system-deps: $1" >&2
  echo "install-system-deps: scanned PDFs will be skipped until you run: sudo apt-get install -y ${PACKAGES[*]}" >&2
  [ "$MODE" = install ] && exit 0 || exit 1
}

if have_ocr; then
  echo "install-system-deps: tesseract $(tesseract --version 2>/dev/null | head -n1 | awk '{print $2}') with the Vietnamese model (vie) is installed"
  exit 0
fi
[ "$MODE" = check ] && give_up "tesseract and/or its Vietnamese model (vie) are missing"

if ! command -v apt-get >/dev/null 2>&1; then
  give_up "no apt-get on this system; install Tesseract OCR and its Vietnamese language data (vie) with your package manager (macOS: brew install tesseract tesseract-lang)"
fi

if [ "$(id -u)" -eq 0 ]; then
  AS_ROOT=()
elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
  AS_ROOT=(sudo)
else
  give_up "not root and sudo is not available; cannot install ${PACKAGES[*]}"
fi

echo "install-system-deps: installing ${PACKAGES[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
if ! ${AS_ROOT[@]+"${AS_ROOT[@]}"} apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1; then
  # the package lists may be missing or stale (fresh containers): refresh them once and retry
  ${AS_ROOT[@]+"${AS_ROOT[@]}"} apt-get update -qq >/dev/null 2>&1 || true
  if ! ${AS_ROOT[@]+"${AS_ROOT[@]}"} apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"; then
    give_up "apt-get install ${PACKAGES[*]} failed (see the messages above)"
  fi
fi

if have_ocr; then
  echo "install-system-deps: installed tesseract with the Vietnamese model (vie)"
  exit 0
fi
give_up "tesseract was installed but its Vietnamese model (vie) is not found (check TESSDATA_PREFIX)"
