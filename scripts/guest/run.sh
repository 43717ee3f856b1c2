#!/usr/bin/env bash
# The systemd test tier: boots the guest scripts/guest/build.sh made (built
# first if it is not cached) with qemu, runs tests/guest/ in it as the
# lingering user "ptd" inside its delegated cgroup v2 subtree, and prints
# what they printed, ending with the line "guest: N passed, N failed".
# The tree under test and Deno's cache of the npm packages go in over 9p;
# the image itself is never written (snapshot=on), so it stays reusable.
# Run as root. Usage: scripts/guest/run.sh [TEST_FILE...] (relative paths)
# PTD_GUEST_TIMEOUT (seconds, default 1200) bounds the whole boot.
set -uo pipefail
[ "$(id -u)" = 0 ] || { echo "guest/run.sh: run it as root" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${PTD_GUEST_CACHE:-/var/tmp/ptd-guest-cache}
image=$("$here/build.sh" "$cache") || { echo "guest: no image"; exit 1; }

share=$(mktemp -d /var/tmp/ptd-guest-run.XXXXXX)
trap 'rm -rf "$share"' EXIT
mkdir -p "$share/src" "$share/out"
tar -C "$repo" --exclude=./toolchain/node_modules --exclude=./.git \
  --exclude=./dist -cf - . | tar -C "$share/src" -xf -
# The guest has no network: the npm packages travel in a Deno cache of their
# own, kept between runs.
DENO_DIR="$cache/deno-dir" deno cache --quiet --config "$repo/deno.json" \
  "$repo/main.ts" "$repo"/tests/guest/*_test.ts >&2 ||
  { echo "guest: deno cache failed"; exit 1; }
cp -a "$cache/deno-dir" "$share/deno"
printf '%s\n' "${@:-tests/guest/}" >"$share/tests"
chmod -R a+rwX "$share"

# KVM only where it boots Debian's kernel (not on PVM hosts): opt in.
accel=tcg
[ "${PTD_GUEST_KVM:-}" = 1 ] && [ -w /dev/kvm ] && accel=kvm
start=$(date +%s)
timeout "${PTD_GUEST_TIMEOUT:-1200}" qemu-system-x86_64 -accel "$accel" \
  -m 2048 -smp 2 -nographic -no-reboot -nic none \
  -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
  -drive "file=$image/disk.img,if=virtio,format=raw,snapshot=on" \
  -virtfs "local,path=$share,mount_tag=ptd,security_model=none" \
  -append "root=/dev/vda rw console=ttyS0 quiet panic=-1" \
  </dev/null >"$share/console.log" 2>&1
qemu=$?
if [ -s "$share/out/tests.log" ]; then
  cat "$share/out/tests.log"
else
  echo "guest: no test output (qemu exit $qemu); the console said:"
  tail -40 "$share/console.log"
fi
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$share/out/tests.log" 2>/dev/null | tail -1)
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
[ -n "$summary" ] || failed=1
echo "guest: ${passed:-0} passed, ${failed:-0} failed ($(($(date +%s) - start)) s)"
[ "${failed:-1}" = 0 ]
