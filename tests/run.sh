#!/usr/bin/env bash
# The test command (deno task test). As root it prepares the host, creates an
# unprivileged user with /etc/subuid and /etc/subgid ranges and runs the
# suite as that user, so integration tests use real rootless namespaces. It
# ends with the plain line "N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] && exec "$repo/scripts/as-test-user.sh" bash tests/run.sh "$@"

cd "$repo"
# skopeo and podman (peers in the tests) need a runtime dir of the user's
# own: without one they read /run/containers/UID, root's after root has run
# podman. Run as someone with no session, make a private one for this run.
if [ ! -d "${XDG_RUNTIME_DIR:-}" ] || [ ! -O "${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR=$(mktemp -d /tmp/ptd-xdg-run.XXXXXX) || exit 2
  export XDG_RUNTIME_DIR
  trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
fi
# The bundle ptd loads its modules from (src/runtime/lazy.ts): tests run
# what a user set up by scripts/setup.sh runs. Without it, source.
deno run -A scripts/bundle.ts >/dev/null ||
  echo "WARN: no bundle (deno bundle failed): ptd runs from source" >&2
log=$(mktemp)
NO_COLOR=1 deno test -A --quiet "${@:-tests/}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -1)
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
