#!/bin/bash
# Prepare the end-to-end tests (test/e2e): real podman (through conmon) and containerd (ctr + the runc shim)
# drive the runtime under test.
#
#   scripts/setup-e2e.sh [-q|--quiet]
#
#   -q, --quiet   print only errors (the output of a failing step is shown in full)
#
# Installs, when missing: podman (with conmon; crun/runc come as dependencies and are never used by the
# tests), containerd (ctr, containerd-shim-runc-v2), busybox-static, umoci (the reference for runts bundle), uidmap
# (newuidmap/newgidmap: rootless podman). Then builds a busybox image without any
# registry: test/.tmp/e2e/busybox.tar, a docker-archive (manifest.json + config + one uncompressed layer)
# that both `podman load` and `ctr images import` accept, tagged localhost/runts-e2e/busybox:latest.
#
# Idempotent and fast when everything is present: apt is only touched when a package is missing, and the image
# is only rebuilt when the tarball is missing or older than this script. The layer is reproducible (sorted
# names, fixed mtime, numeric owner 0:0), so its digest only changes with busybox.
set -euo pipefail

quiet=0
for arg in "$@"; do
  case $arg in
    -q|--quiet) quiet=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-e2e.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd -P)
cd "$root"

me=setup-e2e
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

# --- system packages
packages=(podman conmon containerd busybox-static umoci uidmap)
ensure_packages "${packages[@]}"

# Debian's containerd package starts the system daemon (when there is an init system to start it). The
# tests run their own containerd with its own socket, root and state: the system one is left alone.

# --- busybox image (docker-archive)
out=test/.tmp/e2e
image=$out/busybox.tar
if [ -s "$image" ] && [ "$image" -nt "$0" ] && [ "$image" -nt /bin/busybox ]; then
  say "image $image up to date"
  exit 0
fi

say "building $image"
mkdir -p "$out"
work=$(mktemp -d "$out/.image.XXXXXX")
trap 'rm -rf "$work"' EXIT

rootfs=$work/rootfs
bash scripts/make-rootfs.sh "$rootfs"
# a few things images usually have and the tests look at
printf 'e2e\n' >"$rootfs/etc/hostname"
: >"$rootfs/etc/hosts"
: >"$rootfs/etc/resolv.conf"

mkdir -p "$work/archive"
# The layer: an uncompressed tar, reproducible.
tar --create --file "$work/layer.tar" --directory "$rootfs" \
  --sort=name --mtime='2024-01-01 00:00:00Z' --numeric-owner --owner=0 --group=0 \
  --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime .
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir -p "$work/archive/$layer_sha"
mv "$work/layer.tar" "$work/archive/$layer_sha/layer.tar"

cat >"$work/config.json" <<EOF
{"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$layer_sha"]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"scripts/setup-e2e.sh: busybox-static rootfs"}]}
EOF
# architecture of this machine in Go's naming
case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch=$(dpkg --print-architecture) ;;
esac
sed -i "s/\"architecture\":\"amd64\"/\"architecture\":\"$arch\"/" "$work/config.json"
config_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/archive/$config_sha.json"

tag=localhost/runts-e2e/busybox:latest
cat >"$work/archive/manifest.json" <<EOF
[{"Config":"$config_sha.json","RepoTags":["$tag"],"Layers":["$layer_sha/layer.tar"]}]
EOF
cat >"$work/archive/repositories" <<EOF
{"localhost/runts-e2e/busybox":{"latest":"$layer_sha"}}
EOF

tar --create --file "$work/busybox.tar" --directory "$work/archive" \
  --sort=name --mtime='2024-01-01 00:00:00Z' --numeric-owner --owner=0 --group=0 --format=gnu .
mv -f "$work/busybox.tar" "$image"
say "image $image ($tag)"
