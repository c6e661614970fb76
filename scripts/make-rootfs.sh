#!/bin/bash
# Build a minimal busybox root filesystem.
#
#   scripts/make-rootfs.sh DIR
#
# DIR/bin holds a copy of /bin/busybox (Debian's busybox-static) and one relative symlink per applet
# (bin/ls -> busybox); sbin, usr/bin and usr/sbin are symlinks to it (merged-/usr layout), so every path in
# `busybox --list-full` resolves. Also created: proc sys dev tmp etc root home run var, etc/passwd, etc/group,
# etc/hostname, home/user.
#
# Idempotent: when DIR/bin/busybox is already there the busybox part is skipped (bin/busybox is put in place
# last, so its presence means an earlier run completed), /etc files are only written when missing, and
# EXTRA_FILES are only copied when they differ.
#
# Environment:
#   BUSYBOX      the busybox binary to copy (default /bin/busybox); it must be statically linked
#   EXTRA_FILES  optional, space-separated SRC:DST pairs; SRC (a host path) is copied to DIR/DST
#                (e.g. EXTRA_FILES="build/probe:bin/probe"), parent directories are created.
set -euo pipefail

usage() { echo "usage: $0 DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
[ -n "$1" ] || usage
dir=$1
busybox=${BUSYBOX:-/bin/busybox}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
[ "$dir" != / ] || { echo "$0: refusing to build a rootfs in /" >&2; exit 2; }

if [ ! -x "$dir/bin/busybox" ]; then
  if [ ! -x "$busybox" ]; then
    echo "$0: $busybox not found (apt-get install busybox-static)" >&2
    exit 1
  fi
  if ldd_out=$(LC_ALL=C ldd "$busybox" 2>&1) && ! grep -qE 'statically linked|not a dynamic' <<<"$ldd_out"; then
    echo "$0: $busybox is dynamically linked; install busybox-static" >&2
    exit 1
  fi

  mkdir -p "$dir/bin" "$dir/usr"
  for l in sbin usr/bin usr/sbin; do
    target=bin
    [ "${l#usr/}" = "$l" ] || target=../bin
    if [ ! -e "$dir/$l" ] && [ ! -L "$dir/$l" ]; then
      ln -s "$target" "$dir/$l"
    fi
  done

  # The equivalent of `busybox --install -s`, but with relative links so they work inside the container
  # whatever the host path is.
  "$busybox" --list | while IFS= read -r applet; do
    [ -n "$applet" ] && [ "$applet" != busybox ] || continue
    if [ ! -e "$dir/bin/$applet" ] && [ ! -L "$dir/bin/$applet" ]; then
      ln -s busybox "$dir/bin/$applet"
    fi
  done
fi

for d in proc sys dev tmp etc root home run var var/tmp home/user; do
  mkdir -p "$dir/$d"
done
chmod 0755 "$dir"
chmod 1777 "$dir/tmp" "$dir/var/tmp"
chmod 0700 "$dir/root"
chown 1000:1000 "$dir/home/user" 2>/dev/null || true

write_if_missing() { # FILE CONTENT
  [ -e "$1" ] || printf '%s' "$2" >"$1"
}
write_if_missing "$dir/etc/passwd" 'root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
'
write_if_missing "$dir/etc/group" 'root:x:0:
nogroup:x:65534:
user:x:1000:
extra:x:2000:user
'
write_if_missing "$dir/etc/hostname" 'runts
'

# Extra files (e.g. a static probe binary the tests build): SRC:DST pairs, DST relative to the rootfs.
for pair in ${EXTRA_FILES:-}; do
  src=${pair%%:*}
  dst=${pair#*:}
  if [ "$src" = "$pair" ] || [ -z "$src" ] || [ -z "$dst" ]; then
    echo "$0: EXTRA_FILES entry '$pair' is not SRC:DST" >&2
    exit 2
  fi
  dst=$dir/${dst#/}
  if [ ! -e "$dst" ] || ! cmp -s "$src" "$dst"; then
    mkdir -p "$(dirname "$dst")"
    cp -f "$src" "$dst.tmp.$$"
    mv -f "$dst.tmp.$$" "$dst"
  fi
done

# Last: bin/busybox marks a complete rootfs.
if [ ! -x "$dir/bin/busybox" ]; then
  cp "$busybox" "$dir/bin/busybox.tmp.$$"
  chmod 0755 "$dir/bin/busybox.tmp.$$"
  mv -f "$dir/bin/busybox.tmp.$$" "$dir/bin/busybox"
fi
