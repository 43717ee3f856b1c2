#!/usr/bin/env bash
# Runs a command as the unprivileged user ptdtest, from a copy of this
# repository that the user owns (the clone may sit in a directory it cannot
# enter). Must be called as root: it prepares the host once (the user with
# /etc/subuid and /etc/subgid ranges, usable /dev/fuse and /dev/net/tun, a
# shared /, the Debian minbase fixture) so that what runs gets real rootless
# namespaces. tests/run.sh and bench/main.ts use it.
# Usage: scripts/as-test-user.sh CMD [ARG...]   (CMD runs in the copy's root)
# The copy is ~ptdtest/ptd-src, or ~ptdtest/$PTD_COPY_NAME: a bench and a
# test run at the same time must not replace each other's tree.
set -uo pipefail
[ "$(id -u)" = 0 ] || { echo "as-test-user.sh: run it as root" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
user=ptdtest
cache=${PTD_TEST_CACHE:-/var/tmp/ptd-test-cache}

id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
grep -q "^$user:" /etc/subuid || echo "$user:300000:65536" >>/etc/subuid
grep -q "^$user:" /etc/subgid || echo "$user:300000:65536" >>/etc/subgid
for dev in /dev/fuse /dev/net/tun; do [ -e "$dev" ] && chmod 0666 "$dev"; done
# Rootless podman (a peer in tests and the bench) warns on every command
# unless / is shared.
mount --make-rshared / 2>/dev/null || true
mkdir -p "$cache" && chmod 0755 "$cache"
if [ -x "$repo/tests/make-minbase.sh" ] && [ ! -s "$cache/minbase.tar" ]; then
  "$repo/tests/make-minbase.sh" "$cache/minbase.tar" || echo "WARN: no minbase rootfs" >&2
fi
home=$(getent passwd "$user" | cut -d: -f6)
src="$home/${PTD_COPY_NAME:-ptd-src}"
rm -rf "$src" && mkdir -p "$src"
tar -C "$repo" --exclude=./toolchain/node_modules --exclude=./.git -cf - . | tar -C "$src" -xf -
chown -R "$user:$user" "$src"
# The user's own runtime dir, fresh for each run of this copy, as logind
# would give it (owner only, on tmpfs). Without one, skopeo and podman fall
# back to /run/containers/UID, which is root's 0700 dir once root has run
# podman on the machine, and die there.
rundir=/run/ptd-test/${PTD_COPY_NAME:-ptd-src}
mkdir -p /run/ptd-test && chmod 0755 /run/ptd-test
rm -rf "$rundir" && mkdir -m 0700 "$rundir" && chown "$user:$user" "$rundir" ||
  { echo "as-test-user.sh: cannot create $rundir" >&2; exit 2; }
cd "$src"
# Keep the environment (proxy and CA settings live there), but nothing
# that points at root's own directories.
exec runuser -u "$user" -- env -u XDG_DATA_HOME \
  -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u DENO_DIR -u PTD_ROOT -u PTD_RUNROOT \
  HOME="$home" USER="$user" LOGNAME="$user" PTD_TEST_CACHE="$cache" \
  XDG_RUNTIME_DIR="$rundir" \
  PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
  "$@"
