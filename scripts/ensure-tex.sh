#!/bin/sh
# Make sure latexmk, pdflatex and pdftotext are here. Installs Debian's packages (given as arguments)
# when something is missing and we run as root with apt-get; otherwise prints the exact command.
missing=""
for tool in latexmk pdflatex pdftotext pdftoppm; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
for sty in tikz.sty pgfplots.sty amsmath.sty booktabs.sty; do
  if command -v kpsewhich >/dev/null 2>&1 && [ -z "$(kpsewhich $sty 2>/dev/null)" ]; then
    missing="$missing $sty"
  fi
done
# Every Debian package named (fonts, language support) must be there too, not only the commands.
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
  done
fi
[ -z "$missing" ] && exit 0
echo "TeX is missing:$missing"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null || {
    echo "apt-get failed; run: sudo apt-get install $*"; exit 1; }
  exit 0
fi
echo "Install it with:"
echo "  sudo apt-get install $*"
exit 1
