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
phase=1
[ -e "$share/phase2" ] && phase=2
if [ "$phase" = 1 ]; then
  # Phase 2 keeps them: the user's units started at boot run from them.
  echo "ptd-guest: copying the tree"
  # Deno's cache where the user's own units find it too (ptd run by a unit).
  mkdir -p "$home/.cache"
  cp -a "$share/src" "$home/src" && cp -a "$share/deno" "$home/.cache/deno"
  chown -R ptd:ptd "$home/src" "$home/.cache"
  # Quadlet: the one link the README asks of an administrator.
  mkdir -p /usr/local/lib/systemd/user-generators
  ln -sf "$home/src/bin/ptd" /usr/local/lib/systemd/user-generators/ptd-user-generator
fi
[ -e /usr/share/containers/seccomp.json ] ||
  install -D -m 0644 "$share/seccomp.json" /usr/share/containers/seccomp.json
for _ in $(seq 1 120); do
  [ -S /run/user/1000/bus ] && break
  sleep 1
done
echo "ptd-guest: running $(tr '\n' ' ' <"$share/tests")"
mapfile -t tests <"$share/tests"
rm -f "$home/.ptd-guest-reboot"
runuser -u ptd -- env XDG_RUNTIME_DIR=/run/user/1000 \
  DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus \
  systemd-run --user --wait --pipe --collect --quiet -p Delegate=yes \
  --working-directory="$home/src" -E NO_COLOR=1 \
  -E PTD_GUEST=1 -E PTD_GUEST_PHASE=$phase -E HOME="$home" \
  deno test -A --no-check --quiet "${tests[@]}" >/tmp/tests.log 2>&1
echo "ptd-guest: tests ended ($?)"
if [ "$phase" = 1 ] && (cd "$home/src" && grep -rqs sessionTest "${tests[@]}"); then
  # The same files again from a login session of the user (pam_systemd
  # makes its scope): only sessionTest()s run, outside the delegation.
  su -l ptd -c "cd $home/src && env NO_COLOR=1 PTD_GUEST=1 PTD_GUEST_SESSION=1 \
    PTD_GUEST_PHASE=1 XDG_RUNTIME_DIR=/run/user/1000 \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus \
    deno test -A --no-check --quiet ${tests[*]}" >>/tmp/tests.log 2>&1
  echo "ptd-guest: session tests ended ($?)"
fi
cp /tmp/tests.log "$share/out/tests.log"
# A test of phase 1 asked for a reboot (see tests/guest/guest.ts).
[ "$phase" = 1 ] && [ -e "$home/.ptd-guest-reboot" ] && touch "$share/out/reboot"
sync
# A clean shutdown can wait minutes on the user's manager; the disk is a
# throw-away snapshot and the results are synced: power off at once.
echo "ptd-guest: done"
systemctl poweroff -ff
