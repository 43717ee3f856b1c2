#!/usr/bin/env bash
# Runs in the guest, as root, from the boot unit (the share is at /mnt/ptd):
# copies the tree and Deno's cache to the local disk (SQLite fails on 9p),
# then runs the tests as the lingering user "ptd" through its own systemd
# manager with Delegate=yes: only there do they get a delegated cgroup v2
# subtree, as a user's own shell or service would.
# The output goes back over the share; the console shows the steps.
set -uo pipefail
share=/mnt/ptd
home=/home/ptd
echo "ptd-guest: copying the tree"
cp -a "$share/src" "$home/src" && cp -a "$share/deno" "$home/deno-dir"
chown -R ptd:ptd "$home/src" "$home/deno-dir"
for _ in $(seq 1 120); do
  [ -S /run/user/1000/bus ] && break
  sleep 1
done
echo "ptd-guest: running $(tr '\n' ' ' <"$share/tests")"
mapfile -t tests <"$share/tests"
runuser -u ptd -- env XDG_RUNTIME_DIR=/run/user/1000 \
  DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus \
  systemd-run --user --wait --pipe --collect --quiet -p Delegate=yes \
  --working-directory="$home/src" -E DENO_DIR="$home/deno-dir" -E NO_COLOR=1 \
  -E PTD_GUEST=1 -E HOME="$home" \
  deno test -A --no-check --quiet "${tests[@]}" >/tmp/tests.log 2>&1
echo "ptd-guest: tests ended ($?)"
cp /tmp/tests.log "$share/out/tests.log"
sync
# A clean shutdown can wait minutes on the user's manager; the disk is a
# throw-away snapshot and the results are synced: power off at once.
echo "ptd-guest: done"
systemctl poweroff -ff
