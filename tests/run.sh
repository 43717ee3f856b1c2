#!/usr/bin/env bash
# The test command (deno task test). As root it prepares the host, creates an
# unprivileged user with /etc/subuid and /etc/subgid ranges and runs the
# suite as that user, so integration tests use real rootless namespaces. It
# ends with the plain line "N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
user=ptdtest
cache=${PTD_TEST_CACHE:-/var/tmp/ptd-test-cache}

as_root() {
  id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
  grep -q "^$user:" /etc/subuid || echo "$user:300000:65536" >>/etc/subuid
  grep -q "^$user:" /etc/subgid || echo "$user:300000:65536" >>/etc/subgid
  for dev in /dev/fuse /dev/net/tun; do [ -e "$dev" ] && chmod 0666 "$dev"; done
  # Rootless podman (a peer in tests) warns on every command unless / is shared.
  mount --make-rshared / 2>/dev/null || true
  mkdir -p "$cache" && chmod 0755 "$cache"
  if [ -x "$repo/tests/make-minbase.sh" ] && [ ! -s "$cache/minbase.tar" ]; then
    "$repo/tests/make-minbase.sh" "$cache/minbase.tar" || echo "WARN: no minbase rootfs" >&2
  fi
  # The suite runs from a copy the test user owns: the clone may sit in a
  # directory it cannot enter.
  local home src
  home=$(getent passwd "$user" | cut -d: -f6)
  src="$home/ptd-src"
  rm -rf "$src" && mkdir -p "$src"
  tar -C "$repo" --exclude=./toolchain/node_modules --exclude=./.git -cf - . | tar -C "$src" -xf -
  chown -R "$user:$user" "$src"
  # Keep the environment (proxy and CA settings live there), but nothing
  # that points at root's own directories.
  exec runuser -u "$user" -- env -u XDG_RUNTIME_DIR -u XDG_DATA_HOME \
    -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u DENO_DIR -u PTD_ROOT -u PTD_RUNROOT \
    HOME="$home" USER="$user" LOGNAME="$user" PTD_TEST_CACHE="$cache" \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    bash "$src/tests/run.sh" "$@"
}

[ "$(id -u)" = 0 ] && as_root "$@"

cd "$repo"
log=$(mktemp)
NO_COLOR=1 deno test -A --quiet "${@:-tests/}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -1)
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
