#!/bin/sh
# Installs Quiver from BUILD_DIR into a temporary prefix, then builds tests/install/example.c against it with
# pkg-config (shared, and static with --static) and with find_package(Quiver) (Quiver::quiver and
# Quiver::quiver_static), and runs each program. Usage: install_test.sh BUILD_DIR
# $CC (default cc) builds the examples, with $QUIVER_EXAMPLE_FLAGS (a sanitizer build's runtime) when compiling
# and linking and $QUIVER_EXAMPLE_LIBS after the libraries.
set -eu
build=$1
cc=${CC:-cc}
flags=${QUIVER_EXAMPLE_FLAGS:-}
libs=${QUIVER_EXAMPLE_LIBS:-}
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d "${TMPDIR:-/tmp}/quiver-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix/usr" >/dev/null
for f in include/quiver.h lib/libquiver.a lib/pkgconfig/quiver.pc lib/cmake/Quiver/QuiverConfig.cmake bin/quiver; do
  [ -e "$prefix/usr/$f" ] || { echo "install_test: $f not installed" >&2; exit 1; }
done
ls "$prefix"/usr/lib/libquiver.so.* >/dev/null

export PKG_CONFIG_PATH="$prefix/usr/lib/pkgconfig"
$cc $flags -o "$prefix/example_pc" "$here/example.c" $(pkg-config --cflags --libs quiver) $libs
LD_LIBRARY_PATH="$prefix/usr/lib" "$prefix/example_pc"
$cc $flags -o "$prefix/example_pc_static" "$here/example.c" $(pkg-config --cflags quiver) \
  "$prefix/usr/lib/libquiver.a" $(pkg-config --libs-only-l --static quiver | sed 's/-lquiver//') $libs
"$prefix/example_pc_static"

cmake -S "$here/consumer" -B "$prefix/consumer-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/usr" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags $libs" >/dev/null
cmake --build "$prefix/consumer-build" >/dev/null
"$prefix/consumer-build/example_shared"
"$prefix/consumer-build/example_static"
"$prefix/usr/bin/quiver" --help >/dev/null
echo "install_test: pkg-config and find_package builds ran"
