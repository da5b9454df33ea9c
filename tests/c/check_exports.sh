#!/bin/sh
# libquiver.so must export only the C API (qv_*), have a SONAME, and export every function quiver.h declares.
set -eu
lib=$1
header="$(dirname "$0")/../../bindings-native/include/quiver.h"
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
others=$(printf '%s\n' "$exported" | grep -v '^qv_' || true)
if [ -n "$others" ]; then
  echo "libquiver exports symbols other than qv_*:" >&2
  printf '%s\n' "$others" | head -20 >&2
  exit 1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
case "$soname" in
  libquiver.so.*) ;;
  *) echo "libquiver has no SONAME libquiver.so.N (got '$soname')" >&2; exit 1 ;;
esac
declared=$(grep -v '#define' "$header" | grep -o 'QV_API [^(]*(' | sed 's/.*[ *]\(qv_[a-z0-9_]*\)(/\1/' | sort -u)
missing=$(printf '%s\n' "$declared" | while read -r f; do printf '%s\n' "$exported" | grep -qx "$f" || echo "$f"; done)
if [ -n "$missing" ]; then
  echo "functions declared in quiver.h but not exported:" >&2
  printf '%s\n' "$missing" >&2
  exit 1
fi
echo "libquiver exports $(printf '%s\n' "$exported" | wc -l) qv_ symbols, SONAME $soname"
