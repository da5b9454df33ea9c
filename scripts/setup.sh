#!/usr/bin/env bash
# Makes a Debian 12 machine ready to build and test Quiver. Idempotent and quiet when nothing is missing.
#
#   scripts/setup.sh            apt packages + xsimd headers (native and WASM builds, tests, benchmarks)
#   scripts/setup.sh --browser  also Debian's Chromium, for the browser tests
#   scripts/setup.sh --fuzz     also clang 16 with libFuzzer, for the fuzz targets (scripts/fuzz.sh)
#
# xsimd 13.2 (with its WASM backend) comes from Debian trixie: its two header-only packages are downloaded with a
# private apt configuration into .deps/ and unpacked there, from the Debian archive the machine's own apt sources
# name (scripts/debian_archive.sh; deb.debian.org when they name none). The system's apt configuration is never
# changed.
# The WASM build's Snowball stemmers come the same way: the source package of bookworm's libstemmer-dev (the
# library the native build links), whose compiler generates the stemmers' C into .deps/snowball.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.deps"

packages=(build-essential cmake ninja-build pkg-config emscripten libboost1.81-dev libboost-json1.81-dev
          catch2 libhnswlib-dev dataset-fashion-mnist nodejs libssl-dev openssl
          libstemmer-dev)
for arg in "$@"; do
  case "$arg" in
    --browser) packages+=(chromium) ;;
    --fuzz) packages+=(clang-16 libfuzzer-16-dev libclang-rt-16-dev llvm-16) ;;
  esac
done

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node 20 may come from outside Debian's archive; any node >= 18 will do.
if command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)'; then
  missing=("${missing[@]/nodejs}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# xsimd 13.2 + xtl from trixie, header-only, into .deps/xsimd.
xsimd_stamp="$deps/xsimd/.stamp-13.2.0"
if [[ ! -f "$xsimd_stamp" ]]; then
  echo "setup: fetching xsimd 13.2 headers from Debian trixie into .deps/xsimd"
  work="$deps/apt-trixie"
  rm -rf "$work" "$deps/xsimd"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$deps/xsimd"
  # The archive this machine's apt already uses (a local mirror or proxy), with trixie for its suite.
  source "$root/scripts/debian_archive.sh"
  debian_source_for_suite trixie > "$work/sources.list"
  apt_opts=(-qq -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-"
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update
  (cd "$work/debs" && apt-get "${apt_opts[@]}" download libxsimd-dev xtl-dev)
  for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/unpacked"; done
  cp -r "$work/unpacked/usr/include/xsimd" "$deps/xsimd/"
  grep -q 'XSIMD_VERSION_MAJOR 13' "$deps/xsimd/xsimd/config/xsimd_config.hpp"
  rm -rf "$work"
  touch "$xsimd_stamp"
fi

# Snowball 2.2 stemmers as C for the WASM build (docs/formats.md, "BM25 text processing"): the source package of
# bookworm's libstemmer-dev 2.2.0-2 (the native build links that library), fetched with a private apt
# configuration; its Snowball compiler is built and generates the UTF-8 stemmers of Qdrant's Snowball languages
# and libstemmer's module table for them into .deps/snowball, which bindings-js compiles with em++.
snowball_version=2.2.0-2
snowball_stamp="$deps/snowball/.stamp-$snowball_version"
if [[ ! -f "$snowball_stamp" ]]; then
  echo "setup: generating the Snowball $snowball_version stemmers (C) into .deps/snowball"
  work="$deps/apt-bookworm-src"
  rm -rf "$work" "$deps/snowball"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
  # The same archive as for xsimd above (the machine's mirror or proxy), for bookworm's source packages.
  source "$root/scripts/debian_archive.sh"
  debian_source_for_suite bookworm | sed 's/^deb /deb-src /' > "$work/sources.list"
  apt_opts=(-qq -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-"
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update
  (cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only "snowball=$snowball_version")
  tar xzf "$work/src/snowball_${snowball_version%-*}.orig.tar.gz" -C "$work"
  src="$work/snowball-${snowball_version%-*}"
  languages=(arabic armenian danish dutch english finnish french german greek hungarian italian norwegian
             portuguese romanian russian spanish swedish tamil turkish)
  make -C "$src" -s snowball >/dev/null
  out="$deps/snowball"
  mkdir -p "$out/src_c" "$out/libstemmer" "$out/runtime" "$out/include"
  for l in "${languages[@]}"; do
    (cd "$src" && ./snowball "algorithms/$l.sbl" -o "$out/src_c/stem_UTF_8_$l" -eprefix "${l}_UTF_8_" -r ../runtime -u)
  done
  pattern="^($(IFS='|'; echo "${languages[*]}"))[[:space:]]"
  grep -E "$pattern" "$src/libstemmer/modules.txt" > "$work/modules.txt"
  perl "$src/libstemmer/mkmodules.pl" "$out/libstemmer/modules_utf8.h" src_c "$work/modules.txt" \
    "$work/mkinc_utf8.mak" utf8
  sed 's/@MODULES_H@/modules_utf8.h/' "$src/libstemmer/libstemmer_c.in" > "$out/libstemmer/libstemmer_utf8.c"
  cp "$src/runtime/"*.c "$src/runtime/"*.h "$out/runtime/"
  cp "$src/include/libstemmer.h" "$out/include/"
  cp "$src/COPYING" "$out/"
  rm -rf "$work"
  touch "$snowball_stamp"
fi
