#!/usr/bin/env bash
# The systemd test tier: boots the guest scripts/guest/build.sh made (built
# first if it is not cached) with qemu, runs tests/guest/ in it as the
# lingering user "ptd" inside its delegated cgroup v2 subtree, and prints
# what they printed, ending with the line "guest: N passed, N failed".
# The tree under test and Deno's cache of the npm packages go in over 9p;
# The image itself is never written (each run boots a copy-on-write overlay
# of it), so it stays reusable. A test that needs a reboot (a lingering
# user's units must come back) asks for one: the guest boots a second time
# from the same overlay and runs the tests of phase 2.
# Run as root. Usage: scripts/guest/run.sh [TEST_FILE...] (relative paths)
# PTD_GUEST_TIMEOUT (seconds, default 1200) bounds the whole boot.
set -uo pipefail
[ "$(id -u)" = 0 ] || { echo "guest/run.sh: run it as root" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${PTD_GUEST_CACHE:-/var/tmp/ptd-guest-cache}
image=$("$here/build.sh" "$cache") || { echo "guest: no image"; exit 1; }

work=$(mktemp -d /var/tmp/ptd-guest-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
share=$work/share
mkdir -p "$share/src" "$share/out"
tar -C "$repo" --exclude=./toolchain/node_modules --exclude=./.git \
  --exclude=./dist -cf - . | tar -C "$share/src" -xf -
# The guest has no network: the npm packages travel in a Deno cache of their
# own, kept between runs. Every module, since main.ts loads most of them by
# computed URLs that deno cache cannot follow; and without the lock too, as
# bin/ptd runs (it then needs the registry's metadata of each package).
for lock in --lock --no-lock; do
  DENO_DIR="$cache/deno-dir" deno cache --quiet "$lock" --config "$repo/deno.json" \
    "$repo/main.ts" $(find "$repo/src" -name '*.ts') "$repo"/tests/guest/*_test.ts >&2 ||
    { echo "guest: deno cache failed"; exit 1; }
done
cp -a "$cache/deno-dir" "$share/deno"
printf '%s\n' "${@:-tests/guest/}" >"$share/tests"
# Podman's default seccomp profile (containers-common), which every run
# reads; the cached image predates that need, so it travels with the tree.
cp /usr/share/containers/seccomp.json "$share/seccomp.json"
chmod -R a+rwX "$share"

# KVM only where it boots Debian's kernel (not on PVM hosts): opt in.
accel=tcg
[ "${PTD_GUEST_KVM:-}" = 1 ] && [ -w /dev/kvm ] && accel=kvm
qemu-img create -q -f qcow2 -F raw -b "$image/disk.img" "$work/disk.qcow2"
boot() {
  timeout "${PTD_GUEST_TIMEOUT:-1200}" qemu-system-x86_64 -accel "$accel" \
    -m 2048 -smp 2 -nographic -no-reboot -nic none \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -drive "file=$work/disk.qcow2,if=virtio,format=qcow2" \
    -virtfs "local,path=$share,mount_tag=ptd,security_model=none" \
    -append "root=/dev/vda rw console=ttyS0 quiet panic=-1" \
    </dev/null >>"$work/console.log" 2>&1
}
# The counts of one phase's log, summed over its passes (the user's service,
# then a login session): "PASSED FAILED" (failed 1 without a summary).
counts() {
  local summary
  summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$1" 2>/dev/null)
  [ -n "$summary" ] || { echo "0 1"; return; }
  sed -E 's/.*\| ([0-9]+) passed \| ([0-9]+) failed.*/\1 \2/' <<<"$summary" |
    awk '{ p += $1; f += $2 } END { print p, f }'
}
show() {
  if [ -s "$1" ]; then cat "$1"; else
    echo "guest: no test output; the console said:"
    tail -40 "$work/console.log"
  fi
}
start=$(date +%s)
boot
show "$share/out/tests.log"
read -r passed failed < <(counts "$share/out/tests.log")
if [ -e "$share/out/reboot" ]; then
  mv "$share/out/tests.log" "$share/out/phase1.log"
  touch "$share/phase2" && chmod a+rw "$share/phase2"
  echo "guest: rebooting for phase 2"
  boot
  show "$share/out/tests.log"
  read -r p2 f2 < <(counts "$share/out/tests.log")
  passed=$((passed + p2)) failed=$((failed + f2))
fi
echo "guest: $passed passed, $failed failed ($(($(date +%s) - start)) s)"
[ "$failed" = 0 ]
