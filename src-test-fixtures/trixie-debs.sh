# Sourced by the trixie-*.sh fixture scripts: downloads Debian 13 (trixie) .deb files with a private apt
# configuration (its own source list, lists and cache in a temporary directory; the host's apt state is never
# touched and nothing is installed) and unpacks them into a directory.
#   trixie_unpack ROOT "SUITES" PKG...   e.g. trixie_unpack "$DEST.tmp/root" "trixie trixie-updates" systemd libc6
# ROOT is created; the packages are unpacked with dpkg-deb -x (no maintainer scripts run).
trixie_unpack() {
  local root="$1" suites="$2"
  shift 2
  local work
  work="$(mktemp -d)"
  mkdir -p "$work/sources" "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$root"
  cat > "$work/sources/trixie.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suites
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  local apt=(apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/sources"
             -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o Debug::NoLocking=1
             -o APT::Sandbox::User=root)
  if ! "${apt[@]}" update >/dev/null || ! (cd "$work/debs" && "${apt[@]}" download "$@" >/dev/null); then
    rm -rf "$work"
    echo "trixie_unpack: could not download $* from $suites" >&2
    return 1
  fi
  local deb
  for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$root"
  done
  rm -rf "$work"
}
