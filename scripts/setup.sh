#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for ptd (run as root, or with sudo):
# the helpers rootless containers need, the peers the tests compare against,
# and the pinned Deno from npm, installed as /usr/local/bin/deno.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "scripts/setup.sh: run as root (sudo scripts/setup.sh)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
runtime="uidmap fuse-overlayfs slirp4netns passt iproute2 catatonit"
tests="busybox-static debootstrap docker-registry skopeo podman runc crun conmon \
  hyperfine binutils curl apache2-utils openssl util-linux procps tmux bsdutils"
# Podman's default seccomp profile; the kernel headers that ptd's syscall tables are checked against.
runtime="$runtime golang-github-containers-common" tests="$tests gcc linux-libc-dev"
# The systemd test tier (scripts/guest/): a Debian guest booted with qemu.
guest="qemu-system-x86 qemu-utils e2fsprogs"
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $runtime $tests ca-certificates >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $guest >/dev/null
# Networks: podman-compose drives ptd in tests, iperf3 measures the bridges.
apt-get install -y -qq --no-install-recommends podman-compose iperf3 >/dev/null
command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
# The REST API (ptd system service) is tested with the real clients.
apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
command -v docker >/dev/null || apt-get install -y -qq --no-install-recommends docker.io >/dev/null

(cd toolchain && npm install --no-audit --no-fund --loglevel=error)
install -m 0755 toolchain/node_modules/deno/deno /usr/local/bin/deno

# Rootless needs these devices usable by ordinary users (0600 on some hosts).
for dev in /dev/fuse /dev/net/tun; do
  [ -e "$dev" ] && chmod 0666 "$dev"
done
# ptd's modules as a bundle (src/runtime/lazy.ts): a command starts ~10 ms
# sooner. Made again by `deno task bundle`; an edited source is used as is.
deno run -A scripts/bundle.ts ||
  echo "WARN: no bundle (deno bundle failed): ptd runs from source" >&2
echo "ptd setup done: $(deno --version | head -1)"
