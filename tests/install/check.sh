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
# One man page per header and one for the CLI.
for m in man3/ramdev_access.3 man3/ramdev_as.3 man3/ramdev_dma.3 \
	man3/ramdev_virtq.3 man3/ramdev_blk.3 man1/ramdev.1; do
	[ -n "$(find "$dest" -path "*/man/$m*" | head -n 1)" ] ||
		{ echo "FAIL: man page $m not installed" >&2; exit 1; }
done

# The .pc file names the real prefix; point pkg-config at the scratch copy.
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$dest"
cflags=$(pkg-config --cflags ramdev)
# -Ddefault_library=static installs no shared library: link the archive
# and its private dependencies.
so=$(find "$dest" -name libramdev.so | head -n 1)
if [ -n "$so" ]; then
	kind=shared
	libs=$(pkg-config --libs ramdev)
else
	kind=static
	libs=$(pkg-config --static --libs ramdev)
fi

${CC:-cc} -std=gnu11 -Wall -Wextra -Werror $cflags "$src" \
	-o "$dest/consumer" $libs
# (pkgconf applies the sysroot to variables too: take the directory the
# shared library was installed in.)
if [ "$kind" = shared ]; then
	LD_LIBRARY_PATH="$(dirname "$so")" "$dest/consumer"
else
	"$dest/consumer"
fi
# The installed CLI finds the shared library in a private prefix by itself.
if [ "$kind" = shared ] && [ "$prefix" != /usr ]; then
	libdir=$(pkg-config --variable=libdir ramdev)
	readelf -d "$dest$prefix/bin/ramdev" | grep -E 'R(UN)?PATH' |
		grep -qF "[${libdir#"$PKG_CONFIG_SYSROOT_DIR"}]" || {
		echo "FAIL: installed ramdev has no run path to $libdir" >&2
		readelf -d "$dest$prefix/bin/ramdev" | grep -E 'R(UN)?PATH' >&2
		exit 1
	}
fi
echo "install: headers, man pages, ramdev.pc and the $kind library work from $prefix"
