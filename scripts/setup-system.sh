#!/usr/bin/env bash
# Install the Debian packages the test suite needs (Xvfb and Qt's xcb libraries, Mesa,
# CuraEngine, poppler-utils, PostgreSQL 15 and pgbouncer); fast and silent when they are all
# present already.
set -euo pipefail

# What PySide6 6.12's xcb platform plugin and its GL integration link against (read from
# `readelf -d` of libqxcb.so, libQt6XcbQpa, libqxcb-glx/egl-integration), plus Xvfb and
# Mesa's software GL for the 3D view, a font for Qt to draw with, CuraEngine for slicing,
# pdftoppm for PDF checks, and a server like the cloud's for tests/cloud: Debian's PostgreSQL
# 15 (the tests run a private one on a free port; the package's own cluster is not used) and
# pgbouncer in transaction mode, as Supabase's port 6543 pooler.
packages=(
  xvfb xauth
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0
  libx11-xcb1
  libegl1 libgl1 libglx-mesa0 libgl1-mesa-dri
  libfontconfig1 fonts-dejavu-core libdbus-1-3
  cura-engine poppler-utils
  postgresql-15 pgbouncer
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup-system: no dpkg-query; this script knows Debian and Ubuntu only." >&2
  echo "setup-system: install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

# One dpkg-query for all of them; a package dpkg has never heard of is simply not listed.
installed=" $(dpkg-query -W -f='${Package}=${db:Status-Status} ' "${packages[@]}" 2>/dev/null || true)"
missing=()
for pkg in "${packages[@]}"; do
  case "$installed" in
    *" $pkg=installed "*) ;;
    *) missing+=("$pkg") ;;
  esac
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: these Debian packages are missing: ${missing[*]}" >&2
  echo "setup-system: install them as root, then run make again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "setup-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-system: done"
