#!/bin/sh
# Install the build into a scratch prefix, then build and run a consumer
# against nothing but what was installed (headers, libraries, ramdev.pc).
# Usage: check.sh BUILD_DIR SOURCE_FILE
set -eu
build="$1"
src="$2"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
pc=$(find "$dest" -name ramdev.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: no ramdev.pc installed" >&2; exit 1; }
[ -f "$dest$prefix/include/ramdev/access.h" ] ||
	{ echo "FAIL: headers not under include/ramdev/" >&2; exit 1; }

# The .pc file names the real prefix; point pkg-config at the scratch copy.
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$dest"
cflags=$(pkg-config --cflags ramdev)
libs=$(pkg-config --libs ramdev)

${CC:-cc} -std=gnu11 -Wall -Wextra -Werror $cflags "$src" \
	-o "$dest/consumer" $libs
# (pkgconf applies the sysroot to variables too: take the directory the
# shared library was installed in.)
libdir=$(dirname "$(find "$dest" -name libramdev.so | head -n 1)")
LD_LIBRARY_PATH="$libdir" "$dest/consumer"
echo "install: headers, ramdev.pc and the shared library work from $prefix"
