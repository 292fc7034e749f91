#!/usr/bin/env bash
# Unpack Cura's definitions, extruders, quality and material profiles from Debian's `cura`
# package into a cache folder, without installing the 550 MB Cura application.
set -euo pipefail
dest="${1:-.cache/cura}"
marker="$dest/usr/share/cura/resources/definitions/creality_ender3.def.json"
if [ -f "$marker" ]; then
  exit 0
fi
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download cura fdm-materials >/dev/null)
mkdir -p "$dest"
for deb in "$work"/*.deb; do
  dpkg -x "$deb" "$dest"
done
test -f "$marker"
echo "Cura resources in $dest/usr/share/cura/resources"
