#!/bin/bash
# Build (once) a Debian bookworm root filesystem with systemd 252 as /sbin/init, for the systemd cgroup driver's
# tests (test/integration/systemd.test.ts): runts starts it as a container and runs runts inside it.
#
#   scripts/make-systemd-rootfs.sh [DIR]      (default /var/cache/runts-test/systemd-rootfs)
#
# Idempotent: DIR/.complete marks a finished rootfs and the script then does nothing. A half-made DIR (no
# marker) is removed and made again. debootstrap is installed when missing. Stay on bookworm: systemd after 252
# refuses cgroup v1 (this host is hybrid). MIRROR overrides the Debian mirror.
set -euo pipefail

me=make-systemd-rootfs
quiet=${QUIET:-0}
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=lib.sh
. "$here/lib.sh"

dir=${1:-/var/cache/runts-test/systemd-rootfs}
mirror=${MIRROR:-http://deb.debian.org/debian}
mkdir -p "$(dirname "$dir")"
dir=$(cd "$(dirname "$dir")" && pwd -P)/$(basename "$dir")
[ "$dir" != / ] || { echo "$me: refusing to build a rootfs in /" >&2; exit 2; }

if [ -e "$dir/.complete" ]; then
  say "$dir is ready"
  exit 0
fi

ensure_packages debootstrap

tmp=$dir.partial
rm -rf --one-file-system "$tmp"
run "debootstrap bookworm into $tmp (a few minutes)" \
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$tmp" "$mirror"

# no getty on a console the container does not have; a machine-id so journald and dbus start quietly
rm -f "$tmp/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true
ln -sf /dev/null "$tmp/etc/systemd/system/console-getty.service"
: >"$tmp/etc/machine-id"
echo runts-systemd >"$tmp/etc/hostname"
mkdir -p "$tmp/opt/runts" "$tmp/opt/bundle"
rm -rf --one-file-system "$dir"
mv "$tmp" "$dir"
touch "$dir/.complete"
say "$dir is ready"
