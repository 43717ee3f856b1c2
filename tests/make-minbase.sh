#!/bin/sh
# Builds the Debian minbase rootfs fixture as a tarball with numeric owners:
# a realistic layer with many owners, setuid files, hard links and device
# nodes. debootstrap needs real root (it chroots and mknods), so the test
# runner calls this as root once; the tests read the result unprivileged.
# Usage: tests/make-minbase.sh OUT.tar   (skips the work if OUT.tar exists)
set -eu
out=${1:?usage: make-minbase.sh OUT.tar}
[ -s "$out" ] && exit 0
mkdir -p "$(dirname "$out")"
dir=$(mktemp -d /var/tmp/ptd-minbase.XXXXXX)
trap 'rm -rf "$dir"' EXIT
debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >"$dir.log" 2>&1 ||
  { tail -n 20 "$dir.log" >&2; rm -f "$dir.log"; exit 1; }
rm -f "$dir.log"
# mktemp made the root 0700; an image's root is 0755.
chmod 755 "$dir"
# Write to a temp name first, so an interrupted run leaves no half tarball.
tar --numeric-owner --xattrs -C "$dir" -cf "$out.tmp" .
chmod 644 "$out.tmp"
mv "$out.tmp" "$out"
