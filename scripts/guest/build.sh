#!/usr/bin/env bash
# Builds (once) the guest of the systemd test tier: a small Debian with
# systemd, a user session bus, uidmap and Deno, and an unprivileged user
# "ptd" (uid 1000) who lingers, so its user@1000.service, and with it a
# delegated cgroup v2 subtree, exists from boot on. The result is a kernel,
# an initrd and an ext4 image in the cache directory; it is reused until this
# script or Deno changes (the key is in the file name). Run as root.
# Usage: scripts/guest/build.sh [CACHE_DIR]   prints the image's directory
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "guest/build.sh: run it as root" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-${PTD_GUEST_CACHE:-/var/tmp/ptd-guest-cache}}
deno=$(command -v deno)
key=$( (cat "$here/build.sh"; "$deno" --version | head -1) | sha256sum | cut -c1-16)
out="$cache/image-$key"
if [ -s "$out/disk.img" ]; then echo "$out"; exit 0; fi

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
if [ -s "$out/disk.img" ]; then echo "$out"; exit 0; fi
mirror=${PTD_GUEST_MIRROR:-$(sed -nE 's/^URIs: (http[^ ]*debian)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
tmp="$cache/build.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'umount -R "$tmp/root/proc" 2>/dev/null || true; rm -rf "$tmp"' EXIT
root="$tmp/root"

# The initrd only needs to find an ext4 root on virtio: a short module list
# keeps it small, and so the (emulated) boot short.
mkdir -p "$root/etc/initramfs-tools/conf.d"
echo MODULES=list >"$root/etc/initramfs-tools/conf.d/ptd-guest"
printf '%s\n' virtio_pci virtio_blk ext4 >"$root/etc/initramfs-tools/modules"
echo "guest/build.sh: debootstrap from $mirror (about 75 s)" >&2
debootstrap --variant=minbase \
  --include=linux-image-amd64,systemd-sysv,systemd,dbus,dbus-user-session,udev,uidmap,login,passwd,procps,iproute2,kmod,fuse-overlayfs,slirp4netns,busybox-static \
  bookworm "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
  { tail -20 "$tmp/debootstrap.log" >&2; exit 1; }

echo ptd-guest >"$root/etc/hostname"
echo "/dev/vda / ext4 rw,relatime 0 1" >"$root/etc/fstab"
printf '%s\n' overlay 9p 9pnet_virtio >>"$root/etc/modules"
chroot "$root" useradd -m -u 1000 -s /bin/bash ptd
echo "ptd:100000:65536" >"$root/etc/subuid"
echo "ptd:100000:65536" >"$root/etc/subgid"
mkdir -p "$root/var/lib/systemd/linger" && : >"$root/var/lib/systemd/linger/ptd"
install -m 0755 "$deno" "$root/usr/local/bin/deno"
# The image only knows how to reach the share: what runs comes from the
# tree under test (scripts/guest/inside.sh), so changing it needs no rebuild.
cat >"$root/usr/local/sbin/ptd-guest-tier" <<'BOOT'
#!/bin/sh
modprobe 9pnet_virtio && mkdir -p /mnt/ptd &&
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 ptd /mnt/ptd || exit 1
exec bash /mnt/ptd/src/scripts/guest/inside.sh
BOOT
chmod 0755 "$root/usr/local/sbin/ptd-guest-tier"
cat >"$root/etc/systemd/system/ptd-guest-tier.service" <<'UNIT'
[Unit]
Description=ptd systemd test tier
After=multi-user.target user@1000.service
Wants=user@1000.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/ptd-guest-tier
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
RuntimeMaxSec=1500
SuccessAction=poweroff
FailureAction=poweroff

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/ptd-guest-tier.service \
  "$root/etc/systemd/system/multi-user.target.wants/ptd-guest-tier.service"
# The serial getty hangs the console up; the rest only costs boot time.
for unit in serial-getty@ttyS0.service e2scrub_reap.service apt-daily.timer \
  apt-daily-upgrade.timer systemd-timesyncd.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
mount -t proc proc "$root/proc"
chroot "$root" update-initramfs -u -k all >/dev/null 2>&1
umount "$root/proc"
rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*

mkdir -p "$tmp/image"
cp "$root"/boot/vmlinuz-* "$tmp/image/vmlinuz"
cp "$root"/boot/initrd.img-* "$tmp/image/initrd.img"
mkfs.ext4 -q -L ptd-guest -d "$root" "$tmp/image/disk.img" 3G
rm -rf "$out" && mv "$tmp/image" "$out"
# Older images are of no use once the key changed.
find "$cache" -maxdepth 1 -name 'image-*' ! -path "$out" -exec rm -rf {} +
echo "$out"
