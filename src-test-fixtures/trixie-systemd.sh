#!/usr/bin/env bash
# Fetches Debian 13 (trixie)'s systemd 257 pieces the UKI oracles need and unpacks them into DEST (default
# /opt/cairn-oracles/trixie-systemd) without installing anything (measured-boot.md §6):
#   systemd-boot-efi   root/usr/lib/systemd/boot/efi/{linuxx64.efi.stub,addonx64.efi.stub,systemd-bootx64.efi}
#   systemd            systemd-measure 257 (linked with libsystemd-shared-257.so, needs GLIBC_2.39)
#   libsystemd-shared, libc6, libssl3t64   the libraries and loader systemd-measure runs through
#   systemd-ukify, python3-pefile          ukify 257 (pure Python) and the pefile it imports
# and writes wrappers DEST/bin/systemd-measure (trixie's loader + library path) and DEST/bin/ukify (the host's
# python3 with trixie's pefile on PYTHONPATH, and --tools pointing at DEST/bin so ukify finds systemd-measure 257).
# The UKI oracle ITs find DEST (or -Dcairn.systemd257=DIR). Idempotent: a second run with working wrappers does nothing.
set -euo pipefail
. "$(dirname "$0")/trixie-debs.sh"
DEST="${1:-/opt/cairn-oracles/trixie-systemd}"
if [ -x "$DEST/bin/systemd-measure" ] && "$DEST/bin/systemd-measure" --version >/dev/null 2>&1 \
   && [ -x "$DEST/bin/ukify" ] && "$DEST/bin/ukify" --version >/dev/null 2>&1; then
  exit 0
fi
PKGS=(systemd-boot-efi systemd libsystemd-shared systemd-ukify python3-pefile libc6 libssl3t64)
rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp/bin"
trixie_unpack "$DEST.tmp/root" "trixie trixie-updates" "${PKGS[@]}"
R="$DEST/root"
cat > "$DEST.tmp/bin/systemd-measure" <<WRAP
#!/bin/sh
# trixie's systemd-measure 257 through trixie's loader and libraries (written by src-test-fixtures/trixie-systemd.sh)
exec "$R/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \\
  --library-path "$R/usr/lib/x86_64-linux-gnu:$R/usr/lib/x86_64-linux-gnu/systemd:/lib/x86_64-linux-gnu" \\
  "$R/usr/lib/systemd/systemd-measure" "\$@"
WRAP
cat > "$DEST.tmp/bin/ukify" <<WRAP
#!/bin/sh
# trixie's ukify 257 on the host's python3 with trixie's pefile; systemd-measure 257 from this directory
# (written by src-test-fixtures/trixie-systemd.sh)
PYTHONPATH="$R/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}" exec python3 "$R/usr/lib/systemd/ukify" --tools "$DEST/bin" "\$@"
WRAP
chmod 755 "$DEST.tmp/bin/systemd-measure" "$DEST.tmp/bin/ukify"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
"$DEST/bin/systemd-measure" --version | head -1
"$DEST/bin/ukify" --version
ls "$R/usr/lib/systemd/boot/efi/addonx64.efi.stub" "$R/usr/lib/systemd/boot/efi/linuxx64.efi.stub" >/dev/null
