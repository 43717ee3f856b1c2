#!/usr/bin/env bash
# The test command (deno task test). As root it prepares the host, creates an
# unprivileged user with /etc/subuid and /etc/subgid ranges and runs the
# suite as that user, so integration tests use real rootless namespaces. It
# ends with the plain line "N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] && exec "$repo/scripts/as-test-user.sh" bash tests/run.sh "$@"

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
