#!/bin/bash
# Prepare a checkout: system packages, npm dependencies, the build, and the example rootfs.
#
#   scripts/setup.sh [--with-runc] [-q|--quiet]
#
#   --with-runc   also install runc and hyperfine (conformance comparison and benchmarks)
#   -q, --quiet   print only errors (the output of a failing step is shown in full)
#
# Idempotent and fast when everything is present: apt is only touched when a package is missing
# (one `apt-get update`, one `apt-get install`), `npm ci` only runs when node_modules is missing or older than
# package-lock.json (`npm install` when there is no lock). npm may warn about the `nodedir` config: harmless.
set -euo pipefail

with_runc=0
quiet=0
for arg in "$@"; do
  case $arg in
    --with-runc) with_runc=1 ;;
    -q|--quiet) quiet=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd -P)
cd "$root"

me=setup
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

# --- system packages
packages=(busybox-static build-essential python3 libseccomp-dev pkg-config uidmap)
[ "$with_runc" = 0 ] || packages+=(runc hyperfine)

ensure_packages "${packages[@]}"

# --- npm dependencies
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: node and npm (node >= 20) are required" >&2
  exit 1
fi

npm_flags=(--no-audit --no-fund)
[ "$quiet" = 0 ] || npm_flags+=(--loglevel=error)
# npm writes node_modules/.package-lock.json on every install: its mtime is when node_modules was last synced.
stamp=node_modules/.package-lock.json
if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ ! -e "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    # `npm ci` refuses a lock file that is out of sync with package.json (npm 11 also wants an entry for every
    # platform's optional dependency). Then install from package.json without rewriting the lock file.
    if ! SETUP_HIDE_FAILURE=1 run "npm ci" npm ci "${npm_flags[@]}"; then
      echo "setup: warning: npm ci failed; falling back to npm install --no-save (package-lock.json unchanged)" >&2
      run "npm install --no-save" npm install --no-save "${npm_flags[@]}"
    fi
  else
    say "node_modules up to date"
  fi
else
  if [ ! -d node_modules ] || [ ! -e "$stamp" ] || [ package.json -nt "$stamp" ]; then
    run "npm install (no package-lock.json)" npm install "${npm_flags[@]}"
  else
    say "node_modules up to date"
  fi
fi

# --- example rootfs (before the build: it does not depend on it)
run "example rootfs (examples/busybox/rootfs)" bash scripts/make-rootfs.sh examples/busybox/rootfs

# --- build
run "npm run build" npm run build --silent

say "done"
